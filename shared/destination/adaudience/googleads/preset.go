package googleads

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/destination/apicall"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// Name is the destination kind of aurum.yaml.
const Name = "google_ads"

// Preset is the google_ads destination kind: audience sync only. Its
// settings:
//
//   - options.customer_id (10 digits) and options.login_customer_id (a
//     manager account, optional);
//   - credential: a secret holding the JSON object
//     {"developer_token": "...", "access_token": "..."}, resolved at every
//     change, so a rotation (or an external refresher of the one-hour
//     OAuth token) takes effect without a restart;
//   - audiences.names: the user list id (or resource name) of every synced
//     segment, required;
//   - options.declare_consent: "true" declares the EEA consent (only set it
//     with purposes that hold that consent).
func Preset() destination.Preset {
	return destination.Preset{
		Name:   Name,
		Limits: destination.Limits{MaxMembers: DefaultIdentifiers},
		Defaults: destination.Defaults{Profile: map[string]string{
			DefaultAddress.FirstName:   "profile.attributes.first_name",
			DefaultAddress.LastName:    "profile.attributes.last_name",
			DefaultAddress.CountryCode: "profile.attributes.country",
			DefaultAddress.PostalCode:  "profile.attributes.postal_code",
		}},
		Build: build,
	}
}

func build(d config.Destination, env destination.Env) (destination.Sink, error) {
	if d.Events != nil || d.Profiles != nil {
		return destination.Sink{}, fmt.Errorf("events, profiles: google_ads takes audiences only")
	}
	cred, err := apicall.NewCredential(d.Credential, env.Secrets)
	if err != nil {
		return destination.Sink{}, err
	}
	lists, err := userLists(d.Audiences)
	if err != nil {
		return destination.Sink{}, err
	}
	cfg := Config{BaseURL: d.URL, CustomerID: d.Options["customer_id"], LoginCustomerID: d.Options["login_customer_id"],
		UserLists: lists, DeclareConsent: d.Options["declare_consent"] == "true", Now: env.Clock, MaxIdentifiers: d.BatchSize}
	// Check everything but the secret now, with stand-ins for it.
	probe := cfg
	probe.DeveloperToken, probe.Token = "-", func(context.Context) (string, error) { return "", nil }
	if _, err := New(env.HTTP, probe); err != nil {
		return destination.Sink{}, err
	}
	return destination.Sink{Audience: &lazy{cfg: cfg, cred: cred, env: env}}, nil
}

// userLists maps each synced segment's audience name (audiences.names) to
// itself: the runner names the user list in AudienceChange.Audience.
func userLists(a *config.AudienceSync) (map[string]string, error) {
	if a == nil {
		return nil, fmt.Errorf("audiences: missing; google_ads syncs segments to user lists")
	}
	lists := map[string]string{}
	for _, seg := range a.Segments {
		id := a.Names[seg]
		if id == "" {
			return nil, fmt.Errorf("audiences.names.%s: missing; expected the Customer Match user list id", seg)
		}
		lists[id] = id
	}
	return lists, nil
}

// lazy builds the Audience at each change from the resolved credential.
type lazy struct {
	cfg  Config
	cred apicall.Credential
	env  destination.Env
}

// credential is the JSON a google_ads credential holds.
type credential struct {
	DeveloperToken string `json:"developer_token"`
	AccessToken    string `json:"access_token"`
}

func (l *lazy) SyncAudience(ctx context.Context, c destination.AudienceChange) (destination.Result, error) {
	raw, err := l.cred.Get(ctx)
	if err != nil {
		return destination.Result{}, err
	}
	var cr credential
	if err := json.Unmarshal([]byte(strings.TrimSpace(raw)), &cr); err != nil || cr.DeveloperToken == "" || cr.AccessToken == "" {
		return destination.Result{}, fault.Invalidf("google_ads: credential: want a JSON object with developer_token and access_token")
	}
	cfg := l.cfg
	cfg.DeveloperToken = cr.DeveloperToken
	cfg.Token = func(context.Context) (string, error) { return cr.AccessToken, nil }
	a, err := New(l.env.HTTP, cfg)
	if err != nil {
		return destination.Result{}, err
	}
	return a.SyncAudience(ctx, c)
}
