package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/port/store"
)

// claims is a Forgetter that only claims kinds.
type claims []string

func (c claims) Kinds() []string { return c }
func (claims) Forget(context.Context, store.ItemStore, store.Subject) (store.Forgotten, error) {
	return store.Forgotten{}, nil
}
func (claims) Export(context.Context, store.ItemStore, store.Subject) (map[string]any, error) {
	return nil, nil
}

func TestClaims(t *testing.T) {
	tests := []struct {
		name    string
		fs      []store.Forgetter
		want    int    // kinds claimed
		wantErr string // part of the error; "" for none
	}{
		{"none", nil, 0, ""},
		{"disjoint", []store.Forgetter{claims{"a.x", "a.y"}, claims{"b.x"}}, 3, ""},
		{"claimed twice", []store.Forgetter{claims{"a.x"}, claims{"b.x", "a.x"}}, 0, "a.x is claimed by"},
		{"empty kind", []store.Forgetter{claims{""}}, 0, "empty kind"},
		{"nil forgetter", []store.Forgetter{claims{"a.x"}, nil}, 0, "forgetter 1 is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := store.Claims(tt.fs)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Claims() = %v, %v; want an error with %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || len(got) != tt.want {
				t.Fatalf("Claims() = %d kinds, %v; want %d, nil", len(got), err, tt.want)
			}
			for _, f := range tt.fs {
				for _, k := range f.Kinds() {
					if got[k] == nil {
						t.Errorf("Claims()[%s] = nil; want its forgetter", k)
					}
				}
			}
		})
	}
}

func TestSubjectHolds(t *testing.T) {
	s := store.Subject{ProfileIDs: []string{"p_live", "p_merged"}}
	for id, want := range map[string]bool{"p_live": true, "p_merged": true, "p_other": false, "": false} {
		if got := s.Holds(id); got != want {
			t.Errorf("Holds(%q) = %v; want %v", id, got, want)
		}
	}
}
