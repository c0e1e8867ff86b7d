package segment

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/aurum-cdp/aurum/shared/config"
	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// Thresholds are the quintile boundaries of the RFM model, computed from a
// sample of profiles. Each slice holds four ascending boundaries (the 20th,
// 40th, 60th and 80th percentiles).
type Thresholds struct {
	// RecencyAge holds ages of the last purchase (now minus recency).
	RecencyAge []time.Duration `json:"recency_age"`
	Frequency  []float64       `json:"frequency"`
	Monetary   []float64       `json:"monetary"`
	// Profiles is how many profiles with a recency value were sampled.
	Profiles   int       `json:"profiles"`
	ComputedAt time.Time `json:"computed_at"`
}

func (t *Thresholds) valid() bool {
	return t != nil && len(t.RecencyAge) == 4 && len(t.Frequency) == 4 && len(t.Monetary) == 4
}

// rfmModel scores profiles with the thresholds in force.
type rfmModel struct {
	cfg config.RFM
	th  *Thresholds
}

// SetThresholds puts new RFM thresholds in force; scores computed from then
// on use them. It does nothing without an RFM configuration.
func (e *Evaluator) SetThresholds(t Thresholds) {
	if e.rfmCfg == nil {
		return
	}
	e.rfm.Store(&rfmModel{cfg: *e.rfmCfg, th: &t})
}

// Thresholds returns the RFM thresholds in force, if any.
func (e *Evaluator) Thresholds() (Thresholds, bool) {
	m := e.rfm.Load()
	if m == nil || !m.th.valid() {
		return Thresholds{}, false
	}
	return *m.th, true
}

// RFMConfig returns the RFM configuration, nil when RFM is off.
func (e *Evaluator) RFMConfig() *config.RFM { return e.rfmCfg }

// values returns the profile's recency time, frequency and monetary value.
func (m *rfmModel) values(p *profile.Profile) (time.Time, float64, float64, bool) {
	r, ok := lookupTime(p, m.cfg.Recency)
	if !ok {
		return time.Time{}, 0, 0, false
	}
	f, _ := lookupNumber(p, m.cfg.Frequency)
	mv, _ := lookupNumber(p, m.cfg.Monetary)
	return r, f, mv, true
}

// rfmInput is what scoring needs from a profile, read once per evaluation.
type rfmInput struct {
	last  time.Time
	f, mv float64
	ok    bool
}

// input reads p's RFM values; ok is false without a model, thresholds or
// recency value.
func (m *rfmModel) input(p *profile.Profile) rfmInput {
	if m == nil || !m.th.valid() {
		return rfmInput{}
	}
	last, f, mv, ok := m.values(p)
	return rfmInput{last: last, f: f, mv: mv, ok: ok}
}

// scoreOf scores in at now.
func (m *rfmModel) scoreOf(in rfmInput, now time.Time) (profile.RFM, bool) {
	if !in.ok {
		return profile.RFM{}, false
	}
	age := now.Sub(in.last)
	r := 5
	for _, q := range m.th.RecencyAge {
		if age > q {
			r--
		}
	}
	s := profile.RFM{R: r, F: quintile(in.f, m.th.Frequency), M: quintile(in.mv, m.th.Monetary), At: now}
	s.Label = Label(s.R, s.F)
	return s, true
}

// instants returns when the recency score drops: the last purchase plus
// each recency boundary.
func (m *rfmModel) instants(in rfmInput) [4]time.Time {
	var out [4]time.Time
	if !in.ok {
		return out
	}
	for i, q := range m.th.RecencyAge[:4] {
		out[i] = in.last.Add(q)
	}
	return out
}

// quintile is 1 plus the number of boundaries v exceeds.
func quintile(v float64, bounds []float64) int {
	s := 1
	for _, b := range bounds {
		if v > b {
			s++
		}
	}
	return s
}

// Label names an RFM cell from its recency and frequency scores, after the
// common RFM segment grid.
func Label(r, f int) string {
	switch {
	case r >= 4 && f >= 4:
		return "champions"
	case r >= 4 && f <= 1:
		return "new_customers"
	case r >= 3 && f >= 3:
		return "loyal"
	case r >= 3:
		return "promising"
	case r <= 1 && f >= 4:
		return "cant_lose"
	case r <= 2 && f >= 3:
		return "at_risk"
	case r == 2:
		return "hibernating"
	default:
		return "lost"
	}
}

// ComputeThresholds computes RFM quintile thresholds at now from a uniform
// sample (reservoir sampling) of at most sample profiles that have a
// recency value.
func ComputeThresholds(ctx context.Context, cfg config.RFM, profiles iter.Seq2[*profile.Profile, error], sample int, now time.Time, rng *rand.Rand) (Thresholds, error) {
	if sample <= 0 {
		sample = cfg.SampleSize()
	}
	if rng == nil {
		rng = rand.New(rand.NewPCG(uint64(now.UnixNano()), 0x5eed))
	}
	m := &rfmModel{cfg: cfg}
	type row struct {
		age  time.Duration
		f, m float64
	}
	var res []row
	seen := 0
	for p, err := range profiles {
		if err != nil {
			return Thresholds{}, fmt.Errorf("segment: rfm thresholds: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return Thresholds{}, fmt.Errorf("segment: rfm thresholds: %w", err)
		}
		last, f, mv, ok := m.values(p)
		if !ok {
			continue
		}
		r := row{age: now.Sub(last), f: f, m: mv}
		seen++
		if len(res) < sample {
			res = append(res, r)
		} else if j := rng.IntN(seen); j < sample {
			res[j] = r
		}
	}
	t := Thresholds{Profiles: len(res), ComputedAt: now.UTC()}
	if len(res) == 0 {
		return t, nil
	}
	ages := make([]time.Duration, len(res))
	fs := make([]float64, len(res))
	ms := make([]float64, len(res))
	for i, r := range res {
		ages[i], fs[i], ms[i] = r.age, r.f, r.m
	}
	slices.Sort(ages)
	slices.Sort(fs)
	slices.Sort(ms)
	for q := 1; q <= 4; q++ {
		i := min(len(res)-1, q*len(res)/5)
		t.RecencyAge = append(t.RecencyAge, ages[i])
		t.Frequency = append(t.Frequency, fs[i])
		t.Monetary = append(t.Monetary, ms[i])
	}
	return t, nil
}

// Item coordinates of the RFM thresholds.
const (
	KindRFM     = "seg.rfm"
	rfmKey      = "thresholds"
	rfmSortCurr = "current"
)

func encodeThresholds(t Thresholds) ([]byte, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("segment: encode rfm thresholds: %w", err)
	}
	return b, nil
}

// lookupTime finds a timestamp under name in the aggregates, then the
// attributes (time.Time or an RFC 3339 string).
func lookupTime(p *profile.Profile, name string) (time.Time, bool) {
	v, ok := p.Aggregates[name]
	if !ok {
		a, ok2 := p.Attributes[name]
		if !ok2 {
			return time.Time{}, false
		}
		v = a.Value
	}
	switch x := v.(type) {
	case time.Time:
		return x, true
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		return t, err == nil
	}
	return time.Time{}, false
}

// lookupNumber finds a number under name in the aggregates, then the
// attributes.
func lookupNumber(p *profile.Profile, name string) (float64, bool) {
	v, ok := p.Aggregates[name]
	if !ok {
		a, ok2 := p.Attributes[name]
		if !ok2 {
			return 0, false
		}
		v = a.Value
	}
	return profile.Number(v)
}
