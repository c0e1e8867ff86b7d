package config

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Bounds and defaults of pull sources.
const (
	// DefaultPullBatch is the batch size of a pull source without batch.
	DefaultPullBatch = 500
	// MaxPullBatch bounds batch: one batch is held in memory and mapped
	// before it is ingested.
	MaxPullBatch = 10000
	// MinPullSchedule is the shortest schedule accepted.
	MinPullSchedule = time.Second
)

// Pull configures a source of kind pull: a connector that Aurum calls on a
// schedule to read the rows that follow its last checkpoint (a database
// table, a SaaS API). The source's mapping turns the rows into records and
// must name record_id, so that a re-read row updates the same record.
type Pull struct {
	// Connector is the connector kind, one registered in shared/wire/app
	// (for example postgres). Start-up fails on a kind that is not
	// registered.
	Connector string `yaml:"connector" json:"connector" jsonschema:"pattern=^[a-z][a-z0-9_-]*$"`
	// Schedule is how often the source is read: a Go duration such as 5m
	// or 1h, or days such as 1d. In AWS the scheduler function runs due
	// sources on its one-minute tick, so shorter schedules run every
	// minute.
	Schedule string `yaml:"schedule" json:"schedule" jsonschema:"minLength=1"`
	// Batch is the most rows read per call of the connector; default 500,
	// at most 10000.
	Batch int `yaml:"batch,omitempty" json:"batch,omitempty" jsonschema:"minimum=0,maximum=10000"`
	// Options are the connector's own settings (table, query, endpoint,
	// ...). Credentials appear only as secret references ({env: ...},
	// {ssm: ...} or {secrets_manager: ...}), never as values.
	Options map[string]any `yaml:"options,omitempty" json:"options,omitempty"`
}

// SecretRefs returns the secret references among the options, at any
// depth (the CDK construct grants the scheduler function read access to
// them).
func (p *Pull) SecretRefs() []SecretRef {
	var out []SecretRef
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := secretRefOf(x); ok {
				out = append(out, ref)
				return
			}
			for _, k := range slices.Sorted(maps.Keys(x)) {
				walk(x[k])
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(p.Options)
	return out
}

// Interval returns the parsed schedule.
func (p *Pull) Interval() (time.Duration, error) {
	d, err := ParseDuration(p.Schedule)
	if err != nil {
		return 0, fmt.Errorf("pull schedule %w", err)
	}
	return d, nil
}

// BatchSize returns Batch, or DefaultPullBatch when it is not set.
func (p *Pull) BatchSize() int {
	if p.Batch > 0 {
		return p.Batch
	}
	return DefaultPullBatch
}

// KeyedByID reports whether the records of s are de-duplicated on their id
// alone, as Segment de-duplicates on messageId: true for message sources
// (api, webhook, bus). File and pull sources are keyed by content (source,
// id and a hash of the record), so a re-read row changes nothing while a
// row changed since is processed again.
func (s *Source) KeyedByID() bool {
	return s.Kind != KindFile && s.Kind != KindPull
}

var (
	connectorPattern = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	// credentialWords end the option keys that name a credential
	// (compared with the key lower-cased, without _ and -): db_password,
	// client_secret, apiKey, access_token; not token_url.
	credentialWords = []string{"password", "passwd", "secret", "token", "apikey", "accesskey", "secretkey", "privatekey", "credential", "credentials"}
	secretRefKeys   = []string{"env", "ssm", "secrets_manager", "sha256"}
)

// pullSource checks the pull block of a source and what a pull source
// needs of its mapping.
func (v *validator) pullSource(p string, src *Source) {
	pl := src.Pull
	switch {
	case pl == nil && src.Kind == KindPull:
		v.errorf(p+".pull", "missing; pull sources need pull: {connector: <kind>, schedule: 5m}")
		return
	case pl == nil:
		return
	case src.Kind != KindPull:
		v.errorf(p+".pull", "applies only to pull sources")
		return
	}
	pp := p + ".pull"
	switch {
	case pl.Connector == "":
		v.errorf(pp+".connector", "missing; expected the connector kind registered in shared/wire/app")
	case !connectorPattern.MatchString(pl.Connector):
		v.errorf(pp+".connector", "%q must match %s", pl.Connector, connectorPattern)
	}
	v.pullSchedule(pp+".schedule", pl.Schedule)
	switch {
	case pl.Batch < 0:
		v.errorf(pp+".batch", "%d is negative; expected 1 to %d (default %d)", pl.Batch, MaxPullBatch, DefaultPullBatch)
	case pl.Batch > MaxPullBatch:
		v.errorf(pp+".batch", "%d is too large; expected at most %d", pl.Batch, MaxPullBatch)
	}
	for _, k := range slices.Sorted(maps.Keys(pl.Options)) {
		v.pullOption(childPath(pp+".options", k), k, pl.Options[k])
	}
	if src.Mapping.RecordID == nil {
		v.errorf(p+".mapping.record_id", "missing; pull sources need record_id (the row's key), so that a re-read row updates the same record")
	}
}

func (v *validator) pullSchedule(p, schedule string) {
	if strings.TrimSpace(schedule) == "" {
		v.errorf(p, "missing; expected an interval such as 5m, 1h or 1d")
		return
	}
	d, err := ParseDuration(schedule)
	switch {
	case err != nil:
		v.errorf(p, "%v", err)
	case d < MinPullSchedule:
		v.errorf(p, "%s is shorter than %s", schedule, MinPullSchedule)
	}
}

// pullOption checks one connector option: secret references are well
// formed, and no credential is written as a value.
func (v *validator) pullOption(p, key string, value any) {
	switch x := value.(type) {
	case map[string]any:
		if ref, ok := secretRefOf(x); ok {
			if ref.SHA256 != "" {
				v.errorf(p+".sha256", "not usable for a connector, which needs the secret itself; use env, ssm or secrets_manager")
				return
			}
			v.secretRef(p, &ref)
			return
		}
		if credentialKey(key) {
			v.errorf(p, "names a credential; write it as a secret reference {env|ssm|secrets_manager: ...}")
			return
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			v.pullOption(childPath(p, k), k, x[k])
		}
	case []any:
		for i, e := range x {
			v.pullOption(indexPath(p, i), key, e)
		}
	case nil:
	default:
		if credentialKey(key) {
			v.errorf(p, "names a credential; write it as a secret reference {env|ssm|secrets_manager: ...}, never the value")
			return
		}
		if s, ok := x.(string); ok && holdsPassword(s) {
			v.errorf(p, "holds a password; put the value in a secret and reference it with {env|ssm|secrets_manager: ...}")
		}
	}
}

// secretRefOf reads m as a secret reference: a non-empty mapping whose keys
// are all among env, ssm, secrets_manager and sha256, with string values.
func secretRefOf(m map[string]any) (SecretRef, bool) {
	if len(m) == 0 {
		return SecretRef{}, false
	}
	var ref SecretRef
	for k, val := range m {
		s, ok := val.(string)
		if !ok || !slices.Contains(secretRefKeys, k) {
			return SecretRef{}, false
		}
		switch k {
		case "env":
			ref.Env = s
		case "ssm":
			ref.SSM = s
		case "secrets_manager":
			ref.SecretsManager = s
		case "sha256":
			ref.SHA256 = s
		}
	}
	return ref, true
}

// credentialKey reports whether an option key names a credential.
func credentialKey(key string) bool {
	k := strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(key))
	for _, w := range credentialWords {
		if strings.HasSuffix(k, w) {
			return true
		}
	}
	return false
}

// holdsPassword reports whether s carries a password: a URL with one in
// its user info, or a key=value connection string with password=.
func holdsPassword(s string) bool {
	if strings.Contains(strings.ToLower(s), "password=") {
		return true
	}
	if !strings.Contains(s, "://") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return false
	}
	_, set := u.User.Password()
	return set
}
