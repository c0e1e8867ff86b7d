package googleads

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
)

// secretMap resolves env references from a map.
type secretMap map[string]string

func (s secretMap) Resolve(_ context.Context, ref config.SecretRef) (string, error) {
	return s[ref.Env], nil
}

func TestPresetBuildsFromConfig(t *testing.T) {
	f, srv := newFakeAds(t)
	expectPeople(f)
	env := destination.Env{HTTP: &http.Client{Timeout: 10 * time.Second}, Clock: func() time.Time { return time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC) },
		Secrets: secretMap{"ADS": `{"developer_token":"` + f.devToken + `","access_token":"` + f.token + `"}`}}
	d := config.Destination{Name: "ads", Kind: Name, URL: srv.URL, Credential: &config.SecretRef{Env: "ADS"},
		Options:   map[string]string{"customer_id": "123-456-7890", "login_customer_id": "987-654-3210"},
		Audiences: &config.AudienceSync{Segments: []string{"vip"}, Names: map[string]string{"vip": "555"}}}
	sink, err := Preset().Build(d, env)
	if err != nil || sink.Audience == nil {
		t.Fatalf("Build(google_ads) = %+v, %v; want an audience sink", sink, err)
	}
	res, err := sink.Audience.SyncAudience(context.Background(), destination.AudienceChange{ID: "b1", Audience: "555", Add: []destination.Member{people[0].member}})
	if err != nil || res.Sent != 1 {
		t.Fatalf("SyncAudience through the preset = %+v, %v; want 1 sent", res, err)
	}
	f.check()
	if got := len(f.members("customers/1234567890/userLists/555")); got == 0 {
		t.Errorf("user list 555 has %d members after the sync; want the member's identifiers", got)
	}

	bad := []struct {
		name string
		edit func(d *config.Destination)
		want string
	}{
		{"no list id", func(d *config.Destination) { d.Audiences.Names = nil }, "audiences.names.vip"},
		{"no audiences", func(d *config.Destination) { d.Audiences = nil }, "audiences: missing"},
		{"bad customer", func(d *config.Destination) { d.Options = map[string]string{"customer_id": "12"} }, "customer_id"},
		{"profile sync", func(d *config.Destination) { d.Profiles = &config.ProfileSync{} }, "audiences only"},
		{"no credential", func(d *config.Destination) { d.Credential = nil }, "credential"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			c := d
			a := *d.Audiences
			c.Audiences = &a
			tt.edit(&c)
			if _, err := Preset().Build(c, env); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Build(%s) = %v; want an error naming %q", tt.name, err, tt.want)
			}
		})
	}
}
