package config

import "time"

// RFM configures the built-in RFM model: each profile gets a recency,
// frequency and monetary score from 1 to 5 (quintiles of a sample of
// profiles) and a label such as champions or at_risk.
type RFM struct {
	// Recency names the aggregate (or, failing that, attribute) holding the
	// time of the last purchase, e.g. last_order_at.
	Recency string `yaml:"recency" json:"recency" jsonschema:"minLength=1"`
	// Frequency names the aggregate (or attribute) counting purchases,
	// e.g. orders_count.
	Frequency string `yaml:"frequency" json:"frequency" jsonschema:"minLength=1"`
	// Monetary names the aggregate (or attribute) holding the amount
	// spent, e.g. total_spent.
	Monetary string `yaml:"monetary" json:"monetary" jsonschema:"minLength=1"`
	// Sample is how many profiles the quintile thresholds are computed
	// from; default 10000.
	Sample int `yaml:"sample,omitempty" json:"sample,omitempty" jsonschema:"minimum=0"`
	// Refresh is how often the thresholds are recomputed, as a Go
	// duration (24h, 6h30m); default 24h.
	Refresh string `yaml:"refresh,omitempty" json:"refresh,omitempty"`
}

// DefaultRFMSample and DefaultRFMRefresh apply when RFM leaves them unset.
const (
	DefaultRFMSample  = 10000
	DefaultRFMRefresh = 24 * time.Hour
)

// RefreshEvery returns Refresh as a duration, or DefaultRFMRefresh.
func (r *RFM) RefreshEvery() time.Duration {
	if d, err := time.ParseDuration(r.Refresh); err == nil && d > 0 {
		return d
	}
	return DefaultRFMRefresh
}

// SampleSize returns Sample, or DefaultRFMSample.
func (r *RFM) SampleSize() int {
	if r.Sample > 0 {
		return r.Sample
	}
	return DefaultRFMSample
}

func (v *validator) rfm(p string, r *RFM) {
	for _, f := range []struct{ key, val string }{
		{"recency", r.Recency}, {"frequency", r.Frequency}, {"monetary", r.Monetary},
	} {
		if f.val == "" {
			v.errorf(p+"."+f.key, "missing; expected the name of an aggregate or attribute")
		}
	}
	if r.Sample < 0 {
		v.errorf(p+".sample", "%d is negative; expected a number of profiles", r.Sample)
	}
	if r.Refresh != "" {
		d, err := time.ParseDuration(r.Refresh)
		switch {
		case err != nil:
			v.errorf(p+".refresh", "%q is not a duration; expected e.g. 24h or 6h30m", r.Refresh)
		case d < time.Minute:
			v.errorf(p+".refresh", "%s is too short; expected at least 1m", d)
		}
	}
}
