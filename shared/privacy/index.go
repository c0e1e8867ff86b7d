package privacy

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aurum-cdp/aurum/shared/pipeline"
	"github.com/aurum-cdp/aurum/shared/store"
)

// IndexExtension is a pipeline.Extension that indexes every committed
// record under the profile it joins, with the change's idempotency keys,
// in the same atomic change: Erase finds a person's records and keys
// through it without scanning. Add it to pipeline.Options.Extensions.
type IndexExtension struct{}

var _ pipeline.Extension = IndexExtension{}

// Extend implements pipeline.Extension.
func (IndexExtension) Extend(ctx context.Context, u *pipeline.Update, ch *store.Change) error {
	if u == nil || u.After == nil || u.Record.Source == "" || u.Record.ID == "" {
		return nil
	}
	v, err := json.Marshal(indexValue{Keys: ch.Keys})
	if err != nil {
		return fmt.Errorf("privacy: index record: %w", err)
	}
	ch.Items = append(ch.Items, store.ItemWrite{Op: store.ItemPut, Item: store.Item{
		Kind: KindRecordIndex, Key: u.After.ID, Sort: u.Record.Key(), Value: v,
	}})
	return nil
}
