package cdp

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
)

// Table layout. It must match TableInput in shared/adapter/dynamo (the same
// table for DynamoDB Local; docs/dynamodb.md describes the items):
// infra/tablecheck tests that it does.
const (
	TablePartitionKey = "pk"
	TableSortKey      = "sk"
	TableTTLAttribute = "ttl"
	OutboxIndex       = "gsi1"
	OutboxIndexPK     = "gpk"
	OutboxIndexSK     = "gsk"
)

// Object key prefixes of the drop bucket (shared/source/file).
const (
	SourcesPrefix  = "sources/"
	RejectedPrefix = "rejected/"
	ReportsPrefix  = "reports/"
)

func (c *Cdp) storage(p *CdpProps) {
	// Objects under the drop bucket hold customer data: both buckets are
	// retained when the stack is deleted, in every environment.
	c.LogBucket = awss3.NewBucket(c.Construct, jsii.String("AccessLogs"), &awss3.BucketProps{
		// S3 server access logging delivers only to SSE-S3 buckets.
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:         jsii.String("expire-access-logs"),
			Expiration: awscdk.Duration_Days(jsii.Number(365)),
		}},
	})
	c.Bucket = awss3.NewBucket(c.Construct, jsii.String("Drops"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:         jsii.Bool(p.Production),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{
			{
				Id:         jsii.String("expire-rejected"),
				Prefix:     jsii.String(RejectedPrefix),
				Expiration: awscdk.Duration_Days(jsii.Number(p.ReportDays)),
			},
			{
				Id:         jsii.String("expire-reports"),
				Prefix:     jsii.String(ReportsPrefix),
				Expiration: awscdk.Duration_Days(jsii.Number(p.ReportDays)),
			},
			{
				Id:                                  jsii.String("abort-incomplete-uploads"),
				AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
				NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(30)),
			},
		},
	})
	c.accessLogs("drops/")

	s := awsdynamodb.AttributeType_STRING
	c.Table = awsdynamodb.NewTable(c.Construct, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String(TablePartitionKey), Type: s},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String(TableSortKey), Type: s},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		TimeToLiveAttribute: jsii.String(TableTTLAttribute),
		Stream:              awsdynamodb.StreamViewType_NEW_IMAGE,
		Encryption:          awsdynamodb.TableEncryption_AWS_MANAGED,
		DeletionProtection:  jsii.Bool(p.Production),
		RemovalPolicy:       p.removal(),
	})
	c.Table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:      jsii.String(OutboxIndex),
		PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String(OutboxIndexPK), Type: s},
		SortKey:        &awsdynamodb.Attribute{Name: jsii.String(OutboxIndexSK), Type: s},
		ProjectionType: awsdynamodb.ProjectionType_ALL,
	})
}

// accessLogs sends the drop bucket's server access logs to the log bucket
// under prefix. The log bucket grants the S3 logging service in its bucket
// policy (no ACLs), whatever the app's feature flags.
func (c *Cdp) accessLogs(prefix string) {
	c.Bucket.Node().DefaultChild().(awss3.CfnBucket).SetLoggingConfiguration(&awss3.CfnBucket_LoggingConfigurationProperty{
		DestinationBucketName: c.LogBucket.BucketName(),
		LogFilePrefix:         jsii.String(prefix),
	})
	stack := awscdk.Stack_Of(c.Construct)
	c.LogBucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("S3ServerAccessLogs"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("logging.s3.amazonaws.com"), nil)},
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  jsii.Strings(*c.LogBucket.ArnForObjects(jsii.String(prefix + "*"))),
		Conditions: &map[string]interface{}{
			"ArnLike":      map[string]interface{}{"aws:SourceArn": c.Bucket.BucketArn()},
			"StringEquals": map[string]interface{}{"aws:SourceAccount": stack.Account()},
		},
	}))
}
