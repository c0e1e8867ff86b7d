// Package cdp is Aurum as one reusable CDK construct: the S3 drop bucket,
// the DynamoDB table, the EventBridge bus with its archive and schema
// registry, the HTTP API, the eight Lambda functions with their dead-letter
// queues, and the alarms.
//
// The same aurum.yaml that the functions read drives the construct: every
// file source becomes an S3 notification on sources/<name>/, every bus
// source an EventBridge rule to functions/ingest-bus, every trigger a rule
// to functions/triggers.
//
//	cfg, err := config.Load("aurum.yaml")
//	...
//	stack := awscdk.NewStack(app, jsii.String("Aurum"), nil)
//	cdp.NewCdp(stack, "Cdp", &cdp.CdpProps{Config: cfg, AssetDir: "build"})
//
// The Lambda code comes from `make build`: AssetDir/<function>/bootstrap
// with aurum.yaml beside it. A missing or stale asset fails synthesis with
// a message that says to run make build.
package cdp

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/aurum-cdp/aurum/shared/config"
)

// Function names: the folders under functions/ and build/.
const (
	FnAPI       = "api"
	FnIngestS3  = "ingest-s3"
	FnIngestBus = "ingest-bus"
	FnSegments  = "segments"
	FnTriggers  = "triggers"
	FnOutbox    = "outbox"
	FnFold      = "fold"
	FnScheduler = "scheduler"
	// FnDestinations delivers to the destinations that need a lookup,
	// consent or batching (docs/destinations.md).
	FnDestinations = "destinations"
)

// Environment variables every function receives.
const (
	EnvTable  = "AURUM_TABLE"
	EnvBucket = "AURUM_BUCKET"
	EnvBus    = "AURUM_BUS"
	EnvConfig = "AURUM_CONFIG"
	// EnvReadKeySSM (api only) names the SSM parameter of the read key.
	EnvReadKeySSM = "AURUM_READ_KEY_SSM"
	// EnvAdminKeySSM (api only) names the SSM parameter of the admin key.
	EnvAdminKeySSM = "AURUM_ADMIN_KEY_SSM"
)

// ConfigFile is the name of the configuration file inside every function's
// asset (and so relative to the Lambda task root).
const ConfigFile = "aurum.yaml"

// Defaults of CdpProps.
const (
	DefaultLogRetention     = awslogs.RetentionDays_ONE_MONTH
	DefaultArchiveDays      = 90
	DefaultReportDays       = 90
	DefaultAPIRateLimit     = 500
	DefaultAPIBurstLimit    = 1000
	DefaultIteratorAgeAlarm = 60 // seconds
	// DefaultFoldWindow is the fold function's batching window, seconds.
	DefaultFoldWindow = 5
)

// CdpProps configures NewCdp.
type CdpProps struct {
	// Config is the loaded aurum.yaml (required). Config.File, when set,
	// must have the same content as the aurum.yaml in every asset folder.
	Config *config.Config
	// AssetDir holds one folder per function with its bootstrap binary and
	// aurum.yaml, as `make build` writes them into build/ (required).
	AssetDir string
	// SchemaDir holds the JSON Schemas of the published events' details,
	// one <detail-type>.json file each (events/schemas); each becomes the
	// schema aurum@<detail-type> of the bus's registry (see EventSchema).
	// Empty: the registry has no schemas.
	SchemaDir string
	// Production turns on deletion protection and retains the table and
	// log groups when the stack is deleted.
	Production bool
	// AlarmEmail, when set, subscribes this address to the alarm topic.
	AlarmEmail string
	// LogRetention of every log group; default DefaultLogRetention.
	LogRetention awslogs.RetentionDays
	// ArchiveDays is how long the bus archive keeps events for replay;
	// default DefaultArchiveDays.
	ArchiveDays float64
	// ReportDays is how long objects under rejected/ and reports/ are
	// kept; default DefaultReportDays.
	ReportDays float64
	// APIRateLimit and APIBurstLimit throttle the HTTP API's default
	// route (requests per second, burst); defaults DefaultAPIRateLimit and
	// DefaultAPIBurstLimit.
	APIRateLimit  float64
	APIBurstLimit float64
	// FoldWindow is how long, in seconds (1 to 300), the fold function's
	// event source gathers appended events before folding them; default
	// DefaultFoldWindow. Longer windows put more events of a profile into
	// one profile write (fewer write units per tracked event) and delay
	// profile updates, segment changes and ProfileUpdated by as much.
	FoldWindow float64
	// ReadKeySSM names the SSM SecureString parameter holding the API's
	// read key (profile reads); the api function gets it as
	// AURUM_READ_KEY_SSM and may read it. Empty: no read key.
	ReadKeySSM string
	// AdminKeySSM names the SSM SecureString parameter holding an admin key
	// of the API (read, erase, unmerge); optional: keys can also be created
	// in the table with `aurum keys create --table`.
	AdminKeySSM string
	// TriggerPatterns returns the event patterns of a trigger's rules;
	// default TriggerPatterns.
	TriggerPatterns func(*config.Trigger) ([][]byte, error)
	// BusSourcePattern returns the event pattern of a bus source's rule;
	// default BusSourcePattern.
	BusSourcePattern func(config.Source) config.EventPattern
}

// Cdp is the deployed platform: its resources, for stacks that embed it.
type Cdp struct {
	// Construct is the scope of every resource of the platform.
	Construct  constructs.Construct
	Bucket     awss3.Bucket
	LogBucket  awss3.Bucket
	Table      awsdynamodb.Table
	Bus        awsevents.EventBus
	API        awsapigatewayv2.HttpApi
	APIStage   awsapigatewayv2.HttpStage
	AlarmTopic awssns.Topic
	// Functions by name (FnAPI, FnIngestS3, ...).
	Functions map[string]awslambda.Function
	// Roles are the functions' execution roles, by function name.
	Roles map[string]awsiam.Role
	// DeadLetters holds the dead-letter queue of every function that is
	// invoked asynchronously or by a stream, by function name.
	DeadLetters map[string]awssqs.Queue
	// TriggerRules holds the rule of each trigger, by trigger id.
	TriggerRules map[string]awsevents.Rule
	// SchedulerRole is the role delayed trigger firings assume; nil when
	// no trigger has a delay.
	SchedulerRole awsiam.Role
	// DestinationRules holds each destination's rule, by name.
	DestinationRules map[string]awsevents.Rule
	// APIDestinations holds the EventBridge API destination of each
	// destination delivered without a function, by name.
	APIDestinations map[string]awsevents.ApiDestination
	// DestinationDeadLetters holds the dead-letter queue of each API
	// destination's rule target, by destination name.
	DestinationDeadLetters map[string]awssqs.Queue

	// triggersName is the triggers function's name, set explicitly so
	// that its environment can hold its own ARN.
	triggersName string
}

// NewCdp adds Aurum to scope. Configuration problems (no config, missing
// or stale assets) do not panic here: they are registered as validation
// errors, so synthesis fails with all of them listed.
func NewCdp(scope constructs.Construct, id string, props *CdpProps) *Cdp {
	p := withDefaults(props)
	c := &Cdp{
		Construct:    constructs.NewConstruct(scope, jsii.String(id)),
		Functions:    map[string]awslambda.Function{},
		Roles:        map[string]awsiam.Role{},
		DeadLetters:  map[string]awssqs.Queue{},
		TriggerRules: map[string]awsevents.Rule{},

		DestinationRules: map[string]awsevents.Rule{},
		APIDestinations:  map[string]awsevents.ApiDestination{},

		DestinationDeadLetters: map[string]awssqs.Queue{},
	}
	problems := p.problems()
	if len(problems) > 0 {
		c.Construct.Node().AddValidation(&validation{problems: problems})
	}

	c.storage(&p)
	c.events(&p)
	c.alarmTopic(&p)
	c.functions(&p, CheckAssets(p.AssetDir, p.Config.File) == nil)
	c.sources(&p)
	c.rules(&p)
	c.api(&p)
	c.alarms(&p)
	c.suppressions()
	return c
}

func withDefaults(props *CdpProps) CdpProps {
	var p CdpProps
	if props != nil {
		p = *props
	}
	if p.LogRetention == "" {
		p.LogRetention = DefaultLogRetention
	}
	if p.ArchiveDays <= 0 {
		p.ArchiveDays = DefaultArchiveDays
	}
	if p.ReportDays <= 0 {
		p.ReportDays = DefaultReportDays
	}
	if p.APIRateLimit <= 0 {
		p.APIRateLimit = DefaultAPIRateLimit
	}
	if p.APIBurstLimit <= 0 {
		p.APIBurstLimit = DefaultAPIBurstLimit
	}
	if p.FoldWindow <= 0 {
		p.FoldWindow = DefaultFoldWindow
	}
	p.FoldWindow = min(p.FoldWindow, 300) // the event source's maximum
	if p.TriggerPatterns == nil {
		p.TriggerPatterns = TriggerPatterns
	}
	if p.BusSourcePattern == nil {
		p.BusSourcePattern = BusSourcePattern
	}
	if p.Config == nil {
		p.Config = &config.Config{}
	}
	return p
}

// problems lists what makes the props unusable; NewCdp reports them as
// validation errors.
func (p *CdpProps) problems() []string {
	var out []string
	if p.Config.Version == 0 {
		out = append(out, "cdp: no configuration: set CdpProps.Config to the loaded aurum.yaml")
	}
	if err := CheckAssets(p.AssetDir, p.Config.File); err != nil {
		out = append(out, err.Error())
	}
	return out
}

// FunctionNames lists the functions the construct deploys, sorted.
func FunctionNames() []string {
	names := make([]string, 0, len(specs))
	for _, s := range specs {
		names = append(names, s.name)
	}
	sort.Strings(names)
	return names
}

// CheckAssets reports whether dir holds a bootstrap binary and an
// aurum.yaml for every function, and, when configFile is not empty,
// whether each aurum.yaml equals configFile. Its error tells to run
// make build.
func CheckAssets(dir, configFile string) error {
	if dir == "" {
		return fmt.Errorf("cdp: no asset folder: set CdpProps.AssetDir to the folder make build writes (build/)")
	}
	var want []byte
	if configFile != "" {
		b, err := os.ReadFile(configFile)
		if err != nil {
			return fmt.Errorf("cdp: read configuration: %w", err)
		}
		want = b
	}
	var missing, stale []string
	for _, name := range FunctionNames() {
		if _, err := os.Stat(filepath.Join(dir, name, "bootstrap")); err != nil {
			missing = append(missing, filepath.Join(dir, name, "bootstrap"))
			continue
		}
		got, err := os.ReadFile(filepath.Join(dir, name, ConfigFile))
		if err != nil {
			missing = append(missing, filepath.Join(dir, name, ConfigFile))
			continue
		}
		if want != nil && !bytes.Equal(got, want) {
			stale = append(stale, filepath.Join(dir, name, ConfigFile))
		}
	}
	switch {
	case len(missing) > 0:
		return fmt.Errorf("cdp: Lambda assets missing: %v: run `make build` at the repository root first", missing)
	case len(stale) > 0:
		return fmt.Errorf("cdp: %v differ from %s: the functions would run another configuration than the stack was built from; run `make build` (it copies aurum.yaml into every asset)", stale, configFile)
	}
	return nil
}

// validation reports fixed problems found when the construct was built.
type validation struct {
	problems []string
}

// Validate implements constructs.IValidation.
func (v *validation) Validate() *[]*string {
	out := make([]*string, 0, len(v.problems))
	for _, s := range v.problems {
		out = append(out, jsii.String(s))
	}
	return &out
}

// removal is the removal policy of stateful resources that can be
// recreated empty outside production.
func (p *CdpProps) removal() awscdk.RemovalPolicy {
	if p.Production {
		return awscdk.RemovalPolicy_RETAIN
	}
	return awscdk.RemovalPolicy_DESTROY
}
