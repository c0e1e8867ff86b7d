package local_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/aurum-cdp/aurum/shared/wire/local"
	"github.com/aurum-cdp/aurum/shared/wire/local/localtest"
)

// analyticsNext is the official Segment browser SDK the test loads, as
// its standalone UMD bundle (window.AnalyticsNext).
const analyticsNext = "@segment/analytics-next@1.84.3"

// nextPage loads the SDK with only a write key and Aurum's URL as its
// CDN, and makes the three calls of a web page.
const nextPage = `<!doctype html><html><head><meta charset="utf-8"><title>shop</title></head><body>
<script src="/analytics-next.js"></script>
<script>
window.sdkErrors = [];
const analytics = AnalyticsNext.AnalyticsBrowser.load({ writeKey: %[1]q, cdnURL: %[2]q });
analytics.catch((e) => window.sdkErrors.push('load: ' + e));
analytics.identify(%[3]q, { email: %[4]q, plan: 'pro' });
analytics.track('Order Completed', { revenue: 42 });
analytics.page('Docs', 'Pricing');
</script></body></html>`

// hit is one request the fault proxy passed on (or failed).
type hit struct {
	method, path, retryCount string
	status                   int
	// allowHeaders is the Access-Control-Allow-Headers answered.
	allowHeaders string
}

// faultProxy stands between the browser and local mode, keeping the
// Host (so the settings point the SDK back at it) and answering the
// first POST of failPath with a 503 as Aurum's own 5xx look (with CORS
// headers): the SDK must retry it.
type faultProxy struct {
	rp       *httputil.ReverseProxy
	failPath string

	mu     sync.Mutex
	failed bool
	hits   []hit
}

func newFaultProxy(t *testing.T, base, failPath string) *faultProxy {
	t.Helper()
	target, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return &faultProxy{failPath: failPath, rp: &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Host = pr.In.Host
	}}}
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := hit{method: r.Method, path: r.URL.Path, retryCount: r.Header.Get("X-Retry-Count")}
	p.mu.Lock()
	fail := r.Method == http.MethodPost && r.URL.Path == p.failPath && !p.failed
	p.failed = p.failed || fail
	p.mu.Unlock()
	sw := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	if fail {
		sw.Header().Set("Access-Control-Allow-Origin", "*")
		sw.Header().Set("Content-Type", "application/json")
		sw.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(sw, `{"error":{"code":"unavailable","message":"injected by the test"}}`)
	} else {
		p.rp.ServeHTTP(sw, r)
	}
	h.status, h.allowHeaders = sw.status, sw.Header().Get("Access-Control-Allow-Headers")
	p.mu.Lock()
	p.hits = append(p.hits, h)
	p.mu.Unlock()
}

func (p *faultProxy) log() []hit {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]hit(nil), p.hits...)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// chromiumPath returns a Chromium or Chrome binary, or skips the test
// (fails with AURUM_REQUIRE_BROWSER=1).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("AURUM_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("AURUM_REQUIRE_BROWSER") == "1" {
		t.Fatal("chromium not found and AURUM_REQUIRE_BROWSER=1")
	}
	t.Skip("chromium not found; set AURUM_REQUIRE_BROWSER=1 to fail instead")
	return ""
}

// TestAnalyticsNextInBrowser loads the real @segment/analytics-next UMD
// bundle in headless Chromium on a page of another origin, configured
// with only the write key and Aurum's URL as its CDN: it must load its
// settings from Aurum, and identify, track and page must land in the
// profile. The first track is answered 503: the SDK's retry (with
// X-Retry-Count, so a new CORS preflight) must pass and land once.
func TestAnalyticsNextInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	dir := npmPackage(t, analyticsNext, "analytics-next-1.84.3", "@segment/analytics-next")
	exe := chromiumPath(t)
	bundle := filepath.Join(dir, "node_modules", "@segment", "analytics-next", "dist", "umd", "index.js")

	lm := localtest.Start(t, "../../..", local.Options{})
	proxy := newFaultProxy(t, lm.Base, "/v1/t")
	aurum := httptest.NewServer(proxy)
	defer aurum.Close()
	user, email := "browser-"+randHex(t), "browser-"+randHex(t)+"@example.com"
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/analytics-next.js":
			http.ServeFile(w, r, bundle)
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, nextPage, "dev-write-key", aurum.URL, user, email)
		default:
			http.NotFound(w, r)
		}
	}))
	defer page.Close()

	bctx := startBrowser(t, exe)
	if err := chromedp.Do(bctx, chromedp.Navigate(page.URL+"/")); err != nil {
		t.Fatalf("open the page: %v", err)
	}
	var prof map[string]any
	var evs []any
	lm.WaitFor(t, "identify, track and page in the profile", 60*time.Second, func() bool {
		prof, evs = browserProfile(t, lm.Base, user)
		return attrValue(prof, "plan") == "pro" && countEvents(evs, "track", "Order Completed") > 0 && countEvents(evs, "page", "") > 0
	})
	if errs, _ := chromedp.Run(bctx, chromedp.Evaluate[[]string](`window.sdkErrors`)); len(errs) > 0 {
		t.Errorf("the SDK reported %v; want no error", errs)
	}
	if got := identifierOf(t, prof, "email"); got != email {
		t.Errorf("profile email identifier = %q; want %s (identify traits)", got, email)
	}
	if n := countEvents(evs, "track", "Order Completed"); n != 1 {
		t.Errorf("profile holds %d Order Completed events; want 1 (the retry lands once)", n)
	}
	checkRetry(t, proxy.log())
}

// checkRetry checks what the proxy saw: the settings loaded from Aurum,
// the injected 503, a preflight allowing X-Retry-Count (the browser
// caches the allowed list, so the retry may need no new preflight; with
// the header missing it would be blocked), and the retry with
// X-Retry-Count accepted.
func checkRetry(t *testing.T, hits []hit) {
	t.Helper()
	var settings, failed, retried, preflight bool
	for _, h := range hits {
		switch {
		case h.method == http.MethodGet && h.path == "/v1/projects/dev-write-key/settings":
			settings = settings || h.status == http.StatusOK
		case h.method == http.MethodPost && h.path == "/v1/t" && h.status == http.StatusServiceUnavailable:
			failed = true
		case h.method == http.MethodPost && h.path == "/v1/t" && failed && h.retryCount != "":
			retried = retried || h.status == http.StatusOK
		case h.method == http.MethodOptions && h.path == "/v1/t" && strings.Contains(strings.ToLower(h.allowHeaders), "x-retry-count"):
			preflight = preflight || h.status/100 == 2
		}
	}
	if !settings || !failed || !retried || !preflight {
		t.Errorf("requests %+v: settings loaded %v, first track failed %v, preflight for X-Retry-Count passed %v, retry accepted %v; want all true",
			hits, settings, failed, preflight, retried)
	}
}

// startBrowser starts headless Chromium for the test's lifetime and
// returns its context, limited to 2 minutes.
func startBrowser(t *testing.T, exe string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()))
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium %s: %v", exe, err)
	}
	tctx, tcancel := context.WithTimeout(bctx, 2*time.Minute)
	t.Cleanup(tcancel)
	return tctx
}

// browserProfile returns the profile holding customer_id user and its
// events, or nils while there is none.
func browserProfile(t *testing.T, base, user string) (map[string]any, []any) {
	t.Helper()
	resp, err := http.Get(base + "/v1/profiles?identifier=customer_id:" + user)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	var prof map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&prof); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET profile of %s = %d, %v", user, resp.StatusCode, err)
	}
	id, _ := prof["id"].(string)
	evs, _ := getJSON(t, base+"/v1/profiles/"+id+"/events?limit=100")["events"].([]any)
	return prof, evs
}

func attrValue(prof map[string]any, name string) any {
	attrs, _ := prof["attributes"].(map[string]any)
	a, _ := attrs[name].(map[string]any)
	return a["value"]
}

// countEvents counts the events of type typ (and name, unless empty).
func countEvents(evs []any, typ, name string) int {
	n := 0
	for _, e := range evs {
		m, _ := e.(map[string]any)
		if m["type"] == typ && (name == "" || m["name"] == name) {
			n++
		}
	}
	return n
}

func randHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
