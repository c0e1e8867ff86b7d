package dynamo_test

import (
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aurum-cdp/aurum/shared/store"
	"github.com/aurum-cdp/aurum/shared/store/dynamo"
	"github.com/aurum-cdp/aurum/shared/store/dynamo/dynamotest"
	"github.com/aurum-cdp/aurum/shared/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// fixture is a store on a fresh table, with a Meter between them.
type fixture struct {
	client *dynamodb.Client
	meter  *dynamo.Meter
	table  string
	store  *dynamo.Store
}

func newFixture(t testing.TB, opts dynamo.Options) *fixture {
	t.Helper()
	c := dynamotest.Client(t)
	table := dynamotest.NewTable(t, c)
	m := dynamo.NewMeter(c)
	return &fixture{client: c, meter: m, table: table, store: dynamo.New(m, table, opts)}
}

func TestDynamoConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) store.Store {
			return newFixture(t, dynamo.Options{}).store
		},
		Reopen: func(t *testing.T, s store.Store) store.Store {
			st := s.(*dynamo.Store)
			if err := st.Close(); err != nil {
				t.Fatalf("Close() = %v; want nil", err)
			}
			return dynamo.New(dynamotest.Client(t), st.Table(), dynamo.Options{})
		},
		NewWithClock: func(t *testing.T, now func() time.Time) store.Store {
			return newFixture(t, dynamo.Options{Now: now}).store
		},
	})
}
