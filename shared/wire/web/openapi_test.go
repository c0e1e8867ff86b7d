package web_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/http/api"
	"github.com/aurum-cdp/aurum/shared/wire/app"
	"github.com/aurum-cdp/aurum/shared/wire/web"

	"github.com/goccy/go-yaml"
)

// TestOpenAPIMatchesRouter checks that docs/openapi.yaml describes exactly
// the routes the platform serves — the API's own and every mount the app
// adds, as wired for functions/api and local mode — method by method.
func TestOpenAPIMatchesRouter(t *testing.T) {
	b, err := os.ReadFile("../../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI    string                    `yaml:"openapi"`
		Paths      map[string]map[string]any `yaml:"paths"`
		Components struct {
			PathItems map[string]map[string]any `yaml:"pathItems"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi = %q; want 3.1.x", doc.OpenAPI)
	}
	var documented []string
	for path, item := range doc.Paths {
		if ref, ok := item["$ref"].(string); ok {
			name, found := strings.CutPrefix(ref, "#/components/pathItems/")
			item = doc.Components.PathItems[name]
			if !found || item == nil {
				t.Errorf("path %s: unresolvable $ref %q", path, ref)
				continue
			}
		}
		for method := range item {
			switch method {
			case "get", "post", "put", "patch", "delete", "options", "head":
				documented = append(documented, strings.ToUpper(method)+" "+path)
			}
		}
	}
	slices.Sort(documented)
	cfg, err := config.Load("../../../aurum.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := app.New(app.Parts{Config: cfg, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	a, err := web.API(p, api.Options{})
	if err != nil {
		t.Fatal(err)
	}
	served := a.Routes()
	if len(served) < 20 {
		t.Fatalf("the platform serves %d routes; want the whole API", len(served))
	}
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is served but not in docs/openapi.yaml", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(served, d) {
			t.Errorf("docs/openapi.yaml documents %s, which is not served", d)
		}
	}
}
