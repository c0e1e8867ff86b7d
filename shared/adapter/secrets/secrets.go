// Package secrets resolves config.SecretRef values: environment variables
// in local mode, SSM SecureString parameters and Secrets Manager secrets in
// AWS. Configuration only ever names a secret; its value lives here, in
// memory, and is never logged.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// SSM is the part of the SSM client the resolver uses.
type SSM interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// SecretsManager is the part of the Secrets Manager client the resolver uses.
type SecretsManager interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Resolver resolves secret references and caches the values for the life
// of the process (a rotated secret takes effect at the next cold start).
type Resolver struct {
	ssm   SSM
	sm    SecretsManager
	env   func(string) string
	mu    sync.Mutex
	cache map[config.SecretRef]string
}

// New builds a resolver. Either client may be nil, and references of that
// kind then fail; env defaults to os.Getenv.
func New(ssmClient SSM, sm SecretsManager, env func(string) string) *Resolver {
	if env == nil {
		env = os.Getenv
	}
	return &Resolver{ssm: ssmClient, sm: sm, env: env, cache: map[config.SecretRef]string{}}
}

// Resolve returns the secret ref names. A reference by hash (SHA256) has no
// value to resolve and is an ErrInvalid error: compare hashes instead.
func (r *Resolver) Resolve(ctx context.Context, ref config.SecretRef) (string, error) {
	r.mu.Lock()
	v, ok := r.cache[ref]
	r.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := r.fetch(ctx, ref)
	if err != nil {
		return "", err
	}
	r.mu.Lock()
	r.cache[ref] = v
	r.mu.Unlock()
	return v, nil
}

func (r *Resolver) fetch(ctx context.Context, ref config.SecretRef) (string, error) {
	switch {
	case ref.Env != "":
		v := r.env(ref.Env)
		if v == "" {
			return "", fmt.Errorf("secrets: environment variable %s is empty or unset: %w", ref.Env, fault.ErrNotFound)
		}
		return v, nil
	case ref.SSM != "":
		if r.ssm == nil {
			return "", fmt.Errorf("secrets: ssm parameter %s: no SSM client: %w", ref.SSM, fault.ErrInvalid)
		}
		out, err := r.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(ref.SSM), WithDecryption: aws.Bool(true)})
		if err != nil {
			return "", fmt.Errorf("secrets: ssm parameter %s: %w", ref.SSM, kind(err))
		}
		if out.Parameter == nil || out.Parameter.Value == nil {
			return "", fmt.Errorf("secrets: ssm parameter %s has no value: %w", ref.SSM, fault.ErrNotFound)
		}
		return *out.Parameter.Value, nil
	case ref.SecretsManager != "":
		if r.sm == nil {
			return "", fmt.Errorf("secrets: secret %s: no Secrets Manager client: %w", ref.SecretsManager, fault.ErrInvalid)
		}
		out, err := r.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(ref.SecretsManager)})
		if err != nil {
			return "", fmt.Errorf("secrets: secret %s: %w", ref.SecretsManager, kind(err))
		}
		if out.SecretString == nil {
			return "", fmt.Errorf("secrets: secret %s has no string value: %w", ref.SecretsManager, fault.ErrNotFound)
		}
		return *out.SecretString, nil
	default:
		return "", fmt.Errorf("secrets: reference names no secret to fetch: %w", fault.ErrInvalid)
	}
}

// kind maps SDK errors to fault kinds.
func kind(err error) error {
	var pnf *ssmtypes.ParameterNotFound
	var rnf *smtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &pnf), errors.As(err, &rnf):
		return fmt.Errorf("%w: %w", fault.ErrNotFound, err)
	default:
		return fmt.Errorf("%w: %w", fault.ErrRetryable, err)
	}
}

// NewFromConfig returns a Resolver with SSM and Secrets Manager clients
// built from the AWS SDK configuration ac, reading env references from
// the process environment.
func NewFromConfig(ac aws.Config) *Resolver {
	return New(ssm.NewFromConfig(ac), secretsmanager.NewFromConfig(ac), nil)
}
