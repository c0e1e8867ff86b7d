package local_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/wire/local/localtest"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/source/file"
	"github.com/aurum-cdp/aurum/shared/wire/local"
)

var sampleFiles = []string{
	"sources/crm/contacts.csv",
	"sources/shop/orders.jsonl",
	"sources/pos/transactions.csv",
	"sources/newsletter/subscribers.csv",
	"sources/web/events.jsonl",
}

func readReport(t *testing.T, data, key string) (file.Report, bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, "bucket", filepath.FromSlash(file.ReportKey(key))))
	if err != nil {
		return file.Report{}, false
	}
	var r file.Report
	if err := json.Unmarshal(b, &r); err != nil {
		return file.Report{}, false
	}
	return r, true
}

// TestLocalModeEndToEnd runs local mode on the sample configuration and
// data: the drop folder loads the five dirty sources, the API answers, a
// tracked event lands on the right profile, a re-dropped file changes
// nothing, and no profile mixes two people of the ground truth.
func TestLocalModeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	lm := localtest.Start(t, "../../..", local.Options{Samples: "../../../testdata/sample"})
	base, data, out := lm.Base, lm.Data, lm.Out
	stop := func() { lm.Stop(t) }

	lm.WaitFor(t, "the sample files' load reports", time.Minute, func() bool {
		for _, k := range sampleFiles {
			if _, ok := readReport(t, data, k); !ok {
				return false
			}
		}
		return true
	})
	for _, k := range sampleFiles {
		r, _ := readReport(t, data, k)
		if r.Rows == 0 || r.Accepted == 0 || r.Rows != r.Accepted+r.Rejected {
			t.Errorf("report of %s: rows %d accepted %d rejected %d; want rows = accepted + rejected > 0", k, r.Rows, r.Accepted, r.Rejected)
		}
		if !strings.Contains(out.String(), k) {
			t.Errorf("no progress line for %s in output:\n%s", k, out)
		}
	}
	crm, _ := readReport(t, data, "sources/crm/contacts.csv")
	if crm.Rejected == 0 {
		t.Errorf("crm report rejected 0 rows; the sample has a short row (line 33)")
	}
	rej, err := os.ReadFile(filepath.Join(data, "bucket", filepath.FromSlash(crm.RejectedKey)))
	if err != nil || !bytes.Contains(rej, []byte(`"line":33`)) {
		t.Errorf("rejected file %s = %q, %v; want the short row of line 33", crm.RejectedKey, rej, err)
	}
	lm.WaitFor(t, "a summary line", time.Minute, func() bool { return strings.Contains(out.String(), "summary:") })

	// Zoë Dubois is in all five sources under different spellings.
	prof := getJSON(t, base+"/v1/profiles?identifier=email:ZOE.DUBOIS@GMAIL.COM")
	sources, _ := prof["sources"].(map[string]any)
	for _, s := range []string{"crm", "shop", "pos", "newsletter", "web"} {
		if _, ok := sources[s]; !ok {
			t.Errorf("Zoë's profile sources = %v; want %s among them", sources, s)
		}
	}
	id, _ := prof["id"].(string)
	if id == "" {
		t.Fatalf("profile has no id: %v", prof)
	}

	// A tracked event through the Segment-compatible API lands on her.
	custID := identifierOf(t, prof, "customer_id")
	body := fmt.Sprintf(`{"userId":%q,"event":"Gift Card Bought","messageId":"e2e-1","properties":{"revenue":25}}`, custID)
	for range 2 { // the second call is a retry: de-duplicated
		req, _ := http.NewRequest("POST", base+"/v1/track", strings.NewReader(body))
		req.SetBasicAuth("dev-write-key", "")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("POST /v1/track = %d; want 200", resp.StatusCode)
		}
	}
	evs := getJSON(t, base+"/v1/profiles/"+id+"/events?limit=100")
	n := strings.Count(fmt.Sprint(evs), "Gift Card Bought")
	if n != 1 {
		t.Errorf("profile events hold %d Gift Card Bought events; want exactly 1 (retry de-duplicated): %v", n, evs)
	}

	// Dropping the same file again changes nothing.
	before := getJSON(t, base+"/v1/profiles/"+id)
	src, err := os.ReadFile("../../../testdata/sample/crm/contacts.csv")
	if err != nil {
		t.Fatal(err)
	}
	drop := filepath.Join(data, "drop", "crm", "contacts.csv")
	if err := os.WriteFile(drop, src, 0o644); err != nil {
		t.Fatal(err)
	}
	lm.WaitFor(t, "the re-dropped file", time.Minute, func() bool {
		return strings.Contains(out.String(), "already loaded (same ETag)")
	})
	after := getJSON(t, base+"/v1/profiles/"+id)
	if before["version"] != after["version"] || before["record_count"] != after["record_count"] {
		t.Errorf("re-dropping a file changed the profile: version %v → %v, records %v → %v",
			before["version"], after["version"], before["record_count"], after["record_count"])
	}
	stop()

	// With local mode stopped, read the store directly.
	checkAgainstTruth(t, data)
}

func getJSON(t *testing.T, url string) map[string]any {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d %s", url, resp.StatusCode, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return m
}

func identifierOf(t *testing.T, prof map[string]any, typ string) string {
	t.Helper()
	ids, _ := prof["identifiers"].([]any)
	for _, x := range ids {
		m, _ := x.(map[string]any)
		if m["type"] == typ {
			return m["value"].(string)
		}
	}
	t.Fatalf("profile has no %s identifier: %v", typ, ids)
	return ""
}

// checkAgainstTruth opens the store and checks that no profile holds
// records of two different people of testdata/sample/truth.csv.
func checkAgainstTruth(t *testing.T, data string) {
	t.Helper()
	ctx := context.Background()
	st, err := embedded.OpenData(data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f, err := os.Open("../../../testdata/sample/truth.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	person := map[string]string{} // profile → person
	found := 0
	for _, r := range rows[1:] {
		source, id, who := r[0], r[1], r[2]
		_, pid, err := st.Record(ctx, source, id)
		if err != nil {
			continue // rejected rows have no record
		}
		found++
		live, err := st.Resolve(ctx, pid)
		if err != nil {
			t.Fatalf("Resolve(%s): %v", pid, err)
		}
		if p, ok := person[live]; ok && p != who {
			t.Errorf("profile %s holds records of %s and %s (record %s/%s)", live, p, who, source, id)
		}
		person[live] = who
	}
	if found < len(rows)*9/10 {
		t.Errorf("found %d of %d ground-truth records in the store; want at least 90%%", found, len(rows)-1)
	}
	people := map[string]bool{}
	for _, p := range person {
		people[p] = true
	}
	t.Logf("%d records in %d profiles for %d people", found, len(person), len(people))
}

// TestSamplesSurviveACrashDuringTheFirstCopy starts local mode on the data
// folder a first start leaves when it dies while copying the samples: the
// store exists, the samples mark too, the drop folder is empty. Every
// sample is copied and loaded, and a later start copies nothing again.
func TestSamplesSurviveACrashDuringTheFirstCopy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	data := t.TempDir()
	st, err := embedded.OpenData(data)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if err := os.WriteFile(filepath.Join(data, "samples.pending"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	lm := localtest.Start(t, "../../..", local.Options{Data: data, Samples: "../../../testdata/sample"})
	lm.WaitFor(t, "the sample files' load reports", time.Minute, func() bool {
		for _, k := range sampleFiles {
			if _, ok := readReport(t, data, k); !ok {
				return false
			}
		}
		return true
	})
	lm.Stop(t)
	if _, err := os.Stat(filepath.Join(data, "samples.pending")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("samples mark after the copy: stat = %v; want it gone", err)
	}
	again := localtest.Start(t, "../../..", local.Options{Data: data, Samples: "../../../testdata/sample"})
	again.Stop(t)
	if strings.Contains(again.Out.String(), "first run:") {
		t.Errorf("a later start copied the samples again:\n%s", again.Out)
	}
}
