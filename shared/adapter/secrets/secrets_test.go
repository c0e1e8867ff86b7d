package secrets_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/aurum-cdp/aurum/shared/adapter/secrets"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

type fakeSSM struct{ calls int }

func (f *fakeSSM) GetParameter(ctx context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	f.calls++
	if *in.Name != "/aurum/key" {
		return nil, &ssmtypes.ParameterNotFound{}
	}
	if !aws.ToBool(in.WithDecryption) {
		return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Value: aws.String("ciphertext")}}, nil
	}
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Value: aws.String("from-ssm")}}, nil
}

type fakeSM struct{}

func (fakeSM) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String("from-sm:" + *in.SecretId)}, nil
}

func TestResolve(t *testing.T) {
	env := map[string]string{"AURUM_KEY": "from-env"}
	s := &fakeSSM{}
	r := secrets.New(s, fakeSM{}, func(k string) string { return env[k] })
	tests := []struct {
		name    string
		ref     config.SecretRef
		want    string
		wantErr error
	}{
		{"env", config.SecretRef{Env: "AURUM_KEY"}, "from-env", nil},
		{"env unset", config.SecretRef{Env: "NOPE"}, "", fault.ErrNotFound},
		{"ssm decrypted", config.SecretRef{SSM: "/aurum/key"}, "from-ssm", nil},
		{"ssm missing", config.SecretRef{SSM: "/aurum/other"}, "", fault.ErrNotFound},
		{"secrets manager", config.SecretRef{SecretsManager: "hook"}, "from-sm:hook", nil},
		{"hash has no value", config.SecretRef{SHA256: "ab"}, "", fault.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.Resolve(context.Background(), tt.ref)
			if tt.wantErr != nil {
				if !fault.Is(err, tt.wantErr) {
					t.Fatalf("Resolve(%+v) error = %v; want %v", tt.ref, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Resolve(%+v) = %q, %v; want %q", tt.ref, got, err, tt.want)
			}
		})
	}
	before := s.calls
	if _, err := r.Resolve(context.Background(), config.SecretRef{SSM: "/aurum/key"}); err != nil {
		t.Fatal(err)
	}
	if s.calls != before {
		t.Errorf("second Resolve called SSM again (%d calls; want %d): values must be cached", s.calls, before)
	}
}
