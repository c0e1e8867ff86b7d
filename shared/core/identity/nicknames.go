package identity

import (
	_ "embed"
	"strings"
)

//go:embed nicknames.txt
var nicknameTable string

// nicknameGroups maps a given name to the groups it belongs to.
var nicknameGroups = parseNicknames(nicknameTable)

func parseNicknames(table string) map[string][]int {
	groups := map[string][]int{}
	g := 0
	for _, line := range strings.Split(table, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, name := range strings.Fields(line) {
			groups[name] = append(groups[name], g)
		}
		g++
	}
	return groups
}

// SameNickname reports whether a and b (lower-case given names) are
// known variants of one name, such as bob and robert, or bob and bobby.
func SameNickname(a, b string) bool {
	ga, gb := nicknameGroups[a], nicknameGroups[b]
	for _, x := range ga {
		for _, y := range gb {
			if x == y {
				return true
			}
		}
	}
	return false
}
