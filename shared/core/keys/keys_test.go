package keys_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/core/keys"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

func TestLifecycle(t *testing.T) {
	st, err := embedded.Open(filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := t.Context()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

	tok, k, err := keys.Create(ctx, st, keys.Spec{Name: "ops", Scopes: []string{keys.ScopeRead, keys.ScopeErase}}, now)
	if err != nil {
		t.Fatalf("Create() = %v", err)
	}
	if !strings.HasPrefix(tok, keys.Prefix+k.ID+"_") || k.Hash != keys.Hash(tok) || strings.Contains(k.Hash, tok) {
		t.Errorf("Create() = %q, %+v; want ak_<id>_<secret> stored as its hash", tok, k)
	}
	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"the key", tok, true},
		{"wrong secret", tok[:len(tok)-2] + "xx", false},
		{"not a stored key", "dev-read-key", false},
		{"unknown id", keys.Prefix + "000000000000_abc", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := keys.Lookup(ctx, st, tt.token)
			if err != nil || ok != tt.ok || (ok && got.ID != k.ID) {
				t.Errorf("Lookup(%q) = %v, %v, %v; want ok %v", tt.token, got.ID, ok, err, tt.ok)
			}
		})
	}
	got, _, _ := keys.Lookup(ctx, st, tok)
	for scope, want := range map[string]bool{keys.ScopeRead: true, keys.ScopeErase: true, keys.ScopeIngest: false, keys.ScopeAdmin: false} {
		if got.Allows(scope) != want {
			t.Errorf("Allows(%s) = %v; want %v", scope, !want, want)
		}
	}
	if _, err := keys.Revoke(ctx, st, k.ID, now.Add(time.Hour)); err != nil {
		t.Fatalf("Revoke() = %v", err)
	}
	if _, ok, _ := keys.Lookup(ctx, st, tok); ok {
		t.Errorf("Lookup(revoked key) ok = true; want false")
	}
	list, err := keys.List(ctx, st)
	if err != nil || len(list) != 1 || list[0].RevokedAt.IsZero() {
		t.Errorf("List() = %+v, %v; want the one key, revoked", list, err)
	}
	if _, err := keys.Revoke(ctx, st, "ffffffffffff", now); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("Revoke(unknown) = %v; want %v", err, fault.ErrNotFound)
	}
	for _, spec := range []keys.Spec{{}, {Scopes: []string{"write"}}, {Scopes: []string{keys.ScopeIngest}}} {
		if _, _, err := keys.Create(ctx, st, spec, now); !errors.Is(err, fault.ErrInvalid) {
			t.Errorf("Create(%+v) = %v; want %v", spec, err, fault.ErrInvalid)
		}
	}
}
