package consent_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/consent"
	"github.com/aurum-cdp/aurum/shared/core/golden"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

func obs(source, id string, observed, received time.Time, purpose string, granted bool) profile.Record {
	return profile.Record{Source: source, ID: id, ObservedAt: observed, ReceivedAt: received,
		Attributes: map[string]any{consent.Attribute(purpose): granted}}
}

func TestPurpose(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"Advertising", "advertising", true},
		{"Marketing and Analytics", "marketing_and_analytics", true},
		{"  C0001 / Strictly-Necessary ", "c0001_strictly_necessary", true},
		{"email", "email", true},
		{"!!!", "", false},
		{"", "", false},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, ok := consent.Purpose(c.in)
			if got != c.want || ok != c.ok {
				t.Errorf("Purpose(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
			}
		})
	}
}

// TestPrecedence applies observations in every arrival order: the
// survivor is always the latest observation, withdrawal winning a tie,
// and a client clock ahead of the server's cannot outrank it.
func TestPrecedence(t *testing.T) {
	cases := []struct {
		name    string
		recs    []profile.Record
		granted bool
		record  string
	}{
		{"later withdrawal beats grant", []profile.Record{
			obs("web", "g", at(0), at(0), "email", true),
			obs("crm", "w", at(10), at(10), "email", false)}, false, "w"},
		{"later grant beats withdrawal", []profile.Record{
			obs("crm", "w", at(0), at(0), "email", false),
			obs("web", "g", at(10), at(10), "email", true)}, true, "g"},
		{"withdrawal wins a tie, whatever the source priority", []profile.Record{
			obs("crm", "g", at(5), at(5), "email", true),
			obs("web", "w", at(5), at(5), "email", false)}, false, "w"},
		{"a grant dated in the future counts at its arrival", []profile.Record{
			obs("web", "g", at(60*24*365), at(1), "email", true), // client clock a year ahead, received at 1
			obs("crm", "w", at(2), at(2), "email", false)}, false, "w"},
		{"late-arriving older grant does not undo a withdrawal", []profile.Record{
			obs("crm", "w", at(10), at(10), "email", false),
			obs("file", "g", at(1), at(30), "email", true)}, false, "w"},
	}
	rules := golden.Rules{SourcePriority: map[string]int{"crm": 100, "web": 1}, Default: config.SurviveSourcePriority,
		Attributes: map[string]string{"consent.email": config.SurviveSourcePriority}} // configuration cannot change consent's strategy
	for _, c := range cases {
		for _, order := range [][]int{{0, 1}, {1, 0}} {
			t.Run(fmt.Sprintf("%s/%v", c.name, order), func(t *testing.T) {
				var p profile.Profile
				for _, i := range order {
					rules.Apply(&p, c.recs[i])
				}
				got := p.Attributes["consent.email"]
				if got.Value != c.granted || got.RecordID != c.record {
					t.Errorf("consent.email = %v from %s; want %v from %s", got.Value, got.RecordID, c.granted, c.record)
				}
				if consent.Allowed(p, []string{"email"}) != c.granted {
					t.Errorf("Allowed(email) = %v; want %v", !c.granted, c.granted)
				}
			})
		}
	}
}

// TestMergeKeepsLatest: when two profiles merge, the consent of the
// latest observation survives, either way round.
func TestMergeKeepsLatest(t *testing.T) {
	rules := golden.Rules{}
	for _, dir := range []string{"a into b", "b into a"} {
		t.Run(dir, func(t *testing.T) {
			var a, b profile.Profile
			a.ID, b.ID = "a", "b"
			rules.Apply(&a, obs("web", "1", at(0), at(0), "ads", true))
			rules.Apply(&b, obs("crm", "2", at(3), at(3), "ads", false))
			dst, src := &b, a
			if dir == "b into a" {
				dst, src = &a, b
			}
			rules.Merge(dst, src)
			if got := dst.Attributes["consent.ads"]; got.Value != false || got.RecordID != "2" {
				t.Errorf("after merge consent.ads = %v from %s; want false from 2", got.Value, got.RecordID)
			}
		})
	}
}

func TestAllowed(t *testing.T) {
	p := profile.Profile{Attributes: map[string]profile.Attribute{
		"consent.email": {Value: true}, "consent.ads": {Value: false}, "consent.sms": {Value: "yes"},
	}}
	cases := []struct {
		name     string
		purposes []string
		want     bool
		missing  []string
	}{
		{"none required", nil, true, nil},
		{"granted", []string{"email"}, true, nil},
		{"withdrawn", []string{"ads"}, false, []string{"ads"}},
		{"never observed", []string{"analytics"}, false, []string{"analytics"}},
		{"not a boolean", []string{"sms"}, false, []string{"sms"}},
		{"all must hold", []string{"email", "ads"}, false, []string{"ads"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := consent.Allowed(p, c.purposes); got != c.want {
				t.Errorf("Allowed(%v) = %v; want %v", c.purposes, got, c.want)
			}
			if got := consent.Missing(p, c.purposes); fmt.Sprint(got) != fmt.Sprint(c.missing) {
				t.Errorf("Missing(%v) = %v; want %v", c.purposes, got, c.missing)
			}
		})
	}
	if got := consent.Of(p); len(got) != 3 || got[0].Purpose != "ads" || got[1].Purpose != "email" || !got[1].Granted || got[2].Granted {
		t.Errorf("Of = %+v; want ads false, email true, sms false", got)
	}
}

func TestFromSegment(t *testing.T) {
	cases := []struct {
		name  string
		row   map[string]any
		want  map[string]any
		warns int
	}{
		{"Segment Consent Management object", map[string]any{"context": map[string]any{"consent": map[string]any{
			"categoryPreferences": map[string]any{"Advertising": true, "Analytics": false, "Marketing and Analytics": true}}}},
			map[string]any{"consent.advertising": true, "consent.analytics": false, "consent.marketing_and_analytics": true}, 0},
		{"no consent", map[string]any{"context": map[string]any{"ip": "1.2.3.4"}}, nil, 0},
		{"not an object", map[string]any{"context": map[string]any{"consent": map[string]any{"categoryPreferences": "all"}}}, nil, 1},
		{"non-boolean value left out", map[string]any{"context": map[string]any{"consent": map[string]any{
			"categoryPreferences": map[string]any{"Advertising": "yes", "Email": true}}}}, map[string]any{"consent.email": true}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, warns := consent.FromSegment(c.row)
			if fmt.Sprint(got) != fmt.Sprint(c.want) || len(warns) != c.warns {
				t.Errorf("FromSegment = %v, %d warnings; want %v, %d", got, len(warns), c.want, c.warns)
			}
		})
	}
}
