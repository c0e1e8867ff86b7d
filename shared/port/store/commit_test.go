package store_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

func TestApplied(t *testing.T) {
	stopped := &store.CommitError{Applied: 2, Err: fmt.Errorf("change 2: %w", fault.ErrConflict)}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"all committed", nil, 5},
		{"stopped at change 2", stopped, 2},
		{"stopped, wrapped by the caller", fmt.Errorf("commit: %w", stopped), 2},
		{"a count above the changes given", &store.CommitError{Applied: 9, Err: fault.ErrConflict}, 5},
		{"an error that does not count", fault.ErrConflict, 0},
		{"a transport error", errors.New("connection reset"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := store.Applied(tt.err, 5); got != tt.want {
				t.Errorf("Applied(%v, 5) = %d; want %d", tt.err, got, tt.want)
			}
		})
	}
	if !errors.Is(stopped, fault.ErrConflict) || stopped.Error() != "change 2: conflict" {
		t.Errorf("CommitError = %q, Is(ErrConflict) %v; want its cause's message and kind", stopped.Error(), errors.Is(stopped, fault.ErrConflict))
	}
}
