package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/wire/local/localtest"

	"github.com/chromedp/chromedp"

	"github.com/aurum-cdp/aurum/shared/core/catalog"
	"github.com/aurum-cdp/aurum/shared/http/dashboard"
	"github.com/aurum-cdp/aurum/shared/http/segmentapi"
	"github.com/aurum-cdp/aurum/shared/wire/local"
)

// chromium returns the path of a Chromium or Chrome binary, or "".
func chromium() string {
	if p := os.Getenv("AURUM_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func getJSON[T any](t *testing.T, u string) T {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d %s", u, resp.StatusCode, b)
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return v
}

// artifacts returns the folder screenshots are saved in: $AURUM_ARTIFACTS/
// dashboard when set (CI keeps it), a test temporary folder otherwise.
func artifacts(t *testing.T) string {
	dir := t.TempDir()
	if a := os.Getenv("AURUM_ARTIFACTS"); a != "" {
		dir = filepath.Join(a, "dashboard")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func pct(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

// digits keeps the digits of a shown number ("1,234" → "1234").
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// TestDashboardInBrowser runs local mode on the sample configuration and
// data, opens every dashboard page in headless Chromium, checks the
// numbers shown against the API's JSON, and saves a screenshot of each
// page. Without Chromium it skips, unless AURUM_REQUIRE_BROWSER=1.
func TestDashboardInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	exe := chromium()
	if exe == "" {
		if os.Getenv("AURUM_REQUIRE_BROWSER") == "1" {
			t.Fatal("chromium not found and AURUM_REQUIRE_BROWSER=1: apt-get install -y chromium chromium-driver")
		}
		t.Skip("chromium not found (apt-get install -y chromium chromium-driver); set AURUM_REQUIRE_BROWSER=1 to fail instead")
	}

	// Local mode, in-process, on the sample data.
	lm := localtest.Start(t, "../../..", local.Options{Samples: "../../../testdata/sample"})
	base, out := lm.Base, lm.Out
	// The summary line follows the loads; the cluster scan follows it.
	deadline := time.Now().Add(90 * time.Second)
	for {
		id := getJSON[dashboard.IdentityStats](t, base+"/v1/dashboard/identity")
		if strings.Contains(out.String(), "summary:") && id.ClustersAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sample loads and cluster scan not done; output:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The browser.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1440, 1000))
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	// The first run starts the browser; it lives as long as bctx, so the
	// time limit goes on a derived context.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium %s: %v", exe, err)
	}
	bctx, tcancel := context.WithTimeout(bctx, 3*time.Minute)
	defer tcancel()
	shots := artifacts(t)
	t.Logf("screenshots in %s", shots)

	// open loads a page, waits until it rendered and saves a screenshot;
	// texts returns the text of the elements with data-testid testid
	// keyed by the keyAttr attribute of their closest ancestor with one.
	open := func(t *testing.T, hash, page, shot string) {
		t.Helper()
		err := chromedp.Do(bctx,
			chromedp.Navigate(base+"/"+hash),
			chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`main[data-ready=%q]`, page))))
		if err != nil {
			t.Fatalf("open %s: %v", hash, err)
		}
		buf, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot of %s: %v", hash, err)
		}
		errText, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`(document.querySelector('[data-testid=error]')||{}).textContent||""`))
		if errText != "" {
			t.Errorf("page %s shows an error: %s", hash, errText)
		}
		p := filepath.Join(shots, shot+".png")
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	texts := func(t *testing.T, keyAttr, testid string) map[string]string {
		t.Helper()
		js := fmt.Sprintf(`(() => { const o = {}; for (const el of document.querySelectorAll('[%[1]s] [data-testid=%[2]q]')) o[el.closest('[%[1]s]').getAttribute(%[1]q)] = el.textContent.trim(); return o; })()`, keyAttr, testid)
		m, err := chromedp.Run(bctx, chromedp.Evaluate[map[string]string](js))
		if err != nil {
			t.Fatalf("read %s/%s: %v", keyAttr, testid, err)
		}
		return m
	}
	text := func(t *testing.T, sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.TextContent(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	html := func(t *testing.T) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.OuterHTML(chromedp.CSS("main")))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	cat := getJSON[catalog.Catalog](t, base+"/v1/catalog")
	var rows int64
	for _, s := range cat.Sources {
		rows += s.Rows
	}
	if rows == 0 {
		t.Fatalf("catalog holds no rows after the sample loads: %+v", cat.Sources)
	}

	t.Run("overview", func(t *testing.T) {
		open(t, "#/", "overview", "01-overview")
		if got := digits(text(t, `[data-testid=kpi-rows]`)); got != fmt.Sprint(rows) {
			t.Errorf("rows ingested shown %s; want %d", got, rows)
		}
		if got := digits(text(t, `[data-testid=kpi-alerts]`)); got != fmt.Sprint(len(cat.Alerts)) {
			t.Errorf("alerts shown %s; want %d", got, len(cat.Alerts))
		}
	})

	t.Run("sources", func(t *testing.T) {
		open(t, "#/sources", "sources", "02-sources")
		shownRows, shownCompl := texts(t, "data-source", "rows"), texts(t, "data-source", "completeness")
		for _, s := range cat.Sources {
			if got := digits(shownRows[s.Name]); got != fmt.Sprint(s.Rows) {
				t.Errorf("source %s rows shown %q; want %d", s.Name, shownRows[s.Name], s.Rows)
			}
			if got := shownCompl[s.Name]; got != pct(s.Completeness) {
				t.Errorf("source %s completeness shown %q; want %s", s.Name, got, pct(s.Completeness))
			}
		}
	})

	t.Run("source detail", func(t *testing.T) {
		sc := getJSON[catalog.SourceCatalog](t, base+"/v1/catalog/crm")
		open(t, "#/sources/crm", "source", "03-source-crm")
		compl, distinct, types := texts(t, "data-field", "completeness"), texts(t, "data-field", "distinct"), texts(t, "data-field", "type")
		if len(compl) != len(sc.Fields) || len(sc.Fields) == 0 {
			t.Errorf("fields shown %d; want %d", len(compl), len(sc.Fields))
		}
		for _, f := range sc.Fields {
			if compl[f.Field] != pct(f.Completeness) || digits(distinct[f.Field]) != fmt.Sprint(f.Distinct) || types[f.Field] != f.Type {
				t.Errorf("field %s shown completeness %q distinct %q type %q; want %s, %d, %s",
					f.Field, compl[f.Field], distinct[f.Field], types[f.Field], pct(f.Completeness), f.Distinct, f.Type)
			}
		}
		if page := html(t); strings.Contains(page, "@gmail.com") || strings.Contains(page, "@hotmail") {
			t.Errorf("source page shows an email address in clear")
		}
	})

	t.Run("quality", func(t *testing.T) {
		open(t, "#/quality", "quality", "04-quality")
		if got := digits(text(t, `[data-testid=q-alerts]`)); got != fmt.Sprint(len(cat.Alerts)) {
			t.Errorf("alerts shown %s; want %d", got, len(cat.Alerts))
		}
	})

	t.Run("identity", func(t *testing.T) {
		id := getJSON[dashboard.IdentityStats](t, base+"/v1/dashboard/identity")
		open(t, "#/identity", "identity", "05-identity")
		merges := texts(t, "data-rule", "merges")
		for _, r := range id.Rules {
			if digits(merges[r.Rule]) != fmt.Sprint(r.Merges) {
				t.Errorf("rule %s merges shown %q; want %d", r.Rule, merges[r.Rule], r.Merges)
			}
		}
		if got := digits(text(t, `[data-testid=id-clusters]`)); got != fmt.Sprint(id.Clusters) {
			t.Errorf("profiles shown %s; want %d", got, id.Clusters)
		}
	})

	t.Run("segments", func(t *testing.T) {
		segs := getJSON[struct{ Segments []segmentapi.SegmentInfo }](t, base+"/v1/segments")
		open(t, "#/segments", "segments", "06-segments")
		counts := texts(t, "data-segment", "count")
		if len(segs.Segments) == 0 {
			t.Fatal("no segments in the sample configuration")
		}
		for _, s := range segs.Segments {
			if digits(counts[s.ID]) != fmt.Sprint(s.Count) {
				t.Errorf("segment %s count shown %q; want %d", s.ID, counts[s.ID], s.Count)
			}
		}
	})

	t.Run("profile", func(t *testing.T) {
		const ident = "email:ZOE.DUBOIS@GMAIL.COM"
		p := getJSON[struct {
			ID          string `json:"id"`
			RecordCount int    `json:"record_count"`
			Attributes  map[string]struct {
				Value any `json:"value"`
			} `json:"attributes"`
		}](t, base+"/v1/profiles?identifier="+url.QueryEscape(ident))
		open(t, "#/profiles/?identifier="+url.QueryEscape(ident), "profiles", "07-profile")
		if got := text(t, `[data-testid=profile-id]`); got != p.ID {
			t.Errorf("profile id shown %q; want %q", got, p.ID)
		}
		if got := digits(text(t, `[data-testid=p-records]`)); got != fmt.Sprint(p.RecordCount) {
			t.Errorf("records shown %s; want %d", got, p.RecordCount)
		}
		vals := texts(t, "data-attr", "value")
		for _, name := range []string{"first_name", "last_name"} {
			if want := fmt.Sprint(p.Attributes[name].Value); vals[name] != want {
				t.Errorf("attribute %s shown %q; want %q", name, vals[name], want)
			}
		}
	})

	t.Run("triggers", func(t *testing.T) {
		tr := getJSON[struct{ Triggers []json.RawMessage }](t, base+"/v1/dashboard/triggers?limit=50")
		open(t, "#/triggers", "triggers", "08-triggers")
		n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll('tr[data-trigger]').length`))
		if err != nil {
			t.Fatal(err)
		}
		if n != len(tr.Triggers) {
			t.Errorf("firings shown %d; want %d", n, len(tr.Triggers))
		}
	})
}
