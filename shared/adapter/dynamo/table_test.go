package dynamo_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"
	"github.com/aurum-cdp/aurum/shared/adapter/dynamo/dynamotest"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

func TestDynamoCreateTable(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dynamo.Options{})
	ctx := t.Context()
	out, err := f.client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(f.table)})
	if err != nil {
		t.Fatalf("DescribeTable() = %v", err)
	}
	tb := out.Table
	if m := tb.BillingModeSummary; m == nil || m.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("billing mode = %+v; want %s", m, types.BillingModePayPerRequest)
	}
	if s := tb.StreamSpecification; s == nil || !aws.ToBool(s.StreamEnabled) || s.StreamViewType != types.StreamViewTypeNewImage || tb.LatestStreamArn == nil {
		t.Errorf("stream = %+v, arn %v; want enabled with %s", s, tb.LatestStreamArn, types.StreamViewTypeNewImage)
	}
	if len(tb.GlobalSecondaryIndexes) != 1 || aws.ToString(tb.GlobalSecondaryIndexes[0].IndexName) != dynamo.OutboxIndex {
		t.Errorf("global secondary indexes = %d; want one named %s", len(tb.GlobalSecondaryIndexes), dynamo.OutboxIndex)
	}
	ttl, err := f.client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(f.table)})
	if err != nil || ttl.TimeToLiveDescription == nil || aws.ToString(ttl.TimeToLiveDescription.AttributeName) != dynamo.TTLAttribute ||
		ttl.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Errorf("DescribeTimeToLive() = %+v, %v; want %s enabled", ttl, err, dynamo.TTLAttribute)
	}
	if err := dynamo.CreateTable(ctx, f.client, f.table); err != nil {
		t.Errorf("CreateTable(existing table) = %v; want nil", err)
	}

	other := dynamotest.TableName(t)
	_, err = f.client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(other),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("CreateTable(other schema) = %v", err)
	}
	if err := dynamo.CreateTable(ctx, f.client, other); err == nil {
		t.Errorf("CreateTable(table with another key schema) = nil; want an error")
	}
}

// TestDynamoEndpointFromEnvironment checks that a client built the way
// production code builds it, config.LoadDefaultConfig, reaches DynamoDB
// Local through the standard endpoint variables alone.
func TestDynamoEndpointFromEnvironment(t *testing.T) {
	ep := dynamotest.Endpoint(t)
	key := dynamotest.NewAccessKey()
	admin := dynamotest.ClientFor(t, key)
	vars := []string{"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"}
	for _, v := range vars {
		t.Run(v, func(t *testing.T) {
			for _, other := range vars {
				t.Setenv(other, "")
			}
			t.Setenv(v, ep)
			none := filepath.Join(t.TempDir(), "none")
			t.Setenv("AWS_CONFIG_FILE", none)
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
			t.Setenv("AWS_PROFILE", "")
			t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "")
			t.Setenv("AWS_REGION", dynamotest.Region)
			// The same access key as admin: the same DynamoDB Local database.
			t.Setenv("AWS_ACCESS_KEY_ID", key)
			t.Setenv("AWS_SECRET_ACCESS_KEY", "envsecret")
			t.Setenv("AWS_SESSION_TOKEN", "")

			cfg, err := config.LoadDefaultConfig(t.Context())
			if err != nil {
				t.Fatalf("LoadDefaultConfig() = %v", err)
			}
			c := dynamodb.NewFromConfig(cfg)
			table := dynamotest.TableName(t)
			if err := dynamo.CreateTable(t.Context(), c, table); err != nil {
				t.Fatalf("CreateTable() through %s = %v; want nil", v, err)
			}
			t.Cleanup(func() {
				_, _ = admin.DeleteTable(t.Context(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
			})
			st := dynamo.New(c, table, dynamo.Options{})
			if err := st.Commit(t.Context(), store.Change{Keys: []string{"k"}}); err != nil {
				t.Fatalf("Commit() through %s = %v; want nil", v, err)
			}
			// The test's own client, pointed at DynamoDB Local explicitly,
			// sees the write.
			seen, err := dynamo.New(admin, table, dynamo.Options{}).Seen(t.Context(), []string{"k"})
			if err != nil || !seen["k"] {
				t.Errorf("Seen(k) on DynamoDB Local = %v, %v; want true", seen, err)
			}
		})
	}
}

func TestKind(t *testing.T) {
	reasons := func(codes ...string) error {
		e := &types.TransactionCanceledException{Message: aws.String("Transaction cancelled")}
		for _, c := range codes {
			e.CancellationReasons = append(e.CancellationReasons, types.CancellationReason{Code: aws.String(c)})
		}
		return e
	}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"condition failed", &types.ConditionalCheckFailedException{}, fault.ErrConflict},
		{"wrapped condition failed", fmt.Errorf("op: %w", &types.ConditionalCheckFailedException{}), fault.ErrConflict},
		{"transaction: condition failed", reasons("None", "ConditionalCheckFailed"), fault.ErrConflict},
		{"transaction: condition failed and conflict", reasons("TransactionConflict", "ConditionalCheckFailed"), fault.ErrConflict},
		{"transaction: conflict", reasons("None", "TransactionConflict"), fault.ErrRetryable},
		{"transaction: throttled", reasons("ThrottlingError"), fault.ErrRetryable},
		{"transaction: capacity", reasons("ProvisionedThroughputExceeded"), fault.ErrRetryable},
		{"transaction: validation", reasons("ValidationError"), fault.ErrInvalid},
		{"throughput exceeded", &types.ProvisionedThroughputExceededException{}, fault.ErrRetryable},
		{"request limit", &types.RequestLimitExceeded{}, fault.ErrRetryable},
		{"throttling", &types.ThrottlingException{}, fault.ErrRetryable},
		{"transaction conflict", &types.TransactionConflictException{}, fault.ErrRetryable},
		{"transaction in progress", &types.TransactionInProgressException{}, fault.ErrRetryable},
		{"internal error", &types.InternalServerError{}, fault.ErrRetryable},
		{"generic throttling", &smithy.GenericAPIError{Code: "ThrottlingException"}, fault.ErrRetryable},
		{"item too large", &smithy.GenericAPIError{Code: "ValidationException", Message: "Item size has exceeded the maximum allowed size"}, fault.ErrTooLarge},
		{"validation", &smithy.GenericAPIError{Code: "ValidationException", Message: "One or more parameter values were invalid"}, fault.ErrInvalid},
		{"table missing", &types.ResourceNotFoundException{}, nil},
		{"other", errors.New("boom"), nil},
		{"nil", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dynamo.Kind(tt.err); got != tt.want {
				t.Errorf("Kind(%v) = %v; want %v", tt.err, got, tt.want)
			}
		})
	}
}

// TestDynamoKindOfLocalErrors checks Kind on errors DynamoDB Local really
// returns.
func TestDynamoKindOfLocalErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dynamo.Options{})
	ctx := t.Context()
	put := func(pk string, pad int) *types.Put {
		return &types.Put{TableName: aws.String(f.table), Item: map[string]types.AttributeValue{
			dynamo.PartitionKey: &types.AttributeValueMemberS{Value: pk},
			dynamo.SortKey:      &types.AttributeValueMemberS{Value: "X"},
			"pad":               &types.AttributeValueMemberS{Value: strings.Repeat("x", pad)},
		}}
	}
	if _, err := f.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(f.table), Item: put("a", 1).Item}); err != nil {
		t.Fatalf("PutItem() = %v", err)
	}
	exists := func(p *types.Put) *types.Put {
		p.ConditionExpression = aws.String("attribute_not_exists(pk)")
		return p
	}
	var tooMany []types.TransactWriteItem
	for i := 0; i < 101; i++ {
		tooMany = append(tooMany, types.TransactWriteItem{Put: put(fmt.Sprint("m", i), 1)})
	}
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"conditional put", func() error {
			_, err := f.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(f.table), Item: put("a", 1).Item,
				ConditionExpression: aws.String("attribute_not_exists(pk)")})
			return err
		}, fault.ErrConflict},
		{"transaction with a failed condition", func() error {
			_, err := f.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Put: put("b", 1)}, {Put: exists(put("a", 1))},
			}})
			return err
		}, fault.ErrConflict},
		{"item over 400 KB", func() error {
			_, err := f.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(f.table), Item: put("big", 410*1024).Item})
			return err
		}, fault.ErrTooLarge},
		{"transaction of 101 items", func() error {
			_, err := f.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tooMany})
			return err
		}, fault.ErrTooLarge},
		{"malformed condition", func() error {
			p := put("c", 1)
			p.ConditionExpression = aws.String("attribute_not_exists(")
			_, err := f.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Put: p}}})
			return err
		}, fault.ErrInvalid},
	}
	for _, tt := range tests {
		err := tt.call()
		if got := dynamo.Kind(err); got != tt.want {
			t.Errorf("%s: Kind(%v) = %v; want %v", tt.name, err, got, tt.want)
		}
	}
}
