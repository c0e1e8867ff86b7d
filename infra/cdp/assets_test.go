package cdp_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/infra/cdp"
)

func TestCheckAssets(t *testing.T) {
	good := fakeAssets(t, testConfig)
	partial := fakeAssets(t, testConfig)
	if err := os.Remove(filepath.Join(partial, cdp.FnOutbox, "bootstrap")); err != nil {
		t.Fatal(err)
	}
	noYAML := fakeAssets(t, testConfig)
	if err := os.Remove(filepath.Join(noYAML, cdp.FnSegments, cdp.ConfigFile)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		dir        string
		configFile string
		want       string // substring of the error; empty: no error
	}{
		{"complete", good, testConfig, ""},
		{"complete, config not compared", good, "", ""},
		{"no folder given", "", testConfig, "AssetDir"},
		{"empty folder", t.TempDir(), testConfig, "make build"},
		{"one bootstrap missing", partial, testConfig, "outbox/bootstrap"},
		{"one aurum.yaml missing", noYAML, testConfig, "segments/aurum.yaml"},
		{"other configuration", good, "../../aurum.yaml", "differ from"},
		{"configuration unreadable", good, "testdata/missing.yaml", "read configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := cdp.CheckAssets(tt.dir, tt.configFile)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckAssets(%q, %q) = %v; want nil", tt.dir, tt.configFile, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("CheckAssets(%q, %q) = %v; want an error mentioning %q", tt.dir, tt.configFile, err, tt.want)
			}
		})
	}
}

func TestLoadSchemas(t *testing.T) {
	tests := []struct {
		name string
		dir  string
		want []string
	}{
		{"test schemas", "testdata/schemas", []string{"ProfileUpdated", "SegmentEntered"}},
		{"no folder", "testdata/none", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cdp.LoadSchemas(tt.dir)
			if err != nil {
				t.Fatalf("LoadSchemas(%s): %v", tt.dir, err)
			}
			var names []string
			for _, s := range got {
				names = append(names, s.Name)
				if !strings.HasPrefix(strings.TrimSpace(s.Content), "{") {
					t.Errorf("LoadSchemas(%s) %s content = %.20q; want the file's JSON", tt.dir, s.Name, s.Content)
				}
			}
			if strings.Join(names, ",") != strings.Join(tt.want, ",") {
				t.Errorf("LoadSchemas(%s) = %v; want %v", tt.dir, names, tt.want)
			}
		})
	}
}

func TestFunctionNames(t *testing.T) {
	got := strings.Join(cdp.FunctionNames(), ",")
	want := "api,destinations,fold,ingest-bus,ingest-s3,outbox,scheduler,segments,triggers"
	if got != want {
		t.Errorf("FunctionNames() = %s; want %s", got, want)
	}
}
