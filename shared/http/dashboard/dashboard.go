// Package dashboard is Aurum's web console: a single page (HTML, CSS and
// vanilla JavaScript embedded in the binary, charts drawn as inline SVG,
// no build step) that shows sources and their catalog, data-quality
// alerts, identity match statistics, segments with live counts and
// trends, profile search with provenance, merge and segment history, and
// recent trigger firings.
//
// Static serves the page and its assets; they hold no data and need no
// key. Handler serves the few JSON routes the page needs beyond the API
// (identity statistics, segment trends, merge history, recent triggers):
// mount it behind the API's read authorization. The page sends the key a
// user enters as a Bearer token; local mode reads from loopback need none.
package dashboard

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/aurum-cdp/aurum/shared/http/httperr"

	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/core/segment"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

//go:embed static
var assets embed.FS

// Store item kinds the dashboard owns.
const (
	// KindSegmentCount holds count snapshots: Key is the segment id, Sort
	// the snapshot time (RFC 3339, UTC), N the count.
	KindSegmentCount = "dash.segcount"
	// KindFired holds recent trigger firings: Key is FiredKey, Sort the
	// inverted firing time and firing id (newest first), Value the
	// TriggerFired detail.
	KindFired = "dash.fired"
	// FiredKey is the Key of KindFired items.
	FiredKey = "recent"
	// KindClusters holds the latest cluster-size histogram computed by a
	// background scan (local mode): Key and Sort are "latest".
	KindClusters = "dash.clusters"
)

// Defaults.
const (
	DefaultSnapshotEvery = 15 * time.Minute
	DefaultSnapshotTTL   = 90 * 24 * time.Hour
	DefaultFiredTTL      = 30 * 24 * time.Hour
	MaxRecentFired       = 100
)

// Store is the part of store.Store the dashboard uses.
type Store interface {
	Item(ctx context.Context, kind, key, sort string) (store.Item, error)
	Items(ctx context.Context, kind, key, from, to string, limit int, cursor string) ([]store.Item, string, error)
	Commit(ctx context.Context, changes ...store.Change) error
	Profile(ctx context.Context, id string) (profile.Profile, error)
}

// Deps are what the dashboard reads.
type Deps struct {
	Store Store
	// Identity computes match statistics from the pipeline's counters.
	Identity *identity.Engine
	// Segments lists the configured segments and their live counts.
	Segments *segment.Evaluator
	// Now is the clock; default time.Now.
	Now func() time.Time
	// SnapshotEvery is the spacing of segment count snapshots, taken when
	// a trend is read (and by Snapshotter.Run); default 15 minutes.
	SnapshotEvery time.Duration
}

// Static serves the page at / and its assets under /assets/.
func Static() http.Handler {
	sub, err := fs.Sub(assets, "static")
	if err != nil {
		// The embedded folder is part of the binary: this cannot happen.
		return http.NotFoundHandler()
	}
	files := http.FileServerFS(sub)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'")
		http.ServeFileFS(w, r, sub, "index.html")
	})
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", cacheShort(files)))
	return mux
}

func cacheShort(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}

// WithStatic serves the page and its assets in front of api (the API's
// handler), which serves everything else.
func WithStatic(api http.Handler) http.Handler {
	static := Static()
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", static)
	mux.Handle("GET /assets/", static)
	mux.Handle("/", api)
	return mux
}

// Routes are the patterns Handler serves, for api.Options.Mounts.
var Routes = []string{
	"GET /v1/dashboard/identity",
	"GET /v1/dashboard/segments/trend",
	"GET /v1/dashboard/profiles/{id}/merges",
	"GET /v1/dashboard/triggers",
}

// Handler serves:
//
//	GET /v1/dashboard/identity                match statistics per rule, cluster sizes
//	GET /v1/dashboard/segments/trend?days=N   count snapshots per segment (default 30 days)
//	GET /v1/dashboard/profiles/{id}/merges    the profile's merge ledger, newest first
//	GET /v1/dashboard/triggers?limit=N        recent trigger firings, newest first
func Handler(d Deps) http.Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.SnapshotEvery <= 0 {
		d.SnapshotEvery = DefaultSnapshotEvery
	}
	h := &handler{d: d, snap: &Snapshotter{deps: d}}
	mux := http.NewServeMux()
	mux.HandleFunc(Routes[0], h.identity)
	mux.HandleFunc(Routes[1], h.trend)
	mux.HandleFunc(Routes[2], h.merges)
	mux.HandleFunc(Routes[3], h.triggers)
	return mux
}

type handler struct {
	d    Deps
	snap *Snapshotter
}

// IdentityStats is the answer of GET /v1/dashboard/identity.
type IdentityStats struct {
	identity.Stats
	// ClustersAt is when the cluster histogram was computed; nil when no
	// histogram is available (streaming keeps no cluster sizes).
	ClustersAt *time.Time `json:"clusters_at,omitempty"`
	// Note explains what is missing, for the page to show.
	Note string `json:"note,omitempty"`
}

func (h *handler) identity(w http.ResponseWriter, r *http.Request) {
	if h.d.Identity == nil {
		httperr.Write(w, fmt.Errorf("dashboard: no identity engine: %w", fault.ErrNotFound))
		return
	}
	s, err := h.d.Identity.StreamStats(r.Context(), h.d.Store)
	if err != nil {
		httperr.Write(w, err)
		return
	}
	out := IdentityStats{Stats: s}
	it, err := h.d.Store.Item(r.Context(), KindClusters, "latest", "latest")
	switch {
	case err == nil:
		var c clusterSnapshot
		if err := json.Unmarshal(it.Value, &c); err == nil {
			out.Histogram, out.Largest, out.Clusters, out.Records = c.Histogram, c.Largest, c.Clusters, c.Records
			out.ClustersAt = &c.At
		}
	case errors.Is(err, fault.ErrNotFound):
		out.Note = "cluster sizes are computed by batch resolution (aurum resolve) and by local mode's background scan; none is available yet"
	default:
		httperr.Write(w, err)
		return
	}
	if out.Histogram == nil {
		out.Histogram = []identity.Bucket{}
	}
	httperr.JSON(w, http.StatusOK, out)
}

// Trend is one segment's count snapshots.
type Trend struct {
	Segment string  `json:"segment_id"`
	Name    string  `json:"name,omitempty"`
	Count   int64   `json:"count"`
	Points  []Point `json:"points"`
}

// Point is one snapshot.
type Point struct {
	At    time.Time `json:"at"`
	Count int64     `json:"count"`
}

func (h *handler) trend(w http.ResponseWriter, r *http.Request) {
	days, err := httperr.IntParam(r, "days", 30, 1, 365)
	if err != nil {
		httperr.Write(w, err)
		return
	}
	ctx := r.Context()
	counts, err := h.snap.MaybeSnapshot(ctx)
	if err != nil {
		httperr.Write(w, err)
		return
	}
	from := h.d.Now().UTC().Add(-time.Duration(days) * 24 * time.Hour).Format(time.RFC3339)
	out := []Trend{}
	for _, s := range h.d.Segments.Segments() {
		t := Trend{Segment: s.ID, Name: s.Name, Count: counts[s.ID], Points: []Point{}}
		items, _, err := h.d.Store.Items(ctx, KindSegmentCount, s.ID, from, "", 1000, "")
		if err != nil {
			httperr.Write(w, err)
			return
		}
		for _, it := range items {
			at, err := time.Parse(time.RFC3339, it.Sort)
			if err != nil {
				continue
			}
			t.Points = append(t.Points, Point{At: at, Count: it.N})
		}
		out = append(out, t)
	}
	httperr.JSON(w, http.StatusOK, map[string]any{"segments": out})
}

func (h *handler) merges(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, err := h.d.Store.Profile(ctx, r.PathValue("id"))
	if err != nil {
		httperr.Write(w, err)
		return
	}
	// The ledger is keyed by survivor: read the live profile's entries and
	// those of the profiles merged into it (bounded).
	keys := append([]string{p.ID}, p.MergedFrom...)
	keys = keys[:min(len(keys), 50)]
	out := []identity.LedgerEntry{}
	for _, k := range keys {
		items, _, err := h.d.Store.Items(ctx, identity.ItemLedger, k, "", "", 100, "")
		if err != nil {
			httperr.Write(w, err)
			return
		}
		for _, it := range items {
			var e identity.LedgerEntry
			if err := json.Unmarshal(it.Value, &e); err == nil {
				out = append(out, e)
			}
		}
	}
	slices.SortFunc(out, func(a, b identity.LedgerEntry) int {
		if a.At != b.At {
			if a.At > b.At {
				return -1
			}
			return 1
		}
		return 0
	})
	httperr.JSON(w, http.StatusOK, map[string]any{"profile_id": p.ID, "merges": out})
}

func (h *handler) triggers(w http.ResponseWriter, r *http.Request) {
	n, err := httperr.IntParam(r, "limit", 20, 1, MaxRecentFired)
	if err != nil {
		httperr.Write(w, err)
		return
	}
	fired, err := Recent(r.Context(), h.d.Store, n, h.d.Now())
	if err != nil {
		httperr.Write(w, err)
		return
	}
	httperr.JSON(w, http.StatusOK, map[string]any{"triggers": fired})
}

// Snapshotter stores segment count snapshots, at most one per interval.
type Snapshotter struct {
	deps Deps
	mu   sync.Mutex
	last time.Time
}

// NewSnapshotter returns a snapshotter over d.
func NewSnapshotter(d Deps) *Snapshotter {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.SnapshotEvery <= 0 {
		d.SnapshotEvery = DefaultSnapshotEvery
	}
	return &Snapshotter{deps: d}
}

// MaybeSnapshot returns the live counts and stores them as a snapshot
// when the last one is older than the interval. Concurrent writers of one
// snapshot time write it once.
func (s *Snapshotter) MaybeSnapshot(ctx context.Context) (map[string]int64, error) {
	counts, err := s.deps.Segments.Counts(ctx, s.deps.Store)
	if err != nil {
		return nil, fmt.Errorf("dashboard: segment counts: %w", err)
	}
	now := s.deps.Now().UTC()
	slot := now.Truncate(s.deps.SnapshotEvery)
	s.mu.Lock()
	due := !slot.Equal(s.last)
	s.mu.Unlock()
	if !due {
		return counts, nil
	}
	sort := slot.Format(time.RFC3339)
	for _, seg := range s.deps.Segments.Segments() {
		ch := store.Change{Items: []store.ItemWrite{{Op: store.ItemCreate,
			Item: store.Item{Kind: KindSegmentCount, Key: seg.ID, Sort: sort, N: counts[seg.ID], Expires: now.Add(DefaultSnapshotTTL)}}}}
		if err := s.deps.Store.Commit(ctx, ch); err != nil && !errors.Is(err, fault.ErrConflict) {
			return nil, fmt.Errorf("dashboard: store segment snapshot: %w", err)
		}
	}
	s.mu.Lock()
	s.last = slot
	s.mu.Unlock()
	return counts, nil
}

// Run takes a snapshot every interval until ctx is done.
func (s *Snapshotter) Run(ctx context.Context) error {
	t := time.NewTicker(s.deps.SnapshotEvery)
	defer t.Stop()
	for {
		if _, err := s.MaybeSnapshot(ctx); err != nil && ctx.Err() == nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Recorder keeps recent TriggerFired events as store items, for the
// dashboard; its Handle is a bus handler (subscribe it to TriggerFired).
type Recorder struct {
	st  Store
	now func() time.Time
}

// NewRecorder returns a recorder writing to st.
func NewRecorder(st Store, now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	return &Recorder{st: st, now: now}
}

// Handle records one TriggerFired event; other events are ignored.
func (r *Recorder) Handle(ctx context.Context, env events.Envelope) error {
	if env.DetailType != events.TypeTriggerFired {
		return nil
	}
	var f events.TriggerFired
	if err := json.Unmarshal(env.Detail, &f); err != nil {
		return fmt.Errorf("dashboard: decode TriggerFired %s: %w", env.ID, err)
	}
	at := f.FiredAt
	if at.IsZero() {
		at = env.Time
	}
	val, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("dashboard: encode firing: %w", err)
	}
	ch := store.Change{Items: []store.ItemWrite{{Op: store.ItemPut, Item: store.Item{Kind: KindFired, Key: FiredKey,
		Sort: invertedSort(at, f.FiringID), Value: val, Expires: r.now().Add(DefaultFiredTTL)}}}}
	if err := r.st.Commit(ctx, ch); err != nil {
		return fmt.Errorf("dashboard: record firing %s: %w", f.FiringID, err)
	}
	return nil
}

// invertedSort orders newer times first.
func invertedSort(t time.Time, id string) string {
	return fmt.Sprintf("%019d|%s", math.MaxInt64-t.UnixNano(), id)
}

// Recent returns the newest recorded firings, at most n, skipping expired
// ones.
func Recent(ctx context.Context, st Store, n int, now time.Time) ([]events.TriggerFired, error) {
	items, _, err := st.Items(ctx, KindFired, FiredKey, "", "", n, "")
	if err != nil {
		return nil, fmt.Errorf("dashboard: recent firings: %w", err)
	}
	out := []events.TriggerFired{}
	for _, it := range items {
		if !it.Expires.IsZero() && !it.Expires.After(now) {
			continue
		}
		var f events.TriggerFired
		if err := json.Unmarshal(it.Value, &f); err == nil {
			out = append(out, f)
		}
	}
	return out, nil
}

// clusterSnapshot is the value of the KindClusters item.
type clusterSnapshot struct {
	At        time.Time              `json:"at"`
	Records   int                    `json:"records"`
	Clusters  int                    `json:"clusters"`
	Histogram []identity.Bucket      `json:"histogram"`
	Largest   []identity.ClusterSize `json:"largest"`
}

// SnapshotClusters computes the cluster-size histogram from every live
// profile's record count and stores it. It scans every profile: run it
// in the background (local mode), never on a request path.
func SnapshotClusters(ctx context.Context, st Store, profiles func(yield func(*profile.Profile, error) bool), now time.Time) error {
	c := clusterSnapshot{At: now.UTC(), Histogram: identity.HistogramBuckets()}
	for p, err := range profiles {
		if err != nil {
			return fmt.Errorf("dashboard: scan profiles: %w", err)
		}
		n := max(p.RecordCount, 1)
		c.Clusters++
		c.Records += n
		c.Histogram[identity.BucketOf(n)].Clusters++
		c.Largest = append(c.Largest, identity.ClusterSize{ProfileID: p.ID, Records: n})
		slices.SortFunc(c.Largest, func(a, b identity.ClusterSize) int {
			if a.Records != b.Records {
				return b.Records - a.Records
			}
			if a.ProfileID < b.ProfileID {
				return -1
			}
			return 1
		})
		c.Largest = c.Largest[:min(len(c.Largest), identity.MaxLargest)]
	}
	val, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("dashboard: encode clusters: %w", err)
	}
	if err := st.Commit(ctx, store.Change{Items: []store.ItemWrite{{Op: store.ItemPut,
		Item: store.Item{Kind: KindClusters, Key: "latest", Sort: "latest", Value: val}}}}); err != nil {
		return fmt.Errorf("dashboard: store clusters: %w", err)
	}
	return nil
}
