package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aurum-cdp/aurum/shared/core/mapping"
	"github.com/aurum-cdp/aurum/shared/http/httperr"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// webhookResponse is the body of a 200 answer to a webhook.
type webhookResponse struct {
	Success bool `json:"success"`
	// EventID is the event id the records derive from.
	EventID    string `json:"event_id"`
	Accepted   int    `json:"accepted"`
	Duplicates int    `json:"duplicates"`
	// Rejected lists the items the mapping refused (field names and
	// reasons, never values). They are not retried: a re-delivery would
	// be refused the same way.
	Rejected []itemReport `json:"rejected,omitempty"`
}

// webhook serves POST /v1/webhooks/{source}. The order matters: rate
// limit, raw body, signature (any failure: a bare 401), then parsing.
func (a *API) webhook(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	st := requestStats(ctx)
	name := r.PathValue("source")
	src, ok := a.hooks[name]
	if !ok {
		return &apiError{kind: fault.ErrNotFound, code: "not_found", msg: "no such webhook source"}
	}
	st.source = name
	if err := a.limit("h:" + name); err != nil {
		return err
	}
	if enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc != "" && enc != "identity" {
		return &apiError{kind: fault.ErrInvalid, status: http.StatusUnsupportedMediaType,
			code: "unsupported_encoding", msg: "webhook bodies are verified as sent: Content-Encoding must be identity"}
	}
	limit := a.opts.MaxWebhookBytes
	body, err := io.ReadAll(io.LimitReader(http.MaxBytesReader(w, r.Body, int64(limit)+1), int64(limit)+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe) || len(body) > limit:
		return &apiError{kind: fault.ErrTooLarge, code: "too_large", msg: fmt.Sprintf("request body exceeds %d bytes", limit)}
	case err != nil:
		return invalid("body: could not be read")
	}
	secret, err := a.secrets.get(ctx, src.Secret())
	if err != nil {
		return err
	}
	if len(secret) == 0 {
		a.log.WarnContext(ctx, "webhook secret not available; requests are refused", "source", name)
	}
	received := a.deps.Now().UTC()
	if err := src.Verify(secret, r.Header, body, received); err != nil {
		return unauthorized("unauthorized")
	}
	eventID, items, err := src.Parse(r.Header, body, received)
	if err != nil {
		msg := "invalid payload"
		if errors.Is(err, fault.ErrInvalid) {
			// inbound's messages name fields and rules, never values.
			msg = strings.TrimPrefix(err.Error(), fault.ErrInvalid.Error()+": ")
		}
		return invalid(msg)
	}
	resp := webhookResponse{Success: true, EventID: eventID}
	if a.deps.Observer != nil {
		// The items' raw rows stay inside package inbound: the catalog
		// sees the mapped values (a nil row) and counts the errors.
		for _, it := range items {
			a.deps.Observer.Observe(name, nil, it.Record, it.Errors)
		}
		defer a.flushObserver(ctx, name)
	}
	var recs []profile.Record
	for _, it := range items {
		if it.Rejected {
			var fatal []mapping.FieldError
			for _, fe := range it.Errors {
				if fe.Fatal {
					fatal = append(fatal, fe)
				}
			}
			resp.Rejected = append(resp.Rejected, itemReport{Index: it.Index, Code: "invalid", Errors: fatal})
			continue
		}
		recs = append(recs, it.Record)
	}
	st.messages, st.rejected = len(items), len(resp.Rejected)
	if len(recs) > 0 {
		res, err := a.deps.Ingester.Ingest(ctx, recs)
		if err != nil {
			return fmt.Errorf("api: ingest webhook %s: %w", name, err)
		}
		resp.Accepted, resp.Duplicates = res.Accepted, res.Duplicates
	}
	st.accepted, st.duplicates = resp.Accepted, resp.Duplicates
	httperr.JSON(w, http.StatusOK, resp)
	return nil
}
