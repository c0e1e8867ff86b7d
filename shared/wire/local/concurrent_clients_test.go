package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	aevents "github.com/aurum-cdp/aurum/shared/model/events"
	"github.com/aurum-cdp/aurum/shared/wire/local"
	"github.com/aurum-cdp/aurum/shared/wire/local/localtest"
)

// clients is the number of concurrent clients of the tests below.
const clients = 8

// updates collects the ids of the ProfileUpdated events local mode
// publishes: one per committed change, so one per accepted message.
type updates struct {
	mu  sync.Mutex
	ids map[string]bool
}

func (u *updates) observe(_ context.Context, env aevents.Envelope) error {
	if env.DetailType == aevents.TypeProfileUpdated {
		u.mu.Lock()
		if u.ids == nil {
			u.ids = map[string]bool{}
		}
		u.ids[env.ID] = true
		u.mu.Unlock()
	}
	return nil
}

func (u *updates) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.ids)
}

// check waits (bounded) for the relay to publish the ProfileUpdated
// events of n accepted messages, stops local mode (which drains the
// outbox) and checks that exactly n were published: a duplicate
// delivery changes nothing, so it publishes nothing.
func (u *updates) check(t *testing.T, lm *localtest.Instance, n int) {
	t.Helper()
	lm.WaitFor(t, fmt.Sprintf("%d ProfileUpdated events", n), 2*time.Minute, func() bool { return u.count() >= n })
	lm.Stop(t)
	if got := u.count(); got != n {
		t.Errorf("published %d ProfileUpdated events; want %d (one per accepted message)", got, n)
	}
}

// call is one POST of a client: a path (/v1/batch, /v1/track ...) and a
// JSON body.
type call struct{ path, body string }

// batchReply is what a test reads of a tracking answer.
type batchReply struct {
	status     int
	Accepted   int   `json:"accepted"`
	Duplicates int   `json:"duplicates"`
	Rejected   []any `json:"rejected"`
}

// post sends cl with the sample write key.
func post(c *http.Client, base string, cl call) (batchReply, error) {
	req, err := http.NewRequest("POST", base+cl.path, strings.NewReader(cl.body))
	if err != nil {
		return batchReply{}, err
	}
	req.SetBasicAuth("dev-write-key", "")
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return batchReply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return batchReply{}, err
	}
	r := batchReply{status: resp.StatusCode}
	if resp.StatusCode/100 != 2 {
		return r, fmt.Errorf("POST %s = %d %s; want 2xx", cl.path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("POST %s: decode %s: %v", cl.path, b, err)
	}
	return r, nil
}

// batchCall is a /v1/batch call of messages, sent at sentAt.
func batchCall(msgs []map[string]any, sentAt time.Time) call {
	return call{"/v1/batch", jsonString(map[string]any{"batch": msgs, "sentAt": sentAt.Format(time.RFC3339Nano)})}
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// sendAll has clients goroutines send their calls (plan[c]) in order, at
// once, and returns the answers; a failed call is a test error.
func sendAll(t *testing.T, base string, plan [][]call) []batchReply {
	t.Helper()
	var (
		mu      sync.Mutex
		replies []batchReply
		wg      sync.WaitGroup
		start   = make(chan struct{})
	)
	for c := range plan {
		wg.Go(func() {
			hc := &http.Client{Timeout: time.Minute}
			<-start
			for _, cl := range plan[c] {
				r, err := post(hc, base, cl)
				if err != nil {
					t.Errorf("client %d: %v", c, err)
				}
				mu.Lock()
				replies = append(replies, r)
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	return replies
}

// sums adds up the answers.
func sums(replies []batchReply) (accepted, duplicates int) {
	for _, r := range replies {
		accepted += r.Accepted
		duplicates += r.Duplicates
	}
	return accepted, duplicates
}

// profileOf returns the profile of customer id user and its event ids.
func profileOf(t *testing.T, base, user string) (recordCount int, eventIDs []string) {
	t.Helper()
	prof := getJSON(t, base+"/v1/profiles?identifier=customer_id:"+user)
	n, _ := prof["record_count"].(float64)
	id, _ := prof["id"].(string)
	cursor := ""
	for range 100 {
		url := base + "/v1/profiles/" + id + "/events?limit=100"
		if cursor != "" {
			url += "&cursor=" + cursor
		}
		page := getJSON(t, url)
		evs, _ := page["events"].([]any)
		for _, e := range evs {
			m, _ := e.(map[string]any)
			eid, _ := m["id"].(string)
			eventIDs = append(eventIDs, eid)
		}
		if cursor, _ = page["next_cursor"].(string); cursor == "" {
			break
		}
	}
	slices.Sort(eventIDs)
	return int(n), eventIDs
}

// identityRecords returns the records count of the identity statistics.
func identityRecords(t *testing.T, base string) int {
	t.Helper()
	n, _ := getJSON(t, base+"/v1/identity/stats")["records"].(float64)
	return int(n)
}

// TestConcurrentBatchRedelivery: clients clients post the same /v1/batch
// bodies (the same messageIds), each in its own order, at once. Every
// answer is 2xx; each message is accepted by exactly one answer and a
// duplicate in the others; the profiles hold each message once and the
// identity statistics count each once.
func TestConcurrentBatchRedelivery(t *testing.T) {
	const users, bodies, perUser = 40, 5, 5 // 200 messages, 40 a body
	up := &updates{}
	lm := localtest.Start(t, "../../..", local.Options{Observe: up.observe})
	ts := time.Date(2025, 4, 1, 10, 0, 0, 0, time.UTC)
	var all [][]map[string]any      // per body
	byUser := map[string][]string{} // the ids of each user's events
	for b := range bodies {
		var msgs []map[string]any
		for u := b * users / bodies; u < (b+1)*users/bodies; u++ {
			user := fmt.Sprintf("cc-%03d", u)
			for k := range perUser {
				id := fmt.Sprintf("cc-%03d-%d", u, k)
				at := ts.Add(time.Duration(u*perUser+k) * time.Second).Format(time.RFC3339Nano)
				m := map[string]any{"messageId": id, "userId": user, "timestamp": at}
				if k == 0 {
					m["type"], m["traits"] = "identify", map[string]any{"email": user + "@example.com", "plan": "pro"}
				} else {
					m["type"], m["event"], m["properties"] = "track", "Viewed", map[string]any{"n": k}
					byUser[user] = append(byUser[user], id)
				}
				msgs = append(msgs, m)
			}
		}
		all = append(all, msgs)
	}
	sentAt := ts.Add(time.Hour)
	plan := make([][]call, clients)
	for c := range plan {
		r := rand.New(rand.NewPCG(uint64(c), 9))
		for _, b := range r.Perm(bodies) {
			msgs := slices.Clone(all[b])
			r.Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })
			plan[c] = append(plan[c], batchCall(msgs, sentAt))
		}
	}
	replies := sendAll(t, lm.Base, plan)
	n := users * perUser
	if acc, dup := sums(replies); acc != n || dup != (clients-1)*n {
		t.Errorf("%d clients posting the same %d messages: accepted %d, duplicates %d in the answers; want %d, %d",
			clients, n, acc, dup, n, (clients-1)*n)
	}
	for u := range users {
		user := fmt.Sprintf("cc-%03d", u)
		count, evs := profileOf(t, lm.Base, user)
		if want := byUser[user]; count != perUser || !slices.Equal(evs, want) {
			t.Errorf("profile of %s: %d records, events %v; want %d records, events %v (each once)", user, count, evs, perUser, want)
		}
	}
	if got := identityRecords(t, lm.Base); got != n {
		t.Errorf("GET /v1/identity/stats: records %d; want %d (each message counted once)", got, n)
	}
	up.check(t, lm, n)
}

// hotUser is the one user of the hot-profile tests.
const hotUser = "hot-user"

// hotRound returns what device c of hotUser sends in round r: an identify,
// a track and an alias (one batch), and a single track; and the ids of
// the messages that are events.
func hotRound(c, r int) (batch []map[string]any, single map[string]any, events []string) {
	ts := time.Date(2025, 4, 2, 10, 0, 0, 0, time.UTC)
	anon := fmt.Sprintf("hot-device-%d", c)
	id := func(kind string) string { return fmt.Sprintf("hot-%d-%d-%s", c, r, kind) }
	at := func(k int) string { return ts.Add(time.Duration((c*100+r)*4+k) * time.Second).Format(time.RFC3339Nano) }
	batch = []map[string]any{
		{"type": "identify", "messageId": id("identify"), "userId": hotUser, "anonymousId": anon, "timestamp": at(0),
			"traits": map[string]any{"email": "hot@example.com", "device": c}},
		{"type": "track", "messageId": id("track"), "userId": hotUser, "anonymousId": anon, "timestamp": at(1),
			"event": "Order Completed", "properties": map[string]any{"revenue": 10}},
		{"type": "alias", "messageId": id("alias"), "userId": hotUser, "previousId": anon, "timestamp": at(2)},
	}
	single = map[string]any{"type": "track", "messageId": id("single"), "userId": hotUser, "anonymousId": anon, "timestamp": at(3),
		"event": "Product Viewed"}
	return batch, single, []string{id("track"), id("alias"), id("single")}
}

// hotPlan returns the calls of device c over rounds rounds (then retries
// of its first batch and first single track) and the ids of its events.
func hotPlan(c, rounds int) ([]call, []string) {
	var calls []call
	var events []string
	for r := range rounds {
		batch, single, evs := hotRound(c, r)
		calls = append(calls, batchCall(batch, time.Date(2025, 4, 2, 11, 0, 0, 0, time.UTC)), call{"/v1/track", jsonString(single)})
		events = append(events, evs...)
	}
	return append(calls, calls[0], calls[1]), events
}

// checkHotProfile checks that hotUser's profile holds n records and the
// events once each, and that the identity statistics count n records.
func checkHotProfile(t *testing.T, base string, n int, events []string) {
	t.Helper()
	events = slices.Sorted(slices.Values(events))
	count, evs := profileOf(t, base, hotUser)
	if count != n || !slices.Equal(evs, events) {
		t.Errorf("profile of %s: %d records, %d events; want %d records, the %d events once each\ngot  %v\nwant %v", hotUser, count, len(evs), n, len(events), evs, events)
	}
	if got := identityRecords(t, base); got != n {
		t.Errorf("GET /v1/identity/stats: records %d; want %d (each message counted once)", got, n)
	}
}

// TestConcurrentHotProfile: clients clients, each a device of ONE user,
// send identify + track + alias batches and single /v1/track calls at
// once, and each sends its first batch and its first single track twice
// (retries). Every answer is 2xx, never a conflict; each message is
// accepted once and stored once.
func TestConcurrentHotProfile(t *testing.T) {
	const rounds = 4
	up := &updates{}
	lm := localtest.Start(t, "../../..", local.Options{Observe: up.observe})
	plan := make([][]call, clients)
	var events []string
	for c := range plan {
		calls, evs := hotPlan(c, rounds)
		plan[c], events = calls, append(events, evs...)
	}
	replies := sendAll(t, lm.Base, plan)
	n := clients * rounds * 4
	if acc, dup := sums(replies); acc != n || dup != clients*4 {
		t.Errorf("%d clients of one user: accepted %d, duplicates %d in the answers; want %d, %d", clients, acc, dup, n, clients*4)
	}
	for _, r := range replies {
		if len(r.Rejected) > 0 {
			t.Errorf("answer rejected %v; want every message accepted", r.Rejected)
		}
	}
	checkHotProfile(t, lm.Base, n, events)
	up.check(t, lm, n)
}
