package embedded_test

import (
	"encoding/json"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// format0At is the clock of the store that wrote testdata/format0.db.
var format0At = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

// format0Changes is what testdata/format0.db holds: it was written by the
// store of format 0 (JSON values, 29-byte item headers, raw profile ids),
// before format 1, and is kept to prove that Open upgrades such a file.
func format0Changes() []store.Change {
	at := format0At
	ann := profile.Identifier{Type: "email", Value: "ann@example.com"}
	phone := profile.Identifier{Type: "phone", Value: "+447700900123"}
	rec := profile.Record{
		Source: "crm", ID: "C1", ObservedAt: at.Add(-time.Hour), ReceivedAt: at,
		Identifiers: []profile.Identifier{ann, phone},
		Attributes:  map[string]any{"first_name": "Ann", "country": "GB"},
		Events: []profile.Event{
			{ID: "e1", Source: "crm", Type: "event", Name: "signup", Timestamp: at.Add(-2 * time.Hour)},
			{ID: "e2", Source: "crm", Type: "event", Name: "order", Timestamp: at.Add(-time.Hour), Properties: map[string]any{"total": 12.5}},
		},
		Location: "sources/crm/a.csv:2",
	}
	attr := func(v any) profile.Attribute {
		return profile.Attribute{Value: v, Source: "crm", RecordID: "C1", ObservedAt: at.Add(-time.Hour)}
	}
	live := profile.Profile{
		ID: "p_0123456789abcdef01234567", Version: 1, Identifiers: []profile.Identifier{ann, phone},
		Attributes: map[string]profile.Attribute{"first_name": attr("Ann"), "country": attr("GB")},
		Sources:    map[string]int{"crm": 1}, RecordCount: 1, EventCount: 2, CreatedAt: at, UpdatedAt: at,
	}
	merged := profile.Profile{ID: "legacy-id", Version: 1, CreatedAt: at, UpdatedAt: at}
	return []store.Change{
		{
			Keys:     []string{"rec/crm/C1/abc"},
			Records:  []store.RecordWrite{{Record: rec, ProfileID: live.ID}},
			Profiles: []store.ProfileWrite{{Profile: live}, {Profile: merged}},
			Claims:   []store.Claim{{Identifier: ann, ProfileID: live.ID}, {Identifier: phone, ProfileID: "legacy-id"}},
			Outbox:   []events.Envelope{{ID: "ev1", Source: events.Source, DetailType: events.TypeProfileUpdated, Time: at, Detail: json.RawMessage(`{"profile_id":"p_0123456789abcdef01234567"}`)}},
			Items: []store.ItemWrite{
				{Item: store.Item{Kind: "id.rec", Key: live.ID, Sort: "crm/C1", Value: []byte(`{"keys":["rec/crm/C1/abc"]}`)}},
				{Op: store.ItemAdd, Item: store.Item{Kind: "id.stats", Key: "shard-1", Sort: "hist/1", N: 7}},
				{Item: store.Item{Kind: "seg.due", Key: "all", Sort: "t1", Value: []byte(`{}`), Expires: at.Add(24 * time.Hour)}},
			},
		},
		{Redirects: []store.Redirect{{From: "legacy-id", To: live.ID, ExpectVersion: 1, At: at}}},
	}
}
