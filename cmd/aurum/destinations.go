package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/adapter/secrets"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/wire/app"
)

const destinationsSynopsis = "--config F --data DIR (list | sync NAME)"

// runDestinations lists the configured destinations or runs a full
// audience re-sync of one against the local store (credentials from the
// environment, as local mode reads them).
func runDestinations(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("destinations", destinationsSynopsis, stderr)
	cfgPath := fs.String("config", "aurum.yaml", "configuration file")
	data := fs.String("data", ".aurum", "local data folder (holds aurum.db)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return fmt.Errorf("%s is not valid", *cfgPath)
	}
	switch {
	case fs.NArg() == 1 && fs.Arg(0) == "list":
		for _, d := range cfg.Destinations {
			var gets []string
			if d.Events != nil {
				gets = append(gets, "events")
			}
			if d.Profiles != nil {
				gets = append(gets, "profiles")
			}
			if d.Audiences != nil {
				gets = append(gets, fmt.Sprintf("audiences %v", d.Audiences.Segments))
			}
			fmt.Fprintf(stdout, "%-16s %-11s purposes %v  receives %v\n", d.Name, d.Kind, d.Purposes, gets)
		}
		return nil
	case fs.NArg() == 2 && fs.Arg(0) == "sync":
	default:
		fs.Usage()
		return errUsage
	}
	st, err := embedded.OpenData(*data)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	p, err := app.New(app.Parts{Config: cfg, Store: st, Secrets: secrets.New(nil, nil, os.Getenv)})
	if err != nil {
		return err
	}
	r, err := p.Destinations(app.TriggerParts{})
	if err != nil {
		return err
	}
	rep, err := r.FullSync(ctx, fs.Arg(1))
	if err != nil {
		return err
	}
	st2 := r.Stats()[rep.Destination]
	fmt.Fprintf(stdout, "%s: %d members added, %d removed (no consent); delivered %d, rejected %d, failed %d\n",
		rep.Destination, rep.Added, rep.Removed, st2.Delivered, st2.Rejected, st2.Failed)
	return nil
}
