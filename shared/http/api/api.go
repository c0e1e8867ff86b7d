// Package api is Aurum's HTTP API: a Segment-Tracking-API-compatible
// ingestion endpoint (identify, track, page, screen, group, alias, batch),
// signed SaaS webhooks, profile reads, the privacy routes (provenance,
// export, erasure), and a health check.
//
// The API is a plain net/http handler built on the method and path patterns
// of http.ServeMux. Local mode serves it directly; in Lambda, LambdaHandler
// adapts it to API Gateway HTTP API (payload format 2.0) events through
// github.com/awslabs/aws-lambda-go-api-proxy, so both homes run the same
// code.
//
// Tracking calls authenticate with a write key of an api source in
// aurum.yaml (HTTP Basic username, or "writeKey" in the body as Segment
// accepts); the matched source's mapping turns each message into a
// profile.Record, which the Ingester (the pipeline) commits. Profile reads
// need a read key from Options.ReadKeys: a write key never grants reads,
// since write keys ship inside web pages and apps.
//
// Keys carry scopes (ingest, read, erase, admin): write keys of api sources
// ingest; Options.ReadKeys read; Options.AdminKeys read and erase; keys
// stored with `aurum keys` (package keys) carry their own scopes. A key
// of the wrong scope is 403, a missing or unknown one 401. Each key is
// rate-limited per instance (Options.RatePerSecond, 429 when exceeded);
// API Gateway throttling is the global limit. Webhooks authenticate by
// their signature (package inbound), verified before the body is parsed;
// any failure is a bare 401.
//
// Errors are JSON: {"error":{"code":"...","message":"..."}}. Their status is
// decided in one place (statusOf) from the error kinds of package fault.
// Logs carry the method, route pattern, status, duration and counts, never
// request bodies, identifiers or trait values. docs/api.md documents the
// routes for users.
package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/keys"
	"github.com/aurum-cdp/aurum/shared/core/mapping"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/http/httperr"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
	"github.com/aurum-cdp/aurum/shared/source/inbound"
)

// Ingester commits records: the pipeline.
type Ingester interface {
	Ingest(ctx context.Context, recs []profile.Record) (pipeline.Result, error)
}

// Profiles reads golden records; a subset of store.Store.
type Profiles interface {
	// Profile returns the live profile id resolves to (following merge
	// redirects), or an error of kind fault.ErrNotFound.
	Profile(ctx context.Context, id string) (profile.Profile, error)
	// Owners returns the owners of the claimed identifiers among ids.
	Owners(ctx context.Context, ids []profile.Identifier) (map[profile.Identifier]store.Owner, error)
	// Events returns a page of a profile's events, newest first, and the
	// cursor of the next page ("" when there is none).
	Events(ctx context.Context, profileID string, limit int, cursor string) ([]profile.Event, string, error)
}

// SecretResolver reads secrets kept outside aurum.yaml (SSM SecureString
// parameters, Secrets Manager secrets). The API asks it once per reference
// and keeps the SHA-256 of the answer; an implementation should return an
// error of kind fault.ErrNotFound for a missing secret and
// fault.ErrRetryable for a transient failure.
type SecretResolver interface {
	Resolve(ctx context.Context, ref config.SecretRef) (string, error)
}

// Deps are the API's collaborators.
type Deps struct {
	// Ingester receives the records of tracking calls. Required.
	Ingester Ingester
	// Profiles serves profile reads and the alias look-ups. Required.
	Profiles Profiles
	// Secrets resolves SSM and Secrets Manager references. May be nil
	// (local mode): keys that need it are then ignored, with a warning.
	Secrets SecretResolver
	// Privacy serves export and erasure; nil answers those routes with
	// 501.
	Privacy Privacy
	// Keys holds the keys stored with `aurum keys`; nil: only the keys
	// of aurum.yaml and Options authenticate.
	Keys keys.Store
	// Observer, if set, sees every message of the tracking routes as
	// received (the raw message, its record and the mapping's field
	// errors, rejected messages included) and every item of a webhook
	// (its record and field errors; nil row), and is flushed after each
	// request: the data catalog (*catalog.Observer). Ingester should then
	// not catalogue the same records again.
	Observer Observer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives one line per request; nil discards.
	Logger *slog.Logger
}

// Observer sees the messages of ingestion requests; *catalog.Observer
// implements it. Observe must not keep row or rec; a failed Flush is
// logged and does not fail the request.
type Observer interface {
	Observe(source string, row map[string]any, rec profile.Record, errs []mapping.FieldError)
	Flush(ctx context.Context) error
}

// Default limits, as Segment documents them for its Tracking API.
const (
	DefaultMaxEventBytes    = 32 << 10
	DefaultMaxBatchBytes    = 500 << 10
	DefaultMaxBatchMessages = 2500
	DefaultMaxContextBytes  = 2 << 10
	DefaultEventsPageSize   = 50
	MaxEventsPageSize       = 500
	DefaultMaxWebhookBytes  = 1 << 20
	DefaultRatePerSecond    = 100
	DefaultRateBurst        = 200
)

// Options tune the API. The zero value is usable: limits take their
// defaults and profile reads are refused until read keys are configured.
type Options struct {
	// MaxEventBytes bounds one message (a single call's body, or one item
	// of a batch), uncompressed. Default 32 KiB.
	MaxEventBytes int
	// MaxBatchBytes bounds a batch request body, uncompressed. Default
	// 500 KiB.
	MaxBatchBytes int
	// MaxBatchMessages bounds the number of messages in a batch. Default
	// 2500.
	MaxBatchMessages int
	// MaxContextBytes bounds the encoded size of a message's context
	// (without context.traits) kept on its event under the reserved
	// property "_context"; a larger context is not kept. Default 2 KiB;
	// a negative value never keeps it.
	MaxContextBytes int
	// ReadKeys authenticate profile reads (Bearer token or HTTP Basic
	// username). Without read keys, reads are refused with 401 unless
	// AllowUnauthenticatedReads is set.
	ReadKeys []config.SecretRef
	// AllowUnauthenticatedReads lets requests from a loopback address
	// read profiles without a key (local mode on 127.0.0.1) when their
	// Host is 127.0.0.1, localhost or [::1] with the listen port; another
	// Host (DNS rebinding) is 403. Requests from any other address still
	// need a read key.
	AllowUnauthenticatedReads bool
	// PublicURL is the API's base URL as browsers reach it
	// ("https://track.example.com", with a stage path if any). The
	// settings document of the browser SDK points its apiHost there;
	// empty derives it from each request's Host and scheme.
	PublicURL string
	// AdminKeys authenticate reads and erasure (scopes read, erase,
	// admin).
	AdminKeys []config.SecretRef
	// MaxWebhookBytes bounds a webhook body. Default 1 MiB.
	MaxWebhookBytes int
	// RatePerSecond and RateBurst shape the token bucket of each key (and
	// of each webhook source) in this process: the limit is per instance.
	// Defaults 100 and 200; a negative RatePerSecond turns limiting off.
	RatePerSecond float64
	RateBurst     int
	// Mounts are further routes (the segment routes, ...) served behind the
	// same read authentication, logging and error handling.
	Mounts []Mount
}

func (o *Options) setDefaults() {
	if o.MaxEventBytes <= 0 {
		o.MaxEventBytes = DefaultMaxEventBytes
	}
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if o.MaxBatchMessages <= 0 {
		o.MaxBatchMessages = DefaultMaxBatchMessages
	}
	if o.MaxContextBytes == 0 {
		o.MaxContextBytes = DefaultMaxContextBytes
	}
	if o.MaxWebhookBytes <= 0 {
		o.MaxWebhookBytes = DefaultMaxWebhookBytes
	}
	if o.RatePerSecond == 0 {
		o.RatePerSecond = DefaultRatePerSecond
	}
	if o.RateBurst <= 0 {
		o.RateBurst = DefaultRateBurst
	}
}

// rowMapper is what the API needs of a source's mapping.
type rowMapper interface {
	Map(row map[string]any) (profile.Record, []mapping.FieldError)
}

// apiSource is an api source ready to map messages.
type apiSource struct {
	src    config.Source
	mapper rowMapper
	traits traitFilter
}

// API serves Aurum's HTTP API. It is safe for concurrent use.
type API struct {
	deps      Deps
	opts      Options
	log       *slog.Logger
	sources   map[string]*apiSource
	idTypes   map[string]config.IdentifierType
	writeKeys *keyring
	readKeys  *keyring
	adminKeys *keyring
	hooks     map[string]*inbound.Source
	secrets   *secretCache
	limiter   *limiter
	mux       *http.ServeMux
	patterns  []string
}

// New builds the API for the api and webhook sources among sources (the
// configuration's); idents are the configuration's identifier types. It
// reads the environment variables that write and read keys refer to;
// references to SSM and Secrets Manager are resolved through deps.Secrets
// on first use.
func New(sources []config.Source, idents []config.IdentifierType, deps Deps, opts Options) (*API, error) {
	if deps.Ingester == nil || deps.Profiles == nil {
		return nil, fmt.Errorf("api: Ingester and Profiles are required")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	opts.setDefaults()
	if err := checkPublicURL(opts.PublicURL); err != nil {
		return nil, err
	}
	a := &API{
		deps:    deps,
		opts:    opts,
		log:     deps.Logger,
		sources: make(map[string]*apiSource),
		idTypes: make(map[string]config.IdentifierType),
	}
	for _, t := range idents {
		a.idTypes[t.Name] = t
	}
	a.writeKeys = newKeyring(deps.Secrets)
	for _, s := range sources {
		if s.Kind != config.KindAPI {
			continue
		}
		m, err := mapping.New(&s, idents)
		if err != nil {
			return nil, fmt.Errorf("api: source %s: %w", s.Name, err)
		}
		a.sources[s.Name] = &apiSource{src: s, mapper: m, traits: newTraitFilter(s.AllowedTraits)}
		for i, ref := range s.WriteKeys {
			if err := a.writeKeys.add(ref, s.Name); err != nil {
				a.log.Warn("write key ignored", "source", s.Name, "key", i, "reason", err.Error())
			}
		}
	}
	if err := a.writeKeys.checkUnique(); err != nil {
		return nil, fmt.Errorf("api: write keys: %w", err)
	}
	a.readKeys = newKeyring(deps.Secrets)
	for i, ref := range opts.ReadKeys {
		if err := a.readKeys.add(ref, ""); err != nil {
			a.log.Warn("read key ignored", "key", i, "reason", err.Error())
		}
	}
	a.adminKeys = newKeyring(deps.Secrets)
	for i, ref := range opts.AdminKeys {
		if err := a.adminKeys.add(ref, ""); err != nil {
			a.log.Warn("admin key ignored", "key", i, "reason", err.Error())
		}
	}
	a.hooks = make(map[string]*inbound.Source)
	for i := range sources {
		s := &sources[i]
		if s.Kind != config.KindWebhook {
			continue
		}
		if s.Webhook == nil {
			a.log.Warn("webhook source without a webhook block ignored", "source", s.Name)
			continue
		}
		h, err := inbound.New(s, idents)
		if err != nil {
			return nil, fmt.Errorf("api: %w", err)
		}
		a.hooks[s.Name] = h
	}
	a.secrets = newSecretCache(deps.Secrets, deps.Now)
	a.limiter = newLimiter(opts.RatePerSecond, opts.RateBurst)
	a.mux = a.routes()
	return a, nil
}

// Mount is one further route: Pattern is a ServeMux pattern with a method
// ("GET /v1/segments/{id}"), Handler serves it.
type Mount struct {
	Pattern string
	Handler http.Handler
	// Scope the caller's key needs; default read. Routes that change
	// state (unmerge) need admin.
	Scope string
}

// Handler returns the API's HTTP handler.
func (a *API) Handler() http.Handler { return a.mux }

// Routes returns the patterns ("METHOD /path") of every route served,
// sorted: the tracking, webhook, profile, privacy and health routes and
// the mounts. docs/openapi.yaml describes exactly these (a test checks).
func (a *API) Routes() []string { return slices.Clone(a.patterns) }

// trackingCalls maps the path segment of each tracking route to its call
// type: the full names, analytics.js's one-letter forms, and /v1/import
// (the batch route of older analytics-go releases).
var trackingCalls = map[string]string{
	"identify": "identify", "i": "identify",
	"track": "track", "t": "track",
	"page": "page", "p": "page",
	"screen": "screen", "s": "screen",
	"group": "group", "g": "group",
	"alias": "alias", "a": "alias",
	"batch": "batch", "b": "batch", "import": "batch",
}

func (a *API) routes() *http.ServeMux {
	mux := http.NewServeMux()
	allowed := make(map[string][]string) // path → methods, for 405 answers
	handle := func(method, path string, h handlerFunc) {
		pattern := method + " " + path
		mux.Handle(pattern, a.instrument(pattern, h))
		allowed[path] = append(allowed[path], method)
		a.patterns = append(a.patterns, pattern)
	}
	for seg, call := range trackingCalls {
		path := "/v1/" + seg
		handle(http.MethodPost, path, a.tracking(call))
		handle(http.MethodOptions, path, a.preflight)
	}
	handle(http.MethodGet, "/v1/profiles", a.profileByIdentifier)
	handle(http.MethodGet, "/v1/profiles/{id}", a.profileByID)
	handle(http.MethodGet, "/v1/profiles/{id}/events", a.profileEvents)
	handle(http.MethodGet, "/v1/profiles/{id}/provenance", a.profileProvenance)
	handle(http.MethodGet, "/v1/profiles/{id}/export", a.profileExport)
	handle(http.MethodGet, "/v1/profiles/{id}/consent", a.profileConsent)
	handle(http.MethodPut, "/v1/profiles/{id}/consent", a.putConsent)
	handle(http.MethodDelete, "/v1/profiles/{id}", a.profileErase)
	handle(http.MethodPost, "/v1/webhooks/{source}", a.webhook)
	handle(http.MethodGet, "/v1/projects/{writeKey}/settings", a.sdkSettings)
	handle(http.MethodGet, "/healthz", a.health)
	for _, m := range a.opts.Mounts {
		// Registered without a 405 fallback: a method-less pattern such as
		// "/v1/segments/preview" would conflict with "GET /v1/segments/{id}".
		h, scope := m.Handler, m.Scope
		if scope == "" {
			scope = keys.ScopeRead
		}
		mux.Handle(m.Pattern, a.instrument(m.Pattern, func(w http.ResponseWriter, r *http.Request) error {
			if err := a.authorize(r.Context(), r, scope); err != nil {
				return err
			}
			h.ServeHTTP(w, r)
			return nil
		}))
		a.patterns = append(a.patterns, m.Pattern)
	}
	slices.Sort(a.patterns)
	for path, methods := range allowed {
		mux.Handle(path, a.instrument(path, methodNotAllowed(methods)))
	}
	mux.Handle("/", a.instrument("/", func(w http.ResponseWriter, r *http.Request) error {
		return &apiError{status: http.StatusNotFound, code: "not_found", msg: "no such route"}
	}))
	return mux
}

func (a *API) health(w http.ResponseWriter, r *http.Request) error {
	httperr.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}
