package password

import (
	"context"
	"errors"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"roster/internal/roster"
)

func TestHashThenVerify(t *testing.T) {
	h := New(0)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "violet tractor hums softly")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := h.Verify(ctx, enc, "violet tractor hums softly"); err != nil || !ok {
		t.Errorf("Verify(right password) = %v, %v; want true, nil", ok, err)
	}
	for _, wrong := range []string{"violet tractor hums softlY", "violet tractor hums softly ", ""} {
		if ok, err := h.Verify(ctx, enc, wrong); err != nil || ok {
			t.Errorf("Verify(%q) = %v, %v; want false, nil", wrong, ok, err)
		}
	}
}

// The stored string must carry the OWASP parameters and sizes, in PHC form.
func TestHashFormat(t *testing.T) {
	h := New(0)
	a, err := h.Hash(context.Background(), "same password")
	if err != nil {
		t.Fatal(err)
	}
	// 16 bytes of salt and 32 of key are 22 and 43 unpadded base64 chars.
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(a) {
		t.Errorf("Hash = %q; want match for %s", a, re)
	}
	b, err := h.Hash(context.Background(), "same password")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("two hashes of the same password are equal (%q): the salt is not random", a)
	}
}

// Hashes written with other parameters, by another implementation, still
// verify, because Verify takes the parameters from the string. The vectors
// come from the reference implementation's CLI (Debian argon2
// 0~20171227), e.g.
// echo -n 'correct horse battery staple' | argon2 saltsaltsalt16b -id -t 3 -k 8192 -p 2 -l 24 -e
func TestVerifyOtherParameters(t *testing.T) {
	tests := []struct{ encoded, pw string }{
		{"$argon2id$v=19$m=8192,t=3,p=2$c2FsdHNhbHRzYWx0MTZi$6SA6rVwbztHkICDd1uSO/2NSj0239C86", "correct horse battery staple"},
		// The current parameters, so the encoding Hash writes matches the
		// reference one too.
		{"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$7gXkyyO10rdD/DI8icOCwPpqYs3Ez455RDRgCCOCLjQ", "hunter22hunter22"},
	}
	h := New(0)
	for _, tt := range tests {
		if ok, err := h.Verify(context.Background(), tt.encoded, tt.pw); err != nil || !ok {
			t.Errorf("Verify(%s, right) = %v, %v; want true, nil", tt.encoded, ok, err)
		}
		if ok, err := h.Verify(context.Background(), tt.encoded, tt.pw+"!"); err != nil || ok {
			t.Errorf("Verify(%s, wrong) = %v, %v; want false, nil", tt.encoded, ok, err)
		}
	}
}

// A stored key that differs from the derived one only in its last byte is a
// mismatch: the whole key is compared, not a prefix.
func TestVerifyComparesWholeKey(t *testing.T) {
	p, salt, key, err := decode("$argon2id$v=19$m=8192,t=3,p=2$c2FsdHNhbHRzYWx0MTZi$6SA6rVwbztHkICDd1uSO/2NSj0239C86")
	if err != nil {
		t.Fatal(err)
	}
	key[len(key)-1] ^= 1
	ok, err := New(1).Verify(context.Background(), encode(p, salt, key), "correct horse battery staple")
	if err != nil || ok {
		t.Errorf("Verify with the last key bit flipped = %v, %v; want false, nil", ok, err)
	}
}

// encode and decode agree on every field, for parameters other than the
// defaults.
func TestEncodeDecodeRoundTrip(t *testing.T) {
	p := params{memory: 4096, time: 5, threads: 3}
	salt := []byte("0123456789abcdefXYZ")
	key := []byte("a key of twenty-four b..")
	gp, gs, gk, err := decode(encode(p, salt, key))
	if err != nil {
		t.Fatal(err)
	}
	if gp != p || string(gs) != string(salt) || string(gk) != string(key) {
		t.Errorf("decode(encode) = %+v %q %q; want %+v %q %q", gp, gs, gk, p, salt, key)
	}
}

func TestVerifyMalformed(t *testing.T) {
	const salt, key = "c29tZXNhbHRzb21lc2FsdA", "7gXkyyO10rdD/DI8icOCwPpqYs3Ez455RDRgCCOCLjQ"
	good := "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key
	if _, _, _, err := decode(good); err != nil {
		t.Fatalf("the well-formed base case does not parse: %v", err)
	}
	tests := map[string]string{
		"empty":              "",
		"not PHC":            "hunter22hunter22",
		"bcrypt":             "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":            "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"argon2d":            "$argon2d$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"version 16":         "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key,
		"no version":         "$argon2id$m=19456,t=2,p=1$" + salt + "$" + key,
		"missing key":        "$argon2id$v=19$m=19456,t=2,p=1$" + salt,
		"extra field":        good + "$x",
		"leading text":       "x" + good,
		"params reordered":   "$argon2id$v=19$t=2,m=19456,p=1$" + salt + "$" + key,
		"param missing":      "$argon2id$v=19$m=19456,t=2$" + salt + "$" + key,
		"extra param":        "$argon2id$v=19$m=19456,t=2,p=1,keyid=x$" + salt + "$" + key,
		"m not a number":     "$argon2id$v=19$m=lots,t=2,p=1$" + salt + "$" + key,
		"m negative":         "$argon2id$v=19$m=-1,t=2,p=1$" + salt + "$" + key,
		"m overflows":        "$argon2id$v=19$m=4294967296,t=2,p=1$" + salt + "$" + key,
		"m too large":        "$argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + key,
		"m below 8 per lane": "$argon2id$v=19$m=15,t=2,p=2$" + salt + "$" + key,
		"t zero":             "$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key,
		"t too large":        "$argon2id$v=19$m=19456,t=1000000,p=1$" + salt + "$" + key,
		"p zero":             "$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key,
		"p over 255":         "$argon2id$v=19$m=19456,t=2,p=256$" + salt + "$" + key,
		"salt not base64":    "$argon2id$v=19$m=19456,t=2,p=1$c29tZX*hbHRzb21lc2FsdA$" + key,
		"salt padded":        "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + key,
		"salt too short":     "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$" + key,
		"salt empty":         "$argon2id$v=19$m=19456,t=2,p=1$$" + key,
		"key not base64":     "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$7gXkyyO10rdD_DI8icOCwPpqYs3Ez455RDRgCCOCLjQ",
		"key empty":          "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$",
		"key too short":      "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$a2V5",
		"key non-canonical":  "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$7gXkyyO10rdD/DI8icOCwPpqYs3Ez455RDRgCCOCLjR",
	}
	h := New(1)
	// Malformed input must be refused before any hashing.
	h.derive = func([]byte, []byte, params, uint32) []byte {
		t.Error("derive called for a malformed hash")
		return nil
	}
	for name, enc := range tests {
		t.Run(name, func(t *testing.T) {
			ok, err := h.Verify(context.Background(), enc, "hunter22hunter22")
			if ok || !errors.Is(err, ErrMalformedHash) {
				t.Errorf("Verify(%q) = %v, %v; want false, ErrMalformedHash", enc, ok, err)
			}
		})
	}
}

// blockingDerive replaces Argon2 with a function that reports each entry on
// entered and then waits for release, counting how many run at once.
type blockingDerive struct {
	entered      chan struct{}
	release      chan struct{}
	running, max atomic.Int32
	calls        atomic.Int32
}

func newBlockingDerive() *blockingDerive {
	return &blockingDerive{entered: make(chan struct{}, 100), release: make(chan struct{})}
}

func (b *blockingDerive) derive(_, _ []byte, _ params, keyLen uint32) []byte {
	b.calls.Add(1)
	n := b.running.Add(1)
	for {
		m := b.max.Load()
		if n <= m || b.max.CompareAndSwap(m, n) {
			break
		}
	}
	b.entered <- struct{}{}
	<-b.release
	b.running.Add(-1)
	return make([]byte, keyLen)
}

// While the only slot is taken, a second Hash, Verify or VerifyDummy waits
// instead of running, and gives up with ctx's error when ctx ends.
func TestSecondOperationWaitsForSlot(t *testing.T) {
	const enc = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$7gXkyyO10rdD/DI8icOCwPpqYs3Ez455RDRgCCOCLjQ"
	ops := map[string]func(*Hasher, context.Context) error{
		"Hash": func(h *Hasher, ctx context.Context) error {
			_, err := h.Hash(ctx, "pw")
			return err
		},
		"Verify": func(h *Hasher, ctx context.Context) error {
			_, err := h.Verify(ctx, enc, "pw")
			return err
		},
		"VerifyDummy": func(h *Hasher, ctx context.Context) error {
			h.VerifyDummy(ctx, "pw")
			return ctx.Err()
		},
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			h := New(1)
			bd := newBlockingDerive()
			h.derive = bd.derive

			first := make(chan error, 1)
			go func() { first <- op(h, context.Background()) }()
			<-bd.entered // the first holds the slot now

			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			second := make(chan error, 1)
			go func() { second <- op(h, ctx) }()
			select {
			case <-bd.entered:
				t.Fatal("a second operation ran while the only slot was taken")
			case err := <-second:
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("second operation = %v; want context.DeadlineExceeded", err)
				}
			}

			close(bd.release)
			if err := <-first; err != nil {
				t.Errorf("first operation = %v", err)
			}
			if n := bd.calls.Load(); n != 1 {
				t.Errorf("derive ran %d times; want 1", n)
			}
		})
	}
}

// Once a slot frees, a waiting Hash proceeds: waiting is queueing, not
// refusal.
func TestWaitingHashProceedsWhenSlotFrees(t *testing.T) {
	h := New(1)
	bd := newBlockingDerive()
	h.derive = bd.derive

	done := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := h.Hash(context.Background(), "pw")
			done <- err
		}()
	}
	<-bd.entered
	if n := bd.running.Load(); n != 1 {
		t.Fatalf("%d hashes running with one slot", n)
	}
	bd.release <- struct{}{} // let the first finish
	<-bd.entered             // and the second start
	bd.release <- struct{}{}
	for range 2 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if m := bd.max.Load(); m != 1 {
		t.Errorf("at most %d hashes ran at once; want 1", m)
	}
}

// Under a burst far larger than the bound, no more than the bound run at
// once, and all complete.
func TestConcurrencyBound(t *testing.T) {
	const limit, burst = 3, 40
	h := New(limit)
	var running, peak atomic.Int32
	h.derive = func(_, _ []byte, _ params, keyLen uint32) []byte {
		n := running.Add(1)
		for {
			m := peak.Load()
			if n <= m || peak.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(time.Millisecond) // long enough for others to pile up
		running.Add(-1)
		return make([]byte, keyLen)
	}
	var wg sync.WaitGroup
	for range burst {
		wg.Go(func() {
			if _, err := h.Hash(context.Background(), "pw"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p > limit || p < 1 {
		t.Errorf("peak concurrency %d; want between 1 and %d", p, limit)
	}
}

// Anonymous hashes hold at most half of the slots: however many arrive,
// a sign-in (Verify, VerifyDummy) or a signed-in person's Hash still finds a
// free slot at once, and waiting anonymous hashes run as their share frees.
func TestAnonymousHashesLeaveSlotsForOthers(t *testing.T) {
	const enc = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$7gXkyyO10rdD/DI8icOCwPpqYs3Ez455RDRgCCOCLjQ"
	h := New(4)
	bd := newBlockingDerive()
	h.derive = bd.derive

	const anonymous = 10
	anonDone := make(chan error, anonymous)
	for range anonymous {
		go func() {
			_, err := h.HashAnonymous(context.Background(), "pw")
			anonDone <- err
		}()
	}
	<-bd.entered
	<-bd.entered // the anonymous share (2 of 4) is running
	select {
	case <-bd.entered:
		t.Fatal("a third anonymous hash ran: anonymous work took more than half of the slots")
	case <-time.After(50 * time.Millisecond):
	}

	// Sign-in and a signed-in hash get the other two slots without waiting
	// for any anonymous hash to finish.
	others := make(chan error, 2)
	go func() { _, err := h.Verify(context.Background(), enc, "pw"); others <- err }()
	go func() { _, err := h.Hash(context.Background(), "pw"); others <- err }()
	for range 2 {
		select {
		case <-bd.entered:
		case <-time.After(10 * time.Second):
			t.Fatal("a sign-in or signed-in hash waited behind anonymous ones")
		}
	}
	if n := bd.running.Load(); n != 4 {
		t.Fatalf("%d derivations running, want 4 (2 anonymous, 2 others)", n)
	}

	// Everything completes once released.
	close(bd.release)
	for range anonymous {
		if err := <-anonDone; err != nil {
			t.Error(err)
		}
	}
	for range 2 {
		if err := <-others; err != nil {
			t.Error(err)
		}
	}
	if len(h.sem) != 0 || len(h.anon) != 0 {
		t.Errorf("slots held after everything finished: %d, anonymous %d", len(h.sem), len(h.anon))
	}
}

// With one slot there is nothing to share: an anonymous hash takes it like
// any other, and never waits forever.
func TestAnonymousHashWithOneSlot(t *testing.T) {
	h := New(1)
	h.derive = func(_, _ []byte, _ params, keyLen uint32) []byte { return make([]byte, keyLen) }
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.HashAnonymous(ctx, "pw"); err != nil {
		t.Fatal(err)
	}
}

func TestNewDefaultsToNumCPU(t *testing.T) {
	for _, n := range []int{0, -1} {
		if got := cap(New(n).sem); got != runtime.NumCPU() {
			t.Errorf("New(%d) allows %d at once; want runtime.NumCPU() = %d", n, got, runtime.NumCPU())
		}
	}
	if got := cap(New(5).sem); got != 5 {
		t.Errorf("New(5) allows %d at once", got)
	}
	for n, want := range map[int]int{1: 1, 2: 1, 3: 1, 4: 2, 5: 2, 8: 4} {
		if got := cap(New(n).anon); got != want {
			t.Errorf("New(%d) allows %d anonymous hashes at once; want %d", n, got, want)
		}
	}
}

// An already-cancelled context fails without taking a slot even when one is
// free, so abandoned requests do no hashing.
func TestAcquireCancelled(t *testing.T) {
	h := New(1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 100 { // select would pick the free slot about half the time
		if err := h.acquire(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("acquire(cancelled) = %v; want context.Canceled", err)
		}
	}
	if len(h.sem) != 0 {
		t.Errorf("%d slots held after failed acquires", len(h.sem))
	}
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash(cancelled) = %v; want context.Canceled", err)
	}
}

// VerifyDummy spends an Argon2id derivation with the current parameters and
// key length, as Verify of a current hash does.
func TestVerifyDummyDoesTheWork(t *testing.T) {
	h := New(1)
	var got []params
	var gotLen []uint32
	h.derive = func(pw, salt []byte, p params, keyLen uint32) []byte {
		got = append(got, p)
		gotLen = append(gotLen, keyLen)
		if len(salt) != saltLen {
			t.Errorf("dummy salt of %d bytes; want %d", len(salt), saltLen)
		}
		return argon2id(pw, salt, p, keyLen)
	}
	h.VerifyDummy(context.Background(), "pw")
	h.VerifyDummy(context.Background(), "another")
	if len(got) != 2 || got[0] != defaultParams || got[1] != defaultParams || gotLen[0] != keyLen {
		t.Errorf("VerifyDummy derived %v with key lengths %v; want defaultParams and %d twice", got, gotLen, keyLen)
	}
	if len(h.sem) != 0 {
		t.Error("VerifyDummy did not release its slot")
	}
}

func TestCheck(t *testing.T) {
	const common = "This password is too common and easy to guess. Choose another one — a few unrelated words work well."
	refused := []string{
		"password123",
		"Password123",
		"PASSWORD123",
		"qwertyuiop", // in the list
		"QwErTyUiOp",
		"!qaz1qaz", // first entry of the list
	}
	for _, pw := range refused {
		err := Check(pw)
		var e *roster.Error
		if !errors.As(err, &e) || e.Code != roster.EINVALID || e.Field != "password" || e.Message != common {
			t.Errorf("Check(%q) = %v; want the common-password field error", pw, err)
		}
	}

	for _, pw := range []string{"violet tractor hums softly", "Zebra-marmalade-Tuesday-41"} {
		if err := Check(pw); err != nil {
			t.Errorf("Check(%q) = %v; want nil", pw, err)
		}
	}

	// Seven characters: refused by the length rule, not the list.
	err := Check("zqxjkvw")
	var re *roster.Error
	if !errors.As(err, &re) || re.Field != "password" || re.Message == common {
		t.Errorf("Check(7 characters) = %v; want the length error", err)
	}
	if want := roster.CheckPasswordLength("zqxjkvw"); err.Error() != want.Error() {
		t.Errorf("Check(7 characters) = %v; want %v", err, want)
	}
	if err := Check(strings.Repeat("long ", 52)); err == nil {
		t.Error("Check(260 characters) = nil; want the length error")
	}
}

// The embedded list holds what common.go says it holds: 50,000 distinct
// lowercase entries of at least 8 characters.
func TestCommonList(t *testing.T) {
	set := commonPasswords()
	if len(set) != 50000 {
		t.Errorf("%d entries; want 50000", len(set))
	}
	for w := range set {
		if utf8.RuneCountInString(w) < roster.MinPasswordLen {
			t.Errorf("entry %q is shorter than the length rule, so it can never match", w)
		}
		if w != strings.ToLower(w) {
			t.Errorf("entry %q is not lowercase, so it can never match", w)
		}
		if strings.TrimSpace(w) != w {
			t.Errorf("entry %q has surrounding space", w)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	h := New(1)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "violet tractor hums softly"); err != nil {
			b.Fatal(err)
		}
	}
}
