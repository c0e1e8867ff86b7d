package app

import (
	"context"
	"fmt"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/mapping"
	"github.com/aurum-cdp/aurum/shared/source"
	"github.com/aurum-cdp/aurum/shared/source/pull"
)

// connectors are the pull connector kinds this build knows: the values
// pull.connector may take in aurum.yaml. A connector kind is one file of
// this package registering its constructor, for example pull_postgres.go:
//
//	func init() { RegisterConnector("postgres", postgres.New) }
//
// None is registered yet; vendor connectors come with their own issue.
var connectors = source.NewRegistry()

// RegisterConnector adds a pull connector kind to the registry every
// platform builds its pull sources from. Call it from an init function (a
// connector's wiring file, a test); it panics on a duplicate or an
// invalid kind.
func RegisterConnector(kind string, c source.Constructor) { connectors.MustRegister(kind, c) }

// Connectors returns the registry of pull connector kinds.
func Connectors() *source.Registry { return connectors }

// Pulls builds the runner of every pull source of the configuration, with
// the connectors of reg: a connector kind that is not registered, options
// its constructor refuses and a mapping that does not compile are errors,
// so that they stop a process at start-up. Rows are ingested through
// p.Ingester, catalogued, and their rejects kept in p.Objects (when set).
// Close the set when done: it closes the connectors.
func (p *Platform) Pulls(reg *source.Registry) (*pull.Set, error) {
	var runners []*pull.Runner
	fail := func(err error) (*pull.Set, error) {
		_ = pull.NewSet(nil, runners...).Close()
		return nil, fmt.Errorf("app: %w", err)
	}
	for _, src := range p.Config.SourcesOfKind(config.KindPull) {
		conn, err := reg.New(src, p.Secrets)
		if err != nil {
			return fail(err)
		}
		m, err := mapping.New(src, p.Config.Identifiers)
		if err != nil {
			return fail(err)
		}
		d := pull.Deps{State: p.Store, Ingester: p.Ingester, Rejects: p.Objects, Observer: p.Console.Observer}
		r, err := pull.New(src.Name, *src.Pull, conn, m, d, pull.Options{Clock: p.Clock, Logger: p.Logger})
		if err != nil {
			return fail(err)
		}
		runners = append(runners, r)
	}
	return pull.NewSet(p.Logger, runners...), nil
}

// PullDue runs the pull sources due at at, with the registered
// connectors: the pull part of functions/scheduler's tick (see Sweep). The
// sources are built for the tick and closed after it. A source that fails
// is logged and recorded in its state, and retried on a later tick; the
// error is for sources that cannot be built (configuration or wiring).
func (p *Platform) PullDue(ctx context.Context, at time.Time) ([]pull.Result, error) {
	if len(p.Config.SourcesOfKind(config.KindPull)) == 0 {
		return nil, nil
	}
	set, err := p.Pulls(connectors)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := set.Close(); err != nil {
			p.Logger.WarnContext(ctx, "app: close pull connectors", "err", err)
		}
	}()
	return set.Tick(ctx, at), nil
}
