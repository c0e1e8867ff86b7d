package config

import (
	"strings"
	"testing"
	"time"
)

// Lines of pullConfig, for reading the positions below:
//
//	 1 version: 1
//	 2 identifiers:
//	 3   - name: email
//	 4     normalizer: email
//	 5 sources:
//	 6   - name: crm-db
//	 7     kind: pull
//	 8     mapping:
//	 9       record_id: id
//	10       identifiers: [{type: email, field: email}]
const pullConfig = `version: 1
identifiers:
  - name: email
    normalizer: email
sources:
  - name: crm-db
    kind: pull
    mapping:
      record_id: id
      identifiers: [{type: email, field: email}]
`

func TestValidatePull(t *testing.T) {
	block := func(b string) string { return pullConfig + "    pull:\n" + b }
	tests := []struct {
		name string
		in   string
		// want are prefixes of the problems, in order; none: valid.
		want []string
	}{
		{"minimal", block("      connector: postgres\n      schedule: 5m\n"), nil},
		{"all keys", block("      connector: rest-api\n      schedule: 1d\n      batch: 10000\n" +
			"      options:\n        table: contacts\n        limit: 3\n        tags: [a, b]\n" +
			"        password: {secrets_manager: crm/db}\n        auth: {token: {env: CRM_TOKEN}}\n" +
			"        url: https://api.example.com/v2\n        token_url: https://api.example.com/oauth\n        user: aurum\n"), nil},
		{"missing block", pullConfig,
			[]string{"6:5: sources[0].pull: missing; pull sources need pull:"}},
		{"block on a file source", strings.Replace(block("      connector: postgres\n      schedule: 5m\n"), "kind: pull", "kind: file\n    format: jsonl", 1),
			[]string{"13:7: sources[0].pull: applies only to pull sources"}},
		{"missing connector and schedule", block("      batch: 10\n"), []string{
			"12:7: sources[0].pull.connector: missing",
			"12:7: sources[0].pull.schedule: missing",
		}},
		{"bad connector, schedule and batch", block("      connector: Postgres\n      schedule: soon\n      batch: 10001\n"), []string{
			`12:18: sources[0].pull.connector: "Postgres" must match`,
			`13:17: sources[0].pull.schedule: "soon": expected a duration`,
			"14:14: sources[0].pull.batch: 10001 is too large",
		}},
		{"negative batch", block("      connector: postgres\n      schedule: 5m\n      batch: -1\n"),
			[]string{"14:14: sources[0].pull.batch: -1 is negative"}},
		{"schedule too short", block("      connector: postgres\n      schedule: 10ms\n"),
			[]string{"13:17: sources[0].pull.schedule: 10ms is shorter than 1s"}},
		{"credential as a value", block("      connector: postgres\n      schedule: 5m\n      options:\n        db_password: hunter2\n        apiKey: 42\n"), []string{
			"15:22: sources[0].pull.options.db_password: names a credential",
			"16:17: sources[0].pull.options.apiKey: names a credential",
		}},
		{"password in a URL and a DSN", block("      connector: postgres\n      schedule: 5m\n      options:\n" +
			"        url: postgres://aurum:hunter2@db:5432/crm\n        dsn: host=db user=aurum password=hunter2\n        list: [\"https://u:p@x\"]\n"), []string{
			"15:14: sources[0].pull.options.url: holds a password",
			"16:14: sources[0].pull.options.dsn: holds a password",
			"17:15: sources[0].pull.options.list[0]: holds a password",
		}},
		{"bad secret references", block("      connector: postgres\n      schedule: 5m\n      options:\n" +
			"        password: {env: A, ssm: /b}\n        token: {env: \"not a name\"}\n        key: {sha256: " + strings.Repeat("ab", 32) + "}\n"), []string{
			"15:19: sources[0].pull.options.password: has env and ssm",
			`16:16: sources[0].pull.options.token.env: "not a name" is not an environment variable name`,
			"17:14: sources[0].pull.options.key.sha256: not usable for a connector",
		}},
		{"credential nested under a mapping", block("      connector: postgres\n      schedule: 5m\n      options:\n        client_secret: {value: x}\n"),
			[]string{"15:24: sources[0].pull.options.client_secret: names a credential"}},
		{"no record id", strings.Replace(block("      connector: postgres\n      schedule: 5m\n"), "      record_id: id\n", "", 1),
			[]string{"9:7: sources[0].mapping.record_id: missing; pull sources need record_id"}},
		{"write keys", strings.Replace(block("      connector: postgres\n      schedule: 5m\n"), "    mapping:", "    write_keys: [{env: K}]\n    mapping:", 1),
			[]string{"8:17: sources[0].write_keys: apply only to api and webhook sources"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, tt.in, tt.want)
		})
	}
}

func TestPullDefaults(t *testing.T) {
	tests := []struct {
		name      string
		pull      Pull
		wantBatch int
		wantEvery time.Duration
	}{
		{"defaults", Pull{Schedule: "5m"}, DefaultPullBatch, 5 * time.Minute},
		{"set", Pull{Schedule: "2d", Batch: 50}, 50, 48 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.pull.BatchSize(); got != tt.wantBatch {
				t.Errorf("BatchSize() = %d; want %d", got, tt.wantBatch)
			}
			got, err := tt.pull.Interval()
			if err != nil || got != tt.wantEvery {
				t.Errorf("Interval() = %v, %v; want %v", got, err, tt.wantEvery)
			}
		})
	}
	if _, err := (&Pull{Schedule: "often"}).Interval(); err == nil {
		t.Error(`Interval() of "often" = nil error; want one`)
	}
}

func TestKeyedByID(t *testing.T) {
	for kind, want := range map[string]bool{KindFile: false, KindPull: false, KindAPI: true, KindWebhook: true, KindBus: true} {
		if got := (&Source{Kind: kind}).KeyedByID(); got != want {
			t.Errorf("Source{Kind: %s}.KeyedByID() = %v; want %v", kind, got, want)
		}
	}
}

func TestSchemaPull(t *testing.T) {
	sch := compileSchema(t)
	tests := []struct {
		name  string
		in    string
		valid bool
	}{
		{"pull source", pullConfig + "    pull: {connector: postgres, schedule: 5m, batch: 100, options: {table: t, password: {env: P}}}\n", true},
		{"unknown pull key", pullConfig + "    pull: {connector: postgres, schedule: 5m, every: 1m}\n", false},
		{"no schedule", pullConfig + "    pull: {connector: postgres}\n", false},
		{"batch too large", pullConfig + "    pull: {connector: postgres, schedule: 5m, batch: 20000}\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sch.Validate(yamlInstance(t, tt.in))
			if got := err == nil; got != tt.valid {
				t.Errorf("schema valid = %v; want %v (error: %v)", got, tt.valid, err)
			}
		})
	}
}
