// Package identity decides which identifiers of a record may link it to
// existing profiles, under the named match rules of aurum.yaml.
//
// This is the seam for identity resolution: the pipeline asks Links for
// the identifiers to look up and merges the profiles they resolve to,
// recording the rule that linked them.
package identity

import (
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/profile"
)

// Link is an identifier that may join a record to a profile, and the rule
// that allows it.
type Link struct {
	Identifier profile.Identifier
	Rule       string
}

// Resolver applies the match rules.
type Resolver struct {
	// rule maps an identifier type to the first rule that links on it.
	rule map[string]string
}

// New builds a resolver. With no rules configured, every declared
// identifier type links exactly, under a rule named "exact_<type>".
func New(cfg *config.Config) *Resolver {
	r := &Resolver{rule: map[string]string{}}
	for _, mr := range cfg.Identity.Rules {
		if mr.Kind != "exact" {
			continue
		}
		for _, t := range mr.Identifiers {
			if _, ok := r.rule[t]; !ok {
				r.rule[t] = mr.Name
			}
		}
	}
	if len(cfg.Identity.Rules) == 0 {
		for _, it := range cfg.Identifiers {
			r.rule[it.Name] = "exact_" + it.Name
		}
	}
	return r
}

// Links returns the identifiers of rec that may link it to profiles, in
// the record's order (the mapper orders identifiers by type priority).
func (r *Resolver) Links(rec profile.Record) []Link {
	links := make([]Link, 0, len(rec.Identifiers))
	for _, id := range rec.Identifiers {
		if rule, ok := r.rule[id.Type]; ok {
			links = append(links, Link{Identifier: id, Rule: rule})
		}
	}
	return links
}
