package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TableClient is the part of the DynamoDB API CreateTable uses.
type TableClient interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

// TableInput is the definition of Aurum's table, the one the CDK stack
// deploys: string keys pk and sk, on-demand billing (PAY_PER_REQUEST), a
// stream of new images (it carries outbox items to EventBridge), and the
// sparse outbox index gsi1 (gpk, gsk; all attributes projected). Time to
// live on attribute ttl is enabled separately (UpdateTimeToLive).
func TableInput(table string) *dynamodb.CreateTableInput {
	s := types.ScalarAttributeTypeS
	return &dynamodb.CreateTableInput{
		TableName: aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(PartitionKey), AttributeType: s},
			{AttributeName: aws.String(SortKey), AttributeType: s},
			{AttributeName: aws.String(IndexPartitionKey), AttributeType: s},
			{AttributeName: aws.String(IndexSortKey), AttributeType: s},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(PartitionKey), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(SortKey), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(OutboxIndex),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(IndexPartitionKey), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(IndexSortKey), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
		BillingMode: types.BillingModePayPerRequest,
		StreamSpecification: &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewTypeNewImage,
		},
	}
}

// CreateTable creates table as TableInput defines it, waits until it is
// active and enables time to live on TTLAttribute. A table that already
// exists with Aurum's key schema is accepted as it is. Tests and local
// tooling (DynamoDB Local, LocalStack) use it; in AWS the CDK stack creates
// the table.
func CreateTable(ctx context.Context, client TableClient, table string) error {
	_, err := client.CreateTable(ctx, TableInput(table))
	var inUse *types.ResourceInUseException
	switch {
	case errors.As(err, &inUse):
		out, derr := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if derr != nil {
			return wrap("describe table "+table, derr)
		}
		if !aurumKeys(out.Table) {
			return fmt.Errorf("dynamo: table %s exists with another key schema", table)
		}
		return nil
	case err != nil:
		return wrap("create table "+table, err)
	}
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = 2 * time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 5*time.Minute); err != nil {
		return fmt.Errorf("dynamo: wait for table %s: %w", table, err)
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(TTLAttribute),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return wrap("enable time to live on table "+table, err)
	}
	return nil
}

func aurumKeys(t *types.TableDescription) bool {
	if t == nil || len(t.KeySchema) != 2 {
		return false
	}
	want := map[string]types.KeyType{PartitionKey: types.KeyTypeHash, SortKey: types.KeyTypeRange}
	for _, k := range t.KeySchema {
		if k.AttributeName == nil || want[*k.AttributeName] != k.KeyType {
			return false
		}
	}
	return true
}
