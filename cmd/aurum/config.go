package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/segment"
	"github.com/aurum-cdp/aurum/shared/wire/app"
)

func runValidate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("validate", "[aurum.yaml]", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	path := configArg(fs.Args())
	cfg, _, err := loadChecked(path, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok (%d identifier types, %d sources, %d segments, %d triggers)\n",
		path, len(cfg.Identifiers), len(cfg.Sources), len(cfg.Segments), len(cfg.Triggers))
	return nil
}

// configArg is the configuration file named by args, default aurum.yaml.
func configArg(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	return "aurum.yaml"
}

// loadChecked loads the configuration at path and applies the checks of
// a start-up (app.Check: CEL segments and trigger conditions, mappings,
// presets, action kinds, pull connectors, subscriber patterns), printing
// what is wrong to stderr; it returns the compiled segments.
func loadChecked(path string, stderr io.Writer) (*config.Config, *segment.Evaluator, error) {
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, nil, fmt.Errorf("%s is not valid", path)
	}
	if err := app.Check(cfg); err != nil {
		fmt.Fprintln(stderr, err)
		return nil, nil, fmt.Errorf("%s is not valid", path)
	}
	ev, err := segment.New(cfg.Segments, cfg.RFM, segment.Options{})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, nil, fmt.Errorf("%s is not valid", path)
	}
	return cfg, ev, nil
}

func runSchema(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("schema", "", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := config.Schema()
	if err != nil {
		return err
	}
	_, err = stdout.Write(b)
	return err
}

func runCompile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("compile", "--out aurum.segments.json [aurum.yaml]", stderr)
	out := fs.String("out", "aurum.segments.json", "file to write the compiled segments to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	path := configArg(fs.Args())
	_, ev, err := loadChecked(path, stderr)
	if err != nil {
		return err
	}
	pc, err := ev.Precompile()
	if err != nil {
		return err
	}
	b, err := json.Marshal(pc)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return fmt.Errorf("compile: %w", err)
	}
	fmt.Fprintf(stdout, "%s: %d segments compiled into %s\n", path, len(pc.Segments), *out)
	return nil
}
