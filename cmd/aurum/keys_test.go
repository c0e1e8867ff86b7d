package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/adapter/dynamo/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// TestDynamoKeysCommand manages the keys of a deployment's table (here on
// DynamoDB Local, reached through the standard endpoint override, as an
// operator would reach AWS): create prints a key once, list shows it, and
// revoke marks it revoked.
func TestDynamoKeysCommand(t *testing.T) {
	endpoint := dynamotest.Endpoint(t)
	key := dynamotest.NewAccessKey()
	table := dynamotest.NewTable(t, dynamotest.ClientFor(t, key))
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", key)
	t.Setenv("AWS_SECRET_ACCESS_KEY", dynamotest.SecretKey)
	t.Setenv("AWS_REGION", dynamotest.Region)
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	ctx := context.Background()

	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"keys", "create", "--table", table, "--scopes", "erase", "--name", "dpo"}, &out, &errOut); err != nil {
		t.Fatalf("keys create: %v\n%s", err, errOut.String())
	}
	token := strings.TrimSpace(out.String())
	if !strings.HasPrefix(token, "ak_") {
		t.Fatalf("keys create printed %q; want a key ak_...", token)
	}
	out.Reset()
	if err := run(ctx, []string{"keys", "list", "--table", table}, &out, &errOut); err != nil {
		t.Fatalf("keys list: %v", err)
	}
	if strings.Contains(out.String(), token) {
		t.Errorf("keys list shows the secret key; it must be shown once, at creation")
	}
	fields := strings.Fields(strings.Split(out.String(), "\n")[1])
	if len(fields) < 3 || fields[1] != "dpo" || fields[2] != "erase" {
		t.Fatalf("keys list = %q; want the dpo key with scope erase", out.String())
	}
	id := fields[0]
	out.Reset()
	if err := run(ctx, []string{"keys", "revoke", "--table", table, "--id", id}, &out, &errOut); err != nil {
		t.Fatalf("keys revoke: %v", err)
	}
	out.Reset()
	if err := run(ctx, []string{"keys", "list", "--table", table}, &out, &errOut); err != nil {
		t.Fatalf("keys list: %v", err)
	}
	if line := strings.Split(out.String(), "\n")[1]; strings.HasSuffix(strings.TrimSpace(line), "-") {
		t.Errorf("after revoke, keys list = %q; want a revocation time", line)
	}
}
