package pull

import (
	"context"

	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Forgetter claims the pull sources' state items for erasure
// (store.Forgetter). A source's state holds its connector's checkpoint,
// times and counts, never a person's data, so an erasure deletes none of
// it and an export shows none of it; the records a pull ingested are
// erased with the person like any other source's.
type Forgetter struct{}

// Kinds implements store.Forgetter.
func (Forgetter) Kinds() []string { return []string{KindState} }

// Forget implements store.Forgetter: nothing of a person is kept here.
func (Forgetter) Forget(context.Context, store.ItemStore, store.Subject) (store.Forgotten, error) {
	return store.Forgotten{}, nil
}

// Export implements store.Forgetter: nothing of a person is kept here.
func (Forgetter) Export(context.Context, store.ItemStore, store.Subject) (map[string]any, error) {
	return nil, nil
}
