package embedded_test

import (
	"path/filepath"
	"testing"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/core/pipeline/pipelinetest"
)

// TestPipelineDelivery runs the pipeline's delivery suite (concurrent
// re-delivery counted exactly, a hot profile without failures) on the
// embedded store, as local mode uses it.
func TestPipelineDelivery(t *testing.T) {
	pipelinetest.Run(t, func(t *testing.T) pipelinetest.Target {
		return pipelinetest.Target{Store: open(t, filepath.Join(t.TempDir(), "aurum.db"), embedded.Options{NoSync: true})}
	})
}
