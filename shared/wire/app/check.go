package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aurum-cdp/aurum/shared/adapter/dir"
	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/adapter/secrets"
	"github.com/aurum-cdp/aurum/shared/config"
)

// Check builds, over a throwaway store, everything a start-up builds from
// cfg — the identity engine, segments, mappings and webhook presets of
// every source, the loader, the trigger engine with its action kinds, the
// destinations with their kinds,
// the pull sources with their connectors, the subscribers' patterns — and
// returns every error a start-up would stop on, joined. `aurum validate`
// and local mode's start-up apply the same checks through it, so a
// configuration that validates starts.
func Check(cfg *config.Config) error {
	tmp, err := os.MkdirTemp("", "aurum-check-")
	if err != nil {
		return fmt.Errorf("app: check: %w", err)
	}
	defer os.RemoveAll(tmp)
	st, err := embedded.Open(filepath.Join(tmp, "aurum.db"), embedded.Options{NoSync: true})
	if err != nil {
		return fmt.Errorf("app: check: %w", err)
	}
	defer st.Close()
	objs, err := dir.New(filepath.Join(tmp, "bucket"))
	if err != nil {
		return fmt.Errorf("app: check: %w", err)
	}
	defer objs.Close()
	// A resolver that is never asked: building checks that secrets are
	// named, resolving them is for the running functions.
	p, err := New(Parts{Config: cfg, Store: st, Objects: objs, Secrets: secrets.New(nil, nil, func(string) string { return "" })})
	if err != nil {
		return err
	}
	var errs []error
	if _, _, _, err := p.LocalTriggers(nil); err != nil {
		errs = append(errs, err)
	}
	if set, err := p.Pulls(Connectors()); err != nil {
		errs = append(errs, err)
	} else if err := set.Close(); err != nil {
		errs = append(errs, err)
	}
	for _, s := range cfg.Subscribers {
		if _, err := s.EffectivePattern().Compile(); err != nil {
			errs = append(errs, fmt.Errorf("subscriber %s: %w", s.Name, err))
		}
	}
	return errors.Join(errs...)
}
