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
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/events"
	"github.com/aurum-cdp/aurum/shared/fault"
	"github.com/aurum-cdp/aurum/shared/golden"
	"github.com/aurum-cdp/aurum/shared/identity"
	"github.com/aurum-cdp/aurum/shared/profile"
	"github.com/aurum-cdp/aurum/shared/store"
)

// Result summarizes one Ingest call.
type Result struct {
	// Accepted records were committed.
	Accepted int `json:"accepted"`
	// Duplicates had been committed before (re-delivery): nothing changed.
	Duplicates int `json:"duplicates"`
	// Created counts new profiles.
	Created int `json:"created"`
	// Merges counts profiles merged away into another.
	Merges int `json:"merges"`
	// ProfileIDs holds, per input record in order, the profile it landed
	// in ("" for a duplicate).
	ProfileIDs []string `json:"-"`
}

// Add accumulates another result.
func (r *Result) Add(o Result) {
	r.Accepted += o.Accepted
	r.Duplicates += o.Duplicates
	r.Created += o.Created
	r.Merges += o.Merges
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
}

// Options tune a Pipeline.
type Options struct {
	// Clock returns the current time; default time.Now.
	Clock func() time.Time
	// Logger receives counts and ids, never personal data.
	Logger *slog.Logger
	// MaxAttempts bounds retries of a conflicting batch; default 20.
	MaxAttempts int
}

// Pipeline resolves and commits records.
type Pipeline struct {
	st       Store
	resolver *identity.Resolver
	rules    golden.Rules
	clock    func() time.Time
	log      *slog.Logger
	attempts int
	// byID marks message sources (api, webhook, bus), whose records are
	// de-duplicated on their id alone, like Segment's messageId.
	byID map[string]bool
}

// New builds a pipeline over st for the configuration cfg.
func New(cfg *config.Config, st Store, opts Options) *Pipeline {
	p := &Pipeline{
		st:       st,
		resolver: identity.New(cfg),
		rules:    golden.Rules{SourcePriority: map[string]int{}},
		clock:    opts.Clock,
		log:      opts.Logger,
		attempts: opts.MaxAttempts,
	}
	p.byID = map[string]bool{}
	for _, s := range cfg.Sources {
		p.rules.SourcePriority[s.Name] = s.Priority
		p.byID[s.Name] = s.Kind != config.KindFile
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
	return p
}

// Ingest resolves and commits recs in order. Records already committed
// (same source, id and content) are counted as duplicates and change
// nothing. On a conflict with a concurrent writer the remaining records are
// re-read and retried.
func (p *Pipeline) Ingest(ctx context.Context, recs []profile.Record) (Result, error) {
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
	done := make([]bool, len(recs))
	for attempt := 1; ; attempt++ {
		n, err := p.try(ctx, recs, keys, done, &res)
		if err == nil {
			return res, nil
		}
		if !fault.Is(err, fault.ErrConflict) || attempt >= p.attempts {
			return res, fmt.Errorf("pipeline: ingest %d records (attempt %d): %w", len(recs), attempt, err)
		}
		p.log.DebugContext(ctx, "pipeline conflict, retrying", "attempt", attempt, "pending", n)
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return res, fmt.Errorf("pipeline: ingest: %w", err)
		}
	}
}

// try processes the records not yet done. It returns how many were pending.
func (p *Pipeline) try(ctx context.Context, recs []profile.Record, keys []string, done []bool, res *Result) (int, error) {
	var pending []int
	var pendingKeys []string
	for i := range recs {
		if !done[i] {
			pending = append(pending, i)
			pendingKeys = append(pendingKeys, keys[i])
		}
	}
	if len(pending) == 0 {
		return 0, nil
	}
	seen, err := p.st.Seen(ctx, pendingKeys)
	if err != nil {
		return len(pending), fmt.Errorf("check idempotency keys: %w", err)
	}
	v := newView(p.st)
	var changes []store.Change
	var idx []int
	var outcomes []outcome
	inBatch := map[string]bool{}
	for _, i := range pending {
		if seen[keys[i]] || inBatch[keys[i]] {
			done[i] = true
			res.Duplicates++
			continue
		}
		inBatch[keys[i]] = true
		ch, out, err := p.change(ctx, v, recs[i], keys[i])
		if err != nil {
			return len(pending), fmt.Errorf("record %s: %w", recs[i].Key(), err)
		}
		changes = append(changes, ch)
		idx = append(idx, i)
		outcomes = append(outcomes, out)
	}
	if len(changes) == 0 {
		return len(pending), nil
	}
	err = p.st.Commit(ctx, changes...)
	if err != nil && !fault.Is(err, fault.ErrConflict) {
		return len(pending), fmt.Errorf("commit: %w", err)
	}
	if err != nil {
		// Some leading changes may have been applied; the next attempt
		// finds their keys in Seen and counts them as duplicates, which
		// would misreport them. Ask the store which keys landed.
		landed, serr := p.st.Seen(ctx, keysOf(changes))
		if serr != nil {
			return len(pending), fmt.Errorf("check landed changes: %w", serr)
		}
		for j, ch := range changes {
			if landed[ch.Keys[0]] {
				p.account(res, idx[j], outcomes[j], done)
			}
		}
		return len(pending), err
	}
	for j := range changes {
		p.account(res, idx[j], outcomes[j], done)
	}
	return len(pending), nil
}

func (p *Pipeline) account(res *Result, i int, out outcome, done []bool) {
	done[i] = true
	res.Accepted++
	res.ProfileIDs[i] = out.profileID
	if out.created {
		res.Created++
	}
	res.Merges += out.merged
}

func keysOf(changes []store.Change) []string {
	ks := make([]string, len(changes))
	for i, c := range changes {
		ks[i] = c.Keys[0]
	}
	return ks
}

type outcome struct {
	profileID string
	created   bool
	merged    int
}

// change resolves one record against the view and returns its change set.
func (p *Pipeline) change(ctx context.Context, v *view, rec profile.Record, key string) (store.Change, outcome, error) {
	now := p.clock().UTC()
	links := p.resolver.Links(rec)
	ids := make([]profile.Identifier, len(links))
	for i, l := range links {
		ids[i] = l.Identifier
	}
	owners, err := v.owners(ctx, ids)
	if err != nil {
		return store.Change{}, outcome{}, err
	}
	// Distinct live profiles the record links to, and the rule for each.
	var matched []string
	rules := map[string]string{}
	shared := map[string][]string{}
	for _, l := range links {
		o, ok := owners[l.Identifier]
		if !ok {
			continue
		}
		if _, seen := rules[o.ProfileID]; !seen {
			matched = append(matched, o.ProfileID)
			rules[o.ProfileID] = l.Rule
		}
		shared[o.ProfileID] = append(shared[o.ProfileID], l.Identifier.String())
	}
	profiles := make([]profile.Profile, 0, len(matched))
	for _, id := range matched {
		pr, err := v.profile(ctx, id)
		if err != nil {
			return store.Change{}, outcome{}, fmt.Errorf("read profile %s: %w", id, err)
		}
		profiles = append(profiles, pr)
	}
	// The survivor is the oldest profile (ties: smallest id), so profile
	// ids stay stable for the people who use them.
	sort.Slice(profiles, func(i, j int) bool {
		if !profiles[i].CreatedAt.Equal(profiles[j].CreatedAt) {
			return profiles[i].CreatedAt.Before(profiles[j].CreatedAt)
		}
		return profiles[i].ID < profiles[j].ID
	})

	var ch store.Change
	ch.Keys = []string{key}
	var out outcome
	var surv profile.Profile
	var expect int64
	if len(profiles) == 0 {
		surv = profile.Profile{ID: NewProfileID(key), CreatedAt: now}
		out.created = true
	} else {
		surv = clone(profiles[0])
		expect = surv.Version
	}
	var changed []string
	var mergeEvents []events.Envelope
	for _, other := range profiles[min(1, len(profiles)):] {
		changed = append(changed, p.rules.Merge(&surv, other)...)
		ch.Redirects = append(ch.Redirects, store.Redirect{From: other.ID, To: surv.ID, ExpectVersion: other.Version, At: now})
		out.merged++
		ids := append(slices.Clone(shared[other.ID]), shared[surv.ID]...)
		sort.Strings(ids)
		ev, err := events.New(events.TypeProfilesMerged, now, events.ProfilesMerged{
			Version: events.SchemaVersion, ProfileID: surv.ID, Merged: []string{other.ID},
			Rule: rules[other.ID], Identifiers: slices.Compact(ids), RecordKey: rec.Key(),
		}, surv.ID, other.ID, key)
		if err != nil {
			return store.Change{}, outcome{}, err
		}
		mergeEvents = append(mergeEvents, ev)
	}
	before := len(surv.Identifiers)
	changed = append(changed, p.rules.Apply(&surv, rec)...)
	sort.Strings(changed)
	changed = slices.Compact(changed)
	var newIDs []string
	for _, id := range surv.Identifiers[before:] {
		newIDs = append(newIDs, id.String())
	}
	for _, l := range links {
		if _, claimed := owners[l.Identifier]; !claimed {
			ch.Claims = append(ch.Claims, store.Claim{Identifier: l.Identifier, ProfileID: surv.ID})
		}
	}
	surv.Version = expect + 1
	surv.UpdatedAt = now
	ch.Profiles = []store.ProfileWrite{{Profile: surv, ExpectVersion: expect}}
	ch.Records = []store.RecordWrite{{Record: rec, ProfileID: surv.ID}}
	var names []string
	for _, e := range rec.Events {
		names = append(names, e.Name)
	}
	upd, err := events.New(events.TypeProfileUpdated, now, events.ProfileUpdated{
		Version: events.SchemaVersion, ProfileID: surv.ID, ProfileVersion: surv.Version,
		Created: out.created, Changed: changed, NewIdentifiers: newIDs,
		Sources: []string{rec.Source}, EventNames: names,
	}, surv.ID, fmt.Sprint(surv.Version), key)
	if err != nil {
		return store.Change{}, outcome{}, err
	}
	ch.Outbox = append(mergeEvents, upd)
	out.profileID = surv.ID
	v.apply(ch)
	return ch, out, nil
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
	if p.Aggregates != nil {
		c.Aggregates = make(map[string]any, len(p.Aggregates))
		for k, v := range p.Aggregates {
			c.Aggregates[k] = v
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

