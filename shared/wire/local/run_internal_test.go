package local

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/adapter/dir"
	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
)

func TestWithDefaults(t *testing.T) {
	var out bytes.Buffer
	for _, tt := range []struct {
		name    string
		in      Options
		wantOut io.Writer
	}{
		{"nothing set", Options{}, io.Discard},
		{"output kept", Options{Out: &out}, &out},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in.withDefaults()
			if got.Out != tt.wantOut {
				t.Errorf("withDefaults().Out = %v; want %v", got.Out, tt.wantOut)
			}
			if got.Logger == nil {
				t.Errorf("withDefaults().Logger = nil; want a logger")
			}
		})
	}
}

func TestPrepareData(t *testing.T) {
	for _, tt := range []struct {
		name      string
		setup     func(t *testing.T, data string)
		wantFresh bool
		wantErr   bool
	}{
		{"new folder", func(*testing.T, string) {}, true, false},
		{"folder with a store", func(t *testing.T, data string) {
			st, err := embedded.OpenData(data)
			if err != nil {
				t.Fatal(err)
			}
			st.Close()
		}, false, false},
		{"bucket is a file", func(t *testing.T, data string) {
			if err := os.MkdirAll(data, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(data, "bucket"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			tt.setup(t, data)
			fresh, err := prepareData(data)
			if (err != nil) != tt.wantErr || fresh != tt.wantFresh {
				t.Fatalf("prepareData() = %v, %v; want fresh %v, error %v", fresh, err, tt.wantFresh, tt.wantErr)
			}
			if err != nil {
				return
			}
			if fi, err := os.Stat(filepath.Join(data, "bucket")); err != nil || !fi.IsDir() {
				t.Errorf("bucket folder: %v; want it created", err)
			}
		})
	}
}

func TestFileSources(t *testing.T) {
	for _, tt := range []struct {
		name    string
		sources []config.Source
		want    []string
	}{
		{"none", nil, nil},
		{"file sources only, in order", []config.Source{
			{Name: "crm", Kind: config.KindFile}, {Name: "web", Kind: config.KindAPI},
			{Name: "shop", Kind: config.KindFile}, {Name: "bus", Kind: config.KindBus},
		}, []string{"crm", "shop"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := fileSources(&config.Config{Sources: tt.sources}); !slices.Equal(got, tt.want) {
				t.Errorf("fileSources() = %v; want %v", got, tt.want)
			}
		})
	}
}

func TestFirstError(t *testing.T) {
	boom := errors.New("boom")
	for _, tt := range []struct {
		name   string
		sent   []error
		cancel bool
		want   error
	}{
		{"a loop fails", []error{boom}, false, boom},
		{"a loop ending cleanly does not stop the others", []error{nil, boom}, false, boom},
		{"ctx done first", nil, true, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			errc := make(chan error, len(tt.sent))
			for _, err := range tt.sent {
				errc <- err
			}
			if tt.cancel {
				cancel()
			}
			if got := firstError(ctx, errc); !errors.Is(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Errorf("firstError() = %v; want %v", got, tt.want)
			}
		})
	}
}

// assembleSample assembles local mode on the repository's sample
// configuration, edited by edit, in a temporary data folder.
func assembleSample(t *testing.T, edit func(*config.Config)) (*instance, error) {
	t.Helper()
	cfg, err := config.Load("../../../aurum.yaml")
	if err != nil {
		t.Fatal(err)
	}
	edit(cfg)
	data := t.TempDir()
	st, err := embedded.OpenData(data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	objs, err := dir.New(filepath.Join(data, "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { objs.Close() })
	return assemble(Options{Data: data}.withDefaults(), cfg, st, objs)
}

func TestAssemble(t *testing.T) {
	t.Run("sample configuration", func(t *testing.T) {
		in, err := assembleSample(t, func(*config.Config) {})
		if err != nil {
			t.Fatalf("assemble() = %v; want local mode wired", err)
		}
		t.Cleanup(func() { in.bus.Close(context.Background()) })
		if in.p == nil || in.s3h == nil || in.handler == nil || in.bus == nil || in.relay == nil || in.triggers == nil || in.sched == nil || in.wake == nil {
			t.Errorf("assemble() left a part unset: %+v", in)
		}
		drop := in.dropFolder(t.Context(), []string{"crm"})
		if want := filepath.Join(in.o.Data, "drop"); drop.Drop != want || drop.Bucket != filepath.Join(in.o.Data, "bucket") || !slices.Equal(drop.Sources, []string{"crm"}) {
			t.Errorf("dropFolder() = drop %s, bucket %s, sources %v; want %s, the bucket folder and [crm]", drop.Drop, drop.Bucket, drop.Sources, want)
		}
	})
	t.Run("subscriber without a pattern gets every Aurum event", func(t *testing.T) {
		in, err := assembleSample(t, func(c *config.Config) {
			c.Subscribers = append(c.Subscribers, config.Subscriber{Name: "all", Print: true})
		})
		if err != nil {
			t.Fatalf("assemble() = %v; want a subscriber without pattern accepted (default: every Aurum event)", err)
		}
		t.Cleanup(func() { in.bus.Close(context.Background()) })
	})
	t.Run("subscriber with a bad pattern", func(t *testing.T) {
		_, err := assembleSample(t, func(c *config.Config) {
			c.Subscribers = append(c.Subscribers, config.Subscriber{Name: "broken", Pattern: config.EventPattern{"source": "not a list"}})
		})
		if err == nil || !strings.Contains(err.Error(), "subscriber broken") {
			t.Errorf("assemble() = %v; want the subscriber's pattern refused", err)
		}
	})
}
