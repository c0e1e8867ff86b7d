package destination_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// fake is an Action that remembers the settings it was built from.
type fake struct{ url string }

func (fake) Deliver(context.Context, destination.Delivery) error { return nil }

func fakeKind(name string) destination.Kind {
	return destination.Kind{Name: name, Build: func(a config.TriggerAction) (destination.Action, error) {
		if a.SQS != nil {
			return fake{url: a.SQS.QueueURL}, nil
		}
		return fake{}, nil
	}}
}

func TestRegister(t *testing.T) {
	tests := []struct {
		name  string
		kinds []destination.Kind
		want  string // "" is success
	}{
		{"distinct kinds", []destination.Kind{fakeKind("sqs"), fakeKind("event")}, ""},
		{"twice", []destination.Kind{fakeKind("sqs"), fakeKind("sqs")}, `kind "sqs" is registered twice`},
		{"no name", []destination.Kind{fakeKind("")}, "needs a name and a builder"},
		{"no builder", []destination.Kind{{Name: "sqs"}}, "needs a name and a builder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := destination.NewRegistry(tt.kinds...)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("NewRegistry(%s) = %v; want a registry", tt.name, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("NewRegistry(%s) = %v; want an error containing %q", tt.name, err, tt.want)
			case tt.want == "":
				if got := r.Kinds(); !slices.Equal(got, []string{"event", "sqs"}) {
					t.Errorf("Kinds() = %v; want [event sqs]", got)
				}
			}
		})
	}
}

func TestBuild(t *testing.T) {
	r, err := destination.NewRegistry(fakeKind("sqs"), destination.Kind{Name: "webhook", Build: func(config.TriggerAction) (destination.Action, error) {
		return nil, errors.New("secret: missing")
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		reg     *destination.Registry
		in      config.TriggerAction
		wantErr string
		invalid bool
	}{
		{"registered", r, config.TriggerAction{SQS: &config.SQSAction{QueueURL: "https://q"}}, "", false},
		{"unknown", r, config.TriggerAction{Event: &config.EventAction{}}, `actions[2]: unknown action kind "event" (registered: sqs, webhook)`, true},
		{"nil registry", nil, config.TriggerAction{Event: &config.EventAction{}}, `actions[2]: unknown action kind "event" (registered: none)`, true},
		{"no kind", r, config.TriggerAction{}, "actions[2]: expected exactly one action kind (registered: sqs, webhook)", true},
		{"builder error", r, config.TriggerAction{Webhook: &config.WebhookAction{}}, "actions[2].webhook: secret: missing", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			act, err := tt.reg.Build("actions[2]", tt.in)
			if tt.wantErr == "" {
				if f, ok := act.(fake); err != nil || !ok || f.url != "https://q" {
					t.Fatalf("Build(%s) = %#v, %v; want the fake built from its settings", tt.name, act, err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) || errors.Is(err, fault.ErrInvalid) != tt.invalid {
				t.Errorf("Build(%s) = %v; want an error starting %q (ErrInvalid %v)", tt.name, err, tt.wantErr, tt.invalid)
			}
		})
	}
}
