// Package synth generates synthetic customer data with ground truth: the
// same people seen through the five sample source shapes of testdata/sample
// (CRM export, web-shop orders, point of sale, newsletter, Segment web
// events), corrupted the way real sources are — typos, case changes,
// missing fields, swapped day and month, nicknames, gmail dot variants,
// phone numbers written in many formats and in the wrong region, and
// placeholder values shared by strangers — plus truth.csv, which names the
// person behind every record.
//
// Generation is deterministic (same Options, same bytes) and streaming:
// memory stays constant however many people are generated, so it can write
// the multi-gigabyte files that memory benchmarks need. The output files
// have the columns the root aurum.yaml maps, so the same configuration
// ingests the hand-written sample and generated sets.
//
// Every identifier a person owns (e-mail address, phone number, customer id,
// loyalty card) is unique to that person, by construction, up to MaxPeople
// people. Identifiers are shared only on purpose: placeholder values
// (test@test.com, 0000000000) typed for many strangers, and the landline of
// a household of two people.
package synth

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"time"
)

// Source names, as in aurum.yaml; truth.csv uses them in its source column.
const (
	SourceCRM        = "crm"
	SourceShop       = "shop"
	SourcePOS        = "pos"
	SourceNewsletter = "newsletter"
	SourceWeb        = "web"
)

// Sources lists the source names in output order.
var Sources = []string{SourceCRM, SourceShop, SourcePOS, SourceNewsletter, SourceWeb}

// Files maps each source to its file path under an output directory; the
// layout is that of testdata/sample.
var Files = map[string]string{
	SourceCRM:        "crm/contacts.csv",
	SourceShop:       "shop/orders.jsonl",
	SourcePOS:        "pos/transactions.csv",
	SourceNewsletter: "newsletter/subscribers.csv",
	SourceWeb:        "web/events.jsonl",
}

// TruthFile is the name of the ground-truth file.
const TruthFile = "truth.csv"

// TruthHeader is the header line of truth.csv.
const TruthHeader = "source,record_id,person_id"

// idSpace is the size of the number spaces that make identifiers unique.
const idSpace = 10_000_000

// MaxPeople is the most people one run can generate with identifiers that
// stay unique.
const MaxPeople = idSpace

// Options control a run.
type Options struct {
	// Seed selects the data set: the same seed gives the same bytes.
	Seed uint64
	// People is the number of people to generate. With CRMOnly and
	// TargetBytes it is an upper bound, and 0 means no bound.
	People int
	// CRMOnly writes only the CRM export (and its truth), one or more rows
	// for every person.
	CRMOnly bool
	// TargetBytes, with CRMOnly, stops generating people once the CRM
	// output has reached this many bytes; the file ends after the person
	// that crossed the limit.
	TargetBytes int64
}

// Writers receive the generated files. A nil writer discards its output;
// the other outputs do not change.
type Writers struct {
	CRM, Shop, POS, Newsletter, Web io.Writer
	// Truth receives truth.csv: one row per distinct record id.
	Truth io.Writer
}

func (w Writers) bySource(name string) io.Writer {
	switch name {
	case SourceCRM:
		return w.CRM
	case SourceShop:
		return w.Shop
	case SourcePOS:
		return w.POS
	case SourceNewsletter:
		return w.Newsletter
	default:
		return w.Web
	}
}

// SourceSummary counts what was written for one source.
type SourceSummary struct {
	Source string
	// Records is the number of distinct record ids (rows of truth.csv).
	Records int
	// Rows is the number of rows or lines, re-delivered duplicates included.
	Rows int
	// Bytes is the size of the file.
	Bytes int64
}

// Summary describes a finished run.
type Summary struct {
	People  int
	Sources []SourceSummary
	// TruthBytes is the size of truth.csv.
	TruthBytes int64
}

// Records returns the total number of distinct records.
func (s Summary) Records() int {
	n := 0
	for _, src := range s.Sources {
		n += src.Records
	}
	return n
}

// Generate writes a data set to w and returns what it wrote.
func Generate(w Writers, opts Options) (Summary, error) {
	switch {
	case opts.People < 0:
		return Summary{}, fmt.Errorf("synth: people %d is negative", opts.People)
	case opts.People > MaxPeople:
		return Summary{}, fmt.Errorf("synth: people %d exceeds %d", opts.People, MaxPeople)
	case opts.TargetBytes < 0:
		return Summary{}, fmt.Errorf("synth: target size %d is negative", opts.TargetBytes)
	case opts.TargetBytes > 0 && !opts.CRMOnly:
		return Summary{}, errors.New("synth: a target size needs CRM-only mode")
	case opts.People == 0 && opts.TargetBytes == 0:
		return Summary{}, errors.New("synth: need a number of people or a target size")
	}
	g := newGenerator(w, opts)
	n := 0
	for ; opts.People == 0 || n < opts.People; n++ {
		if opts.TargetBytes > 0 && g.sinks[0].bytes >= opts.TargetBytes {
			break
		}
		if n >= MaxPeople {
			return Summary{}, fmt.Errorf("synth: target size needs more than %d people", MaxPeople)
		}
		g.person(n)
		if err := g.err(); err != nil {
			return Summary{}, err
		}
	}
	if err := g.finish(); err != nil {
		return Summary{}, err
	}
	sum := Summary{People: n, TruthBytes: g.truth.bytes}
	for _, s := range g.sinks {
		if opts.CRMOnly && s.source != SourceCRM {
			continue
		}
		sum.Sources = append(sum.Sources, SourceSummary{Source: s.source, Records: s.records, Rows: s.rows, Bytes: s.bytes})
	}
	return sum, nil
}

// Random streams: each person's data for each source comes from its own
// seeded stream, so one source's choices never shift another's.
const (
	streamCore = iota
	streamCRM
	streamShop
	streamPOS
	streamNewsletter
	streamWeb
	streamShuffle
)

// splitmix64 scrambles x (Steele et al.): nearby inputs give unrelated outputs.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// affine is a bijection x → (a·x + b) mod m on [0, m) for m a power of ten:
// it turns sequence numbers into unique, scattered-looking identifiers.
type affine struct{ a, b, m uint64 }

func newAffine(seed, salt, m uint64) affine {
	h := splitmix64(seed ^ splitmix64(salt))
	a := h % m
	for a%2 == 0 || a%5 == 0 { // coprime with a power of ten
		a = (a + 1) % m
	}
	return affine{a: a, b: splitmix64(h) % m, m: m}
}

func (f affine) at(x uint64) uint64 {
	hi, lo := bits.Mul64(f.a, x%f.m)
	return (bits.Rem64(hi, lo, f.m) + f.b) % f.m
}

// generator holds the state of one run. Its memory does not grow with the
// number of people.
type generator struct {
	opts  Options
	pcg   *rand.PCG
	r     *rand.Rand // the current stream, re-seeded per person and source
	sinks [5]*sink   // in Sources order
	truth *counter

	// Identifier bijections.
	unique, customerID, orderID, receipt, newsletterID, card, landline affine

	prev   person // the previous person, for households
	orders []order

	enc    encoders
	encErr error
}

func newGenerator(w Writers, opts Options) *generator {
	pcg := rand.NewPCG(0, 0)
	g := &generator{
		opts:         opts,
		pcg:          pcg,
		r:            rand.New(pcg),
		unique:       newAffine(opts.Seed, 1, idSpace),
		customerID:   newAffine(opts.Seed, 2, 100_000_000),
		orderID:      newAffine(opts.Seed, 3, 1_000_000_000),
		receipt:      newAffine(opts.Seed, 4, 1_000_000_000),
		newsletterID: newAffine(opts.Seed, 5, 100_000_000),
		card:         newAffine(opts.Seed, 6, 100_000_000),
		landline:     newAffine(opts.Seed, 7, idSpace),
	}
	g.enc.init()
	for i, name := range Sources {
		out := w.bySource(name)
		if out == nil || (opts.CRMOnly && name != SourceCRM) {
			out = io.Discard
		}
		shuffle := rand.New(rand.NewPCG(splitmix64(opts.Seed^streamShuffle), uint64(i)))
		g.sinks[i] = newSink(name, out, shuffle)
	}
	truth := w.Truth
	if truth == nil {
		truth = io.Discard
	}
	g.truth = &counter{w: bufio.NewWriterSize(truth, 1<<16)}
	g.truth.writeString(TruthHeader + "\n")
	g.headers()
	return g
}

// reseed points g.r at the stream of person i and source stream.
func (g *generator) reseed(i int, stream uint64) {
	g.pcg.Seed(splitmix64(g.opts.Seed), splitmix64(uint64(i)<<8|stream))
}

// chance reports true with probability p.
func (g *generator) chance(p float64) bool { return g.r.Float64() < p }

// pick returns a random element of xs.
func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// record adds one encoded record of person p to a source and its truth row.
func (g *generator) record(src int, id string, p *person, line []byte) {
	s := g.sinks[src]
	s.add(line)
	s.records++
	g.truth.writeString(s.source + "," + id + "," + p.id + "\n")
}

// redeliver adds line again: the same record delivered twice.
func (g *generator) redeliver(src int, line []byte) { g.sinks[src].add(line) }

func (g *generator) err() error {
	if g.encErr != nil {
		return g.encErr
	}
	for _, s := range g.sinks {
		if s.err != nil {
			return fmt.Errorf("synth: write %s: %w", s.source, s.err)
		}
	}
	if g.truth.err != nil {
		return fmt.Errorf("synth: write truth: %w", g.truth.err)
	}
	return nil
}

func (g *generator) finish() error {
	for _, s := range g.sinks {
		s.flush()
	}
	g.truth.flush()
	return g.err()
}

// epoch and span bound every generated timestamp.
var (
	epoch = time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	span  = 1277 * 24 * time.Hour // to 2025-06-30
)

// instant returns a time in [from, epoch+span), during opening hours.
func (g *generator) instant(from time.Time) time.Time {
	end := epoch.Add(span)
	if !from.Before(end) {
		from = end.Add(-24 * time.Hour)
	}
	days := int(end.Sub(from) / (24 * time.Hour))
	if days < 1 {
		days = 1
	}
	day := from.Truncate(24*time.Hour).AddDate(0, 0, g.r.IntN(days))
	return day.Add(time.Duration(8*3600+g.r.IntN(14*3600)) * time.Second)
}

// padded returns prefix followed by n in at least width digits:
// padded("C", 42, 8) = "C00000042".
func padded(prefix string, n uint64, width int) string {
	var buf [32]byte
	b := append(buf[:0], prefix...)
	var digits [20]byte
	d := strconv.AppendUint(digits[:0], n, 10)
	for k := len(d); k < width; k++ {
		b = append(b, '0')
	}
	return string(append(b, d...))
}

// uuid returns a random version 4 UUID from the current stream.
func (g *generator) uuid() string {
	hi, lo := g.r.Uint64(), g.r.Uint64()
	hi = hi&^(0xf<<12) | 4<<12
	lo = lo&^(3<<62) | 2<<62
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", hi>>32, hi>>16&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff)
}
