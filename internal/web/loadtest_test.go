//go:build loadtest

package web_test

// The anonymous-hashing load test (docs/performance.md, "Sign-in while
// anonymous clients hammer sign-up and reset"). It is not part of the suite:
// it runs only with the loadtest build tag,
//
//	go test -tags loadtest -run TestSignInUnderAnonymousLoad -v -count=1 ./internal/web
//
// and it only measures: nothing in it fails on a slow machine. It serves the
// real router on loopback, configured as `roster serve` configures it (one
// password hash per CPU at once), with the loopback address as a trusted
// proxy so that every attacking request can come from an address of its own
// (X-Forwarded-For), as from a botnet: no per-address limit stops them.
//
// A normal sign-in runs one at a time, first alone (the baseline), then
// while 12 anonymous clients post as fast as they can, half to
// /password/reset/{random token} with an acceptable new password, half to
// /signup with a new address, name, password and account name (the form's
// fields before sign-up became email-first; afterwards only the email is
// read). It reports the sign-in's p50 and p99 in both phases, what the
// attackers got, and the machine's load. The requests are the same on every
// version of Roster, so the test can be copied onto an older commit to
// measure it the same way.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"roster/internal/password"
	"roster/internal/pgtest"
	"roster/internal/web"
)

// Bounds: the test ends after this many measured sign-ins per phase, or
// when a phase has run for loadPhaseMax, whichever comes first.
const (
	loadAttackers = 12
	loadPhaseMax  = 2 * time.Minute
)

func loadSignIns() int {
	if n, err := strconv.Atoi(os.Getenv("ROSTER_LOADTEST_SIGNINS")); err == nil && n > 0 {
		return n
	}
	return 100
}

func TestSignInUnderAnonymousLoad(t *testing.T) {
	db := pgtest.DB(t)
	app := newAppWith(t, db, func(s *web.Server) {
		s.Hasher = password.New(0) // as roster serve: one hash per CPU at once
		s.Config.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	app.mustCreateUser("Ada Lovelace", "ada@example.com")

	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{
		Transport:     tr,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	signIn := func() (time.Duration, error) {
		form := url.Values{"email": {"ada@example.com"}, "password": {testPassword}}
		start := time.Now()
		res, err := hc.PostForm(app.HTTP.URL+"/login", form)
		if err != nil {
			return 0, err
		}
		res.Body.Close()
		d := time.Since(start)
		if res.StatusCode != http.StatusSeeOther {
			return d, fmt.Errorf("sign-in answered %d", res.StatusCode)
		}
		return d, nil
	}
	measure := func(phase string) []time.Duration {
		var ds []time.Duration
		deadline := time.Now().Add(loadPhaseMax)
		for len(ds) < loadSignIns() && time.Now().Before(deadline) {
			d, err := signIn()
			if err != nil {
				t.Fatalf("%s: %v", phase, err)
			}
			ds = append(ds, d)
		}
		return ds
	}

	for range 5 { // warm up: connections, the pool, the common-password list
		if _, err := signIn(); err != nil {
			t.Fatal(err)
		}
	}
	load0 := loadavg()
	base := measure("baseline")

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[string]int{} // "kind status" → count
	for i := range loadAttackers {
		kind := "reset"
		if i%2 == 1 {
			kind = "signup"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				status := attack(ctx, hc, app.HTTP.URL, kind)
				if ctx.Err() != nil {
					return // cut short by the end of the test, not an answer
				}
				mu.Lock()
				got[kind+" "+status]++
				mu.Unlock()
			}
		}()
	}
	time.Sleep(time.Second) // let the attack reach its pace
	load1 := loadavg()
	under := measure("under load")
	load2 := loadavg()
	cancel()
	wg.Wait()

	bp50, bp99 := percentile(base, 50), percentile(base, 99)
	up50, up99 := percentile(under, 50), percentile(under, 99)
	var outcomes []string
	for k, n := range got {
		outcomes = append(outcomes, fmt.Sprintf("%s: %d", k, n))
	}
	sort.Strings(outcomes)
	t.Logf("%d CPUs, %s", runtime.NumCPU(), runtime.Version())
	t.Logf("load average (1, 5, 15 min): before %s; attack started %s; attack ended %s", load0, load1, load2)
	t.Logf("baseline:   %d sign-ins, p50 %s, p99 %s", len(base), ms(bp50), ms(bp99))
	t.Logf("under load: %d sign-ins, p50 %s, p99 %s (%d anonymous clients)", len(under), ms(up50), ms(up99), loadAttackers)
	t.Logf("attackers' requests by answer: %s", strings.Join(outcomes, ", "))
	t.Logf("| %s | %s | %s | %s | %s |", ms(bp50), ms(bp99), ms(up50), ms(up99), load1)
}

// attack sends one anonymous request of kind from an address of its own and
// returns its status ("error" when it failed).
func attack(ctx context.Context, hc *http.Client, base, kind string) string {
	var path string
	form := url.Values{"password": {"a perfectly fine new passphrase"}}
	switch kind {
	case "reset":
		path = "/password/reset/" + randomHexText(32)
	case "signup":
		path = "/signup"
		form.Set("email", "load-"+randomHexText(8)+"@example.com")
		form.Set("name", "Load Test")
		form.Set("account_name", "Load")
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	b := make([]byte, 3)
	rand.Read(b)
	req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", b[0], b[1], b[2]))
	res, err := hc.Do(req)
	if err != nil {
		return "error"
	}
	res.Body.Close()
	return strconv.Itoa(res.StatusCode)
}

func randomHexText(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// percentile is the nearest-rank percentile p of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := (p*len(s) + 99) / 100
	return s[max(rank, 1)-1]
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
}

// loadavg is the machine's load average, as /proc/loadavg has it.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
