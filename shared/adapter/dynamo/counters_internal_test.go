package dynamo

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aurum-cdp/aurum/shared/port/store"
)

// adds is a Client that records the single-item writes it is sent: the
// adds per item ("kind key/sort" → sum of N) and, in order, every write.
// Other calls fail.
type adds struct {
	Client
	mu     sync.Mutex
	sum    map[string]int64
	writes []string
	fail   error
}

func newAdds() *adds { return &adds{sum: map[string]int64{}} }

func (a *adds) name(k item) string {
	pk := strings.TrimPrefix(getS(k, PartitionKey), pfxItem)
	kind, key, _ := strings.Cut(pk, "#")
	return kind + " " + key + "/" + getS(k, SortKey)
}

func (a *adds) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return nil, a.fail
	}
	n, _ := strconv.ParseInt(in.ExpressionAttributeValues[":n"].(*types.AttributeValueMemberN).Value, 10, 64)
	op := "put"
	if strings.Contains(*in.UpdateExpression, "if_not_exists(#n") {
		op = "add"
		a.sum[a.name(in.Key)] += n
	}
	a.writes = append(a.writes, fmt.Sprintf("%s %s %d", op, a.name(in.Key), n))
	return &dynamodb.UpdateItemOutput{}, nil
}

func (a *adds) snapshot() (map[string]int64, []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	sum := make(map[string]int64, len(a.sum))
	for k, v := range a.sum {
		sum[k] = v
	}
	return sum, append([]string(nil), a.writes...)
}

func add(kind, key, sort string, n int64) store.Change {
	return store.Change{Items: []store.ItemWrite{{Op: store.ItemAdd, Item: store.Item{Kind: kind, Key: key, Sort: sort, N: n}}}}
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func deferring(c Client, clk *clock, f CounterFlush) *Store {
	return New(c, "t", Options{Counters: f, Now: clk.Now})
}

// TestCounterFlushMerges checks what one flush sends: one add per item
// with the sum of its deltas, the shards of a summed kind merged into the
// first one written, deltas that cancel out left out, and nothing before
// the flush.
func TestCounterFlushMerges(t *testing.T) {
	c, clk := newAdds(), &clock{t: time.Unix(1e9, 0)}
	st := deferring(c, clk, CounterFlush{Kinds: []string{"stats", "hist"}, Summed: []string{"stats"}, MaxAge: time.Minute})
	ctx := context.Background()
	for i, ch := range []store.Change{
		add("stats", "shard-3", "records", 1), add("stats", "shard-5", "records", 2),
		add("stats", "shard-1", "links", 1), add("hist", "a", "1", 1), add("hist", "b", "1", 1),
		add("hist", "a", "1", -1), add("hist", "a", "2", 4),
	} {
		if err := st.Commit(ctx, ch); err != nil {
			t.Fatalf("Commit(change %d) = %v", i, err)
		}
	}
	if _, w := c.snapshot(); len(w) != 0 {
		t.Fatalf("before the flush: sent %v; want nothing", w)
	}
	if err := st.FlushCounters(ctx); err != nil {
		t.Fatalf("FlushCounters() = %v", err)
	}
	sum, writes := c.snapshot()
	want := map[string]int64{"hist a/2": 4, "hist b/1": 1, "stats shard-3/links": 1, "stats shard-3/records": 3}
	if fmt.Sprint(sum) != fmt.Sprint(want) || len(writes) != len(want) {
		t.Errorf("flush sent %v (%d writes); want %v, one write each", sum, len(writes), want)
	}
	if err := st.FlushCounters(ctx); err != nil {
		t.Fatalf("second FlushCounters() = %v", err)
	}
	if _, again := c.snapshot(); len(again) != len(writes) {
		t.Errorf("second flush sent %v; want nothing more", again[len(writes):])
	}
}

// TestCounterFlushDue checks when Commit sends the pending deltas itself.
func TestCounterFlushDue(t *testing.T) {
	for _, tc := range []struct {
		name   string
		f      CounterFlush
		step   time.Duration
		commit int // commits, one item each, a step apart
		sent   int // writes sent by then
	}{
		{"before MaxAge", CounterFlush{MaxAge: time.Minute}, 10 * time.Second, 6, 0},
		{"at MaxAge", CounterFlush{MaxAge: time.Minute}, 10 * time.Second, 7, 7},
		{"MaxItems", CounterFlush{MaxAge: time.Hour, MaxItems: 3}, time.Second, 4, 3},
		{"no MaxAge", CounterFlush{}, time.Second, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.f.Kinds = []string{"stats"}
			c, clk := newAdds(), &clock{t: time.Unix(1e9, 0)}
			st := deferring(c, clk, tc.f)
			for i := range tc.commit {
				if i > 0 {
					clk.add(tc.step)
				}
				if err := st.Commit(context.Background(), add("stats", "k", fmt.Sprint(i), 1)); err != nil {
					t.Fatal(err)
				}
			}
			if _, w := c.snapshot(); len(w) != tc.sent {
				t.Errorf("after %d commits %v apart: sent %d writes %v; want %d", tc.commit, tc.step, len(w), w, tc.sent)
			}
		})
	}
}

// TestCounterFlushOnlyWhenDeferring checks that a commit deferring
// nothing does not send pending deltas that are due (its own result must
// not depend on a flush), and the next commit deferring an add does.
func TestCounterFlushOnlyWhenDeferring(t *testing.T) {
	c, clk := newAdds(), &clock{t: time.Unix(1e9, 0)}
	st := deferring(c, clk, CounterFlush{Kinds: []string{"stats"}, MaxAge: time.Minute})
	ctx := context.Background()
	steps := []struct {
		ch   store.Change
		sent int
	}{
		{add("stats", "k", "a", 1), 0},
		{add("other", "k", "a", 1), 1},     // due, but defers nothing: its own write only
		{add("stats", "k", "b", 1), 1 + 2}, // defers, and sends both pending
	}
	for i, step := range steps {
		if i > 0 {
			clk.add(time.Minute)
		}
		if err := st.Commit(ctx, step.ch); err != nil {
			t.Fatal(err)
		}
		if _, w := c.snapshot(); len(w) != step.sent {
			t.Errorf("after commit %d: sent %v; want %d writes", i, w, step.sent)
		}
	}
}

// TestCounterFlushNotDeferred checks that writes other than plain adds to
// the deferred kinds are sent at once, and that a write to an item with a
// pending delta sends the delta first.
func TestCounterFlushNotDeferred(t *testing.T) {
	put := store.Change{Items: []store.ItemWrite{{Op: store.ItemPut, Item: store.Item{Kind: "stats", Key: "k", Sort: "s", N: 7}}}}
	for _, tc := range []struct {
		name string
		ch   store.Change
		want []string
	}{
		{"other kind", add("other", "k", "s", 1), []string{"add other k/s 1"}},
		{"put", put, []string{"add stats k/s 2", "put stats k/s 7"}},
		{"add with expiry", store.Change{Items: []store.ItemWrite{{Op: store.ItemAdd,
			Item: store.Item{Kind: "stats", Key: "k", Sort: "t", N: 1, Expires: time.Unix(2e9, 0)}}}}, []string{"add stats k/t 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, clk := newAdds(), &clock{t: time.Unix(1e9, 0)}
			st := deferring(c, clk, CounterFlush{Kinds: []string{"stats"}, MaxAge: time.Hour})
			if err := st.Commit(context.Background(), add("stats", "k", "s", 2)); err != nil {
				t.Fatal(err)
			}
			if err := st.Commit(context.Background(), tc.ch); err != nil {
				t.Fatalf("Commit = %v", err)
			}
			if _, w := c.snapshot(); fmt.Sprint(w) != fmt.Sprint(tc.want) {
				t.Errorf("sent %v; want %v", w, tc.want)
			}
		})
	}
}

// TestCounterFlushDropsFailed checks the at-most-once rule: adds whose
// send failed are reported and never sent again.
func TestCounterFlushDropsFailed(t *testing.T) {
	c, clk := newAdds(), &clock{t: time.Unix(1e9, 0)}
	st := deferring(c, clk, CounterFlush{Kinds: []string{"stats"}, MaxAge: time.Hour})
	ctx := context.Background()
	if err := st.Commit(ctx, add("stats", "k", "a", 1), add("stats", "k", "b", 1)); err != nil {
		t.Fatal(err)
	}
	c.fail = &types.InternalServerError{Message: aws.String("boom")}
	if err := st.FlushCounters(ctx); err == nil || !strings.Contains(err.Error(), "2 of 2") {
		t.Errorf("FlushCounters() with a failing table = %v; want an error naming 2 of 2 adds", err)
	}
	c.fail = nil
	if err := st.Commit(ctx, add("stats", "k", "a", 5)); err != nil {
		t.Fatal(err)
	}
	if err := st.FlushCounters(ctx); err != nil {
		t.Fatal(err)
	}
	if sum, _ := c.snapshot(); fmt.Sprint(sum) != fmt.Sprint(map[string]int64{"stats k/a": 5}) {
		t.Errorf("after a failed flush and a new add of 5: sent %v; want only the new add", sum)
	}
}

// TestCounterFlushConcurrent commits adds from many goroutines while
// others flush: every delta is sent exactly once.
func TestCounterFlushConcurrent(t *testing.T) {
	c, clk := newAdds(), &clock{t: time.Unix(1e9, 0)}
	st := deferring(c, clk, CounterFlush{Kinds: []string{"stats"}, Summed: []string{"stats"}, MaxAge: time.Millisecond, MaxItems: 3})
	ctx := context.Background()
	var wg sync.WaitGroup
	const writers, each = 8, 200
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				clk.add(time.Microsecond * 300)
				ch := add("stats", fmt.Sprint("shard-", w), fmt.Sprint("c", i%5), 1)
				if err := st.Commit(ctx, ch); err != nil {
					t.Error(err)
					return
				}
				if i%50 == 0 {
					if err := st.FlushCounters(ctx); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	sum, _ := c.snapshot()
	var total int64
	for _, n := range sum {
		total += n
	}
	if total != writers*each {
		t.Errorf("sent adds summing to %d; want %d, each delta once", total, writers*each)
	}
}

// TestCounterFlushOff checks that a store without Options.Counters sends
// every add at once.
func TestCounterFlushOff(t *testing.T) {
	c := newAdds()
	st := New(c, "t", Options{})
	if err := st.Commit(context.Background(), add("stats", "k", "s", 1)); err != nil {
		t.Fatal(err)
	}
	if _, w := c.snapshot(); len(w) != 1 {
		t.Errorf("sent %v; want the add at once", w)
	}
	if err := st.FlushCounters(context.Background()); err != nil {
		t.Errorf("FlushCounters() = %v; want nil", err)
	}
}
