package embedded

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
)

// Blobs: the JSON bodies of profiles, records, events, outbox envelopes
// and redirects, and item values, are stored as a blob: one tag byte, then
// the payload as the tag says. A writer picks whichever is shorter.
const (
	// blobRaw: the payload is stored as is.
	blobRaw byte = 0
	// blobDeflate: the payload is DEFLATE-compressed (RFC 1951) with the
	// preset dictionary of format 1 (dictionary.go).
	blobDeflate byte = 1
)

// minDeflate is the shortest payload worth compressing: below it the
// bytes saved (a 55-byte item value saves 15) do not pay for the time
// (some 20 µs, mostly building Huffman codes).
const minDeflate = 128

// deflateLevel trades speed for size. The encoder is klauspost/compress's
// DEFLATE, whose output any RFC 1951 reader (compress/flate included)
// inflates, so the file format does not depend on it. On a 2.3 kB profile
// with 10 recent events its level 3 takes 20 µs and 334 bytes, against
// compress/flate's default (6) at 58 µs and 317 bytes: a third of the CPU
// for 5 % more bytes, on the path every change of a profile takes.
const deflateLevel = 3

var (
	deflaters = sync.Pool{New: func() any {
		w, err := flate.NewWriterDict(io.Discard, deflateLevel, dictionary)
		if err != nil {
			panic(fmt.Sprintf("embedded: deflate writer: %v", err)) // only for a bad level
		}
		return w
	}}
	inflaters = sync.Pool{New: func() any { return flate.NewReaderDict(bytes.NewReader(nil), dictionary) }}
	buffers   = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

// appendBlob appends payload to dst as a blob.
func appendBlob(dst, payload []byte) []byte {
	if len(payload) >= minDeflate {
		buf := buffers.Get().(*bytes.Buffer)
		defer buffers.Put(buf)
		buf.Reset()
		w := deflaters.Get().(*flate.Writer)
		w.Reset(buf)
		_, err := w.Write(payload)
		if err == nil {
			err = w.Close()
		}
		deflaters.Put(w)
		if err == nil && buf.Len() < len(payload) {
			return append(append(dst, blobDeflate), buf.Bytes()...)
		}
	}
	return append(append(dst, blobRaw), payload...)
}

// blob encodes payload as a blob.
func blob(payload []byte) []byte {
	return appendBlob(make([]byte, 0, len(payload)/2+8), payload)
}

// readBlob returns a blob's payload. A raw payload aliases b: clone it to
// keep it past the transaction.
func readBlob(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, errors.New("empty blob")
	}
	switch b[0] {
	case blobRaw:
		return b[1:], nil
	case blobDeflate:
		r := inflaters.Get().(io.ReadCloser)
		defer inflaters.Put(r)
		if err := r.(flate.Resetter).Reset(bytes.NewReader(b[1:]), dictionary); err != nil {
			return nil, fmt.Errorf("inflate: %w", err)
		}
		var out bytes.Buffer
		out.Grow(4 * len(b))
		if _, err := out.ReadFrom(r); err != nil {
			return nil, fmt.Errorf("inflate: %w", err)
		}
		return out.Bytes(), nil
	default:
		return nil, fmt.Errorf("unknown blob tag %d", b[0])
	}
}

// Profile ids. Aurum's profile ids are "p_" and 24 lowercase hex digits;
// stored (profiles keys, identifier claimants) they take 13 bytes: idPacked
// and the 12 bytes the digits spell. Any other id is stored as is, after
// idEscape if it starts with idEscape or idPacked (no valid UTF-8 string
// does), so every stored id reads back unambiguously. Packing keeps the
// bytewise order of "p_" ids.
const (
	idPacked byte = 0xFF
	idEscape byte = 0xFE
	idHexLen      = 24
)

// packID returns the stored form of profile id.
func packID(id string) []byte {
	if len(id) == 2+idHexLen && id[:2] == "p_" && lowerHex(id[2:]) {
		b, _ := hex.AppendDecode([]byte{idPacked}, []byte(id[2:])) // lowerHex: no error
		return b
	}
	if id != "" && (id[0] == idPacked || id[0] == idEscape) {
		return append([]byte{idEscape}, id...)
	}
	return []byte(id)
}

// unpackID reverses packID.
func unpackID(b []byte) string {
	switch {
	case len(b) == 1+idHexLen/2 && b[0] == idPacked:
		return "p_" + hex.EncodeToString(b[1:])
	case len(b) > 0 && b[0] == idEscape:
		return string(b[1:])
	}
	return string(b)
}

// lowerHex reports whether s is lowercase hexadecimal (what hex.Encode
// writes, so packing round-trips).
func lowerHex(s string) bool {
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// readUvarint decodes an unsigned varint at the start of b and returns the
// rest.
func readUvarint(b []byte) (uint64, []byte, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, errors.New("corrupt varint")
	}
	return v, b[n:], nil
}

// readVarint decodes a signed varint at the start of b and returns the
// rest.
func readVarint(b []byte) (int64, []byte, error) {
	v, n := binary.Varint(b)
	if n <= 0 {
		return 0, nil, errors.New("corrupt varint")
	}
	return v, b[n:], nil
}
