package dynamo

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// TestBodyDictionaryFrozen pins the preset dictionary of encoding z1:
// every z1 body on a table needs these exact bytes to be read. A better
// dictionary is a new encoding beside it, never an edit.
func TestBodyDictionaryFrozen(t *testing.T) {
	const want = "04bfbb7d459162b084e76f9bede441e6d6c646b0f76d00b6b455c3435e3a6493"
	h := sha256.Sum256([]byte(bodyDict1))
	if got := hex.EncodeToString(h[:]); got != want {
		t.Errorf("sha256(bodyDict1) = %s; want %s (z1 bodies already written would no longer decode)", got, want)
	}
}

// sampleProfile is a profile holding n recent tracked events.
func sampleProfile(n int) profile.Profile {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	p := profile.Profile{ID: "p_6b24c4a390c38455d46c6c8c", Version: int64(n), RecordCount: n, EventCount: n,
		Identifiers: []profile.Identifier{{Type: "anonymous_id", Value: "a-7f3e"}, {Type: "email", Value: "ada@example.com"}},
		Attributes:  map[string]profile.Attribute{"first_name": {Value: "Ada", Source: "crm", RecordID: "C1", ObservedAt: at}},
		Sources:     map[string]int{"web-api": n}, CreatedAt: at, UpdatedAt: at.Add(time.Hour),
		Folded: map[string]string{"p_6b24c4a390c38455d46c6c8c": "000000000000000000386"}}
	for i := range n {
		p.RecentEvents = append(p.RecentEvents, profile.Event{ID: fmt.Sprint("m-", i), Source: "web-api", Type: "track",
			Name: "Product Viewed", Timestamp: at.Add(time.Duration(i) * time.Minute),
			Properties: map[string]any{"product_id": fmt.Sprint("SKU-", i), "revenue": 19.99}})
	}
	return p
}

// bodyItem is an item whose body is b in encoding enc.
func bodyItem(b []byte, enc string) item {
	it := item{attrBody: bin(b)}
	if enc != "" {
		it[attrEnc] = str(enc)
	}
	return it
}

func deflated(t *testing.T, b, dict []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriterDict(&buf, flate.BestSpeed, dict)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDecodeBodyEncodings decodes a profile body in every encoding ever
// written: plain JSON, DEFLATE (the items written before z1) and z1.
func TestDecodeBodyEncodings(t *testing.T) {
	want := sampleProfile(3)
	raw, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	enc, encName, err := encodeBody(want)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		it   item
	}{
		{"plain", bodyItem(raw, "")},
		{"plain string", item{attrBody: str(string(raw))}},
		{"deflate", bodyItem(deflated(t, raw, nil), "deflate")},
		{"z1", bodyItem(enc, encName)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got profile.Profile
			if err := decodeBody(tc.it, &got); err != nil {
				t.Fatalf("decodeBody = %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decodeBody = %+v; want %+v", got, want)
			}
		})
	}
	for _, tc := range []struct {
		name string
		it   item
	}{
		{"unknown encoding", bodyItem(raw, "zstd")},
		{"z1 read without its dictionary", bodyItem(enc, "deflate")},
		{"no body", item{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got profile.Profile
			if err := decodeBody(tc.it, &got); err == nil {
				t.Errorf("decodeBody = nil; want an error")
			}
		})
	}
}

// TestEncodeBody checks the encoding chosen and what it saves: bodies
// below compressFrom stay plain, others are z1 and smaller than DEFLATE
// without a dictionary; the profile of a fold with 50 recent events and
// its embedded ProfileUpdated (about 340 bytes) stays within one write
// unit.
func TestEncodeBody(t *testing.T) {
	for _, tc := range []struct {
		name    string
		v       any
		wantEnc string
		maxSize int
	}{
		{"tiny", map[string]int{"a": 1}, "", 64},
		{"young profile", sampleProfile(2), encDict1, 300},
		{"profile with 50 recent events", sampleProfile(profile.MaxRecentEvents), encDict1, 1024 - 340 - 80},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, enc, err := encodeBody(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(tc.v)
			if enc != tc.wantEnc || len(b) > tc.maxSize {
				t.Errorf("encodeBody(%d bytes of JSON) = %d bytes, %q; want at most %d, %q", len(raw), len(b), enc, tc.maxSize, tc.wantEnc)
			}
			if enc != "" {
				if old := deflated(t, raw, nil); len(b) >= len(old) {
					t.Errorf("z1 body of %d bytes; want it smaller than DEFLATE's %d", len(b), len(old))
				}
			}
			var back any = reflect.New(reflect.TypeOf(tc.v)).Interface()
			if err := decodeBody(bodyItem(b, enc), back); err != nil {
				t.Fatalf("decodeBody(encodeBody) = %v", err)
			}
			if got := reflect.ValueOf(back).Elem().Interface(); !reflect.DeepEqual(got, tc.v) {
				t.Errorf("decodeBody(encodeBody(v)) = %+v; want %+v", got, tc.v)
			}
		})
	}
}
