package meta

import (
	"fmt"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/destination/apicall"
)

// Name is the destination kind of aurum.yaml.
const Name = "meta_audiences"

// Preset is the meta_audiences destination kind: audience sync only. Its
// settings: credential, the access token (a system user's, with
// ads_management), resolved at every request; audiences.names, the custom
// audience id of every synced segment, required.
func Preset() destination.Preset {
	return destination.Preset{
		Name:   Name,
		Limits: destination.Limits{MaxMembers: MaxRowsPerRequest},
		Defaults: destination.Defaults{Profile: map[string]string{
			DefaultAttributes.FirstName: "profile.attributes.first_name",
			DefaultAttributes.LastName:  "profile.attributes.last_name",
			DefaultAttributes.Zip:       "profile.attributes.postal_code",
			DefaultAttributes.Country:   "profile.attributes.country",
		}},
		Build: build,
	}
}

func build(d config.Destination, env destination.Env) (destination.Sink, error) {
	if d.Events != nil || d.Profiles != nil {
		return destination.Sink{}, fmt.Errorf("events, profiles: meta_audiences takes audiences only")
	}
	if d.Audiences == nil {
		return destination.Sink{}, fmt.Errorf("audiences: missing; meta_audiences syncs segments to custom audiences")
	}
	cred, err := apicall.NewCredential(d.Credential, env.Secrets)
	if err != nil {
		return destination.Sink{}, err
	}
	auds := map[string]string{}
	for _, seg := range d.Audiences.Segments {
		id := d.Audiences.Names[seg]
		if id == "" {
			return destination.Sink{}, fmt.Errorf("audiences.names.%s: missing; expected the custom audience id", seg)
		}
		auds[id] = id
	}
	a, err := New(env.HTTP, Config{BaseURL: d.URL, Token: cred.Get, Audiences: auds, MaxRows: d.BatchSize, Now: env.Clock})
	if err != nil {
		return destination.Sink{}, err
	}
	return destination.Sink{Audience: a}, nil
}
