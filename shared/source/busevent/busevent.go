// Package busevent ingests EventBridge events that other applications or
// SaaS partner event sources put on a bus: it is the Lambda handler of
// functions/ingest-bus. Each event is matched to a bus source of aurum.yaml
// by its source and detail-type, mapped by that source's mapping and
// processed by the pipeline like any other record.
//
// The row a mapping sees is the event's detail, plus the envelope under
// $event: $event.id, $event.source, $event.detail-type, $event.time,
// $event.account, $event.region. The record id is the mapped record_id or
// the event id, so a re-delivered event changes nothing (bus sources are
// de-duplicated on the record id).
package busevent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/mapping"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// EnvelopeField is the row key holding the event's envelope.
const EnvelopeField = "$event"

// Handler handles EventBridge events for the bus sources of a
// configuration.
type Handler struct {
	sources []busSource
	ing     pipeline.Ingester
	log     *slog.Logger
	now     func() time.Time
}

type busSource struct {
	src    *config.Source
	source string
	types  []string
	mapper *mapping.Mapper
}

// New builds a handler for the bus sources among sources (the
// configuration's); idents are the configuration's identifier types. A nil
// logger discards; a nil clock is time.Now.
func New(sources []config.Source, idents []config.IdentifierType, ing pipeline.Ingester, log *slog.Logger, now func() time.Time) (*Handler, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	h := &Handler{ing: ing, log: log, now: now}
	for i := range sources {
		s := &sources[i]
		if s.Kind != config.KindBus {
			continue
		}
		m, err := mapping.New(s, idents)
		if err != nil {
			return nil, fmt.Errorf("busevent: source %s: %w", s.Name, err)
		}
		bs := busSource{src: s, source: s.BusSource(), mapper: m}
		if s.Bus != nil {
			bs.types = s.Bus.DetailTypes
		}
		h.sources = append(h.sources, bs)
	}
	return h, nil
}

// match returns the bus source that ingests events of source and
// detailType.
func (h *Handler) match(source, detailType string) *busSource {
	for i := range h.sources {
		s := &h.sources[i]
		if s.source != source {
			continue
		}
		if len(s.types) == 0 {
			return s
		}
		for _, t := range s.types {
			if t == detailType {
				return s
			}
		}
	}
	return nil
}

// Handle ingests one event. An event no bus source claims, and an event
// whose data does not map (not an object, a required field missing), is
// logged and dropped: retrying cannot help. A pipeline or store failure is
// returned, so that EventBridge and Lambda deliver the event again.
func (h *Handler) Handle(ctx context.Context, e events.CloudWatchEvent) error {
	attrs := []any{slog.String("event_id", e.ID), slog.String("source", e.Source), slog.String("detail_type", e.DetailType)}
	s := h.match(e.Source, e.DetailType)
	if s == nil {
		h.log.WarnContext(ctx, "busevent: no bus source for this event; dropped", attrs...)
		return nil
	}
	attrs = append(attrs, slog.String("aurum_source", s.src.Name))
	rec, ok := h.record(ctx, s, e, attrs)
	if !ok {
		return nil
	}
	res, err := h.ing.Ingest(ctx, []profile.Record{rec})
	if err != nil {
		return fmt.Errorf("busevent: event %s of source %s: %w", e.ID, s.src.Name, err)
	}
	h.log.InfoContext(ctx, "busevent: ingested", append(attrs, slog.Int("accepted", res.Accepted), slog.Int("duplicates", res.Duplicates))...)
	return nil
}

// record maps the event to a record; ok is false when it was dropped.
func (h *Handler) record(ctx context.Context, s *busSource, e events.CloudWatchEvent, attrs []any) (profile.Record, bool) {
	var row map[string]any
	dec := json.NewDecoder(bytes.NewReader(e.Detail))
	dec.UseNumber()
	if len(bytes.TrimSpace(e.Detail)) == 0 {
		row = map[string]any{}
	} else if err := dec.Decode(&row); err != nil || row == nil {
		h.log.WarnContext(ctx, "busevent: detail is not a JSON object; dropped", attrs...)
		return profile.Record{}, false
	}
	resources := make([]any, len(e.Resources))
	for i, r := range e.Resources {
		resources[i] = r
	}
	row[EnvelopeField] = map[string]any{
		"id": e.ID, "source": e.Source, "detail-type": e.DetailType, "time": e.Time.UTC().Format(time.RFC3339),
		"account": e.AccountID, "region": e.Region, "resources": resources,
	}
	rec, ferrs := s.mapper.Map(row)
	if mapping.HasFatal(ferrs) {
		var fields []string
		for _, fe := range ferrs {
			if fe.Fatal {
				fields = append(fields, fe.Error()) // field names and reasons, never values
			}
		}
		h.log.WarnContext(ctx, "busevent: event rejected", append(attrs, slog.String("errors", strings.Join(fields, "; ")))...)
		return profile.Record{}, false
	}
	if len(ferrs) > 0 {
		h.log.InfoContext(ctx, "busevent: fields dropped", append(attrs, slog.Int("dropped", len(ferrs)))...)
	}
	rec.Source = s.src.Name
	if s.src.Mapping.RecordID == nil || rec.ID == "" {
		rec.ID = e.ID
	}
	if rec.ObservedAt.IsZero() {
		rec.ObservedAt = e.Time.UTC()
	}
	if rec.ObservedAt.IsZero() {
		rec.ObservedAt = h.now().UTC()
	}
	rec.ReceivedAt = h.now().UTC()
	rec.Location = "bus:" + e.Source + "/" + e.DetailType
	mapping.FillEventDefaults(&rec)
	return rec, true
}
