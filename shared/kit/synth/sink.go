package synth

import (
	"bufio"
	"io"
	"math/rand/v2"
)

// shuffleSlots is how many encoded rows a sink holds back to mix the order
// of rows: a person's records do not sit next to each other, yet memory
// stays bounded.
const shuffleSlots = 1024

// counter is a buffered writer that counts bytes and keeps the first error.
type counter struct {
	w     *bufio.Writer
	bytes int64
	err   error
}

func (c *counter) write(b []byte) {
	c.bytes += int64(len(b))
	if c.err == nil {
		_, c.err = c.w.Write(b)
	}
}

func (c *counter) writeString(s string) {
	c.bytes += int64(len(s))
	if c.err == nil {
		_, c.err = c.w.WriteString(s)
	}
}

func (c *counter) flush() {
	if c.err == nil {
		c.err = c.w.Flush()
	}
}

// sink is the output of one source: rows pass through a fixed-size shuffle
// buffer on their way to the writer.
type sink struct {
	source  string
	out     counter
	slots   [][]byte
	n       int
	rng     *rand.Rand
	records int
	rows    int
	// bytes counts every row added, buffered or written, so a size limit
	// does not depend on buffering.
	bytes int64
	err   error
}

func newSink(source string, w io.Writer, rng *rand.Rand) *sink {
	return &sink{
		source: source,
		out:    counter{w: bufio.NewWriterSize(w, 1<<16)},
		slots:  make([][]byte, shuffleSlots),
		rng:    rng,
	}
}

// header writes b before any row.
func (s *sink) header(b []byte) {
	s.bytes += int64(len(b))
	s.out.write(b)
}

// add queues one encoded row (with its line end).
func (s *sink) add(b []byte) {
	s.rows++
	s.bytes += int64(len(b))
	if s.n < len(s.slots) {
		s.slots[s.n] = append(s.slots[s.n][:0], b...)
		s.n++
		return
	}
	j := s.rng.IntN(len(s.slots))
	s.out.write(s.slots[j])
	s.slots[j] = append(s.slots[j][:0], b...)
	s.err = s.out.err
}

// flush writes the rows still held, in random order.
func (s *sink) flush() {
	held := s.slots[:s.n]
	s.rng.Shuffle(len(held), func(i, j int) { held[i], held[j] = held[j], held[i] })
	for _, b := range held {
		s.out.write(b)
	}
	s.n = 0
	s.out.flush()
	s.err = s.out.err
}
