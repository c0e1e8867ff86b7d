package file

import (
	"bufio"
	"bytes"
	"io"
)

// physLine is one physical line of the input.
type physLine struct {
	// text is the line with its line break, or a prefix of it (at most
	// MaxRawBytes and at most the row limit) when it is long. It is only
	// valid until the next read.
	text []byte
	num  int  // 1-based line number
	size int  // length in bytes without the final "\n"
	long bool // longer than the row limit
}

// lineReader reads physical lines with memory bounded by the row limit,
// and can be given lines back to read them again (re-synchronisation
// after a quote error).
type lineReader struct {
	r    *bufio.Reader
	max  int
	buf  []byte // a line that did not fit in r's buffer
	next int    // number of the last line read from r

	back     []physLine // lines given back, read before r
	head     int        // next line of back
	backBuf  []byte     // the texts of back
	spare    []byte     // the other buffer, for the next unread
	spareLns []physLine

	err error // a read error other than io.EOF
	eof bool
}

func newLineReader(r *bufio.Reader, max int) *lineReader {
	return &lineReader{r: r, max: max}
}

// read returns the next line, or false at the end of the input or on a
// read error (see err).
func (lr *lineReader) read() (physLine, bool) {
	if lr.head < len(lr.back) {
		l := lr.back[lr.head]
		lr.head++
		return l, true
	}
	if lr.eof {
		return physLine{}, false
	}
	line, size, nl, err := lr.readSlice()
	if err != nil {
		lr.eof = true
		if err != io.EOF {
			lr.err = err
			return physLine{}, false
		}
		if size == 0 {
			return physLine{}, false
		}
	}
	if nl {
		size--
	}
	lr.next++
	l := physLine{text: line, num: lr.next, size: size}
	if size > lr.max {
		l.long = true
		l.text = line[:min(len(line), MaxRawBytes, lr.max)]
	}
	return l, true
}

// readSlice reads up to and including the next "\n" and says whether
// there was one. A line longer than the limit is consumed to its end;
// only its first bytes are returned, with its full size.
func (lr *lineReader) readSlice() (line []byte, size int, nl bool, err error) {
	line, err = lr.r.ReadSlice('\n')
	size = len(line)
	if err != bufio.ErrBufferFull {
		return line, size, bytes.HasSuffix(line, []byte{'\n'}), err
	}
	lr.buf = append(lr.buf[:0], line...)
	for err == bufio.ErrBufferFull {
		line, err = lr.r.ReadSlice('\n')
		size += len(line)
		if len(lr.buf) <= lr.max {
			lr.buf = append(lr.buf, line...)
		}
	}
	return lr.buf, size, bytes.HasSuffix(line, []byte{'\n'}), err
}

// unread gives lines back, to be read again before any other; their
// texts are copied. Lines given back earlier and not read again yet
// follow them.
func (lr *lineReader) unread(lines []physLine) {
	nb, nl := lr.spare[:0], lr.spareLns[:0]
	for _, ls := range [][]physLine{lines, lr.back[lr.head:]} {
		for _, l := range ls {
			nb = append(nb, l.text...)
			nl = append(nl, l)
		}
	}
	off := 0
	for i := range nl {
		n := len(nl[i].text)
		nl[i].text = nb[off : off+n : off+n]
		off += n
	}
	lr.spare, lr.spareLns = lr.backBuf, lr.back[:0]
	lr.backBuf, lr.back, lr.head = nb, nl, 0
}
