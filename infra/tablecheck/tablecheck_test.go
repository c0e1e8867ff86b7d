package tablecheck

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aurum-cdp/aurum/infra/cdp"
	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"
)

func TestTableMatchesStore(t *testing.T) {
	in := dynamo.TableInput("aurum")
	keys := func(ks []types.KeySchemaElement) map[types.KeyType]string {
		out := map[types.KeyType]string{}
		for _, k := range ks {
			out[k.KeyType] = aws.ToString(k.AttributeName)
		}
		return out
	}
	if len(in.GlobalSecondaryIndexes) != 1 {
		t.Fatalf("store declares %d global secondary indexes; the stack deploys 1 (%s)", len(in.GlobalSecondaryIndexes), cdp.OutboxIndex)
	}
	gsi := in.GlobalSecondaryIndexes[0]
	table, index := keys(in.KeySchema), keys(gsi.KeySchema)
	tests := []struct {
		what      string
		store     string
		construct string
	}{
		{"partition key", table[types.KeyTypeHash], cdp.TablePartitionKey},
		{"sort key", table[types.KeyTypeRange], cdp.TableSortKey},
		{"index name", aws.ToString(gsi.IndexName), cdp.OutboxIndex},
		{"index partition key", index[types.KeyTypeHash], cdp.OutboxIndexPK},
		{"index sort key", index[types.KeyTypeRange], cdp.OutboxIndexSK},
		{"index projection", string(gsi.Projection.ProjectionType), "ALL"},
		{"time to live", dynamo.TTLAttribute, cdp.TableTTLAttribute},
		{"billing", string(in.BillingMode), "PAY_PER_REQUEST"},
		{"stream view", string(in.StreamSpecification.StreamViewType), "NEW_IMAGE"},
	}
	for _, tt := range tests {
		t.Run(tt.what, func(t *testing.T) {
			if tt.store != tt.construct {
				t.Errorf("%s: store has %q; stack deploys %q", tt.what, tt.store, tt.construct)
			}
		})
	}
	for _, a := range in.AttributeDefinitions {
		if a.AttributeType != types.ScalarAttributeTypeS {
			t.Errorf("attribute %s has type %s; the stack declares every key a string", aws.ToString(a.AttributeName), a.AttributeType)
		}
	}
}
