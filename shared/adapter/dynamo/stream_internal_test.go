package dynamo

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// TestOutboxFromImage round-trips outbox items as the stream delivers
// them: written by outboxItem, read by OutboxFromImage.
func TestOutboxFromImage(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	env, err := events.New(events.TypeProfileUpdated, at, events.ProfileUpdated{Version: "1", ProfileID: "p1", ProfileVersion: 2}, "p1", "2")
	if err != nil {
		t.Fatal(err)
	}
	s := &Store{opts: Options{OutboxShards: 8, OutboxTTL: time.Hour}}
	it, err := s.outboxItem(env, at)
	if err != nil {
		t.Fatal(err)
	}
	strs := map[string]string{}
	for k, v := range it {
		if sv, ok := v.(*types.AttributeValueMemberS); ok {
			strs[k] = sv.Value
		}
	}
	tests := []struct {
		name    string
		image   map[string]string
		wantOK  bool
		wantErr error
	}{
		{"outbox item", strs, true, nil},
		{"profile item", map[string]string{PartitionKey: "P#p1", SortKey: "P", attrBody: "{}"}, false, nil},
		{"corrupt body", map[string]string{PartitionKey: strs[PartitionKey], SortKey: skOutbox, attrBody: "{"}, true, fault.ErrInvalid},
		{"body of another event", map[string]string{PartitionKey: "O#other", SortKey: skOutbox, attrBody: strs[attrBody]}, true, fault.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := OutboxFromImage(tt.image)
			if ok != tt.wantOK || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("OutboxFromImage = %v, %v; want ok=%v, err %v", ok, err, tt.wantOK, tt.wantErr)
			}
			if tt.wantOK && tt.wantErr == nil {
				a, _ := json.Marshal(got)
				b, _ := json.Marshal(env)
				if string(a) != string(b) {
					t.Errorf("OutboxFromImage = %s; want %s", a, b)
				}
			}
		})
	}
}
