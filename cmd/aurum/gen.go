package main

import (
	"context"
	"io"

	"github.com/aurum-cdp/aurum/shared/kit/synth"
)

func runGen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return synth.Main(args, stdout)
}
