package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/identity"
)

func runStats(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "identity" {
		fmt.Fprintln(stderr, "usage: aurum stats identity [--config F] [--data DIR] [--json]")
		return errUsage
	}
	fs := flags("stats identity", "[--config F] [--data DIR] [--json]", stderr)
	cfgPath := fs.String("config", "aurum.yaml", "configuration file")
	data := fs.String("data", ".aurum", "local data folder (holds aurum.db)")
	asJSON := fs.Bool("json", false, "print JSON (as GET /v1/identity/stats)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return fmt.Errorf("%s is not valid", *cfgPath)
	}
	eng, err := identity.New(cfg.Identifiers, &cfg.Identity)
	if err != nil {
		return err
	}
	st, err := embedded.OpenData(*data)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	s, err := eng.StreamStats(ctx, st)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	printStats(stdout, s)
	return nil
}
