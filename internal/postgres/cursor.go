package postgres

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// Keyset cursors are opaque to callers: a sort key and a row id, base64url.
// A cursor that does not decode starts from the first page.

func encodeCursor(key string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(key + "\x00" + strconv.FormatInt(id, 10)))
}

func decodeCursor(c string) (*string, int64) {
	if c == "" {
		return nil, 0
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, 0
	}
	key, idText, ok := strings.Cut(string(b), "\x00")
	if !ok {
		return nil, 0
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return nil, 0
	}
	return &key, id
}
