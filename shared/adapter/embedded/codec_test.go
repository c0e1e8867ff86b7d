package embedded

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/model/profile"
)

func TestPackID(t *testing.T) {
	tests := []struct {
		name, id string
		want     int // stored length
	}{
		{"aurum id", "p_0123456789abcdef01234567", 13},
		{"upper-case hex", "p_0123456789ABCDEF01234567", 26},
		{"short", "p_0123", 6},
		{"long", "p_0123456789abcdef012345678", 27},
		{"other", "legacy-id", 9},
		{"starts with the packed tag", "\xff" + strings.Repeat("a", 12), 14},
		{"starts with the escape", "\xfeabc", 5},
		{"empty", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := packID(tt.id)
			if len(b) != tt.want {
				t.Errorf("len(packID(%q)) = %d; want %d", tt.id, len(b), tt.want)
			}
			if got := unpackID(b); got != tt.id {
				t.Errorf("unpackID(packID(%q)) = %q; want it back", tt.id, got)
			}
		})
	}
}

// TestPackIDKeepsOrder: packed "p_" ids sort as the ids do.
func TestPackIDKeepsOrder(t *testing.T) {
	ids := []string{"p_000000000000000000000000", "p_00000000000000000000000f", "p_0000000000000000000000a0", "p_f00000000000000000000000"}
	for i := 1; i < len(ids); i++ {
		if bytes.Compare(packID(ids[i-1]), packID(ids[i])) >= 0 {
			t.Errorf("packID(%q) >= packID(%q); want the order of the ids", ids[i-1], ids[i])
		}
	}
}

// noise returns n pseudo-random bytes.
func noise(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestBlob(t *testing.T) {
	profile := []byte(`{"id":"p_0123456789abcdef01234567","version":3,"attributes":{"first_name":{"value":"Ann","source":"crm","record_id":"C1","observed_at":"2024-06-01T11:00:00Z"},"last_name":{"value":"Lee","source":"crm","record_id":"C1","observed_at":"2024-06-01T11:00:00Z"}}}`)
	tests := []struct {
		name    string
		payload []byte
		tag     byte
	}{
		{"empty", nil, blobRaw},
		{"short", []byte(`{}`), blobRaw},
		{"incompressible", noise(100), blobRaw},
		{"profile JSON", profile, blobDeflate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := blob(tt.payload)
			if b[0] != tt.tag {
				t.Errorf("blob(%d bytes) has tag %d; want %d", len(tt.payload), b[0], tt.tag)
			}
			if tt.tag == blobDeflate && len(b) >= len(tt.payload)/2 {
				t.Errorf("blob(%d bytes of JSON) = %d bytes; want less than half", len(tt.payload), len(b))
			}
			got, err := readBlob(b)
			if err != nil || !bytes.Equal(got, tt.payload) {
				t.Errorf("readBlob(blob(%q)) = %q, %v; want it back", tt.payload, got, err)
			}
		})
	}
}

// TestBlobIsPlainDeflate checks the file format does not depend on the
// encoder: a deflated blob inflates with the standard library's RFC 1951
// reader and the preset dictionary alone.
func TestBlobIsPlainDeflate(t *testing.T) {
	payload := bytes.Repeat([]byte(`{"type":"track","name":"Product Viewed","properties":{"sku":"SKU-1"}}`), 8)
	b := blob(payload)
	if b[0] != blobDeflate {
		t.Fatalf("blob(%d bytes) has tag %d; want %d", len(payload), b[0], blobDeflate)
	}
	var got bytes.Buffer
	if _, err := got.ReadFrom(flate.NewReaderDict(bytes.NewReader(b[1:]), dictionary)); err != nil || !bytes.Equal(got.Bytes(), payload) {
		t.Errorf("compress/flate inflates blob(%q) to %q, %v; want it back", payload, got.Bytes(), err)
	}
}

func TestReadBlobRejectsCorrupt(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"unknown tag", []byte{7, 'x'}},
		{"truncated deflate", blob(bytes.Repeat([]byte(`{"source":"crm"}`), 8))[:6]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := readBlob(tt.b); err == nil {
				t.Errorf("readBlob(%x) = %q, nil; want an error", tt.b, got)
			}
		})
	}
}

func TestIdentifierKey(t *testing.T) {
	tests := []struct {
		name string
		id   profile.Identifier
		want int // stored length
	}{
		{"common type", profile.Identifier{Type: "email", Value: "ann@example.com"}, 16},
		{"other type", profile.Identifier{Type: "crm_ref", Value: "R1"}, 10},
		{"type starting like a code", profile.Identifier{Type: "\x01x", Value: "v"}, 5},
		{"type starting with the escape", profile.Identifier{Type: "\xfex", Value: "v"}, 5},
		{"value holding NUL", profile.Identifier{Type: "phone", Value: "a\x00b"}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := identifierKey(tt.id)
			if len(k) != tt.want {
				t.Errorf("len(identifierKey(%q)) = %d; want %d", tt.id, len(k), tt.want)
			}
			if got, err := splitIdentifierKey(k); err != nil || got != tt.id {
				t.Errorf("splitIdentifierKey(identifierKey(%q)) = %q, %v; want it back", tt.id, got, err)
			}
		})
	}
}

func TestItemKey(t *testing.T) {
	packed := "p_00000000000000000000ff00" // its packed form holds NUL bytes
	tests := []struct{ kind, key, sort string }{
		{"id.rec", "p_0123456789abcdef01234567", "crm/C1"},
		{"id.rec", packed, ""},
		{"seg.member", "all", "p_0123456789abcdef01234567"},
		{"k", "\xffraw", "s"},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.key, func(t *testing.T) {
			k := itemKey(tt.kind, tt.key, tt.sort)
			kind, key, sort, err := splitItemKey(k)
			if err != nil || kind != tt.kind || key != tt.key || sort != tt.sort {
				t.Errorf("splitItemKey(itemKey(%q, %q, %q)) = %q, %q, %q, %v; want them back", tt.kind, tt.key, tt.sort, kind, key, sort, err)
			}
			if !bytes.HasPrefix(k, itemPrefix(tt.kind, tt.key)) {
				t.Errorf("itemKey(%q, %q, %q) does not start with itemPrefix", tt.kind, tt.key, tt.sort)
			}
		})
	}
	// No other (kind, key) shares a prefix: Items reads exactly one run.
	if bytes.HasPrefix(itemKey("id.rec", packed+"0", "x"), itemPrefix("id.rec", packed)) {
		t.Errorf("itemKey of a longer key starts with itemPrefix(%q); want distinct runs", packed)
	}
}

// TestDictionaryIsFrozen: stored values inflate only with the exact
// dictionary they were deflated with, so it must never change (a new one
// needs a new blob tag). This pins its bytes.
func TestDictionaryIsFrozen(t *testing.T) {
	const want = "a62ecdb8d031afe9dd0652aed9002f99854e460da8cc2246a8776d8e0308ad96"
	if got := fmt.Sprintf("%x", sha256.Sum256(dictionary)); got != want {
		t.Errorf("sha256(dictionary) = %s; want %s: the dictionary of format 1 changed", got, want)
	}
}
