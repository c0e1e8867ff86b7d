package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"
	s3objects "github.com/aurum-cdp/aurum/shared/adapter/s3"
	"github.com/aurum-cdp/aurum/shared/adapter/secrets"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/segment"
	"github.com/aurum-cdp/aurum/shared/http/api"
	"github.com/aurum-cdp/aurum/shared/wire/settings"
)

// Settings are a function's settings, from its environment (package
// settings, which functions needing nothing else import alone).
type Settings = settings.Settings

// SettingsFromEnv reads Settings from the environment.
func SettingsFromEnv() Settings { return settings.FromEnv() }

// AWS builds the platform of a Lambda function: DynamoDB store, S3 object
// store and SSM/Secrets Manager secrets, all clients created once from the
// default AWS configuration, which honours AWS_ENDPOINT_URL and the
// per-service AWS_ENDPOINT_URL_<SERVICE> overrides (DynamoDB Local,
// LocalStack).
func AWS(ctx context.Context, s Settings) (*Platform, aws.Config, error) {
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
	// The table's stream publishes the outbox (functions/outbox) and
	// folds appended events into profiles (functions/fold).
	st := dynamo.New(dynamodb.NewFromConfig(ac), s.Table, dynamo.Options{StreamOutbox: true, EventualReads: s.EventualReads})
	parts := Parts{
		Config:      cfg,
		Store:       st,
		Appender:    st,
		Precompiled: pre,
		Secrets:     secrets.New(ssm.NewFromConfig(ac), secretsmanager.NewFromConfig(ac), nil),
		Logger:      logger,
		// One catalog write per instance per 500 rows or 30 s, not per
		// request: DynamoDB units and contention on busy sources.
		CatalogFlush: CatalogFlush{Rows: 500, MaxAge: 30 * time.Second},
	}
	if s.Bucket != "" {
		parts.Objects = s3objects.New(s3.NewFromConfig(ac), s.Bucket, s3objects.Options{})
	}
	p, err := New(parts)
	if err != nil {
		return nil, aws.Config{}, err
	}
	return p, ac, nil
}

// APIOptions are the HTTP API's options in AWS.
func APIOptions(s Settings) api.Options {
	var o api.Options
	if s.ReadKeySSM != "" {
		o.ReadKeys = []config.SecretRef{{SSM: s.ReadKeySSM}}
	}
	if s.AdminKeySSM != "" {
		o.AdminKeys = []config.SecretRef{{SSM: s.AdminKeySSM}}
	}
	return o
}
