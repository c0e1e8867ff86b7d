package destination

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// Kind is a registry entry: the kind's name (config.TriggerAction.Kind,
// the action's key in aurum.yaml) and how to build an Action from a
// configured action of that kind. Build validates the configuration and
// that the kind's collaborators are there; its errors name the setting.
type Kind struct {
	Name  string
	Build func(a config.TriggerAction) (Action, error)
}

// Registry maps action kinds to their builders. It is filled once, in
// shared/wire/app, and read-only afterwards; a nil *Registry has no kinds.
type Registry struct {
	kinds map[string]Kind
}

// NewRegistry returns a registry holding kinds.
func NewRegistry(kinds ...Kind) (*Registry, error) {
	r := &Registry{kinds: map[string]Kind{}}
	for _, k := range kinds {
		if err := r.Register(k); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Register adds k; a kind without a name or builder, or registered
// already, is an error.
func (r *Registry) Register(k Kind) error {
	switch {
	case k.Name == "" || k.Build == nil:
		return fmt.Errorf("destination: kind %q needs a name and a builder", k.Name)
	case r.has(k.Name):
		return fmt.Errorf("destination: kind %q is registered twice", k.Name)
	}
	r.kinds[k.Name] = k
	return nil
}

func (r *Registry) has(name string) bool {
	if r == nil {
		return false
	}
	_, ok := r.kinds[name]
	return ok
}

// Kinds returns the registered kinds' names, sorted.
func (r *Registry) Kinds() []string {
	if r == nil {
		return nil
	}
	names := make([]string, 0, len(r.kinds))
	for n := range r.kinds {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Build builds the Action of a, configured at path (such as
// "actions[0]"), which starts every error. An action that sets no kind (or
// several), or one of a kind not registered, is a fault.ErrInvalid error
// naming the registered kinds; builder errors follow path and the kind
// ("actions[0].webhook: secret: missing").
func (r *Registry) Build(path string, a config.TriggerAction) (Action, error) {
	name := a.Kind()
	if name == "" {
		return nil, fmt.Errorf("%s: expected exactly one action kind (registered: %s): %w", path, r.list(), fault.ErrInvalid)
	}
	if !r.has(name) {
		return nil, fmt.Errorf("%s: unknown action kind %q (registered: %s): %w", path, name, r.list(), fault.ErrInvalid)
	}
	act, err := r.kinds[name].Build(a)
	if err != nil {
		return nil, fmt.Errorf("%s.%s: %w", path, name, err)
	}
	return act, nil
}

func (r *Registry) list() string {
	if names := r.Kinds(); len(names) > 0 {
		return strings.Join(names, ", ")
	}
	return "none"
}

// BuildAction builds the Action of a, whose errors start with the kind
// ("webhook: secret: missing"), for callers that name the place
// themselves (a destination of an action kind).
func (r *Registry) BuildAction(a config.TriggerAction) (Action, error) {
	name := a.Kind()
	if !r.has(name) {
		return nil, fmt.Errorf("unknown action kind %q (registered: %s): %w", name, r.list(), fault.ErrInvalid)
	}
	act, err := r.kinds[name].Build(a)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return act, nil
}
