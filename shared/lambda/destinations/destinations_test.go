package destinations

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aurum-cdp/aurum/shared/model/events"
)

type fake struct {
	envs  []events.Envelope
	syncs []string
}

func (f *fake) HandleFor(_ context.Context, dest string, env events.Envelope) error {
	if dest != "crm" {
		return nil
	}
	f.envs = append(f.envs, env)
	return nil
}

func (f *fake) FullSyncNamed(_ context.Context, name string) (int, int, error) {
	f.syncs = append(f.syncs, name)
	return 1, 0, nil
}

func TestHandle(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantEnv string // the envelope id handed on
		sync    string
		bad     bool
	}{
		{"an EventBridge event keeps Aurum's stable id", `{"destination":"crm","event":{"id":"eb-1","source":"aurum","detail-type":"SegmentEntered","time":"2026-12-07T10:00:00Z","detail":{"event_id":"abc","profile_id":"p1"}}}`, "abc", "", false},
		{"without event_id the envelope id", `{"destination":"crm","event":{"id":"eb-2","source":"com.shop","detail-type":"X","detail":{}}}`, "eb-2", "", false},
		{"a re-sync request", `{"sync":"news"}`, "", "news", false},
		{"neither", `{"hello":1}`, "", "", true},
		{"an event without its destination", `{"id":"eb-3","source":"aurum","detail-type":"X","detail":{}}`, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fake{}
			err := New(f, nil).Handle(context.Background(), json.RawMessage(tt.in))
			if (err != nil) != tt.bad {
				t.Fatalf("Handle(%s) error = %v; want error %v", tt.in, err, tt.bad)
			}
			if tt.wantEnv != "" && (len(f.envs) != 1 || f.envs[0].ID != tt.wantEnv) {
				t.Errorf("Handle(%s) handed %+v; want one envelope with id %s", tt.in, f.envs, tt.wantEnv)
			}
			if tt.sync != "" && (len(f.syncs) != 1 || f.syncs[0] != tt.sync) {
				t.Errorf("Handle(%s) synced %v; want [%s]", tt.in, f.syncs, tt.sync)
			}
		})
	}
}
