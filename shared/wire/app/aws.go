package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/core/segment"
	"github.com/aurum-cdp/aurum/shared/wire/settings"
)

// Settings are a function's settings, from its environment (package
// settings, which functions needing nothing else import alone).
type Settings = settings.Settings

// SettingsFromEnv reads Settings from the environment.
func SettingsFromEnv() Settings { return settings.FromEnv() }

// Adapter adds to a function's parts what only some functions use (the
// drop bucket, secrets), from the AWS SDK configuration. Each function's
// main names the adapters it needs, so that it links no others: every
// SDK client a binary imports costs megabytes and cold-start time.
type Adapter func(ac aws.Config, s Settings, p *Parts)

// AWS builds the core platform of a Lambda function: the configuration,
// the segments (precompiled when make build shipped them) and the
// DynamoDB store, with the clients created once from the default AWS
// configuration, which honours AWS_ENDPOINT_URL and the per-service
// AWS_ENDPOINT_URL_<SERVICE> overrides (DynamoDB Local, LocalStack). The
// adapters add the rest, before the platform is wired.
func AWS(ctx context.Context, s Settings, adapters ...Adapter) (*Platform, aws.Config, error) {
	cfg, err := config.Load(s.ConfigPath)
	if err != nil {
		return nil, aws.Config{}, fmt.Errorf("app: %w", err)
	}
	logger := NewLogger(os.Stdout)
	pre, err := segment.ReadPrecompiled(s.SegmentsPath)
	if err != nil {
		// Never fatal: the segments compile from source, only slower.
		logger.WarnContext(ctx, "app: precompiled segments ignored", "error", err.Error())
	}
	if s.Table == "" {
		return nil, aws.Config{}, fmt.Errorf("app: AURUM_TABLE is not set")
	}
	ac, err := settings.AWS(ctx)
	if err != nil {
		return nil, aws.Config{}, fmt.Errorf("app: %w", err)
	}
	st := dynamo.New(dynamodb.NewFromConfig(ac), s.Table, storeOptions(s))
	parts := Parts{
		Config:      cfg,
		Store:       st,
		Appender:    st,
		Precompiled: pre,
		Logger:      logger,
		// One catalog write per instance per 500 rows or 30 s, not per
		// request: DynamoDB units and contention on busy sources.
		CatalogFlush: CatalogFlush{Rows: 500, MaxAge: 30 * time.Second},
	}
	for _, a := range adapters {
		a(ac, s, &parts)
	}
	p, err := New(parts)
	if err != nil {
		return nil, aws.Config{}, err
	}
	return p, ac, nil
}

// storeOptions are the DynamoDB store's options in AWS: the table's
// stream publishes the outbox (functions/outbox) and folds appended
// events into profiles (functions/fold).
func storeOptions(s Settings) dynamo.Options {
	return dynamo.Options{StreamOutbox: true, EventualReads: s.EventualReads}
}

// DeferCounters is an Adapter that gives the platform a store that keeps
// its counter writes in memory and sends them merged (dynamo.CounterFlush).
// The function must call the store's FlushCounters before its instance
// ends (functions/fold does on SIGTERM).
func DeferCounters(f dynamo.CounterFlush) Adapter {
	return func(ac aws.Config, s Settings, p *Parts) {
		opts := storeOptions(s)
		opts.Counters = f
		st := dynamo.New(dynamodb.NewFromConfig(ac), s.Table, opts)
		p.Store, p.Appender = st, st
	}
}

// FoldCounters is how functions/fold sends the identity counters of its
// batches (records, links, the cluster-size histogram): added up in the
// instance, every shard's deltas into one shard, and sent at most every 5
// minutes or 1,000 counters, and when the instance shuts down. A batch
// used to write them itself, 2–4 write units that the only event of a
// quiet table's batch paid alone. An instance that dies without its
// shutdown (a crash, a timeout) loses at most its last 5 minutes of them;
// nothing is ever counted twice.
func FoldCounters() dynamo.CounterFlush {
	return dynamo.CounterFlush{
		Kinds:    []string{identity.ItemStats},
		Summed:   []string{identity.ItemStats},
		MaxAge:   5 * time.Minute,
		MaxItems: 1000,
	}
}
