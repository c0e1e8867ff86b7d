package events_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/pattern"
)

// repoRoot is the repository root, seen from this package.
const repoRoot = "../../.."

// samples returns the sample payloads events/*.json by base name.
func samples(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "events", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("glob events/*.json = %v, %v; want sample files", files, err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

// TestSamplesValidate: every sample that is one of Aurum's own events
// (source "aurum") has a published schema and its detail validates
// against it.
func TestSamplesValidate(t *testing.T) {
	validated := 0
	for name, b := range samples(t) {
		var env struct {
			Source     string          `json:"source"`
			DetailType string          `json:"detail-type"`
			Detail     json.RawMessage `json:"detail"`
		}
		if err := json.Unmarshal(b, &env); err != nil {
			t.Errorf("%s: %v; want a JSON object", name, err)
			continue
		}
		if env.Source != events.Source {
			continue
		}
		validated++
		t.Run(name, func(t *testing.T) {
			if err := validate(t, compile(t, env.DetailType), name, env.Detail); err != nil {
				t.Errorf("%s: detail does not validate against schemas/%s.json: %v", name, env.DetailType, err)
			}
		})
	}
	if validated < 2 {
		t.Errorf("samples with source %q = %d; want at least 2 (bus-profile-updated, triggers-segment-entered)", events.Source, validated)
	}
}

// TestSamplesUsed: every sample in events/ is read by some test, so a
// sample that drifts from the code fails a test.
func TestSamplesUsed(t *testing.T) {
	var tests strings.Builder
	err := filepath.WalkDir(repoRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && p != repoRoot || d.Name() == "node_modules" || d.Name() == "cdk.out") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, "_test.go") {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			tests.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	all := tests.String()
	for name := range samples(t) {
		if name == "sam-env.json" { // checked by TestSamEnvComplete
			continue
		}
		if !strings.Contains(all, name) {
			t.Errorf("events/%s is read by no _test.go file; want a test that uses it", name)
		}
	}
}

// TestSamEnvComplete: events/sam-env.json (SAM's env_vars file) sets
// every AURUM_* variable the functions read (shared/wire/settings).
func TestSamEnvComplete(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(repoRoot, "shared", "wire", "settings", "settings.go"))
	if err != nil {
		t.Fatal(err)
	}
	var read []string
	for _, m := range regexp.MustCompile(`os\.Getenv\("(AURUM_[A-Z0-9_]+)"\)`).FindAllStringSubmatch(string(src), -1) {
		if !slices.Contains(read, m[1]) {
			read = append(read, m[1])
		}
	}
	if len(read) < 5 {
		t.Fatalf("settings.go reads %v; want the AURUM_* variables (has the code moved?)", read)
	}
	var env struct {
		Parameters map[string]string `json:"Parameters"`
	}
	if err := json.Unmarshal(samples(t)["sam-env.json"], &env); err != nil {
		t.Fatalf("sam-env.json: %v", err)
	}
	for _, v := range read {
		if _, ok := env.Parameters[v]; !ok {
			t.Errorf("sam-env.json Parameters lack %s; want every variable settings reads", v)
		}
	}
}

// TestProfileUpdatedSample: events/bus-profile-updated.json is a valid
// EventBridge event that the subscriber pattern docs/events.md shows for
// ProfileUpdated matches, and its detail decodes into the Go type.
func TestProfileUpdatedSample(t *testing.T) {
	b := samples(t)["bus-profile-updated.json"]
	if err := pattern.ValidateEvent(b); err != nil {
		t.Fatalf("ValidateEvent(bus-profile-updated.json) = %v; want nil", err)
	}
	documented := `{"source": ["aurum"], "detail-type": ["ProfileUpdated"], "detail": {"changed_attributes": ["email_opt_in"]}}`
	if ok, err := pattern.Test([]byte(documented), b); err != nil || !ok {
		t.Errorf("pattern %s on bus-profile-updated.json = %v, %v; want a match", documented, ok, err)
	}
	var env struct {
		Detail events.ProfileUpdated `json:"detail"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	if env.Detail.Version != events.SchemaVersion || env.Detail.ProfileID == "" || env.Detail.ProfileVersion < 1 {
		t.Errorf("detail = %+v; want version %s, a profile id and version", env.Detail, events.SchemaVersion)
	}
}
