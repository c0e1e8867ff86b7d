package normalize

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// MaxNameLen bounds names in bytes.
const MaxNameLen = 256

var (
	errNameEmpty     = newError("name", "empty")
	errNameTooLong   = newError("name", "too long")
	errNameText      = newError("name", "not valid UTF-8 or contains control characters")
	errNameNoLetters = newError("name", "no letters")
)

// Name normalizes a person's name (or a part of it) and returns two forms:
//
//   - display: Unicode NFC, white space trimmed and collapsed. A name
//     written entirely in upper or entirely in lower case is re-cased:
//     every word, and every part after a hyphen, starts with a capital;
//     after an apostrophe only when one letter precedes it (O'Brien,
//     D'Angelo); "Mc" prefixes capitalize the next letter (McDonald);
//     particles inside a name stay lower-case (van, von, de, la, da, di,
//     du, del, der, bin, ...: "LUDWIG VAN BEETHOVEN" → "Ludwig van
//     Beethoven"). A name already in mixed case is kept as written.
//   - key: the matching key: case-folded, accents removed, apostrophes
//     removed, hyphens and other punctuation turned into spaces, spaces
//     collapsed. "Zoë O'Brien-Smith" → "zoe obrien smith", "Ørsted" →
//     "orsted".
//
// A name must contain a letter.
func Name(s string) (display, key string, err error) {
	s = collapseSpaces(s)
	switch {
	case s == "":
		return "", "", errNameEmpty
	case len(s) > MaxNameLen:
		return "", "", errNameTooLong
	case !cleanText(s):
		return "", "", errNameText
	}
	ascii := isASCII(s)
	if !ascii {
		s = norm.NFC.String(s)
	}
	letters, upper, lower := false, false, false
	for _, r := range s {
		if unicode.IsLetter(r) {
			letters = true
			if unicode.IsUpper(r) {
				upper = true
			} else if unicode.IsLower(r) {
				lower = true
			} else if unicode.IsTitle(r) {
				upper, lower = true, true
			}
		}
	}
	if !letters {
		return "", "", errNameNoLetters
	}
	display = s
	if upper != lower {
		display = titleCase(s)
	}
	key = foldKey(display, ascii)
	if key == "" {
		return "", "", errNameNoLetters
	}
	return display, key, nil
}

// FoldKey returns the matching key of a name (see Name) without validating
// it; fuzzy matchers use it to compare arbitrary strings.
func FoldKey(s string) string { return foldKey(s, isASCII(s)) }

// particles stay lower-case inside a name (not as its first or last word).
var particles = map[string]bool{
	"af": true, "bin": true, "da": true, "das": true, "de": true, "dei": true,
	"del": true, "della": true, "den": true, "der": true, "di": true, "dos": true,
	"du": true, "ibn": true, "la": true, "le": true, "ten": true, "ter": true,
	"van": true, "von": true, "y": true, "zu": true,
}

// titleCase re-cases a name written all in upper or all in lower case.
func titleCase(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 4)
	words := strings.Count(s, " ") + 1
	for i := 0; s != ""; i++ {
		w := s
		if j := strings.IndexByte(s, ' '); j >= 0 {
			w, s = s[:j], s[j+1:]
		} else {
			s = ""
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		lw := strings.ToLower(w)
		if i > 0 && i < words-1 && particles[lw] {
			b.WriteString(lw)
			continue
		}
		titleWord(&b, lw)
	}
	return b.String()
}

// titleWord writes the lower-case word w with capitals at the start of
// each hyphen-separated part and after single-letter apostrophe prefixes.
func titleWord(b *strings.Builder, w string) {
	capNext := true
	segRunes := 0
	for len(w) > 0 {
		r, n := utf8.DecodeRuneInString(w)
		w = w[n:]
		switch {
		case r == '-' || r == '‐':
			b.WriteRune(r)
			capNext, segRunes = true, 0
		case isApostrophe(r):
			b.WriteRune(r)
			capNext, segRunes = segRunes == 1, 0
		default:
			if capNext {
				b.WriteRune(unicode.ToTitle(r))
				capNext = false
				// Mc prefix: McDonald, McArthur (not "Mc" alone).
				if (r == 'm' || r == 'M') && strings.HasPrefix(w, "c") && len(w) > 2 {
					b.WriteByte('c')
					w = w[1:]
					capNext = true
					segRunes++
				}
			} else {
				b.WriteRune(r)
			}
			segRunes++
		}
	}
}

func isApostrophe(r rune) bool {
	switch r {
	case '\'', '’', 'ʼ', '‘', '`', '´':
		return true
	}
	return false
}

// foldPool holds the Unicode folding chains: decompose, drop combining
// marks (accents), case-fold, recompose. Chains are stateful, hence pooled.
var foldPool = sync.Pool{New: func() any {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), cases.Fold(), norm.NFC)
}}

// foldSpecial spells letters that carry no decomposable accent.
func foldSpecial(r rune) string {
	switch r {
	case 'ø':
		return "o"
	case 'đ', 'ð':
		return "d"
	case 'ł':
		return "l"
	case 'ħ':
		return "h"
	case 'ı':
		return "i"
	case 'æ':
		return "ae"
	case 'œ':
		return "oe"
	case 'þ':
		return "th"
	}
	return ""
}

// foldKey builds the matching key of s (see Name).
func foldKey(s string, ascii bool) string {
	var b strings.Builder
	b.Grow(len(s))
	pendingSpace := false
	if ascii {
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
				fallthrough
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
				if pendingSpace && b.Len() > 0 {
					b.WriteByte(' ')
				}
				pendingSpace = false
				b.WriteByte(c)
			case c == '\'' || c == '`':
			default:
				pendingSpace = true
			}
		}
		return b.String()
	}
	t := foldPool.Get().(transform.Transformer)
	folded, _, err := transform.String(t, s)
	foldPool.Put(t)
	if err != nil {
		folded = strings.ToLower(s)
	}
	for _, r := range folded {
		switch {
		case unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r):
			// Spacing marks (Devanagari vowel signs) are part of the word.
			if pendingSpace && b.Len() > 0 {
				b.WriteByte(' ')
			}
			pendingSpace = false
			if sp := foldSpecial(r); sp != "" {
				b.WriteString(sp)
			} else {
				b.WriteRune(r)
			}
		case isApostrophe(r):
		default:
			pendingSpace = true
		}
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
