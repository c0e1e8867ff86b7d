package meta

import (
	"context"
	"fmt"
	"testing"

	"github.com/aurum-cdp/aurum/shared/destination"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// BenchmarkSync100k syncs 100,000 membership changes (70,000 adds and
// 30,000 removes, each member with an e-mail and a phone) to the in-test
// server, in changes of batch members, and reports the requests made and
// the bytes sent per 100 k changes. The time includes the server's own
// checks (same process).
func BenchmarkSync100k(b *testing.B) {
	const n = 100_000
	members := make([]destination.Member, n)
	f, srv := newFakeGraph(b)
	f.known["EMAIL"], f.known["PHONE"] = map[string]bool{}, map[string]bool{}
	for i := range members {
		e, p := fmt.Sprintf("user%d@example.com", i), fmt.Sprintf("+33612%07d", i)
		f.known["EMAIL"][hashOf(e)], f.known["PHONE"][hashOf(p[1:])] = true, true
		members[i] = destination.Member{ProfileID: fmt.Sprint("p", i), Identifiers: []profile.Identifier{{Type: "email", Value: e}, {Type: "phone", Value: p}}}
	}
	for _, batch := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			a := newAudience(b, f, srv.URL, 0)
			ctx := context.Background()
			f.requests, f.bytes = 0, 0
			b.ResetTimer()
			for range b.N {
				for start := 0; start < n; start += batch {
					ch := destination.AudienceChange{ID: fmt.Sprint("c", start), Audience: "vip"}
					part := members[start : start+batch]
					if start < 70_000 {
						ch.Add = part
					} else {
						ch.Remove = part
					}
					res, err := a.SyncAudience(ctx, ch)
					if err != nil || res.Sent != batch {
						b.Fatalf("SyncAudience = %+v, %v", res, err)
					}
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(f.requests)/float64(b.N), "requests/100k")
			b.ReportMetric(float64(f.bytes)/float64(b.N)/1e6, "MB/100k")
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "changes/s")
			f.check()
		})
	}
}
