// Package password hashes and verifies passwords with Argon2id, and decides
// which new passwords are acceptable.
//
// Hashes are stored as PHC strings, for example
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// with salt and key in unpadded standard base64. Verify reads the parameters
// from the stored string rather than from constants, so the parameters used
// for new hashes can be raised later without invalidating existing ones.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// The parameters for new hashes: the first configuration the OWASP Password
// Storage Cheat Sheet recommends for Argon2id (19 MiB, 2 passes, 1 lane). It
// is the cheapest of the equivalent options in memory, which matters because
// every concurrent sign-in holds that memory for the duration of a hash.
const (
	memoryKiB = 19 * 1024 // m: memory in KiB
	passes    = 2         // t: passes over the memory
	lanes     = 1         // p: degree of parallelism
	saltLen   = 16        // bytes of random salt per hash
	keyLen    = 32        // bytes of derived key stored
)

// Bounds on what Verify accepts from a stored string. They are far above
// anything this package writes; they exist so that a corrupted or tampered
// row cannot turn one sign-in into a gigabyte allocation or a minute of CPU,
// and so that nothing weaker than the Argon2 minimums is ever accepted.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxPasses    = 64
	minSaltLen   = 8 // RFC 9106 minimum
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 64
)

// ErrMalformedHash is wrapped by the error Verify returns when the stored
// string is not an Argon2id PHC string this package can check. It means the
// stored data is wrong, not that the password is: callers should log it and
// treat it as an internal error, not as a failed sign-in.
var ErrMalformedHash = errors.New("password: malformed hash")

// params are the Argon2id cost parameters recorded in a hash.
type params struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
}

var defaultParams = params{memory: memoryKiB, time: passes, threads: lanes}

// deriveFunc computes an Argon2id key. It is a variable on the Hasher so that
// tests can observe how many derivations run at once without paying for real
// ones.
type deriveFunc func(pw, salt []byte, p params, keyLen uint32) []byte

// argon2id derives the key on a thread that yields the CPU to page requests
// (onHashThread).
func argon2id(pw, salt []byte, p params, keyLen uint32) []byte {
	var key []byte
	onHashThread(func() { key = argon2.IDKey(pw, salt, p.time, p.memory, p.threads, keyLen) })
	return key
}

// Hasher hashes and verifies passwords while bounding how many Argon2id
// computations run at once. Each one holds about 19 MiB for tens of
// milliseconds, so without a bound a burst of sign-ins would grow memory
// without limit; with it, excess requests queue instead.
//
// Work that anyone can start without signing in or proving anything but a
// mailed link (HashAnonymous: finishing sign-up, a password reset link, an
// invitation's sign-up) gets only a share of the slots, so that however many
// such requests arrive, sign-in and signed-in people always find the other
// slots and do not queue behind them.
//
// A Hasher is safe for concurrent use. Share one per process: the bound is
// per Hasher.
type Hasher struct {
	sem    chan struct{} // one token per running derivation
	anon   chan struct{} // one token per running anonymous derivation, fewer than sem's
	derive deriveFunc
}

// New returns a Hasher that runs at most maxConcurrent hashes at once;
// maxConcurrent <= 0 means runtime.NumCPU(), since Argon2 is CPU-bound and
// more parallelism than cores only adds memory. Anonymous work
// (HashAnonymous) may hold at most half of them (rounded down, at least one).
func New(maxConcurrent int) *Hasher {
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.NumCPU()
	}
	return &Hasher{
		sem:    make(chan struct{}, maxConcurrent),
		anon:   make(chan struct{}, anonSlots(maxConcurrent)),
		derive: argon2id,
	}
}

// Slots is how many hashes may run at once. Each runs on a thread of its
// own at a lower priority (onHashThread), which keeps one of Go's
// processors (GOMAXPROCS) while it runs: give the scheduler that many more
// than the cores, so that a page request never waits behind a hash for a
// processor, and the kernel, which knows the hash threads' priority, shares
// the cores.
func (h *Hasher) Slots() int { return cap(h.sem) }

// anonSlots is the share of n slots that anonymous work may hold: half,
// rounded down, and at least one. With a single slot there is nothing to
// share, and anonymous work queues with the rest.
func anonSlots(n int) int { return max(1, n/2) }

// acquire takes a slot, waiting until one is free or ctx is done, in which
// case it returns ctx.Err() and holds nothing.
func (h *Hasher) acquire(ctx context.Context) error { return take(ctx, h.sem) }

func (h *Hasher) release() { <-h.sem }

// take puts a token in sem, waiting until there is room or ctx is done, in
// which case it returns ctx.Err() and holds nothing.
func take(ctx context.Context, sem chan struct{}) error {
	// Checked first because select picks randomly among ready cases: a
	// request that is already abandoned must not spend 19 MiB just because
	// a slot happened to be free.
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Hash returns a new PHC-encoded Argon2id hash of pw with a fresh random salt,
// so hashing the same password twice gives different strings. It does not
// judge the password: call Check first for passwords a user is choosing.
// The only error is ctx's, when ctx ends while waiting for a slot.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, saltLen)
	// Since Go 1.24 crypto/rand.Read never returns an error (it crashes the
	// program instead of handing out weak randomness), so there is nothing to
	// handle here.
	rand.Read(salt)
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	key := h.derive([]byte(pw), salt, defaultParams, keyLen)
	return encode(defaultParams, salt, key), nil
}

// HashAnonymous is Hash for a password chosen by someone who is not signed
// in (finishing sign-up, a password reset link, an invitation's sign-up).
// It first waits for one of the anonymous share of slots, then for a slot
// like any hash, so that anonymous work never holds more than that share and
// sign-in and signed-in people are not starved however much of it arrives.
// Callers check everything cheaper first (the link, the input, the limits).
func (h *Hasher) HashAnonymous(ctx context.Context, pw string) (string, error) {
	if err := take(ctx, h.anon); err != nil {
		return "", err
	}
	defer func() { <-h.anon }()
	return h.Hash(ctx, pw)
}

// Verify reports whether pw matches encoded, a hash made by Hash or by any
// Argon2id implementation that writes PHC strings (version 19), whatever its
// cost parameters. A wrong password is (false, nil). A string that cannot be
// parsed gives an error wrapping ErrMalformedHash, and ctx ending while
// waiting for a slot gives ctx's error; both with false.
func (h *Hasher) Verify(ctx context.Context, encoded, pw string) (bool, error) {
	// Parse before taking a slot: a bad row should not queue behind others.
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, err
	}
	return h.verify(ctx, p, salt, want, pw)
}

func (h *Hasher) verify(ctx context.Context, p params, salt, want []byte, pw string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	got := h.derive([]byte(pw), salt, p, uint32(len(want)))
	// Constant time so the comparison leaks nothing about how much of the
	// key matched.
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// VerifyDummy does the work of a Verify against a hash with the current
// parameters and discards the result. Call it when sign-in names an email
// that has no account, so that answer takes as long as a wrong password and
// response times do not reveal which addresses are registered. Like Verify it
// waits for a slot, and returns early if ctx ends first.
func (h *Hasher) VerifyDummy(ctx context.Context, pw string) {
	d := dummy()
	_, _ = h.verify(ctx, d.params, d.salt, d.key, pw) // only the time spent matters
}

// dummyHash is a parsed hash that no password matches in practice: its key is
// random bytes rather than a derived key. It needs no Argon2 run to build,
// so the first unknown-email sign-in costs no more than later ones.
type dummyHash struct {
	params    params
	salt, key []byte
}

var dummy = sync.OnceValue(func() dummyHash {
	d := dummyHash{params: defaultParams, salt: make([]byte, saltLen), key: make([]byte, keyLen)}
	rand.Read(d.salt)
	rand.Read(d.key)
	return d
})

// encode writes the PHC string for an Argon2id hash.
func encode(p params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses an Argon2id PHC string strictly: exactly the fields encode
// writes, in that order, with parameters within the bounds above. Any
// deviation is an error wrapping ErrMalformedHash, never a panic (argon2
// itself panics on zero passes or lanes, which is why those are checked).
func decode(encoded string) (p params, salt, key []byte, err error) {
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, key
	f := strings.Split(encoded, "$")
	if len(f) != 6 || f[0] != "" {
		return p, nil, nil, malformed("want 5 $-separated fields")
	}
	if f[1] != "argon2id" {
		return p, nil, nil, malformed("algorithm %q is not argon2id", f[1])
	}
	if f[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, malformed("unsupported version %q", f[2])
	}

	kv := strings.Split(f[3], ",")
	if len(kv) != 3 {
		return p, nil, nil, malformed("want parameters m, t and p")
	}
	var vals [3]uint64
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(kv[i], name+"=")
		if !ok {
			return p, nil, nil, malformed("want parameter %s in position %d", name, i+1)
		}
		// ParseUint rejects signs, spaces and overflow; 32 bits is the
		// widest any Argon2 parameter can be.
		if vals[i], err = strconv.ParseUint(v, 10, 32); err != nil {
			return p, nil, nil, malformed("parameter %s: %v", name, err)
		}
	}
	m, t, par := vals[0], vals[1], vals[2]
	switch {
	case par < 1 || par > 255:
		return p, nil, nil, malformed("p=%d out of range", par)
	case m < 8*par || m > maxMemoryKiB: // Argon2 needs 8 KiB per lane
		return p, nil, nil, malformed("m=%d out of range", m)
	case t < 1 || t > maxPasses:
		return p, nil, nil, malformed("t=%d out of range", t)
	}
	p = params{memory: uint32(m), time: uint32(t), threads: uint8(par)}

	// Strict so that only the canonical encoding of a value is accepted.
	b64 := base64.RawStdEncoding.Strict()
	if salt, err = b64.DecodeString(f[4]); err != nil {
		return p, nil, nil, malformed("salt: %v", err)
	}
	if len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return p, nil, nil, malformed("salt of %d bytes", len(salt))
	}
	if key, err = b64.DecodeString(f[5]); err != nil {
		return p, nil, nil, malformed("key: %v", err)
	}
	if len(key) < minKeyLen || len(key) > maxKeyLen {
		return p, nil, nil, malformed("key of %d bytes", len(key))
	}
	return p, salt, key, nil
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformedHash}, args...)...)
}
