package app

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aurum-cdp/aurum/shared/core/activation"
	"github.com/aurum-cdp/aurum/shared/core/segment"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/destination/adaudience/googleads"
	"github.com/aurum-cdp/aurum/shared/destination/adaudience/meta"
	"github.com/aurum-cdp/aurum/shared/destination/braze"
	"github.com/aurum-cdp/aurum/shared/destination/event"
	"github.com/aurum-cdp/aurum/shared/destination/httpjson"
	"github.com/aurum-cdp/aurum/shared/destination/hubspot"
	"github.com/aurum-cdp/aurum/shared/destination/klaviyo"
	"github.com/aurum-cdp/aurum/shared/destination/mailchimp"
	"github.com/aurum-cdp/aurum/shared/destination/salesforce"
	sqsaction "github.com/aurum-cdp/aurum/shared/destination/sqs"
	"github.com/aurum-cdp/aurum/shared/destination/webhook"
)

// Presets is the registry of destination kinds, the one place they are
// listed: the HTTP presets, the generic http kind, and the action kinds
// that are destinations too. A new kind is one more entry.
func Presets() (*destination.Presets, error) {
	return destination.NewPresets(
		hubspot.Preset(),
		braze.Preset(),
		klaviyo.Preset(),
		mailchimp.Preset(),
		salesforce.Preset(),
		httpjson.Preset(),
		googleads.Preset(),
		meta.Preset(),
		webhook.Preset(),
		sqsaction.Preset(),
		event.Preset(),
	)
}

// Destinations builds the runner of the configuration's destinations over
// the platform's store and secrets. Action kinds used as destinations
// come from tp (SQS sender, HTTP client); tp.Deliverer carries batches
// (nil: activation.PassThrough).
func (p *Platform) Destinations(tp TriggerParts) (*activation.Runner, error) {
	base, err := p.baseKinds(tp)
	if err != nil {
		return nil, err
	}
	presets, err := Presets()
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	client := tp.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	d := activation.Deps{
		Presets:   presets,
		Env:       destination.Env{HTTP: client, Secrets: p.Secrets, Actions: base, Clock: p.Clock},
		Deliverer: tp.Deliverer,
	}
	if p.Store != nil {
		d.Profiles, d.State = p.Store, p.Store
		d.Members = func(ctx context.Context, seg string, fn func(string) error) error {
			return segment.Members(ctx, p.Store, seg, fn)
		}
	}
	var cfg = p.Config
	if cfg == nil {
		return activation.New(nil, d, activation.Options{Clock: p.Clock, Logger: p.Logger})
	}
	r, err := activation.New(cfg.Destinations, d, activation.Options{Clock: p.Clock, Logger: p.Logger})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	return r, nil
}
