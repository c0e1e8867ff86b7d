package cdp

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"
	"github.com/aurum-cdp/aurum/shared/config"
)

// invocation is how a function is invoked, which decides its failure
// handling.
type invocation int

const (
	// invokeSync: the caller (API Gateway) sees the error; no queue.
	invokeSync invocation = iota
	// invokeAsync: S3 notifications and EventBridge rules. Lambda retries
	// twice, then sends the event to the function's dead-letter queue.
	invokeAsync
	// invokeStream: the DynamoDB stream. Failed batches are bisected and
	// retried; records that still fail go to the dead-letter queue.
	invokeStream
)

// spec describes one function.
type spec struct {
	name        string
	description string
	memoryMB    float64
	timeoutSec  float64
	invoke      invocation
	// table: the function reads and writes the table's items.
	table bool
}

// specs lists every function. Timeouts: api stays under API Gateway's 30 s
// integration limit; ingest-s3 streams files of any size; segments
// backfills many profiles; fold writes up to one profile per event of a
// batch of 1,000; scheduler runs every minute and must finish before the
// next run.
var specs = []spec{
	{FnAPI, "Segment-compatible tracking API, webhooks and profile reads", 512, 29, invokeSync, true},
	{FnIngestS3, "Loads files dropped under sources/<source>/", 1024, 900, invokeAsync, true},
	{FnIngestBus, "Ingests events of bus sources", 512, 60, invokeAsync, true},
	{FnSegments, "Re-evaluates given profiles' segments (backfill after segment changes)", 512, 900, invokeAsync, true},
	{FnTriggers, "Executes trigger actions", 512, 60, invokeAsync, true},
	{FnOutbox, "Publishes outbox items from the table's stream to the bus", 256, 60, invokeStream, false},
	{FnFold, "Folds appended events of known profiles into their profiles", 512, 120, invokeStream, true},
	{FnScheduler, "Sweeps due segment re-evaluations every minute", 512, 55, invokeAsync, true},
	{FnDestinations, "Delivers profiles, audiences and events to destinations", 512, 300, invokeAsync, true},
}

// Dynamo actions of functions with table access: item reads and writes,
// never Scan (no request path scans the table; only the scheduler, and
// only with rfm:, gets it, below) and no table management.
var tableActions = []string{
	"dynamodb:GetItem",
	"dynamodb:BatchGetItem",
	"dynamodb:Query",
	"dynamodb:PutItem",
	"dynamodb:UpdateItem",
	"dynamodb:DeleteItem",
	"dynamodb:BatchWriteItem",
	"dynamodb:ConditionCheckItem",
}

func (c *Cdp) functions(p *CdpProps, assetsOK bool) {
	env := map[string]*string{
		EnvTable:  c.Table.TableName(),
		EnvBucket: c.Bucket.BucketName(),
		EnvBus:    c.Bus.EventBusName(),
		EnvConfig: jsii.String(ConfigFile),
	}
	for _, s := range specs {
		c.function(p, s, env, assetsOK)
	}

	// Object access of ingest-s3: read drops, write rejects and reports.
	ingest := c.Functions[FnIngestS3]
	ingest.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadDrops"),
		Actions:   jsii.Strings("s3:GetObject"),
		Resources: jsii.Strings(*c.Bucket.ArnForObjects(jsii.String(SourcesPrefix + "*"))),
	}))
	ingest.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:     jsii.String("WriteRejectsAndReports"),
		Actions: jsii.Strings("s3:PutObject", "s3:AbortMultipartUpload"),
		Resources: jsii.Strings(
			*c.Bucket.ArnForObjects(jsii.String(RejectedPrefix + "*")),
			*c.Bucket.ArnForObjects(jsii.String(ReportsPrefix + "*")),
		),
	}))

	// Pull sources run on the scheduler's tick: it writes their rejected
	// rows and reads the secrets their connectors' options reference.
	if pulls := p.Config.SourcesOfKind(config.KindPull); len(pulls) > 0 {
		c.Functions[FnScheduler].AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("WritePullRejects"),
			Actions:   jsii.Strings("s3:PutObject"),
			Resources: jsii.Strings(*c.Bucket.ArnForObjects(jsii.String(RejectedPrefix + "pulls/*"))),
		}))
		var refs []config.SecretRef
		for _, s := range pulls {
			if s.Pull != nil {
				refs = append(refs, s.Pull.SecretRefs()...)
			}
		}
		c.secretGrants(FnScheduler, refs)
	}

	// With rfm:, the scheduler refreshes the quintile thresholds from a
	// sample of profiles read by a (parallel) Scan of the table: the one
	// Scan any function may make, on the base table only.
	if p.Config.RFM != nil {
		c.Functions[FnScheduler].AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ScanForRFMThresholds"),
			Actions:   jsii.Strings("dynamodb:Scan"),
			Resources: jsii.Strings(*c.Table.TableArn()),
		}))
	}

	// The table's stream has two readers, outbox and fold. DynamoDB
	// Streams supports at most two simultaneous readers per shard; a third
	// event source mapping on this stream would be throttled (and slow the
	// other two down). Further consumers subscribe to the bus instead.

	// The outbox function alone publishes to the bus. It reads the
	// stream's outbox inserts, and profile items that carry their outbox
	// events (written when a profile write was committed alone, as the
	// fold does): any filter that matches invokes it.
	outbox := c.Functions[FnOutbox]
	c.Bus.GrantPutEventsTo(outbox, jsii.String("PublishOutbox"))
	outbox.AddEventSource(awslambdaeventsources.NewDynamoEventSource(c.Table, &awslambdaeventsources.DynamoEventSourceProps{
		StartingPosition:        awslambda.StartingPosition_TRIM_HORIZON,
		BatchSize:               jsii.Number(100),
		BisectBatchOnError:      jsii.Bool(true),
		ReportBatchItemFailures: jsii.Bool(true),
		RetryAttempts:           jsii.Number(10),
		MaxRecordAge:            awscdk.Duration_Hours(jsii.Number(24)),
		ParallelizationFactor:   jsii.Number(1),
		OnFailure:               awslambdaeventsources.NewSqsDlq(c.DeadLetters[FnOutbox]),
		Filters: &[]*map[string]interface{}{
			streamFilter(dynamo.OutboxItemFilter),
			streamFilter(dynamo.OutboxEmbeddedFilter),
		},
	}))

	// The fold function folds appended events into their profiles. The
	// batching window gathers several events of one profile into a batch,
	// so that each profile is written once per batch, not once per event:
	// that is what makes tracked events of known profiles cheap. A failed
	// batch fails whole (no partial batch responses); folding is
	// idempotent, so bisected and retried batches fold nothing twice.
	fold := c.Functions[FnFold]
	fold.AddEventSource(awslambdaeventsources.NewDynamoEventSource(c.Table, &awslambdaeventsources.DynamoEventSourceProps{
		StartingPosition:      awslambda.StartingPosition_TRIM_HORIZON,
		BatchSize:             jsii.Number(1000),
		MaxBatchingWindow:     awscdk.Duration_Seconds(jsii.Number(p.FoldWindow)),
		BisectBatchOnError:    jsii.Bool(true),
		RetryAttempts:         jsii.Number(10),
		MaxRecordAge:          awscdk.Duration_Hours(jsii.Number(24)),
		ParallelizationFactor: jsii.Number(1),
		OnFailure:             awslambdaeventsources.NewSqsDlq(c.DeadLetters[FnFold]),
		Filters: &[]*map[string]interface{}{
			streamFilter(dynamo.FoldFilter),
		},
	}))

	// Secrets that api and webhook sources reference (write keys) and the
	// read key are readable by the API.
	var refs []config.SecretRef
	for _, s := range p.Config.Sources {
		if s.Kind == config.KindAPI || s.Kind == config.KindWebhook {
			refs = append(refs, s.WriteKeys...)
		}
	}
	if p.ReadKeySSM != "" {
		refs = append(refs, config.SecretRef{SSM: p.ReadKeySSM})
		c.Functions[FnAPI].AddEnvironment(jsii.String(EnvReadKeySSM), jsii.String(p.ReadKeySSM), nil)
	}
	if p.AdminKeySSM != "" {
		refs = append(refs, config.SecretRef{SSM: p.AdminKeySSM})
		c.Functions[FnAPI].AddEnvironment(jsii.String(EnvAdminKeySSM), jsii.String(p.AdminKeySSM), nil)
	}
	c.secretGrants(FnAPI, refs)
}

func (c *Cdp) function(p *CdpProps, s spec, env map[string]*string, assetsOK bool) {
	id := pascal(s.name)
	logs := awslogs.NewLogGroup(c.Construct, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     p.LogRetention,
		RemovalPolicy: p.removal(),
	})
	role := awsiam.NewRole(c.Construct, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Aurum function " + s.name),
	})
	logs.GrantWrite(role)
	c.Roles[s.name] = role

	props := &awslambda.FunctionProps{
		Description:           jsii.String("Aurum " + s.name + ": " + s.description),
		Runtime:               awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:          awslambda.Architecture_ARM_64(),
		Handler:               jsii.String("bootstrap"),
		Code:                  c.code(p, s.name, assetsOK),
		MemorySize:            jsii.Number(s.memoryMB),
		Timeout:               awscdk.Duration_Seconds(jsii.Number(s.timeoutSec)),
		Environment:           &env,
		Role:                  role,
		LogGroup:              logs,
		LoggingFormat:         awslambda.LoggingFormat_JSON,
		ApplicationLogLevelV2: awslambda.ApplicationLogLevel_INFO,
		SystemLogLevelV2:      awslambda.SystemLogLevel_WARN,
		RecursiveLoop:         awslambda.RecursiveLoop_TERMINATE,
	}
	if s.invoke != invokeSync {
		c.DeadLetters[s.name] = awssqs.NewQueue(c.Construct, jsii.String(id+"DeadLetters"), &awssqs.QueueProps{
			Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
			EnforceSSL:      jsii.Bool(true),
			RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		})
	}
	if s.invoke == invokeAsync {
		props.RetryAttempts = jsii.Number(2)
		props.MaxEventAge = awscdk.Duration_Hours(jsii.Number(6))
		props.OnFailure = awslambdadestinations.NewSqsDestination(c.DeadLetters[s.name])
	}
	if s.name == FnTriggers {
		// Named, so that its environment can hold its own ARN (delays).
		c.triggersName = *awscdk.Names_UniqueResourceName(c.Construct, &awscdk.UniqueResourceNameOptions{
			MaxLength: jsii.Number(64 - len("-"+s.name)),
			Separator: jsii.String("-"),
		}) + "-" + s.name
		props.FunctionName = jsii.String(c.triggersName)
	}
	fn := awslambda.NewFunction(c.Construct, jsii.String(id+"Function"), props)
	c.Functions[s.name] = fn

	if s.table {
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:     jsii.String("TableItems"),
			Actions: jsii.Strings(tableActions...),
			Resources: jsii.Strings(
				*c.Table.TableArn(),
				*c.Table.TableArn()+"/index/"+OutboxIndex,
			),
		}))
	}
}

// code is the function's asset folder, or a stand-in when assets are
// missing: synthesis then fails on the validation error CheckAssets
// reported, never on a half-built asset.
func (c *Cdp) code(p *CdpProps, name string, assetsOK bool) awslambda.Code {
	if !assetsOK {
		return awslambda.Code_FromCfnParameters(nil)
	}
	return awslambda.Code_FromAsset(jsii.String(filepath.Join(p.AssetDir, name)), nil)
}

// secretGrants lets function fn read the SSM parameters and Secrets
// Manager secrets that refs name.
func (c *Cdp) secretGrants(fn string, refs []config.SecretRef) {
	stack := awscdk.Stack_Of(c.Construct)
	var params, secrets []string
	for _, k := range refs {
		if k.SSM != "" {
			params = append(params, *stack.FormatArn(&awscdk.ArnComponents{
				Service:      jsii.String("ssm"),
				Resource:     jsii.String("parameter"),
				ResourceName: jsii.String(strings.TrimPrefix(k.SSM, "/")),
				ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
			}))
		}
		if k.SecretsManager != "" {
			secrets = append(secrets, secretArn(stack, k.SecretsManager))
		}
	}
	if len(params) > 0 {
		c.Functions[fn].AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadParameters"),
			Actions:   jsii.Strings("ssm:GetParameter", "ssm:GetParameters"),
			Resources: jsii.Strings(params...),
		}))
	}
	if len(secrets) > 0 {
		c.Functions[fn].AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadSecrets"),
			Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
			Resources: jsii.Strings(secrets...),
		}))
	}
}

// secretArn is the ARN of a secret given by name or ARN. Secrets Manager
// appends six random characters to a secret's name in its ARN.
func secretArn(stack awscdk.Stack, ref string) string {
	if strings.HasPrefix(ref, "arn:") {
		return ref
	}
	return *stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("secretsmanager"),
		Resource:     jsii.String("secret"),
		ResourceName: jsii.String(ref + "-??????"),
		ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
}

// pascal turns a function name (ingest-s3) into a construct id (IngestS3).
func pascal(name string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// streamFilter is an event source filter for a Lambda event filter
// pattern (JSON): the patterns are the store's (dynamo.FoldFilter ...),
// which tests match against real stream records. An invalid pattern is a
// programming error.
func streamFilter(pattern string) *map[string]interface{} {
	var m map[string]interface{}
	if err := json.Unmarshal([]byte(pattern), &m); err != nil {
		panic(fmt.Sprintf("cdp: stream filter pattern %s: %v", pattern, err))
	}
	return awslambda.FilterCriteria_Filter(&m)
}
