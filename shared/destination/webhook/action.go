package webhook

import (
	"context"
	"fmt"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
)

// KindName is the action's key in aurum.yaml.
const KindName = "webhook"

// Doer sends one signed request with its own retries; *Sender does.
type Doer interface {
	Send(ctx context.Context, r Request) error
}

// SecretResolver resolves secret references; *secrets.Resolver does.
type SecretResolver interface {
	Resolve(ctx context.Context, ref config.SecretRef) (string, error)
}

// Kind is the signed-webhook action kind: each delivery resolves the
// signing secret by reference and sends the body through sender, with the
// delivery id as X-Aurum-Delivery.
func Kind(sender Doer, secrets SecretResolver) destination.Kind {
	return destination.Kind{Name: KindName, Build: func(a config.TriggerAction) (destination.Action, error) {
		return newAction(a.Webhook, sender, secrets)
	}}
}

// action is one configured webhook action.
type action struct {
	cfg     *config.WebhookAction
	timeout time.Duration
	sender  Doer
	secrets SecretResolver
}

func newAction(w *config.WebhookAction, sender Doer, secrets SecretResolver) (*action, error) {
	if sender == nil || secrets == nil {
		return nil, fmt.Errorf("no webhook sender or secret resolver configured")
	}
	if w.Secret == nil {
		return nil, fmt.Errorf("secret: missing; webhooks are signed")
	}
	a := &action{cfg: w, sender: sender, secrets: secrets}
	if w.Timeout != "" {
		var err error
		if a.timeout, err = config.ParseDuration(w.Timeout); err != nil {
			return nil, fmt.Errorf("timeout: %w", err)
		}
	}
	return a, nil
}

// BodyTemplate makes the action destination.Templated.
func (a *action) BodyTemplate() string { return a.cfg.Body }

// Deliver sends d.Body signed with the resolved secret.
func (a *action) Deliver(ctx context.Context, d destination.Delivery) error {
	secret, err := a.secrets.Resolve(ctx, *a.cfg.Secret)
	if err != nil {
		return fmt.Errorf("resolve signing secret: %w", err)
	}
	w := a.cfg
	return a.sender.Send(ctx, Request{
		Method: w.Method, URL: w.URL, Headers: w.Headers, Body: d.Body, Secret: []byte(secret),
		SignatureHeader: w.SignatureHeader, TimestampHeader: w.TimestampHeader,
		DeliveryID: d.ID, Timeout: a.timeout,
	})
}
