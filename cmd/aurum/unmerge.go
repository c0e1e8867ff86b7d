package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
)

const unmergeSynopsis = "--config F --data DIR <profile-id> (--record source/id | --link source/id,source/id) [--reason TEXT] [--json]"

// runUnmerge splits a profile of the local store.
func runUnmerge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("unmerge", unmergeSynopsis, stderr)
	cfgPath := fs.String("config", "aurum.yaml", "configuration file")
	data := fs.String("data", ".aurum", "local data folder (holds aurum.db)")
	record := fs.String("record", "", "withdraw this record (source/id) from the profile")
	link := fs.String("link", "", "withdraw the link between two records: source/id,source/id")
	reason := fs.String("reason", "", "why (kept in the ledger and the ProfileSplit event)")
	asJSON := fs.Bool("json", false, "print the split as JSON")
	// Flags may come before and after the profile id.
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != 1 || (*record == "") == (*link == "") {
		fs.Usage()
		return errUsage
	}
	w := pipeline.Withdrawal{Record: *record, Reason: *reason}
	if *link != "" {
		a, b, ok := cutComma(*link)
		if !ok {
			fs.Usage()
			return errUsage
		}
		w.Link = [2]string{a, b}
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return fmt.Errorf("%s is not valid", *cfgPath)
	}
	st, err := embedded.OpenData(*data)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	sp, err := pipeline.New(pipeline.ConfigOf(cfg), st, pipeline.Options{}).Unmerge(ctx, pos[0], w)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sp)
	}
	fmt.Fprintf(stdout, "split %s (now version %d) into %d profiles:\n", sp.ProfileID, sp.ProfileVersion, len(sp.Parts))
	for _, p := range sp.Parts {
		what := "kept"
		if p.Created {
			what = "new "
		}
		fmt.Fprintf(stdout, "  %s %s  %d records\n", what, p.ProfileID, len(p.Records))
	}
	return nil
}

func cutComma(s string) (string, string, bool) {
	for i := range len(s) {
		if s[i] == ',' {
			return s[:i], s[i+1:], s[:i] != "" && s[i+1:] != ""
		}
	}
	return "", "", false
}
