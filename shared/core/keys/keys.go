// Package keys manages Aurum's stored API keys: ingestion (write) keys
// and read, erase and admin keys with scopes, kept hashed in the store as
// generic items. `aurum keys create|list|revoke` manages them; the HTTP
// API checks them next to the keys aurum.yaml references.
//
// A key reads ak_<id>_<secret>: id (12 hex digits) names the key and is
// safe to show and log; secret (43 base64url characters, 256 bits) is
// shown once at creation. The store keeps the SHA-256 of the whole key,
// never the key:
//
//	auth.key  key "all"  sort <id>  value Key (JSON)
package keys

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Item coordinates of stored keys.
const (
	Kind   = "auth.key"
	allKey = "all"
)

// Prefix starts every stored key.
const Prefix = "ak_"

// Scopes.
const (
	// ScopeIngest sends data to an api source (tracking routes).
	ScopeIngest = "ingest"
	// ScopeRead reads profiles, segments, exports and provenance.
	ScopeRead = "read"
	// ScopeErase erases profiles (DELETE /v1/profiles/{id}).
	ScopeErase = "erase"
	// ScopeAdmin grants every scope.
	ScopeAdmin = "admin"
)

// Scopes lists the scopes in documentation order.
var Scopes = []string{ScopeIngest, ScopeRead, ScopeErase, ScopeAdmin}

// Key is a stored key without its secret.
type Key struct {
	ID     string   `json:"id"`
	Name   string   `json:"name,omitempty"`
	Scopes []string `json:"scopes"`
	// Source is the api source an ingest key sends to.
	Source string `json:"source,omitempty"`
	// Hash is the hex SHA-256 of the whole key.
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// Allows reports whether k grants scope.
func (k Key) Allows(scope string) bool {
	return k.RevokedAt.IsZero() && (slices.Contains(k.Scopes, scope) || slices.Contains(k.Scopes, ScopeAdmin))
}

// Store is the part of store.Store keys are kept in.
type Store interface {
	Item(ctx context.Context, kind, key, sort string) (store.Item, error)
	Items(ctx context.Context, kind, key, from, to string, limit int, cursor string) ([]store.Item, string, error)
	Commit(ctx context.Context, changes ...store.Change) error
}

// Spec describes a key to create.
type Spec struct {
	Name   string
	Scopes []string
	// Source is required with ScopeIngest (or admin keys used for
	// ingestion): the api source the key sends to.
	Source string
}

// Create stores a new key and returns it with its secret (the only time
// the secret exists outside the caller).
func Create(ctx context.Context, st Store, spec Spec, now time.Time) (string, Key, error) {
	if len(spec.Scopes) == 0 {
		return "", Key{}, fault.Invalidf("keys: at least one scope is needed (%s)", strings.Join(Scopes, ", "))
	}
	for _, s := range spec.Scopes {
		if !slices.Contains(Scopes, s) {
			return "", Key{}, fault.Invalidf("keys: unknown scope %q; expected %s", s, strings.Join(Scopes, ", "))
		}
	}
	if slices.Contains(spec.Scopes, ScopeIngest) && spec.Source == "" {
		return "", Key{}, fault.Invalidf("keys: an ingest key needs the api source it sends to")
	}
	var idb [6]byte
	var secret [32]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return "", Key{}, fmt.Errorf("keys: random id: %w", err)
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return "", Key{}, fmt.Errorf("keys: random secret: %w", err)
	}
	id := hex.EncodeToString(idb[:])
	token := Prefix + id + "_" + base64.RawURLEncoding.EncodeToString(secret[:])
	k := Key{ID: id, Name: spec.Name, Scopes: slices.Clone(spec.Scopes), Source: spec.Source, Hash: Hash(token), CreatedAt: now.UTC()}
	v, err := json.Marshal(k)
	if err != nil {
		return "", Key{}, fmt.Errorf("keys: encode: %w", err)
	}
	err = st.Commit(ctx, store.Change{Items: []store.ItemWrite{{Op: store.ItemCreate, Item: store.Item{Kind: Kind, Key: allKey, Sort: id, Value: v}}}})
	if err != nil {
		return "", Key{}, fmt.Errorf("keys: store key %s: %w", id, err)
	}
	return token, k, nil
}

// Hash returns the hex SHA-256 of a key.
func Hash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// ID returns the id part of a stored key's token, and whether token has
// the stored-key form.
func ID(token string) (string, bool) {
	rest, ok := strings.CutPrefix(token, Prefix)
	if !ok {
		return "", false
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 12 || secret == "" {
		return "", false
	}
	if _, err := hex.DecodeString(id); err != nil {
		return "", false
	}
	return id, true
}

// Lookup returns the stored key token is, if it is one and not revoked.
// ok is false for an unknown, malformed or revoked key; err is a store
// failure.
func Lookup(ctx context.Context, st Store, token string) (Key, bool, error) {
	id, ok := ID(token)
	if !ok {
		return Key{}, false, nil
	}
	it, err := st.Item(ctx, Kind, allKey, id)
	if errors.Is(err, fault.ErrNotFound) {
		return Key{}, false, nil
	}
	if err != nil {
		return Key{}, false, fmt.Errorf("keys: read key %s: %w", id, err)
	}
	var k Key
	if err := json.Unmarshal(it.Value, &k); err != nil {
		return Key{}, false, fmt.Errorf("keys: decode key %s: %w", id, err)
	}
	if subtle.ConstantTimeCompare([]byte(Hash(token)), []byte(k.Hash)) != 1 || !k.RevokedAt.IsZero() {
		return Key{}, false, nil
	}
	return k, true, nil
}

// List returns every stored key, revoked ones included, by id.
func List(ctx context.Context, st Store) ([]Key, error) {
	var out []Key
	cursor := ""
	for {
		its, next, err := st.Items(ctx, Kind, allKey, "", "", 500, cursor)
		if err != nil {
			return nil, fmt.Errorf("keys: list: %w", err)
		}
		for _, it := range its {
			var k Key
			if err := json.Unmarshal(it.Value, &k); err != nil {
				return nil, fmt.Errorf("keys: decode key %s: %w", it.Sort, err)
			}
			out = append(out, k)
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// Revoke marks key id revoked; it stays listed. An unknown id is
// fault.ErrNotFound; revoking twice is harmless.
func Revoke(ctx context.Context, st Store, id string, now time.Time) (Key, error) {
	it, err := st.Item(ctx, Kind, allKey, id)
	if err != nil {
		return Key{}, fmt.Errorf("keys: revoke %s: %w", id, err)
	}
	var k Key
	if err := json.Unmarshal(it.Value, &k); err != nil {
		return Key{}, fmt.Errorf("keys: decode key %s: %w", id, err)
	}
	if !k.RevokedAt.IsZero() {
		return k, nil
	}
	k.RevokedAt = now.UTC()
	v, err := json.Marshal(k)
	if err != nil {
		return Key{}, fmt.Errorf("keys: encode: %w", err)
	}
	err = st.Commit(ctx, store.Change{Items: []store.ItemWrite{{Op: store.ItemReplace, ExpectVersion: it.Version,
		Item: store.Item{Kind: Kind, Key: allKey, Sort: id, Value: v}}}})
	if err != nil {
		return Key{}, fmt.Errorf("keys: revoke %s: %w", id, err)
	}
	return k, nil
}
