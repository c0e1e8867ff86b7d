package catalog

import (
	"context"

	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Forgetter is the data catalog's part of an erasure (store.Forgetter):
// its side work is Forget over the person's records, which rewrites the
// field and identifier items of their sources in place. No item is
// deleted (an item describes a source, not a person) and the catalog adds
// nothing to the export.
type Forgetter struct{}

var _ store.Forgetter = Forgetter{}

// Kinds implements store.Forgetter.
func (Forgetter) Kinds() []string { return []string{KindSource, KindField, KindIdent} }

// Forget implements store.Forgetter.
func (Forgetter) Forget(ctx context.Context, st store.ItemStore, s store.Subject) (store.Forgotten, error) {
	keys := make([]string, 0, len(s.Records))
	for _, r := range s.Records {
		keys = append(keys, r.Key())
	}
	_, err := Forget(ctx, st, keys)
	return store.Forgotten{}, err
}

// Export implements store.Forgetter: the catalog exports nothing.
func (Forgetter) Export(context.Context, store.ItemStore, store.Subject) (map[string]any, error) {
	return nil, nil
}
