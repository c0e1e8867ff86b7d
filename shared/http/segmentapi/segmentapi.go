// Package segmentapi serves Aurum's segment routes: segment listings with
// live counts and member samples, previews of draft expressions, and a
// profile's memberships and membership history.
//
// The handler carries no authentication: mount it behind the API's read
// authorization (package api).
package segmentapi

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"time"

	"github.com/aurum-cdp/aurum/shared/http/httperr"

	"github.com/aurum-cdp/aurum/shared/core/segment"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// Profiles reads profiles by id (following merge redirects).
type Profiles interface {
	Profile(ctx context.Context, id string) (profile.Profile, error)
}

// Deps are what the handler reads.
type Deps struct {
	Eval     *segment.Evaluator
	Items    segment.ItemLister
	Profiles Profiles
	// Scan yields the profiles a preview runs over; nil disables
	// POST /v1/segments/preview (501).
	Scan func(ctx context.Context) iter.Seq2[*profile.Profile, error]
	// PreviewLimit bounds the profiles one preview scans; default 100000.
	PreviewLimit int
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Handler serves:
//
//	GET  /v1/segments                          segments with live counts
//	GET  /v1/segments/{id}?sample=N            one segment, count, N members (default 10, max 100)
//	POST /v1/segments/preview                  {"expr": "...", "sample": N} → count and sample
//	GET  /v1/profiles/{id}/segments            current memberships with since
//	GET  /v1/profiles/{id}/segments/history    ?limit=&cursor= entered/exited entries, oldest first
func Handler(d Deps) http.Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.PreviewLimit <= 0 {
		d.PreviewLimit = 100_000
	}
	h := &handler{d: d}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/segments", h.list)
	mux.HandleFunc("GET /v1/segments/{id}", h.get)
	mux.HandleFunc("POST /v1/segments/preview", h.preview)
	mux.HandleFunc("GET /v1/profiles/{id}/segments", h.profileSegments)
	mux.HandleFunc("GET /v1/profiles/{id}/segments/history", h.history)
	return mux
}

type handler struct{ d Deps }

// SegmentInfo describes one segment in listings.
type SegmentInfo struct {
	ID          string   `json:"id"`
	Name        string   `json:"name,omitempty"`
	Description string   `json:"description,omitempty"`
	Expr        string   `json:"expr"`
	Tags        []string `json:"tags,omitempty"`
	// Timed segments change with time alone and are re-evaluated when a
	// window closes.
	Timed   bool             `json:"timed"`
	Count   int64            `json:"count"`
	Members []segment.Member `json:"sample,omitempty"`
}

func info(s *segment.Segment, n int64) SegmentInfo {
	return SegmentInfo{ID: s.ID, Name: s.Name, Description: s.Description, Expr: s.Expr, Tags: s.Tags, Timed: s.Timed(), Count: n}
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	counts, err := h.d.Eval.Counts(r.Context(), h.d.Items)
	if err != nil {
		httperr.Write(w, err)
		return
	}
	out := []SegmentInfo{}
	for _, s := range h.d.Eval.Segments() {
		out = append(out, info(s, counts[s.ID]))
	}
	httperr.JSON(w, http.StatusOK, map[string]any{"segments": out})
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	s, ok := h.d.Eval.Segment(r.PathValue("id"))
	if !ok {
		httperr.Write(w, fault.ErrNotFound)
		return
	}
	n, err := httperr.IntParam(r, "sample", 10, 0, 100)
	if err != nil {
		httperr.Write(w, err)
		return
	}
	count, err := segment.Count(r.Context(), h.d.Items, s.ID)
	if err != nil {
		httperr.Write(w, err)
		return
	}
	si := info(s, count)
	if n > 0 {
		if si.Members, err = segment.Sample(r.Context(), h.d.Items, s.ID, n); err != nil {
			httperr.Write(w, err)
			return
		}
	}
	httperr.JSON(w, http.StatusOK, si)
}

// PreviewRequest is the body of POST /v1/segments/preview.
type PreviewRequest struct {
	Expr   string `json:"expr"`
	Sample int    `json:"sample"`
}

func (h *handler) preview(w http.ResponseWriter, r *http.Request) {
	if h.d.Scan == nil {
		httperr.NotImplemented(w, "preview is not available in this deployment")
		return
	}
	var req PreviewRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		httperr.Write(w, fault.Invalidf("body: %v", err))
		return
	}
	if req.Sample <= 0 {
		req.Sample = 10
	}
	req.Sample = min(req.Sample, 100)
	if err := h.d.Eval.Check(req.Expr); err != nil {
		httperr.Write(w, fault.Invalidf("%v", err))
		return
	}
	limit := h.d.PreviewLimit
	src := h.d.Scan(r.Context())
	bounded := func(yield func(*profile.Profile, error) bool) {
		n := 0
		for p, err := range src {
			if n >= limit || !yield(p, err) {
				return
			}
			n++
		}
	}
	res, err := h.d.Eval.Preview(r.Context(), req.Expr, bounded, req.Sample, h.d.Now())
	if err != nil {
		httperr.Write(w, err)
		return
	}
	httperr.JSON(w, http.StatusOK, struct {
		segment.PreviewResult
		Truncated bool `json:"truncated"`
	}{res, res.Scanned >= limit})
}

// ProfileSegments is the body of GET /v1/profiles/{id}/segments.
type ProfileSegments struct {
	ProfileID  string       `json:"profile_id"`
	Segments   []Membership `json:"segments"`
	NextEvalAt time.Time    `json:"next_eval_at,omitzero"`
	RFM        *profile.RFM `json:"rfm,omitempty"`
}

// Membership is one segment a profile is in.
type Membership struct {
	SegmentID string    `json:"segment_id"`
	Since     time.Time `json:"since"`
}

func (h *handler) profileSegments(w http.ResponseWriter, r *http.Request) {
	p, err := h.d.Profiles.Profile(r.Context(), r.PathValue("id"))
	if err != nil {
		httperr.Write(w, err)
		return
	}
	out := ProfileSegments{ProfileID: p.ID, Segments: []Membership{}, NextEvalAt: p.NextEvalAt, RFM: p.RFM}
	for _, s := range h.d.Eval.Segments() {
		if since, ok := p.Segments[s.ID]; ok {
			out.Segments = append(out.Segments, Membership{SegmentID: s.ID, Since: since})
		}
	}
	httperr.JSON(w, http.StatusOK, out)
}

func (h *handler) history(w http.ResponseWriter, r *http.Request) {
	p, err := h.d.Profiles.Profile(r.Context(), r.PathValue("id"))
	if err != nil {
		httperr.Write(w, err)
		return
	}
	limit, err := httperr.IntParam(r, "limit", 100, 1, 1000)
	if err != nil {
		httperr.Write(w, err)
		return
	}
	entries, next, err := segment.History(r.Context(), h.d.Items, p.ID, limit, r.URL.Query().Get("cursor"))
	if err != nil {
		httperr.Write(w, err)
		return
	}
	httperr.JSON(w, http.StatusOK, map[string]any{"profile_id": p.ID, "entries": entries, "next_cursor": next})
}
