package replay_test

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"

	"github.com/aurum-cdp/aurum/cmd/aurum/replay"
	"github.com/aurum-cdp/aurum/shared/adapter/dir"
	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/kit/synth"
)

// generate writes a synthetic data set with ground truth into a temp
// folder and returns the files in synth's source order and truth.csv.
func generate(t *testing.T, opts synth.Options) ([]replay.File, string) {
	t.Helper()
	out := t.TempDir()
	var w synth.Writers
	var files []replay.File
	open := func(name string) *os.File {
		path := filepath.Join(out, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	for _, src := range synth.Sources {
		f := open(synth.Files[src])
		switch src {
		case synth.SourceCRM:
			w.CRM = f
		case synth.SourceShop:
			w.Shop = f
		case synth.SourcePOS:
			w.POS = f
		case synth.SourceNewsletter:
			w.Newsletter = f
		case synth.SourceWeb:
			w.Web = f
		}
		files = append(files, replay.File{Source: src, Path: f.Name()})
	}
	truth := open(synth.TruthFile)
	w.Truth = truth
	if _, err := synth.Generate(w, opts); err != nil {
		t.Fatalf("synth.Generate(%+v): %v", opts, err)
	}
	return files, truth.Name()
}

// readTruth returns the (source, record id, person) rows of truth.csv.
func readTruth(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if len(rows) < 2 || rows[0][0] != "source" || rows[0][1] != "record_id" || rows[0][2] != "person_id" {
		t.Fatalf("%s: want the header %s and rows", path, synth.TruthHeader)
	}
	return rows[1:]
}

func TestLoadScoresGeneratedSet(t *testing.T) {
	cfg, err := config.Load("../../../aurum.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Identity only: the sample segments and triggers do not change the
	// clusters (and the segment extension has its own tests).
	cfg.Segments, cfg.Triggers = nil, nil
	eng, err := identity.New(cfg.Identifiers, &cfg.Identity)
	if err != nil {
		t.Fatal(err)
	}
	// Floors well below what the sample configuration reaches on synth
	// data, so that only a broken streaming path (records not linked, or
	// strangers merged) fails them.
	const minPrecision, minRecall, minF1 = 0.95, 0.80, 0.90
	tests := []struct {
		name string
		opts synth.Options
	}{
		{"300 people", synth.Options{Seed: 7, People: 300}},
		{"600 people", synth.Options{Seed: 8, People: 600}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			files, truthPath := generate(t, tt.opts)
			data := t.TempDir()
			st, err := embedded.Open(filepath.Join(data, "aurum.db"), embedded.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			objs, err := dir.New(filepath.Join(data, "bucket"))
			if err != nil {
				t.Fatal(err)
			}
			defer objs.Close()

			run, err := replay.Load(ctx, replay.Parts{Config: cfg, Store: st, Objects: objs}, files)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(run.Reports) != len(files) || len(run.Keys) != len(files) {
				t.Fatalf("Load gave %d reports and %d keys; want %d each", len(run.Reports), len(run.Keys), len(files))
			}
			truth := readTruth(t, truthPath)
			pred, labels := make([]string, len(truth)), make([]string, len(truth))
			missing := 0
			for i, row := range truth {
				labels[i] = row[2]
				if pred[i], err = run.ProfileID(ctx, row[0], row[1]); err != nil {
					t.Fatal(err)
				}
				if pred[i] == "" {
					missing++
				}
			}
			// A record missing from the store must be a rejected row.
			rejected := 0
			for _, rep := range run.Reports {
				rejected += rep.Rejected
			}
			if missing > rejected {
				t.Errorf("%d truth records are not in the store; the loader rejected %d rows", missing, rejected)
			}
			s := identity.ScorePairs(pred, labels)
			t.Logf("%d records: precision %.4f recall %.4f F1 %.4f (tp %d, fp %d, fn %d), loaded in %v",
				len(truth), s.Precision, s.Recall, s.F1, s.TruePositives, s.FalsePositives, s.FalseNegatives, run.Elapsed)
			if s.Precision < minPrecision || s.Recall < minRecall || s.F1 < minF1 {
				t.Errorf("streaming score = precision %.4f recall %.4f F1 %.4f; want at least %.2f, %.2f, %.2f",
					s.Precision, s.Recall, s.F1, minPrecision, minRecall, minF1)
			}

			stats, err := run.Stats(ctx, eng)
			if err != nil {
				t.Fatal(err)
			}
			if stats.Records == 0 {
				t.Errorf("Stats().Records = 0; want the records loaded")
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	cfg, err := config.Load("../../../aurum.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	st, err := embedded.Open(filepath.Join(data, "aurum.db"), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	objs, err := dir.New(filepath.Join(data, "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	defer objs.Close()
	files := []replay.File{{Source: "crm", Path: filepath.Join(data, "absent.csv")}}
	if _, err := replay.Load(context.Background(), replay.Parts{Config: cfg, Store: st, Objects: objs}, files); err == nil {
		t.Errorf("Load(absent file) = nil error; want an error")
	}
}
