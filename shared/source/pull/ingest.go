package pull

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aurum-cdp/aurum/shared/core/mapping"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/source"
)

// RejectedPrefix holds the rejected rows of pull sources, one JSON Lines
// object per batch that had any: RejectedKey.
const RejectedPrefix = "rejected/pulls/"

// FieldRecordID is the FieldError.Field of a row without a record id.
const FieldRecordID = "record_id"

// RejectedKey is the key of the rejected rows of the batch of source read
// after checkpoint from. It depends only on the two, so a batch read again
// (after a failed run) rewrites the same object instead of adding one.
func RejectedKey(source, from string) string {
	h := sha256.Sum256([]byte(from))
	return RejectedPrefix + source + "/" + hex.EncodeToString(h[:12]) + ".jsonl"
}

// Reject is one line of a rejected file.
type Reject struct {
	// Checkpoint is the checkpoint the batch was read after; Index the
	// row's position in the batch.
	Checkpoint string `json:"checkpoint"`
	Index      int    `json:"index"`
	// Accepted rows were ingested without the values named in Errors.
	Accepted bool                 `json:"accepted,omitempty"`
	Errors   []mapping.FieldError `json:"errors"`
	// Row is the row as the connector returned it.
	Row source.Row `json:"row"`
}

// ingest maps the rows of one batch, keeps the rejects and hands the
// records to the pipeline.
func (r *Runner) ingest(ctx context.Context, from string, rows []source.Row, now time.Time) (Counts, error) {
	c := Counts{Rows: len(rows)}
	recs := make([]profile.Record, 0, len(rows))
	var rejects []Reject
	for i, row := range rows {
		rec, ferrs := r.record(row, now)
		if r.deps.Observer != nil {
			r.deps.Observer.Observe(r.name, row, rec, ferrs)
		}
		if len(ferrs) > 0 {
			rejects = append(rejects, Reject{Checkpoint: from, Index: i, Accepted: !mapping.HasFatal(ferrs), Errors: ferrs, Row: row})
		}
		if mapping.HasFatal(ferrs) {
			c.Rejected++
			continue
		}
		c.FieldsDropped += len(ferrs)
		recs = append(recs, rec)
	}
	c.Accepted = len(recs)
	if err := r.keepRejects(ctx, from, rejects, c); err != nil {
		return c, err
	}
	res, err := r.deps.Ingester.Ingest(ctx, recs)
	if err != nil {
		return c, fmt.Errorf("pull %s: ingest %d records: %w", r.name, len(recs), err)
	}
	c.Duplicates, c.Created, c.Merges = res.Duplicates, res.Created, res.Merges
	if r.deps.Observer != nil {
		if err := r.deps.Observer.Flush(ctx); err != nil {
			r.opts.Logger.WarnContext(ctx, "pull: catalog flush", "source", r.name, "err", err)
		}
	}
	return c, nil
}

// record maps one row. The observed time is the mapped observed_at or
// none (the pipeline then takes the receive time), never the time of the
// read: a row read again must give the same record and idempotency key.
func (r *Runner) record(row source.Row, now time.Time) (profile.Record, []mapping.FieldError) {
	rec, ferrs := r.mapper.Map(row)
	if rec.ID == "" && !mapping.HasFatal(ferrs) {
		ferrs = append(ferrs, mapping.FieldError{Field: FieldRecordID, Reason: mapping.ReasonRequired, Fatal: true})
	}
	rec.Source = r.name
	rec.ReceivedAt = now.UTC()
	rec.Location = "pull:" + r.connector
	mapping.FillEventDefaults(&rec)
	for i := range rec.Events {
		if rec.Events[i].Timestamp.IsZero() {
			rec.Events[i].Timestamp = rec.ReceivedAt
		}
	}
	return rec, ferrs
}

// keepRejects writes the rejected file of a batch (when there is a store
// for it) and logs the counts; field names and reasons, never values.
func (r *Runner) keepRejects(ctx context.Context, from string, rejects []Reject, c Counts) error {
	if len(rejects) == 0 {
		return nil
	}
	key := ""
	if r.deps.Rejects != nil {
		key = RejectedKey(r.name, from)
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		for _, rj := range rejects {
			if err := enc.Encode(rj); err != nil {
				return fmt.Errorf("pull %s: encode rejected row %d: %w", r.name, rj.Index, err)
			}
		}
		if err := r.deps.Rejects.Put(ctx, key, &buf, "application/x-ndjson"); err != nil {
			return fmt.Errorf("pull %s: write rejected rows: %w", r.name, err)
		}
	}
	r.opts.Logger.WarnContext(ctx, "pull: rows rejected", "source", r.name,
		"rejected", c.Rejected, "fields_dropped", c.FieldsDropped, "rejected_key", key, "first", rejects[0].Errors[0].Error())
	return nil
}
