package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aurum-cdp/aurum/shared/core/normalize"
	"github.com/aurum-cdp/aurum/shared/http/httperr"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// maxProfileIDLen bounds profile ids in paths.
const maxProfileIDLen = 200

// eventsPage is the body of GET /v1/profiles/{id}/events.
type eventsPage struct {
	ProfileID string          `json:"profile_id"`
	Events    []profile.Event `json:"events"`
	// NextCursor fetches the next page; absent on the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

// profileByID serves GET /v1/profiles/{id}. Merged-away ids resolve to the
// surviving profile, whose id the body and Content-Location carry.
func (a *API) profileByID(w http.ResponseWriter, r *http.Request) error {
	p, err := a.readPathProfile(r)
	if err != nil {
		return err
	}
	writeProfile(w, p)
	return nil
}

// readPathProfile authorizes a read and returns the live profile the
// path's id resolves to; an unknown id is a 404 "no such profile".
func (a *API) readPathProfile(r *http.Request) (profile.Profile, error) {
	if err := a.authorizeRead(r.Context(), r); err != nil {
		return profile.Profile{}, err
	}
	id, err := pathID(r)
	if err != nil {
		return profile.Profile{}, err
	}
	p, err := a.deps.Profiles.Profile(r.Context(), id)
	if err != nil {
		return profile.Profile{}, notFoundAs(err, "no such profile", "api: read profile")
	}
	return p, nil
}

// profileByIdentifier serves GET /v1/profiles?identifier=type:value. The
// value is normalized with its type's normalizer first, so
// ?identifier=email:Ann@Example.COM finds ann@example.com. An optional
// region parameter (ISO 3166-1 alpha-2) reads phone numbers written
// without a country code.
func (a *API) profileByIdentifier(w http.ResponseWriter, r *http.Request) error {
	if err := a.authorizeRead(r.Context(), r); err != nil {
		return err
	}
	q := r.URL.Query()
	raw := q.Get("identifier")
	if raw == "" {
		return invalid("identifier query parameter is required (type:value); listing profiles is not supported")
	}
	id, err := profile.ParseIdentifier(raw)
	if err != nil {
		return invalid("identifier: want type:value")
	}
	t, ok := a.idTypes[id.Type]
	if !ok {
		return invalid(fmt.Sprintf("identifier: unknown type %q", id.Type))
	}
	v, err := normalize.Identifier(t.Normalizer, id.Value, normalize.Options{
		GmailDots: t.GmailDots,
		Region:    q.Get("region"),
	})
	if err != nil {
		// normalize errors name the kind and reason, never the value.
		var ne *normalize.Error
		if errors.As(err, &ne) {
			return invalid("identifier: " + ne.Error())
		}
		return invalid("identifier: invalid " + t.Normalizer + " value")
	}
	id.Value = v
	owners, err := a.deps.Profiles.Owners(r.Context(), []profile.Identifier{id})
	if err != nil {
		return fmt.Errorf("api: look up identifier owner: %w", err)
	}
	o, ok := owners[id]
	if !ok || o.ProfileID == "" {
		return &apiError{kind: fault.ErrNotFound, code: "not_found", msg: "no profile has this identifier"}
	}
	p, err := a.deps.Profiles.Profile(r.Context(), o.ProfileID)
	if err != nil {
		return notFoundAs(err, "no profile has this identifier", "api: read profile")
	}
	writeProfile(w, p)
	return nil
}

// profileEvents serves GET /v1/profiles/{id}/events?limit=&cursor=, newest
// first, including the events of profiles merged into it.
func (a *API) profileEvents(w http.ResponseWriter, r *http.Request) error {
	if err := a.authorizeRead(r.Context(), r); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit := DefaultEventsPageSize
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxEventsPageSize {
			return invalid(fmt.Sprintf("limit: want an integer from 1 to %d", MaxEventsPageSize))
		}
		limit = n
	}
	// Resolve merge redirects, and answer 404 for unknown ids.
	p, err := a.deps.Profiles.Profile(r.Context(), id)
	if err != nil {
		return notFoundAs(err, "no such profile", "api: read profile")
	}
	cursor, err := openCursor(q.Get("cursor"))
	if err != nil {
		return err
	}
	evs, next, err := a.deps.Profiles.Events(r.Context(), p.ID, limit, cursor)
	if err != nil {
		if errors.Is(err, fault.ErrInvalid) {
			return invalid("invalid cursor")
		}
		return fmt.Errorf("api: read events: %w", err)
	}
	if evs == nil {
		evs = []profile.Event{}
	}
	httperr.JSON(w, http.StatusOK, eventsPage{ProfileID: p.ID, Events: evs, NextCursor: sealCursor(next)})
	return nil
}

// cursorTagLen is the length of the check tag of an events cursor.
const cursorTagLen = 12

// sealCursor returns the cursor the API hands out for a store cursor: the
// store's, a dot and a check tag. Stores accept many strings as cursors
// (the embedded store reads any long enough base64 as a position), so
// without the tag a mistyped or truncated cursor silently returned the
// first page; with it, any cursor the API did not hand out is a 400.
func sealCursor(storeCursor string) string {
	if storeCursor == "" {
		return ""
	}
	return storeCursor + "." + cursorTag(storeCursor)
}

// openCursor returns the store cursor of an API cursor ("" for none), or
// a 400 "invalid cursor".
func openCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	i := strings.LastIndexByte(c, '.')
	if i <= 0 || subtle.ConstantTimeCompare([]byte(c[i+1:]), []byte(cursorTag(c[:i]))) != 1 {
		return "", invalid("invalid cursor")
	}
	return c[:i], nil
}

func cursorTag(storeCursor string) string {
	h := sha256.Sum256([]byte("aurum events cursor\x00" + storeCursor))
	return hex.EncodeToString(h[:])[:cursorTagLen]
}

func pathID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if id == "" || len(id) > maxProfileIDLen {
		return "", invalid(fmt.Sprintf("profile id: want 1 to %d characters", maxProfileIDLen))
	}
	return id, nil
}

// notFoundAs gives a not-found error a caller-safe message and wraps any
// other error with context.
func notFoundAs(err error, msg, context string) error {
	if errors.Is(err, fault.ErrNotFound) {
		return &apiError{kind: fault.ErrNotFound, code: "not_found", msg: msg}
	}
	return fmt.Errorf("%s: %w", context, err)
}

func writeProfile(w http.ResponseWriter, p profile.Profile) {
	w.Header().Set("Content-Location", "/v1/profiles/"+url.PathEscape(p.ID))
	httperr.JSON(w, http.StatusOK, p)
}
