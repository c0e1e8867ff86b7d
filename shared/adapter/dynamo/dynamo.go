// Package dynamo is the DynamoDB implementation of the store.Store port.
//
// Everything lives in one table (a single-table design, described in
// docs/dynamodb.md): the identifier index, profiles, merge redirects, source
// records, per-profile event items, idempotency keys and the transactional
// outbox. One store.Change is one TransactWriteItems call, so a change is
// atomic; optimistic checks are DynamoDB condition expressions, and a failed
// check is fault.ErrConflict.
//
// Merges cost a bounded number of writes: a merged-away profile item becomes
// a pointer to the survivor, and the identifiers, records and events of the
// merged profile are not rewritten. Reads follow the pointers.
//
// Generic items (store.Item: merge ledger, segment membership, counters,
// trigger state) have a partition per kind and key, so they are read by key
// or as a sorted range, never by scanning.
//
// The caller builds the DynamoDB client and injects it. Built with
// config.LoadDefaultConfig, the client honours the standard endpoint
// overrides AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_DYNAMODB, so the same code
// runs against DynamoDB, DynamoDB Local and LocalStack:
//
//	cfg, err := config.LoadDefaultConfig(ctx)
//	...
//	st := dynamo.New(dynamodb.NewFromConfig(cfg), "aurum", dynamo.Options{})
//
// In AWS the outbox reaches EventBridge through the table's stream; Outbox
// and Ack serve local tooling and tests.
package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aurum-cdp/aurum/shared/port/store"
)

// Client is the part of the DynamoDB API the store uses. *dynamodb.Client
// implements it; so does Meter, which counts the capacity units used.
type Client interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Defaults for Options.
const (
	// DefaultKeyTTL is how long idempotency keys are kept. It outlasts
	// every re-delivery window Aurum's inputs have (S3 event notifications,
	// SQS retention of 14 days, webhook retries, Segment retries).
	DefaultKeyTTL = 30 * 24 * time.Hour
	// DefaultOutboxTTL is how long outbox items are kept. In AWS the stream
	// publishes an item as soon as it is written; the TTL only clears the
	// table.
	DefaultOutboxTTL = 7 * 24 * time.Hour
	// DefaultOutboxShards is the number of index partitions outbox items
	// are spread over.
	DefaultOutboxShards = 8
)

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// KeyTTL is how long an idempotency key is remembered: 0 means
	// DefaultKeyTTL, a negative value means forever.
	KeyTTL time.Duration
	// OutboxTTL is how long an outbox item is kept when nobody acks it: 0
	// means DefaultOutboxTTL, a negative value means forever.
	OutboxTTL time.Duration
	// OutboxShards spreads outbox items over this many partitions of the
	// outbox index (0 means DefaultOutboxShards). Changing it on a table
	// with pending items hides them from Outbox until they expire.
	OutboxShards int
	// EventualReads makes point reads (Owners, Profile, Resolve, Record,
	// Seen) eventually consistent, which halves their read units. Commits
	// stay safe (every write is checked), but more of them may conflict.
	EventualReads bool
	// EventualOwners makes Owners alone eventually consistent (the
	// identifier items and the claimants' profile items it reads to follow
	// redirects), which halves its read units. It suits a store that only
	// the ingestion pipeline uses: the pipeline claims an identifier it
	// saw unclaimed with a condition that it still is, and re-reads every
	// profile it writes (strongly) and writes it with a version check, so
	// a stale answer costs a retry, not a wrong write. The one exception
	// is an identifier whose claim an unmerge or an erasure has just moved
	// or removed: a read up to about a second old may still attach a
	// record to its former profile (the same race exists, in a window of
	// milliseconds, with strong reads). Callers that decide on Owners
	// alone, such as the tracking API's alias handling, want strong reads:
	// give them a Store without this option on the same table.
	EventualOwners bool
	// StreamOutbox says the table's stream alone publishes the outbox
	// (AWS: functions/outbox). Outbox items then carry no index attributes
	// (one write unit less each), Outbox and Ack are not supported, and a
	// change that writes just one profile and outbox events is one
	// conditional PutItem of the profile item with the events embedded
	// (attribute OutboxAttribute) instead of a transaction: the stream
	// record of that write is the outbox.
	StreamOutbox bool
	// Counters defers the adds to counter items and sends them merged,
	// later (see CounterFlush; functions/fold). The zero value sends every
	// write at once.
	Counters CounterFlush
	// Now returns the current time (time.Now when nil). It stamps the
	// expiry of keys and outbox items and judges the expiry of keys and
	// generic items; tests set it.
	Now func() time.Time
}

// Store is a store.Store on one DynamoDB table. It is safe for concurrent
// use.
type Store struct {
	client Client
	table  string
	opts   Options
	// counters holds the deferred writes (Options.Counters), nil when
	// none are deferred.
	counters *counterBuffer
}

var _ store.Store = (*Store)(nil)

// New returns a Store on table, which must have the layout CreateTable
// makes. The client stays the caller's: Close does not close it.
func New(client Client, table string, opts Options) *Store {
	if opts.KeyTTL == 0 {
		opts.KeyTTL = DefaultKeyTTL
	}
	if opts.OutboxTTL == 0 {
		opts.OutboxTTL = DefaultOutboxTTL
	}
	if opts.OutboxShards <= 0 {
		opts.OutboxShards = DefaultOutboxShards
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Store{client: client, table: table, opts: opts}
	if len(opts.Counters.Kinds) > 0 {
		s.counters = newCounterBuffer(opts.Counters)
	}
	return s
}

// Close sends the deferred counter adds (Options.Counters) and releases
// nothing else: the client belongs to the caller.
func (s *Store) Close() error { return s.FlushCounters(context.Background()) }

// Table returns the name of the store's table.
func (s *Store) Table() string { return s.table }
