//go:build loadtest

package web_test

// The anonymous-hashing load test (docs/performance.md, "Sign-in while
// anonymous clients hammer sign-up and reset"). It is not part of the suite:
// it runs only with the loadtest build tag,
//
//	go test -tags loadtest -run 'TestSignInUnderAnonymous' -v -count=1 ./internal/web
//
// and it only measures: nothing in it fails on a slow machine. It serves the
// real router on loopback, configured as `roster serve` configures it (one
// password hash per CPU at once), with the loopback address as a trusted
// proxy so that every attacking request can come from an address of its own
// (X-Forwarded-For), as from a botnet: no per-address limit stops them.
//
// A normal sign-in runs one at a time, first alone (the baseline), then
// while 12 anonymous clients post as fast as they can. In
// TestSignInUnderAnonymousLoad half post to /password/reset/{random token}
// with an acceptable new password, half to /signup with a new address,
// name, password and account name (the form's fields before sign-up became
// email-first; afterwards only the email is read). In
// TestSignInUnderAnonymousHashing every request carries a working reset
// link, the worst case. Each reports the sign-in's p50 and p99 in both
// phases, what the attackers got, and the machine's load. The requests are
// the same on every version of Roster, so the file can be copied onto an
// older commit to measure it the same way.

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
	app, hc := loadApp(t)
	runLoad(t, app, hc, func(ctx context.Context, i int) (string, bool) {
		kind := "reset"
		if i%2 == 1 {
			kind = "signup"
		}
		return kind + " " + attack(ctx, hc, app.HTTP.URL, kind), true
	})
}

// TestSignInUnderAnonymousHashing is the worst case for hashing: every
// attacking request carries a working password reset link, of a login of
// its own, from an address of its own, so that no check or limit stops it
// and each one costs a password hash. The attack ends when the links run
// out (loadLinks of them).
func TestSignInUnderAnonymousHashing(t *testing.T) {
	app, hc := loadApp(t)
	ctx := context.Background()
	const loadLinks = 1500
	if _, err := app.DB.Pool.Exec(ctx, `
		INSERT INTO users (sid, email, name, password_hash, email_verified_at)
		SELECT 'US' || md5(n::text), 'victim' || n || '@example.com', 'Victim', $1, now()
		FROM generate_series(1, $2) n`, testPasswordHash(), loadLinks); err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= loadLinks; n++ {
		if err := app.DB.RequestPasswordReset(ctx, "victim"+strconv.Itoa(n)+"@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := app.DB.Pool.Query(ctx, `SELECT payload->>'token' FROM email_outbox WHERE kind = 'password_reset'`)
	if err != nil {
		t.Fatal(err)
	}
	links := make(chan string, loadLinks)
	for rows.Next() {
		var token string
		if err := rows.Scan(&token); err != nil {
			t.Fatal(err)
		}
		links <- "/password/reset/" + token
	}
	rows.Close()
	close(links)
	if len(links) != loadLinks {
		t.Fatalf("%d reset links, want %d", len(links), loadLinks)
	}
	runLoad(t, app, hc, func(ctx context.Context, _ int) (string, bool) {
		link, ok := <-links
		if !ok {
			return "", false
		}
		return "reset with a working link " + post(ctx, hc, app.HTTP.URL+link, url.Values{"password": {"a perfectly fine new passphrase"}}), true
	})
}

// loadApp is the console as `roster serve` configures it (one password hash
// per CPU at once), with the loopback address as a trusted proxy, and a
// login to sign in as; and an HTTP client that does not follow redirects.
func loadApp(t *testing.T) (*testApp, *http.Client) {
	app := newAppWith(t, pgtest.DB(t), func(s *web.Server) {
		s.Hasher = password.New(0)
		s.Config.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	app.mustCreateUser("Ada Lovelace", "ada@example.com")
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return app, &http.Client{
		Transport:     tr,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// runLoad measures sign-ins alone, then while loadAttackers goroutines call
// attack(ctx, i) as fast as they can, until the sign-ins are done or every
// attacker is out of work (attack's false). attack returns what it got, for
// the report.
func runLoad(t *testing.T, app *testApp, hc *http.Client, attack func(ctx context.Context, i int) (string, bool)) {
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
	measure := func(phase string, stop <-chan struct{}) []time.Duration {
		var ds []time.Duration
		deadline := time.Now().Add(loadPhaseMax)
		for len(ds) < loadSignIns() && time.Now().Before(deadline) {
			select {
			case <-stop:
				return ds
			default:
			}
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
	base := measure("baseline", nil)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[string]int{} // what the attackers got → count
	for i := range loadAttackers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				what, more := attack(ctx, i)
				if !more || ctx.Err() != nil {
					return // out of work, or cut short by the end of the test
				}
				mu.Lock()
				got[what]++
				mu.Unlock()
			}
		}()
	}
	over := make(chan struct{})
	go func() { wg.Wait(); close(over) }()
	time.Sleep(time.Second) // let the attack reach its pace
	load1 := loadavg()
	under := measure("under load", over)
	load2 := loadavg()
	select {
	case <-over:
		t.Logf("the attack ran out of work before the sign-ins were done")
	default:
	}
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

// attack sends one anonymous request of kind and returns its status.
func attack(ctx context.Context, hc *http.Client, base, kind string) string {
	form := url.Values{"password": {"a perfectly fine new passphrase"}}
	switch kind {
	case "reset":
		return post(ctx, hc, base+"/password/reset/"+randomHexText(32), form)
	default: // sign-up, with the fields it had before it was email-first
		form.Set("email", "load-"+randomHexText(8)+"@example.com")
		form.Set("name", "Load Test")
		form.Set("account_name", "Load")
		return post(ctx, hc, base+"/signup", form)
	}
}

// post sends a form from an address of its own (X-Forwarded-For) and
// returns the status ("error" when the request failed).
func post(ctx context.Context, hc *http.Client, target string, form url.Values) string {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
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
