package destination

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// Preset is a destination kind of aurum.yaml's destinations: (hubspot,
// braze, the action kinds webhook and sqs, …): its documented limits, the
// default field maps that a destination's map keys override, and how a
// configured destination becomes a Sink. Presets live in subpackages, one
// per tool, each exporting a Preset; shared/wire/app registers them.
type Preset struct {
	Name     string
	Limits   Limits
	Defaults Defaults
	// Build validates the destination's kind-specific settings (url,
	// options, credential) and returns its Sink. Errors name the setting.
	Build func(d config.Destination, env Env) (Sink, error)
}

// Limits are a kind's documented limits.
type Limits struct {
	// MaxEvents, MaxProfiles and MaxMembers cap one request's events,
	// profiles and audience members (adds plus removes); 0 means one.
	MaxEvents, MaxProfiles, MaxMembers int
	// PerSecond is the default request rate; 0 means unlimited.
	PerSecond int
}

// Defaults are a kind's default field maps (tool field → Aurum path).
type Defaults struct {
	Profile map[string]string
	Event   map[string]string
}

// Env is what a preset's Build may use.
type Env struct {
	// HTTP sends the presets' requests.
	HTTP *http.Client
	// Secrets resolves credentials by reference.
	Secrets SecretResolver
	// Actions builds the action kinds (webhook, sqs, event) that are
	// destinations too.
	Actions *Registry
	// Clock is the time; default time.Now.
	Clock func() time.Time
}

// SecretResolver resolves secret references; *secrets.Resolver does.
type SecretResolver interface {
	Resolve(ctx context.Context, ref config.SecretRef) (string, error)
}

// Sink is what a destination can receive; a nil interface is a capability
// the kind lacks (configuring it is an error when the destination is
// built). Action, when set, is an action kind used as a destination: it
// receives one Delivery per item and serves triggers naming it.
type Sink struct {
	Events   EventForward
	Profiles ProfileSync
	Audience Audience
	Action   Action
}

// Presets maps destination kinds to presets. It is filled once, in
// shared/wire/app; a nil *Presets has none.
type Presets struct {
	presets map[string]Preset
}

// NewPresets returns the registry of ps; a preset without a name or
// builder, or a name given twice, is an error.
func NewPresets(ps ...Preset) (*Presets, error) {
	r := &Presets{presets: map[string]Preset{}}
	for _, p := range ps {
		if p.Name == "" || p.Build == nil {
			return nil, fmt.Errorf("destination: preset %q needs a name and a builder", p.Name)
		}
		if _, dup := r.presets[p.Name]; dup {
			return nil, fmt.Errorf("destination: preset %q is registered twice", p.Name)
		}
		r.presets[p.Name] = p
	}
	return r, nil
}

// Lookup returns the preset of kind; an unknown kind is a fault.ErrInvalid
// error naming the registered ones.
func (r *Presets) Lookup(kind string) (Preset, error) {
	if r != nil {
		if p, ok := r.presets[kind]; ok {
			return p, nil
		}
	}
	return Preset{}, fmt.Errorf("unknown destination kind %q (registered: %s): %w", kind, r.names(), fault.ErrInvalid)
}

// Names returns the registered kinds, sorted.
func (r *Presets) Names() []string {
	if r == nil {
		return nil
	}
	out := make([]string, 0, len(r.presets))
	for n := range r.presets {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func (r *Presets) names() string {
	n := r.Names()
	if len(n) == 0 {
		return "none"
	}
	return fmt.Sprint(n)
}

// ActionPreset makes an action kind (webhook, sqs, event) a destination
// kind: the destination's settings become the action's (settings picks
// them, such as config.TriggerAction{Webhook: d.Webhook}), the action is
// built by Env.Actions, and each item (event, profile, audience change)
// is delivered as its own Delivery.
func ActionPreset(kind string, settings func(d config.Destination) config.TriggerAction) Preset {
	return Preset{
		Name: kind,
		Defaults: Defaults{Profile: map[string]string{
			"id": "profile.id", "identifiers": "profile.identifiers", "attributes": "profile.attributes",
		}},
		Build: func(d config.Destination, env Env) (Sink, error) {
			a, err := env.Actions.BuildAction(settings(d))
			if err != nil {
				return Sink{}, err
			}
			return Sink{Action: a}, nil
		},
	}
}
