package embedded

// fillPercent is how full bbolt fills the pages it splits, by bucket, where
// bbolt's default (half, right for keys that arrive in random order, which
// keeps pages about 69% full) does not fit: the outbox's keys are event
// times and a sequence number, appended in order and removed from the
// front, so its pages can be filled.
var fillPercent = map[string]float64{
	BucketOutbox: 1,
}
