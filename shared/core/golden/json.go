package golden

import "encoding/json"

// canonical renders v as JSON (map keys sorted by encoding/json).
func canonical(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "\x00unencodable"
	}
	return string(b)
}
