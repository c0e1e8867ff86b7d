package catalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/catalog"
	"github.com/aurum-cdp/aurum/shared/core/mapping"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

const testYAML = `
version: 1
identifiers:
  - {name: customer_id, normalizer: id}
  - {name: email, normalizer: email}
  - {name: phone, normalizer: phone}
sources:
  - name: crm
    kind: file
    format: csv
    region: GB
    date_formats: [dmy, iso]
    mapping:
      record_id: {field: id, required: true}
      identifiers:
        - {type: customer_id, field: id}
        - {type: email, field: email}
        - {type: phone, field: phone}
      attributes:
        first_name: {field: first, type: name}
        birth_date: {field: born, type: date}
        country: {field: country, type: country}
  - name: shop
    kind: file
    format: jsonl
    mapping:
      identifiers:
        - {type: email, field: customer.email}
`

func testConfig(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(testYAML))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func openStore(t testing.TB) *embedded.Store {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// crmRow makes row i of the crm source: every 25th phone is 0000000000
// (invalid), every other tenth the placeholder 07400 000000, every fifth birth date is invalid, and every
// fourth row has no country.
func crmRow(i int) map[string]any {
	row := map[string]any{
		"id":      fmt.Sprintf("C%04d", i),
		"email":   fmt.Sprintf("person%d@gmail.com", i),
		"phone":   fmt.Sprintf("07400 123%03d", i%1000),
		"first":   []string{"Ann", "Bob", "Zoë"}[i%3],
		"born":    "01/02/1980",
		"country": []string{"GB", "FR", "DE"}[i%3],
	}
	switch {
	case i%25 == 0:
		row["phone"] = "0000000000" // refused by the phone normalizer
	case i%10 == 0:
		row["phone"] = "07400 000000" // valid, and a placeholder
	}
	if i%5 == 0 {
		row["born"] = "31/31/1980"
	}
	if i%4 == 0 {
		row["country"] = ""
	}
	return row
}

func observeRows(t *testing.T, o *catalog.Observer, cfg *config.Config, source string, rows []map[string]any) {
	t.Helper()
	src, _ := cfg.Source(source)
	m, err := mapping.New(src, cfg.Identifiers)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		rec, errs := m.Map(row)
		o.Observe(source, row, rec, errs)
	}
}

func field(t *testing.T, sc catalog.SourceCatalog, name string) catalog.FieldProfile {
	t.Helper()
	for _, f := range sc.Fields {
		if f.Field == name {
			return f
		}
	}
	t.Fatalf("source %s has no field %s; fields %+v", sc.Name, name, sc.Fields)
	return catalog.FieldProfile{}
}

// TestObserveFlushRead observes 200 crm rows in two batches and checks
// every statistic against what the rows hold.
func TestObserveFlushRead(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	st := openStore(t)
	o, err := catalog.NewObserver(cfg.Sources, cfg.Identifiers, st, catalog.ObserverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	for i := 1; i <= 200; i++ {
		rows = append(rows, crmRow(i))
	}
	observeRows(t, o, cfg, "crm", rows[:120])
	if err := o.Flush(ctx); err != nil {
		t.Fatalf("Flush = %v", err)
	}
	observeRows(t, o, cfg, "crm", rows[120:])
	if err := o.Flush(ctx); err != nil {
		t.Fatalf("Flush = %v", err)
	}
	r, err := catalog.NewReader(cfg.Sources, cfg.Identifiers, st)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := r.Source(ctx, "crm")
	if err != nil {
		t.Fatalf("Source(crm) = %v", err)
	}
	if sc.Rows != 200 {
		t.Errorf("crm rows = %d; want 200", sc.Rows)
	}
	tests := []struct {
		field        string
		typ          string
		completeness float64
		distinct     [2]uint64 // accepted range
		invalid      int64
		pii          bool
	}{
		{"id", catalog.TypeString, 1, [2]uint64{196, 204}, 0, true},
		{"email", catalog.TypeEmail, 1, [2]uint64{196, 204}, 0, true},
		{"phone", catalog.TypePhone, 1, [2]uint64{174, 182}, 8, true},
		{"first", catalog.TypeString, 1, [2]uint64{3, 3}, 0, true},
		{"born", catalog.TypeDate, 1, [2]uint64{2, 2}, 40, true},
		{"country", catalog.TypeString, 0.75, [2]uint64{3, 3}, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.field, func(t *testing.T) {
			f := field(t, sc, tc.field)
			if f.Type != tc.typ {
				t.Errorf("type = %s (%v); want %s", f.Type, f.Types, tc.typ)
			}
			if f.Completeness != tc.completeness {
				t.Errorf("completeness = %v; want %v", f.Completeness, tc.completeness)
			}
			if f.Distinct < tc.distinct[0] || f.Distinct > tc.distinct[1] {
				t.Errorf("distinct = %d; want %d..%d", f.Distinct, tc.distinct[0], tc.distinct[1])
			}
			if f.Invalid != tc.invalid {
				t.Errorf("invalid = %d; want %d", f.Invalid, tc.invalid)
			}
			if f.PII != tc.pii {
				t.Errorf("pii = %v; want %v", f.PII, tc.pii)
			}
			if len(f.Samples) == 0 || len(f.Samples) > catalog.Samples {
				t.Errorf("samples = %q; want 1..%d", f.Samples, catalog.Samples)
			}
			if f.FirstSeen.IsZero() || f.LastSeen.Before(f.FirstSeen) {
				t.Errorf("first/last seen = %v, %v", f.FirstSeen, f.LastSeen)
			}
		})
	}
	// Personal values are masked everywhere they are shown.
	raw, _ := json.Marshal(sc)
	for _, leak := range []string{"person1@gmail.com", "0740012", "Zoë", "31/31/1980"} {
		if strings.Contains(string(raw), leak) {
			t.Errorf("catalog JSON holds %q in clear", leak)
		}
	}
	born := field(t, sc, "born")
	if born.InvalidRate != 0.2 || born.Normalizer != "date" {
		t.Errorf("born invalid rate %v normalizer %q; want 0.2 date", born.InvalidRate, born.Normalizer)
	}
	country := field(t, sc, "country")
	if len(country.Top) != 3 || country.Top[0].Count < 50 || !slices.Contains([]string{"GB", "FR", "DE"}, country.Top[0].Display) {
		t.Errorf("country top = %+v; want GB, FR, DE in clear with counts ≥ 50", country.Top)
	}
	// Identifier health: the placeholder phone is the top phone value,
	// in clear, and suggested for the block list.
	var phone *catalog.IdentifierHealth
	for i := range sc.Identifiers {
		if sc.Identifiers[i].Type == "phone" {
			phone = &sc.Identifiers[i]
		}
	}
	if phone == nil || len(phone.Top) == 0 {
		t.Fatalf("no phone identifier health in %+v", sc.Identifiers)
	}
	if phone.Top[0].Display != "+447400000000" || phone.Top[0].Count != 16 || !phone.Top[0].Placeholder {
		t.Errorf("top phone = %+v; want +447400000000 × 16, placeholder", phone.Top[0])
	}
	if len(phone.Suggested) != 1 || !phone.Suggested[0].Adoptable || phone.Suggested[0].Value != "+447400000000" {
		t.Errorf("phone suggestions = %+v; want +447400000000 adoptable", phone.Suggested)
	}
	// The raw field shows both placeholders in clear, with their counts.
	rawTop := map[string]int64{}
	for _, c := range field(t, sc, "phone").Top {
		rawTop[c.Display] = c.Count
	}
	if rawTop["0000000000"] != 8 || rawTop["07400 000000"] != 16 {
		t.Errorf("phone field top = %v; want 0000000000 × 8 and 07400 000000 × 16 in clear", rawTop)
	}
	var kinds []string
	for _, a := range sc.AlertList {
		kinds = append(kinds, a.Kind+":"+a.Field)
	}
	for _, want := range []string{"invalid_rate:born", "placeholder:phone"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("alerts %v; want %s", kinds, want)
		}
	}
}

// TestConcurrentFlush flushes from several observers at once, as several
// Lambda instances do: optimistic retries must lose no row.
func TestConcurrentFlush(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	st := openStore(t)
	const writers, batches, perBatch = 4, 5, 10
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		o, err := catalog.NewObserver(cfg.Sources, cfg.Identifiers, st, catalog.ObserverOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			shop, _ := cfg.Source("shop")
			m, _ := mapping.New(shop, cfg.Identifiers)
			for b := 0; b < batches; b++ {
				for i := 0; i < perBatch; i++ {
					row := map[string]any{"customer": map[string]any{"email": fmt.Sprintf("w%db%di%d@shop.example", w, b, i)}, "total": json.Number("12.5")}
					rec, errs := m.Map(row)
					o.Observe("shop", row, rec, errs)
				}
				if err := o.Flush(ctx); err != nil {
					t.Errorf("Flush = %v", err)
				}
			}
		})
	}
	wg.Wait()
	r, _ := catalog.NewReader(cfg.Sources, cfg.Identifiers, st)
	sc, err := r.Source(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(writers * batches * perBatch); sc.Rows != want {
		t.Errorf("shop rows = %d; want %d", sc.Rows, want)
	}
	if f := field(t, sc, "customer.email"); f.Present != int64(writers*batches*perBatch) || f.Type != catalog.TypeEmail {
		t.Errorf("customer.email present %d type %s; want %d email", f.Present, f.Type, writers*batches*perBatch)
	}
	if f := field(t, sc, "total"); f.Type != catalog.TypeNumber || f.PII {
		t.Errorf("total type %s pii %v; want number, not personal", f.Type, f.PII)
	}
}

// TestReaderOverview reads back three observed crm rows: sources and
// identifier types in configuration order, the clock's last seen, and an
// unknown source as fault.ErrNotFound.
func TestReaderOverview(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	// Identifier types out of alphabetical order: the overview must
	// follow the configuration, not the stored items.
	slices.Reverse(cfg.Identifiers)
	st := openStore(t)
	seen := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	o, err := catalog.NewObserver(cfg.Sources, cfg.Identifiers, st, catalog.ObserverOptions{Clock: func() time.Time { return seen }})
	if err != nil {
		t.Fatal(err)
	}
	observeRows(t, o, cfg, "crm", []map[string]any{crmRow(1), crmRow(2), crmRow(3)})
	if err := o.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := catalog.NewReader(cfg.Sources, cfg.Identifiers, st)
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.Catalog(ctx)
	if err != nil {
		t.Fatalf("Catalog = %v; want nil error", err)
	}
	var names, types []string
	for _, s := range c.Sources {
		names = append(names, s.Name)
	}
	for _, h := range c.Identifiers {
		types = append(types, h.Type)
	}
	if !slices.Equal(names, []string{"crm", "shop"}) || !slices.Equal(types, []string{"phone", "email", "customer_id"}) {
		t.Errorf("Catalog sources %v, identifiers %v; want [crm shop], [phone email customer_id] (configuration order)", names, types)
	}
	if crm := c.Sources[0]; crm.Rows != 3 || crm.LastSeen == nil || !crm.LastSeen.Equal(seen) {
		t.Errorf("crm = %d rows, last seen %v; want 3 rows, last seen %v", crm.Rows, crm.LastSeen, seen)
	}
	if _, err := r.Source(ctx, "nope"); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("Source(nope) = %v; want fault.ErrNotFound", err)
	}
}

// TestThrottledFlush checks that a throttled observer writes only once
// enough rows are pending or the oldest is old enough, and then writes
// everything observed.
func TestThrottledFlush(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	st := openStore(t)
	now := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	o, err := catalog.NewObserver(cfg.Sources, cfg.Identifiers, st, catalog.ObserverOptions{Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	th := catalog.Throttled(o, 10, time.Minute)
	r, err := catalog.NewReader(cfg.Sources, cfg.Identifiers, st)
	if err != nil {
		t.Fatal(err)
	}
	rows := func() int64 {
		sc, err := r.Source(ctx, "crm")
		if err != nil {
			t.Fatalf("Source(crm) = %v", err)
		}
		return sc.Rows
	}
	crm, _ := cfg.Source("crm")
	m, err := mapping.New(crm, cfg.Identifiers)
	if err != nil {
		t.Fatal(err)
	}
	observe := func(from, to int) {
		for i := from; i < to; i++ {
			row := crmRow(i)
			rec, errs := m.Map(row)
			th.Observe("crm", row, rec, errs)
		}
	}
	steps := []struct {
		name     string
		from, to int
		advance  time.Duration
		want     int64
	}{
		{"below the row threshold", 1, 6, 0, 0},
		{"still young", 6, 9, 30 * time.Second, 0},
		{"old enough", 9, 10, 31 * time.Second, 9},
		{"ten rows at once", 10, 20, 0, 19},
		{"nothing pending", 20, 20, time.Hour, 19},
	}
	for _, s := range steps {
		observe(s.from, s.to)
		now = now.Add(s.advance)
		if err := th.Flush(ctx); err != nil {
			t.Fatalf("%s: Flush = %v", s.name, err)
		}
		if got := rows(); got != s.want {
			t.Errorf("%s: catalogued rows = %d; want %d", s.name, got, s.want)
		}
	}
}

// FlushPending writes rows a throttled observer holds back, however few:
// a process flushing it on a timer lags by no more than the timer.
func TestThrottledFlushPending(t *testing.T) {
	cfg := testConfig(t)
	st := openStore(t)
	obs, err := catalog.NewObserver(cfg.Sources, cfg.Identifiers, st, catalog.ObserverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	th := catalog.Throttled(obs, 1000, time.Hour)
	src, _ := cfg.Source("crm")
	m, err := mapping.New(src, cfg.Identifiers)
	if err != nil {
		t.Fatal(err)
	}
	rec, errs := m.Map(crmRow(1))
	th.Observe("crm", crmRow(1), rec, errs)
	ctx := context.Background()
	if err := th.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rd, err := catalog.NewReader(cfg.Sources, cfg.Identifiers, st)
	if err != nil {
		t.Fatal(err)
	}
	rows := func() int64 {
		s, err := rd.Source(ctx, "crm")
		if err != nil {
			t.Fatal(err)
		}
		return s.Rows
	}
	if n := rows(); n != 0 {
		t.Fatalf("after Flush below the thresholds, rows = %d; want 0 (held back)", n)
	}
	if err := th.FlushPending(ctx); err != nil {
		t.Fatal(err)
	}
	if n := rows(); n != 1 {
		t.Errorf("after FlushPending, rows = %d; want 1", n)
	}
	if err := th.FlushPending(ctx); err != nil || rows() != 1 {
		t.Errorf("a second FlushPending with nothing pending = %v, rows %d; want nil, 1", err, rows())
	}
}
