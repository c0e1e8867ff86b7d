package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aurum-cdp/aurum/cmd/aurum/replay"
	"github.com/aurum-cdp/aurum/shared/adapter/dir"
	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/core/mapping"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/source/file"
)

// batchInput is the records read from the files given to resolve.
type batchInput struct {
	// rows are every input row in order; rec is set for mapped rows.
	rows []batchRow
	// recs are the distinct mapped records resolved.
	recs []profile.Record
}

type batchRow struct {
	source, id string
	// file is the index of the row's file among the source=path arguments.
	file int
	// rec is the index in recs, -1 for a rejected row.
	rec int
	// truth is the row's ground-truth label, when asked for.
	truth string
}

const resolveSynopsis = `--config F --out assignments.csv [--diff previous.csv] [--streaming] source=path ...
       aurum resolve --explain --config F source=path ... <source/id> <source/id>`

func runResolve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("resolve", resolveSynopsis, stderr)
	cfgPath := fs.String("config", "aurum.yaml", "configuration file")
	out := fs.String("out", "", "write assignments (source,record_id,profile_id) to this CSV file; - for standard output")
	diff := fs.String("diff", "", "compare with a previous assignments file: moved records, merges gained and lost")
	explain := fs.Bool("explain", false, "explain why two records (the last two arguments, source/id) are or are not together")
	statsOut := fs.String("stats", "", "write match statistics as JSON to this file")
	truthCol := fs.String("truth-column", "", "evaluate against the ground truth in this input column (same value = same person)")
	truthRE := fs.String("truth-id-regex", "", "evaluate against the ground truth in the record id: the first group of this regular expression")
	label := fs.String("label", "", "name of the run in the evaluation line")
	refF1 := fs.Float64("reference-f1", 0, "a published F1 printed next to the measured one")
	data := fs.String("data", "", "honour the do-not-merge assertions of unmerges in this local data folder (holds aurum.db)")
	streaming := fs.Bool("streaming", false, "resolve through the streaming pipeline instead: load the files in order, in the file loader's batches, into a fresh embedded store in a temporary folder, and report the profile each record ended in")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var files, refs []string
	for _, a := range fs.Args() {
		if strings.Contains(a, "=") {
			files = append(files, a)
		} else {
			refs = append(refs, a)
		}
	}
	if len(files) == 0 || (*explain && len(refs) != 2) || (!*explain && len(refs) > 0) || (!*explain && *out == "" && *truthCol == "" && *truthRE == "") {
		fs.Usage()
		return errUsage
	}
	if *streaming && (*explain || *data != "") {
		fmt.Fprintln(stderr, "resolve: --streaming does not go with --explain or --data")
		return errUsage
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
	var idRE *regexp.Regexp
	if *truthRE != "" {
		if idRE, err = regexp.Compile(*truthRE); err != nil {
			return fmt.Errorf("--truth-id-regex: %w", err)
		}
	}
	start := time.Now()
	in, err := readBatch(ctx, cfg, files, *truthCol, idRE, stderr)
	if err != nil {
		return err
	}
	var (
		ids   []string
		stats identity.Stats
		mode  = "batch"
	)
	if *streaming {
		mode = "streaming"
		if ids, stats, err = resolveStreaming(ctx, cfg, eng, files, in); err != nil {
			return err
		}
	} else {
		var opts identity.BatchOptions
		if *data != "" {
			if opts.Apart, err = localAssertions(ctx, *data); err != nil {
				return err
			}
		}
		res := eng.Resolve(in.recs, opts)
		if *explain {
			return printExplain(stdout, in, res, refs[0], refs[1])
		}
		ids = make([]string, len(in.rows))
		for i, r := range in.rows {
			if r.rec >= 0 {
				ids[i] = res.ProfileIDs[r.rec]
			}
		}
		stats = res.Stats
	}
	elapsed := time.Since(start)
	if *out != "" {
		if err := writeAssignments(*out, in.rows, ids, stdout); err != nil {
			return err
		}
	}
	if *statsOut != "" {
		b, err := json.MarshalIndent(stats, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*statsOut, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write stats: %w", err)
		}
	}
	report := stderr
	if *out != "-" {
		report = stdout
	}
	printStats(report, stats)
	if *diff != "" {
		if err := printDiff(report, *diff, in.rows, ids); err != nil {
			return err
		}
	}
	if *truthCol != "" || idRE != nil {
		truth := make([]string, len(in.rows))
		for i, r := range in.rows {
			truth[i] = r.truth
		}
		s := identity.ScorePairs(ids, truth)
		name := *label
		if name == "" {
			name = "pairwise"
		}
		fmt.Fprintf(report, "%-10s %-9s precision %.4f  recall %.4f  F1 %.4f  (tp %d, fp %d, fn %d)  %.2fs",
			name, mode, s.Precision, s.Recall, s.F1, s.TruePositives, s.FalsePositives, s.FalseNegatives, elapsed.Seconds())
		if *refF1 > 0 {
			fmt.Fprintf(report, "  | Splink published F1 %.4f", *refF1)
		}
		fmt.Fprintln(report)
	}
	return nil
}

// readBatch reads and maps every source=path argument.
func readBatch(ctx context.Context, cfg *config.Config, files []string, truthCol string, idRE *regexp.Regexp, stderr io.Writer) (*batchInput, error) {
	in := &batchInput{}
	seen := map[string]int{}
	for fileIdx, arg := range files {
		name, path, _ := strings.Cut(arg, "=")
		src, ok := cfg.Source(name)
		if !ok {
			return nil, fmt.Errorf("%s: source %q is not declared in the configuration", arg, name)
		}
		mp, err := mapping.New(src, cfg.Identifiers)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", name, err)
		}
		format, err := file.FormatOf(src, path)
		if err != nil {
			return nil, err
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", name, err)
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("source %s: %w", name, err)
		}
		rows, err := file.NewRows(f, file.ReadOptions{Format: format, CSV: src.CSV})
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		key := filepath.ToSlash(path)
		rejected := 0
		for rows.Next() {
			if err := ctx.Err(); err != nil {
				f.Close()
				return nil, err
			}
			line := rows.Line()
			row := batchRow{source: name, id: key + "#" + strconv.Itoa(line), file: fileIdx, rec: -1}
			if rows.Bad() != nil {
				in.rows = append(in.rows, row)
				rejected++
				continue
			}
			raw := rows.Row()
			if truthCol != "" {
				row.truth = strings.TrimSpace(fmt.Sprint(raw[truthCol]))
			}
			rec, errs := mp.Map(raw)
			if rec.ID != "" {
				row.id = rec.ID
			}
			if idRE != nil {
				if m := idRE.FindStringSubmatch(row.id); len(m) > 1 {
					row.truth = m[1]
				}
			}
			if mapping.HasFatal(errs) {
				in.rows = append(in.rows, row)
				rejected++
				continue
			}
			rec.Source, rec.ID = name, row.id
			if rec.ObservedAt.IsZero() {
				rec.ObservedAt = st.ModTime().UTC()
			}
			rec.Location = key + ":" + strconv.Itoa(line)
			mapping.FillEventDefaults(&rec)
			if j, dup := seen[rec.Key()]; dup {
				row.rec = j // the same record again: it goes where the first went
			} else {
				row.rec = len(in.recs)
				seen[rec.Key()] = row.rec
				in.recs = append(in.recs, rec)
			}
			in.rows = append(in.rows, row)
		}
		err = rows.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if rejected > 0 {
			fmt.Fprintf(stderr, "%s: %d rows rejected (empty profile_id)\n", path, rejected)
		}
	}
	return in, nil
}

func writeAssignments(path string, rows []batchRow, ids []string, stdout io.Writer) (err error) {
	var w io.Writer = stdout
	if path != "-" {
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("write assignments: %w", err)
		}
		defer func() {
			if cerr := f.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("write assignments: %w", cerr)
			}
		}()
		w = f
	}
	cw := csv.NewWriter(w)
	cw.Write([]string{"source", "record_id", "profile_id"})
	for i, r := range rows {
		cw.Write([]string{r.source, r.id, ids[i]})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write assignments: %w", err)
	}
	return nil
}

func printStats(w io.Writer, s identity.Stats) {
	fmt.Fprintf(w, "%d records, %d clusters\n", s.Records, s.Clusters)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "rule\tcompared\tlinks\trecords\tmerges\tblocked\tskipped blocks")
	for _, r := range s.Rules {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\n", r.Rule, r.Compared, r.Links, r.Records, r.Merges, r.Blocked, r.SkippedBlocks)
	}
	tw.Flush()
	var prot []string
	for k, v := range s.Blocked {
		prot = append(prot, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(prot)
	fmt.Fprintf(w, "blocked by protection: %s\n", strings.Join(prot, ", "))
	var hist []string
	for _, b := range s.Histogram {
		if b.Clusters > 0 {
			hist = append(hist, fmt.Sprintf("%s:%d", b.Label, b.Clusters))
		}
	}
	fmt.Fprintf(w, "cluster sizes: %s\n", strings.Join(hist, " "))
	if len(s.Largest) > 0 {
		fmt.Fprintf(w, "largest cluster: %s (%d records)\n", s.Largest[0].ProfileID, s.Largest[0].Records)
	}
	if s.Splits > 0 {
		fmt.Fprintf(w, "unmerges: %d\n", s.Splits)
	}
	for _, q := range s.Quarantined {
		fmt.Fprintf(w, "quarantined placeholder: %s (%d records, %d distinct names)\n", q.Identifier, q.Records, q.Distinct)
	}
}

// printDiff compares the assignments with a previous run.
func printDiff(w io.Writer, prevPath string, rows []batchRow, ids []string) error {
	f, err := os.Open(prevPath)
	if err != nil {
		return fmt.Errorf("diff: %w", err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	head, err := cr.Read()
	if err != nil || len(head) < 3 || head[0] != "source" || head[1] != "record_id" || head[2] != "profile_id" {
		return fmt.Errorf("diff: %s: want the header source,record_id,profile_id", prevPath)
	}
	prev := map[string]string{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("diff: %s: %w", prevPath, err)
		}
		if len(rec) >= 3 && rec[2] != "" {
			prev[rec[0]+"/"+rec[1]] = rec[2]
		}
	}
	cur := map[string]string{}
	for i, r := range rows {
		if ids[i] != "" {
			cur[r.source+"/"+r.id] = ids[i]
		}
	}
	d := identity.Diff(prev, cur)
	fmt.Fprintf(w, "diff against %s: %d records moved, %d merges gained, %d merges lost, %d records new, %d records gone\n",
		prevPath, len(d.Moved), d.MergesGained, d.MergesLost, d.Added, d.Removed)
	for i, m := range d.Moved {
		if i == 20 {
			fmt.Fprintf(w, "  ... %d more\n", len(d.Moved)-20)
			break
		}
		fmt.Fprintf(w, "  moved %s: %s -> %s\n", m.Record, m.From, m.To)
	}
	return nil
}

func printExplain(w io.Writer, in *batchInput, res *identity.Resolution, a, b string) error {
	i, j := res.Index(a), res.Index(b)
	if i < 0 {
		return fmt.Errorf("explain: record %s is not among the mapped input records", a)
	}
	if j < 0 {
		return fmt.Errorf("explain: record %s is not among the mapped input records", b)
	}
	x := res.Explain(i, j)
	if x.Together {
		fmt.Fprintf(w, "%s and %s are together in %s\n", a, b, x.ProfileA)
	} else {
		fmt.Fprintf(w, "%s (in %s) and %s (in %s) are apart\n", a, x.ProfileA, b, x.ProfileB)
	}
	fmt.Fprintln(w, "\ncompared directly:")
	for _, r := range x.Direct.Results {
		verdict := "no match"
		if r.Match {
			verdict = "MATCH"
		}
		fmt.Fprintf(w, "  %-24s %-10s %-8s %s\n", r.Rule, r.Kind, verdict, r.Reason)
		for _, s := range r.Scores {
			switch {
			case s.Missing:
				fmt.Fprintf(w, "      %-20s %-12s missing\n", s.Attribute, s.Method)
			case r.Kind == identity.KindWeighted:
				fmt.Fprintf(w, "      %-20s %-12s similarity %.3f  weight %+.2f\n", s.Attribute, s.Method, s.Similarity, s.Weight)
			default:
				fmt.Fprintf(w, "      %-20s %-12s similarity %.3f  pass %v\n", s.Attribute, s.Method, s.Similarity, s.Pass)
			}
		}
	}
	if len(x.Path) > 0 {
		fmt.Fprintln(w, "\njoined through:")
		for _, s := range x.Path {
			fmt.Fprintf(w, "  %s -> %s  by %s\n", s.From, s.To, s.Rule)
		}
	}
	for _, id := range x.Quarantined {
		fmt.Fprintf(w, "\nthey share %s, quarantined as a placeholder: it does not link\n", id)
	}
	if len(x.Refused) > 0 {
		fmt.Fprintln(w, "\nlinks between their clusters refused by merge protection:")
		for _, f := range x.Refused {
			fmt.Fprintf(w, "  %s -- %s  by %s: %s (%s)\n", f.A, f.B, f.Rule, f.Protection, f.Detail)
		}
	}
	return nil
}

// localAssertions reads the do-not-merge assertions of the local store.
func localAssertions(ctx context.Context, data string) ([][2]string, error) {
	st, err := embedded.OpenData(data)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	return pipeline.Assertions(ctx, st)
}

// resolveStreaming loads the files, in order, through local mode's file
// loader and the streaming pipeline into a fresh embedded store in a
// temporary folder (no fsync), and returns the live profile of every input
// row (empty for rejected rows) and the statistics the pipeline kept.
func resolveStreaming(ctx context.Context, cfg *config.Config, eng *identity.Engine, files []string, in *batchInput) (ids []string, stats identity.Stats, err error) {
	tmp, err := os.MkdirTemp("", "aurum-resolve-")
	if err != nil {
		return nil, stats, fmt.Errorf("streaming: %w", err)
	}
	defer os.RemoveAll(tmp)
	st, err := embedded.Open(filepath.Join(tmp, "aurum.db"), embedded.Options{NoSync: true})
	if err != nil {
		return nil, stats, fmt.Errorf("streaming: open store: %w", err)
	}
	defer st.Close()
	objs, err := dir.New(filepath.Join(tmp, "bucket"))
	if err != nil {
		return nil, stats, fmt.Errorf("streaming: open bucket: %w", err)
	}
	defer objs.Close()
	inputs := make([]replay.File, len(files))
	for i, arg := range files {
		inputs[i].Source, inputs[i].Path, _ = strings.Cut(arg, "=")
	}
	run, err := replay.Load(ctx, replay.Parts{Config: cfg, Store: st, Objects: objs}, inputs)
	if err != nil {
		return nil, stats, err
	}
	ids = make([]string, len(in.rows))
	missing := 0
	for i, r := range in.rows {
		if r.rec < 0 {
			continue
		}
		// A record without a mapped id is named after its file: the
		// loader names it after the object key instead of the path.
		id := r.id
		_, path, _ := strings.Cut(files[r.file], "=")
		if rest, ok := strings.CutPrefix(id, filepath.ToSlash(path)+"#"); ok {
			id = run.Keys[r.file] + "#" + rest
		}
		if ids[i], err = run.ProfileID(ctx, r.source, id); err != nil {
			return nil, stats, err
		}
		if ids[i] == "" {
			missing++
		}
	}
	if missing > 0 {
		return nil, stats, fmt.Errorf("streaming: %d mapped records are not in the store after loading", missing)
	}
	if stats, err = run.Stats(ctx, eng); err != nil {
		return nil, stats, err
	}
	return ids, stats, nil
}
