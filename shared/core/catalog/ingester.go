package catalog

import (
	"context"

	"github.com/aurum-cdp/aurum/shared/core/mapping"

	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// Ingester commits records: the pipeline.
type Ingester interface {
	Ingest(ctx context.Context, recs []profile.Record) (pipeline.Result, error)
}

// Observing wraps next so that the records of paths that do not hand the
// observer their raw rows (bus events; the HTTP API observes its messages
// itself) are catalogued too: each record is observed as a row of its
// mapped values — "identifier.<type>", attribute names, "event" and
// "event.<property>" — and the observer is flushed after each call. A
// failed flush is logged by the observer and does not fail the ingestion.
func Observing(next Ingester, o RowObserver) Ingester { return &observing{next: next, o: o} }

// RowObserver is an Observer or a ThrottledObserver.
type RowObserver interface {
	Observe(source string, row map[string]any, rec profile.Record, errs []mapping.FieldError)
	Flush(ctx context.Context) error
}

type observing struct {
	next Ingester
	o    RowObserver
}

func (w *observing) Ingest(ctx context.Context, recs []profile.Record) (pipeline.Result, error) {
	for i := range recs {
		w.o.Observe(recs[i].Source, RowOf(&recs[i]), recs[i], nil)
	}
	res, err := w.next.Ingest(ctx, recs)
	_ = w.o.Flush(ctx) // logged by the observer
	return res, err
}

// RowOf is the row Observing catalogues for a record.
func RowOf(rec *profile.Record) map[string]any {
	row := make(map[string]any, len(rec.Attributes)+len(rec.Identifiers)+2)
	for _, id := range rec.Identifiers {
		k := "identifier." + id.Type
		if _, dup := row[k]; !dup {
			row[k] = id.Value
		}
	}
	for k, v := range rec.Attributes {
		row[k] = v
	}
	if len(rec.Events) > 0 {
		ev := rec.Events[0]
		row["event"] = ev.Name
		for k, v := range ev.Properties {
			if k != "_context" {
				row["event."+k] = v
			}
		}
	}
	return row
}
