package activation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/pattern"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Profiles reads the current profile; a missing or erased one is
// fault.ErrNotFound.
type Profiles interface {
	Profile(ctx context.Context, id string) (profile.Profile, error)
}

// State is the part of the store the runner keeps its forwarded-event
// markers in (which tracked events a destination has received).
type State interface {
	store.ItemStore
}

// Deliverer carries one batch to its destination: a calls the kind, d is
// the batch (d.Body its JSON, d.ID its idempotency id). The delivery
// package plugs in here with retries, backoff and a dead-letter queue;
// PassThrough calls a once. An error means the batch was not delivered
// and the events that made it should be delivered again.
type Deliverer interface {
	Deliver(ctx context.Context, dest string, a destination.Action, d destination.Delivery) error
}

// PassThrough is the Deliverer without retries.
type PassThrough struct{}

// Deliver calls a.
func (PassThrough) Deliver(ctx context.Context, _ string, a destination.Action, d destination.Delivery) error {
	return a.Deliver(ctx, d)
}

// Members lists a segment's current members (full re-syncs): fn is
// called once per profile id.
type Members func(ctx context.Context, segmentID string, fn func(profileID string) error) error

// Deps are the runner's collaborators; Profiles, State and Presets are
// required.
type Deps struct {
	Profiles  Profiles
	State     State
	Presets   *destination.Presets
	Env       destination.Env
	Deliverer Deliverer
	Members   Members
}

// Options tune the runner.
type Options struct {
	// Clock; default time.Now.
	Clock func() time.Time
	// Logger receives destination names, batch ids and counts, never
	// personal data.
	Logger *slog.Logger
	// Sleep waits for the rate limit; default a timer (tests pass a fake).
	Sleep func(ctx context.Context, d time.Duration) error
	// Account and Region fill the EventBridge event built from an
	// envelope for pattern matching; defaults as the local bus.
	Account, Region string
	// ForwardedTTL is how long a forwarded tracked event is remembered
	// (a re-delivered ProfileUpdated within it forwards nothing twice);
	// default 30 days.
	ForwardedTTL time.Duration
}

// Runner runs the configured destinations.
type Runner struct {
	deps  Deps
	opts  Options
	dests []*dest
	named map[string]*dest
	log   *slog.Logger

	mu    sync.Mutex
	stats map[string]*Stats
}

// dest is one built destination.
type dest struct {
	cfg      *config.Destination
	preset   destination.Preset
	sink     destination.Sink
	body     *destination.Template // the action kind's body template
	aurum    *pattern.Pattern
	tracked  map[string]bool
	anyTrack bool
	attrs    map[string]bool
	segments map[string]bool
	profMap  fieldMap
	eventMap fieldMap
	audMap   fieldMap
	maxEv    int
	maxProf  int
	maxMem   int
	limit    *limiter
	action   *batchAction
}

// New builds the destinations with their kinds from d.Presets. Errors
// name the destination and the setting ("destinations[1] (crm).options:
// list_id: missing").
func New(dests []config.Destination, d Deps, o Options) (*Runner, error) {
	if len(dests) > 0 && (d.Profiles == nil || d.State == nil) {
		return nil, fmt.Errorf("activation: the runner needs profiles and state")
	}
	if d.Deliverer == nil {
		d.Deliverer = PassThrough{}
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Account == "" {
		o.Account = "000000000000"
	}
	if o.Region == "" {
		o.Region = "local"
	}
	if o.ForwardedTTL <= 0 {
		o.ForwardedTTL = 30 * 24 * time.Hour
	}
	if d.Env.Clock == nil {
		d.Env.Clock = o.Clock
	}
	r := &Runner{deps: d, opts: o, named: map[string]*dest{}, log: o.Logger, stats: map[string]*Stats{}}
	var errs []error
	for i := range dests {
		ds, err := r.build(&dests[i])
		if err != nil {
			errs = append(errs, fmt.Errorf("destinations[%d] (%s).%w", i, dests[i].Name, err))
			continue
		}
		r.dests = append(r.dests, ds)
		r.named[ds.cfg.Name] = ds
		r.stats[ds.cfg.Name] = newStats()
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("activation: %w: %w", fault.ErrInvalid, errors.Join(errs...))
	}
	return r, nil
}

func (r *Runner) build(cfg *config.Destination) (*dest, error) {
	p, err := r.deps.Presets.Lookup(cfg.Kind)
	if err != nil {
		return nil, fmt.Errorf("kind: %w", err)
	}
	sink, err := p.Build(*cfg, r.deps.Env)
	if err != nil {
		return nil, err
	}
	d := &dest{cfg: cfg, preset: p, sink: sink, tracked: map[string]bool{}, attrs: map[string]bool{}, segments: map[string]bool{}}
	if err := d.capabilities(); err != nil {
		return nil, err
	}
	if t, ok := sink.Action.(destination.Templated); ok && t.BodyTemplate() != "" {
		if d.body, err = destination.ParseTemplate(t.BodyTemplate()); err != nil {
			return nil, fmt.Errorf("%s.body: %w", cfg.Kind, err)
		}
	}
	d.profMap, d.eventMap = merged(p.Defaults.Profile, nil), merged(p.Defaults.Event, nil)
	d.audMap = d.profMap
	if e := cfg.Events; e != nil {
		if e.Aurum != nil {
			if d.aurum, err = e.Aurum.Compile(); err != nil {
				return nil, fmt.Errorf("events.aurum: %w", err)
			}
		}
		for _, n := range e.Tracked {
			d.tracked[n] = true
			d.anyTrack = d.anyTrack || n == "*"
		}
		d.eventMap = merged(p.Defaults.Event, e.Map)
	}
	if ps := cfg.Profiles; ps != nil {
		for _, a := range ps.Attributes {
			d.attrs[a] = true
		}
		d.profMap = merged(p.Defaults.Profile, ps.Map)
	}
	if a := cfg.Audiences; a != nil {
		for _, s := range a.Segments {
			d.segments[s] = true
		}
		d.audMap = merged(d.profMap, a.Map)
	}
	d.maxEv, d.maxProf, d.maxMem = size(cfg.BatchSize, p.Limits.MaxEvents), size(cfg.BatchSize, p.Limits.MaxProfiles), size(cfg.BatchSize, p.Limits.MaxMembers)
	rate := p.Limits.PerSecond
	if cfg.RateLimit != nil {
		rate = cfg.RateLimit.PerSecond
	}
	d.limit = newLimiter(rate, r.opts.Clock, r.opts.Sleep)
	d.action = &batchAction{r: r, d: d}
	return d, nil
}

// capabilities refuses what the kind cannot receive.
func (d *dest) capabilities() error {
	s, c := d.sink, d.cfg
	if _, staged := s.Action.(destination.Staged); staged && (c.Events != nil || c.Profiles != nil || c.Audiences != nil) {
		return fmt.Errorf("kind: %s destinations serve only triggers", c.Kind)
	}
	switch {
	case c.Events != nil && s.Events == nil && s.Action == nil:
		return fmt.Errorf("events: kind %s does not forward events", c.Kind)
	case c.Profiles != nil && s.Profiles == nil && s.Action == nil:
		return fmt.Errorf("profiles: kind %s does not sync profiles", c.Kind)
	case c.Audiences != nil && s.Audience == nil && s.Action == nil:
		return fmt.Errorf("audiences: kind %s does not sync audiences", c.Kind)
	}
	return nil
}

// size is a batch size: the configured one within the kind's limit.
func size(configured, limit int) int {
	if limit <= 0 {
		limit = 1
	}
	if configured > 0 && configured < limit {
		return configured
	}
	return limit
}

// Names returns the destinations' names in configuration order.
func (r *Runner) Names() []string {
	out := make([]string, len(r.dests))
	for i, d := range r.dests {
		out[i] = d.cfg.Name
	}
	return out
}

// Action returns the Action of the named destination, which delivers a
// destination.Batch given as Delivery.Body (a dead-letter replay uses it).
func (r *Runner) Action(name string) (destination.Action, bool) {
	d, ok := r.named[name]
	if !ok {
		return nil, false
	}
	return d.action, true
}
