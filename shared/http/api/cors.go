package api

import (
	"net/http"
	"strings"
)

// corsAllowHeaders are the request headers a browser may send to the
// tracking routes: every header an official Segment SDK sets
// (@segment/analytics-next: Content-Type, Authorization and, on retries,
// X-Retry-Count; analytics-node and the mobile SDKs add User-Agent) and
// Content-Encoding for gzipped bodies. A header missing here makes the
// browser block the request before it is sent.
var corsAllowHeaders = strings.Join([]string{
	"Authorization", "Content-Type", "Content-Encoding", "X-Retry-Count", "User-Agent",
}, ", ")

// corsExposeHeaders are the response headers the SDKs read across
// origins: Retry-After decides when analytics-next retries a 429 or 503.
const corsExposeHeaders = "Retry-After"

// allowCORS lets browsers call tracking routes from any origin, as
// analytics.js does against Segment. Tracking routes only accept data; the
// write key they need is public by design. Read routes send no CORS
// headers (see docs/api.md, "CORS").
func allowCORS(w http.ResponseWriter) {
	setCORS(w, "POST, OPTIONS")
	h := w.Header()
	h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	h.Set("Access-Control-Max-Age", "86400")
}

// allowSettingsCORS lets any page read the settings document of a write
// key: it holds nothing but the key itself and where to send events.
func allowSettingsCORS(w http.ResponseWriter) {
	setCORS(w, "GET")
}

func setCORS(w http.ResponseWriter, methods string) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", methods)
	h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
}

// preflight answers CORS preflight requests of tracking routes.
func (a *API) preflight(w http.ResponseWriter, r *http.Request) error {
	allowCORS(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
