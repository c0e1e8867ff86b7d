package golden

import (
	"math"
	"math/big"
	"strconv"
)

// Sums of amounts (count and sum aggregates) are computed in exact
// decimal arithmetic: each operand is read as the shortest decimal that
// denotes its float64 (what a JSON number or a CSV field spelled, "19.99"),
// the decimals are added exactly, and the result is stored as the float64
// nearest the exact sum. Its JSON spelling is then that decimal (947.9, not
// 947.8999999999999), and because exact addition is associative the total
// does not depend on the order events or merges arrive in. This holds while
// a total has at most 15 significant digits (e.g. 9,999,999,999,999.99 with
// cents); beyond that, float64 cannot hold every decimal and the total is
// the nearest float64 to the exact sum of the rounded parts.

// maxExactInt bounds integers whose float64 sum is exact without help.
const maxExactInt = 1 << 52

// addExact returns the float64 nearest the exact decimal sum of x and y.
func addExact(x, y float64) float64 {
	if isSmallInt(x) && isSmallInt(y) {
		return x + y
	}
	if math.IsInf(x, 0) || math.IsInf(y, 0) || math.IsNaN(x) || math.IsNaN(y) {
		return x + y
	}
	sum := new(big.Rat).Add(decimal(x), decimal(y))
	f, _ := sum.Float64()
	return f
}

// isSmallInt reports whether f is an integer below maxExactInt in size.
func isSmallInt(f float64) bool {
	return f == math.Trunc(f) && math.Abs(f) < maxExactInt
}

// decimal is the shortest decimal that reads back as f, as an exact
// rational (f is finite, so its exponent is at most ±324 digits).
func decimal(f float64) *big.Rat {
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
	if !ok {
		return new(big.Rat).SetFloat64(f)
	}
	return r
}
