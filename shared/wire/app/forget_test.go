package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/adapter/embedded"
	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/core/catalog"
	"github.com/aurum-cdp/aurum/shared/core/identity"
	"github.com/aurum-cdp/aurum/shared/core/keys"
	"github.com/aurum-cdp/aurum/shared/core/pipeline"
	"github.com/aurum-cdp/aurum/shared/core/privacy"
	"github.com/aurum-cdp/aurum/shared/core/segment"
	"github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/model/profile"
	"github.com/aurum-cdp/aurum/shared/port/store"
	"github.com/aurum-cdp/aurum/shared/source"
	"github.com/aurum-cdp/aurum/shared/source/file"
	"github.com/aurum-cdp/aurum/shared/source/pull"
	"github.com/aurum-cdp/aurum/shared/wire/app"
	"github.com/aurum-cdp/aurum/shared/wire/local"
	"github.com/aurum-cdp/aurum/shared/wire/local/localtest"
)

// confRoot is the repository root, relative to this package.
const confRoot = "../../.."

// conformanceExtra is appended to the sample configuration (whose last
// block is the triggers list): triggers that are capped, that wait and
// that are cancelled, the RFM model and the suppression list, so that
// every feature that writes store items runs.
const conformanceExtra = `
  - id: conformance-viewed
    when: {event: {source: [aurum], detail-type: [ProfileUpdated], detail: {event_names: [Product Viewed]}}}
    cap: {max: 1, per: 30d}
    actions:
      - event: {}
  - id: conformance-checkout
    when: {event: {source: [aurum], detail-type: [ProfileUpdated], detail: {event_names: [Checkout Started]}}}
    delay: 1000h
    unless: {source: [aurum], detail-type: [ProfileUpdated], detail: {event_names: [Order Completed]}}
    actions:
      - event: {}

rfm: {recency: last_order_at, frequency: orders_count, monetary: revenue_total}

privacy: {suppress_erased: true}
`

// conformancePull is a pull source inserted at the head of the sample's
// sources (its state: src.ckpt), read through the connector kind
// registered by init below.
const conformancePull = `
sources:
  - name: conformance-pull
    kind: pull
    pull: {connector: conformance-rows, schedule: 1h}
    mapping:
      record_id: id
      identifiers:
        - {type: email, field: email}
`

func init() {
	app.RegisterConnector("conformance-rows", func(config.Pull, source.Secrets) (source.Source, error) {
		return confRows{}, nil
	})
}

// confRows is a connector holding one row, read once.
type confRows struct{}

func (confRows) Read(_ context.Context, checkpoint string, _ int) (source.Batch, error) {
	if checkpoint != "" {
		return source.Batch{Checkpoint: checkpoint}, nil
	}
	return source.Batch{Rows: []source.Row{{"id": "pull-1", "email": "pulled.person@example.com"}}, Checkpoint: "1"}, nil
}

// conformanceIdentity replaces the start of the sample's identity block:
// placeholder detection (id.fp, id.quarantine) and a composite key
// (id.block).
const conformanceIdentity = `
identity:
  placeholders: {attributes: [first_name, last_name]}
  rules:
    - {name: conformance-name-birth, kind: exact, attributes: [last_name, birth_date]}
`

var confSampleFiles = []string{
	"sources/crm/contacts.csv",
	"sources/shop/orders.jsonl",
	"sources/pos/transactions.csv",
	"sources/newsletter/subscribers.csv",
	"sources/web/events.jsonl",
}

// TestEveryItemKindIsClaimed runs the platform on the sample
// configuration and data (local mode: file loads, the tracking API, the
// bus, triggers, segments, the dashboard), then on the stopped store
// creates an API key, refreshes the RFM thresholds, snapshots the
// dashboard, unmerges a person and erases them. Every item kind left in
// the store must be claimed by a Forgetter of app.Forgetters (a new
// stateful feature registers one, or erasure silently misses its data);
// and nothing of the erased person may remain in any item.
func TestEveryItemKindIsClaimed(t *testing.T) {
	if testing.Short() {
		t.Skip("runs local mode on the sample data")
	}
	ctx := t.Context()
	cfgPath := confConfig(t)
	data, zoe := confRunLocal(t, cfgPath)
	p, st := confPlatform(t, data, cfgPath)
	confExercise(t, p, st)

	live, err := st.Profile(ctx, zoe.ID)
	if err != nil {
		t.Fatal(err)
	}
	split := confUnmerge(t, p, live)
	svc, err := p.Privacy(st)
	if err != nil {
		t.Fatal(err)
	}
	x, err := svc.Export(ctx, split.ProfileID)
	if err != nil {
		t.Fatal(err)
	}
	marks := confTraces(t, st, x, split)
	t.Logf("%d traces of the person, e.g. %v", len(marks), marks[:min(len(marks), 8)])
	if n := confCountTraces(t, st, marks, false); n == 0 {
		t.Fatalf("no item mentions the person before erasure; the scan proves nothing")
	}
	kinds := confItemKinds(t, st) // some go with the person: count them now
	res, err := svc.Erase(ctx, split.ProfileID)
	if err != nil {
		t.Fatalf("Erase() = %v", err)
	}
	if res.Suppressed == 0 {
		t.Errorf("Erase() = %+v; want identifiers suppressed (privacy.suppress_erased)", res)
	}
	for k, n := range confItemKinds(t, st) {
		kinds[k] = max(kinds[k], n)
	}
	if kinds[pull.KindState] == 0 {
		t.Errorf("no %s item: the pull source did not run", pull.KindState)
	}
	confCheckClaimed(t, kinds, app.Forgetters(p.Config, p.Identity))
	if n := confCountTraces(t, st, marks, true); n > 0 {
		t.Errorf("%d items still mention the erased person", n)
	}
}

// confRunLocal runs local mode on the configuration at cfgPath and the
// sample data until the files are loaded and a few tracking calls went
// through the bus, stops it and returns its data folder and the profile
// of Zoë Dubois (in all five sources).
func confRunLocal(t *testing.T, cfgPath string) (string, profile.Profile) {
	t.Helper()
	var seen sync.Map // detail-type or event name → true
	observe := func(_ context.Context, env events.Envelope) error {
		seen.Store(env.DetailType, true)
		var d events.ProfileUpdated
		if env.DetailType == events.TypeProfileUpdated && json.Unmarshal(env.Detail, &d) == nil {
			for _, n := range d.EventNames {
				seen.Store(n, true)
			}
		}
		return nil
	}
	lm := localtest.Start(t, confRoot, local.Options{ConfigPath: cfgPath, Samples: confRoot + "/testdata/sample", Observe: observe})
	lm.WaitFor(t, "the sample files' load reports", time.Minute, func() bool {
		for _, k := range confSampleFiles {
			if _, err := os.Stat(filepath.Join(lm.Data, "bucket", filepath.FromSlash(file.ReportKey(k)))); err != nil {
				return false
			}
		}
		return true
	})
	lm.WaitFor(t, "a summary line", time.Minute, func() bool { return strings.Contains(lm.Out.String(), "summary:") })
	zoe := confProfile(t, lm.Base+"/v1/profiles?identifier=email:ZOE.DUBOIS@GMAIL.COM")
	custID := ""
	for _, id := range zoe.Identifiers {
		if id.Type == "customer_id" {
			custID = id.Value
		}
	}
	// A delayed firing for her waits in the store (trg.pending); a recent
	// order gives her a due time (seg.due).
	confPost(t, lm.Base, "/v1/track", fmt.Sprintf(`{"userId":%q,"event":"Checkout Started","messageId":"conformance-1"}`, custID))
	confPost(t, lm.Base, "/v1/track", fmt.Sprintf(`{"userId":%q,"event":"Order Completed","messageId":"conformance-2","properties":{"revenue":12}}`, custID))
	// One device id seen with four different names is a placeholder
	// (id.fp, id.quarantine).
	for i, name := range [][2]string{{"Alice", "Smith"}, {"Bartholomew", "Jones"}, {"Chandra", "Okafor"}, {"Dmitri", "Volkov"}} {
		confPost(t, lm.Base, "/v1/identify", fmt.Sprintf(`{"anonymousId":"conformance-shared-device","messageId":"conformance-id-%d","traits":{"first_name":%q,"last_name":%q}}`, i, name[0], name[1]))
	}
	lm.WaitFor(t, "the bus to carry her checkout and a trigger firing", time.Minute, func() bool {
		_, checkout := seen.Load("Checkout Started")
		_, fired := seen.Load(events.TypeTriggerFired)
		return checkout && fired
	})
	lm.Stop(t) // drains the outbox and the bus
	return lm.Data, zoe
}

// confPlatform opens the store local mode left in data and wires a
// platform on it.
func confPlatform(t *testing.T, data, cfgPath string) (*app.Platform, *embedded.Store) {
	t.Helper()
	st, err := embedded.Open(filepath.Join(data, "aurum.db"), embedded.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	p, err := app.New(app.Parts{Config: cfg, Store: st, Scan: func(ctx context.Context) iter.Seq2[*profile.Profile, error] {
		return segment.ScanProfiles(ctx, st)
	}})
	if err != nil {
		t.Fatal(err)
	}
	return p, st
}

// confCheckClaimed fails for every kind of kinds (kind → items) that no
// Forgetter of fs claims.
func confCheckClaimed(t *testing.T, kinds map[string]int, fs []store.Forgetter) {
	t.Helper()
	t.Logf("item kinds in the store: %v", kinds)
	claims, err := store.Claims(fs)
	if err != nil {
		t.Fatalf("app.Forgetters: %v", err)
	}
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		if _, ok := claims[k]; !ok {
			t.Errorf("item kind %s (%d items in the store) is claimed by no Forgetter: register one in app.Forgetters", k, kinds[k])
		}
	}
	if len(kinds) < 10 {
		t.Errorf("the store holds %d item kinds (%v); the scenario exercises too little", len(kinds), slices.Sorted(maps.Keys(kinds)))
	}
	for _, k := range slices.Sorted(maps.Keys(claims)) {
		if _, ok := kinds[k]; !ok {
			t.Logf("claimed kind %s does not occur in this run", k)
		}
	}
}

// confConfig writes the sample configuration with
// conformanceExtra and returns its path.
func confConfig(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(confRoot + "/aurum.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const rules = "\nidentity:\n  rules:\n"
	if !bytes.Contains(b, []byte(rules)) || !bytes.Contains(b, []byte("\ntriggers:\n")) ||
		bytes.Contains(b, []byte("\nrfm:")) || bytes.Contains(b, []byte("\nprivacy:")) {
		t.Fatalf("aurum.yaml changed shape: the test adds identity settings and appends triggers, rfm and privacy")
	}
	b = bytes.Replace(b, []byte(rules), []byte(conformanceIdentity), 1)
	if !bytes.Contains(b, []byte("\nsources:\n")) {
		t.Fatalf("aurum.yaml changed shape: the test inserts a pull source after sources:")
	}
	b = bytes.Replace(b, []byte("\nsources:\n"), []byte(conformancePull), 1)
	path := filepath.Join(t.TempDir(), "aurum.yaml")
	if err := os.WriteFile(path, append(bytes.TrimRight(b, "\n"), conformanceExtra...), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// confExercise runs, on the stopped store, what local mode did not: an API
// key, the RFM thresholds and the dashboard's snapshots.
func confExercise(t *testing.T, p *app.Platform, st *embedded.Store) {
	t.Helper()
	ctx := t.Context()
	if _, _, err := keys.Create(ctx, st, keys.Spec{Name: "conformance", Scopes: []string{keys.ScopeRead}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Sweep(ctx, app.SweepEvent{}); err != nil {
		t.Fatalf("Sweep() = %v", err)
	}
	if _, err := p.Console.Snapshots.MaybeSnapshot(ctx); err != nil {
		t.Fatalf("MaybeSnapshot() = %v", err)
	}
	if err := p.Console.SnapshotClusters(ctx, p.Scan); err != nil {
		t.Fatalf("SnapshotClusters() = %v", err)
	}
}

// confUnmerge withdraws one record of the profile (the last by key) and returns
// the split; the part keeping the profile id is the person erased.
func confUnmerge(t *testing.T, p *app.Platform, prof profile.Profile) pipeline.Split {
	t.Helper()
	if prof.RecordCount < 3 {
		t.Fatalf("profile %s has %d records; the test needs a merged person", prof.ID, prof.RecordCount)
	}
	its, err := store.AllItems(t.Context(), p.Store, identity.ItemRecords, prof.ID)
	if err != nil || len(its) == 0 {
		t.Fatalf("record index of %s = %d items, %v", prof.ID, len(its), err)
	}
	sp, err := p.Pipeline.Unmerge(t.Context(), prof.ID, pipeline.Withdrawal{Record: its[len(its)-1].Sort, Reason: "conformance"})
	if err != nil {
		t.Fatalf("Unmerge() = %v", err)
	}
	if len(sp.Parts) < 2 {
		t.Fatalf("Unmerge() = %+v; want two parts", sp)
	}
	return sp
}

// confTraces are strings that mark the person of x in the store: their
// profile ids, record keys and ids (and the catalog's hashes of the
// keys), and the identifiers no other part of the split holds (values
// and hashed keys). Short strings are left out: they would match
// anything.
func confTraces(t *testing.T, st *embedded.Store, x privacy.Export, split pipeline.Split) []string {
	t.Helper()
	b, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Profile    profile.Profile `json:"profile"`
		ProfileIDs []string        `json:"profile_ids"`
		Records    []struct {
			Record profile.Record `json:"record"`
		} `json:"records"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	others := map[profile.Identifier]bool{}
	for _, part := range split.Parts[1:] {
		q, err := st.Profile(t.Context(), part.ProfileID)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range q.Identifiers {
			others[id] = true
		}
		for _, k := range part.Records {
			src, rid, _ := strings.Cut(k, "/")
			if r, _, err := st.Record(t.Context(), src, rid); err == nil {
				for _, id := range r.Identifiers {
					others[id] = true
				}
			}
		}
	}
	marks := slices.Clone(doc.ProfileIDs)
	ids := slices.Clone(doc.Profile.Identifiers)
	for _, h := range doc.Records {
		marks = append(marks, h.Record.Key(), h.Record.ID, catalog.RecordRef(h.Record.Key()))
		ids = append(ids, h.Record.Identifiers...)
	}
	for _, id := range ids {
		if !others[id] {
			marks = append(marks, id.Value, identity.IdentifierKey(id))
		}
	}
	slices.Sort(marks)
	marks = slices.DeleteFunc(slices.Compact(marks), func(s string) bool { return len(s) < 6 })
	if len(doc.Records) == 0 || len(marks) == 0 {
		t.Fatalf("export of %s has %d records, %d traces", split.ProfileID, len(doc.Records), len(marks))
	}
	return marks
}

// confCountTraces counts the items (and expiry index entries) whose key or
// value holds one of marks, logging them when report is set.
func confCountTraces(t *testing.T, st *embedded.Store, marks []string, report bool) int {
	t.Helper()
	n := 0
	err := st.Scan(t.Context(), func(bucket, key string, value []byte) error {
		if bucket != embedded.BucketItems && bucket != embedded.BucketItemExpiry {
			return nil
		}
		for _, m := range marks {
			if strings.Contains(key, m) || bytes.Contains(value, []byte(m)) {
				if report {
					t.Logf("%s item %q mentions %q", bucket, strings.ReplaceAll(key, "\x00", " "), m)
				}
				n++
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// confItemKinds counts the items of each kind in the store.
func confItemKinds(t *testing.T, st *embedded.Store) map[string]int {
	t.Helper()
	out := map[string]int{}
	err := st.Scan(t.Context(), func(bucket, key string, _ []byte) error {
		if bucket == embedded.BucketItems {
			kind, _, _ := strings.Cut(key, "\x00")
			out[kind]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func confProfile(t *testing.T, url string) profile.Profile {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p profile.Profile
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&p) != nil || p.ID == "" {
		t.Fatalf("GET %s = %d; want a profile", url, resp.StatusCode)
	}
	return p
}

func confPost(t *testing.T, base, route, body string) {
	t.Helper()
	req, err := http.NewRequest("POST", base+route, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("dev-write-key", "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s = %d; want 200", route, resp.StatusCode)
	}
}
