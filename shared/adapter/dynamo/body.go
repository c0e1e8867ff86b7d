package dynamo

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Profile and record items keep their body as JSON in a binary attribute,
// compressed when that makes it smaller, the attribute attrEnc naming the
// encoding. Readers decode every encoding ever written:
//
//	(absent)  plain JSON
//	deflate   DEFLATE (RFC 1951), written until bodies moved to z1
//	z1        DEFLATE with the preset dictionary bodyDict1
//
// The preset dictionary holds the field names and common values of
// profile and record JSON, so even a small body compresses 3–4×: a young
// profile of 770 bytes takes 181, and the body and the embedded outbox
// event of a fold stay within the one write unit of a 1 KB item. A
// dictionary must never change once items are written with it: a better
// one is a new encoding (z2) beside it.
const (
	encDeflate = "deflate"
	encDict1   = "z1"
	// compressFrom is the smallest body worth compressing.
	compressFrom = 64
)

// bodyDict1 is the preset dictionary of encoding z1. Frozen: items on
// every deployed table need it to be read (TestBodyDictionaryFrozen).
// DEFLATE finds nearer matches cheaper, so what bodies hold most comes
// last: the profile's own fields and its recent events.
const bodyDict1 = `{"rfm":{"r":1,"f":1,"m":1,"label":"champions","at":"2026-"},"next_eval_at":"2026-","merged_from":["p_"],` +
	`"aggregates":{"orders_count":1,"total_revenue":0,"last_order_at":"2026-","first_seen_at":"2025-",` +
	`"last_seen_at":"2026-"},"tallies":{"country":[{"count":1,"last":{"value":"","source":"","record_id":"",` +
	`"observed_at":"2025-"}}]},"location":"sources/","api:track","events":[{"id":"","source":"",` +
	`"type":"event","name":"Order Completed","timestamp":"2025-","properties":{"order_id":"","total":0,` +
	`"discount":0,"shipping":0,"tax":0,"coupon":"","products":[{"product_id":"","sku":"","category":"",` +
	`"name":"","brand":"","variant":"","price":0,"quantity":1}],"items":1}}],"segments":{"":"2026-"},` +
	`"recent_events":[{"id":"","source":"web","type":"screen","name":"","timestamp":"2025-","properties":{"search":"",` +
	`"locale":"en-US","user_agent":"Mozilla/5.0 ","ip":""}},{"id":"","source":"web","type":"page",` +
	`"name":"Home","timestamp":"2025-","properties":{"path":"/","url":"https://www.","referrer":"https://www.google.com/",` +
	`"title":""}},{"id":"","source":"","type":"identify","timestamp":"2026-"},{"id":"","source":"",` +
	`"type":"track","name":"Product Added","timestamp":"2026-","properties":{"cart_id":"","product_id":"",` +
	`"sku":"","category":"","name":"","brand":"","price":0,"quantity":1,"currency":"GBP"}},{"id":"",` +
	`"source":"","type":"track","name":"Checkout Started","timestamp":"2026-"},{"id":"","source":"",` +
	`"type":"track","name":"Signed Up","timestamp":"2026-"},{"id":"","source":"","type":"track",` +
	`"name":"Page Viewed","timestamp":"2026-"}],"created_at":"2026-","updated_at":"2026-","folded":{"p_":"0000000000000000000"}}{"source":"",` +
	`"id":"","observed_at":"2026-","received_at":"2026-","identifiers":[{"type":"user_id","value":""},` +
	`{"type":"customer_id","value":""},{"type":"phone","value":"+44"},{"type":"email","value":"@gmail.com"},` +
	`{"type":"anonymous_id","value":""}],"attributes":{"first_name":"","last_name":"","full_name":"",` +
	`"birth_date":"19","country":"US","city":"","email_opt_in":true}}{"id":"p_","version":1,"identifiers":[{"type":"anonymous_id",` +
	`"value":""},{"type":"email","value":""}],"attributes":{"email":{"value":"","source":"","record_id":"",` +
	`"observed_at":"2026-"},"first_name":{"value":"","source":"","record_id":"","observed_at":"2025-"}},` +
	`"sources":{"web-api":1},"record_count":1,"event_count":1,"recent_events":[{"id":"","source":"",` +
	`"type":"track","name":"Product Viewed","timestamp":"2026-","properties":{"product_id":"","currency":"EUR",` +
	`"revenue":0,"path":"/","url":"https://"}},{"id":"","source":"","type":"track","name":"Order Completed",` +
	`"timestamp":"2026-","properties":{`

// dict1 is bodyDict1 as the compressor and decompressor take it (they
// copy it, never change it).
var dict1 = []byte(bodyDict1)

// deflaters pools z1 writers: a DEFLATE writer allocates about a
// megabyte, and Reset keeps its dictionary.
var deflaters = sync.Pool{New: func() any {
	w, err := flate.NewWriterDict(io.Discard, flate.BestCompression, dict1)
	if err != nil {
		panic(fmt.Sprintf("dynamo: body compressor: %v", err)) // only for a bad level
	}
	return w
}}

// encodeBody marshals v to JSON, compressed (z1) when that makes it
// smaller.
func encodeBody(v any) (body []byte, enc string, err error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, "", err
	}
	if len(b) < compressFrom {
		return b, "", nil
	}
	var buf bytes.Buffer
	w := deflaters.Get().(*flate.Writer)
	defer deflaters.Put(w)
	w.Reset(&buf)
	if _, err := w.Write(b); err != nil {
		return nil, "", err
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	if buf.Len() >= len(b) {
		return b, "", nil
	}
	return buf.Bytes(), encDict1, nil
}

// decodeBody reverses encodeBody, and the encodings written before, for
// the body attribute of it.
func decodeBody(it item, v any) error {
	var b []byte
	switch a := it[attrBody].(type) {
	case *types.AttributeValueMemberB:
		b = a.Value
	case *types.AttributeValueMemberS:
		b = []byte(a.Value)
	default:
		return fmt.Errorf("item has no body")
	}
	var dict []byte
	switch enc := getS(it, attrEnc); enc {
	case "":
		return json.Unmarshal(b, v)
	case encDeflate:
	case encDict1:
		dict = dict1
	default:
		return fmt.Errorf("unknown body encoding %q", enc)
	}
	raw, err := io.ReadAll(flate.NewReaderDict(bytes.NewReader(b), dict))
	if err != nil {
		return fmt.Errorf("inflate body: %w", err)
	}
	return json.Unmarshal(raw, v)
}
