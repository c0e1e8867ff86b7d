package activation

import (
	"github.com/aurum-cdp/aurum/shared/core/consent"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// ConsentAttribute prefixes the attribute that holds a profile's consent
// to a purpose: consent.marketing = true (package consent).
const ConsentAttribute = consent.Prefix

// Granted reports whether p has granted purpose: the surviving attribute
// consent.<purpose> is true (package consent keeps it, latest observation
// first, a withdrawal winning a tie). Anything else, a missing attribute
// included, is no consent.
func Granted(p profile.Profile, purpose string) bool {
	return consent.Allowed(p, []string{purpose})
}

// grantedAll reports whether p has granted every purpose, and the first
// one missing.
func grantedAll(p profile.Profile, purposes []string) (bool, string) {
	if m := consent.Missing(p, purposes); len(m) > 0 {
		return false, m[0]
	}
	return true, ""
}
