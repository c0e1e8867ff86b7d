package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/core/keys"
)

const keysUsage = "usage: aurum keys create|list|revoke [flags]"

// runKeys manages the API keys stored in the local embedded store, or with
// --table in a deployment's DynamoDB table (AWS credentials and region from
// the environment; AWS_ENDPOINT_URL_DYNAMODB is honoured). A new key is
// printed once, on stdout; it is never logged or stored.
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, keysUsage)
		return errUsage
	}
	sub, rest := args[0], args[1:]
	var synopsis string
	switch sub {
	case "create":
		synopsis = "--scopes ingest,read,erase,admin [--source S] [--name N] [--data DIR | --table T]"
	case "list":
		synopsis = "[--data DIR | --table T] [--json]"
	case "revoke":
		synopsis = "--id ID [--data DIR | --table T]"
	default:
		fmt.Fprintf(stderr, "aurum keys: unknown subcommand %q\n%s\n", sub, keysUsage)
		return errUsage
	}
	fs := flags("keys "+sub, synopsis, stderr)
	data := fs.String("data", ".aurum", "local data folder (holds aurum.db)")
	table := fs.String("table", "", "manage the keys of a deployment: its DynamoDB table (the stack output TableName) instead of --data")
	scopes := fs.String("scopes", "", "comma-separated scopes: "+strings.Join(keys.Scopes, ", "))
	source := fs.String("source", "", "api source an ingest key sends to")
	name := fs.String("name", "", "a label for the key")
	id := fs.String("id", "", "id of the key to revoke (see list)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(rest); err != nil {
		return err
	}
	var st keys.Store
	if *table != "" {
		ac, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return fmt.Errorf("load AWS configuration: %w", err)
		}
		st = dynamo.New(dynamodb.NewFromConfig(ac), *table, dynamo.Options{})
	} else {
		es, err := embedded.OpenData(*data)
		if err != nil {
			return fmt.Errorf("open store: %w", err)
		}
		defer es.Close()
		st = es
	}
	switch sub {
	case "create":
		var list []string
		for _, s := range strings.Split(*scopes, ",") {
			if s = strings.TrimSpace(s); s != "" {
				list = append(list, s)
			}
		}
		tok, k, err := keys.Create(ctx, st, keys.Spec{Name: *name, Scopes: list, Source: *source}, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "created key %s (scopes %s); it is shown once:\n", k.ID, strings.Join(k.Scopes, ","))
		fmt.Fprintln(stdout, tok)
	case "list":
		ks, err := keys.List(ctx, st)
		if err != nil {
			return err
		}
		if *asJSON {
			for i := range ks {
				ks[i].Hash = "" // not needed to manage keys
			}
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(ks)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tSOURCE\tCREATED\tREVOKED")
		for _, k := range ks {
			revoked := "-"
			if !k.RevokedAt.IsZero() {
				revoked = k.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, strings.Join(k.Scopes, ","), k.Source, k.CreatedAt.Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case "revoke":
		if *id == "" {
			fs.Usage()
			return errUsage
		}
		k, err := keys.Revoke(ctx, st, *id, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked key %s at %s\n", k.ID, k.RevokedAt.Format(time.RFC3339))
	}
	return nil
}
