package store

import (
	"encoding/base64"
	"encoding/binary"
	"math"
)

// cursorVersion is the first byte of an encoded cursor.
const cursorVersion = 1

// encodeCursor makes the opaque page cursor for keyset pagination after
// (below) row id: base64url of a version byte and the id as a uvarint.
func encodeCursor(id int64) string {
	b := binary.AppendUvarint([]byte{cursorVersion}, uint64(id))
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a cursor from encodeCursor; anything else is an
// ErrInvalid error.
func decodeCursor(c string) (int64, error) {
	if len(c) > 32 {
		return 0, invalidf("cursor is %d characters: not a cursor from this server", len(c))
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, invalidf("malformed cursor %q: %v", c, err)
	}
	if len(b) < 2 || b[0] != cursorVersion {
		return 0, invalidf("malformed cursor %q: unknown version", c)
	}
	v, n := binary.Uvarint(b[1:])
	if n <= 0 || n != len(b)-1 || v == 0 || v > math.MaxInt64 {
		return 0, invalidf("malformed cursor %q: bad position", c)
	}
	if encodeCursor(int64(v)) != c {
		return 0, invalidf("malformed cursor %q: not canonical", c)
	}
	return int64(v), nil
}
