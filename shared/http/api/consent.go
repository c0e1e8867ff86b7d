package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/aurum-cdp/aurum/shared/core/consent"
	"github.com/aurum-cdp/aurum/shared/core/keys"
	"github.com/aurum-cdp/aurum/shared/http/httperr"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// maxConsentBody bounds a PUT /v1/profiles/{id}/consent body.
const maxConsentBody = 16 << 10

// consentRequest is the body of PUT /v1/profiles/{id}/consent.
type consentRequest struct {
	// Purposes maps purpose → true (granted) or false (withdrawn).
	Purposes map[string]json.RawMessage `json:"purposes"`
	// ObservedAt is when the person chose (RFC 3339); the server's clock
	// when absent. A time after the request's arrival counts as the
	// arrival (golden.MaxFutureSkew).
	ObservedAt *time.Time `json:"observed_at"`
	// RecordID makes a retried call a no-op; derived from the body and
	// the arrival time when absent.
	RecordID string `json:"record_id"`
}

// consentResponse answers both consent routes.
type consentResponse struct {
	ProfileID string          `json:"profile_id"`
	RecordID  string          `json:"record_id,omitempty"`
	Consent   []consent.State `json:"consent"`
}

// profileConsent serves GET /v1/profiles/{id}/consent: the surviving
// consent of every purpose with its provenance.
func (a *API) profileConsent(w http.ResponseWriter, r *http.Request) error {
	p, err := a.readPathProfile(r)
	if err != nil {
		return err
	}
	httperr.JSON(w, http.StatusOK, consentResponse{ProfileID: p.ID, Consent: nonNil(consent.Of(p))})
	return nil
}

// putConsent serves PUT /v1/profiles/{id}/consent: it records a consent
// observation (grants and withdrawals per purpose) for the person the id
// resolves to, as a record of source "consent" that goes through the
// pipeline like any other, and answers with the profile's consent as the
// record left it. Like every route that changes a profile outside a
// source (unmerge), it needs the admin scope.
func (a *API) putConsent(w http.ResponseWriter, r *http.Request) error {
	if err := a.authorize(r.Context(), r, keys.ScopeAdmin); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	body, err := readBody(w, r, maxConsentBody)
	if err != nil {
		return err
	}
	var req consentRequest
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	purposes, err := consentPurposes(req.Purposes)
	if err != nil {
		return err
	}
	if len(req.RecordID) > maxMessageIDLen {
		return invalid(fmt.Sprintf("record_id: longer than %d characters", maxMessageIDLen))
	}
	p, err := a.deps.Profiles.Profile(r.Context(), id)
	if err != nil {
		return notFoundAs(err, "no such profile", "api: consent")
	}
	if len(p.Identifiers) == 0 {
		return invalid("the profile has no identifier to route a consent record to")
	}
	received := a.deps.Now().UTC()
	observed := received
	if req.ObservedAt != nil {
		observed = *req.ObservedAt
	}
	recID := req.RecordID
	if recID == "" {
		sum := sha256.Sum256(append([]byte(p.ID+"\x00"+strconv.FormatInt(received.UnixNano(), 10)+"\x00"), body...))
		recID = "consent-" + hex.EncodeToString(sum[:12])
	}
	rec := consent.Record(p, recID, purposes, observed, received)
	res, err := a.deps.Ingester.Ingest(r.Context(), []profile.Record{rec})
	if err != nil {
		return fmt.Errorf("api: consent: ingest: %w", err)
	}
	live := p.ID
	if len(res.ProfileIDs) > 0 && res.ProfileIDs[0] != "" {
		live = res.ProfileIDs[0]
	}
	after, err := a.deps.Profiles.Profile(r.Context(), live)
	if err != nil {
		return notFoundAs(err, "no such profile", "api: consent: read back")
	}
	httperr.JSON(w, http.StatusOK, consentResponse{ProfileID: after.ID, RecordID: recID, Consent: nonNil(consent.Of(after))})
	return nil
}

// consentPurposes checks the purposes of a request.
func consentPurposes(raw map[string]json.RawMessage) (map[string]bool, error) {
	if len(raw) == 0 {
		return nil, invalid("purposes: expected an object of purpose → true or false")
	}
	if len(raw) > consent.MaxPurposes {
		return nil, invalid(fmt.Sprintf("purposes: more than %d", consent.MaxPurposes))
	}
	out := make(map[string]bool, len(raw))
	for name, v := range raw {
		purpose, ok := consent.Purpose(name)
		if !ok || purpose != name {
			return nil, invalid(fmt.Sprintf("purposes.%s: a purpose is lower-case letters, digits and _ (at most 64)", name))
		}
		var b bool
		if err := json.Unmarshal(v, &b); err != nil {
			return nil, invalid(fmt.Sprintf("purposes.%s: must be true (granted) or false (withdrawn)", name))
		}
		out[purpose] = b
	}
	return out, nil
}

func nonNil(s []consent.State) []consent.State {
	if s == nil {
		return []consent.State{}
	}
	return s
}
