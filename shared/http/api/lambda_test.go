package api_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/http/api"
)

// TestLambdaEvents feeds the sample API Gateway HTTP API events in
// events/ through the real Lambda decode path: the JSON payload is decoded
// by aws-lambda-go, adapted by aws-lambda-go-api-proxy and served by the
// API's handler.
func TestLambdaEvents(t *testing.T) {
	tests := []struct {
		file       string
		wantStatus int
		wantIDs    []string // record ids the ingester receives
		wantBody   string   // substring of the response body
	}{
		{file: "api-identify.json", wantStatus: 200, wantBody: `"success":true`,
			wantIDs: []string{"node-next-1764417599871-2f6c1e0a-9d3b-4c5e-8a7f-6b1c2d3e4f50"}},
		{file: "api-track.json", wantStatus: 200, wantBody: `"success":true`,
			wantIDs: []string{"node-next-1764417599902-8a1b2c3d-4e5f-4a6b-9c7d-0e1f2a3b4c5d"}},
		{file: "api-batch.json", wantStatus: 200, wantBody: `"rejected":[{"index":3`,
			wantIDs: []string{
				"node-next-1764417599871-2f6c1e0a-9d3b-4c5e-8a7f-6b1c2d3e4f50",
				"node-next-1764417599902-8a1b2c3d-4e5f-4a6b-9c7d-0e1f2a3b4c5d",
				"ajs-next-1764417590000-0c9d8e7f-6a5b-4c3d-2e1f-0a9b8c7d6e5f",
			}},
		{file: "api-profile-get.json", wantStatus: 200, wantBody: `"id":"p_3f9a2c7e1b4d5a6f8e0c9b2a"`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			payload, err := os.ReadFile(filepath.Join("..", "..", "..", "events", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			e := newEnv(t, func(cfg *config.Config, d *api.Deps, o *api.Options) {
				o.ReadKeys = []config.SecretRef{{SHA256: sha256Hex("dev-read-key")}}
			})
			withProfiles(e)
			p := e.profiles.profiles["p_ann"]
			p.ID = "p_3f9a2c7e1b4d5a6f8e0c9b2a"
			e.profiles.profiles[p.ID] = p

			out, err := lambda.NewHandler(api.LambdaHandler(e.api.Handler())).Invoke(context.Background(), payload)
			if err != nil {
				t.Fatalf("Invoke(%s): %v", tt.file, err)
			}
			var resp events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatalf("decode response %s: %v", out, err)
			}
			if resp.StatusCode != tt.wantStatus || !strings.Contains(resp.Body, tt.wantBody) {
				t.Errorf("Invoke(%s) = %d %s; want %d with %s", tt.file, resp.StatusCode, resp.Body, tt.wantStatus, tt.wantBody)
			}
			if ct := resp.Headers["Content-Type"]; ct != "application/json" {
				t.Errorf("Content-Type = %q; want application/json", ct)
			}
			var ids []string
			for _, r := range e.ingester.records() {
				ids = append(ids, r.ID)
				if r.Source != "web" {
					t.Errorf("record %s source = %s; want web", r.ID, r.Source)
				}
			}
			if strings.Join(ids, " ") != strings.Join(tt.wantIDs, " ") {
				t.Errorf("ingested ids = %v; want %v", ids, tt.wantIDs)
			}
		})
	}
}

// TestSampleConfig runs the sample tracking events against the repository's
// aurum.yaml: its api source, write key and mapping must accept them.
func TestSampleConfig(t *testing.T) {
	cfg, err := config.Load(filepath.Join("..", "..", "..", "aurum.yaml"))
	if err != nil {
		t.Fatalf("load sample config: %v", err)
	}
	for _, file := range []string{"api-identify.json", "api-track.json", "api-batch.json"} {
		t.Run(file, func(t *testing.T) {
			ing := &fakeIngester{}
			a, err := api.New(cfg.Sources, cfg.Identifiers, api.Deps{Ingester: ing, Profiles: &fakeProfiles{}}, api.Options{})
			if err != nil {
				t.Fatalf("api.New(sample config): %v", err)
			}
			payload, err := os.ReadFile(filepath.Join("..", "..", "..", "events", file))
			if err != nil {
				t.Fatal(err)
			}
			out, err := lambda.NewHandler(api.LambdaHandler(a.Handler())).Invoke(context.Background(), payload)
			if err != nil {
				t.Fatalf("Invoke(%s): %v", file, err)
			}
			var resp events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatalf("decode response %s: %v", out, err)
			}
			if resp.StatusCode != 200 || len(ing.records()) == 0 {
				t.Fatalf("Invoke(%s) = %d %s, %d records; want 200 and records", file, resp.StatusCode, resp.Body, len(ing.records()))
			}
			for _, r := range ing.records() {
				if len(r.Identifiers) == 0 {
					t.Errorf("record %s has no identifiers", r.Key())
				}
			}
		})
	}
}
