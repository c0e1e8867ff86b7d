package pattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// mandatoryEventFields are the fields the TestEventPattern API requires in
// the event it tests.
var mandatoryEventFields = []string{"id", "account", "source", "time", "region", "resources", "detail-type"}

// TestPattern reports whether eventJSON matches patternJSON, like the
// EventBridge TestEventPattern API and `aws events test-event-pattern`.
//
// As with that API, the event must be a full EventBridge event: a JSON
// object with the string fields id, account, source, time (RFC 3339),
// region and detail-type, and resources, an array of strings; detail, when
// present, must be an object. An invalid pattern or event yields an error
// wrapping fault.ErrInvalid that says what is wrong.
func Test(patternJSON, eventJSON []byte) (bool, error) {
	p, err := Parse(patternJSON)
	if err != nil {
		return false, err
	}
	if err := ValidateEvent(eventJSON); err != nil {
		return false, err
	}
	return p.Match(eventJSON)
}

// ValidateEvent checks that eventJSON is a full EventBridge event, with the
// fields TestEventPattern requires.
func ValidateEvent(eventJSON []byte) error {
	dec := json.NewDecoder(bytes.NewReader(eventJSON))
	dec.UseNumber()
	var ev map[string]any
	if err := dec.Decode(&ev); err != nil {
		return fault.Invalidf("event: must be a JSON object: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fault.Invalidf("event: unexpected data after the event object")
	}
	if ev == nil {
		return fault.Invalidf("event: must be a JSON object")
	}
	for _, name := range mandatoryEventFields {
		v, ok := ev[name]
		if !ok {
			return fault.Invalidf("event: missing mandatory field %q", name)
		}
		if name == "resources" {
			list, ok := v.([]any)
			if !ok {
				return fault.Invalidf("event: field \"resources\" must be an array of strings")
			}
			for _, r := range list {
				if _, ok := r.(string); !ok {
					return fault.Invalidf("event: field \"resources\" must be an array of strings")
				}
			}
			continue
		}
		s, ok := v.(string)
		if !ok {
			return fault.Invalidf("event: field %q must be a string", name)
		}
		if name == "time" {
			if _, err := time.Parse(time.RFC3339, s); err != nil {
				return fault.Invalidf("event: field \"time\" must be an RFC 3339 timestamp such as 2017-12-22T18:43:48Z")
			}
		}
	}
	if v, ok := ev["version"]; ok {
		if _, ok := v.(string); !ok {
			return fault.Invalidf("event: field \"version\" must be a string")
		}
	}
	if v, ok := ev["detail"]; ok {
		if _, ok := v.(map[string]any); !ok {
			return fault.Invalidf("event: field \"detail\" must be a JSON object")
		}
	}
	return nil
}
