package activation

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// mem is the profiles and item state of a test.
type mem struct {
	mu       sync.Mutex
	profiles map[string]profile.Profile
	items    map[string]store.Item
}

func newMem() *mem {
	return &mem{profiles: map[string]profile.Profile{}, items: map[string]store.Item{}}
}

func (m *mem) Profile(_ context.Context, id string) (profile.Profile, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.profiles[id]
	if !ok {
		return p, fault.ErrNotFound
	}
	return p, nil
}

func (m *mem) Item(_ context.Context, kind, key, sort string) (store.Item, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[kind+"|"+key+"|"+sort]
	if !ok {
		return it, fault.ErrNotFound
	}
	return it, nil
}

func (m *mem) Items(_ context.Context, kind, key, _, _ string, _ int, _ string) ([]store.Item, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Item
	for _, it := range m.items {
		if it.Kind == kind && it.Key == key {
			out = append(out, it)
		}
	}
	return out, "", nil
}

func (m *mem) Commit(_ context.Context, chs ...store.Change) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ch := range chs {
		for _, w := range ch.Items {
			m.items[w.Item.Kind+"|"+w.Item.Key+"|"+w.Item.Sort] = w.Item
		}
	}
	return nil
}

func (m *mem) add(id string, consent bool) {
	attrs := map[string]profile.Attribute{"first_name": {Value: "N" + id}}
	if consent {
		attrs["consent.marketing"] = profile.Attribute{Value: true}
	}
	m.profiles[id] = profile.Profile{ID: id, Version: 1, Identifiers: []profile.Identifier{{Type: "email", Value: id + "@example.com"}}, Attributes: attrs,
		RecentEvents: []profile.Event{{ID: "o-" + id, Source: "shop", Name: "Order Completed", Timestamp: time.Unix(100, 0)}}}
}

// tool is a preset recording what it receives.
type tool struct {
	mu       sync.Mutex
	profiles []destination.ProfileBatch
	events   []destination.EventBatch
	aud      []destination.AudienceChange
}

func (t *tool) SyncProfiles(_ context.Context, b destination.ProfileBatch) (destination.Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.profiles = append(t.profiles, b)
	return destination.Result{Sent: len(b.Members)}, nil
}

func (t *tool) ForwardEvents(_ context.Context, b destination.EventBatch) (destination.Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.events = append(t.events, b)
	return destination.Result{Sent: len(b.Events)}, nil
}

func (t *tool) SyncAudience(_ context.Context, c destination.AudienceChange) (destination.Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.aud = append(t.aud, c)
	return destination.Result{Sent: len(c.Add) + len(c.Remove)}, nil
}

func presets(t *testing.T, tl *tool, limits destination.Limits) *destination.Presets {
	ps, err := destination.NewPresets(destination.Preset{Name: "fake", Limits: limits,
		Defaults: destination.Defaults{Profile: map[string]string{"email": "profile.identifiers.email", "name": "profile.attributes.first_name"}},
		Build: func(config.Destination, destination.Env) (destination.Sink, error) {
			return destination.Sink{Profiles: tl, Events: tl, Audience: tl}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// recorder is a Deliverer that keeps the deliveries and passes them on.
type recorder struct {
	mu   sync.Mutex
	seen []string
	dels []destination.Delivery
}

func (r *recorder) Deliver(ctx context.Context, dest string, a destination.Action, d destination.Delivery) error {
	r.mu.Lock()
	r.seen = append(r.seen, dest+":"+d.ID)
	r.dels = append(r.dels, d)
	r.mu.Unlock()
	return a.Deliver(ctx, d)
}

func newRunner(t *testing.T, m *mem, tl *tool, limits destination.Limits, d config.Destination, o Options) (*Runner, *recorder) {
	rec := &recorder{}
	r, err := New([]config.Destination{d}, Deps{Profiles: m, State: m, Presets: presets(t, tl, limits), Deliverer: rec,
		Members: func(_ context.Context, seg string, fn func(string) error) error {
			ids := make([]string, 0, len(m.profiles))
			for id := range m.profiles {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			for _, id := range ids {
				if err := fn(id); err != nil {
					return err
				}
			}
			return nil
		}}, o)
	if err != nil {
		t.Fatal(err)
	}
	return r, rec
}

func updated(t *testing.T, id string, names ...string) events.Envelope {
	env, err := events.New(events.TypeProfileUpdated, time.Unix(200, 0), events.ProfileUpdated{Version: "1", ProfileID: id, ProfileVersion: 1,
		Changed: []string{"first_name"}, EventNames: names}, id, "1")
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func membership(t *testing.T, id, seg string, entered bool) events.Envelope {
	typ := events.TypeSegmentExited
	var detail any = events.SegmentExited{Version: "1", ProfileID: id, SegmentID: seg}
	if entered {
		typ, detail = events.TypeSegmentEntered, events.SegmentEntered{Version: "1", ProfileID: id, SegmentID: seg}
	}
	env, err := events.New(typ, time.Unix(300, 0), detail, id, seg, typ)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestProfilesAreBatchedWithinTheKindsLimit(t *testing.T) {
	m, tl := newMem(), &tool{}
	var envs []events.Envelope
	for i := range 250 {
		id := fmt.Sprintf("p%03d", i)
		m.add(id, true)
		envs = append(envs, updated(t, id))
	}
	r, rec := newRunner(t, m, tl, destination.Limits{MaxProfiles: 100}, config.Destination{Name: "crm", Kind: "fake", Profiles: &config.ProfileSync{}}, Options{})
	if err := r.HandleBatch(context.Background(), envs); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, b := range tl.profiles {
		sizes = append(sizes, len(b.Members))
	}
	if fmt.Sprint(sizes) != "[100 100 50]" {
		t.Errorf("batch sizes = %v; want [100 100 50]", sizes)
	}
	if got := tl.profiles[0].Members[0].Attributes; fmt.Sprint(got) != "map[email:p000@example.com name:Np000]" {
		t.Errorf("first member mapped as %v; want the preset's field map applied", got)
	}
	first := slices.Clone(rec.seen)
	if err := r.HandleBatch(context.Background(), envs); err != nil {
		t.Fatal(err)
	}
	if again := rec.seen[len(first):]; !slices.Equal(again, first) {
		t.Errorf("batch ids of a re-delivery = %v; want the same as the first delivery %v", again, first)
	}
	if st := r.Stats()["crm"]; st.Delivered != 500 || st.Batches != 6 {
		t.Errorf("stats = %+v; want 500 delivered in 6 batches", st)
	}
}

func TestConsent(t *testing.T) {
	m, tl := newMem(), &tool{}
	m.add("yes", true)
	m.add("no", false)
	d := config.Destination{Name: "aud", Kind: "fake", Purposes: []string{"marketing"},
		Audiences: &config.AudienceSync{Segments: []string{"vip"}, Names: map[string]string{"vip": "VIP list"}},
		Events:    &config.EventForwarding{Tracked: []string{"Order Completed"}}}
	r, _ := newRunner(t, m, tl, destination.Limits{MaxMembers: 10, MaxEvents: 10}, d, Options{})
	err := r.HandleBatch(context.Background(), []events.Envelope{
		membership(t, "yes", "vip", true), membership(t, "no", "vip", true), membership(t, "no", "vip", false),
		updated(t, "yes", "Order Completed"), updated(t, "no", "Order Completed"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.aud) != 1 {
		t.Fatalf("%d audience batches; want 1", len(tl.aud))
	}
	c := tl.aud[0]
	var adds, rms []string
	for _, m := range c.Add {
		adds = append(adds, m.ProfileID)
	}
	for _, m := range c.Remove {
		rms = append(rms, m.ProfileID)
	}
	if c.Audience != "VIP list" || fmt.Sprint(adds) != "[yes]" || fmt.Sprint(rms) != "[no]" {
		t.Errorf("audience change = %s add %v remove %v; want VIP list, add [yes], remove [no] (a removal needs no consent)", c.Audience, adds, rms)
	}
	if len(tl.events) != 1 || len(tl.events[0].Events) != 1 || tl.events[0].Events[0].Member.ProfileID != "yes" {
		t.Errorf("events = %+v; want one event, of yes", tl.events)
	}
	if got := r.Stats()["aud"].Skipped["consent:marketing"]; got != 2 {
		t.Errorf("skipped for consent = %d; want 2 (no's entry and no's event)", got)
	}
}

func TestEnterThenExitInOneBatchIsAnExit(t *testing.T) {
	m, tl := newMem(), &tool{}
	m.add("a", true)
	r, _ := newRunner(t, m, tl, destination.Limits{MaxMembers: 10}, config.Destination{Name: "aud", Kind: "fake",
		Audiences: &config.AudienceSync{Segments: []string{"vip"}}}, Options{})
	if err := r.HandleBatch(context.Background(), []events.Envelope{membership(t, "a", "vip", true), membership(t, "a", "vip", false)}); err != nil {
		t.Fatal(err)
	}
	if len(tl.aud) != 1 || len(tl.aud[0].Add) != 0 || len(tl.aud[0].Remove) != 1 {
		t.Errorf("audience changes = %+v; want a single removal", tl.aud)
	}
}

func TestDeliveryReplaysThroughTheDestinationsAction(t *testing.T) {
	m, tl := newMem(), &tool{}
	m.add("a", true)
	r, rec := newRunner(t, m, tl, destination.Limits{MaxProfiles: 10}, config.Destination{Name: "crm", Kind: "fake", Profiles: &config.ProfileSync{}}, Options{})
	if err := r.Handle(context.Background(), updated(t, "a")); err != nil {
		t.Fatal(err)
	}
	kept := rec.dels[0] // what a dead-letter queue would hold: the body
	kept.Data = nil
	var b destination.Batch
	if err := json.Unmarshal(kept.Body, &b); err != nil || b.Op != destination.OpProfiles || b.Profiles.ID != kept.ID {
		t.Fatalf("delivery body %s: want the profiles batch with the delivery's id", kept.Body)
	}
	act, ok := r.Action("crm")
	if !ok {
		t.Fatal("Action(crm) not found")
	}
	if err := act.Deliver(context.Background(), kept); err != nil {
		t.Fatal(err)
	}
	if len(tl.profiles) != 2 || tl.profiles[1].ID != tl.profiles[0].ID {
		t.Errorf("replayed batches %+v; want the same batch again", tl.profiles)
	}
}

func TestFullSync(t *testing.T) {
	m, tl := newMem(), &tool{}
	for i := range 5 {
		m.add(fmt.Sprintf("p%d", i), i%2 == 0)
	}
	r, _ := newRunner(t, m, tl, destination.Limits{MaxMembers: 2}, config.Destination{Name: "aud", Kind: "fake", Purposes: []string{"marketing"},
		Audiences: &config.AudienceSync{Segments: []string{"vip"}}}, Options{})
	rep, err := r.FullSync(context.Background(), "aud")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Added != 3 || rep.Removed != 2 {
		t.Errorf("FullSync() = %+v; want 3 added (consent), 2 removed (none)", rep)
	}
	n := 0
	for _, c := range tl.aud {
		if !c.Full || len(c.Add)+len(c.Remove) > 2 {
			t.Errorf("page %+v; want a full page of at most 2", c)
		}
		n += len(c.Add) + len(c.Remove)
	}
	if n != 5 || len(tl.aud) != 3 {
		t.Errorf("%d members in %d pages; want 5 in 3", n, len(tl.aud))
	}
}

func TestRateLimit(t *testing.T) {
	m, tl := newMem(), &tool{}
	for i := range 4 {
		m.add(fmt.Sprintf("p%d", i), true)
	}
	now := time.Unix(1000, 0)
	var slept time.Duration
	o := Options{Clock: func() time.Time { return now }, Sleep: func(_ context.Context, d time.Duration) error {
		slept += d
		now = now.Add(d)
		return nil
	}}
	r, _ := newRunner(t, m, tl, destination.Limits{MaxProfiles: 1}, config.Destination{Name: "crm", Kind: "fake",
		RateLimit: &config.RateLimit{PerSecond: 2}, Profiles: &config.ProfileSync{}}, o)
	var envs []events.Envelope
	for i := range 4 {
		envs = append(envs, updated(t, fmt.Sprintf("p%d", i)))
	}
	if err := r.HandleBatch(context.Background(), envs); err != nil {
		t.Fatal(err)
	}
	if len(tl.profiles) != 4 || slept != 1500*time.Millisecond {
		t.Errorf("%d requests, slept %v; want 4 requests at 2/s (1.5s of waits)", len(tl.profiles), slept)
	}
}

func TestGranted(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want bool
	}{
		{"true", true, true}, {"false", false, false}, {"string yes", "Yes", false}, {"string no", "no", false},
		{"number", 1.0, false}, {"missing", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := profile.Profile{Attributes: map[string]profile.Attribute{}}
			if tt.v != nil {
				p.Attributes["consent.marketing"] = profile.Attribute{Value: tt.v}
			}
			if got := Granted(p, "marketing"); got != tt.want {
				t.Errorf("Granted(consent.marketing=%v) = %v; want %v", tt.v, got, tt.want)
			}
		})
	}
}

func TestUnknownKindAndMissingCapability(t *testing.T) {
	m, tl := newMem(), &tool{}
	ps := presets(t, tl, destination.Limits{})
	_, err := New([]config.Destination{{Name: "x", Kind: "nope", Profiles: &config.ProfileSync{}}}, Deps{Profiles: m, State: m, Presets: ps}, Options{})
	if err == nil || !fault.Is(err, fault.ErrInvalid) {
		t.Errorf("New(unknown kind) error = %v; want invalid", err)
	}
	ps2, _ := destination.NewPresets(destination.Preset{Name: "eventsonly", Build: func(config.Destination, destination.Env) (destination.Sink, error) {
		return destination.Sink{Events: tl}, nil
	}})
	_, err = New([]config.Destination{{Name: "x", Kind: "eventsonly", Audiences: &config.AudienceSync{Segments: []string{"s"}}}}, Deps{Profiles: m, State: m, Presets: ps2}, Options{})
	if err == nil {
		t.Error("New(audiences on a kind without audience sync) = nil error; want refused")
	}
}
