// Package inbound verifies and maps incoming SaaS webhooks: the sources
// of kind webhook in aurum.yaml, served by POST /v1/webhooks/{source}.
//
// Verification comes first and reads only the raw body and headers: an
// HMAC-SHA256 keyed with the source's secret, over the body, or over
// timestamp + "." + body when the sender signs a timestamp (a header, or
// Stripe's t=...,v1=... form), and such timestamps must lie within the
// tolerance of the receiver's clock so captured requests cannot be
// replayed later. Only then is the body parsed (numbers kept exact) and
// mapped: the whole payload, or each element of the items array with the
// payload around it, becomes a record whose id derives from the sender's
// event id (header or body path; a hash of the body without one), so a
// re-delivered webhook changes nothing.
//
// Presets fill the scheme and mapping of Shopify customer and order
// webhooks and Stripe customer and charge events (see Preset).
package inbound

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/mapping"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// MaxEventIDLen bounds event ids (they become record ids and store keys).
const MaxEventIDLen = 200

// ItemKey is the key under which an element of items is given to the
// mapping, next to the payload's own keys.
const ItemKey = "item"

// Source is one webhook source, ready to verify and map requests. It is
// immutable and safe for concurrent use.
type Source struct {
	name      string
	hook      config.WebhookSource
	sig       config.WebhookSignature
	tolerance time.Duration
	mapper    *mapping.Mapper
	eventPath []string
	itemsPath []string
	recordID  bool // the mapping sets the record id itself
}

// New builds the webhook source src, applying its preset; idents are the
// configuration's identifier types. A nil source, or one not of kind
// webhook with a webhook block, is fault.ErrInvalid.
func New(src *config.Source, idents []config.IdentifierType) (*Source, error) {
	if src == nil {
		return nil, fmt.Errorf("inbound: %w", fault.Invalidf("no source"))
	}
	source := src.Name
	if src.Kind != config.KindWebhook || src.Webhook == nil {
		return nil, fmt.Errorf("inbound: source %s: %w", source, fault.Invalidf("not a webhook source with a webhook block"))
	}
	eff, err := Effective(*src, idents)
	if err != nil {
		return nil, err
	}
	m, err := mapping.New(&eff, idents)
	if err != nil {
		return nil, fmt.Errorf("inbound: source %s: %w", source, err)
	}
	s := &Source{name: source, hook: *eff.Webhook, mapper: m, recordID: eff.Mapping.RecordID != nil}
	if eff.Webhook.Signature != nil {
		s.sig = *eff.Webhook.Signature
	}
	if s.sig.Header == "" {
		return nil, fmt.Errorf("inbound: source %s: %w", source, fault.Invalidf("no signature header"))
	}
	s.tolerance = config.DefaultWebhookTolerance
	if s.sig.Tolerance != "" {
		d, err := time.ParseDuration(s.sig.Tolerance)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("inbound: source %s: %w", source, fault.Invalidf("signature tolerance %q", s.sig.Tolerance))
		}
		s.tolerance = d
	}
	if f := eff.Webhook.EventIDField; f != "" {
		s.eventPath = strings.Split(f, ".")
	}
	if f := eff.Webhook.Items; f != "" {
		s.itemsPath = strings.Split(f, ".")
	}
	return s, nil
}

// Name returns the source's name.
func (s *Source) Name() string { return s.name }

// Secret returns the reference of the signing secret.
func (s *Source) Secret() config.SecretRef {
	if s.hook.Secret == nil {
		return config.SecretRef{}
	}
	return *s.hook.Secret
}

// errUnauthorized is every verification failure: callers learn nothing
// about which check failed.
var errUnauthorized = fmt.Errorf("inbound: signature not verified: %w", fault.ErrUnauthorized)

// Verify checks the request's signature over the raw body with secret,
// and its timestamp (if signed) against now. Every failure is the same
// error, of kind fault.ErrUnauthorized.
func (s *Source) Verify(secret []byte, h http.Header, body []byte, now time.Time) error {
	if len(secret) == 0 {
		return errUnauthorized
	}
	value := strings.TrimSpace(h.Get(s.sig.Header))
	if value == "" {
		return errUnauthorized
	}
	if s.sig.Format == config.SignatureFormatStripe {
		return s.verifyStripe(secret, value, body, now)
	}
	if s.sig.Prefix != "" {
		v, ok := cutPrefixFold(value, s.sig.Prefix)
		if !ok {
			return errUnauthorized
		}
		value = v
	}
	got, err := s.decode(value)
	if err != nil {
		return errUnauthorized
	}
	m := hmac.New(sha256.New, secret)
	if s.sig.TimestampHeader != "" {
		ts := strings.TrimSpace(h.Get(s.sig.TimestampHeader))
		if !s.fresh(ts, now) {
			return errUnauthorized
		}
		m.Write([]byte(ts))
		m.Write([]byte{'.'})
	}
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return errUnauthorized
	}
	return nil
}

// verifyStripe checks a Stripe-Signature value: t=<ts>,v1=<hex>[,v1=...]
// over t + "." + body; other schemes (v0) are ignored.
func (s *Source) verifyStripe(secret []byte, value string, body []byte, now time.Time) error {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(value, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	if ts == "" || len(sigs) == 0 || !s.fresh(ts, now) {
		return errUnauthorized
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	want := m.Sum(nil)
	for _, g := range sigs {
		if hmac.Equal(g, want) {
			return nil
		}
	}
	return errUnauthorized
}

// fresh reports whether ts (Unix seconds) is within the tolerance of now.
func (s *Source) fresh(ts string, now time.Time) bool {
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	d := now.Sub(time.Unix(t, 0))
	return d <= s.tolerance && d >= -s.tolerance
}

func (s *Source) decode(v string) ([]byte, error) {
	if s.sig.Encoding == config.EncodingBase64 {
		if b, err := base64.StdEncoding.DecodeString(v); err == nil {
			return b, nil
		}
		return base64.URLEncoding.DecodeString(v)
	}
	return hex.DecodeString(strings.ToLower(v))
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return s[len(prefix):], true
}

// Sign returns the header values a sender of this source's scheme would
// send for body at ts (Unix seconds): the signature header, and the
// timestamp header when the scheme has one. It serves tests and the
// documentation's examples.
func (s *Source) Sign(secret []byte, ts int64, body []byte) http.Header {
	h := http.Header{}
	m := hmac.New(sha256.New, secret)
	t := strconv.FormatInt(ts, 10)
	if s.sig.Format == config.SignatureFormatStripe {
		m.Write([]byte(t + "."))
		m.Write(body)
		h.Set(s.sig.Header, "t="+t+",v1="+hex.EncodeToString(m.Sum(nil)))
		return h
	}
	if s.sig.TimestampHeader != "" {
		m.Write([]byte(t + "."))
		h.Set(s.sig.TimestampHeader, t)
	}
	m.Write(body)
	sum := hex.EncodeToString(m.Sum(nil))
	if s.sig.Encoding == config.EncodingBase64 {
		sum = base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	h.Set(s.sig.Header, s.sig.Prefix+sum)
	return h
}

// Item is one mapped element of a verified payload: a record, or the
// field errors that rejected it.
type Item struct {
	Index    int
	Record   profile.Record
	Errors   []mapping.FieldError
	Rejected bool
}

// Parse decodes a verified body and maps it to records. It fails with
// fault.ErrInvalid when the body is not a JSON object, the event id is
// unusable, or items is not an array.
func (s *Source) Parse(h http.Header, body []byte, received time.Time) (string, []Item, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // ids such as Shopify's exceed float64 precision
	var payload map[string]any
	if err := dec.Decode(&payload); err != nil || payload == nil {
		return "", nil, fault.Invalidf("body must be a JSON object")
	}
	if dec.More() {
		return "", nil, fault.Invalidf("body must be one JSON object")
	}
	eventID, err := s.eventID(h, payload, body)
	if err != nil {
		return "", nil, err
	}
	rows := []map[string]any{payload}
	if s.itemsPath != nil {
		v, ok := lookup(payload, s.itemsPath)
		arr, isArr := v.([]any)
		if !ok || !isArr {
			return "", nil, fault.Invalidf("%s: expected an array of items", strings.Join(s.itemsPath, "."))
		}
		rows = rows[:0]
		for _, el := range arr {
			row := make(map[string]any, len(payload)+1)
			for k, v := range payload {
				row[k] = v
			}
			row[ItemKey] = el
			rows = append(rows, row)
		}
	}
	items := make([]Item, len(rows))
	for i, row := range rows {
		rec, errs := s.mapper.Map(row)
		it := Item{Index: i, Errors: errs, Rejected: mapping.HasFatal(errs)}
		rec.Source = s.name
		if !s.recordID || rec.ID == "" {
			rec.ID = eventID
			if s.itemsPath != nil {
				rec.ID = eventID + "#" + strconv.Itoa(i)
			}
		}
		rec.ReceivedAt = received
		if rec.ObservedAt.IsZero() {
			rec.ObservedAt = received
		}
		rec.Location = "webhook:" + s.name
		mapping.FillEventDefaults(&rec)
		if len(rec.Identifiers) == 0 && !it.Rejected {
			it.Rejected = true
			it.Errors = append(it.Errors, mapping.FieldError{Field: mapping.FieldIdentifiers, Reason: mapping.ReasonNoIdentifier, Fatal: true})
		}
		it.Record = rec
		items[i] = it
	}
	return eventID, items, nil
}

// eventID returns the sender's event id, or a hash of the body.
func (s *Source) eventID(h http.Header, payload map[string]any, body []byte) (string, error) {
	var id string
	switch {
	case s.hook.EventIDHeader != "":
		id = strings.TrimSpace(h.Get(s.hook.EventIDHeader))
		if id == "" {
			return "", fault.Invalidf("header %s: missing event id", s.hook.EventIDHeader)
		}
	case s.eventPath != nil:
		v, _ := lookup(payload, s.eventPath)
		switch x := v.(type) {
		case string:
			id = x
		case json.Number:
			id = x.String()
		}
		if id == "" {
			return "", fault.Invalidf("%s: missing event id", s.hook.EventIDField)
		}
	default:
		sum := sha256.Sum256(body)
		return "sha256-" + hex.EncodeToString(sum[:16]), nil
	}
	if len(id) > MaxEventIDLen || strings.ContainsRune(id, 0) {
		return "", fault.Invalidf("event id: longer than %d characters or holds a NUL byte", MaxEventIDLen)
	}
	return id, nil
}

// lookup follows a dotted path through nested objects.
func lookup(m map[string]any, path []string) (any, bool) {
	var cur any = m
	for _, p := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = obj[p]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}
