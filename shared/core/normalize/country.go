package normalize

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/biter777/countries"
)

var (
	errCountryEmpty   = newError("country", "empty")
	errCountryTooLong = newError("country", "too long")
	errCountryUnknown = newError("country", "unknown country")
)

// countryAliases completes github.com/biter777/countries (which knows ISO
// codes, English names and many variants) with common endonyms and long
// forms it lacks. Keys are folded (see FoldKey) with spaces removed.
var countryAliases = map[string]string{
	"belgie": "BE", "belgique": "BE", "brasil": "BR", "cesko": "CZ",
	"ceskarepublika": "CZ", "czechrep": "CZ", "eire": "IE", "ellada": "GR",
	"hellas": "GR", "espana": "ES", "hrvatska": "HR", "italia": "IT",
	"magyarorszag": "HU", "nederland": "NL", "nihon": "JP", "nippon": "JP",
	"norge": "NO", "polska": "PL", "republicofireland": "IE",
	"slovensko": "SK", "suomi": "FI", "sverige": "SE", "svizzera": "CH",
	"trinidadtobago": "TT", "unitedkingdomofgreatbritainandnorthernireland": "GB",
	"greatbritainandnorthernireland": "GB", "nireland": "GB", "zhongguo": "CN",
}

// Country normalizes a country to its ISO 3166-1 alpha-2 code ("GB") from
// an alpha-2 or alpha-3 code or a name: English names and common variants
// ("UK", "Great Britain", "U.S.A.", "United States of America"), and a
// number of native names ("Deutschland", "España", "Österreich"). Any case,
// accents and punctuation are accepted. Two-letter input must be an
// assigned alpha-2 code (or "UK").
func Country(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", errCountryEmpty
	case len(s) > 80:
		return "", errCountryTooLong
	}
	// A country column holds few distinct values: remember the answers.
	if a2, ok := countryCache.Load(s); ok {
		if a2 == "" {
			return "", errCountryUnknown
		}
		return a2.(string), nil
	}
	a2, err := country(s)
	if countryCacheLen.Add(1) <= maxCountryCache {
		countryCache.Store(strings.Clone(s), a2)
	}
	return a2, err
}

// countryCache maps trimmed inputs to alpha-2 codes ("" for unknown). It
// stops growing at maxCountryCache entries.
var (
	countryCache    sync.Map
	countryCacheLen atomic.Int64
)

const maxCountryCache = 4096

func country(s string) (string, error) {
	if len(s) == 2 {
		up := strings.ToUpper(s)
		if up == "UK" {
			return "GB", nil
		}
		if a2 := countries.ByName(up).Alpha2(); a2 == up && isAlpha2(a2) {
			return a2, nil
		}
		return "", errCountryUnknown
	}
	if a2 := countries.ByName(s).Alpha2(); isAlpha2(a2) {
		return a2, nil
	}
	key := FoldKey(s)
	key = strings.TrimPrefix(key, "the ")
	if a2 := countries.ByName(key).Alpha2(); isAlpha2(a2) {
		return a2, nil
	}
	if a2, ok := countryAliases[strings.ReplaceAll(key, " ", "")]; ok {
		return a2, nil
	}
	return "", errCountryUnknown
}

// isAlpha2 rejects the library's pseudo codes ("None", "Unknown", "XX").
func isAlpha2(a2 string) bool {
	return len(a2) == 2 && a2 != "XX" && a2[0] >= 'A' && a2[0] <= 'Z' && a2[1] >= 'A' && a2[1] <= 'Z'
}
