// Package shared_test checks the architecture the tree shows: data flows
// one way, entry → core → port → adapter, and only the wiring sees every
// layer. A package that imports against the grain fails this test, with
// the edge named.
package shared_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/aurum-cdp/aurum/shared/"

// allowed maps each role (the first folder under shared/) to the roles
// its packages may import. wire may import everything.
var allowed = map[string][]string{
	"model":       {},
	"kit":         {},
	"pattern":     {"model"},
	"config":      {"model", "pattern"},
	"port":        {"model", "port", "kit"},
	"core":        {"model", "config", "pattern", "port", "kit", "core", "destination"},
	"destination": {"model", "config", "kit", "destination"},
	"source":      {"model", "config", "pattern", "port", "kit", "core", "source"},
	"adapter":     {"model", "config", "pattern", "port", "kit", "core", "destination", "adapter"},
	"http":        {"model", "config", "port", "kit", "core", "source", "http"},
	"lambda":      {"model", "config", "port", "kit", "core", "source", "adapter", "lambda"},
}

// awsRoles may import the AWS SDK and the Lambda libraries: adapters,
// Lambda handlers, the wiring, and the event types of the entry points
// that decode Lambda payloads.
var awsRoles = map[string]bool{"adapter": true, "lambda": true, "wire": true, "http/api": true, "source/busevent": true}

func role(pkg string) string {
	r, _, _ := strings.Cut(strings.TrimPrefix(pkg, module), "/")
	return r
}

func TestLayers(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	pkgs := 0
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		pkg, from := f[0], role(f[0])
		pkgs++
		rest := strings.TrimPrefix(pkg, module)
		for _, imp := range f[1:] {
			if strings.HasPrefix(imp, "github.com/aws/") && !awsRoles[from] && !awsRoles[rest] {
				t.Errorf("%s imports %s: only adapters, Lambda handlers and the wiring use the AWS SDK", rest, imp)
			}
			if !strings.HasPrefix(imp, module) || from == "wire" {
				continue
			}
			to := role(imp)
			ok := false
			for _, r := range allowed[from] {
				ok = ok || r == to
			}
			if _, known := allowed[from]; !known {
				t.Errorf("%s: role %q has no layering rule; add it to allowed", rest, from)
				break
			}
			if !ok {
				t.Errorf("%s (%s) imports %s (%s): against the layering entry → core → port → adapter", rest, from, strings.TrimPrefix(imp, module), to)
			}
		}
	}
	if pkgs < 40 {
		t.Fatalf("go list found %d packages under shared/; want the whole tree", pkgs)
	}
}
