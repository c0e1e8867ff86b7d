package identity

import "strconv"

// PairScore is a pairwise evaluation of a clustering against the truth:
// every pair of records in one predicted cluster is a predicted link.
type PairScore struct {
	TruePositives  int64   `json:"tp"`
	FalsePositives int64   `json:"fp"`
	FalseNegatives int64   `json:"fn"`
	Precision      float64 `json:"precision"`
	Recall         float64 `json:"recall"`
	F1             float64 `json:"f1"`
}

// ScorePairs compares predicted cluster labels with true ones, record by
// record (pred[i] and truth[i] label record i). Records with an empty
// predicted label are singletons; an empty true label is a record of its
// own entity.
func ScorePairs(pred, truth []string) PairScore {
	pairs := func(n int64) int64 { return n * (n - 1) / 2 }
	pc, tc := map[string]int64{}, map[string]int64{}
	both := map[[2]string]int64{}
	for i := range pred {
		p, t := pred[i], truth[i]
		if p == "" {
			p = "\x00" + strconv.Itoa(i) // a rejected record is a singleton
		}
		if t == "" {
			t = "\x00" + strconv.Itoa(i)
		}
		pc[p]++
		tc[t]++
		both[[2]string{p, t}]++
	}
	var tp, predicted, actual int64
	for _, n := range both {
		tp += pairs(n)
	}
	for _, n := range pc {
		predicted += pairs(n)
	}
	for _, n := range tc {
		actual += pairs(n)
	}
	s := PairScore{TruePositives: tp, FalsePositives: predicted - tp, FalseNegatives: actual - tp}
	if predicted > 0 {
		s.Precision = float64(tp) / float64(predicted)
	}
	if actual > 0 {
		s.Recall = float64(tp) / float64(actual)
	}
	if s.Precision+s.Recall > 0 {
		s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
	}
	return s
}
