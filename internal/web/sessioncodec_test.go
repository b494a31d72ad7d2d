package web

import (
	"bytes"
	"maps"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
)

func TestSessionCodecRoundTrip(t *testing.T) {
	deadline := time.Date(2026, 11, 30, 12, 0, 0, 123456789, time.UTC)
	for _, values := range []map[string]any{
		{},
		{sessLogin: "kq3n-login-id"},
		{sessLogin: "x", sessFlash: "Invitation sent to ada@example.com ✓", sessFlashKind: "success", sessLastAccount: "AC0123", "": ""},
		{"long": string(bytes.Repeat([]byte("é"), 300))},
	} {
		b, err := sessionCodec{}.Encode(deadline, values)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, sessionMarker[:]) {
			t.Errorf("%v: not written in the compact form", values)
		}
		d, got, err := sessionCodec{}.Decode(b)
		if err != nil {
			t.Fatalf("%v: %v", values, err)
		}
		if !d.Equal(deadline) || !maps.Equal(got, values) {
			t.Errorf("round trip of %v at %v gave %v at %v", values, deadline, got, d)
		}
	}
}

// A value that is not a string goes as gob, and comes back as it went.
func TestSessionCodecOtherValuesAsGob(t *testing.T) {
	deadline := time.Now().Add(time.Hour)
	values := map[string]any{sessLogin: "x", "n": 42}
	b, err := sessionCodec{}.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasPrefix(b, sessionMarker[:]) {
		t.Fatal("an int was written in the compact form")
	}
	_, got, err := sessionCodec{}.Decode(b)
	if err != nil || got["n"] != 42 || got[sessLogin] != "x" {
		t.Fatalf("got %v, %v", got, err)
	}
}

// Sessions written before the codec (gob) are still read: nobody is
// signed out by the change.
func TestSessionCodecReadsGob(t *testing.T) {
	deadline := time.Now().Add(time.Hour).Round(0)
	values := map[string]any{sessLogin: "kq3n", sessFlash: "hello"}
	b, err := scs.GobCodec{}.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	d, got, err := sessionCodec{}.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Equal(deadline) || !maps.Equal(got, values) {
		t.Fatalf("gob session read as %v at %v", got, d)
	}
}

// Cut or padded data is an error, never a panic or a wrong session.
func TestSessionCodecMalformed(t *testing.T) {
	b, err := sessionCodec{}.Encode(time.Now(), map[string]any{sessLogin: "abc", sessFlash: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	for i := len(sessionMarker); i < len(b); i++ {
		if _, _, err := (sessionCodec{}).Decode(b[:i]); err == nil {
			t.Errorf("cut at %d of %d: no error", i, len(b))
		}
	}
	if _, _, err := (sessionCodec{}).Decode(append(b, 0)); err == nil {
		t.Error("trailing byte: no error")
	}
}

func FuzzSessionCodec(f *testing.F) {
	b, _ := sessionCodec{}.Encode(time.Now(), map[string]any{sessLogin: "abc"})
	f.Add(b)
	f.Add(sessionMarker[:])
	f.Fuzz(func(t *testing.T, b []byte) {
		if !bytes.HasPrefix(b, sessionMarker[:]) {
			return // gob's own decoder
		}
		d, v, err := sessionCodec{}.Decode(b)
		if err != nil {
			return
		}
		again, err := sessionCodec{}.Encode(d, v)
		if err != nil {
			t.Fatal(err)
		}
		d2, v2, err := sessionCodec{}.Decode(again)
		if err != nil || !d2.Equal(d) || !maps.Equal(v, v2) {
			t.Fatalf("re-encoded session differs: %v %v, %v", v, v2, err)
		}
	})
}

// BenchmarkSessionCodec compares decoding a signed-in session with gob and
// with sessionCodec (docs/performance.md).
func BenchmarkSessionCodec(b *testing.B) {
	values := map[string]any{sessLogin: "Qm9nVXNlckxvZ2luSWQxMjM0NTY3ODkw", sessLastAccount: "AC0123456789abcdef0123456789abcdef"}
	deadline := time.Now().Add(time.Hour)
	for _, c := range []struct {
		name  string
		codec scs.Codec
	}{{"gob", scs.GobCodec{}}, {"compact", sessionCodec{}}} {
		data, err := c.codec.Encode(deadline, values)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportMetric(float64(len(data)), "bytes")
			for b.Loop() {
				if _, _, err := c.codec.Decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
