package web

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/alexedwards/scs/v2"
)

// sessionCodec stores a session as a few bytes instead of gob, which scs
// otherwise decodes on every request: Roster's sessions hold only strings
// (the login's id, a flash, the account used last, a half-finished sign-in).
// The format is a marker that no gob stream starts with, the deadline in
// Unix nanoseconds, and each key and value with its length:
//
//	0x00 'R' 'S' 0x01 | deadline int64 | n uvarint | (len uvarint, key, len uvarint, value) × n
//
// A session with a value that is not a string is written as gob, and gob
// is still read, so sessions written before this codec keep their users
// signed in.
type sessionCodec struct{}

var sessionMarker = [4]byte{0x00, 'R', 'S', 0x01}

var errBadSession = errors.New("session data: truncated or malformed")

func (sessionCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	size := len(sessionMarker) + 8 + binary.MaxVarintLen64
	for k, v := range values {
		s, ok := v.(string)
		if !ok {
			return scs.GobCodec{}.Encode(deadline, values)
		}
		size += 2*binary.MaxVarintLen64 + len(k) + len(s)
	}
	b := make([]byte, 0, size)
	b = append(b, sessionMarker[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(deadline.UnixNano()))
	b = binary.AppendUvarint(b, uint64(len(values)))
	for k, v := range values {
		s := v.(string)
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b, nil
}

func (sessionCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	if len(b) < len(sessionMarker) || [4]byte(b[:4]) != sessionMarker {
		return scs.GobCodec{}.Decode(b) // written as gob
	}
	b = b[len(sessionMarker):]
	if len(b) < 8 {
		return time.Time{}, nil, errBadSession
	}
	deadline := time.Unix(0, int64(binary.BigEndian.Uint64(b))).UTC()
	b = b[8:]
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)) { // every entry takes at least two bytes
		return time.Time{}, nil, errBadSession
	}
	b = b[w:]
	values := make(map[string]any, n)
	next := func() (string, bool) {
		l, w := binary.Uvarint(b)
		if w <= 0 || l > uint64(len(b)-w) {
			return "", false
		}
		s := string(b[w : w+int(l)])
		b = b[w+int(l):]
		return s, true
	}
	for range n {
		k, ok := next()
		if !ok {
			return time.Time{}, nil, errBadSession
		}
		v, ok := next()
		if !ok {
			return time.Time{}, nil, errBadSession
		}
		values[k] = v
	}
	if len(b) != 0 {
		return time.Time{}, nil, errBadSession
	}
	return deadline, values, nil
}

// SessionLoginID is the id of the login a stored session holds, "" when
// none or unreadable: the session store records it beside the session's
// data (postgres.SessionStore).
func SessionLoginID(data []byte) string {
	_, values, err := sessionCodec{}.Decode(data)
	if err != nil {
		return ""
	}
	id, _ := values[sessLogin].(string)
	return id
}
