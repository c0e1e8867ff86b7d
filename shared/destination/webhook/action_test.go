package webhook_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/destination/webhook"
)

// doer records requests.
type doer struct{ reqs []webhook.Request }

func (d *doer) Send(_ context.Context, r webhook.Request) error {
	d.reqs = append(d.reqs, r)
	return nil
}

// resolver resolves env references from a map.
type resolver map[string]string

func (r resolver) Resolve(_ context.Context, ref config.SecretRef) (string, error) {
	if v, ok := r[ref.Env]; ok {
		return v, nil
	}
	return "", errors.New("not set")
}

func TestKindBuild(t *testing.T) {
	ok := &config.WebhookAction{URL: "https://x", Secret: &config.SecretRef{Env: "S"}}
	tests := []struct {
		name    string
		sender  webhook.Doer
		secrets webhook.SecretResolver
		cfg     *config.WebhookAction
		want    string
	}{
		{"no sender", nil, resolver{}, ok, "no webhook sender"},
		{"no resolver", &doer{}, nil, ok, "no webhook sender or secret resolver"},
		{"no secret", &doer{}, resolver{}, &config.WebhookAction{URL: "https://x"}, "secret: missing"},
		{"bad timeout", &doer{}, resolver{}, &config.WebhookAction{URL: "https://x", Secret: &config.SecretRef{Env: "S"}, Timeout: "soon"}, "timeout:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := webhook.Kind(tt.sender, tt.secrets).Build(config.TriggerAction{Webhook: tt.cfg})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Build(%s) = %v; want an error containing %q", tt.name, err, tt.want)
			}
		})
	}
}

func TestKindDeliver(t *testing.T) {
	tests := []struct {
		name    string
		secrets resolver
		wantErr bool
	}{
		{"secret resolved", resolver{"S": "whsec_1"}, false},
		{"secret missing", resolver{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &doer{}
			cfg := &config.WebhookAction{URL: "https://x/y", Method: "PUT", Headers: map[string]string{"X-Team": "growth"},
				Secret: &config.SecretRef{Env: "S"}, SignatureHeader: "X-Sig", Timeout: "3s", Body: `{"a": 1}`}
			act, err := webhook.Kind(d, tt.secrets).Build(config.TriggerAction{Webhook: cfg})
			if err != nil {
				t.Fatal(err)
			}
			if tp, ok := act.(destination.Templated); !ok || tp.BodyTemplate() != cfg.Body {
				t.Errorf("action templated %v; want its body template %q", ok, cfg.Body)
			}
			err = act.Deliver(context.Background(), destination.Delivery{ID: "f1", ProfileID: "p1", Body: []byte(`{"b":2}`)})
			if tt.wantErr {
				if err == nil || len(d.reqs) != 0 {
					t.Errorf("Deliver with %s = %v, %d requests; want an error and nothing sent", tt.name, err, len(d.reqs))
				}
				return
			}
			if err != nil || len(d.reqs) != 1 {
				t.Fatalf("Deliver = %v, %d requests; want one request", err, len(d.reqs))
			}
			r := d.reqs[0]
			if r.URL != cfg.URL || r.Method != "PUT" || r.Headers["X-Team"] != "growth" || string(r.Body) != `{"b":2}` ||
				string(r.Secret) != "whsec_1" || r.SignatureHeader != "X-Sig" || r.DeliveryID != "f1" || r.Timeout != 3*time.Second {
				t.Errorf("request = %+v; want the configuration, the delivery's body and id, the resolved secret", r)
			}
		})
	}
}
