package file_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/source/file"
)

func TestLoadCSVLosesNoRowToBadInput(t *testing.T) {
	e := newEnv(t)
	key := "sources/crm/broken.csv"
	in := "id,email,city,born\n" +
		"C1,ann@example.com,\"Leeds,\n" + // line 2: unterminated quote
		"C2,bob@example.com,York,\n" +
		"C3,carl@example.com,Bath,\n" +
		"id,email,city,born\n" + // line 5: a second file's header
		"C4,dora@example.com,Rome,\n"
	e.put(t, key, in)
	rep, err := e.loader(t).Load(context.Background(), key)
	if err != nil {
		t.Fatalf("Load error = %v", err)
	}
	if rep.Rows != 5 || rep.Accepted != 3 || rep.Rejected != 2 || rep.Error != "" {
		t.Errorf("report rows, accepted, rejected, error = %d, %d, %d, %q; want 5, 3, 2, none (every data line counted)",
			rep.Rows, rep.Accepted, rep.Rejected, rep.Error)
	}
	var ids []string
	for _, r := range e.pipe.recs {
		ids = append(ids, r.Identifiers[0].Value)
	}
	if strings.Join(ids, " ") != "C2 C3 C4" {
		t.Errorf("loaded customer ids = %v; want C2 C3 C4", ids)
	}
	rej := e.rejects(t, key)
	want := []struct {
		line   int
		reason string
		raw    string
	}{
		{2, "unterminated quote", "C1,ann@example.com,\"Leeds,"},
		{5, "repeated header", "id,email,city,born"},
	}
	if len(rej) != len(want) {
		t.Fatalf("rejected = %+v; want %d entries", rej, len(want))
	}
	for i, w := range want {
		r := rej[i]
		if r.Line != w.line || len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Reason, w.reason) || r.Row != w.raw {
			t.Errorf("rejected[%d] = %+v; want line %d, reason %q, row %q (the raw line)", i, r, w.line, w.reason, w.raw)
		}
	}
}

func TestLoadRejectedRowWithInvalidUTF8KeepsItsBytes(t *testing.T) {
	e := newEnv(t)
	key := "sources/crm/latin1.csv"
	e.put(t, key, "id,email,city,born\nC1,K\xf6ln\n")
	if _, err := e.loader(t).Load(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	b := string(e.read(t, file.RejectedKey(key)))
	// base64 of "C1,K\xf6ln"
	if !strings.Contains(b, `"row_base64":"QzEsS/Zsbg=="`) {
		t.Errorf("rejected file = %s; want the row's exact bytes in row_base64", b)
	}
}

// contactsSources is a file source with a record id and no observed_at.
var contactsSources = []config.Source{{
	Name: "contacts", Kind: config.KindFile, Format: config.FormatCSV,
	Mapping: config.Mapping{
		RecordID:    &config.Field{Field: "id"},
		Identifiers: []config.IdentifierField{{Type: "email", Field: config.Field{Field: "email"}}},
		Attributes:  map[string]config.Field{"city": {Field: "city"}},
	},
}}

func TestSameBytesUnderANewNameAreDuplicates(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	st, err := embedded.Open(filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	idents := testConfig().Identifiers
	pipe := pipeline.New(pipeline.Config{Identifiers: idents, Sources: contactsSources}, st,
		pipeline.Options{Clock: func() time.Time { return received }})
	l, err := file.NewLoader(contactsSources, idents, e.store, pipe, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	const content = "id,email,city\nK1,ann@example.com,Leeds\nK2,bob@example.com,York\n"
	for i, name := range []string{"monday.csv", "tuesday.csv"} {
		key := "sources/contacts/" + name
		e.put(t, key, content)
		// The copy arrives a day later, as a re-export would.
		at := modified.Add(time.Duration(i) * 24 * time.Hour)
		if err := os.Chtimes(filepath.Join(e.store.Path(), filepath.FromSlash(key)), at, at); err != nil {
			t.Fatal(err)
		}
		before := profileUpdates(t, st)
		rep, err := l.Load(ctx, key)
		if err != nil {
			t.Fatalf("Load(%s) error = %v", key, err)
		}
		updates := profileUpdates(t, st) - before
		switch i {
		case 0:
			if rep.Accepted != 2 || rep.Duplicates != 0 || updates != 2 {
				t.Errorf("first load: accepted, duplicates, ProfileUpdated = %d, %d, %d; want 2, 0, 2", rep.Accepted, rep.Duplicates, updates)
			}
		case 1:
			if rep.Accepted != 2 || rep.Duplicates != 2 || updates != 0 {
				t.Errorf("same bytes under a new name: accepted, duplicates, ProfileUpdated = %d, %d, %d; want 2, 2 (all duplicates), 0",
					rep.Accepted, rep.Duplicates, updates)
			}
		}
	}
	// The object's time still serves survivorship: the pipeline took it
	// as the observed time of the rows without one.
	r, _, err := st.Record(ctx, "contacts", "K1")
	if err != nil || !r.ObservedAt.Equal(modified) {
		t.Errorf("stored record K1 ObservedAt = %v (err %v); want %v (the first object's time)", r.ObservedAt, err, modified)
	}
}

// profileUpdates counts the ProfileUpdated events in st's outbox.
func profileUpdates(t *testing.T, st interface {
	Outbox(ctx context.Context, limit int) ([]events.Envelope, error)
}) int {
	t.Helper()
	out, err := st.Outbox(context.Background(), 10000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range out {
		if ev.DetailType == events.TypeProfileUpdated {
			n++
		}
	}
	return n
}
