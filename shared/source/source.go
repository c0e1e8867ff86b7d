// Package source is where customer data enters Aurum. A source is one entry
// of aurum.yaml's sources: rows arrive from it, its declarative mapping
// (package mapping) turns each row into a record, and the pipeline
// resolves and commits the records.
//
// Push sources deliver on their own and live in the subpackages: file
// (S3 drops and local mode's drop folder), inbound (signed SaaS webhooks)
// and busevent (EventBridge events); the tracking API is in package api.
//
// Pull sources are read by Aurum on a schedule. A pull connector
// implements Source: given the checkpoint it returned last time, it reads
// the next batch of rows. Connector kinds are registered by name in a
// Registry, filled in the one wiring place (shared/wire/app); package
// source/pull runs them: checkpoints, mapping, ingestion, rejects.
package source

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// Row is one input row of a pull source: column or field names to values
// (strings, numbers, booleans, nil, nested maps and slices, time.Time).
// The source's mapping reads it like a JSON object: dotted paths reach
// into nested maps.
type Row = map[string]any

// Batch is what one Read returns.
type Batch struct {
	// Rows are the rows after the checkpoint Read was given, in the
	// source's order, at most the limit asked for.
	Rows []Row
	// Checkpoint is the position after the last row: the next Read starts
	// from it. It is opaque to Aurum (a cursor, an updated_at and key, a
	// page token) and at most 16 KiB. With no rows it may stay the
	// checkpoint given.
	Checkpoint string
	// More says that further rows are waiting: the runner reads again at
	// once (within its bounds) instead of waiting for the schedule.
	More bool
}

// Source is a pull connector: one configured pull source, bound to its
// system (a database table, a SaaS API).
//
// Read returns the rows that follow checkpoint ("" means from the
// beginning), at most limit of them, and the checkpoint after them. Read
// may be called again with the same checkpoint (delivery is at least
// once: a run that failed after ingesting is retried from the last
// committed checkpoint) and must then return the same rows or rows that
// supersede them. Each row must carry the field the source's mapping
// names as record_id. A failure is an error; wrap transient ones with
// fault.ErrRetryable where the kind is known. Read is never called
// concurrently for one source.
//
// A connector that holds resources (connections, clients) also implements
// io.Closer; whoever built it closes it.
type Source interface {
	Read(ctx context.Context, checkpoint string, limit int) (Batch, error)
}

// MaxCheckpoint bounds Batch.Checkpoint, which is stored in one item.
const MaxCheckpoint = 16 << 10

// Secrets resolves the secret references of a connector's options
// ({env|ssm|secrets_manager: ...}); *secrets.Resolver does. It is nil
// where no resolver is wired.
type Secrets interface {
	Resolve(ctx context.Context, ref config.SecretRef) (string, error)
}

// Constructor builds the connector of one pull source from the source's
// pull block (its options decoded with DecodeOptions) and a secret
// resolver. It checks the options and must not do I/O: sources are built
// at start-up (an error stops the process) and, in AWS, on every tick of
// the scheduler. Resolve secrets and connect on the first Read.
type Constructor func(p config.Pull, secrets Secrets) (Source, error)

// Registry maps connector kinds (pull.connector in aurum.yaml) to their
// constructors. It is safe for concurrent use.
type Registry struct {
	mu    sync.RWMutex
	kinds map[string]Constructor
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{kinds: make(map[string]Constructor)}
}

// Register adds a connector kind. The kind must be a valid
// pull.connector value and not yet registered.
func (r *Registry) Register(kind string, c Constructor) error {
	if c == nil || !validKind(kind) {
		return fmt.Errorf("source: register connector %q: %w", kind, fault.Invalidf("a kind matching ^[a-z][a-z0-9_-]*$ and a constructor"))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.kinds[kind]; dup {
		return fmt.Errorf("source: register connector %q: %w", kind, fault.ErrConflict)
	}
	r.kinds[kind] = c
	return nil
}

// MustRegister is Register for wiring code: it panics on an error.
func (r *Registry) MustRegister(kind string, c Constructor) {
	if err := r.Register(kind, c); err != nil {
		panic(err)
	}
}

// Kinds returns the registered kinds, sorted.
func (r *Registry) Kinds() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	kinds := make([]string, 0, len(r.kinds))
	for k := range r.kinds {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return kinds
}

// New builds the connector of the pull source src. A source that is not
// of kind pull, and a connector kind that is not registered, are
// fault.ErrInvalid errors naming the source.
func (r *Registry) New(src *config.Source, secrets Secrets) (Source, error) {
	if src.Kind != config.KindPull || src.Pull == nil {
		return nil, fmt.Errorf("source %s: %w", src.Name, fault.Invalidf("not a pull source"))
	}
	r.mu.RLock()
	c, ok := r.kinds[src.Pull.Connector]
	r.mu.RUnlock()
	if !ok {
		known := "none"
		if k := r.Kinds(); len(k) > 0 {
			known = strings.Join(k, ", ")
		}
		return nil, fmt.Errorf("source %s: %w", src.Name,
			fault.Invalidf("pull.connector %q is not a registered connector kind (registered: %s)", src.Pull.Connector, known))
	}
	s, err := c(*src.Pull, secrets)
	if err != nil {
		return nil, fmt.Errorf("source %s: connector %s: %w", src.Name, src.Pull.Connector, err)
	}
	if s == nil {
		return nil, fmt.Errorf("source %s: connector %s: %w", src.Name, src.Pull.Connector, fault.Invalidf("constructor returned no source"))
	}
	return s, nil
}

func validKind(k string) bool {
	if k == "" || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// DecodeOptions decodes a pull source's options into the connector's
// options struct (json tags name the keys), strictly: an unknown key or a
// value of the wrong type is a fault.ErrInvalid error. A secret reference
// decodes into a config.SecretRef field.
func DecodeOptions(opts map[string]any, into any) error {
	b, err := json.Marshal(opts)
	if err != nil {
		return fmt.Errorf("options: %w", fault.Invalidf("%v", err))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("options: %w", fault.Invalidf("%s: expected %s, got %s", te.Field, te.Type, te.Value))
		}
		return fmt.Errorf("options: %w", fault.Invalidf("%s", strings.TrimPrefix(err.Error(), "json: ")))
	}
	return nil
}

// ResolveSecret returns the value of a secret reference of the options.
// An empty reference, and a nil resolver, are fault.ErrInvalid errors.
func ResolveSecret(ctx context.Context, secrets Secrets, ref config.SecretRef) (string, error) {
	if ref == (config.SecretRef{}) {
		return "", fault.Invalidf("no secret reference")
	}
	if secrets == nil {
		return "", fault.Invalidf("no secret resolver is wired")
	}
	v, err := secrets.Resolve(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("resolve secret: %w", err)
	}
	return v, nil
}
