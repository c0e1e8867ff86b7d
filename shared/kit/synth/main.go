package synth

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
)

// Main runs the generator as a command (aurum gen). args exclude the
// command name. It writes the data set under -out and a summary to stdout.
//
//	aurum gen -seed 1 -people 10000 -out DIR
//	aurum gen -seed 1 -crm-only -size 500MB -out DIR
func Main(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: aurum gen [flags]\n\n"+
			"Generates synthetic customer data in the shape of testdata/sample (five sources)\n"+
			"with ground truth in truth.csv (source,record_id,person_id).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	seed := fs.Uint64("seed", 1, "random seed; the same seed writes the same bytes")
	people := fs.Int("people", 1000, "number of people (with -size: an upper bound, none unless set)")
	out := fs.String("out", "", "output directory (required); files land in <out>/<source>/...")
	crmOnly := fs.Bool("crm-only", false, "write only the CRM export "+Files[SourceCRM])
	size := fs.String("size", "", "with -crm-only: generate until the CRM file reaches this size, e.g. 500MB, 2GiB")
	truth := fs.Bool("truth", true, "write "+TruthFile)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("gen: unexpected argument %q", fs.Arg(0))
	}
	if *out == "" {
		return errors.New("gen: -out is required")
	}
	opts := Options{Seed: *seed, People: *people, CRMOnly: *crmOnly}
	if *size != "" {
		if !*crmOnly {
			return errors.New("gen: -size needs -crm-only")
		}
		n, err := ParseSize(*size)
		if err != nil {
			return fmt.Errorf("gen: -size: %w", err)
		}
		opts.TargetBytes = n
		peopleSet := false
		fs.Visit(func(f *flag.Flag) { peopleSet = peopleSet || f.Name == "people" })
		if !peopleSet {
			opts.People = 0
		}
	}

	var w Writers
	var files []*os.File
	open := func(rel string) (io.Writer, error) {
		path := filepath.Join(*out, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("gen: %w", err)
		}
		f, err := os.Create(path)
		if err != nil {
			return nil, fmt.Errorf("gen: %w", err)
		}
		files = append(files, f)
		return f, nil
	}
	closeAll := func() error {
		var errs []error
		for _, f := range files {
			if err := f.Close(); err != nil {
				errs = append(errs, fmt.Errorf("gen: %w", err))
			}
		}
		return errors.Join(errs...)
	}
	targets := []*io.Writer{&w.CRM, &w.Shop, &w.POS, &w.Newsletter, &w.Web}
	for i, src := range Sources {
		if *crmOnly && src != SourceCRM {
			continue
		}
		f, err := open(Files[src])
		if err != nil {
			return errors.Join(err, closeAll())
		}
		*targets[i] = f
	}
	if *truth {
		f, err := open(TruthFile)
		if err != nil {
			return errors.Join(err, closeAll())
		}
		w.Truth = f
	}

	sum, err := Generate(w, opts)
	if err := errors.Join(err, closeAll()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "generated %d people, %d records (seed %d) in %s\n", sum.People, sum.Records(), *seed, *out)
	for _, s := range sum.Sources {
		fmt.Fprintf(stdout, "  %-28s %9d records %9d rows %10s\n", Files[s.Source], s.Records, s.Rows, FormatSize(s.Bytes))
	}
	if *truth {
		fmt.Fprintf(stdout, "  %-28s %9d rows    %19s\n", TruthFile, sum.Records(), FormatSize(sum.TruthBytes))
	}
	return nil
}

// ParseSize parses a byte size: a number with an optional unit, B, KB, MB,
// GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024); case and
// spaces do not matter: "500MB", "1.5 GiB", "4096".
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	i := strings.IndexFunc(t, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	mult := map[string]float64{
		"": 1, "B": 1,
		"K": 1e3, "KB": 1e3, "M": 1e6, "MB": 1e6, "G": 1e9, "GB": 1e9, "T": 1e12, "TB": 1e12,
		"KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40,
	}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("size %q: unknown unit %q; expected B, KB, MB, GB, TB, KiB, MiB, GiB or TiB", s, unit)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("size %q: expected a positive number with an optional unit such as 500MB", s)
	}
	n := v * mult
	if n > 1<<53 {
		return 0, fmt.Errorf("size %q: too large", s)
	}
	return int64(n), nil
}

// FormatSize writes a byte count for people: 512 B, 1.5 MB, 2.0 GB.
func FormatSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
