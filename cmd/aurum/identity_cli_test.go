package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

const cliConfig = `version: 1
identifiers:
  - {name: email, normalizer: email}
  - {name: phone, normalizer: phone}
sources:
  - name: crm
    kind: file
    format: csv
    region: GB
    mapping:
      record_id: id
      identifiers:
        - {type: email, field: email}
        - {type: phone, field: phone}
      attributes:
        first_name: {field: first_name, type: name}
`

const cliCSV = `id,email,phone,first_name
1,ann@example.com,07400123401,Ann
2,bob@example.com,07400123402,Bob
3,ann@example.com,07400123402,Ann
4,not-an-email,,
`

func writeFiles(t *testing.T) (dir, cfgPath, csvPath string) {
	t.Helper()
	dir = t.TempDir()
	cfgPath, csvPath = filepath.Join(dir, "aurum.yaml"), filepath.Join(dir, "crm.csv")
	for p, s := range map[string]string{cfgPath: cliConfig, csvPath: cliCSV} {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir, cfgPath, csvPath
}

func TestResolveCommand(t *testing.T) {
	dir, cfgPath, csvPath := writeFiles(t)
	out := filepath.Join(dir, "assignments.csv")
	var stdout, stderr bytes.Buffer
	if err := runResolve(context.Background(), []string{"--config", cfgPath, "--out", out, "crm=" + csvPath}, &stdout, &stderr); err != nil {
		t.Fatalf("resolve: %v (%s)", err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 5 || lines[0] != "source,record_id,profile_id" {
		t.Fatalf("assignments = %q; want a header and 4 rows", lines)
	}
	ids := map[string]string{}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		ids[f[1]] = f[2]
	}
	if ids["1"] == "" || ids["1"] != ids["2"] || ids["1"] != ids["3"] {
		t.Errorf("assignments %v; want rows 1, 2 and 3 in one profile (3 bridges them)", ids)
	}
	if !strings.Contains(stdout.String(), "3 records, 1 clusters") {
		t.Errorf("resolve printed %q; want the statistics", stdout.String())
	}
}

func TestUnmergeAndStatsCommands(t *testing.T) {
	ctx := context.Background()
	dir, cfgPath, _ := writeFiles(t)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(filepath.Join(dir, "aurum.db"), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	r := func(id string, ids ...string) profile.Record {
		rec := profile.Record{Source: "crm", ID: id, ObservedAt: t0}
		for _, s := range ids {
			x, _ := profile.ParseIdentifier(s)
			rec.Identifiers = append(rec.Identifiers, x)
		}
		return rec
	}
	res, err := pipeline.New(pipeline.ConfigOf(cfg), st, pipeline.Options{}).Ingest(ctx, []profile.Record{
		r("1", "email:ann@example.com"), r("2", "email:bob@example.com"), r("3", "email:ann@example.com", "email:bob@example.com"),
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		run     func(context.Context, []string, *bytes.Buffer, *bytes.Buffer) error
		args    []string
		wantErr bool
		want    string
	}{
		{"unmerge usage", unmerge, []string{"--config", cfgPath, "--data", dir, res.ProfileIDs[2]}, true, ""},
		{"unmerge", unmerge, []string{"--config", cfgPath, "--data", dir, res.ProfileIDs[2], "--record", "crm/3"}, false, "into 3 profiles"},
		{"stats", stats, []string{"identity", "--config", cfgPath, "--data", dir}, false, "unmerges: 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := tt.run(ctx, tt.args, &stdout, &stderr)
			if (err != nil) != tt.wantErr || !strings.Contains(stdout.String(), tt.want) {
				t.Errorf("%s %v = %v, %q; want error %v and output containing %q", tt.name, tt.args, err, stdout.String(), tt.wantErr, tt.want)
			}
		})
	}
	var stdout, stderr bytes.Buffer
	if err := runStats(ctx, []string{"identity", "--config", cfgPath, "--data", dir, "--json"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	var s identity.Stats
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	if s.Clusters != 3 || s.Records != 3 || s.Histogram[0].Clusters != 3 {
		t.Errorf("stats identity = %d clusters, %d records, histogram %v; want 3 single-record clusters", s.Clusters, s.Records, s.Histogram)
	}
}

func unmerge(ctx context.Context, args []string, stdout, stderr *bytes.Buffer) error {
	return runUnmerge(ctx, args, stdout, stderr)
}

func stats(ctx context.Context, args []string, stdout, stderr *bytes.Buffer) error {
	return runStats(ctx, args, stdout, stderr)
}
