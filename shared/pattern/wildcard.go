package pattern

import (
	"errors"
	"fmt"
	"strings"
)

// wildcardMatcher matches strings against an EventBridge wildcard: "*"
// matches any run of characters (including none); "\*" is a literal star
// and "\\" a literal backslash.
type wildcardMatcher struct {
	// segs are the literal runs between wildcards; a pattern with n
	// wildcards has n+1 segments (possibly empty).
	segs []string
}

// parseWildcard validates and compiles a wildcard expression. As in
// EventBridge, consecutive wildcards ("**") are rejected, and a backslash may
// only escape "*" or "\".
func parseWildcard(s string) (wildcardMatcher, error) {
	var segs []string
	var cur strings.Builder
	prevStar := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 >= len(s) {
				return wildcardMatcher{}, errors.New("a trailing backslash escapes nothing")
			}
			next := s[i+1]
			if next != '*' && next != '\\' {
				return wildcardMatcher{}, fmt.Errorf("invalid escape at position %d: only \\* and \\\\ are allowed", i)
			}
			cur.WriteByte(next)
			i++
			prevStar = false
		case '*':
			if prevStar {
				return wildcardMatcher{}, fmt.Errorf("consecutive wildcard characters at position %d", i)
			}
			segs = append(segs, cur.String())
			cur.Reset()
			prevStar = true
		default:
			cur.WriteByte(c)
			prevStar = false
		}
	}
	segs = append(segs, cur.String())
	return wildcardMatcher{segs: segs}, nil
}

func (w wildcardMatcher) match(l *leaf) bool {
	return l.kind == kindString && w.matchString(l.s)
}

func (w wildcardMatcher) matchString(s string) bool {
	if len(w.segs) == 1 {
		return s == w.segs[0]
	}
	first, last := w.segs[0], w.segs[len(w.segs)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	// Leftmost placement of each middle segment is optimal when the only
	// metacharacter is "*".
	rest := s[len(first) : len(s)-len(last)]
	for _, seg := range w.segs[1 : len(w.segs)-1] {
		i := strings.Index(rest, seg)
		if i < 0 {
			return false
		}
		rest = rest[i+len(seg):]
	}
	return true
}
