package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/http/api"
)

// settingsDoc mirrors what @segment/analytics-next reads of its settings.
type settingsDoc struct {
	Integrations map[string]struct {
		APIKey   string `json:"apiKey"`
		APIHost  string `json:"apiHost"`
		Protocol string `json:"protocol"`
	} `json:"integrations"`
	Metrics struct {
		SampleRate *float64 `json:"sampleRate"`
	} `json:"metrics"`
}

func TestSDKSettings(t *testing.T) {
	publicURL := func(u string) envOption {
		return func(cfg *config.Config, d *api.Deps, o *api.Options) { o.PublicURL = u }
	}
	tests := []struct {
		name     string
		opt      envOption
		key      string
		header   map[string]string
		want     int
		apiHost  string
		protocol string
	}{
		{name: "host of the request", key: writeKey, header: map[string]string{"Host": "127.0.0.1:8080"},
			want: 200, apiHost: "127.0.0.1:8080/v1", protocol: "http"},
		{name: "behind a TLS proxy", key: writeKey,
			header: map[string]string{"Host": "track.example.com", "X-Forwarded-Proto": "https"},
			want:   200, apiHost: "track.example.com/v1", protocol: "https"},
		{name: "configured public URL", opt: publicURL("https://abc.execute-api.eu-west-1.amazonaws.com/prod/"),
			key: writeKey, header: map[string]string{"Host": "internal:9000"},
			want: 200, apiHost: "abc.execute-api.eu-west-1.amazonaws.com/prod/v1", protocol: "https"},
		{name: "unknown key", key: "guess", want: 404},
		{name: "read key", key: readKey, want: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []envOption
			if tt.opt != nil {
				opts = append(opts, tt.opt)
			}
			e := newEnv(t, opts...)
			header := map[string]string{"Origin": "https://shop.example.com"}
			for k, v := range tt.header {
				header[k] = v
			}
			path := "/v1/projects/" + tt.key + "/settings"
			w := e.do(t, request{method: http.MethodGet, path: path, header: header})
			if w.Code != tt.want {
				t.Fatalf("GET %s = %d %s; want %d", path, w.Code, w.Body, tt.want)
			}
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("GET %s: Access-Control-Allow-Origin = %q; want *", path, got)
			}
			if tt.want != 200 {
				return
			}
			var doc settingsDoc
			if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
				t.Fatalf("settings %s: %v", w.Body, err)
			}
			seg, ok := doc.Integrations["Segment.io"]
			if !ok || len(doc.Integrations) != 1 {
				t.Fatalf("integrations = %s; want Segment.io only", w.Body)
			}
			if seg.APIKey != tt.key || seg.APIHost != tt.apiHost || seg.Protocol != tt.protocol {
				t.Errorf("Segment.io = %+v; want apiKey %s, apiHost %s, protocol %s", seg, tt.key, tt.apiHost, tt.protocol)
			}
			if doc.Metrics.SampleRate == nil || *doc.Metrics.SampleRate != 0 {
				t.Errorf("metrics = %s; want sampleRate 0 (the SDK's metrics host is Segment's)", w.Body)
			}
		})
	}
}

func TestSDKSettingsBadPublicURL(t *testing.T) {
	for _, u := range []string{"track.example.com", "ftp://x", "https://"} {
		cfg := testConfig()
		_, err := api.New(cfg.Sources, cfg.Identifiers, api.Deps{Ingester: &fakeIngester{}, Profiles: &fakeProfiles{}},
			api.Options{PublicURL: u})
		if err == nil {
			t.Errorf("api.New with PublicURL %q = nil error; want an error", u)
		}
	}
}

// TestPreflightAllowsSDKHeaders: the preflight of a tracking route allows
// every header the official SDKs send, or the browser blocks the request
// (analytics-next retries carry X-Retry-Count), and exposes Retry-After.
func TestPreflightAllowsSDKHeaders(t *testing.T) {
	e := newEnv(t)
	sent := []string{"authorization", "content-type", "x-retry-count", "user-agent", "content-encoding"}
	w := e.do(t, request{method: http.MethodOptions, path: "/v1/t", header: map[string]string{
		"Origin": "https://shop.example.com", "Access-Control-Request-Method": "POST",
		"Access-Control-Request-Headers": strings.Join(sent, ","),
	}})
	var allowed []string
	for _, h := range strings.Split(w.Header().Get("Access-Control-Allow-Headers"), ",") {
		allowed = append(allowed, strings.ToLower(strings.TrimSpace(h)))
	}
	for _, h := range sent {
		if !slices.Contains(allowed, h) {
			t.Errorf("Access-Control-Allow-Headers = %v; want it to hold %s", allowed, h)
		}
	}
	if got := w.Header().Get("Access-Control-Expose-Headers"); !strings.Contains(got, "Retry-After") {
		t.Errorf("Access-Control-Expose-Headers = %q; want Retry-After", got)
	}
}
