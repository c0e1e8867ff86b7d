package activation

import (
	"strings"

	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// ConsentAttribute prefixes the attribute that holds a profile's consent
// to a purpose: consent.marketing = true.
const ConsentAttribute = "consent."

// Granted reports whether p has granted purpose. It is the one place the
// runner reads consent: today the surviving attribute consent.<purpose>
// (true, or the strings "true", "yes", "granted"); anything else, a
// missing attribute included, is no consent.
func Granted(p profile.Profile, purpose string) bool {
	a, ok := p.Attributes[ConsentAttribute+purpose]
	if !ok {
		return false
	}
	switch v := a.Value.(type) {
	case bool:
		return v
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "yes", "granted":
			return true
		}
	}
	return false
}

// grantedAll reports whether p has granted every purpose, and the first
// one missing.
func grantedAll(p profile.Profile, purposes []string) (bool, string) {
	for _, pu := range purposes {
		if !Granted(p, pu) {
			return false, pu
		}
	}
	return true, ""
}
