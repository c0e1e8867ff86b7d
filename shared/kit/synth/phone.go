package synth

import (
	"math/rand/v2"
	"strings"
)

// phone is a phone number: a country and its national significant number
// (the digits after the country code, without the trunk prefix 0).
type phone struct {
	country string // GB, FR, DE, US, ES
	nsn     string
}

var callingCodes = map[string]string{"GB": "44", "FR": "33", "DE": "49", "US": "1", "ES": "34"}

// usAreas are area codes for US numbers; the index selects one of ten.
var usAreas = [10]string{"415", "212", "312", "617", "206", "512", "303", "646", "718", "305"}

// mobileNumber returns the mobile number of the person with unique number
// u (0 ≤ u < idSpace): distinct people get distinct numbers, all valid in
// libphonenumber's metadata.
func mobileNumber(cc string, u uint64) phone {
	s := padded("", u%idSpace, 7)
	switch cc {
	case "GB":
		return phone{cc, "775" + s} // 07 75x xxxxxx
	case "FR":
		return phone{cc, "61" + s} // 06 1x xx xx xx
	case "DE":
		return phone{cc, "1512" + s} // 0151 2xxxxxxx
	case "US":
		return phone{cc, usAreas[s[0]-'0'] + "2" + s[1:]} // (415) 2xx-xxxx
	default: // ES
		return phone{cc, "61" + s} // 61x xxx xxx
	}
}

// landlineNumber returns the fixed line of household u.
func landlineNumber(cc string, u uint64) phone {
	s := padded("", u%idSpace, 7)
	switch cc {
	case "GB":
		return phone{cc, "207" + s} // 020 7xxx xxxx
	case "FR":
		return phone{cc, "14" + s} // 01 4x xx xx xx
	case "DE":
		return phone{cc, "308" + s} // 030 8xxxxxxx
	case "US":
		return phone{cc, usAreas[s[0]-'0'] + "3" + s[1:]} // (415) 3xx-xxxx
	default: // ES
		return phone{cc, "91" + s} // 91x xx xx xx
	}
}

// e164 returns the canonical form, as a correct normalizer produces it.
func (p phone) e164() string { return "+" + callingCodes[p.country] + p.nsn }

// national writes p as it is dialled inside its own country, in one of the
// usual groupings.
func (p phone) national(r *rand.Rand) string {
	n := p.nsn
	switch p.country {
	case "GB":
		if n[0] == '2' { // London: 020 xxxx xxxx
			switch r.IntN(3) {
			case 0:
				return "0" + n[:2] + " " + n[2:6] + " " + n[6:]
			case 1:
				return "0" + n[:3] + " " + n[3:6] + " " + n[6:]
			default:
				return "0" + n
			}
		}
		switch r.IntN(5) {
		case 0, 1:
			return "0" + n[:4] + " " + n[4:]
		case 2:
			return "0" + n
		case 3:
			return "0" + n[:4] + "-" + n[4:7] + "-" + n[7:]
		default:
			return "(0" + n[:4] + ") " + n[4:]
		}
	case "FR":
		pairs := "0" + n[:1] + " " + n[1:3] + " " + n[3:5] + " " + n[5:7] + " " + n[7:]
		switch r.IntN(5) {
		case 0, 1:
			return pairs
		case 2:
			return "0" + n
		case 3:
			return strings.ReplaceAll(pairs, " ", ".")
		default:
			return strings.ReplaceAll(pairs, " ", "-")
		}
	case "DE":
		k := 3 // mobile prefix 015x; Berlin 030
		if n[0] == '3' {
			k = 2
		}
		switch r.IntN(4) {
		case 0, 1:
			return "0" + n[:k] + " " + n[k:]
		case 2:
			return "0" + n[:k] + "/" + n[k:]
		default:
			return "0" + n
		}
	case "US":
		switch r.IntN(5) {
		case 0, 1:
			return "(" + n[:3] + ") " + n[3:6] + "-" + n[6:]
		case 2:
			return n[:3] + "-" + n[3:6] + "-" + n[6:]
		case 3:
			return n[:3] + "." + n[3:6] + "." + n[6:]
		default:
			return "1-" + n[:3] + "-" + n[3:6] + "-" + n[6:]
		}
	default: // ES
		switch r.IntN(3) {
		case 0:
			return n[:3] + " " + n[3:6] + " " + n[6:]
		case 1:
			return n
		default:
			return n[:3] + " " + n[3:5] + " " + n[5:7] + " " + n[7:]
		}
	}
}

// international writes p with its country code, as typed by people abroad
// or by careful clerks. sourceRegion decides whether the 00 prefix works.
func (p phone) international(r *rand.Rand, sourceRegion string) string {
	cc := callingCodes[p.country]
	n := p.nsn
	var grouped string
	switch p.country {
	case "GB":
		grouped = n[:4] + " " + n[4:]
		if n[0] == '2' {
			grouped = n[:2] + " " + n[2:6] + " " + n[6:]
		}
	case "FR":
		grouped = n[:1] + " " + n[1:3] + " " + n[3:5] + " " + n[5:7] + " " + n[7:]
	case "DE":
		grouped = n[:3] + " " + n[3:]
		if n[0] == '3' {
			grouped = n[:2] + " " + n[2:]
		}
	case "US":
		grouped = "(" + n[:3] + ") " + n[3:6] + "-" + n[6:]
	default:
		grouped = n[:3] + " " + n[3:6] + " " + n[6:]
	}
	choice := r.IntN(5)
	if choice == 3 && sourceRegion == "US" {
		choice = 0 // 00 is not the international prefix in the US
	}
	switch choice {
	case 0, 1:
		return "+" + cc + " " + grouped
	case 2:
		return "+" + cc + n
	case 3:
		return "00" + cc + " " + grouped
	default:
		if p.country == "US" || p.country == "ES" {
			return "+" + cc + " " + grouped
		}
		return "+" + cc + " (0)" + grouped
	}
}

// format writes p as a source in sourceRegion would hold it. A small share
// of foreign numbers is written nationally: the region trap that makes a
// number unparseable or, worse, a valid number of the wrong country.
func (p phone) format(r *rand.Rand, sourceRegion string, trapRate float64) string {
	if p.country == sourceRegion {
		if r.IntN(4) == 0 {
			return p.international(r, sourceRegion)
		}
		return p.national(r)
	}
	if r.Float64() < trapRate {
		return p.national(r)
	}
	return p.international(r, sourceRegion)
}
