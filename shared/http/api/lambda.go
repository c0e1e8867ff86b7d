package api

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// LambdaHandler adapts h to API Gateway HTTP API events (payload format
// 2.0): functions/api passes it to lambda.Start. Base64 bodies (gzip
// uploads) are decoded and the caller's source IP becomes the request's
// RemoteAddr.
func LambdaHandler(h http.Handler) func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return httpadapter.NewV2(h).ProxyWithContext
}
