package app

import (
	"fmt"

	"github.com/aurum-cdp/aurum/shared/core/activation"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/catalog"
	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/core/keys"
	"github.com/aurum-cdp/aurum/shared/core/privacy"
	"github.com/aurum-cdp/aurum/shared/core/segment"
	"github.com/aurum-cdp/aurum/shared/core/trigger"
	"github.com/aurum-cdp/aurum/shared/http/dashboard"
	"github.com/aurum-cdp/aurum/shared/port/store"
	"github.com/aurum-cdp/aurum/shared/source/pull"
)

// Forgetters is the erasure registry: one store.Forgetter per package
// that writes generic store items, saying which item kinds it owns and
// what of a person an erasure deletes and an export shows. A package
// that writes a new kind adds its Forgetter here; TestEveryItemKindIsClaimed
// fails while a kind the platform writes is claimed by none.
func Forgetters(cfg *config.Config, eng *identity.Engine) []store.Forgetter {
	return []store.Forgetter{
		identity.NewForgetter(eng),
		segment.NewForgetter(cfg.Segments),
		trigger.NewForgetter(cfg.Triggers),
		catalog.Forgetter{},
		dashboard.Forgetter{},
		keys.Forgetter{},
		privacy.Suppressions{},
		pull.Forgetter{},
		activation.Forgetter{},
	}
}

// Privacy returns the data-subject service over st (the platform's store,
// which must also erase) with the erasure registry.
func (p *Platform) Privacy(st privacy.Store) (*privacy.Service, error) {
	svc, err := privacy.New(privacy.ConfigOf(p.Config), st, Forgetters(p.Config, p.Identity),
		privacy.Options{Clock: p.Clock, Logger: p.Logger})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	return svc, nil
}
