package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/aurum-cdp/aurum/shared/core/keys"
	"github.com/aurum-cdp/aurum/shared/http/httperr"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// sdkSettings is the settings document Segment's browser SDK
// (@segment/analytics-next) loads from its CDN at
// GET {cdnURL}/v1/projects/{writeKey}/settings before it sends anything.
// Only the Segment.io integration is listed, so the SDK loads no
// destination code; metrics are off (their default host is Segment's).
type sdkSettingsDoc struct {
	Integrations      map[string]segmentIOSettings `json:"integrations"`
	EnabledMiddleware map[string]bool              `json:"enabledMiddleware"`
	Metrics           sdkMetrics                   `json:"metrics"`
	RemotePlugins     []any                        `json:"remotePlugins"`
}

// segmentIOSettings tells the SDK where to send events: protocol://apiHost
// followed by /i, /t, /p, ... (apiHost carries the /v1 prefix, as
// Segment's default "api.segment.io/v1" does).
type segmentIOSettings struct {
	APIKey                string   `json:"apiKey"`
	APIHost               string   `json:"apiHost"`
	Protocol              string   `json:"protocol"`
	UnbundledIntegrations []string `json:"unbundledIntegrations"`
	AddBundledMetadata    bool     `json:"addBundledMetadata"`
}

type sdkMetrics struct {
	SampleRate float64 `json:"sampleRate"`
}

// sdkSettings serves the settings document of a write key of an api
// source (a key of aurum.yaml, or a stored key with the ingest scope for
// an api source); any other key is 404. Every answer carries CORS
// headers, so the page's SDK can read the error too.
func (a *API) sdkSettings(w http.ResponseWriter, r *http.Request) error {
	allowSettingsCORS(w)
	key := r.PathValue("writeKey")
	ok, err := a.isWriteKey(r, key)
	if err != nil {
		return err
	}
	if !ok {
		return &apiError{kind: fault.ErrNotFound, code: "not_found", msg: "no api source has this write key"}
	}
	proto, host := a.publicHost(r)
	w.Header().Set("Cache-Control", "public, max-age=60")
	httperr.JSON(w, http.StatusOK, sdkSettingsDoc{
		Integrations: map[string]segmentIOSettings{"Segment.io": {
			APIKey: key, APIHost: host + "/v1", Protocol: proto,
			UnbundledIntegrations: []string{},
		}},
		EnabledMiddleware: map[string]bool{},
		RemotePlugins:     []any{},
	})
	return nil
}

// isWriteKey reports whether key ingests into an api source.
func (a *API) isWriteKey(r *http.Request, key string) (bool, error) {
	if key == "" {
		return false, nil
	}
	p, err := a.identify(r.Context(), key)
	if err != nil || p == nil {
		return false, err
	}
	return p.allows(keys.ScopeIngest) && a.sources[p.source] != nil, nil
}

// publicHost returns the scheme and host (with any path prefix) browsers
// reach the API at: Options.PublicURL, or else the request's Host and
// scheme (TLS, or X-Forwarded-Proto as API Gateway and proxies set it).
func (a *API) publicHost(r *http.Request) (proto, host string) {
	if u, err := url.Parse(a.opts.PublicURL); err == nil && a.opts.PublicURL != "" {
		return u.Scheme, u.Host + strings.TrimSuffix(u.Path, "/")
	}
	proto = "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		proto = "https"
	}
	return proto, r.Host
}

// checkPublicURL refuses a PublicURL that is not an absolute http(s) URL.
func checkPublicURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return fmt.Errorf("api: public URL %q: want http(s)://host[/path]", s)
	}
	return nil
}
