package dynamo

import (
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// Table layout. docs/dynamodb.md describes it; the CDK definition of the
// table must match CreateTable.
const (
	// PartitionKey and SortKey are the table's key attributes (strings).
	PartitionKey = "pk"
	SortKey      = "sk"
	// OutboxIndex is the sparse global secondary index that lists pending
	// outbox items; IndexPartitionKey and IndexSortKey are its keys.
	OutboxIndex       = "gsi1"
	IndexPartitionKey = "gpk"
	IndexSortKey      = "gsk"
	// TTLAttribute holds the expiry (epoch seconds) of idempotency keys and
	// outbox items.
	TTLAttribute = "ttl"
)

// Other attribute names.
const (
	attrVersion  = "ver"      // profile version (N)
	attrBody     = "body"     // JSON body (B for profiles and records, S for events and outbox)
	attrEnc      = "enc"      // how body is compressed (body.go); absent: plain JSON
	attrTo       = "to"       // redirect target of a merged-away profile
	attrAt       = "at"       // when a redirect was made
	attrClaimant = "claimant" // profile that claimed an identifier
	attrProfile  = "profile"  // profile a record is attached to
	attrRecord   = "rec"      // record key (source/id) an event came with
)

// Key prefixes (docs/dynamodb.md lists the items). The merge ledger,
// segment membership and history, counters and other state of later
// features are generic items (store.Item), under I# (items.go).
const (
	pfxIdentifier = "ID#"
	pfxProfile    = "P#"
	pfxRecord     = "R#"
	pfxKey        = "K#"
	pfxOutbox     = "O#"
	pfxOutboxPart = "OUTBOX#"

	skIdentifier = "ID"
	skProfile    = "P"
	skRecord     = "R"
	skKey        = "K"
	skOutbox     = "O"
	pfxMerged    = "M#" // sort key prefix of merge markers under the survivor
	pfxEvent     = "E#" // sort key prefix of event items under a profile
)

// tsLayout renders times in fixed width so that they sort as strings.
const tsLayout = "2006-01-02T15:04:05.000000000Z"

func sortableTime(t time.Time) string { return t.UTC().Format(tsLayout) }

// parseSortable reverses sortableTime; "" is the zero time.
func parseSortable(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(tsLayout, s)
}

// esc escapes a key component that is followed by another one, so that a
// '#' inside it cannot shift the boundary between components.
func esc(s string) string {
	if !strings.ContainsAny(s, "#%") {
		return s
	}
	return strings.NewReplacer("%", "%25", "#", "%23").Replace(s)
}

func identifierPK(id profile.Identifier) string { return pfxIdentifier + esc(id.Type) + "#" + id.Value }
func profilePK(id string) string                { return pfxProfile + id }
func recordPK(source, id string) string         { return pfxRecord + esc(source) + "#" + id }
func keyPK(key string) string                   { return pfxKey + key }
func outboxPK(id string) string                 { return pfxOutbox + id }
func mergedSK(from string) string               { return pfxMerged + from }
func eventSK(e profile.Event) string            { return pfxEvent + sortableTime(e.Timestamp) + "#" + e.ID }

type item = map[string]types.AttributeValue

func key(pk, sk string) item {
	return item{PartitionKey: str(pk), SortKey: str(sk)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
func bin(b []byte) types.AttributeValue { return &types.AttributeValueMemberB{Value: b} }

func getS(it item, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getN(it item, name string) (int64, bool) {
	v, ok := it[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	return n, err == nil
}
