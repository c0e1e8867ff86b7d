package dynamo_test

import (
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aurum-cdp/aurum/shared/adapter/dynamo"
	"github.com/aurum-cdp/aurum/shared/adapter/dynamo/dynamotest"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/core/pipeline/pipelinetest"
	"github.com/aurum-cdp/aurum/shared/lambda/foldstream"
)

// TestPipelineDelivery runs the pipeline's delivery suite (concurrent
// re-delivery counted exactly, a hot profile without failures) on
// DynamoDB Local: every record committed with its profile, and as app.AWS
// wires it (tracked events of known profiles appended, folded from the
// table's stream by the fold function's handler, the outbox in the
// stream).
func TestPipelineDelivery(t *testing.T) {
	t.Run("Commit", func(t *testing.T) {
		pipelinetest.Run(t, func(t *testing.T) pipelinetest.Target {
			return pipelinetest.Target{Store: newFixture(t, dynamo.Options{}).store}
		})
	})
	t.Run("AWS", func(t *testing.T) {
		pipelinetest.Run(t, func(t *testing.T) pipelinetest.Target {
			f := newFixture(t, dynamo.Options{StreamOutbox: true})
			stream := dynamotest.StreamFor(t, f.accessKey, f.table)
			return pipelinetest.Target{Store: f.store, Appender: f.store, Settle: func(t *testing.T, p *pipeline.Pipeline) {
				fold := lambda.NewHandler(foldstream.New(p, nil).Handle).Invoke
				if _, err := fold(t.Context(), stream.Next(t)); err != nil {
					t.Fatalf("fold of the stream = %v; want nil", err)
				}
			}}
		})
	})
}
