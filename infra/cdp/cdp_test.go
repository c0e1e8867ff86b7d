package cdp_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/aurum-cdp/aurum/infra/cdp"
	"github.com/aurum-cdp/aurum/shared/config"
)

const testConfig = "testdata/aurum.yaml"

var tmpRoot string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cdp-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tmpRoot = dir
	code := m.Run()
	jsii.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fakeAssets writes what make build writes, with a stand-in bootstrap: one
// folder per function holding bootstrap and a copy of configFile.
func fakeAssets(t testing.TB, configFile string) string {
	t.Helper()
	yaml, err := os.ReadFile(configFile)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(tmpRoot, "build-")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range cdp.FunctionNames() {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, cdp.ConfigFile), yaml, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func loadConfig(t testing.TB, path string) *config.Config {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("config.Load(%s): %v", path, err)
	}
	return cfg
}

// synthesized is one synthesized stack.
type synthesized struct {
	stack awscdk.Stack
	cdp   *cdp.Cdp
	tpl   map[string]any
}

// synth builds the Aurum stack with the cdk-nag AwsSolutions pack applied
// and returns its template. A failed synthesis is a test failure, not a
// panic.
func synth(t testing.TB, props *cdp.CdpProps) (s synthesized) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("synthesis failed: %v", r)
		}
	}()
	outdir, err := os.MkdirTemp(tmpRoot, "out-")
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})
	s.stack = awscdk.NewStack(app, jsii.String("Aurum"), nil)
	s.cdp = cdp.NewCdp(s.stack, "Cdp", props)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(nil), nil)
	s.tpl = *assertions.Template_FromStack(s.stack, nil).ToJSON()
	return s
}

var (
	defaultOnce  sync.Once
	defaultStack synthesized
)

// fixture is the stack of testdata/aurum.yaml with test schemas, shared by
// the tests that only read it.
func fixture(t testing.TB) synthesized {
	t.Helper()
	defaultOnce.Do(func() {
		defaultStack = synth(t, &cdp.CdpProps{
			Config:      loadConfig(t, testConfig),
			AssetDir:    fakeAssets(t, testConfig),
			SchemaDir:   "testdata/schemas",
			AlarmEmail:  "ops@example.com",
			ReadKeySSM:  "/aurum/api/read-key",
			AdminKeySSM: "/aurum/api/admin-key",
		})
	})
	if defaultStack.tpl == nil {
		t.Fatal("fixture stack did not synthesize")
	}
	return defaultStack
}

// resources returns the resources of type typ by logical id.
func resources(tpl map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range tpl["Resources"].(map[string]any) {
		r := r.(map[string]any)
		if r["Type"] == typ {
			out[id] = r
		}
	}
	return out
}

func props(r map[string]any) map[string]any {
	p, _ := r["Properties"].(map[string]any)
	return p
}

// get walks a JSON path of map keys and slice indexes.
func get(v any, path ...any) any {
	for _, k := range path {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			s, ok := v.([]any)
			if !ok || k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

// canonicalJSON re-encodes the JSON text v with sorted keys.
func canonicalJSON(t *testing.T, v any) string {
	t.Helper()
	s, _ := v.(string)
	var x any
	if err := json.Unmarshal([]byte(s), &x); err != nil {
		t.Errorf("%q is not JSON: %v", s, err)
	}
	return jsonString(x)
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// functionsByName maps each Aurum function name to its logical id, through
// the construct ids (IngestS3Function ...).
func functionsByName(t *testing.T, s synthesized) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, fn := range s.cdp.Functions {
		cfn := fn.Node().DefaultChild().(awscdk.CfnResource)
		out[name] = *s.stack.GetLogicalId(cfn)
	}
	return out
}

func TestResourceCounts(t *testing.T) {
	tpl := fixture(t).tpl
	tests := []struct {
		typ  string
		want int
	}{
		{"AWS::DynamoDB::Table", 1},
		{"AWS::S3::Bucket", 2},
		{"AWS::Events::EventBus", 1},
		{"AWS::Events::Archive", 1},
		{"AWS::EventSchemas::Registry", 1},
		{"AWS::EventSchemas::Schema", 2},
		// 4 triggers and 1 unless clause, 3 bus sources, the schedule
		{"AWS::Events::Rule", 9},
		{"AWS::Scheduler::ScheduleGroup", 1},
		{"AWS::ApiGatewayV2::Api", 1},
		{"AWS::ApiGatewayV2::Stage", 1},
		{"AWS::SQS::Queue", 8},
		{"AWS::SNS::Topic", 1},
		{"AWS::SNS::Subscription", 1},
		{"AWS::KMS::Key", 1},
		// outbox and fold on the table's stream
		{"AWS::Lambda::EventSourceMapping", 2},
		// per function errors and throttles, per queue depth, iterator
		// age of outbox and fold, API 5xx
		{"AWS::CloudWatch::Alarm", 2*9 + 8 + 2 + 1},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			if got := len(resources(tpl, tt.typ)); got != tt.want {
				t.Errorf("resources of type %s = %d; want %d", tt.typ, got, tt.want)
			}
		})
	}
}

func TestFunctions(t *testing.T) {
	s := fixture(t)
	fns := resources(s.tpl, "AWS::Lambda::Function")
	ids := functionsByName(t, s)
	if len(ids) != 9 {
		t.Fatalf("functions = %v; want 9", ids)
	}
	for _, name := range cdp.FunctionNames() {
		t.Run(name, func(t *testing.T) {
			fn, ok := fns[ids[name]]
			if !ok {
				t.Fatalf("function %s (%s) not in template", name, ids[name])
			}
			p := props(fn)
			checks := []struct {
				what string
				got  any
				want any
			}{
				{"Runtime", p["Runtime"], "provided.al2023"},
				{"Architectures", jsonString(p["Architectures"]), `["arm64"]`},
				{"Handler", p["Handler"], "bootstrap"},
				{"LogFormat", get(p, "LoggingConfig", "LogFormat"), "JSON"},
				{"AURUM_CONFIG", get(p, "Environment", "Variables", cdp.EnvConfig), cdp.ConfigFile},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s %s = %v; want %v", name, c.what, c.got, c.want)
				}
			}
			for _, env := range []string{cdp.EnvTable, cdp.EnvBucket, cdp.EnvBus} {
				if get(p, "Environment", "Variables", env) == nil {
					t.Errorf("%s environment lacks %s", name, env)
				}
			}
			if get(p, "LoggingConfig", "LogGroup") == nil {
				t.Errorf("%s LoggingConfig.LogGroup missing", name)
			}
			if code := jsonString(p["Code"]); !strings.Contains(code, "S3Key") {
				t.Errorf("%s Code = %s; want an asset in S3", name, code)
			}
		})
	}
}

func TestLogRetention(t *testing.T) {
	groups := resources(fixture(t).tpl, "AWS::Logs::LogGroup")
	if len(groups) != 10 { // nine functions and the API's access logs
		t.Errorf("log groups = %d; want 10", len(groups))
	}
	for id, g := range groups {
		if got := props(g)["RetentionInDays"]; got != float64(30) {
			t.Errorf("log group %s RetentionInDays = %v; want 30", id, got)
		}
	}
}

func TestAsyncFailureHandling(t *testing.T) {
	s := fixture(t)
	ids := functionsByName(t, s)
	configs := map[string]map[string]any{}
	for _, c := range resources(s.tpl, "AWS::Lambda::EventInvokeConfig") {
		configs[jsonString(props(c)["FunctionName"])] = props(c)
	}
	for _, name := range []string{cdp.FnIngestS3, cdp.FnIngestBus, cdp.FnSegments, cdp.FnTriggers, cdp.FnScheduler} {
		t.Run(name, func(t *testing.T) {
			c, ok := configs[jsonString(map[string]any{"Ref": ids[name]})]
			if !ok {
				t.Fatalf("%s has no EventInvokeConfig", name)
			}
			if got := c["MaximumRetryAttempts"]; got != float64(2) {
				t.Errorf("%s MaximumRetryAttempts = %v; want 2", name, got)
			}
			dest := jsonString(get(c, "DestinationConfig", "OnFailure", "Destination"))
			if !strings.Contains(dest, "DeadLetters") {
				t.Errorf("%s on-failure destination = %s; want its dead-letter queue", name, dest)
			}
		})
	}
	if _, ok := configs[jsonString(map[string]any{"Ref": ids[cdp.FnAPI]})]; ok {
		t.Error("api has an EventInvokeConfig; it is invoked synchronously")
	}
	for _, name := range []string{cdp.FnOutbox, cdp.FnFold} {
		if _, ok := configs[jsonString(map[string]any{"Ref": ids[name]})]; ok {
			t.Errorf("%s has an EventInvokeConfig; the stream's event source mapping handles its failures", name)
		}
	}
}

func TestTable(t *testing.T) {
	tests := []struct {
		name       string
		production bool
		deletion   string
	}{
		{"development", false, "Delete"},
		{"production", true, "Retain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tpl map[string]any
			if tt.production {
				tpl = synth(t, &cdp.CdpProps{
					Config:     loadConfig(t, testConfig),
					AssetDir:   fakeAssets(t, testConfig),
					Production: true,
				}).tpl
			} else {
				tpl = fixture(t).tpl
			}
			tables := resources(tpl, "AWS::DynamoDB::Table")
			if len(tables) != 1 {
				t.Fatalf("tables = %d; want 1", len(tables))
			}
			for _, tbl := range tables {
				p := props(tbl)
				checks := []struct {
					what string
					got  any
					want any
				}{
					{"KeySchema", jsonString(p["KeySchema"]), `[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}]`},
					{"BillingMode", p["BillingMode"], "PAY_PER_REQUEST"},
					{"PITR", get(p, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"), true},
					{"TTL", jsonString(p["TimeToLiveSpecification"]), `{"AttributeName":"ttl","Enabled":true}`},
					{"Stream", get(p, "StreamSpecification", "StreamViewType"), "NEW_IMAGE"},
					{"SSE", get(p, "SSESpecification", "SSEEnabled"), true},
					{"GSI", jsonString(p["GlobalSecondaryIndexes"]), `[{"IndexName":"gsi1","KeySchema":[{"AttributeName":"gpk","KeyType":"HASH"},{"AttributeName":"gsk","KeyType":"RANGE"}],"Projection":{"ProjectionType":"ALL"}}]`},
					{"DeletionProtection", p["DeletionProtectionEnabled"] == true, tt.production},
					{"DeletionPolicy", tbl["DeletionPolicy"], tt.deletion},
				}
				for _, c := range checks {
					if c.got != c.want {
						t.Errorf("table %s = %v; want %v", c.what, c.got, c.want)
					}
				}
			}
		})
	}
}

func TestBucket(t *testing.T) {
	s := fixture(t)
	id := *s.stack.GetLogicalId(s.cdp.Bucket.Node().DefaultChild().(awscdk.CfnResource))
	b := resources(s.tpl, "AWS::S3::Bucket")[id]
	if b == nil {
		t.Fatalf("drop bucket %s not in template", id)
	}
	p := props(b)
	checks := []struct {
		what string
		got  any
		want any
	}{
		{"encryption", get(p, "BucketEncryption", "ServerSideEncryptionConfiguration", 0, "ServerSideEncryptionByDefault", "SSEAlgorithm"), "AES256"},
		{"public access", jsonString(p["PublicAccessBlockConfiguration"]), `{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}`},
		{"access logs", get(p, "LoggingConfiguration", "LogFilePrefix"), "drops/"},
		{"deletion policy", b["DeletionPolicy"], "Retain"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("drop bucket %s = %v; want %v", c.what, c.got, c.want)
		}
	}

	expiry := map[string]any{}
	for _, r := range get(p, "LifecycleConfiguration", "Rules").([]any) {
		if prefix, ok := get(r, "Prefix").(string); ok {
			expiry[prefix] = get(r, "ExpirationInDays")
		}
	}
	for _, prefix := range []string{cdp.RejectedPrefix, cdp.ReportsPrefix} {
		if expiry[prefix] != float64(cdp.DefaultReportDays) {
			t.Errorf("lifecycle expiry of %s = %v; want %d days", prefix, expiry[prefix], cdp.DefaultReportDays)
		}
	}

	var tls bool
	for _, pol := range resources(s.tpl, "AWS::S3::BucketPolicy") {
		if jsonString(get(props(pol), "Bucket")) != jsonString(map[string]any{"Ref": id}) {
			continue
		}
		for _, st := range get(props(pol), "PolicyDocument", "Statement").([]any) {
			if get(st, "Effect") == "Deny" && get(st, "Condition", "Bool", "aws:SecureTransport") == "false" {
				tls = true
			}
		}
	}
	if !tls {
		t.Error("drop bucket policy does not deny requests without TLS")
	}
}

func TestSourceNotifications(t *testing.T) {
	s := fixture(t)
	ids := functionsByName(t, s)
	var prefixes []string
	for _, n := range resources(s.tpl, "Custom::S3BucketNotifications") {
		for _, c := range get(props(n), "NotificationConfiguration", "LambdaFunctionConfigurations").([]any) {
			if arn := jsonString(get(c, "LambdaFunctionArn")); !strings.Contains(arn, ids[cdp.FnIngestS3]) {
				t.Errorf("notification target = %s; want ingest-s3", arn)
			}
			if ev := jsonString(get(c, "Events")); ev != `["s3:ObjectCreated:*"]` {
				t.Errorf("notification events = %v; want [s3:ObjectCreated:*]", ev)
			}
			for _, r := range get(c, "Filter", "Key", "FilterRules").([]any) {
				prefixes = append(prefixes, get(r, "Value").(string))
			}
		}
	}
	sort.Strings(prefixes)
	want := []string{"sources/crm/", "sources/shop/"} // the file sources of testdata/aurum.yaml
	if !slices.Equal(prefixes, want) {
		t.Errorf("notification prefixes = %v; want %v", prefixes, want)
	}
}

func TestRules(t *testing.T) {
	s := fixture(t)
	ids := functionsByName(t, s)
	busID := *s.stack.GetLogicalId(s.cdp.Bus.Node().DefaultChild().(awscdk.CfnResource))
	byTarget := map[string][]string{}
	for _, r := range resources(s.tpl, "AWS::Events::Rule") {
		p := props(r)
		target := jsonString(get(p, "Targets", 0, "Arn"))
		rule := jsonString(p["EventPattern"])
		if p["ScheduleExpression"] != nil {
			rule = p["ScheduleExpression"].(string)
		}
		switch bus := jsonString(p["EventBusName"]); {
		case p["ScheduleExpression"] != nil:
			if p["EventBusName"] != nil {
				t.Errorf("scheduled rule on bus %s; want the default bus", bus)
			}
		case strings.Contains(bus, busID):
		default:
			rule = bus + " " + rule
		}
		for name, id := range ids {
			if strings.Contains(target, `"`+id+`"`) {
				byTarget[name] = append(byTarget[name], rule)
			}
		}
		if get(p, "Targets", 0, "DeadLetterConfig", "Arn") == nil {
			t.Errorf("rule %s has no dead-letter queue", rule)
		}
		if get(p, "Targets", 0, "RetryPolicy", "MaximumRetryAttempts") == nil {
			t.Errorf("rule %s has no retry policy", rule)
		}
	}
	for name := range byTarget {
		sort.Strings(byTarget[name])
	}
	tests := []struct {
		fn   string
		want []string
	}{
		{cdp.FnSegments, nil}, // invoked directly, for backfills
		{cdp.FnTriggers, []string{
			`{"detail":{"changed_attributes":["email"]},"detail-type":["ProfileUpdated"],"source":["aurum"]}`,
			`{"detail":{"event_names":["Cart Updated"]},"detail-type":["ProfileUpdated"]}`,
			`{"detail":{"event_names":["Order Completed"]},"detail-type":["ProfileUpdated"]}`,
			`{"detail":{"segment_id":["subscribers"]},"detail-type":["SegmentEntered"],"source":["aurum"]}`,
			`{"detail":{"segment_id":["subscribers"]},"detail-type":["SegmentExited"],"source":["aurum"]}`,
		}},
		{cdp.FnIngestBus, []string{
			`"aws.partner/example.com/1234/crm" {"source":["aws.partner/example.com/1234/crm"]}`,
			`{"detail-type":["Order Completed","Order Refunded"],"source":["com.example.shop"]}`,
			`{"source":["clicks"]}`,
		}},
		{cdp.FnScheduler, []string{"rate(1 minute)"}},
	}
	for _, tt := range tests {
		t.Run(tt.fn, func(t *testing.T) {
			if got := byTarget[tt.fn]; !slices.Equal(got, tt.want) {
				t.Errorf("rules targeting %s =\n%s\nwant\n%s", tt.fn, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
	if len(s.cdp.TriggerRules) != 4 {
		t.Errorf("TriggerRules = %d; want 4", len(s.cdp.TriggerRules))
	}
}

func TestTriggerDelays(t *testing.T) {
	s := fixture(t)
	if s.cdp.SchedulerRole == nil {
		t.Fatal("SchedulerRole = nil; want a role, since cart-abandoned has a delay")
	}
	ids := functionsByName(t, s)
	fn := props(resources(s.tpl, "AWS::Lambda::Function")[ids[cdp.FnTriggers]])
	env := get(fn, "Environment", "Variables")
	for _, k := range []string{cdp.EnvScheduleGroup, cdp.EnvSchedulerRole, cdp.EnvTriggerARN, cdp.EnvTriggerDLQ} {
		if get(env, k) == nil {
			t.Errorf("triggers environment lacks %s", k)
		}
	}
	name, _ := fn["FunctionName"].(string)
	if arn := jsonString(get(env, cdp.EnvTriggerARN)); name == "" || !strings.Contains(arn, ":function:"+name+`"`) {
		t.Errorf("%s = %s; want the ARN of the triggers function %q", cdp.EnvTriggerARN, arn, name)
	}
	roleID := *s.stack.GetLogicalId(s.cdp.SchedulerRole.Node().DefaultChild().(awscdk.CfnResource))
	role := resources(s.tpl, "AWS::IAM::Role")[roleID]
	if p := jsonString(get(props(role), "AssumeRolePolicyDocument", "Statement", 0, "Principal")); p != `{"Service":"scheduler.amazonaws.com"}` {
		t.Errorf("scheduler role principal = %s; want scheduler.amazonaws.com", p)
	}

	t.Run("no delay", func(t *testing.T) {
		cfg := loadConfig(t, testConfig)
		for i := range cfg.Triggers {
			cfg.Triggers[i].Delay, cfg.Triggers[i].Unless = "", nil
		}
		got := synth(t, &cdp.CdpProps{Config: cfg, AssetDir: fakeAssets(t, testConfig)})
		if got.cdp.SchedulerRole != nil {
			t.Error("SchedulerRole set without delayed triggers")
		}
		if n := len(resources(got.tpl, "AWS::Scheduler::ScheduleGroup")); n != 0 {
			t.Errorf("schedule groups = %d; want 0 without delayed triggers", n)
		}
		ids := functionsByName(t, got)
		env := get(props(resources(got.tpl, "AWS::Lambda::Function")[ids[cdp.FnTriggers]]), "Environment", "Variables")
		if get(env, cdp.EnvTriggerARN) != nil || get(env, cdp.EnvTriggerDLQ) == nil {
			t.Errorf("triggers environment without delays = %s; want %s and no %s", jsonString(env), cdp.EnvTriggerDLQ, cdp.EnvTriggerARN)
		}
	})
}

// TestNoScanWithoutRFM: without rfm: no function, the scheduler
// included, may scan the table.
func TestNoScanWithoutRFM(t *testing.T) {
	cfg := loadConfig(t, testConfig)
	if cfg.RFM == nil {
		t.Fatalf("%s has no rfm:; the fixture must use every feature", testConfig)
	}
	cfg.RFM = nil
	pols := policies(t, synth(t, &cdp.CdpProps{Config: cfg, AssetDir: fakeAssets(t, testConfig)}))
	for _, name := range cdp.FunctionNames() {
		for _, st := range pols[name] {
			if slices.Contains(st.Actions, "dynamodb:Scan") {
				t.Errorf("%s may scan the table on %v without rfm:; want no Scan", name, st.Resources)
			}
		}
	}
}

func TestBusArchiveAndSchemas(t *testing.T) {
	tpl := fixture(t).tpl
	for _, a := range resources(tpl, "AWS::Events::Archive") {
		if got := props(a)["RetentionDays"]; got != float64(cdp.DefaultArchiveDays) {
			t.Errorf("archive RetentionDays = %v; want %d", got, cdp.DefaultArchiveDays)
		}
	}
	var names []string
	for _, sc := range resources(tpl, "AWS::EventSchemas::Schema") {
		p := props(sc)
		name := p["SchemaName"].(string)
		names = append(names, name)
		if p["Type"] != "JSONSchemaDraft4" {
			t.Errorf("schema %s Type = %v; want JSONSchemaDraft4", name, p["Type"])
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(p["Content"].(string)), &doc); err != nil {
			t.Fatalf("schema %s Content is not JSON: %v", name, err)
		}
		detailType := strings.TrimPrefix(name, "aurum@")
		checks := []struct {
			what string
			got  any
			want any
		}{
			{"$schema", doc["$schema"], "http://json-schema.org/draft-04/schema#"},
			{"detail-type", jsonString(get(doc, "properties", "detail-type", "enum")), jsonString([]string{detailType})},
			{"source", jsonString(get(doc, "properties", "source", "enum")), `["aurum"]`},
			{"detail profile_id", jsonString(get(doc, "properties", "detail", "properties", "profile_id")), `{"type":"string"}`},
			{"detail $schema removed", get(doc, "properties", "detail", "$schema"), nil},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("schema %s %s = %v; want %v", name, c.what, c.got, c.want)
			}
		}
	}
	sort.Strings(names)
	if want := []string{"aurum@ProfileUpdated", "aurum@SegmentEntered"}; !slices.Equal(names, want) {
		t.Errorf("schema names = %v; want %v", names, want)
	}
}

func TestEventSchema(t *testing.T) {
	tests := []struct {
		name    string
		detail  string
		newer   []string
		wantErr bool
	}{
		{"draft 2020-12 detail, draft 4 keywords", `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{"a":{"type":"string","enum":["x"]}}}`, nil, false},
		{"newer keywords", `{"type":"object","properties":{"a":{"const":"x"},"b":{"$defs":{}}}}`, []string{"$defs", "const"}, false},
		{"not JSON", `{"type":`, nil, true},
		{"not an object", `[1]`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			content, newer, err := cdp.EventSchema("Thing", []byte(tt.detail))
			if (err != nil) != tt.wantErr {
				t.Fatalf("EventSchema(%s) error = %v; want error %v", tt.detail, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if !slices.Equal(newer, tt.newer) {
				t.Errorf("EventSchema(%s) newer = %v; want %v", tt.detail, newer, tt.newer)
			}
			var doc map[string]any
			if err := json.Unmarshal([]byte(content), &doc); err != nil {
				t.Fatalf("EventSchema(%s) content is not JSON: %v", tt.detail, err)
			}
			if got := get(doc, "properties", "detail", "type"); got != "object" {
				t.Errorf("EventSchema(%s) detail type = %v; want object", tt.detail, got)
			}
		})
	}
}

// streamMappings returns the event source mappings by the name of the
// function they invoke.
func streamMappings(t *testing.T, s synthesized) map[string]map[string]any {
	t.Helper()
	ids := functionsByName(t, s)
	out := map[string]map[string]any{}
	for id, m := range resources(s.tpl, "AWS::Lambda::EventSourceMapping") {
		p := props(m)
		found := false
		for name, fid := range ids {
			if jsonString(p["FunctionName"]) == jsonString(map[string]any{"Ref": fid}) {
				if _, dup := out[name]; dup {
					t.Errorf("%s has more than one event source mapping", name)
				}
				out[name] = p
				found = true
			}
		}
		if !found {
			t.Errorf("event source mapping %s invokes %s; want an Aurum function", id, jsonString(p["FunctionName"]))
		}
	}
	return out
}

// filterPatterns returns the filter patterns of a mapping, canonical JSON
// each.
func filterPatterns(t *testing.T, p map[string]any) []string {
	t.Helper()
	var out []string
	for _, f := range asSlice(get(p, "FilterCriteria", "Filters")) {
		out = append(out, canonicalJSON(t, get(f, "Pattern")))
	}
	return out
}

func TestStreamReaders(t *testing.T) {
	s := fixture(t)
	maps := streamMappings(t, s)
	tableID := *s.stack.GetLogicalId(s.cdp.Table.Node().DefaultChild().(awscdk.CfnResource))
	var readers []string
	for name, p := range maps {
		readers = append(readers, name)
		if src := jsonString(p["EventSourceArn"]); !strings.Contains(src, tableID) || !strings.Contains(src, "StreamArn") {
			t.Errorf("%s mapping source = %s; want the table's stream", name, src)
		}
	}
	sort.Strings(readers)
	// DynamoDB Streams allows at most two simultaneous readers per shard.
	if want := []string{cdp.FnFold, cdp.FnOutbox}; !slices.Equal(readers, want) {
		t.Errorf("stream readers = %v; want %v (at most two per shard)", readers, want)
	}
}

func TestOutboxStream(t *testing.T) {
	s := fixture(t)
	p, ok := streamMappings(t, s)[cdp.FnOutbox]
	if !ok {
		t.Fatal("outbox has no event source mapping")
	}
	checks := []struct {
		what string
		got  any
		want any
	}{
		{"starting position", p["StartingPosition"], "TRIM_HORIZON"},
		{"batch size", p["BatchSize"], float64(100)},
		{"bisect", p["BisectBatchOnFunctionError"], true},
		{"response types", jsonString(p["FunctionResponseTypes"]), `["ReportBatchItemFailures"]`},
		{"retries", p["MaximumRetryAttempts"], float64(10)},
		{"record age", p["MaximumRecordAgeInSeconds"], float64(24 * 3600)},
		{"parallelization", p["ParallelizationFactor"], float64(1)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("outbox mapping %s = %v; want %v", c.what, c.got, c.want)
		}
	}
	// Filters are OR'ed: outbox inserts, and profile items (inserted or
	// modified) that carry their outbox events.
	want := []string{
		`{"dynamodb":{"Keys":{"pk":{"S":[{"prefix":"O#"}]}}},"eventName":["INSERT"]}`,
		`{"dynamodb":{"NewImage":{"out":{"S":[{"exists":true}]}}},"eventName":["INSERT","MODIFY"]}`,
	}
	if got := filterPatterns(t, p); !slices.Equal(got, want) {
		t.Errorf("outbox mapping filters =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d := jsonString(get(p, "DestinationConfig", "OnFailure", "Destination")); !strings.Contains(d, "OutboxDeadLetters") {
		t.Errorf("outbox on-failure destination = %s; want the outbox dead-letter queue", d)
	}
}

func TestFoldStream(t *testing.T) {
	s := fixture(t)
	ids := functionsByName(t, s)
	fn, ok := resources(s.tpl, "AWS::Lambda::Function")[ids[cdp.FnFold]]
	if !ok {
		t.Fatalf("fold function (%s) not in template", ids[cdp.FnFold])
	}
	fp := props(fn)
	p, ok := streamMappings(t, s)[cdp.FnFold]
	if !ok {
		t.Fatal("fold has no event source mapping")
	}
	checks := []struct {
		what string
		got  any
		want any
	}{
		{"function memory", fp["MemorySize"], float64(512)},
		{"function timeout", fp["Timeout"], float64(120)},
		{"function table", get(fp, "Environment", "Variables", cdp.EnvTable) != nil, true},
		{"starting position", p["StartingPosition"], "TRIM_HORIZON"},
		{"batch size", p["BatchSize"], float64(1000)},
		{"batching window", p["MaximumBatchingWindowInSeconds"], float64(5)},
		{"bisect", p["BisectBatchOnFunctionError"], true},
		// A failed batch fails whole; folding is idempotent.
		{"response types", p["FunctionResponseTypes"], nil},
		{"retries", p["MaximumRetryAttempts"], float64(10)},
		{"record age", p["MaximumRecordAgeInSeconds"], float64(24 * 3600)},
		{"parallelization", p["ParallelizationFactor"], float64(1)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("fold %s = %v; want %v", c.what, c.got, c.want)
		}
	}
	want := []string{
		`{"dynamodb":{"Keys":{"pk":{"S":[{"prefix":"P#"}]},"sk":{"S":[{"prefix":"E#"}]}},"NewImage":{"app":{"S":[{"exists":true}]}}},"eventName":["INSERT"]}`,
	}
	if got := filterPatterns(t, p); !slices.Equal(got, want) {
		t.Errorf("fold mapping filters =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	q, ok := s.cdp.DeadLetters[cdp.FnFold]
	if !ok {
		t.Fatal("fold has no dead-letter queue")
	}
	qid := *s.stack.GetLogicalId(q.Node().DefaultChild().(awscdk.CfnResource))
	if _, ok := resources(s.tpl, "AWS::SQS::Queue")[qid]; !ok {
		t.Errorf("fold dead-letter queue %s not in template", qid)
	}
	if d := jsonString(get(p, "DestinationConfig", "OnFailure", "Destination")); !strings.Contains(d, qid) {
		t.Errorf("fold on-failure destination = %s; want its dead-letter queue %s", d, qid)
	}

	var iteratorAge, deadLetters bool
	for _, a := range resources(s.tpl, "AWS::CloudWatch::Alarm") {
		ap := props(a)
		dims := jsonString(ap["Dimensions"])
		switch {
		case ap["MetricName"] == "IteratorAge" && strings.Contains(dims, ids[cdp.FnFold]):
			iteratorAge = true
			if ap["Threshold"] != float64(cdp.DefaultIteratorAgeAlarm*1000) || ap["EvaluationPeriods"] != float64(5) {
				t.Errorf("fold iterator-age alarm threshold, periods = %v, %v; want %d ms, 5", ap["Threshold"], ap["EvaluationPeriods"], cdp.DefaultIteratorAgeAlarm*1000)
			}
		case ap["MetricName"] == "ApproximateNumberOfMessagesVisible" && strings.Contains(dims, qid):
			deadLetters = true
		}
	}
	if !iteratorAge {
		t.Error("no iterator-age alarm on fold")
	}
	if !deadLetters {
		t.Error("no alarm on the fold dead-letter queue")
	}
}

func TestAPI(t *testing.T) {
	tpl := fixture(t).tpl
	var routes []string
	for _, r := range resources(tpl, "AWS::ApiGatewayV2::Route") {
		routes = append(routes, props(r)["RouteKey"].(string))
	}
	sort.Strings(routes)
	if want := []string{"ANY /{proxy+}", "GET /", "GET /healthz"}; !slices.Equal(routes, want) {
		t.Errorf("routes = %v; want %v", routes, want)
	}
	for _, st := range resources(tpl, "AWS::ApiGatewayV2::Stage") {
		p := props(st)
		checks := []struct {
			what string
			got  any
			want any
		}{
			{"name", p["StageName"], "$default"},
			{"rate limit", get(p, "DefaultRouteSettings", "ThrottlingRateLimit"), float64(cdp.DefaultAPIRateLimit)},
			{"burst limit", get(p, "DefaultRouteSettings", "ThrottlingBurstLimit"), float64(cdp.DefaultAPIBurstLimit)},
			{"access log format", get(p, "AccessLogSettings", "Format"), cdp.AccessLogFormat()},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("stage %s = %v; want %v", c.what, c.got, c.want)
			}
		}
		if get(p, "AccessLogSettings", "DestinationArn") == nil {
			t.Error("stage has no access-log destination")
		}
	}
}

func TestAccessLogFormat(t *testing.T) {
	var fields map[string]string
	if err := json.Unmarshal([]byte(cdp.AccessLogFormat()), &fields); err != nil {
		t.Fatalf("AccessLogFormat() is not a JSON object: %v", err)
	}
	if fields["requestId"] != "$context.requestId" {
		t.Errorf("AccessLogFormat() requestId = %q; want $context.requestId", fields["requestId"])
	}
	for k, v := range fields {
		for _, pii := range []string{"sourceIp", "userAgent", "$context.path", "identity"} {
			if strings.Contains(v, pii) {
				t.Errorf("AccessLogFormat() field %s = %s; must not log %s", k, v, pii)
			}
		}
	}
}

func TestAlarms(t *testing.T) {
	s := fixture(t)
	topic := *s.stack.GetLogicalId(s.cdp.AlarmTopic.Node().DefaultChild().(awscdk.CfnResource))
	metrics := map[string]int{}
	for id, a := range resources(s.tpl, "AWS::CloudWatch::Alarm") {
		p := props(a)
		metrics[p["MetricName"].(string)]++
		if !strings.Contains(jsonString(p["AlarmActions"]), topic) {
			t.Errorf("alarm %s actions = %s; want the alarm topic", id, jsonString(p["AlarmActions"]))
		}
	}
	want := map[string]int{"Errors": 9, "Throttles": 9, "ApproximateNumberOfMessagesVisible": 8, "IteratorAge": 2, "5xx": 1}
	if jsonString(metrics) != jsonString(want) {
		t.Errorf("alarms by metric = %v; want %v", metrics, want)
	}
	for id, tp := range resources(s.tpl, "AWS::SNS::Topic") {
		if props(tp)["KmsMasterKeyId"] == nil {
			t.Errorf("topic %s is not encrypted", id)
		}
	}
}

// statement is one IAM policy statement, normalized.
type statement struct {
	Actions   []string
	Resources []string
}

// policies returns the statements of every Aurum function's role, by
// function name.
func policies(t *testing.T, s synthesized) map[string][]statement {
	t.Helper()
	roleOf := map[string]string{} // role logical id -> function name
	fns := resources(s.tpl, "AWS::Lambda::Function")
	for name, id := range functionsByName(t, s) {
		role, _ := get(props(fns[id]), "Role", "Fn::GetAtt", 0).(string)
		roleOf[role] = name
	}
	out := map[string][]statement{}
	for _, pol := range resources(s.tpl, "AWS::IAM::Policy") {
		p := props(pol)
		for _, r := range p["Roles"].([]any) {
			ref, _ := get(r, "Ref").(string)
			name, ok := roleOf[ref]
			if !ok {
				continue
			}
			for _, st := range get(p, "PolicyDocument", "Statement").([]any) {
				out[name] = append(out[name], statement{
					Actions:   strList(get(st, "Action")),
					Resources: resourceList(get(st, "Resource")),
				})
			}
		}
	}
	return out
}

func strList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, x.(string))
		}
		return out
	}
	return nil
}

// resourceList renders resources as strings: literals as they are,
// intrinsic functions as JSON.
func resourceList(v any) []string {
	if l, ok := v.([]any); ok {
		var out []string
		for _, x := range l {
			out = append(out, resourceList(x)...)
		}
		return out
	}
	if s, ok := v.(string); ok {
		return []string{s}
	}
	return []string{jsonString(v)}
}

func TestIAMLeastPrivilege(t *testing.T) {
	s := fixture(t)
	pols := policies(t, s)
	tableID := *s.stack.GetLogicalId(s.cdp.Table.Node().DefaultChild().(awscdk.CfnResource))
	busID := *s.stack.GetLogicalId(s.cdp.Bus.Node().DefaultChild().(awscdk.CfnResource))
	bucketID := *s.stack.GetLogicalId(s.cdp.Bucket.Node().DefaultChild().(awscdk.CfnResource))

	// The only wildcard resource: dynamodb:ListStreams, which has no
	// resource-level permission.
	allowedStar := map[string]bool{"dynamodb:ListStreams": true}

	for _, name := range cdp.FunctionNames() {
		t.Run(name, func(t *testing.T) {
			var actions []string
			for _, st := range pols[name] {
				actions = append(actions, st.Actions...)
				for _, r := range st.Resources {
					if r != "*" {
						continue
					}
					for _, a := range st.Actions {
						if !allowedStar[a] {
							t.Errorf("%s: %s on resource *", name, a)
						}
					}
				}
				for _, a := range st.Actions {
					switch {
					case strings.HasSuffix(a, ":*") || a == "*":
						t.Errorf("%s: wildcard action %s", name, a)
					case strings.HasPrefix(a, "dynamodb:") && a != "dynamodb:ListStreams":
						for _, r := range st.Resources {
							if !strings.Contains(r, tableID) {
								t.Errorf("%s: %s on %s; want the Aurum table only", name, a, r)
							}
						}
					case strings.HasPrefix(a, "s3:"):
						for _, r := range st.Resources {
							if !strings.Contains(r, bucketID) || !regexp.MustCompile(`/(sources|rejected|reports|rejected/pulls)/\*`).MatchString(r) {
								t.Errorf("%s: %s on %s; want drop-bucket prefixes only", name, a, r)
							}
						}
					case a == "events:PutEvents":
						for _, r := range st.Resources {
							if !strings.Contains(r, busID) {
								t.Errorf("%s: events:PutEvents on %s; want the Aurum bus", name, r)
							}
						}
					}
				}
			}
			if name != cdp.FnScheduler && slices.Contains(actions, "dynamodb:Scan") {
				t.Errorf("%s may scan the table; only scheduler does (rfm: thresholds)", name)
			}
			if name != cdp.FnOutbox && slices.Contains(actions, "events:PutEvents") {
				t.Errorf("%s may put events; only outbox publishes", name)
			}
			if name != cdp.FnIngestS3 && name != cdp.FnScheduler && slices.ContainsFunc(actions, func(a string) bool { return strings.HasPrefix(a, "s3:") }) {
				t.Errorf("%s has S3 access; only ingest-s3 reads drops (and scheduler writes pull rejects)", name)
			}
			if name == cdp.FnScheduler {
				for _, st := range pols[name] {
					for _, a := range st.Actions {
						if strings.HasPrefix(a, "s3:") && (a != "s3:PutObject" || len(st.Resources) != 1 || !strings.Contains(st.Resources[0], "/rejected/pulls/*")) {
							t.Errorf("scheduler: %s on %v; want only s3:PutObject on rejected/pulls/*", a, st.Resources)
						}
					}
				}
			}
			if name == cdp.FnOutbox && slices.Contains(actions, "dynamodb:PutItem") {
				t.Errorf("outbox may write items; it only reads the stream")
			}
			reads := name == cdp.FnOutbox || name == cdp.FnFold
			if got := slices.Contains(actions, "dynamodb:GetRecords"); got != reads {
				t.Errorf("%s may read the table's stream: %v; want %v (only outbox and fold)", name, got, reads)
			}
			if name != cdp.FnAPI && name != cdp.FnTriggers && name != cdp.FnScheduler && slices.ContainsFunc(actions, func(a string) bool {
				return strings.HasPrefix(a, "ssm:") || strings.HasPrefix(a, "secretsmanager:")
			}) {
				t.Errorf("%s may read secrets; only api (write keys), triggers (webhook keys) and scheduler (pull connectors) do", name)
			}
			if name != cdp.FnTriggers && slices.ContainsFunc(actions, func(a string) bool {
				return strings.HasPrefix(a, "scheduler:") || a == "iam:PassRole"
			}) {
				t.Errorf("%s may manage schedules; only triggers does", name)
			}
		})
	}

	t.Run("scheduler scans the table for rfm", func(t *testing.T) {
		var scans []string
		for _, st := range pols[cdp.FnScheduler] {
			if slices.Contains(st.Actions, "dynamodb:Scan") {
				if len(st.Actions) != 1 {
					t.Errorf("scheduler Scan statement actions = %v; want dynamodb:Scan alone", st.Actions)
				}
				scans = append(scans, st.Resources...)
			}
		}
		if len(scans) != 1 || !strings.Contains(scans[0], tableID) || strings.Contains(scans[0], "index") || strings.Contains(scans[0], "*") {
			t.Errorf("scheduler dynamodb:Scan on %v; want the table's ARN only (the fixture has rfm:)", scans)
		}
	})

	t.Run("fold table items", func(t *testing.T) {
		got := map[string]bool{}
		for _, st := range pols[cdp.FnFold] {
			for _, a := range st.Actions {
				got[a] = true
			}
		}
		for _, a := range []string{"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem", "dynamodb:GetRecords", "sqs:SendMessage"} {
			if !got[a] {
				t.Errorf("fold lacks %s", a)
			}
		}
		for _, a := range []string{"events:PutEvents", "dynamodb:Scan"} {
			if got[a] {
				t.Errorf("fold may %s; it writes profiles, the outbox function publishes", a)
			}
		}
	})

	secretTests := []struct {
		fn   string
		want []string
	}{
		{cdp.FnAPI, []string{":parameter/aurum/web-api/write-key", ":secret:aurum/web-api-??????", ":parameter/aurum/api/read-key", ":parameter/aurum/api/admin-key"}},
		{cdp.FnTriggers, []string{":parameter/aurum/hooks/welcome", ":secret:aurum/hooks/cart-??????", ":sqs:eu-west-1:123456789012:goodbyes"}},
		{cdp.FnScheduler, []string{":secret:aurum/crm-db-dsn-??????"}},
	}
	for _, tt := range secretTests {
		t.Run(tt.fn+" secrets and queues", func(t *testing.T) {
			var got []string
			for _, st := range pols[tt.fn] {
				for _, a := range st.Actions {
					if a == "ssm:GetParameter" || a == "secretsmanager:GetSecretValue" || a == "sqs:SendMessage" {
						got = append(got, st.Resources...)
					}
				}
			}
			joined := strings.Join(got, " ")
			for _, want := range tt.want {
				if !strings.Contains(joined, want) {
					t.Errorf("%s secret and queue resources = %v; want one containing %s", tt.fn, got, want)
				}
			}
		})
	}
}

func TestCdkNag(t *testing.T) {
	s := fixture(t)
	ann := assertions.Annotations_FromStack(s.stack)
	var findings []string
	for _, m := range *ann.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))) {
		findings = append(findings, fmt.Sprintf("%s: %v", *m.Id, m.Entry.Data))
	}
	if len(findings) > 0 {
		t.Errorf("%d unsuppressed cdk-nag AwsSolutions errors:\n%s", len(findings), strings.Join(findings, "\n"))
	}
	for _, m := range *ann.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))) {
		t.Logf("cdk-nag warning %s: %v", *m.Id, m.Entry.Data)
	}

	// Every suppression carries a reason.
	for id, r := range s.tpl["Resources"].(map[string]any) {
		for _, sup := range asSlice(get(r, "Metadata", "cdk_nag", "rules_to_suppress")) {
			if reason, _ := get(sup, "reason").(string); len(reason) < 20 {
				t.Errorf("%s: suppression %v has no real reason", id, get(sup, "id"))
			}
		}
	}
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// synthError runs a synthesis that must fail and returns its message.
func synthError(t *testing.T, props *cdp.CdpProps) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("synthesis succeeded; want a validation error")
		}
		msg = fmt.Sprint(r)
	}()
	outdir, err := os.MkdirTemp(tmpRoot, "out-")
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})
	stack := awscdk.NewStack(app, jsii.String("Aurum"), nil)
	cdp.NewCdp(stack, "Cdp", props)
	app.Synth(nil)
	return ""
}

func TestSynthFailsWithoutAssets(t *testing.T) {
	stale := fakeAssets(t, testConfig)
	if err := os.WriteFile(filepath.Join(stale, cdp.FnAPI, cdp.ConfigFile), []byte("version: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badSchemas := t.TempDir()
	if err := os.WriteFile(filepath.Join(badSchemas, "Broken.json"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		props *cdp.CdpProps
		want  []string
	}{
		{"schema not JSON", &cdp.CdpProps{Config: loadConfig(t, testConfig), AssetDir: fakeAssets(t, testConfig), SchemaDir: badSchemas},
			[]string{"event schema Broken"}},
		{"no assets", &cdp.CdpProps{Config: loadConfig(t, testConfig), AssetDir: t.TempDir()},
			[]string{"api/bootstrap", "make build"}},
		{"stale config", &cdp.CdpProps{Config: loadConfig(t, testConfig), AssetDir: stale},
			[]string{"api/aurum.yaml", "make build"}},
		{"no config", &cdp.CdpProps{AssetDir: fakeAssets(t, testConfig)},
			[]string{"no configuration"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := synthError(t, tt.props)
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("synthesis error = %q; want it to mention %q", msg, w)
				}
			}
		})
	}
}

func TestSchemaDraftWarning(t *testing.T) {
	dir := t.TempDir()
	doc := `{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "properties": {"version": {"const": "1"}}}`
	if err := os.WriteFile(filepath.Join(dir, "ProfileMerged.json"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	s := synth(t, &cdp.CdpProps{Config: loadConfig(t, testConfig), AssetDir: fakeAssets(t, testConfig), SchemaDir: dir})
	warnings := *assertions.Annotations_FromStack(s.stack).FindWarning(jsii.String("*"),
		assertions.Match_StringLikeRegexp(jsii.String("does not define")))
	if len(warnings) != 1 {
		t.Errorf("draft warnings = %d; want 1 for a schema using const", len(warnings))
	}
}

// TestFoldWindow checks that CdpProps.FoldWindow sets the fold's batching
// window, within the event source's 300-second maximum.
func TestFoldWindow(t *testing.T) {
	for _, tt := range []struct{ set, want float64 }{{30, 30}, {900, 300}} {
		t.Run(fmt.Sprint(tt.set), func(t *testing.T) {
			s := synth(t, &cdp.CdpProps{
				Config:     loadConfig(t, testConfig),
				AssetDir:   fakeAssets(t, testConfig),
				FoldWindow: tt.set,
			})
			p, ok := streamMappings(t, s)[cdp.FnFold]
			if !ok {
				t.Fatal("fold has no event source mapping")
			}
			if got := p["MaximumBatchingWindowInSeconds"]; got != tt.want {
				t.Errorf("FoldWindow %v: batching window %v; want %v", tt.set, got, tt.want)
			}
		})
	}
}
