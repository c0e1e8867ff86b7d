package events_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/events"
)

func TestNewCarriesStableIDInDetail(t *testing.T) {
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	a, err := events.New(events.TypeProfileUpdated, at, events.ProfileUpdated{Version: "1", ProfileID: "p1"}, "p1", "2")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := events.New(events.TypeProfileUpdated, at.Add(time.Hour), events.ProfileUpdated{Version: "1", ProfileID: "p1"}, "p1", "2")
	c, _ := events.New(events.TypeProfileUpdated, at, events.ProfileUpdated{Version: "1", ProfileID: "p1"}, "p1", "3")
	if a.ID != b.ID {
		t.Errorf("ids of the same change differ: %s vs %s", a.ID, b.ID)
	}
	if a.ID == c.ID {
		t.Errorf("ids of different changes are equal: %s", a.ID)
	}
	var d map[string]any
	if err := json.Unmarshal(a.Detail, &d); err != nil {
		t.Fatalf("detail is not JSON: %v (%s)", err, a.Detail)
	}
	if d["event_id"] != a.ID || d["profile_id"] != "p1" {
		t.Errorf("detail = %s; want event_id %s and profile_id p1", a.Detail, a.ID)
	}
	if a.Time.Location() != time.UTC || a.Source != events.Source {
		t.Errorf("envelope time %v source %q; want UTC and %q", a.Time, a.Source, events.Source)
	}
	if _, err := events.New("X", at, []int{1}); err == nil {
		t.Errorf("New with a non-object detail succeeded; want error")
	}
	empty, err := events.New("X", at, struct{}{}, "k")
	if err != nil || string(empty.Detail) != `{"event_id":"`+empty.ID+`"}` {
		t.Errorf("New(empty detail) = %s, %v", empty.Detail, err)
	}
}
