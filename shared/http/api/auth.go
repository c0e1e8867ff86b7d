package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/keys"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// keyring holds the SHA-256 hashes of the keys that authenticate a class
// of requests (write keys per api source, or read keys). Presented keys are
// hashed and compared with crypto/subtle, so neither the comparison nor the
// memory holds a secret longer than the request does.
type keyring struct {
	resolver SecretResolver
	known    []keyEntry
	lazy     []lazyKey

	mu       sync.Mutex
	resolved map[int]lazyResult // index into lazy
}

type keyEntry struct {
	hash   [sha256.Size]byte
	source string
}

// lazyKey is a key kept in SSM or Secrets Manager, resolved on first use
// with the request's context.
type lazyKey struct {
	ref    config.SecretRef
	source string
}

type lazyResult struct {
	hash   [sha256.Size]byte
	usable bool
}

func newKeyring(r SecretResolver) *keyring {
	return &keyring{resolver: r, resolved: make(map[int]lazyResult)}
}

// add registers the key ref refers to, for source ("" for read keys).
// Environment variables are read now; SSM and Secrets Manager references
// wait for the first request.
func (k *keyring) add(ref config.SecretRef, source string) error {
	switch {
	case ref.SHA256 != "":
		b, err := hex.DecodeString(ref.SHA256)
		if err != nil || len(b) != sha256.Size {
			return fmt.Errorf("sha256: want 64 hex digits")
		}
		var e keyEntry
		copy(e.hash[:], b)
		e.source = source
		k.known = append(k.known, e)
	case ref.Env != "":
		v, ok := os.LookupEnv(ref.Env)
		if !ok || v == "" {
			return fmt.Errorf("environment variable %s is not set", ref.Env)
		}
		k.known = append(k.known, keyEntry{hash: sha256.Sum256([]byte(v)), source: source})
	case ref.SSM != "" || ref.SecretsManager != "":
		if k.resolver == nil {
			return fmt.Errorf("%s reference needs a secret resolver and none is configured", refKind(ref))
		}
		k.lazy = append(k.lazy, lazyKey{ref: ref, source: source})
	default:
		return fmt.Errorf("empty secret reference")
	}
	return nil
}

func refKind(ref config.SecretRef) string {
	switch {
	case ref.SHA256 != "":
		return "sha256"
	case ref.Env != "":
		return "env"
	case ref.SSM != "":
		return "ssm"
	case ref.SecretsManager != "":
		return "secrets_manager"
	}
	return "empty"
}

// checkUnique refuses one key serving two sources: the key decides the
// mapping, so it must name one source.
func (k *keyring) checkUnique() error {
	for i, a := range k.known {
		for _, b := range k.known[i+1:] {
			if a.hash == b.hash && a.source != b.source {
				return fmt.Errorf("sources %s and %s share a key", a.source, b.source)
			}
		}
	}
	return nil
}

// empty reports whether no key could ever match.
func (k *keyring) empty() bool { return len(k.known) == 0 && len(k.lazy) == 0 }

// match reports which source key belongs to. An error (of kind
// fault.ErrRetryable) means a key could not be resolved and none of the
// others matched: the caller should answer "retry", not "unauthorized".
func (k *keyring) match(ctx context.Context, key string) (source string, ok bool, err error) {
	if key == "" {
		return "", false, nil
	}
	h := sha256.Sum256([]byte(key))
	found := -1
	for i := range k.known {
		// Compare with every entry, so timing does not tell which matched.
		if subtle.ConstantTimeCompare(h[:], k.known[i].hash[:]) == 1 && found < 0 {
			found = i
		}
	}
	if found >= 0 {
		return k.known[found].source, true, nil
	}
	var firstErr error
	for i, lk := range k.lazy {
		res, err := k.resolve(ctx, i)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if res.usable && subtle.ConstantTimeCompare(h[:], res.hash[:]) == 1 {
			return lk.source, true, nil
		}
	}
	return "", false, firstErr
}

// resolve returns the hash of lazy key i, asking the resolver once. A
// missing secret is remembered as unusable; other failures are retried on
// the next request.
func (k *keyring) resolve(ctx context.Context, i int) (lazyResult, error) {
	k.mu.Lock()
	res, ok := k.resolved[i]
	k.mu.Unlock()
	if ok {
		return res, nil
	}
	ref := k.lazy[i].ref
	v, err := k.resolver.Resolve(ctx, ref)
	switch {
	case errors.Is(err, fault.ErrNotFound):
		res = lazyResult{}
	case err != nil:
		return lazyResult{}, fmt.Errorf("api: resolve %s key: %w: %v", refKind(ref), fault.ErrRetryable, err)
	case v == "":
		res = lazyResult{}
	default:
		res = lazyResult{hash: sha256.Sum256([]byte(v)), usable: true}
	}
	k.mu.Lock()
	k.resolved[i] = res
	k.mu.Unlock()
	return res, nil
}

// basicUser returns the username of an HTTP Basic Authorization header.
// Segment's write key is the username with an empty password; like
// Segment, a key encoded without the colon is accepted too.
func basicUser(r *http.Request) (string, bool) {
	if u, _, ok := r.BasicAuth(); ok {
		return u, true
	}
	scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", false
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil || len(b) == 0 {
		return "", false
	}
	return string(b), true
}

// bearer returns the token of a Bearer Authorization header.
func bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

func unauthorized(msg string) *apiError {
	return &apiError{kind: fault.ErrUnauthorized, code: "unauthorized", msg: msg}
}

// forbidden is the error of a known key without the needed scope.
func forbidden(scope string) *apiError {
	return &apiError{kind: fault.ErrForbidden, code: "forbidden", msg: "this key lacks the " + scope + " scope"}
}

// authorizeWrite returns the api source a write key belongs to. The key is
// the Basic username, or else bodyKey (the "writeKey" of the body). Keys
// of aurum.yaml name their source; stored keys need the ingest scope and
// name an api source. A read or admin key is 403.
func (a *API) authorizeWrite(ctx context.Context, r *http.Request, bodyKey string) (*apiSource, error) {
	key, ok := basicUser(r)
	if !ok {
		key = bodyKey
	}
	if key == "" {
		if _, ok := bearer(r); ok {
			// Segment's SDKs send the write key as the Basic username; a
			// Bearer token is an OAuth access token there, never the key.
			return nil, unauthorized("write key sent as a Bearer token: send it as the HTTP Basic username (empty password) or as writeKey in the body, not as a Bearer token")
		}
		return nil, unauthorized("missing write key: send it as the HTTP Basic username or as writeKey in the body")
	}
	name, ok, err := a.writeKeys.match(ctx, key)
	if err != nil {
		return nil, err
	}
	if ok {
		src := a.sources[name]
		if src == nil {
			return nil, unauthorized("unknown write key")
		}
		return src, a.limit("w:" + name + ":" + keyTag(key))
	}
	p, err := a.identify(ctx, key)
	if err != nil {
		return nil, err
	}
	switch {
	case p == nil:
		return nil, unauthorized("unknown write key")
	case !p.allows(keys.ScopeIngest):
		return nil, forbidden(keys.ScopeIngest)
	}
	src := a.sources[p.source]
	if src == nil {
		return nil, forbidden(keys.ScopeIngest + " (for an api source)")
	}
	return src, a.limit(p.id)
}

// principal is an authenticated key other than a write key of aurum.yaml.
type principal struct {
	// id names the key in rate limiting: never the key itself.
	id     string
	scopes []string
	source string
}

func (p *principal) allows(scope string) bool {
	return slices.Contains(p.scopes, scope) || slices.Contains(p.scopes, keys.ScopeAdmin)
}

// keyTag is a short, irreversible tag of a key for rate-limiter buckets.
func keyTag(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:6])
}

// identify finds which key a presented key is: a read or admin key of
// the options, a write key of aurum.yaml (scope ingest), or a stored key.
// It returns nil for an unknown key.
func (a *API) identify(ctx context.Context, key string) (*principal, error) {
	var firstErr error
	note := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
	}
	if _, ok, err := a.adminKeys.match(ctx, key); ok {
		return &principal{id: "a:" + keyTag(key), scopes: []string{keys.ScopeAdmin}}, nil
	} else if err != nil {
		note(err)
	}
	if _, ok, err := a.readKeys.match(ctx, key); ok {
		return &principal{id: "r:" + keyTag(key), scopes: []string{keys.ScopeRead}}, nil
	} else if err != nil {
		note(err)
	}
	if name, ok, err := a.writeKeys.match(ctx, key); ok {
		return &principal{id: "w:" + name + ":" + keyTag(key), scopes: []string{keys.ScopeIngest}, source: name}, nil
	} else if err != nil {
		note(err)
	}
	if a.deps.Keys != nil {
		k, ok, err := keys.Lookup(ctx, a.deps.Keys, key)
		switch {
		case err != nil:
			note(fmt.Errorf("api: look up key: %w", err))
		case ok:
			return &principal{id: "k:" + k.ID, scopes: k.Scopes, source: k.Source}, nil
		}
	}
	return nil, firstErr
}

// authorizeRead checks a key with the read scope.
func (a *API) authorizeRead(ctx context.Context, r *http.Request) error {
	return a.authorize(ctx, r, keys.ScopeRead)
}

// authorize checks the request's key (Bearer token or Basic username)
// for scope, then its rate limit. A write key never grants reads: it is
// 403. Without a key, a read is let through only when
// AllowUnauthenticatedReads is set, it comes straight from a loopback
// address and its Host names the loopback listen address (anything else,
// a DNS-rebinding page, is 403); erasure always needs a key.
func (a *API) authorize(ctx context.Context, r *http.Request, scope string) error {
	key, ok := bearer(r)
	if !ok {
		key, ok = basicUser(r)
	}
	if ok && key != "" {
		p, err := a.identify(ctx, key)
		if err != nil {
			return err
		}
		if p == nil {
			return unauthorized("unknown key")
		}
		if !p.allows(scope) {
			return forbidden(scope)
		}
		return a.limit(p.id)
	}
	if scope == keys.ScopeRead && a.opts.AllowUnauthenticatedReads && fromLoopback(r) {
		if !loopbackHost(r) {
			return errForeignHost
		}
		return nil
	}
	if scope == keys.ScopeRead && a.readKeys.empty() && a.adminKeys.empty() && a.deps.Keys == nil {
		return unauthorized("profile reads need a read key and none is configured")
	}
	return unauthorized("missing key: send it as a Bearer token")
}

// fromLoopback reports whether r comes from a loopback address and was not
// forwarded by a proxy.
func fromLoopback(r *http.Request) bool {
	if r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != "" {
		return false
	}
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
