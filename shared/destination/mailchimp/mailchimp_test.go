package mailchimp

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/destination/apicall/apitest"
	"github.com/aurum-cdp/aurum/shared/model/fault"
)

const key = "0123456789abcdef-us21"

// fakeList is one Mailchimp audience as the documentation describes it:
// members by subscriber hash, their merge fields and tags. It checks
// every request and refuses what Mailchimp refuses.
type fakeList struct {
	t       *testing.T
	mu      sync.Mutex
	members map[string]map[string]any
	tags    map[string]map[string]bool
	events  map[string][]string
	// answers forces a status for an e-mail address.
	answers map[string]int
	rec     apitest.Recorder
}

func newFake(t *testing.T) (*fakeList, *httptest.Server) {
	f := &fakeList{t: t, members: map[string]map[string]any{}, tags: map[string]map[string]bool{}, events: map[string][]string{}, answers: map[string]int{}}
	member := apitest.Example(t, "testdata/add_or_update_member.json")
	tags := apitest.Example(t, "testdata/member_tags.json")
	evs := apitest.Example(t, "testdata/member_events.json")
	srv := httptest.NewServer(f.rec.Wrap(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if want := "Basic " + base64.StdEncoding.EncodeToString([]byte("aurum:"+key)); r.Header.Get("Authorization") != want {
			t.Errorf("Authorization = %q; want Basic auth with the API key as password", r.Header.Get("Authorization"))
		}
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/3.0/lists/L1/members/"), "/")
		if !strings.HasPrefix(r.URL.Path, "/3.0/lists/L1/members/") || len(parts) > 2 {
			t.Errorf("path %s; want /3.0/lists/L1/members/{hash}[/tags|/events]", r.URL.Path)
			w.WriteHeader(404)
			return
		}
		hash := parts[0]
		var body map[string]any
		f.rec.Calls()[len(f.rec.Calls())-1].JSON(t, &body)
		sub := ""
		if len(parts) == 2 {
			sub = parts[1]
		}
		switch {
		case r.Method == http.MethodPut && sub == "":
			apitest.Conforms(t, body, member, "merge_fields")
			email, _ := body["email_address"].(string)
			if sum := md5.Sum([]byte(strings.ToLower(email))); hex.EncodeToString(sum[:]) != hash {
				t.Errorf("PUT %s for %s: the hash is not the MD5 of the lower-cased address", hash, email)
			}
			if body["status_if_new"] != "subscribed" {
				t.Errorf("status_if_new = %v; want subscribed", body["status_if_new"])
			}
			if st, ok := f.answers[strings.ToLower(email)]; ok {
				f.fail(w, st)
				return
			}
			f.members[hash] = body
			w.WriteHeader(200)
			fmt.Fprintf(w, `{"id":%q,"email_address":%q,"status":"subscribed"}`, hash, email)
		case r.Method == http.MethodPost && sub == "tags":
			apitest.Conforms(t, body, tags)
			if _, ok := f.members[hash]; !ok {
				f.fail(w, 404)
				return
			}
			for _, tg := range body["tags"].([]any) {
				m := tg.(map[string]any)
				name, status := m["name"].(string), m["status"].(string)
				if status != "active" && status != "inactive" {
					t.Errorf("tag status %q; want active or inactive", status)
				}
				if f.tags[hash] == nil {
					f.tags[hash] = map[string]bool{}
				}
				f.tags[hash][name] = status == "active"
			}
			w.WriteHeader(204)
		case r.Method == http.MethodPost && sub == "events":
			apitest.Conforms(t, body, evs, "properties")
			name, _ := body["name"].(string)
			if len(name) < 2 || len(name) > 30 {
				t.Errorf("event name %q: want 2 to 30 characters", name)
			}
			if _, ok := f.members[hash]; !ok {
				f.fail(w, 404)
				return
			}
			f.events[hash] = append(f.events[hash], name)
			w.WriteHeader(204)
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			w.WriteHeader(405)
		}
	}))
	return f, srv
}

func (f *fakeList) fail(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/problem+json")
	if status == 429 {
		w.Header().Set("Retry-After", "20")
	}
	w.WriteHeader(status)
	title := map[int]string{400: "Invalid Resource", 404: "Resource Not Found", 429: "Too Many Requests"}[status]
	fmt.Fprintf(w, `{"type":"https://mailchimp.com/developer/marketing/docs/errors/","title":%q,"status":%d,"detail":"see docs","instance":"x"}`, title, status)
}

func (f *fakeList) tagged(email, tag string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tags[SubscriberHash(email)][tag]
}

func sinkOf(t *testing.T, srv *httptest.Server) destination.Sink {
	s, err := Preset().Build(config.Destination{Kind: Name, URL: srv.URL, Credential: &config.SecretRef{Env: "MC"}, Options: map[string]string{"list_id": "L1"}},
		destination.Env{HTTP: srv.Client(), Secrets: apitest.Secrets{"MC": key}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func m(id, email string) destination.Member {
	return destination.Member{ProfileID: id, Attributes: map[string]any{"email_address": email, "FNAME": "Ann"}}
}

func TestSubscriberHash(t *testing.T) {
	// The MD5 of the bytes "ann@example.com", computed with coreutils'
	// md5sum.
	const want = "257c57037d384ae37ea27a07e8a01665"
	for _, in := range []string{"ann@example.com", "Ann@Example.COM", "  ann@example.com "} {
		t.Run(in, func(t *testing.T) {
			if got := SubscriberHash(in); got != want {
				t.Errorf("SubscriberHash(%q) = %s; want %s", in, got, want)
			}
		})
	}
}

func TestDatacenterFromKey(t *testing.T) {
	c := &client{}
	got, err := c.base("abc123-us21")
	if err != nil || got != "https://us21.api.mailchimp.com/3.0" {
		t.Errorf("base(abc123-us21) = %q, %v; want https://us21.api.mailchimp.com/3.0", got, err)
	}
	if _, err := c.base("nodatacenter"); err == nil {
		t.Error("base(nodatacenter) = nil error; want one")
	}
}

func TestSyncProfiles(t *testing.T) {
	f, srv := newFake(t)
	defer srv.Close()
	f.answers["bad@example.com"] = 400
	res, err := sinkOf(t, srv).Profiles.SyncProfiles(context.Background(), destination.ProfileBatch{Members: []destination.Member{
		m("p1", "Ann@Example.com"), m("p2", "bad@example.com"), {ProfileID: "p3"}}})
	if err != nil {
		t.Fatal(err)
	}
	var rej []string
	for _, r := range res.Rejected {
		rej = append(rej, r.ProfileID+": "+r.Reason)
	}
	if res.Sent != 1 || fmt.Sprint(rej) != "[p2: HTTP 400 Invalid Resource p3: no email_address]" {
		t.Errorf("SyncProfiles() = sent %d, rejected %v; want 1 and p2 (400), p3 (no e-mail)", res.Sent, rej)
	}
	if got := f.members[SubscriberHash("ann@example.com")]["merge_fields"]; fmt.Sprint(got) != "map[FNAME:Ann]" {
		t.Errorf("merge_fields = %v; want FNAME Ann", got)
	}
}

func TestAudienceTags(t *testing.T) {
	f, srv := newFake(t)
	defer srv.Close()
	s := sinkOf(t, srv)
	ctx := context.Background()
	steps := []struct {
		name   string
		change destination.AudienceChange
		sent   int
		tagged map[string]bool
	}{
		{"add two", destination.AudienceChange{Audience: "VIP", Add: []destination.Member{m("p1", "ann@example.com"), m("p2", "bob@example.com")}}, 2,
			map[string]bool{"ann@example.com": true, "bob@example.com": true}},
		{"the same add again changes nothing", destination.AudienceChange{Audience: "VIP", Add: []destination.Member{m("p1", "ann@example.com")}}, 1,
			map[string]bool{"ann@example.com": true, "bob@example.com": true}},
		{"remove one", destination.AudienceChange{Audience: "VIP", Remove: []destination.Member{m("p2", "bob@example.com")}}, 1,
			map[string]bool{"ann@example.com": true, "bob@example.com": false}},
		{"removing an address not on the list is done", destination.AudienceChange{Audience: "VIP", Remove: []destination.Member{m("p9", "nobody@example.com")}}, 1,
			map[string]bool{"ann@example.com": true, "bob@example.com": false}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			res, err := s.Audience.SyncAudience(ctx, st.change)
			if err != nil || res.Sent != st.sent || len(res.Rejected) != 0 {
				t.Fatalf("SyncAudience() = %+v, %v; want %d sent", res, err, st.sent)
			}
			for email, want := range st.tagged {
				if got := f.tagged(email, "VIP"); got != want {
					t.Errorf("%s tagged VIP = %v; want %v", email, got, want)
				}
			}
		})
	}
}

func TestRateLimitedIsRetryable(t *testing.T) {
	f, srv := newFake(t)
	defer srv.Close()
	f.answers["ann@example.com"] = 429
	_, err := sinkOf(t, srv).Profiles.SyncProfiles(context.Background(), destination.ProfileBatch{Members: []destination.Member{m("p1", "ann@example.com")}})
	if !errors.Is(err, fault.ErrRetryable) {
		t.Fatalf("error = %v; want retryable", err)
	}
	if got, _ := destination.RetryAfter(err); got != 20*time.Second {
		t.Errorf("RetryAfter = %v; want 20s", got)
	}
}

func TestForwardEvents(t *testing.T) {
	f, srv := newFake(t)
	defer srv.Close()
	s := sinkOf(t, srv)
	ctx := context.Background()
	if _, err := s.Profiles.SyncProfiles(ctx, destination.ProfileBatch{Members: []destination.Member{m("p1", "ann@example.com")}}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Events.ForwardEvents(ctx, destination.EventBatch{Events: []destination.Event{
		{ID: "e1", Name: "Order Completed", Time: time.Unix(0, 0), Properties: map[string]any{"total": 12.5}, Member: m("p1", "ann@example.com")},
		{ID: "e2", Name: "Order Completed", Member: m("p2", "stranger@example.com")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 1 || len(res.Rejected) != 1 || res.Rejected[0].ProfileID != "p2" {
		t.Errorf("ForwardEvents() = %+v; want 1 sent, p2 (not a member) rejected", res)
	}
	if got := f.events[SubscriberHash("ann@example.com")]; !slices.Equal(got, []string{"Order_Completed"}) {
		t.Errorf("events of ann = %v; want [Order_Completed]", got)
	}
}
