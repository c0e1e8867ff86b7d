package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"
	s3objects "github.com/aurum-cdp/aurum/shared/adapter/s3"
	"github.com/aurum-cdp/aurum/shared/adapter/secrets"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/http/api"
)

// Settings are a function's settings, from its environment (the CDK stack
// sets them).
type Settings struct {
	// ConfigPath is AURUM_CONFIG, default aurum.yaml in the task root
	// (the build copies it beside every bootstrap).
	ConfigPath string
	// Table is AURUM_TABLE, the DynamoDB table.
	Table string
	// Bucket is AURUM_BUCKET, the drop bucket.
	Bucket string
	// Bus is AURUM_BUS, the EventBridge bus name.
	Bus string
	// ReadKeySSM is AURUM_READ_KEY_SSM: an SSM SecureString parameter
	// holding the API's read key.
	ReadKeySSM string
	// EventualReads makes the store's point reads eventually consistent
	// (half the read units). The fold function sets it: it writes every
	// profile it read with a version check, so a stale read costs a
	// retry, never a wrong write.
	EventualReads bool
	// AdminKeySSM is AURUM_ADMIN_KEY_SSM: an SSM SecureString parameter
	// holding an admin key (read, erase, unmerge). Keys created with
	// `aurum keys create --table` need no parameter.
	AdminKeySSM string
}

// SettingsFromEnv reads Settings from the environment.
func SettingsFromEnv() Settings {
	s := Settings{
		ConfigPath:  os.Getenv("AURUM_CONFIG"),
		Table:       os.Getenv("AURUM_TABLE"),
		Bucket:      os.Getenv("AURUM_BUCKET"),
		Bus:         os.Getenv("AURUM_BUS"),
		ReadKeySSM:  os.Getenv("AURUM_READ_KEY_SSM"),
		AdminKeySSM: os.Getenv("AURUM_ADMIN_KEY_SSM"),
	}
	if s.ConfigPath == "" {
		s.ConfigPath = "aurum.yaml"
		if root := os.Getenv("LAMBDA_TASK_ROOT"); root != "" {
			s.ConfigPath = filepath.Join(root, "aurum.yaml")
		}
	}
	return s
}

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
	if s.Table == "" {
		return nil, aws.Config{}, fmt.Errorf("app: AURUM_TABLE is not set")
	}
	ac, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, aws.Config{}, fmt.Errorf("app: load AWS configuration: %w", err)
	}
	// The table's stream publishes the outbox (functions/outbox) and
	// folds appended events into profiles (functions/fold).
	st := dynamo.New(dynamodb.NewFromConfig(ac), s.Table, dynamo.Options{StreamOutbox: true, EventualReads: s.EventualReads})
	parts := Parts{
		Config:   cfg,
		Store:    st,
		Appender: st,
		Secrets:  secrets.New(ssm.NewFromConfig(ac), secretsmanager.NewFromConfig(ac), nil),
		Logger:   NewLogger(os.Stdout),
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
func (s Settings) APIOptions() api.Options {
	var o api.Options
	if s.ReadKeySSM != "" {
		o.ReadKeys = []config.SecretRef{{SSM: s.ReadKeySSM}}
	}
	if s.AdminKeySSM != "" {
		o.AdminKeys = []config.SecretRef{{SSM: s.AdminKeySSM}}
	}
	return o
}
