package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/segment"
)

const segmentsUsage = `usage: aurum segments <subcommand> --config aurum.yaml --data .aurum [flags]

subcommands:
  check      compile every segment expression (errors name segment, line:column)
  preview    count and sample the profiles a draft expression matches: --expr '...' [--sample N]
  counts     print the live member count of every segment
  reconcile  prove the live counts equal the memberships by walking every profile
  sweep      re-evaluate the profiles whose due time has passed
  rfm        recompute the RFM thresholds now`

func runSegments(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, segmentsUsage)
		return errUsage
	}
	sub := args[0]
	fs := flags("segments "+sub, "--config aurum.yaml --data .aurum", stderr)
	cfgPath := fs.String("config", "aurum.yaml", "configuration file")
	data := fs.String("data", ".aurum", "local data folder (holds aurum.db)")
	expr := fs.String("expr", "", "draft CEL expression (preview)")
	sample := fs.Int("sample", 10, "sample size (preview)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	ev, err := segment.New(cfg.Segments, cfg.RFM, segment.Options{})
	if err != nil {
		return err
	}
	if sub == "check" {
		fmt.Fprintf(stdout, "%d segments compile\n", len(ev.Segments()))
		return nil
	}
	st, err := embedded.OpenData(*data)
	if err != nil {
		return fmt.Errorf("%w (stop aurum local first: the store file is locked while it runs)", err)
	}
	defer st.Close()
	if err := segment.LoadThresholds(ctx, st, ev); err != nil {
		return err
	}
	out := json.NewEncoder(stdout)
	out.SetIndent("", "  ")
	now := time.Now()
	switch sub {
	case "preview":
		if *expr == "" {
			fs.Usage()
			return errUsage
		}
		res, err := ev.Preview(ctx, *expr, segment.ScanProfiles(ctx, st), *sample, now)
		if err != nil {
			return err
		}
		return out.Encode(res)
	case "counts":
		c, err := ev.Counts(ctx, st)
		if err != nil {
			return err
		}
		return out.Encode(c)
	case "reconcile":
		rep, err := ev.Reconcile(ctx, st, segment.ScanProfiles(ctx, st))
		if err != nil {
			return err
		}
		if err := out.Encode(rep); err != nil {
			return err
		}
		if !rep.OK {
			return fmt.Errorf("segments: counts differ from memberships")
		}
		return nil
	case "sweep":
		res, err := segment.NewScheduler(st, ev, nil).Sweep(ctx, now)
		if err != nil {
			return err
		}
		return out.Encode(res)
	case "rfm":
		if cfg.RFM == nil {
			return fmt.Errorf("segments: no rfm block in %s", *cfgPath)
		}
		if _, err := segment.NewScheduler(st, ev, nil).RefreshRFM(ctx, segment.ScanProfiles(ctx, st), now, true); err != nil {
			return err
		}
		t, _ := ev.Thresholds()
		return out.Encode(t)
	}
	fmt.Fprintln(stderr, segmentsUsage)
	return errUsage
}
