package dynamo_test

import (
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"
	"github.com/aurum-cdp/aurum/shared/adapter/dynamo/dynamotest"
	"github.com/aurum-cdp/aurum/shared/port/store"
	"github.com/aurum-cdp/aurum/shared/port/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// fixture is a store on a fresh table, with a Meter between them.
type fixture struct {
	accessKey string
	client    *dynamodb.Client
	meter     *dynamo.Meter
	table     string
	store     *dynamo.Store
}

func newFixture(t testing.TB, opts dynamo.Options) *fixture {
	t.Helper()
	key := dynamotest.NewAccessKey()
	c := dynamotest.ClientFor(t, key)
	table := dynamotest.NewTable(t, c)
	m := dynamo.NewMeter(c)
	return &fixture{accessKey: key, client: c, meter: m, table: table, store: dynamo.New(m, table, opts)}
}

func TestDynamoConformance(t *testing.T) {
	var mu sync.Mutex
	fixtures := map[store.Store]*fixture{}
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) store.Store {
			f := newFixture(t, dynamo.Options{})
			mu.Lock()
			defer mu.Unlock()
			fixtures[f.store] = f
			return f.store
		},
		Reopen: func(t *testing.T, s store.Store) store.Store {
			mu.Lock()
			f := fixtures[s]
			mu.Unlock()
			if err := s.Close(); err != nil {
				t.Fatalf("Close() = %v; want nil", err)
			}
			// A new store and client on the same table (the same
			// DynamoDB Local database: the same access key).
			c := dynamotest.ClientFor(t, f.accessKey)
			return dynamo.New(c, f.table, dynamo.Options{})
		},
		NewWithClock: func(t *testing.T, now func() time.Time) store.Store {
			return newFixture(t, dynamo.Options{Now: now}).store
		},
	})
}
