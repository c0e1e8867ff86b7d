package api

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aurum-cdp/aurum/shared/core/mapping"
)

// reasonInvalidUTF8 is the field error of a string that is not valid
// UTF-8. encoding/json would replace the bytes with U+FFFD and accept the
// result (an e-mail identifier "ann\uFFFD@example.com"), while the lookup
// route refuses the same bytes: the tracking routes refuse them too.
const reasonInvalidUTF8 = "invalid UTF-8"

// utf8Frame is one open object or array while walking a JSON document
// (walkJSON).
type utf8Frame struct {
	obj       bool
	expectKey bool   // object: the next token is a key
	key       string // object: the current key
	cur, next int    // array: the current and the next element index
}

// invalidUTF8 returns the dotted path of the first string of a JSON
// document that is not valid UTF-8 ("traits.email", "items[1].sku"; a
// key's object for an invalid key, "" for the top level), and whether
// there is one. A document that is not valid JSON reports found with the
// path reached; the JSON decoding reports the syntax error.
func invalidUTF8(data []byte) (field string, found bool) {
	if utf8.Valid(data) {
		return "", false
	}
	return walkJSON(data, func(start, end int64) bool { return !utf8.Valid(data[start:end]) })
}

// pathAt returns the dotted path of the value of a JSON document that a
// json.UnmarshalTypeError's Offset points at: encoding/json reports the
// offset after the byte that ended the value (a number ends at the next
// byte).
func pathAt(data []byte, offset int64) string {
	field, _ := walkJSON(data, func(_, end int64) bool { return end+1 >= offset })
	return field
}

// walkJSON walks the tokens of a JSON document and returns the path of
// the first token whose bytes data[start:end] stop reports, and true; at a
// syntax error, the path reached and true; else "" and false.
func walkJSON(data []byte, stop func(start, end int64) bool) (field string, found bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []utf8Frame
	prev := int64(0)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return "", false
		}
		if err != nil {
			return utf8Path(stack), true
		}
		end := dec.InputOffset()
		hit := stop(prev, end)
		prev = end
		var top *utf8Frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].obj {
				stack[len(stack)-1].expectKey = true
			}
			continue
		}
		if top != nil && top.obj && top.expectKey {
			if hit {
				return utf8Path(stack), true
			}
			top.key, _ = tok.(string)
			top.expectKey = false
			continue
		}
		if top != nil && !top.obj {
			top.cur, top.next = top.next, top.next+1
		}
		if hit {
			return utf8Path(stack), true
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, utf8Frame{obj: true, expectKey: true})
		case json.Delim('['):
			stack = append(stack, utf8Frame{})
		default:
			if top != nil && top.obj {
				top.expectKey = true
			}
		}
	}
}

// utf8Path renders the path of the current element of stack.
func utf8Path(stack []utf8Frame) string {
	var b strings.Builder
	for _, f := range stack {
		if !f.obj {
			b.WriteString("[" + strconv.Itoa(f.cur) + "]")
			continue
		}
		if f.expectKey {
			break // inside this object, at a key
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(f.key)
	}
	return b.String()
}

// utf8Error is the fatal field error of invalid UTF-8 at field.
func utf8Error(field string) mapping.FieldError {
	if field == "" {
		return mapping.FieldError{Reason: reasonInvalidUTF8, Fatal: true}
	}
	return mapping.FieldError{Field: field, Reason: reasonInvalidUTF8, Fatal: true}
}

// rejectInvalidUTF8 rejects p when raw, the message as received, holds a
// string that is not valid UTF-8.
func rejectInvalidUTF8(p prepared, raw []byte) prepared {
	field, bad := invalidUTF8(raw)
	if !bad {
		return p
	}
	fe := utf8Error(field)
	if p.report != nil {
		p.report.Errors = append(p.report.Errors, fe)
		p.errs = append(p.errs, fe)
		return p
	}
	r := rejected(p.index, p.rec.ID, "invalid", fe)
	r.row, r.rec, r.errs = p.row, p.rec, append(p.errs, fe)
	return r
}
