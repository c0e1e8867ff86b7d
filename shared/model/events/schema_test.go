package events_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/aurum-cdp/aurum/shared/model/events"
)

const schemaDir = "../../../events/schemas"

// compile compiles events/schemas/<name>.json (draft 2020-12, formats
// asserted).
func compile(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	path := filepath.Join(schemaDir, name+".json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read schema: %v", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(path, doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	s, err := c.Compile(path)
	if err != nil {
		t.Fatalf("compile %s: %v", path, err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, what string, detail []byte) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(detail))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return s.Validate(v)
}

// produced builds each detail type with the Go structs, as the code
// publishes them.
func produced(t *testing.T) map[string]events.Envelope {
	t.Helper()
	at := time.Date(2026, 3, 1, 10, 15, 0, 0, time.UTC)
	details := map[string]any{
		events.TypeProfileUpdated: events.ProfileUpdated{Version: events.SchemaVersion, ProfileID: "p1", ProfileVersion: 1, Created: true,
			Changed: []string{"email"}, NewIdentifiers: []string{"email:ann@example.com"}, Sources: []string{"crm"}, EventNames: []string{"Order Completed"}},
		events.TypeProfilesMerged: events.ProfilesMerged{Version: events.SchemaVersion, ProfileID: "p1", Merged: []string{"p2"}, Rule: "same-email",
			Identifiers: []string{"email:ann@example.com"}, RecordKey: "crm/1"},
		events.TypeProfileSplit:   events.ProfileSplit{Version: events.SchemaVersion, ProfileID: "p1", ProfileVersion: 4, NewProfileIDs: []string{"p3"}},
		events.TypeProfileDeleted: events.ProfileDeleted{Version: events.SchemaVersion, ProfileID: "p1", Reason: "erasure"},
		events.TypeSegmentEntered: events.SegmentEntered{Version: events.SchemaVersion, ProfileID: "p1", SegmentID: "vip", At: at, ProfileVersion: 2, Cause: "change"},
		events.TypeSegmentExited: events.SegmentExited{Version: events.SchemaVersion, ProfileID: "p1", SegmentID: "vip", At: at, Since: at.Add(-time.Hour),
			DurationSeconds: 3600, ProfileVersion: 3, Cause: "time"},
		events.TypeTriggerFired: events.TriggerFired{Version: events.SchemaVersion, TriggerID: "welcome", ProfileID: "p1", FiringID: events.StableID("x"),
			Cause: events.Cause{EventID: events.StableID("y"), Source: events.Source, DetailType: events.TypeSegmentEntered, Time: at}, FiredAt: at},
	}
	out := map[string]events.Envelope{}
	for dt, d := range details {
		env, err := events.New(dt, at, d, "p1", dt)
		if err != nil {
			t.Fatalf("events.New(%s): %v", dt, err)
		}
		out[dt] = env
	}
	return out
}

func TestSchemas(t *testing.T) {
	types := []string{events.TypeProfileUpdated, events.TypeProfilesMerged, events.TypeProfileSplit, events.TypeProfileDeleted,
		events.TypeSegmentEntered, events.TypeSegmentExited, events.TypeTriggerFired}
	envs := produced(t)
	for _, dt := range types {
		t.Run(dt, func(t *testing.T) {
			s := compile(t, dt)
			ex, err := os.ReadFile(filepath.Join(schemaDir, "examples", dt+".json"))
			if err != nil {
				t.Fatalf("example: %v", err)
			}
			if err := validate(t, s, "example", ex); err != nil {
				t.Errorf("example %s does not validate: %v", dt, err)
			}
			if err := validate(t, s, "produced", envs[dt].Detail); err != nil {
				t.Errorf("events.New(%s) detail %s does not validate: %v", dt, envs[dt].Detail, err)
			}
		})
	}
	t.Run("schemas reject bad details", func(t *testing.T) {
		bad := []struct{ dt, detail string }{
			{events.TypeSegmentEntered, `{"version":"1","event_id":"5d0c7a3e9b1f4c2a8e6d4b2a0c9e7f15","profile_id":"p1","at":"2026-03-01T10:15:00Z"}`},
			{events.TypeProfileUpdated, `{"version":"2","event_id":"5d0c7a3e9b1f4c2a8e6d4b2a0c9e7f15","profile_id":"p1","profile_version":1,"created":true}`},
			{events.TypeTriggerFired, `{"version":"1","trigger_id":"t","profile_id":"p1","firing_id":"x","cause":{},"fired_at":"yesterday"}`},
		}
		for _, b := range bad {
			if err := validate(t, compile(t, b.dt), "bad", []byte(b.detail)); err == nil {
				t.Errorf("%s schema accepts %s; want an error", b.dt, b.detail)
			}
		}
	})
	t.Run("every schema file is tested", func(t *testing.T) {
		files, _ := filepath.Glob(filepath.Join(schemaDir, "*.json"))
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".json")
			if _, ok := envs[name]; !ok {
				t.Errorf("schema %s has no produced event in this test", name)
			}
		}
	})
}
