package config

import "testing"

func TestTriggerActionKind(t *testing.T) {
	tests := []struct {
		name string
		in   TriggerAction
		want string
	}{
		{"webhook", TriggerAction{Webhook: &WebhookAction{URL: "https://x"}}, "webhook"},
		{"event", TriggerAction{Event: &EventAction{}}, "event"},
		{"sqs", TriggerAction{SQS: &SQSAction{QueueURL: "https://q"}}, "sqs"},
		{"none", TriggerAction{}, ""},
		{"two", TriggerAction{Event: &EventAction{}, SQS: &SQSAction{}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.Kind(); got != tt.want {
				t.Errorf("Kind(%+v) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}
