package identity

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"

	edlib "github.com/hbollon/go-edlib"
)

// Similarity functions return a value from 0 (nothing in common) to 1
// (equal). Their inputs are already normalized strings (attribute values
// through Text); an empty input is a missing value and is handled by the
// caller.

// JaroWinkler returns the Jaro-Winkler similarity of a and b.
func JaroWinkler(a, b string) float64 {
	if a == b {
		return 1
	}
	return float64(edlib.JaroWinklerSimilarity(a, b))
}

// Levenshtein returns 1 - d/n where d is the Levenshtein distance of a and
// b and n the length in characters of the longer.
func Levenshtein(a, b string) float64 {
	return editSimilarity(a, b, edlib.LevenshteinDistance(a, b))
}

// Damerau returns 1 - d/n where d is the optimal string alignment
// distance (Levenshtein plus transpositions of adjacent characters).
func Damerau(a, b string) float64 {
	return editSimilarity(a, b, edlib.OSADamerauLevenshteinDistance(a, b))
}

func editSimilarity(a, b string, d int) float64 {
	n := max(len([]rune(a)), len([]rune(b)))
	if n == 0 {
		return 1
	}
	return 1 - float64(d)/float64(n)
}

// Exact returns 1 when a equals b, else 0.
func Exact(a, b string) float64 {
	if a == b {
		return 1
	}
	return 0
}

// tokens splits a normalized value into words.
func tokens(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// Token returns the similarity of a and b as sets of words: every word of
// the shorter value is aligned with its most similar word of the other
// (Jaro-Winkler), so word order and extra middle names matter little.
func Token(a, b string) float64 {
	return tokenSimilarity(tokens(a), tokens(b), JaroWinkler)
}

func tokenSimilarity(ta, tb []string, sim func(a, b string) float64) float64 {
	if len(ta) == 0 || len(tb) == 0 {
		return 0
	}
	if len(ta) > len(tb) {
		ta, tb = tb, ta
	}
	used := make([]bool, len(tb))
	var total float64
	for _, x := range ta {
		best, bi := 0.0, -1
		for j, y := range tb {
			if used[j] {
				continue
			}
			if s := sim(x, y); s > best {
				best, bi = s, j
			}
		}
		if bi >= 0 {
			used[bi] = true
		}
		total += best
	}
	// Words of the longer value left unaligned cost a little: "ann" and
	// "ann marie" are close, not equal.
	extra := float64(len(tb)-len(ta)) * 0.05
	return math.Max(0, total/float64(len(ta))-extra)
}

// NicknameScore is the similarity of two given names that are known
// variants of one name (Bob and Robert).
const NicknameScore = 0.95

// Name compares person names: equal words, known nicknames (Bob,
// Robert), initials (J and John) and typos (Jaro-Winkler), word by word
// in any order, so "anne marie" and "marie anne" agree.
func Name(a, b string) float64 {
	if a == b {
		return 1
	}
	ta, tb := tokens(a), tokens(b)
	whole := JaroWinkler(strings.Join(ta, ""), strings.Join(tb, ""))
	return math.Max(whole, tokenSimilarity(ta, tb, nameWord))
}

func nameWord(a, b string) float64 {
	if a == b {
		return 1
	}
	if SameNickname(a, b) {
		return NicknameScore
	}
	if len(a) == 1 || len(b) == 1 {
		if a[0] == b[0] {
			return 0.8 // an initial
		}
		return 0
	}
	return JaroWinkler(a, b)
}

// Date compares dates written YYYY-MM-DD or YYYYMMDD: 1 when equal, 0.9
// when day and month are swapped, 0.8 for one wrong or transposed digit,
// 0.6 for two, else 0. Values that are not dates compare as text (0.8 for
// one edit).
func Date(a, b string) float64 {
	if a == b {
		return 1
	}
	da, db := digitsOf(a), digitsOf(b)
	if len(da) == 8 && len(db) == 8 {
		if da[:4] == db[:4] && da[4:6] == db[6:8] && da[6:8] == db[4:6] {
			return 0.9
		}
	}
	if da == "" || db == "" {
		da, db = a, b
	}
	switch edlib.OSADamerauLevenshteinDistance(da, db) {
	case 0:
		return 1
	case 1:
		return 0.8
	case 2:
		return 0.6
	}
	return 0
}

func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Number compares numbers: 1 - |a-b|/tolerance, at least 0. With tolerance
// 0 only equal numbers agree. Values that are not numbers compare exactly.
func Number(a, b string, tolerance float64) float64 {
	x, errA := strconv.ParseFloat(a, 64)
	y, errB := strconv.ParseFloat(b, 64)
	if errA != nil || errB != nil {
		return Exact(a, b)
	}
	d := math.Abs(x - y)
	if d == 0 {
		return 1
	}
	if tolerance <= 0 {
		return 0
	}
	return math.Max(0, 1-d/tolerance)
}

// Soundex returns the American Soundex code of the first word of s (a
// letter and three digits), or "" when s has no letter.
func Soundex(s string) string {
	out := make([]byte, 0, 4)
	var last byte
	for _, r := range strings.ToLower(s) {
		if r < 'a' || r > 'z' {
			if len(out) > 0 && r == ' ' {
				break
			}
			continue
		}
		c := soundexCode(r)
		if len(out) == 0 {
			out = append(out, byte(r-'a'+'A'))
			last = c
			continue
		}
		switch {
		case c == 'h':
			continue
		case c == 0:
			last = 0
		case c != last:
			out = append(out, c)
			last = c
		}
		if len(out) == 4 {
			break
		}
	}
	if len(out) == 0 {
		return ""
	}
	for len(out) < 4 {
		out = append(out, '0')
	}
	return string(out)
}

// soundexCode is the Soundex digit of lower-case letter r: 'h' for h and
// w (they do not separate equal codes), 0 for vowels (they do).
func soundexCode(r rune) byte {
	switch r {
	case 'b', 'f', 'p', 'v':
		return '1'
	case 'c', 'g', 'j', 'k', 'q', 's', 'x', 'z':
		return '2'
	case 'd', 't':
		return '3'
	case 'l':
		return '4'
	case 'm', 'n':
		return '5'
	case 'r':
		return '6'
	case 'h', 'w':
		return 'h'
	}
	return 0
}

// sortedTokens returns the words of s sorted and joined by spaces.
func sortedTokens(s string) string {
	t := tokens(s)
	slices.Sort(t)
	return strings.Join(t, " ")
}
