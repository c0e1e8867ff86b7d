package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/aurum-cdp/aurum/shared/pattern"
)

func runBus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "test-pattern" {
		fmt.Fprintln(stderr, "usage: aurum bus test-pattern --pattern P.json --event E.json")
		return errUsage
	}
	fs := flags("bus test-pattern", "--pattern P.json --event E.json", stderr)
	pat := fs.String("pattern", "", "EventBridge event pattern (JSON file)")
	ev := fs.String("event", "", "full EventBridge event (JSON file)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *pat == "" || *ev == "" {
		fs.Usage()
		return errUsage
	}
	p, err := os.ReadFile(*pat)
	if err != nil {
		return err
	}
	e, err := os.ReadFile(*ev)
	if err != nil {
		return err
	}
	ok, err := pattern.Test(p, e)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, ok)
	return nil
}
