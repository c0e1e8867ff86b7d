package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/catalog"
)

// runCatalog prints the data catalog of the local store: every source, or
// one source's fields.
func runCatalog(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("catalog", "[--config F] [--data DIR] [--json] [source]", stderr)
	cfgPath := fs.String("config", "aurum.yaml", "configuration file")
	data := fs.String("data", ".aurum", "local data folder (holds aurum.db)")
	asJSON := fs.Bool("json", false, "print JSON (as GET /v1/catalog[/{source}])")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return errUsage
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return fmt.Errorf("%s is not valid", *cfgPath)
	}
	st, err := embedded.OpenData(*data)
	if err != nil {
		return fmt.Errorf("open store (is aurum local running on %s? stop it or use GET /v1/catalog): %w", *data, err)
	}
	defer st.Close()
	r, err := catalog.NewReader(cfg.Sources, cfg.Identifiers, st)
	if err != nil {
		return err
	}
	var v any
	if fs.NArg() == 1 {
		sc, err := r.Source(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		v = sc
		if !*asJSON {
			printSource(stdout, sc)
			return nil
		}
	} else {
		c, err := r.Catalog(ctx)
		if err != nil {
			return err
		}
		v = c
		if !*asJSON {
			printCatalog(stdout, c)
			return nil
		}
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printCatalog(w io.Writer, c catalog.Catalog) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "SOURCE\tKIND\tROWS\tREJECTED\tFIELDS\tCOMPLETENESS\tALERTS\tLAST SEEN\t")
	for _, s := range c.Sources {
		last := "never"
		if s.LastSeen != nil {
			last = s.LastSeen.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%.1f%%\t%d\t%s\t\n", s.Name, s.Kind, s.Rows, s.Rejected, s.Fields, 100*s.Completeness, s.Alerts, last)
	}
	tw.Flush()
	for _, h := range c.Identifiers {
		for _, s := range h.Suggested {
			fmt.Fprintf(w, "suggested block-list entry for %s: %q (%d records)\n", s.Type, s.Value, s.Count)
		}
	}
	printAlerts(w, c.Alerts)
}

func printSource(w io.Writer, sc catalog.SourceCatalog) {
	fmt.Fprintf(w, "source %s (%s): %d rows, %d rejected, %d with dropped values\n\n", sc.Name, sc.Kind, sc.Rows, sc.Rejected, sc.Warned)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FIELD\tTYPE\tCOMPLETE\tDISTINCT\tINVALID\tMAPPED AS\tTOP VALUES")
	for _, f := range sc.Fields {
		var top []string
		for _, c := range f.Top[:min(3, len(f.Top))] {
			top = append(top, fmt.Sprintf("%s ×%d", c.Display, c.Count))
		}
		invalid := "-"
		if f.Invalid > 0 {
			invalid = fmt.Sprintf("%.1f%% (%s)", 100*f.InvalidRate, f.Normalizer)
		}
		name := f.Field
		if f.PII {
			name += " [PII]"
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f%%\t%d\t%s\t%s\t%s\n", name, f.Type, 100*f.Completeness, f.Distinct, invalid,
			strings.Join(f.MappedAs, ","), strings.Join(top, ", "))
	}
	tw.Flush()
	printAlerts(w, sc.AlertList)
}

func printAlerts(w io.Writer, alerts []catalog.Alert) {
	if len(alerts) == 0 {
		return
	}
	fmt.Fprintln(w, "\nalerts:")
	for _, a := range alerts {
		fmt.Fprintf(w, "  %-8s %s\n", a.Severity, a.Message)
	}
}
