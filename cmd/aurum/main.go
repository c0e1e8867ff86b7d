// Command aurum is Aurum's command-line tool: it runs the whole platform
// locally (aurum local), checks configurations, generates test data and
// helps operate a deployment.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{
	"local":        {"run the whole platform on this machine (HTTP API, drop folder, embedded store, bus)", runLocal},
	"validate":     {"check an aurum.yaml; errors name file:line:column", runValidate},
	"schema":       {"print the JSON Schema of aurum.yaml", runSchema},
	"compile":      {"compile the segments of an aurum.yaml ahead of time (make build puts them beside every bootstrap)", runCompile},
	"gen":          {"generate dirty sample sources with ground truth", runGen},
	"bus":          {"event bus tools: test-pattern", runBus},
	"segments":     {"segment tools: check, preview, counts, reconcile, sweep, rfm", runSegments},
	"resolve":      {"resolve files offline into profiles (batch identity resolution, --diff, --explain)", runResolve},
	"stats":        {"statistics: identity (matches per rule, merges, blocked merges)", runStats},
	"catalog":      {"data catalog: per source and field, type, completeness, distinct, invalid rates; alerts", runCatalog},
	"keys":         {"API keys in the local store: create (printed once), list, revoke", runKeys},
	"destinations": {"destinations: list, sync NAME (full audience re-sync from the local store)", runDestinations},
	"unmerge":      {"split a profile of the local store by withdrawing a record or a link", runUnmerge},
}

// errUsage marks errors already explained by a usage message.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, errUsage), errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "aurum:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		return errUsage
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "aurum: unknown command %q\n\n", args[0])
		usage(stderr)
		return errUsage
	}
	return cmd.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: aurum <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'aurum <command> -h' for a command's flags.")
}

// flags returns a FlagSet that prints its errors and usage to stderr.
func flags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("aurum "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: aurum %s %s\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}
