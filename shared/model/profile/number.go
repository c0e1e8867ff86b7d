package profile

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Number reads a numeric attribute, aggregate or property value: a float64
// (how JSON numbers decode), an int, an int64 or a json.Number. Strings
// are not numbers here; see ParseNumber.
func Number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// ParseNumber is Number that also reads a numeric string, surrounding
// spaces ignored ("42", " 1.5e3 "), as values from files and untyped
// properties carry numbers.
func ParseNumber(v any) (float64, bool) {
	if s, ok := v.(string); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		return f, err == nil
	}
	return Number(v)
}
