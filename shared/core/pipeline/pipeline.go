// Package pipeline is Aurum's processing core: normalized records are
// resolved to profiles, folded into golden records and committed to the
// Store in one atomic change per record, together with the outbox events
// the change causes.
//
// The same pipeline runs in every Lambda function and in local mode. It is
// safe to run many pipelines against one store at once: every change is
// guarded by optimistic checks (profile versions, identifier claims,
// idempotency keys), and a conflicting batch is re-read and retried.
package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/golden"
	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/kit/retry"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Result summarizes one Ingest call. A record is Accepted by the one call
// whose commit wrote it (its idempotency key, or its appended event item)
// and a duplicate for every other, so concurrent deliveries of the same
// records sum to exactly one acceptance each.
type Result struct {
	// Accepted records were committed by this call.
	Accepted int `json:"accepted"`
	// Duplicates had been committed before (re-delivery) or by a
	// concurrent call that took their key first: nothing changed.
	Duplicates int `json:"duplicates"`
	// Created counts new profiles.
	Created int `json:"created"`
	// Merges counts profiles merged away into another.
	Merges int `json:"merges"`
	// Appended counts the accepted records that were appended as events
	// of known profiles (Options.Appender), to be folded in later.
	Appended int `json:"appended,omitempty"`
	// ProfileIDs holds, per input record in order, the profile it landed
	// in ("" for a duplicate).
	ProfileIDs []string `json:"-"`
	// stats sums the identity counters of the changes this call committed.
	stats map[string]int64
}

// Add accumulates another result.
func (r *Result) Add(o Result) {
	r.Accepted += o.Accepted
	r.Duplicates += o.Duplicates
	r.Created += o.Created
	r.Merges += o.Merges
	r.Appended += o.Appended
	r.ProfileIDs = append(r.ProfileIDs, o.ProfileIDs...)
}

// Ingester is what every ingestion path feeds.
type Ingester interface {
	Ingest(ctx context.Context, recs []profile.Record) (Result, error)
}

// Store is the part of store.Store the pipeline needs.
type Store interface {
	Owners(ctx context.Context, ids []profile.Identifier) (map[profile.Identifier]store.Owner, error)
	Profile(ctx context.Context, id string) (profile.Profile, error)
	Seen(ctx context.Context, keys []string) (map[string]bool, error)
	Commit(ctx context.Context, changes ...store.Change) error
	Items(ctx context.Context, kind, key, from, to string, limit int, cursor string) ([]store.Item, string, error)
}

// Options tune a Pipeline.
type Options struct {
	// Clock returns the current time; default time.Now.
	Clock func() time.Time
	// Logger receives counts and ids, never personal data.
	Logger *slog.Logger
	// MaxAttempts bounds the attempts of a conflicting fold or unmerge;
	// default 20.
	MaxAttempts int
	// MaxStalls bounds the attempts in a row of an Ingest call that fail
	// on a conflict (or a transient store failure) without completing any
	// record; default 100. Attempts that make progress do not count. Each
	// stall is a commit another writer won on the same profiles, so a hot
	// profile with many concurrent writers needs a generous bound.
	MaxStalls int
	// Extensions add to every profile change, in order, inside the same
	// atomic change set (segment membership, due times ...).
	Extensions []Extension
	// Identity is the compiled identity engine of the configuration,
	// when the caller already has one; nil compiles it from
	// Config.Identifiers and Config.Identity.
	Identity *identity.Engine
	// AtomicStats writes each record's identity counters in the record's
	// own change set, so a crash never separates a committed record from
	// its counts (and a reload, which finds the record a duplicate, cannot
	// repair them). It suits a store whose change set is one local write
	// transaction (the embedded store); in DynamoDB counter writes inside
	// every transaction cost write units, so counters are added once per
	// Ingest call after its changes, a crash between the two losing that
	// call's counts.
	AtomicStats bool
	// Appender, when set, takes the records of known profiles that carry
	// one event and nothing new (a tracked event): each is one appended
	// event item, folded into its profile later by Fold from the store's
	// change stream. Without it every record is committed with its
	// profile at once.
	Appender store.Appender
}

// Update describes one profile change to extensions.
type Update struct {
	// Before is the surviving profile as stored before the change; nil
	// when the change creates it.
	Before *profile.Profile
	// After is the profile about to be written. Extensions may change it
	// (for example its segment membership); Version is already set.
	After *profile.Profile
	// Merged are the profiles merged away into After by this change.
	Merged []profile.Profile
	// Record is the record that caused the change; zero for a fold.
	Record profile.Record
	// Folded are the appended records a fold applies (see Pipeline.Fold):
	// they have no record item and no idempotency key of their own.
	Folded []profile.Record
	// Now is the pipeline clock's time of the change.
	Now time.Time
}

// Extension adds to a profile's change set. Extend may modify u.After and
// append items and outbox events to ch; it must not remove anything.
type Extension interface {
	Extend(ctx context.Context, u *Update, ch *store.Change) error
}

// Pipeline resolves and commits records.
type Pipeline struct {
	st       Store
	resolver *identity.Engine
	// initErr is a configuration the identity engine could not compile;
	// Ingest returns it.
	initErr  error
	rules    golden.Rules
	clock    func() time.Time
	log      *slog.Logger
	attempts int
	stalls   int
	atomic   bool // Options.AtomicStats
	exts     []Extension
	app      store.Appender
	// byID marks message sources (api, webhook, bus), whose records are
	// de-duplicated on their id alone, like Segment's messageId.
	byID map[string]bool
}

// Config is the part of the configuration a Pipeline uses.
type Config struct {
	// Identifiers and Identity compile into the identity engine, unless
	// Options.Identity brings it compiled.
	Identifiers []config.IdentifierType
	Identity    config.Identity
	// Sources: records of message sources (api, webhook, bus) are
	// de-duplicated on their id, file rows on their content; survivorship
	// reads the sources' priorities and mapped attribute types.
	Sources []config.Source
	// Golden configures survivorship and aggregates.
	Golden config.Golden
}

// ConfigOf returns the parts of cfg a Pipeline uses.
func ConfigOf(cfg *config.Config) Config {
	return Config{Identifiers: cfg.Identifiers, Identity: cfg.Identity, Sources: cfg.Sources, Golden: cfg.Golden}
}

// New builds a pipeline over st for the configuration c.
func New(c Config, st Store, opts Options) *Pipeline {
	eng, err := opts.Identity, error(nil)
	if eng == nil {
		eng, err = identity.New(c.Identifiers, &c.Identity)
	}
	p := &Pipeline{
		st:       st,
		resolver: eng,
		initErr:  err,
		rules:    golden.NewRules(c.Golden, c.Sources),
		clock:    opts.Clock,
		log:      opts.Logger,
		attempts: opts.MaxAttempts,
		stalls:   opts.MaxStalls,
		atomic:   opts.AtomicStats,
		exts:     opts.Extensions,
		app:      opts.Appender,
	}
	p.byID = map[string]bool{}
	for _, s := range c.Sources {
		p.byID[s.Name] = s.KeyedByID()
	}
	if p.clock == nil {
		p.clock = time.Now
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.attempts <= 0 {
		p.attempts = 20
	}
	if p.stalls <= 0 {
		p.stalls = 100
	}
	return p
}

// Ingest resolves and commits recs in order. Records already committed
// (same source, id and content) are counted as duplicates and change
// nothing. On a conflict with a concurrent writer the remaining records are
// re-read and retried (see retry); a record whose key the other writer took
// is a duplicate then.
func (p *Pipeline) Ingest(ctx context.Context, recs []profile.Record) (Result, error) {
	if p.initErr != nil {
		return Result{}, fmt.Errorf("pipeline: %w", p.initErr)
	}
	recs = slices.Clone(recs) // defaults below must not touch the caller's records
	keys := make([]string, len(recs))
	for i, r := range recs {
		if r.Source == "" || r.ID == "" {
			return Result{}, fmt.Errorf("pipeline: record %d: %w", i, fault.Invalidf("record needs a source and an id"))
		}
		keys[i] = p.key(r)
		if recs[i].ObservedAt.IsZero() {
			recs[i].ObservedAt = r.ReceivedAt
		}
		if recs[i].ObservedAt.IsZero() {
			recs[i].ObservedAt = p.clock()
		}
	}
	var res Result
	res.ProfileIDs = make([]string, len(recs))
	res.stats = map[string]int64{}
	if len(recs) == 0 {
		return res, nil
	}
	defer p.flushStats(ctx, res.stats, keys[0])
	done := make([]bool, len(recs))
	err := p.retry(ctx, recs, keys, done, &res)
	return res, err
}

// Retry policy of Ingest: a conflicting or transiently failing attempt is
// retried after a full-jitter delay of at most retryCap, growing with the
// attempts in a row that made no progress. The cap stays short: a writer
// that keeps losing on a hot profile must not sleep while fresh writers
// win every round.
const (
	retryBase = time.Millisecond
	retryCap  = 20 * time.Millisecond
)

// retry runs attempts (try) until every record is done. An attempt that
// fails on a conflict (fault.ErrConflict: a concurrent writer changed what
// it read) or a transient failure (fault.ErrRetryable) is retried; only
// p.stalls attempts in a row that complete no record give up, with
// fault.ErrRetryable (never fault.ErrConflict: the records are valid). Each
// attempt that stalls was beaten by a commit of another writer on the same
// profiles, so a conflict storm on one hot profile ends as its writers
// finish, instead of failing a valid message.
func (p *Pipeline) retry(ctx context.Context, recs []profile.Record, keys []string, done []bool, res *Result) error {
	stalled := 0
	for attempt := 1; ; attempt++ {
		before := len(pendingOf(done))
		n, err := p.try(ctx, recs, keys, done, res)
		if err == nil {
			return nil
		}
		if len(pendingOf(done)) < before {
			stalled = 0
		} else {
			stalled++
		}
		if !retriable(err) {
			return fmt.Errorf("pipeline: ingest %d records (attempt %d): %w", len(recs), attempt, err)
		}
		if stalled >= p.stalls {
			// Contention, not a fault of the records: the caller may send
			// them again (they are idempotent), so it is told to retry
			// later (fault.ErrRetryable), never that its input conflicts.
			return fmt.Errorf("pipeline: ingest %d records: %d attempts in a row without progress: %w (last: %v)", len(recs), stalled, fault.ErrRetryable, err)
		}
		p.log.DebugContext(ctx, "pipeline conflict, retrying", "attempt", attempt, "pending", n, "stalled", stalled)
		if err := retry.Sleep(ctx, retry.Backoff(retryBase, retryCap, stalled+1)); err != nil {
			return fmt.Errorf("pipeline: ingest: %w", err)
		}
	}
}

// retriable reports whether an attempt that failed with err is worth
// another: a lost optimistic check or a transient store failure.
func retriable(err error) bool {
	return fault.Is(err, fault.ErrConflict) || fault.Is(err, fault.ErrRetryable)
}

// try processes the records not yet done: those that only add an event to
// a known profile are appended (appendKnown), the others committed with
// their profiles. It returns how many were pending.
func (p *Pipeline) try(ctx context.Context, recs []profile.Record, keys []string, done []bool, res *Result) (int, error) {
	if err := p.appendKnown(ctx, recs, done, res); err != nil {
		return len(pendingOf(done)), err
	}
	pending := pendingOf(done)
	if len(pending) == 0 {
		return 0, nil
	}
	pendingKeys := make([]string, len(pending))
	for j, i := range pending {
		pendingKeys[j] = keys[i]
	}
	seen, err := p.st.Seen(ctx, pendingKeys)
	if err != nil {
		return len(pending), fmt.Errorf("check idempotency keys: %w", err)
	}
	b, err := p.batch(ctx, recs, keys, pending, seen, done, res)
	if err != nil {
		return len(pending), err
	}
	return len(pending), p.commitBatch(ctx, b, done, res)
}

// pendingOf returns the indexes of the records not done.
func pendingOf(done []bool) []int {
	var pending []int
	for i, d := range done {
		if !d {
			pending = append(pending, i)
		}
	}
	return pending
}

// batch is the change sets of one attempt, with the index of each one's
// record and its outcome.
type batch struct {
	changes  []store.Change
	idx      []int
	outcomes []outcome
}

// batch builds the change sets of the pending records over one view, so
// each sees the changes before it. Records whose key was seen, or occurs
// earlier in the batch, are duplicates: done, changing nothing. Records
// the view shows known are appended instead (appendViewed).
func (p *Pipeline) batch(ctx context.Context, recs []profile.Record, keys []string, pending []int, seen map[string]bool, done []bool, res *Result) (batch, error) {
	v := newView(p.st, p.resolver.BlockLimit)
	var b batch
	inBatch := map[string]bool{}
	var fresh []int
	for _, i := range pending {
		if seen[keys[i]] || inBatch[keys[i]] {
			done[i] = true
			res.Duplicates++
			continue
		}
		inBatch[keys[i]] = true
		fresh = append(fresh, i)
	}
	fresh, err := p.appendViewed(ctx, v, recs, fresh, done, res)
	if err != nil {
		return batch{}, err
	}
	for _, i := range fresh {
		ch, out, err := p.change(ctx, v, recs[i], keys[i])
		if err != nil {
			return batch{}, fmt.Errorf("record %s: %w", recs[i].Key(), err)
		}
		if p.atomic {
			ch.Items = append(ch.Items, statItems(keys[i], nonZero(out.stats))...)
			out.stats = nil
		}
		b.changes = append(b.changes, ch)
		b.idx = append(b.idx, i)
		b.outcomes = append(b.outcomes, out)
	}
	return b, nil
}

// commitBatch commits the batch and accounts for the changes this commit
// wrote: the leading changes the store reports applied (store.Applied).
// A change that failed is not accepted even if its key is recorded now —
// a concurrent writer may have taken it first; the next attempt finds the
// key and counts the record as a duplicate.
func (p *Pipeline) commitBatch(ctx context.Context, b batch, done []bool, res *Result) error {
	if len(b.changes) == 0 {
		return nil
	}
	err := p.st.Commit(ctx, b.changes...)
	for j := range store.Applied(err, len(b.changes)) {
		p.account(res, b.idx[j], b.outcomes[j], done)
	}
	if err != nil && !fault.Is(err, fault.ErrConflict) {
		return fmt.Errorf("commit: %w", err)
	}
	return err
}

func (p *Pipeline) account(res *Result, i int, out outcome, done []bool) {
	for k, n := range out.stats {
		res.stats[k] += n
	}
	done[i] = true
	res.Accepted++
	res.ProfileIDs[i] = out.profileID
	if out.created {
		res.Created++
	}
	res.Merges += out.merged
}

type outcome struct {
	profileID string
	created   bool
	merged    int
	// stats are the identity counters the change adds; they are written
	// once the change has landed (see flushStats).
	stats map[string]int64
}

// older orders profiles by creation time, then id.
func older(a, b profile.Profile) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.Before(b.CreatedAt)
	}
	return a.ID < b.ID
}

// placeholders applies streaming placeholder detection to the record's
// links: a link through a quarantined value is dropped; otherwise the
// record's fingerprint is added to the value's state (written only when
// it changes), which may quarantine the value from this record on.
func (p *Pipeline) placeholders(ctx context.Context, v *view, rec profile.Record, links []identity.Link, ch *store.Change, stats map[string]int64) ([]identity.Link, error) {
	if !p.resolver.PlaceholderDetection() {
		return links, nil
	}
	out := make([]identity.Link, 0, len(links))
	for _, l := range links {
		k := identity.IdentifierKey(l.Identifier)
		e, err := v.fingerprints(ctx, k)
		if err != nil {
			return nil, err
		}
		if e.state.Quarantined {
			stats["blocked/"+identity.ProtectPlaceholder]++
			continue
		}
		next, changed := p.resolver.ObserveState(e.state, rec)
		if !changed {
			out = append(out, l)
			continue
		}
		val, err := json.Marshal(next)
		if err != nil {
			return nil, fmt.Errorf("encode placeholder state: %w", err)
		}
		w := store.ItemWrite{Op: store.ItemCreate, Item: store.Item{Kind: identity.ItemFingerprints, Key: k, Sort: identity.FingerprintSrt, Value: val}}
		if e.version > 0 {
			w.Op, w.ExpectVersion = store.ItemReplace, e.version
		}
		ch.Items = append(ch.Items, w)
		if !next.Quarantined {
			out = append(out, l)
			continue
		}
		q, err := json.Marshal(identity.Quarantine{Identifier: l.Identifier, Distinct: len(next.Reps)})
		if err != nil {
			return nil, fmt.Errorf("encode quarantine entry: %w", err)
		}
		ch.Items = append(ch.Items, store.ItemWrite{Op: store.ItemPut, Item: store.Item{Kind: identity.ItemQuarantine, Key: identity.QuarantineKey, Sort: k, Value: q}})
		stats["blocked/"+identity.ProtectPlaceholder]++
	}
	return out, nil
}

// sizeItems keeps the cluster-size statistics as profiles change size:
// the histogram counters (added to stats) move each profile from the
// bucket of its old record count to the bucket of its new one (a profile
// absent from after is gone), and the size ranking (ItemTop) gets an
// entry when a profile reaches a new rank step (identity.RankStep); the
// entries above its step go when it shrinks, all of them when it goes.
func sizeItems(before, after map[string]int, stats map[string]int64) []store.ItemWrite {
	var out []store.ItemWrite
	for _, id := range slices.Sorted(maps.Keys(before)) {
		n := before[id]
		if m, ok := after[id]; ok && m == n {
			continue
		}
		histAdd(stats, n, -1)
		if was, is := rankStep(before, id), rankStep(after, id); is < was {
			out = append(out, rankDrops(n, id, is)...)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(after)) {
		n := after[id]
		if m, ok := before[id]; ok && m == n {
			continue
		}
		histAdd(stats, n, 1)
		if is := rankStep(after, id); is > 0 && is != rankStep(before, id) {
			out = append(out, store.ItemWrite{Op: store.ItemPut, Item: store.Item{Kind: identity.ItemTop, Key: identity.TopKey, Sort: identity.TopSort(n, id), N: int64(n)}})
		}
	}
	for name, n := range stats {
		if n == 0 && strings.HasPrefix(name, identity.CounterHistPrefix) {
			delete(stats, name)
		}
	}
	return out
}

// histAdd adds d to the histogram counter of a cluster of n records (none
// for an empty one).
func histAdd(stats map[string]int64, n int, d int64) {
	if n > 0 {
		stats[identity.CounterHistPrefix+identity.HistogramBuckets()[identity.BucketOf(n)].Label] += d
	}
}

// rankStep is the rank step of profile id of sizes (identity.RankStep),
// 0 when absent or too small to be ranked.
func rankStep(sizes map[string]int, id string) int {
	if n, ok := sizes[id]; ok && n >= identity.MinRanked {
		return identity.RankStep(n)
	}
	return 0
}

// rankDrops deletes the ranking entries of profile id, of n records,
// above step is.
func rankDrops(n int, id string, is int) []store.ItemWrite {
	var out []store.ItemWrite
	for _, sort := range identity.TopSorts(n, id) {
		if s, _, err := identity.ParseTopSort(sort); err == nil && s > is {
			out = append(out, store.ItemWrite{Op: store.ItemDelete, Item: store.Item{Kind: identity.ItemTop, Key: identity.TopKey, Sort: sort}})
		}
	}
	return out
}

// overCap returns the first identifier type whose cap the union of a and
// b would exceed, or "".
func (p *Pipeline) overCap(a, b []profile.Identifier) string {
	count := map[string]int{}
	seen := map[profile.Identifier]bool{}
	for _, list := range [2][]profile.Identifier{a, b} {
		for _, id := range list {
			if seen[id] {
				continue
			}
			seen[id] = true
			count[id.Type]++
		}
	}
	for _, t := range slices.Sorted(maps.Keys(count)) {
		if limit, _ := p.resolver.Capped(t); limit > 0 && count[t] > limit {
			return t
		}
	}
	return ""
}

// earlierRule returns whichever of a and b comes first in order.
func earlierRule(order []string, a, b string) string {
	ia, ib := slices.Index(order, a), slices.Index(order, b)
	if ia < 0 || (ib >= 0 && ib < ia) {
		return b
	}
	return a
}

// flushStats adds the identity counters of the changes an Ingest call
// committed itself (never those of a duplicate, nor of a change that lost
// to a concurrent writer): one single-item ItemAdd per counter (no
// transaction), after the changes, so counters cost one write unit per
// call instead of two per record. A failure is logged, not returned: the
// records are committed, and a retry would find them all duplicates; the
// counters then miss them (they are statistics).
func (p *Pipeline) flushStats(ctx context.Context, stats map[string]int64, key string) {
	stats = nonZero(stats)
	if len(stats) == 0 {
		return
	}
	writes := statItems(key, stats)
	changes := make([]store.Change, len(writes))
	for i, w := range writes {
		changes[i] = store.Change{Items: []store.ItemWrite{w}}
	}
	if err := p.st.Commit(context.WithoutCancel(ctx), changes...); err != nil {
		p.log.ErrorContext(ctx, "pipeline: identity counters not added", "counters", len(writes), "error", err.Error())
	}
}

// statItems turns counter increments into ItemAdd writes on one shard
// (chosen by the record's key, so concurrent writers spread out).
// nonZero drops the counters of stats that add nothing, in place.
func nonZero(stats map[string]int64) map[string]int64 {
	for k, n := range stats {
		if n == 0 {
			delete(stats, k)
		}
	}
	return stats
}

func statItems(key string, stats map[string]int64) []store.ItemWrite {
	if len(stats) == 0 {
		return nil
	}
	h := sha256.Sum256([]byte(key))
	shard := fmt.Sprintf("shard-%d", int(h[0])%identity.StatShards)
	var out []store.ItemWrite
	for _, name := range slices.Sorted(maps.Keys(stats)) {
		out = append(out, store.ItemWrite{Op: store.ItemAdd, Item: store.Item{Kind: identity.ItemStats, Key: shard, Sort: name, N: stats[name]}})
	}
	return out
}

// key is the idempotency key of a record: for message sources (api,
// webhook, bus) the source and message id, as Segment de-duplicates on
// messageId; for file sources ContentKey.
func (p *Pipeline) key(r profile.Record) string {
	if p.byID[r.Source] {
		return "msg/" + r.Source + "/" + r.ID
	}
	return ContentKey(r)
}

// ContentKey is the idempotency key of a file record: its source, id and a
// hash of its content, so a re-delivered row changes nothing while a
// corrected row with the same id is processed again.
func ContentKey(r profile.Record) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	evIDs := make([]string, len(r.Events))
	for i, e := range r.Events {
		evIDs[i] = e.ID
	}
	// Encoding sorts map keys, so the hash is canonical. The receive time
	// and event details are left out: a retried message with the same id
	// is the same message.
	if err := enc.Encode(struct {
		O time.Time
		I []profile.Identifier
		A map[string]any
		E []string
	}{r.ObservedAt.UTC(), r.Identifiers, r.Attributes, evIDs}); err != nil {
		// Attribute values are JSON values by contract; fall back to a
		// key that still de-duplicates on source and id.
		return "rec/" + r.Source + "/" + r.ID
	}
	return "rec/" + r.Source + "/" + r.ID + "/" + hex.EncodeToString(h.Sum(nil)[:12])
}

// NewProfileID derives a profile id from the key of the record that
// created it: deterministic, so replays and tests reproduce the same ids.
func NewProfileID(recordKey string) string {
	return "p_" + events.StableID("profile", recordKey)[:24]
}

func clone(p profile.Profile) profile.Profile {
	c := p
	c.Identifiers = slices.Clone(p.Identifiers)
	c.Attributes = make(map[string]profile.Attribute, len(p.Attributes))
	for k, v := range p.Attributes {
		c.Attributes[k] = v
	}
	c.Sources = make(map[string]int, len(p.Sources))
	for k, v := range p.Sources {
		c.Sources[k] = v
	}
	c.RecentEvents = slices.Clone(p.RecentEvents)
	c.MergedFrom = slices.Clone(p.MergedFrom)
	c.Folded = maps.Clone(p.Folded)
	if p.Aggregates != nil {
		c.Aggregates = make(map[string]any, len(p.Aggregates))
		for k, v := range p.Aggregates {
			c.Aggregates[k] = v
		}
	}
	if p.Tallies != nil {
		c.Tallies = make(map[string][]profile.Tally, len(p.Tallies))
		for k, v := range p.Tallies {
			c.Tallies[k] = slices.Clone(v)
		}
	}
	return c
}

func backoff(attempt int) time.Duration {
	d := time.Duration(1<<min(attempt, 8)) * time.Millisecond
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
