package api

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/consent"
	"github.com/aurum-cdp/aurum/shared/core/golden"
	"github.com/aurum-cdp/aurum/shared/core/mapping"
	"github.com/aurum-cdp/aurum/shared/http/httperr"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// Segment call types.
const (
	callIdentify = "identify"
	callTrack    = "track"
	callPage     = "page"
	callScreen   = "screen"
	callGroup    = "group"
	callAlias    = "alias"
	callBatch    = "batch"
)

// maxMessageIDLen is Segment's bound on messageId ("fewer than 100
// characters"); it also keeps store keys short.
const maxMessageIDLen = 100

// contextProperty is the reserved event property that keeps a small
// message context (without context.traits).
const contextProperty = "_context"

// trackResponse is the body of a 200 answer to a tracking call. Segment
// SDKs only look at the status; {"success":true} is what Segment sends.
type trackResponse struct {
	Success bool `json:"success"`
	// Accepted messages were committed by this request. Concurrent
	// requests carrying the same messageId accept it once between them.
	Accepted int `json:"accepted"`
	// Duplicates were committed before or by a concurrent request (same
	// messageId), or repeated within this request: nothing changed.
	Duplicates int `json:"duplicates"`
	// Rejected lists the messages of a batch that were not accepted.
	Rejected []itemReport `json:"rejected,omitempty"`
	// Warnings lists accepted messages some of whose values were dropped.
	Warnings []itemReport `json:"warnings,omitempty"`
}

// itemReport describes what went wrong with one message of a request.
type itemReport struct {
	// Index is the message's position in the batch (0 for single calls).
	Index     int    `json:"index"`
	MessageID string `json:"messageId,omitempty"`
	// Code is invalid or too_large.
	Code   string               `json:"code,omitempty"`
	Errors []mapping.FieldError `json:"errors"`
}

// prepared is one message turned into a record, or rejected.
type prepared struct {
	index    int
	rec      profile.Record
	report   *itemReport // rejection
	warnings []mapping.FieldError
	// row is the message as received (without writeKey), nil when it
	// was not a JSON object; errs are all its field errors. Both go to
	// Deps.Observer.
	row  map[string]any
	errs []mapping.FieldError
	// alias candidates for previousId, see aliasCandidates.
	fromAnon, fromUser []profile.Identifier
}

// tracking serves one tracking route; call is the Segment call type or
// "batch".
func (a *API) tracking(call string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		allowCORS(w)
		ctx := r.Context()
		st := requestStats(ctx)
		received := a.deps.Now().UTC()

		// A Basic header is checked before the body is read.
		var src *apiSource
		if _, ok := basicUser(r); ok {
			s, err := a.authorizeWrite(ctx, r, "")
			if err != nil {
				return err
			}
			src = s
		}
		limit := a.opts.MaxEventBytes
		if call == callBatch {
			limit = a.opts.MaxBatchBytes
		}
		body, err := readBody(w, r, limit)
		if err != nil {
			return err
		}
		var top map[string]json.RawMessage
		if err := decodeJSON(body, &top); err != nil {
			return err
		}
		if src == nil {
			s, err := a.authorizeWrite(ctx, r, bodyWriteKey(top))
			if err != nil {
				return err
			}
			src = s
		}
		st.source = src.src.Name

		var items []prepared
		if call == callBatch {
			items, err = a.prepareBatch(top, src, received)
			if err != nil {
				return err
			}
		} else {
			var row map[string]any
			if err := decodeJSON(body, &row); err != nil {
				return err
			}
			items = []prepared{rejectInvalidUTF8(a.prepare(0, row, call, "", src, received), body)}
		}
		if err := a.resolveAliases(ctx, items); err != nil {
			return err
		}
		return a.ingest(ctx, w, call, src.src.Name, items)
	}
}

// prepareBatch decodes and prepares the messages of a batch body.
func (a *API) prepareBatch(top map[string]json.RawMessage, src *apiSource, received time.Time) ([]prepared, error) {
	rawBatch, ok := top["batch"]
	if !ok {
		return nil, invalid("batch: required array of messages")
	}
	var batch []json.RawMessage
	if err := json.Unmarshal(rawBatch, &batch); err != nil {
		return nil, invalid("batch: must be an array of messages")
	}
	if len(batch) > a.opts.MaxBatchMessages {
		return nil, tooLarge(fmt.Sprintf("batch has %d messages; the limit is %d", len(batch), a.opts.MaxBatchMessages))
	}
	for k, raw := range top {
		if field, bad := invalidUTF8(raw); bad && k != "batch" {
			return nil, &apiError{kind: fault.ErrInvalid, code: "invalid", msg: "batch rejected",
				details: []mapping.FieldError{utf8Error(strings.TrimSuffix(k+"."+field, "."))}}
		}
	}
	var batchCtx map[string]any
	if raw, ok := top["context"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &batchCtx); err != nil {
			return nil, invalid("context: must be an object")
		}
	}
	var sentAt string
	if raw, ok := top["sentAt"]; ok {
		_ = json.Unmarshal(raw, &sentAt) // a malformed sentAt only skips clock-skew correction
	}
	items := make([]prepared, len(batch))
	for i, raw := range batch {
		if len(raw) > a.opts.MaxEventBytes {
			items[i] = rejected(i, "", "too_large", mapping.FieldError{
				Reason: fmt.Sprintf("message is %d bytes; the limit is %d", len(raw), a.opts.MaxEventBytes), Fatal: true})
			continue
		}
		var row map[string]any
		if err := json.Unmarshal(raw, &row); err != nil || row == nil {
			fe := mapping.FieldError{Reason: "message must be a JSON object", Fatal: true}
			if field, ok := numberOutOfRange(raw, err); ok {
				fe = mapping.FieldError{Field: field, Reason: reasonNumberRange, Fatal: true}
			}
			items[i] = rejected(i, "", "invalid", fe)
			continue
		}
		typ, _ := row["type"].(string)
		typ = strings.ToLower(typ)
		if c, ok := trackingCalls[typ]; !ok || c == callBatch || len(typ) == 1 {
			delete(row, "writeKey")
			items[i] = rejected(i, messageID(row), "invalid", mapping.FieldError{
				Field: "type", Reason: "must be one of identify, track, page, screen, group, alias", Fatal: true})
			items[i].row = row
			continue
		}
		mergeContext(row, batchCtx)
		items[i] = rejectInvalidUTF8(a.prepare(i, row, typ, sentAt, src, received), raw)
	}
	return items, nil
}

// mergeContext merges the batch-level context into a message's context;
// the message's own keys win, as Segment documents.
func mergeContext(row, batchCtx map[string]any) {
	if len(batchCtx) == 0 {
		return
	}
	c, ok := row["context"].(map[string]any)
	if !ok {
		if _, present := row["context"]; present && row["context"] != nil {
			return // not an object: prepare reports it
		}
		c = make(map[string]any, len(batchCtx))
	}
	for k, v := range batchCtx {
		if _, ok := c[k]; !ok {
			c[k] = v
		}
	}
	row["context"] = c
}

func rejected(index int, msgID, code string, errs ...mapping.FieldError) prepared {
	return prepared{index: index, report: &itemReport{Index: index, MessageID: msgID, Code: code, Errors: errs}, errs: errs}
}

// messageID returns the message's messageId when it is a usable string.
func messageID(row map[string]any) string {
	id, _ := row["messageId"].(string)
	if len(id) > maxMessageIDLen {
		return ""
	}
	return id
}

// prepare validates one message of type typ and maps it to a record.
// batchSentAt is the batch's sentAt, used when the message has none.
func (a *API) prepare(index int, row map[string]any, typ, batchSentAt string, src *apiSource, received time.Time) prepared {
	delete(row, "writeKey") // a secret never reaches the store
	row["type"] = typ

	var errs []mapping.FieldError
	fail := func(field, reason string) {
		errs = append(errs, mapping.FieldError{Field: field, Reason: reason, Fatal: true})
	}
	msgID, err := stableMessageID(row)
	if err != nil {
		fail("messageId", err.Error())
	}
	if typ == callAlias {
		if !present(row, "userId") {
			fail("userId", "required for alias")
		}
		if !present(row, "previousId") {
			fail("previousId", "required for alias")
		}
	} else if !present(row, "userId") && !present(row, "anonymousId") {
		fail("userId", "userId or anonymousId is required")
	}
	switch typ {
	case callTrack:
		if s, _ := row["event"].(string); strings.TrimSpace(s) == "" {
			fail("event", "required for track")
		}
	case callGroup:
		if !present(row, "groupId") {
			fail("groupId", "required for group")
		}
	}
	for _, f := range []string{"properties", "traits", "context"} {
		if v, ok := row[f]; ok && v != nil {
			if _, isObj := v.(map[string]any); !isObj {
				fail(f, "must be an object")
			}
		}
	}
	ts, tsWarns, tsErr := eventTime(row, batchSentAt, received)
	if tsErr != nil {
		errs = append(errs, *tsErr)
	}
	if len(errs) > 0 {
		id, _ := row["messageId"].(string)
		if len(id) > maxMessageIDLen {
			id = ""
		}
		p := rejected(index, id, "invalid", errs...)
		p.row = row
		return p
	}

	mapped, traitWarns := src.traits.apply(personRow(row, typ))
	rec, ferrs := src.mapper.Map(mapped)
	warnings := append(tsWarns, traitWarns...)
	for _, fe := range ferrs {
		if fe.Fatal {
			errs = append(errs, fe)
		} else {
			warnings = append(warnings, fe)
		}
	}
	if len(errs) > 0 {
		p := rejected(index, msgID, "invalid", errs...)
		p.row, p.rec, p.errs = row, rec, append(p.errs[:0:0], ferrs...)
		p.rec.Source = src.src.Name
		return p
	}

	warnings = addConsent(&rec, row, warnings)
	rec.Source = src.src.Name
	if src.src.Mapping.RecordID == nil || rec.ID == "" {
		rec.ID = msgID
	}
	if src.src.Mapping.ObservedAt == nil || rec.ObservedAt.IsZero() {
		rec.ObservedAt = ts
	} else if at, w := clampFuture(rec.ObservedAt, received, fieldLabel(src.src.Mapping.ObservedAt, "observed_at")); w != nil {
		rec.ObservedAt = at
		warnings = append(warnings, *w)
	}
	rec.ReceivedAt = received
	rec.Location = "api:" + typ
	mapping.FillEventDefaults(&rec) // events of the source's own event mapping
	for i := range rec.Events {
		if at, w := clampFuture(rec.Events[i].Timestamp, received, "event.timestamp"); w != nil {
			rec.Events[i].Timestamp = at
			warnings = append(warnings, *w)
		}
	}
	if ev, ok := a.event(row, typ, msgID, src.src.Name, ts); ok {
		rec.Events = append(rec.Events, ev)
	}
	p := prepared{index: index, rec: rec, warnings: warnings, row: row, errs: warnings}
	if typ == callAlias {
		p.fromAnon, p.fromUser = aliasCandidates(src.mapper, mapped, rec.Identifiers)
	}
	return p
}

// addConsent adds the consent of the message's
// context.consent.categoryPreferences (Segment's Consent Management) to
// rec as consent.<purpose> attributes, observed when the message was
// (package consent); a value the source's own mapping set is kept.
// Unusable values are warnings, never a rejection.
func addConsent(rec *profile.Record, row map[string]any, warnings []mapping.FieldError) []mapping.FieldError {
	attrs, warns := consent.FromSegment(row)
	for _, w := range warns {
		warnings = append(warnings, mapping.FieldError{Field: w.Field, Reason: w.Reason})
	}
	for k, v := range attrs {
		if _, set := rec.Attributes[k]; set {
			continue
		}
		if rec.Attributes == nil {
			rec.Attributes = map[string]any{}
		}
		rec.Attributes[k] = v
	}
	return warnings
}

// personRow returns the part of a message the source's mapping sees. A
// group call's traits describe the group (a company's name, plan, billing
// e-mail), not the person: until Aurum has accounts they are kept only on
// the group event (properties.traits, next to groupId) and never mapped
// to the person's identifiers or attributes. context.traits, the user's
// own traits, are still mapped.
func personRow(row map[string]any, typ string) map[string]any {
	if typ != callGroup {
		return row
	}
	if _, ok := row["traits"]; !ok {
		return row
	}
	r := maps.Clone(row)
	delete(r, "traits")
	return r
}

// present reports whether row has a non-empty string or a number at key.
func present(row map[string]any, key string) bool {
	switch v := row[key].(type) {
	case string:
		return strings.TrimSpace(v) != ""
	case float64, json.Number:
		return true
	}
	return false
}

// stableMessageID returns the message's messageId or, without one, an id
// derived from the message's content, so a retried identical payload gets
// the same id and the pipeline's idempotency makes it a no-op. Fields that
// change between retries (sentAt, receivedAt, _metadata) are left out.
func stableMessageID(row map[string]any) (string, error) {
	if v, ok := row["messageId"]; ok && v != nil {
		id, isStr := v.(string)
		switch {
		case !isStr:
			return "", fmt.Errorf("must be a string")
		case id == "":
			// fall through to a derived id
		case len(id) > maxMessageIDLen:
			return "", fmt.Errorf("longer than %d characters", maxMessageIDLen)
		default:
			return id, nil
		}
	}
	c := make(map[string]any, len(row))
	for k, v := range row {
		switch k {
		case "messageId", "sentAt", "receivedAt", "_metadata", "writeKey":
			continue
		}
		c[k] = v
	}
	b, err := json.Marshal(c) // map keys are sorted: a canonical form
	if err != nil {
		return "", fmt.Errorf("cannot derive an id: %v", err)
	}
	h := sha256.Sum256(b)
	return "aurum-" + hex.EncodeToString(h[:16]), nil
}

// event builds the event a call carries: every call but identify is one.
func (a *API) event(row map[string]any, typ, msgID, source string, ts time.Time) (profile.Event, bool) {
	ev := profile.Event{ID: msgID, Source: source, Type: typ, Timestamp: ts}
	props, _ := row["properties"].(map[string]any)
	switch typ {
	case callIdentify:
		return profile.Event{}, false
	case callTrack:
		ev.Name, _ = row["event"].(string)
		ev.Properties = maps.Clone(props)
	case callPage, callScreen:
		ev.Name, _ = row["name"].(string)
		ev.Properties = maps.Clone(props)
		if cat, ok := row["category"].(string); ok && cat != "" {
			ev.Properties = setProp(ev.Properties, "category", cat, false)
		}
	case callGroup:
		ev.Properties = map[string]any{"groupId": row["groupId"]}
		if traits, ok := row["traits"].(map[string]any); ok {
			ev.Properties["traits"] = traits
		}
	case callAlias:
		ev.Properties = map[string]any{"previousId": row["previousId"]}
	}
	if c := a.smallContext(row); c != nil {
		ev.Properties = setProp(ev.Properties, contextProperty, c, true)
	}
	return ev, true
}

func setProp(m map[string]any, k string, v any, overwrite bool) map[string]any {
	if m == nil {
		m = make(map[string]any)
	}
	if _, ok := m[k]; !ok || overwrite {
		m[k] = v
	}
	return m
}

// smallContext returns the message's context without context.traits
// (identify data, mapped as attributes) when it encodes within
// Options.MaxContextBytes, else nil: a large context (a full user agent
// client-hints dump, campaign blobs) would crowd the profile's recent
// events.
func (a *API) smallContext(row map[string]any) map[string]any {
	if a.opts.MaxContextBytes < 0 {
		return nil
	}
	c, ok := row["context"].(map[string]any)
	if !ok || len(c) == 0 {
		return nil
	}
	cp := maps.Clone(c)
	delete(cp, "traits")
	if len(cp) == 0 {
		return nil
	}
	b, err := json.Marshal(cp)
	if err != nil || len(b) > a.opts.MaxContextBytes {
		return nil
	}
	return cp
}

// timeLayouts are the ISO 8601 forms accepted for timestamps. Go accepts
// fractional seconds after the seconds field in all of them; the second
// and later forms also accept one-digit months and days, as Segment does.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-1-2T15:04:05Z07:00",
	"2006-1-2T15:04:05Z0700",
	"2006-1-2T15:04:05",
	"2006-1-2 15:04:05Z07:00",
	"2006-1-2 15:04:05",
	"2006-1-2",
}

func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// eventTime returns when the message happened, by Segment's rule: the
// client's time (timestamp, else originalTimestamp) corrected for the
// client's clock skew as receivedAt - (sentAt - originalTimestamp) when the
// client says when it sent the message; received without a client time. An
// unreadable sentAt only skips the correction (a warning). A time more
// than golden.MaxFutureSkew after received is clamped to received (a
// warning): the write key is public, and a client clock must not date a
// message in the future, where it would win survivorship for ever.
func eventTime(row map[string]any, batchSentAt string, received time.Time) (ts time.Time, warns []mapping.FieldError, fail *mapping.FieldError) {
	field := "timestamp"
	v, ok := row[field]
	if !ok || v == nil {
		field = "originalTimestamp"
		v, ok = row[field]
	}
	if !ok || v == nil {
		return received, nil, nil
	}
	s, _ := v.(string)
	orig, ok := parseTime(s)
	if !ok {
		return time.Time{}, nil, &mapping.FieldError{Field: field, Reason: "not an ISO 8601 date-time", Fatal: true}
	}
	ts = orig
	sent, _ := row["sentAt"].(string)
	if sent == "" {
		sent = batchSentAt
	}
	if sent != "" {
		if sentAt, ok := parseTime(sent); ok {
			ts = received.Add(-sentAt.Sub(orig))
		} else {
			warns = append(warns, mapping.FieldError{Field: "sentAt", Reason: "not an ISO 8601 date-time; clock skew not corrected"})
		}
	}
	if at, w := clampFuture(ts, received, field); w != nil {
		ts = at
		warns = append(warns, *w)
	}
	return ts, warns, nil
}

// clampFuture returns received and a warning on field when t is more than
// golden.MaxFutureSkew after received, else t and nil.
func clampFuture(t, received time.Time, field string) (time.Time, *mapping.FieldError) {
	if !t.After(received.Add(golden.MaxFutureSkew)) {
		return t, nil
	}
	return received, &mapping.FieldError{Field: field,
		Reason: fmt.Sprintf("more than %v after the time received (client clock ahead); set to the time received", golden.MaxFutureSkew)}
}

// fieldLabel names a mapped field in warnings: its input field, else
// target (a constant).
func fieldLabel(f *config.Field, target string) string {
	if f != nil && f.Field != "" {
		return f.Field
	}
	return target
}

// aliasCandidates returns the identifiers previousId could be: mapped as an
// anonymousId and as a userId by the source's mapping, minus those the
// record already has. resolveAliases picks among them.
func aliasCandidates(m rowMapper, row map[string]any, have []profile.Identifier) (fromAnon, fromUser []profile.Identifier) {
	prev := row["previousId"]
	for _, field := range []string{"anonymousId", "userId"} {
		r := maps.Clone(row)
		delete(r, "userId")
		delete(r, "anonymousId")
		delete(r, "previousId")
		r[field] = prev
		rec, _ := m.Map(r) // field errors were reported for the message itself
		var ids []profile.Identifier
		for _, id := range rec.Identifiers {
			if !containsID(have, id) && !containsID(ids, id) {
				ids = append(ids, id)
			}
		}
		if field == "anonymousId" {
			fromAnon = ids
		} else {
			fromUser = ids
		}
	}
	return fromAnon, fromUser
}

func containsID(ids []profile.Identifier, id profile.Identifier) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// resolveAliases adds previousId to each alias record, so the profiles of
// previousId and userId link. previousId is either an earlier userId or an
// anonymousId (Segment does not say which); the identifier already claimed
// by a profile wins, and an unknown previousId is taken as an anonymousId
// (analytics.js sends the anonymousId when the user was not identified).
func (a *API) resolveAliases(ctx context.Context, items []prepared) error {
	var cands []profile.Identifier
	for _, p := range items {
		for _, id := range append(p.fromAnon[:len(p.fromAnon):len(p.fromAnon)], p.fromUser...) {
			if !containsID(cands, id) {
				cands = append(cands, id)
			}
		}
	}
	if len(cands) == 0 {
		return nil
	}
	owners, err := a.deps.Profiles.Owners(ctx, cands)
	if err != nil {
		return fmt.Errorf("api: alias: look up previousId owners: %w", err)
	}
	for i := range items {
		p := &items[i]
		if p.report != nil || (len(p.fromAnon) == 0 && len(p.fromUser) == 0) {
			continue
		}
		var chosen []profile.Identifier
		for _, id := range append(p.fromAnon[:len(p.fromAnon):len(p.fromAnon)], p.fromUser...) {
			if _, claimed := owners[id]; claimed && !containsID(chosen, id) {
				chosen = append(chosen, id)
			}
		}
		if len(chosen) == 0 {
			chosen = p.fromAnon
			if len(chosen) == 0 {
				chosen = p.fromUser
			}
		}
		p.rec.Identifiers = append(p.rec.Identifiers, chosen...)
	}
	return nil
}

// ingest commits the prepared records of source and writes the
// response.
func (a *API) ingest(ctx context.Context, w http.ResponseWriter, call, source string, items []prepared) error {
	st := requestStats(ctx)
	st.messages = len(items)
	resp := trackResponse{Success: true}
	var recs []profile.Record
	seen := make(map[string]bool, len(items))
	for i := range items {
		p := &items[i]
		if p.report == nil && len(p.rec.Identifiers) == 0 {
			r := rejected(p.index, p.rec.ID, "invalid", mapping.FieldError{
				Reason: "the source's mapping yields no identifier for this message", Fatal: true})
			r.row, r.rec, r.errs = p.row, p.rec, append(p.errs, r.errs...)
			*p = r
		}
	}
	if a.deps.Observer != nil {
		for i := range items {
			a.deps.Observer.Observe(source, items[i].row, items[i].rec, items[i].errs)
		}
		defer a.flushObserver(ctx, source)
	}
	for i := range items {
		p := &items[i]
		if p.report != nil {
			resp.Rejected = append(resp.Rejected, *p.report)
			continue
		}
		if len(p.warnings) > 0 {
			resp.Warnings = append(resp.Warnings, itemReport{Index: p.index, MessageID: p.rec.ID, Errors: p.warnings})
		}
		if seen[p.rec.Key()] {
			resp.Duplicates++
			continue
		}
		seen[p.rec.Key()] = true
		recs = append(recs, p.rec)
	}
	st.rejected = len(resp.Rejected)
	if call != callBatch && len(resp.Rejected) > 0 {
		r := resp.Rejected[0]
		return &apiError{kind: fault.ErrInvalid, code: r.Code, msg: "message rejected", details: r.Errors}
	}
	if len(recs) == 0 && len(resp.Rejected) > 0 {
		return &apiError{kind: fault.ErrInvalid, code: "invalid", msg: "no valid message in the batch", details: resp.Rejected}
	}
	if len(recs) > 0 {
		res, err := a.deps.Ingester.Ingest(ctx, recs)
		if err != nil {
			return fmt.Errorf("api: ingest %d records: %w", len(recs), err)
		}
		resp.Accepted = res.Accepted
		resp.Duplicates += res.Duplicates
	}
	st.accepted, st.duplicates = resp.Accepted, resp.Duplicates
	httperr.JSON(w, http.StatusOK, resp)
	return nil
}

// flushObserver flushes Deps.Observer after a request of source; a
// failure costs catalog statistics only.
func (a *API) flushObserver(ctx context.Context, source string) {
	if err := a.deps.Observer.Flush(ctx); err != nil {
		a.log.WarnContext(ctx, "api: catalog flush failed", "source", source, "err", err.Error())
	}
}

// bodyWriteKey returns the body's writeKey, or the first batch message's
// (analytics.js puts it on every message).
func bodyWriteKey(top map[string]json.RawMessage) string {
	var key string
	if raw, ok := top["writeKey"]; ok {
		_ = json.Unmarshal(raw, &key)
		return key
	}
	if raw, ok := top["batch"]; ok {
		var first []struct {
			WriteKey string `json:"writeKey"`
		}
		if json.Unmarshal(raw, &first) == nil && len(first) > 0 {
			return first[0].WriteKey
		}
	}
	return ""
}

// tooLarge is a size error of a tracking route. It answers 400, not 413:
// Segment documents 400 for its size limits, and analytics-node retries
// every other 4xx status.
func tooLarge(msg string) *apiError {
	return &apiError{kind: fault.ErrTooLarge, status: http.StatusBadRequest, code: "too_large", msg: msg}
}

// readBody reads a request body of at most limit bytes once decoded,
// decompressing Content-Encoding gzip (as Segment's API does).
func readBody(w http.ResponseWriter, r *http.Request, limit int) ([]byte, error) {
	var rd io.Reader = http.MaxBytesReader(w, r.Body, int64(limit)+4096)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		gz, err := gzip.NewReader(rd)
		if err != nil {
			return nil, bodyError(err, limit)
		}
		defer gz.Close()
		rd = gz
	default:
		return nil, &apiError{kind: fault.ErrInvalid, status: http.StatusUnsupportedMediaType,
			code: "unsupported_encoding", msg: "Content-Encoding must be gzip or identity"}
	}
	b, err := io.ReadAll(io.LimitReader(rd, int64(limit)+1))
	if err != nil {
		return nil, bodyError(err, limit)
	}
	if len(b) > limit {
		return nil, tooLarge(fmt.Sprintf("request body exceeds %d bytes", limit))
	}
	return b, nil
}

func bodyError(err error, limit int) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return tooLarge(fmt.Sprintf("request body exceeds %d bytes", limit))
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return invalid("body: invalid or truncated gzip stream")
	}
	return invalid("body: could not be read")
}

// decodeJSON decodes a JSON object into v; a syntax error names its line
// and column.
func decodeJSON(data []byte, v any) error {
	err := json.Unmarshal(data, v)
	if err == nil {
		if m, ok := v.(*map[string]any); ok && *m == nil {
			return invalid("body must be a JSON object")
		}
		if m, ok := v.(*map[string]json.RawMessage); ok && *m == nil {
			return invalid("body must be a JSON object")
		}
		return nil
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := position(data, se.Offset-1)
		return invalid(fmt.Sprintf("invalid JSON at line %d, column %d: %s", line, col, se.Error()))
	case errors.As(err, &te):
		if field, ok := numberOutOfRange(data, err); ok {
			return invalid(strings.TrimPrefix(field+": ", ": ") + reasonNumberRange)
		}
		return invalid("body must be a JSON object")
	}
	return invalid("invalid JSON")
}

// reasonNumberRange is the error of a JSON number a float64 cannot hold
// (1e400): encoding/json reports it as a type error.
const reasonNumberRange = "number out of range"

// numberOutOfRange reports whether err, from decoding data, is a number
// out of float64's range, and the path of that number.
func numberOutOfRange(data []byte, err error) (field string, ok bool) {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || !strings.HasPrefix(te.Value, "number") {
		return "", false
	}
	return pathAt(data, te.Offset), true
}

// position converts a 0-based byte offset into a 1-based line and column.
func position(data []byte, off int64) (line, col int) {
	off = max(0, min(off, int64(len(data))))
	line, col = 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}
