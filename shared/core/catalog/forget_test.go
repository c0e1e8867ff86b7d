package catalog_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/core/catalog"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

func TestRecordRef(t *testing.T) {
	a, b := catalog.RecordRef("crm/C1"), catalog.RecordRef("crm/C2")
	if a == b || a != catalog.RecordRef("crm/C1") {
		t.Errorf("RecordRef(crm/C1) = %q, RecordRef(crm/C2) = %q; want stable and distinct", a, b)
	}
	if strings.Contains(a, "C1") || len(a) > 16 {
		t.Errorf("RecordRef(crm/C1) = %q; want a short hash that does not contain the id", a)
	}
}

// TestForget catalogues a person's two records among others' and checks
// that Forget removes exactly what only the person contributed.
func TestForget(t *testing.T) {
	cfg := testConfig(t)
	st := openStore(t)
	ctx := t.Context()
	o, err := catalog.NewObserver(cfg.Sources, cfg.Identifiers, st, catalog.ObserverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	row := func(id, email, first, country string) map[string]any {
		return map[string]any{"id": id, "email": email, "first": first, "country": country, "phone": "", "born": ""}
	}
	observeRows(t, o, cfg, "crm", []map[string]any{
		row("C1", "ann.q@gmail.com", "Annabelle", "DK"), // the person
		row("C2", "ann.q@gmail.com", "Annabelle", "DK"), // the person again
		row("C3", "bob@yahoo.com", "Bob", "DK"),
		row("C4", "cyd@outlook.com", "Cyd", "FR"),
		row("C5", "bob@yahoo.com", "Bob", "FR"),
	})
	if err := o.Flush(ctx); err != nil {
		t.Fatalf("Flush() = %v", err)
	}
	// A field catalogued before records were remembered: its personal
	// samples and top values have no provenance.
	legacy := `{"seen":1,"present":1,"types":{"string":1},"samples":["J***"],"top":[{"key":"k","value":"J***","count":1}],"pii":true}`
	if err := st.Commit(ctx, store.Change{Items: []store.ItemWrite{{Op: store.ItemPut,
		Item: store.Item{Kind: catalog.KindField, Key: "crm", Sort: "nickname", Value: []byte(legacy)}}}}); err != nil {
		t.Fatal(err)
	}
	rd, err := catalog.NewReader(cfg.Sources, cfg.Identifiers, st)
	if err != nil {
		t.Fatal(err)
	}
	before, err := rd.Source(ctx, "crm")
	if err != nil {
		t.Fatal(err)
	}
	annEmail, bobEmail := catalog.Mask("ann.q@gmail.com"), catalog.Mask("bob@yahoo.com")
	if !slices.Contains(field(t, before, "email").Samples, annEmail) || !slices.Contains(displays(identTop(before, "email")), annEmail) {
		t.Fatalf("before Forget the catalog does not show %s; the test proves nothing", annEmail)
	}

	n, err := catalog.Forget(ctx, st, []string{"crm/C1", "crm/C2", "shop/none", "malformed"})
	if err != nil {
		t.Fatalf("Forget() = %v", err)
	}
	if n == 0 {
		t.Errorf("Forget() removed 0 values; want some")
	}
	after, err := rd.Source(ctx, "crm")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		values   []string
		want     string
		wantHere bool
	}{
		{"the person's email sample", field(t, after, "email").Samples, annEmail, false},
		{"another's email sample", field(t, after, "email").Samples, bobEmail, true},
		{"the person's masked name in top values", displays(field(t, after, "first").Top), catalog.Mask("Annabelle"), false},
		{"another's masked name in top values", displays(field(t, after, "first").Top), catalog.Mask("Bob"), true},
		{"a value others contributed too", displays(field(t, after, "country").Top), "DK", true},
		{"a sample the person contributed first", field(t, after, "country").Samples, "DK", false},
		{"another's sample", field(t, after, "country").Samples, "FR", true},
		{"the person's identifier value", displays(identTop(after, "email")), annEmail, false},
		{"another's identifier value", displays(identTop(after, "email")), bobEmail, true},
		{"a personal sample of unknown provenance", field(t, after, "nickname").Samples, "J***", false},
		{"a personal top value of unknown provenance", displays(field(t, after, "nickname").Top), "J***", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := slices.Contains(tt.values, tt.want); got != tt.wantHere {
				t.Errorf("%q in %q = %v; want %v", tt.want, tt.values, got, tt.wantHere)
			}
		})
	}
	if b, _ := json.Marshal(after); strings.Contains(string(b), `"refs"`) {
		t.Errorf("Reader output holds record references: %s", b)
	}
	if f := field(t, after, "email"); f.Present != 5 {
		t.Errorf("email present after Forget = %d; want 5 (counts stay)", f.Present)
	}
	if n, err := catalog.Forget(ctx, st, []string{"crm/C1", "crm/C2"}); err != nil || n != 0 {
		t.Errorf("Forget() again = %d, %v; want 0, nil (idempotent)", n, err)
	}
}

func displays(c []catalog.Counted) []string {
	out := make([]string, len(c))
	for i := range c {
		out[i] = c[i].Display
	}
	return out
}

func identTop(sc catalog.SourceCatalog, typ string) []catalog.Counted {
	for _, h := range sc.Identifiers {
		if h.Type == typ {
			return h.Top
		}
	}
	return nil
}
