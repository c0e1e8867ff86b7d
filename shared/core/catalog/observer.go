package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/axiomhq/hyperloglog"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/mapping"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// ObserverOptions tune an Observer. The zero value is ready to use.
type ObserverOptions struct {
	// Clock stamps first and last seen; default time.Now.
	Clock func() time.Time
	// Logger receives a line per failed flush (source names and counts
	// only); default discards.
	Logger *slog.Logger
}

// Observer accumulates the statistics of mapped rows in memory and merges
// them into the store on Flush. It is safe for concurrent use: loaders and
// API requests may share one.
type Observer struct {
	st      Store
	sources map[string]*sourceInfo
	opts    ObserverOptions

	mu      sync.Mutex
	pending map[string]*batch
}

// NewObserver returns an observer of sources (the configuration's
// sources) writing to st; idents are the configuration's identifier
// types, whose normalizers the statistics of identifier fields name.
func NewObserver(sources []config.Source, idents []config.IdentifierType, st Store, opts ObserverOptions) (*Observer, error) {
	if st == nil {
		return nil, fmt.Errorf("catalog: an observer needs a store")
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	o := &Observer{st: st, sources: map[string]*sourceInfo{}, opts: opts, pending: map[string]*batch{}}
	for _, si := range describe(sources, idents) {
		o.sources[si.name] = si
	}
	return o, nil
}

// batch is what one source accumulated since the last flush.
type batch struct {
	info     *sourceInfo
	src      sourceState
	fields   map[string]*fieldAcc
	idents   map[string]*identAcc
	overflow bool
}

type fieldAcc struct {
	st      fieldState
	hll     *hyperloglog.Sketch
	top     *TopK
	samples map[string]bool
}

type identAcc struct {
	values, blocked int64
	top             *TopK
}

// Observe records one row of source as read (row), the record the mapping
// made of it (rec) and the mapping's field errors (errs). Rows rejected
// for a fatal error are observed too: the catalog describes what arrived.
// Observe keeps neither row nor rec.
//
// Samples and top values remember the record they came from (RecordRef
// of rec's key, when rec has an id), so that Forget can remove them when
// the person is erased: rec should carry the id it is committed under.
//
// A path that has no raw row passes a nil row: the record's mapped values
// are then catalogued as a row (see RowOf), and errs count towards the
// source's rejected and warned rows only, since their field names are
// those of a row the catalog does not see.
func (o *Observer) Observe(source string, row map[string]any, rec profile.Record, errs []mapping.FieldError) {
	fromRecord := row == nil
	if fromRecord {
		row = RowOf(&rec)
	}
	ref := ""
	if rec.ID != "" {
		src := rec.Source
		if src == "" {
			src = source
		}
		ref = RecordRef(src + "/" + rec.ID)
	}
	now := o.opts.Clock().UTC()
	o.mu.Lock()
	defer o.mu.Unlock()
	b := o.pending[source]
	if b == nil {
		info := o.sources[source]
		if info == nil {
			info = &sourceInfo{name: source, fields: map[string]*fieldInfo{}}
		}
		b = &batch{info: info, fields: map[string]*fieldAcc{}, idents: map[string]*identAcc{}, src: sourceState{FirstSeen: now}}
		o.pending[source] = b
	}
	b.src.Rows++
	b.src.LastSeen = now
	switch {
	case mapping.HasFatal(errs):
		b.src.Rejected++
	case len(errs) > 0:
		b.src.Warned++
	}
	b.walk("", row, 0, now, ref)
	for _, fe := range errs {
		if fromRecord || fe.Field == "" || fe.Field == mapping.FieldIdentifiers {
			continue
		}
		f := b.field(fe.Field, now)
		if f == nil {
			continue
		}
		switch fe.Reason {
		case mapping.ReasonBlocked:
			f.st.Blocked++
			if fi := b.info.fields[fe.Field]; fi != nil && fi.IdentType != "" {
				b.ident(fi.IdentType).blocked++
			}
		case mapping.ReasonRequired:
			f.st.Required++
		default:
			f.st.Invalid++
		}
		if f.st.Reasons == nil {
			f.st.Reasons = map[string]int64{}
		}
		if _, ok := f.st.Reasons[fe.Reason]; ok || len(f.st.Reasons) < maxReasons {
			f.st.Reasons[fe.Reason]++
		}
	}
	for _, id := range rec.Identifiers {
		a := b.ident(id.Type)
		a.values++
		ph := Placeholder(id.Value)
		display := id.Value
		if !ph {
			display = Mask(id.Value)
		}
		c := Counted{Key: hashKey(id.Type + ":" + id.Value), Display: display, Count: 1, Placeholder: ph}
		if ref != "" {
			c.Refs = []string{ref}
		}
		a.top.add(c)
	}
}

func (b *batch) ident(t string) *identAcc {
	a := b.idents[t]
	if a == nil {
		a = &identAcc{top: NewTopK(batchExact)}
		b.idents[t] = a
	}
	return a
}

// field returns the accumulator of path, nil when the source already has
// MaxFields fields.
func (b *batch) field(path string, now time.Time) *fieldAcc {
	f := b.fields[path]
	if f != nil {
		return f
	}
	if len(b.fields) >= MaxFields {
		b.overflow = true
		return nil
	}
	pii := piiName(path)
	if fi := b.info.fields[path]; fi != nil {
		pii = pii || fi.PII
	}
	f = &fieldAcc{st: fieldState{Types: map[string]int64{}, PII: pii, FirstSeen: now}, top: NewTopK(batchExact)}
	b.fields[path] = f
	return f
}

// walk observes the leaves of a row, flattening nested objects into
// dotted paths; ref is the RecordRef of the row's record.
func (b *batch) walk(prefix string, row map[string]any, depth int, now time.Time, ref string) {
	for k, v := range row {
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		if m, ok := v.(map[string]any); ok && len(m) > 0 && depth < MaxDepth {
			b.walk(path, m, depth+1, now, ref)
			continue
		}
		f := b.field(path, now)
		if f == nil {
			continue
		}
		f.observe(v, now, ref)
	}
}

func (f *fieldAcc) observe(v any, now time.Time, ref string) {
	f.st.Seen++
	f.st.LastSeen = now
	t := Infer(v)
	f.st.Types[t]++
	if t == TypeMissing || t == TypeObject || t == TypeArray {
		return
	}
	f.st.Present++
	s := scalar(v)
	if f.hll == nil {
		f.hll, _ = hyperloglog.NewSketch(hllPrecision, true)
	}
	f.hll.Insert([]byte(s))
	pii := f.st.PII || t == TypeEmail || t == TypePhone
	if pii && !f.st.PII {
		// A personal value in a field not known as personal: mask the
		// field from now on, including what it kept so far.
		f.st.PII = true
		f.top = remask(f.top)
		f.samples = map[string]bool{}
		for i, v := range f.st.Samples {
			f.st.Samples[i] = Mask(v)
			f.samples[f.st.Samples[i]] = true
		}
	}
	display := s
	if pii && !Placeholder(s) {
		display = Mask(s)
	} else if len(display) > maxDisplay {
		display = truncate(display, maxDisplay)
	}
	f.top.AddFrom(hashKey(s), display, ref, 1)
	if len(f.st.Samples) < Samples && !f.samples[display] {
		if f.samples == nil {
			f.samples = map[string]bool{}
		}
		f.samples[display] = true
		f.st.Samples = append(f.st.Samples, display)
		f.st.SampleRefs = append(f.st.SampleRefs, ref)
	}
}

// remask masks the displays of a summary kept in clear.
func remask(t *TopK) *TopK {
	out := NewTopK(t.Cap)
	for _, c := range t.List() {
		c.Display = Mask(c.Display)
		out.add(c)
	}
	return out
}

func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// hashKey is a stable key of a value that does not reveal it.
func hashKey(s string) string {
	h := fnv.New64a()
	h.Write([]byte(s))
	return strconv.FormatUint(h.Sum64(), 36)
}

// Flush merges what was observed since the last flush into the store: for
// each source, its items are read, merged and written back in one change
// (several when a source has more fields than a change may hold), with
// optimistic version checks and retries, so concurrent writers lose
// nothing. An error leaves the failed sources' statistics unrecorded: the
// catalog is an approximation, and ingestion goes on.
func (o *Observer) Flush(ctx context.Context) error {
	o.mu.Lock()
	pend := o.pending
	o.pending = map[string]*batch{}
	o.mu.Unlock()
	var errs []error
	names := make([]string, 0, len(pend))
	for n := range pend {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := o.flushSource(ctx, name, pend[name]); err != nil {
			o.opts.Logger.WarnContext(ctx, "catalog: flush failed", "source", name, "rows", pend[name].src.Rows, "err", err)
			errs = append(errs, fmt.Errorf("catalog: source %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// update merges a batch's part into one stored item.
type update struct {
	kind, sort string
	merge      func(old []byte) ([]byte, error)
}

// maxWrites bounds the writes of one change (DynamoDB transactions hold
// at most 100 items).
const maxWrites = 90

func (o *Observer) flushSource(ctx context.Context, source string, b *batch) error {
	ups := []update{{KindSource, SortSummary, func(old []byte) ([]byte, error) {
		var s sourceState
		if err := unmarshal(old, &s); err != nil {
			return nil, err
		}
		s.Rows += b.src.Rows
		s.Rejected += b.src.Rejected
		s.Warned += b.src.Warned
		s.FirstSeen = earliest(s.FirstSeen, b.src.FirstSeen)
		s.LastSeen = latest(s.LastSeen, b.src.LastSeen)
		return json.Marshal(s)
	}}}
	for t, a := range b.idents {
		ups = append(ups, update{KindIdent, t, func(old []byte) ([]byte, error) {
			var s identState
			if err := unmarshal(old, &s); err != nil {
				return nil, err
			}
			s.Values += a.values
			s.Blocked += a.blocked
			s.Top = mergeCounted(s.Top, a.top.Top(batchTop), TopValues)
			return json.Marshal(s)
		}})
	}
	for path, f := range b.fields {
		ups = append(ups, update{KindField, path, f.merge})
	}
	for start := 0; start < len(ups); start += maxWrites {
		if err := o.apply(ctx, source, ups[start:min(start+maxWrites, len(ups))]); err != nil {
			return err
		}
	}
	return nil
}

func (f *fieldAcc) merge(old []byte) ([]byte, error) {
	var s fieldState
	if err := unmarshal(old, &s); err != nil {
		return nil, err
	}
	if s.Types == nil {
		s.Types = map[string]int64{}
	}
	s.Seen += f.st.Seen
	s.Present += f.st.Present
	for t, n := range f.st.Types {
		s.Types[t] += n
	}
	if f.hll != nil {
		if len(s.HLL) > 0 {
			sk := &hyperloglog.Sketch{}
			if err := sk.UnmarshalBinary(s.HLL); err != nil {
				return nil, fmt.Errorf("decode distinct sketch: %w", err)
			}
			if err := sk.Merge(f.hll); err != nil {
				return nil, fmt.Errorf("merge distinct sketch: %w", err)
			}
			f.hll = sk
		}
		b, err := f.hll.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("encode distinct sketch: %w", err)
		}
		s.HLL = b
	}
	if f.st.PII && !s.PII {
		// The field turned out personal: mask what was kept in clear.
		for i := range s.Top {
			s.Top[i].Display = Mask(s.Top[i].Display)
		}
		for i := range s.Samples {
			s.Samples[i] = Mask(s.Samples[i])
		}
		s.PII = true
	}
	top, samples := f.top.Top(batchTop), f.st.Samples
	for len(s.SampleRefs) < len(s.Samples) {
		s.SampleRefs = append(s.SampleRefs, "") // kept before records were remembered
	}
	if s.PII && !f.st.PII {
		// Another writer found the field personal: mask this batch too.
		for i := range top {
			top[i].Display = Mask(top[i].Display)
		}
		samples = slices.Clone(samples)
		for i := range samples {
			samples[i] = Mask(samples[i])
		}
	}
	s.Top = mergeCounted(s.Top, top, TopValues)
	for i, v := range samples {
		if len(s.Samples) >= Samples {
			break
		}
		if !slices.Contains(s.Samples, v) {
			s.Samples = append(s.Samples, v)
			s.SampleRefs = append(s.SampleRefs, f.st.SampleRefs[i])
		}
	}
	s.Invalid += f.st.Invalid
	s.Blocked += f.st.Blocked
	s.Required += f.st.Required
	for r, n := range f.st.Reasons {
		if s.Reasons == nil {
			s.Reasons = map[string]int64{}
		}
		if _, ok := s.Reasons[r]; ok || len(s.Reasons) < maxReasons {
			s.Reasons[r] += n
		}
	}
	s.FirstSeen = earliest(s.FirstSeen, f.st.FirstSeen)
	s.LastSeen = latest(s.LastSeen, f.st.LastSeen)
	return json.Marshal(s)
}

// apply reads the items of ups, merges and writes them in one change,
// again from a fresh read when another writer got there first.
func (o *Observer) apply(ctx context.Context, source string, ups []update) error {
	const attempts = 12
	for attempt := 1; ; attempt++ {
		cur, err := o.read(ctx, source, ups)
		if err != nil {
			return err
		}
		var ch store.Change
		for _, u := range ups {
			old, ok := cur[u.kind+"\x00"+u.sort]
			val, err := u.merge(old.Value)
			if err != nil {
				return fmt.Errorf("%s %s: %w", u.kind, u.sort, err)
			}
			w := store.ItemWrite{Op: store.ItemCreate, Item: store.Item{Kind: u.kind, Key: source, Sort: u.sort, Value: val}}
			if ok {
				w.Op, w.ExpectVersion = store.ItemReplace, old.Version
			}
			ch.Items = append(ch.Items, w)
		}
		err = o.st.Commit(ctx, ch)
		if err == nil {
			return nil
		}
		if !errors.Is(err, fault.ErrConflict) || attempt == attempts {
			return fmt.Errorf("write statistics: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * 5 * time.Millisecond):
		}
	}
}

// read returns the stored items of ups by kind and sort.
func (o *Observer) read(ctx context.Context, source string, ups []update) (map[string]store.Item, error) {
	kinds := map[string]bool{}
	for _, u := range ups {
		kinds[u.kind] = true
	}
	out := map[string]store.Item{}
	for kind := range kinds {
		items, err := readAll(ctx, o.st, kind, source)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			out[kind+"\x00"+it.Sort] = it
		}
	}
	return out, nil
}

// readAll reads every item of (kind, key).
func readAll(ctx context.Context, st Store, kind, key string) ([]store.Item, error) {
	var all []store.Item
	cursor := ""
	for {
		items, next, err := st.Items(ctx, kind, key, "", "", 500, cursor)
		if err != nil {
			return nil, fmt.Errorf("read %s items: %w", kind, err)
		}
		all = append(all, items...)
		if next == "" {
			return all, nil
		}
		cursor = next
	}
}

func unmarshal(b []byte, v any) error {
	if len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode stored statistics: %w", err)
	}
	return nil
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Throttled wraps o for request paths (the tracking API, webhooks, bus
// events): Observe accumulates as o does, but Flush writes only once at
// least rows rows are pending or the oldest pending row is older than
// maxAge. A Lambda instance then costs the catalog a few writes a minute
// instead of a read-merge-write per request, and busy sources do not
// contend on their catalog items. Rows still pending when an instance
// stops are not catalogued: the catalog is a statistic. rows <= 1 flushes
// on every call, as o does.
func Throttled(o *Observer, rows int, maxAge time.Duration) *ThrottledObserver {
	return &ThrottledObserver{o: o, rows: rows, maxAge: maxAge}
}

// ThrottledObserver is an Observer that flushes in bulk; see Throttled.
type ThrottledObserver struct {
	o       *Observer
	rows    int
	maxAge  time.Duration
	mu      sync.Mutex
	pending int
	since   time.Time
}

// Observe records one row, as Observer.Observe.
func (t *ThrottledObserver) Observe(source string, row map[string]any, rec profile.Record, errs []mapping.FieldError) {
	t.o.Observe(source, row, rec, errs)
	t.mu.Lock()
	if t.pending == 0 {
		t.since = t.o.opts.Clock()
	}
	t.pending++
	t.mu.Unlock()
}

// Flush writes what is pending when enough rows are, or they are old
// enough; otherwise it does nothing.
func (t *ThrottledObserver) Flush(ctx context.Context) error {
	t.mu.Lock()
	due := t.pending > 0 && (t.rows <= 1 || t.pending >= t.rows || t.o.opts.Clock().Sub(t.since) >= t.maxAge)
	if due {
		t.pending = 0
	}
	t.mu.Unlock()
	if !due {
		return nil
	}
	return t.o.Flush(ctx)
}

// FlushPending writes whatever is pending, however few or recent the rows:
// a process that throttles request paths calls it on a timer and when it
// stops, so the catalog lags by at most the timer.
func (t *ThrottledObserver) FlushPending(ctx context.Context) error {
	t.mu.Lock()
	due := t.pending > 0
	t.pending = 0
	t.mu.Unlock()
	if !due {
		return nil
	}
	return t.o.Flush(ctx)
}
