package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aurum-cdp/aurum/shared/model/fault"
	"github.com/aurum-cdp/aurum/shared/port/store"
)

// MaxRefs bounds the contributors remembered per top value.
const MaxRefs = 4

// RecordRef is what the catalog keeps of the record a sample or top value
// came from: a short salted hash of its record key ("source/id"), never
// the key itself, which may embed personal data.
func RecordRef(recordKey string) string {
	h := sha256.Sum256([]byte("aurum-catalog\x00" + recordKey))
	return base64.RawURLEncoding.EncodeToString(h[:9])
}

// addRefs adds refs to dst without duplicates, up to MaxRefs; dst is not
// modified in place.
func addRefs(dst []string, refs ...string) []string {
	out := dst
	for _, r := range refs {
		if r == "" || len(out) >= MaxRefs || slices.Contains(out, r) {
			continue
		}
		if len(out) == len(dst) {
			out = slices.Clone(dst)
		}
		out = append(out, r)
	}
	return out
}

// Forget removes from the catalog what the records of recordKeys
// ("source/id") contributed, for a GDPR erasure: in each field and
// identifier item of their sources,
//
//   - a sample is dropped when it came from one of the records, or when
//     its record is unknown (catalogued before records were remembered)
//     and the field is personal;
//   - a top value is dropped when every contributor it remembers is one
//     of the records (it may have had more than MaxRefs contributors: the
//     value is dropped all the same), or when it remembers none and is
//     personal (a value of a personal field, or an identifier value that
//     is not a placeholder); a top value that other records contributed
//     too stays, without the erased references.
//
// Counts, type counts and distinct-count sketches stay: they are
// aggregates that name nobody. Forget reads items by source (no scan),
// writes only the items that change, with optimistic version checks, and
// is idempotent: a repeated call changes nothing. It returns the number
// of samples and top values removed.
func Forget(ctx context.Context, st Store, recordKeys []string) (int, error) {
	erased := map[string]bool{}
	var sources []string
	for _, k := range recordKeys {
		src, id, ok := strings.Cut(k, "/")
		if !ok || src == "" || id == "" {
			continue
		}
		erased[RecordRef(k)] = true
		if !slices.Contains(sources, src) {
			sources = append(sources, src)
		}
	}
	slices.Sort(sources)
	removed := 0
	for _, src := range sources {
		n, err := forgetSource(ctx, st, src, erased)
		if err != nil {
			return removed, fmt.Errorf("catalog: forget in source %s: %w", src, err)
		}
		removed += n
	}
	return removed, nil
}

// forgetSource rewrites the items of one source, again from a fresh read
// when another writer got there first.
func forgetSource(ctx context.Context, st Store, source string, erased map[string]bool) (int, error) {
	const attempts = 12
	for attempt := 1; ; attempt++ {
		n, err := forgetOnce(ctx, st, source, erased)
		if err == nil || !errors.Is(err, fault.ErrConflict) || attempt == attempts {
			return n, err
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(time.Duration(attempt) * 5 * time.Millisecond):
		}
	}
}

func forgetOnce(ctx context.Context, st Store, source string, erased map[string]bool) (int, error) {
	var writes []store.ItemWrite
	removed := 0
	replace := func(it store.Item, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", it.Kind, it.Sort, err)
		}
		writes = append(writes, store.ItemWrite{Op: store.ItemReplace, ExpectVersion: it.Version,
			Item: store.Item{Kind: it.Kind, Key: it.Key, Sort: it.Sort, Value: b}})
		return nil
	}
	fields, err := readAll(ctx, st, KindField, source)
	if err != nil {
		return 0, err
	}
	for _, it := range fields {
		var s fieldState
		if err := unmarshal(it.Value, &s); err != nil {
			return 0, fmt.Errorf("%s %s: %w", it.Kind, it.Sort, err)
		}
		n, changed := s.forget(erased)
		if !changed {
			continue
		}
		removed += n
		if err := replace(it, s); err != nil {
			return 0, err
		}
	}
	idents, err := readAll(ctx, st, KindIdent, source)
	if err != nil {
		return 0, err
	}
	for _, it := range idents {
		var s identState
		if err := unmarshal(it.Value, &s); err != nil {
			return 0, fmt.Errorf("%s %s: %w", it.Kind, it.Sort, err)
		}
		var n int
		var changed bool
		s.Top, n, changed = forgetCounted(s.Top, erased, func(c Counted) bool { return !c.Placeholder })
		if !changed {
			continue
		}
		removed += n
		if err := replace(it, s); err != nil {
			return 0, err
		}
	}
	for start := 0; start < len(writes); start += maxWrites {
		ch := store.Change{Items: writes[start:min(start+maxWrites, len(writes))]}
		if err := st.Commit(ctx, ch); err != nil {
			return 0, fmt.Errorf("write statistics: %w", err)
		}
	}
	return removed, nil
}

// forget removes the samples and top values of erased records; it
// reports how many were removed and whether the state changed.
func (s *fieldState) forget(erased map[string]bool) (int, bool) {
	removed, changed := 0, false
	if len(s.Samples) > 0 {
		var samples, refs []string
		for i, v := range s.Samples {
			ref := ""
			if i < len(s.SampleRefs) {
				ref = s.SampleRefs[i]
			}
			if erased[ref] || (ref == "" && s.PII) {
				removed++
				continue
			}
			samples, refs = append(samples, v), append(refs, ref)
		}
		if removed > 0 {
			s.Samples, s.SampleRefs, changed = samples, refs, true
		}
	}
	top, n, topChanged := forgetCounted(s.Top, erased, func(Counted) bool { return s.PII })
	if topChanged {
		s.Top, changed = top, true
	}
	return removed + n, changed
}

// forgetCounted removes the erased references of top, and the values
// left without a contributor; a value that never had one is removed when
// personal says so.
func forgetCounted(top []Counted, erased map[string]bool, personal func(Counted) bool) ([]Counted, int, bool) {
	var out []Counted
	removed, changed := 0, false
	for _, c := range top {
		if len(c.Refs) == 0 {
			if personal(c) {
				removed++
				continue
			}
			out = append(out, c)
			continue
		}
		kept := slices.DeleteFunc(slices.Clone(c.Refs), func(r string) bool { return erased[r] })
		switch {
		case len(kept) == 0:
			removed++
			continue
		case len(kept) < len(c.Refs):
			c.Refs, changed = kept, true
		}
		out = append(out, c)
	}
	return out, removed, changed || removed > 0
}
