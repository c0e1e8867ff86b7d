package main

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/aurum-cdp/aurum/shared/wire/app"
	"github.com/aurum-cdp/aurum/shared/wire/local"
)

func runLocal(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("local", "[--config aurum.yaml] [--data .aurum] [--addr 127.0.0.1:8080] [--samples DIR]", stderr)
	cfg := fs.String("config", "aurum.yaml", "configuration file")
	data := fs.String("data", ".aurum", "data folder: embedded store, local bucket, drop folder")
	addr := fs.String("addr", "127.0.0.1:8080", "HTTP listen address")
	samples := fs.String("samples", "", "on first run, drop the files of this folder's <source>/ sub-folders")
	poll := fs.Duration("poll", 300*time.Millisecond, "drop folder poll interval")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// The terminal shows progress lines; structured logs only for warnings
	// unless asked for (AURUM_LOG_LEVEL=info|debug).
	if os.Getenv("AURUM_LOG_LEVEL") == "" {
		os.Setenv("AURUM_LOG_LEVEL", "warn")
	}
	return local.Run(ctx, local.Options{
		ConfigPath: *cfg,
		Data:       *data,
		Addr:       *addr,
		Samples:    *samples,
		Out:        stdout,
		Logger:     app.NewLogger(os.Stderr),
		Poll:       *poll,
	})
}
