package keys

import (
	"context"

	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Forgetter claims the stored API keys for the erasure registry
// (store.Forgetter). A key is an operator's credential (id, name, scopes,
// a hash), not data about a customer: an erasure deletes nothing of it
// and the export shows none.
type Forgetter struct{}

var _ store.Forgetter = Forgetter{}

// Kinds implements store.Forgetter.
func (Forgetter) Kinds() []string { return []string{Kind} }

// Forget implements store.Forgetter: nothing of a person is kept here.
func (Forgetter) Forget(context.Context, store.ItemStore, store.Subject) (store.Forgotten, error) {
	return store.Forgotten{}, nil
}

// Export implements store.Forgetter.
func (Forgetter) Export(context.Context, store.ItemStore, store.Subject) (map[string]any, error) {
	return nil, nil
}
