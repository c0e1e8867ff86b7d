package embedded

import (
	"bytes"
	"errors"

	"github.com/aurum-cdp/aurum/shared/model/profile"
)

// Identifier keys. Format 0 keys an identifier as type 0 value. Format 1
// writes the identifier types of commonTypes as one byte, their index + 1,
// followed by the value; any other type as in format 0, after idEscape if
// its first byte is below 0x20 or idEscape, so the two never meet. The
// identifiers bucket is only read by key, never scanned in order.
var commonTypes = []string{"email", "phone", "customer_id", "loyalty_id", "anonymous_id", "user_id", "device_id"}

func identifierKey(id profile.Identifier) []byte {
	for i, t := range commonTypes {
		if id.Type == t {
			return append([]byte{byte(i + 1)}, id.Value...)
		}
	}
	b := make([]byte, 0, 2+len(id.Type)+len(id.Value))
	if id.Type != "" && (id.Type[0] < 0x20 || id.Type[0] == idEscape) {
		b = append(b, idEscape)
	}
	b = append(b, id.Type...)
	b = append(b, 0)
	return append(b, id.Value...)
}

// splitIdentifierKey reverses identifierKey.
func splitIdentifierKey(k []byte) (profile.Identifier, error) {
	if len(k) == 0 {
		return profile.Identifier{}, errors.New("empty identifier key")
	}
	if c := int(k[0]); c >= 1 && c <= len(commonTypes) {
		return profile.Identifier{Type: commonTypes[c-1], Value: string(k[1:])}, nil
	}
	if k[0] == idEscape {
		k = k[1:]
	}
	t, v, ok := bytes.Cut(k, []byte{0})
	if !ok {
		return profile.Identifier{}, errors.New("corrupt identifier key")
	}
	return profile.Identifier{Type: string(t), Value: string(v)}, nil
}

// Item keys: kind 0 key 0 sort, with the key as packID stores it (a "p_"
// profile id takes 13 bytes, which may hold NUL bytes, but a packed key
// always has that length, so the encoding stays unambiguous). No part
// holds a NUL byte otherwise, so kind "a" with key "b|c" and kind "a|b"
// with key "c" never meet, and the items of one (kind, key) share the
// prefix kind 0 key 0 and sort by Sort bytewise, as DynamoDB sorts string
// sort keys.

func itemPrefix(kind, key string) []byte {
	k := packID(key)
	b := make([]byte, 0, len(kind)+len(k)+2)
	b = append(append(b, kind...), 0)
	return append(append(b, k...), 0)
}

func itemKey(kind, key, sort string) []byte { return append(itemPrefix(kind, key), sort...) }

// splitItemKey reverses itemKey.
func splitItemKey(k []byte) (kind, key, sort string, err error) {
	corrupt := errors.New("corrupt item key")
	kd, rest, ok := bytes.Cut(k, []byte{0})
	if !ok || len(rest) == 0 {
		return "", "", "", corrupt
	}
	n := bytes.IndexByte(rest, 0)
	if rest[0] == idPacked {
		n = 1 + idHexLen/2
	}
	if n < 0 || n >= len(rest) || rest[n] != 0 {
		return "", "", "", corrupt
	}
	return string(kd), unpackID(rest[:n]), string(rest[n+1:]), nil
}

// splitItemKey0 splits a format 0 item key: kind 0 key 0 sort.
func splitItemKey0(k []byte) (kind, key, sort string, err error) {
	parts := bytes.SplitN(k, []byte{0}, 3)
	if len(parts) != 3 {
		return "", "", "", errors.New("corrupt item key")
	}
	return string(parts[0]), string(parts[1]), string(parts[2]), nil
}
