package catalog

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/axiomhq/hyperloglog"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// Catalog is the overview of every configured source (GET /v1/catalog).
type Catalog struct {
	Sources []SourceSummary `json:"sources"`
	// Identifiers is the health of each identifier type over all sources.
	Identifiers []IdentifierHealth `json:"identifiers"`
	Alerts      []Alert            `json:"alerts"`
}

// SourceSummary is one source in the overview.
type SourceSummary struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Rows observed; Rejected had a fatal error, Warned lost a value.
	Rows     int64 `json:"rows"`
	Rejected int64 `json:"rejected"`
	Warned   int64 `json:"warned"`
	Fields   int   `json:"fields"`
	// Completeness is the mean completeness of the mapped fields (of all
	// fields when none is mapped), from 0 to 1.
	Completeness float64    `json:"completeness"`
	FirstSeen    *time.Time `json:"first_seen,omitempty"`
	LastSeen     *time.Time `json:"last_seen,omitempty"`
	Alerts       int        `json:"alerts"`
}

// SourceCatalog is one source in detail (GET /v1/catalog/{source}).
type SourceCatalog struct {
	SourceSummary
	Fields      []FieldProfile     `json:"field_profiles"`
	Identifiers []IdentifierHealth `json:"identifiers"`
	AlertList   []Alert            `json:"alert_list"`
}

// FieldProfile describes one field of a source.
type FieldProfile struct {
	Field string `json:"field"`
	// Type is the inferred type; Types counts the values of each type.
	Type  string           `json:"type"`
	Types map[string]int64 `json:"types"`
	// MappedAs lists the mapping's uses of the field; Normalizer is the
	// normalizer whose invalid rate is reported.
	MappedAs   []string `json:"mapped_as,omitempty"`
	Normalizer string   `json:"normalizer,omitempty"`
	// Present counts non-missing values; Completeness is Present over the
	// source's rows.
	Present      int64   `json:"present"`
	Completeness float64 `json:"completeness"`
	// Distinct is a HyperLogLog estimate (about 1.6% standard error).
	Distinct uint64    `json:"distinct"`
	Top      []Counted `json:"top,omitempty"`
	Samples  []string  `json:"samples,omitempty"`
	// PII marks personal fields: their values are masked.
	PII bool `json:"pii"`
	// Invalid counts values the normalizer refused; InvalidRate is
	// Invalid over Present. Blocked counts block-listed identifier
	// values, RequiredMissing rows without a required value.
	Invalid         int64            `json:"invalid"`
	InvalidRate     float64          `json:"invalid_rate"`
	Blocked         int64            `json:"blocked,omitempty"`
	RequiredMissing int64            `json:"required_missing,omitempty"`
	Reasons         map[string]int64 `json:"reasons,omitempty"`
	FirstSeen       time.Time        `json:"first_seen"`
	LastSeen        time.Time        `json:"last_seen"`
}

// IdentifierHealth shows the most repeated values of an identifier type.
type IdentifierHealth struct {
	Type string `json:"type"`
	// Values counts identifier values observed; Blocked those dropped by
	// the block list.
	Values  int64     `json:"values"`
	Blocked int64     `json:"blocked"`
	Top     []Counted `json:"top"`
	// Suggested are block-list entries for the identifier type's
	// "blocked" list in aurum.yaml.
	Suggested []Suggestion `json:"suggested,omitempty"`
}

// Suggestion is a candidate block-list entry.
type Suggestion struct {
	Type  string `json:"type"`
	Value string `json:"value"`
	Count int64  `json:"count"`
	// Adoptable suggestions are shown in clear, ready to paste into
	// aurum.yaml (all are, today: only placeholders are suggested).
	Adoptable bool   `json:"adoptable"`
	Reason    string `json:"reason"`
}

// Alert is a data-quality finding.
type Alert struct {
	// Severity is "critical" or "warning".
	Severity string `json:"severity"`
	// Kind: invalid_rate, rejected_rate or placeholder.
	Kind    string  `json:"kind"`
	Source  string  `json:"source,omitempty"`
	Field   string  `json:"field,omitempty"`
	Message string  `json:"message"`
	Value   float64 `json:"value"`
}

// Alert thresholds.
const (
	WarnInvalidRate     = 0.02
	CriticalInvalidRate = 0.10
	WarnRejectedRate    = 0.01
	CriticalRejected    = 0.05
)

// Reader assembles the catalog from the store.
type Reader struct {
	st      Store
	sources []*sourceInfo
	// order is the position of each identifier type in the
	// configuration.
	order map[string]int
}

// NewReader returns a reader of the catalog of sources (the
// configuration's sources, shown in this order) from st; idents are the
// configuration's identifier types, in the order identifier health lists
// them.
func NewReader(sources []config.Source, idents []config.IdentifierType, st Store) (*Reader, error) {
	if st == nil {
		return nil, fmt.Errorf("catalog: a reader needs a store")
	}
	r := &Reader{st: st, sources: describe(sources, idents), order: map[string]int{}}
	for i, t := range idents {
		r.order[t.Name] = i
	}
	return r, nil
}

// Catalog returns the overview of every configured source, in
// configuration order, with identifier health over all sources.
func (r *Reader) Catalog(ctx context.Context) (Catalog, error) {
	out := Catalog{Sources: []SourceSummary{}, Identifiers: []IdentifierHealth{}, Alerts: []Alert{}}
	byType := map[string]*IdentifierHealth{}
	var types []string
	for _, si := range r.sources {
		sc, err := r.source(ctx, si)
		if err != nil {
			return Catalog{}, err
		}
		out.Sources = append(out.Sources, sc.SourceSummary)
		for _, a := range sc.AlertList {
			if a.Kind != "placeholder" { // reported once per type below
				out.Alerts = append(out.Alerts, a)
			}
		}
		for _, h := range sc.Identifiers {
			acc := byType[h.Type]
			if acc == nil {
				acc = &IdentifierHealth{Type: h.Type}
				byType[h.Type] = acc
				types = append(types, h.Type)
			}
			acc.Values += h.Values
			acc.Blocked += h.Blocked
			acc.Top = repeatedOnly(mergeCounted(acc.Top, h.Top, TopValues))
		}
	}
	slices.SortFunc(types, func(a, b string) int { return cmp.Compare(r.order[a], r.order[b]) })
	for _, t := range types {
		h := byType[t]
		h.Suggested = suggest(h)
		out.Identifiers = append(out.Identifiers, *h)
		out.Alerts = append(out.Alerts, identAlerts("", h)...)
	}
	sortAlerts(out.Alerts)
	return out, nil
}

// Source returns one source's catalog; an unknown source is
// fault.ErrNotFound.
func (r *Reader) Source(ctx context.Context, name string) (SourceCatalog, error) {
	for _, si := range r.sources {
		if si.name == name {
			return r.source(ctx, si)
		}
	}
	return SourceCatalog{}, fmt.Errorf("catalog: no source %s in the configuration: %w", name, fault.ErrNotFound)
}

func (r *Reader) source(ctx context.Context, si *sourceInfo) (SourceCatalog, error) {
	sc := SourceCatalog{SourceSummary: SourceSummary{Name: si.name, Kind: si.kind},
		Fields: []FieldProfile{}, Identifiers: []IdentifierHealth{}, AlertList: []Alert{}}
	it, err := r.st.Item(ctx, KindSource, si.name, SortSummary)
	switch {
	case errors.Is(err, fault.ErrNotFound):
	case err != nil:
		return sc, fmt.Errorf("catalog: source %s: %w", si.name, err)
	default:
		var s sourceState
		if err := unmarshal(it.Value, &s); err != nil {
			return sc, fmt.Errorf("catalog: source %s: %w", si.name, err)
		}
		sc.Rows, sc.Rejected, sc.Warned = s.Rows, s.Rejected, s.Warned
		if !s.FirstSeen.IsZero() {
			sc.FirstSeen, sc.LastSeen = &s.FirstSeen, &s.LastSeen
		}
	}
	fields, err := readAll(ctx, r.st, KindField, si.name)
	if err != nil {
		return sc, fmt.Errorf("catalog: source %s: %w", si.name, err)
	}
	var sumMapped, sumAll float64
	nMapped := 0
	for _, it := range fields {
		var s fieldState
		if err := unmarshal(it.Value, &s); err != nil {
			return sc, fmt.Errorf("catalog: source %s field %s: %w", si.name, it.Sort, err)
		}
		fp := profileOf(it.Sort, &s, sc.Rows)
		if fi := si.fields[it.Sort]; fi != nil {
			fp.MappedAs, fp.Normalizer = fi.MappedAs, fi.Normalizer
			sumMapped += fp.Completeness
			nMapped++
		}
		sumAll += fp.Completeness
		sc.Fields = append(sc.Fields, fp)
		sc.AlertList = append(sc.AlertList, fieldAlerts(si.name, &fp)...)
	}
	// Mapped fields first, then by name.
	slices.SortFunc(sc.Fields, func(a, b FieldProfile) int {
		if (len(a.MappedAs) > 0) != (len(b.MappedAs) > 0) {
			if len(a.MappedAs) > 0 {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Field, b.Field)
	})
	sc.SourceSummary.Fields = len(sc.Fields)
	switch {
	case nMapped > 0:
		sc.Completeness = round(sumMapped / float64(nMapped))
	case len(sc.Fields) > 0:
		sc.Completeness = round(sumAll / float64(len(sc.Fields)))
	}
	idents, err := readAll(ctx, r.st, KindIdent, si.name)
	if err != nil {
		return sc, fmt.Errorf("catalog: source %s: %w", si.name, err)
	}
	for _, it := range idents {
		var s identState
		if err := unmarshal(it.Value, &s); err != nil {
			return sc, fmt.Errorf("catalog: source %s identifier %s: %w", si.name, it.Sort, err)
		}
		h := IdentifierHealth{Type: it.Sort, Values: s.Values, Blocked: s.Blocked, Top: repeatedOnly(shown(s.Top))}
		h.Suggested = suggest(&h)
		sc.Identifiers = append(sc.Identifiers, h)
		sc.AlertList = append(sc.AlertList, identAlerts(si.name, &h)...)
	}
	if sc.Rows > 0 {
		rate := float64(sc.Rejected) / float64(sc.Rows)
		if rate >= WarnRejectedRate {
			sc.AlertList = append(sc.AlertList, Alert{Severity: severity(rate, CriticalRejected), Kind: "rejected_rate", Source: si.name,
				Message: fmt.Sprintf("%s: %d of %d rows rejected (%.1f%%)", si.name, sc.Rejected, sc.Rows, 100*rate), Value: round(rate)})
		}
	}
	sortAlerts(sc.AlertList)
	sc.Alerts = len(sc.AlertList)
	return sc, nil
}

func profileOf(path string, s *fieldState, rows int64) FieldProfile {
	top := shown(s.Top)
	if s.Present > TopValues {
		top = repeatedOnly(top)
	}
	fp := FieldProfile{Field: path, Type: dominant(s.Types), Types: s.Types, Present: s.Present, Top: top,
		Samples: s.Samples, PII: s.PII, Invalid: s.Invalid, Blocked: s.Blocked, RequiredMissing: s.Required,
		Reasons: s.Reasons, FirstSeen: s.FirstSeen, LastSeen: s.LastSeen}
	if rows > 0 {
		fp.Completeness = round(math.Min(1, float64(s.Present)/float64(rows)))
	}
	if s.Present > 0 {
		fp.InvalidRate = round(math.Min(1, float64(s.Invalid)/float64(s.Present)))
	}
	if len(s.HLL) > 0 {
		sk := &hyperloglog.Sketch{}
		if err := sk.UnmarshalBinary(s.HLL); err == nil {
			fp.Distinct = min(sk.Estimate(), uint64(s.Present))
		}
	}
	return fp
}

func fieldAlerts(source string, fp *FieldProfile) []Alert {
	if fp.Invalid == 0 || fp.InvalidRate < WarnInvalidRate {
		return nil
	}
	norm := fp.Normalizer
	if norm == "" {
		norm = "mapping"
	}
	return []Alert{{Severity: severity(fp.InvalidRate, CriticalInvalidRate), Kind: "invalid_rate", Source: source, Field: fp.Field,
		Message: fmt.Sprintf("%s.%s: %.1f%% of values rejected by the %s normalizer (%d of %d)",
			source, fp.Field, 100*fp.InvalidRate, norm, fp.Invalid, fp.Present), Value: fp.InvalidRate}}
}

func identAlerts(source string, h *IdentifierHealth) []Alert {
	var out []Alert
	where := h.Type
	if source != "" {
		where = source + ": " + h.Type
	}
	for _, s := range h.Suggested {
		out = append(out, Alert{Severity: "critical", Kind: "placeholder", Source: source, Field: h.Type, Value: float64(s.Count),
			Message: fmt.Sprintf("%s placeholder %s seen %d times: add it to the block list", where, s.Value, s.Count)})
	}
	return out
}

// suggest lists block-list candidates: placeholders surely seen more than
// once. Other repeated values are not suggested: the records of one
// person repeat its identifiers (every event of a visitor carries its
// anonymous id), so a repeat alone says nothing.
func suggest(h *IdentifierHealth) []Suggestion {
	var out []Suggestion
	for _, c := range h.Top {
		if c.Placeholder && c.Count-c.Err >= 2 { // Space-Saving never under-counts
			out = append(out, Suggestion{Type: h.Type, Value: c.Display, Count: c.Count, Adoptable: true, Reason: "placeholder pattern"})
		}
	}
	return out
}

// shown returns top without the stored contributor references.
func shown(top []Counted) []Counted {
	if top == nil {
		return nil
	}
	out := make([]Counted, len(top))
	for i, c := range top {
		c.Refs = nil
		out[i] = c
	}
	return out
}

// repeatedOnly keeps the heavy hitters surely seen more than once: in a
// field of unique values the summary holds only noise.
func repeatedOnly(top []Counted) []Counted {
	out := []Counted{}
	for _, c := range top {
		if c.Count-c.Err >= 2 {
			out = append(out, c)
		}
	}
	return out
}

func severity(v, critical float64) string {
	if v >= critical {
		return "critical"
	}
	return "warning"
}

func sortAlerts(a []Alert) {
	slices.SortStableFunc(a, func(x, y Alert) int {
		if x.Severity != y.Severity {
			if x.Severity == "critical" {
				return -1
			}
			return 1
		}
		return cmp.Compare(y.Value, x.Value)
	})
}

func round(f float64) float64 { return math.Round(f*10000) / 10000 }
