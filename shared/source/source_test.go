package source_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/source"
)

type nopSource struct{ p config.Pull }

func (nopSource) Read(context.Context, string, int) (source.Batch, error) { return source.Batch{}, nil }

func nopConstructor(p config.Pull, _ source.Secrets) (source.Source, error) { return nopSource{p}, nil }

func TestRegister(t *testing.T) {
	r := source.NewRegistry()
	tests := []struct {
		name string
		kind string
		c    source.Constructor
		want error
	}{
		{"new kind", "postgres", nopConstructor, nil},
		{"second kind", "rest-api", nopConstructor, nil},
		{"duplicate", "postgres", nopConstructor, fault.ErrConflict},
		{"bad name", "Postgres", nopConstructor, fault.ErrInvalid},
		{"empty name", "", nopConstructor, fault.ErrInvalid},
		{"no constructor", "mysql", nil, fault.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Register(tt.kind, tt.c)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Register(%q) = %v; want %v", tt.kind, err, tt.want)
			}
		})
	}
	if got := strings.Join(r.Kinds(), ","); got != "postgres,rest-api" {
		t.Errorf("Kinds() = %s; want postgres,rest-api", got)
	}
}

func TestRegistryNew(t *testing.T) {
	r := source.NewRegistry()
	r.MustRegister("postgres", nopConstructor)
	r.MustRegister("failing", func(config.Pull, source.Secrets) (source.Source, error) {
		return nil, fault.Invalidf("option table missing")
	})
	pullSrc := func(connector string) *config.Source {
		return &config.Source{Name: "crm-db", Kind: config.KindPull,
			Pull: &config.Pull{Connector: connector, Schedule: "5m", Options: map[string]any{"table": "t"}}}
	}
	tests := []struct {
		name string
		src  *config.Source
		want string // "" for success, else a substring of the error
	}{
		{"registered", pullSrc("postgres"), ""},
		{"unknown kind", pullSrc("salesforce"), `source crm-db: invalid input: pull.connector "salesforce" is not a registered connector kind (registered: failing, postgres)`},
		{"constructor refuses", pullSrc("failing"), "source crm-db: connector failing: invalid input: option table missing"},
		{"not a pull source", &config.Source{Name: "crm", Kind: config.KindFile}, "not a pull source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := r.New(tt.src, nil)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("New() error = %v; want nil", err)
			case tt.want == "":
				if got := s.(nopSource).p.Options["table"]; got != "t" {
					t.Errorf("constructor got options table = %v; want t", got)
				}
			case err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, fault.ErrInvalid):
				t.Errorf("New() error = %v; want an ErrInvalid containing %q", err, tt.want)
			}
		})
	}
}

func TestDecodeOptions(t *testing.T) {
	type opts struct {
		Table    string           `json:"table"`
		Limit    int              `json:"limit"`
		Password config.SecretRef `json:"password"`
	}
	tests := []struct {
		name string
		in   map[string]any
		want opts
		err  string
	}{
		{"all", map[string]any{"table": "contacts", "limit": uint64(3), "password": map[string]any{"ssm": "/crm/db"}},
			opts{Table: "contacts", Limit: 3, Password: config.SecretRef{SSM: "/crm/db"}}, ""},
		{"none", nil, opts{}, ""},
		{"unknown key", map[string]any{"tabel": "x"}, opts{}, `unknown field "tabel"`},
		{"wrong type", map[string]any{"limit": "many"}, opts{}, "limit: expected int, got string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got opts
			err := source.DecodeOptions(tt.in, &got)
			switch {
			case tt.err == "" && (err != nil || got != tt.want):
				t.Errorf("DecodeOptions(%v) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, fault.ErrInvalid)):
				t.Errorf("DecodeOptions(%v) error = %v; want an ErrInvalid containing %q", tt.in, err, tt.err)
			}
		})
	}
}

type mapSecrets map[string]string

func (m mapSecrets) Resolve(_ context.Context, ref config.SecretRef) (string, error) {
	v, ok := m[ref.Env]
	if !ok {
		return "", fault.ErrNotFound
	}
	return v, nil
}

func TestResolveSecret(t *testing.T) {
	sec := mapSecrets{"DB_PASSWORD": "hunter2"}
	tests := []struct {
		name    string
		secrets source.Secrets
		ref     config.SecretRef
		want    string
		err     error
	}{
		{"resolved", sec, config.SecretRef{Env: "DB_PASSWORD"}, "hunter2", nil},
		{"missing", sec, config.SecretRef{Env: "OTHER"}, "", fault.ErrNotFound},
		{"no reference", sec, config.SecretRef{}, "", fault.ErrInvalid},
		{"no resolver", nil, config.SecretRef{Env: "DB_PASSWORD"}, "", fault.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := source.ResolveSecret(context.Background(), tt.secrets, tt.ref)
			if got != tt.want || (tt.err == nil) != (err == nil) || tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("ResolveSecret(%+v) = %q, %v; want %q, %v", tt.ref, got, err, tt.want, tt.err)
			}
		})
	}
}
