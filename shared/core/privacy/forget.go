package privacy

import (
	"context"

	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Suppressions claims the suppression list (KindSuppressed) for the
// erasure registry (store.Forgetter). Its items are written by Erase and
// hold salted hashes of erased identifiers, never a value: an erasure
// keeps them (they are what stops replayed data from re-creating the
// person) and the export shows none.
type Suppressions struct{}

var _ store.Forgetter = Suppressions{}

// Kinds implements store.Forgetter.
func (Suppressions) Kinds() []string { return []string{KindSuppressed} }

// Forget implements store.Forgetter: the list is kept.
func (Suppressions) Forget(context.Context, store.ItemStore, store.Subject) (store.Forgotten, error) {
	return store.Forgotten{}, nil
}

// Export implements store.Forgetter.
func (Suppressions) Export(context.Context, store.ItemStore, store.Subject) (map[string]any, error) {
	return nil, nil
}
