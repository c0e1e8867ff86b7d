package config

import (
	"slices"
	"testing"
)

func TestLookups(t *testing.T) {
	cfg, err := Load("testdata/valid.yaml")
	if err != nil {
		t.Fatalf("Load(testdata/valid.yaml) error: %v", err)
	}

	t.Run("Source", func(t *testing.T) {
		for _, tt := range []struct {
			name   string
			wantOK bool
		}{{"crm", true}, {"shop-hooks", true}, {"nope", false}, {"", false}} {
			s, ok := cfg.Source(tt.name)
			if ok != tt.wantOK || ok && s.Name != tt.name {
				t.Errorf("Source(%q) = %v, %v; want a source named %[1]q: %v", tt.name, s, ok, tt.wantOK)
			}
		}
		s, _ := cfg.Source("crm")
		s.Priority = 99
		if again, _ := cfg.Source("crm"); again.Priority != 99 {
			t.Errorf("Source(crm) returned a copy; want a pointer into Config.Sources")
		}
	})

	t.Run("IdentifierType", func(t *testing.T) {
		it, ok := cfg.IdentifierType("phone")
		if !ok || it.Name != "phone" || it.Normalizer != NormalizerPhone {
			t.Errorf("IdentifierType(phone) = %+v, %v; want the phone type", it, ok)
		}
		if it, ok := cfg.IdentifierType("fax"); ok || it != nil {
			t.Errorf("IdentifierType(fax) = %+v, %v; want nil, false", it, ok)
		}
	})

	t.Run("IdentifierPriority", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			want int
		}{{"customer_id", 0}, {"email", 1}, {"phone", 2}, {"anonymous_id", 3}, {"fax", -1}} {
			if got := cfg.IdentifierPriority(tt.name); got != tt.want {
				t.Errorf("IdentifierPriority(%q) = %d; want %d", tt.name, got, tt.want)
			}
		}
	})

	t.Run("SourcesOfKind", func(t *testing.T) {
		for _, tt := range []struct {
			kind string
			want []string
		}{
			{KindFile, []string{"crm", "orders"}},
			{KindAPI, []string{"web"}},
			{KindWebhook, []string{"shop-hooks"}},
			{KindBus, []string{"billing"}},
			{"ftp", nil},
		} {
			got := cfg.SourcesOfKind(tt.kind)
			var names []string
			for _, s := range got {
				names = append(names, s.Name)
			}
			if !slices.Equal(names, tt.want) {
				t.Errorf("SourcesOfKind(%q) = %v; want %v", tt.kind, names, tt.want)
			}
		}
	})
}

func TestSubscriberEffectivePattern(t *testing.T) {
	tests := []struct {
		name string
		s    Subscriber
		want string
	}{
		{"default", Subscriber{Name: "all"}, `{"source":["aurum"]}`},
		{"own pattern", Subscriber{Name: "p", Pattern: EventPattern{"detail-type": []any{"ProfileUpdated"}}}, `{"detail-type":["ProfileUpdated"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.s.EffectivePattern().Compile()
			if err != nil {
				t.Fatalf("EffectivePattern().Compile() = %v", err)
			}
			if got := p.String(); got != tt.want {
				t.Errorf("EffectivePattern() = %s; want %s", got, tt.want)
			}
		})
	}
}
