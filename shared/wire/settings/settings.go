// Package settings reads a Lambda function's settings from its environment
// (the CDK stack sets them) and builds what every function shares: the
// logger and the AWS SDK configuration. It imports no part of the
// platform, so a function that needs only settings (functions/outbox)
// links none of it; package app re-exports the type as app.Settings.
package settings

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
)

// Settings are a function's settings, from its environment.
type Settings struct {
	// ConfigPath is AURUM_CONFIG, default aurum.yaml in the task root
	// (the build copies it beside every bootstrap).
	ConfigPath string
	// SegmentsPath is AURUM_SEGMENTS, the segments compiled ahead of time
	// (`aurum compile`), default aurum.segments.json beside the config;
	// when missing, segments compile from source at cold start.
	SegmentsPath string
	// Table is AURUM_TABLE, the DynamoDB table.
	Table string
	// Bucket is AURUM_BUCKET, the drop bucket.
	Bucket string
	// Bus is AURUM_BUS, the EventBridge bus name.
	Bus string
	// ReadKeySSM is AURUM_READ_KEY_SSM: an SSM SecureString parameter
	// holding the API's read key.
	ReadKeySSM string
	// AdminKeySSM is AURUM_ADMIN_KEY_SSM: an SSM SecureString parameter
	// holding an admin key (read, erase, unmerge). Keys created with
	// `aurum keys create --table` need no parameter.
	AdminKeySSM string
	// TriggerARN is AURUM_TRIGGER_ARN: functions/triggers' own ARN, the
	// target of delayed firings.
	TriggerARN string
	// SchedulerRoleARN is AURUM_SCHEDULER_ROLE_ARN, the role EventBridge
	// Scheduler assumes to invoke functions/triggers.
	SchedulerRoleARN string
	// ScheduleGroup is AURUM_SCHEDULE_GROUP (optional).
	ScheduleGroup string
	// TriggerDLQURL is AURUM_TRIGGER_DLQ_URL, the dead-letter queue of
	// failed trigger actions.
	TriggerDLQURL string
	// EventualReads makes the store's point reads eventually consistent
	// (half the read units). The fold function sets it: it writes every
	// profile it read with a version check, so a stale read costs a
	// retry, never a wrong write.
	EventualReads bool
}

// FromEnv reads Settings from the environment.
func FromEnv() Settings {
	s := Settings{
		ConfigPath:       os.Getenv("AURUM_CONFIG"),
		SegmentsPath:     os.Getenv("AURUM_SEGMENTS"),
		Table:            os.Getenv("AURUM_TABLE"),
		Bucket:           os.Getenv("AURUM_BUCKET"),
		Bus:              os.Getenv("AURUM_BUS"),
		ReadKeySSM:       os.Getenv("AURUM_READ_KEY_SSM"),
		AdminKeySSM:      os.Getenv("AURUM_ADMIN_KEY_SSM"),
		TriggerARN:       os.Getenv("AURUM_TRIGGER_ARN"),
		SchedulerRoleARN: os.Getenv("AURUM_SCHEDULER_ROLE_ARN"),
		ScheduleGroup:    os.Getenv("AURUM_SCHEDULE_GROUP"),
		TriggerDLQURL:    os.Getenv("AURUM_TRIGGER_DLQ_URL"),
	}
	if s.ConfigPath == "" {
		s.ConfigPath = "aurum.yaml"
		if root := os.Getenv("LAMBDA_TASK_ROOT"); root != "" {
			s.ConfigPath = filepath.Join(root, "aurum.yaml")
		}
	}
	if s.SegmentsPath == "" {
		s.SegmentsPath = filepath.Join(filepath.Dir(s.ConfigPath), "aurum.segments.json")
	}
	return s
}

// AWS loads the default AWS SDK configuration, which honours
// AWS_ENDPOINT_URL and the per-service AWS_ENDPOINT_URL_<SERVICE>
// overrides (DynamoDB Local, LocalStack).
func AWS(ctx context.Context) (aws.Config, error) {
	ac, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("settings: load AWS configuration: %w", err)
	}
	return ac, nil
}

// Logger returns a JSON logger on w at the level named by AURUM_LOG_LEVEL
// (debug, info, warn, error; default info). Log lines carry counts, keys
// and ids, never personal data.
func Logger(w *os.File) *slog.Logger {
	var level slog.Level
	switch strings.ToLower(os.Getenv("AURUM_LOG_LEVEL")) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}
