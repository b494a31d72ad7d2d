package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/pgxstore"

	"roster/internal/mail"
	"roster/internal/metrics"
	"roster/internal/password"
	"roster/internal/pgtest"
	"roster/internal/roster"
	"roster/internal/web"
)

// newMeasuredApp is newApp with metrics, served on their own listener as
// `roster serve` does with ROSTER_METRICS_ADDR.
func newMeasuredApp(t *testing.T, wrap ...func(web.Store) web.Store) (*testApp, *scraper) {
	t.Helper()
	db := pgtest.DB(t)
	var store web.Store = db
	for _, w := range wrap {
		store = w(store)
	}
	m := metrics.New()
	m.WatchPool(db.Pool)
	m.WatchOutbox(db)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	app := &testApp{t: t, DB: db, HTTP: httptest.NewUnstartedServer(nil)}
	base, _ := url.Parse("http://" + app.HTTP.Listener.Addr().String())
	cfg := web.Config{BaseURL: base, IdleTimeout: time.Hour, AbsoluteTimeout: 24 * time.Hour}
	app.Server = &web.Server{
		Store:         store,
		Sessions:      web.NewSessions(pgxstore.NewWithCleanupInterval(db.Pool, 0), cfg),
		Hasher:        hasher,
		CheckPassword: password.Check,
		Config:        cfg,
		Logger:        logger,
		Metrics:       m,
	}
	app.Mail = mail.Composer{BaseURL: base}
	app.HTTP.Config.Handler = app.Server.Handler()
	app.HTTP.Start()
	t.Cleanup(app.HTTP.Close)
	ms := httptest.NewServer(m.Handler(logger))
	t.Cleanup(ms.Close)
	return app, &scraper{t: t, url: ms.URL + "/metrics"}
}

// scraper reads the metrics endpoint over HTTP, as Prometheus does.
type scraper struct {
	t    *testing.T
	url  string
	body string
}

func (s *scraper) scrape() *scraper {
	s.t.Helper()
	res, err := http.Get(s.url)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		s.t.Fatalf("scrape: %d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	s.body = string(b)
	return s
}

// value is the sample of one series, written as in the text format with
// its labels in name order, e.g. `x_total{method="GET",route="/"}`; -1 if
// the scrape has no such series.
func (s *scraper) value(series string) float64 {
	s.t.Helper()
	for _, line := range strings.Split(s.body, "\n") {
		if name, v, ok := strings.Cut(line, " "); ok && name == series {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				s.t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	return -1
}

func (s *scraper) want(series string, want float64) {
	s.t.Helper()
	if got := s.value(series); got != want {
		s.t.Errorf("%s = %v, want %v", series, got, want)
	}
}

// Requests are counted by their route's pattern, method and status, timed,
// and never labelled with the raw path (which carries ids and tokens).
func TestMetricsCountRequestsByRoutePattern(t *testing.T) {
	app, s := newMeasuredApp(t)
	c := app.newClient()
	sid := c.signUp("Ada", "ada@example.com", "Engines")
	c.get("/accounts/" + sid + "/users")
	c.get("/accounts/" + sid + "/users")
	c.get("/accounts/" + sid + "/audit")
	if res := c.get("/password/reset/some-secret-token"); res.Status != http.StatusGone {
		t.Fatalf("reset with a bad token: %d", res.Status)
	}
	if res := c.get("/no/such/page"); res.Status != http.StatusNotFound {
		t.Fatalf("unknown page: %d", res.Status)
	}

	s.scrape()
	s.want(`roster_http_requests_total{method="POST",route="/signup",status="200"}`, 1)
	s.want(`roster_http_requests_total{method="POST",route="/signup/{token}",status="303"}`, 1)
	s.want(`roster_http_requests_total{method="GET",route="/accounts/{AccountSid}",status="200"}`, 1) // after sign-up
	s.want(`roster_http_requests_total{method="GET",route="/accounts/{AccountSid}/users",status="200"}`, 2)
	s.want(`roster_http_requests_total{method="GET",route="/accounts/{AccountSid}/audit",status="200"}`, 1)
	s.want(`roster_http_requests_total{method="GET",route="/password/reset/{token}",status="410"}`, 1)
	s.want(`roster_http_requests_total{method="GET",route="unmatched",status="404"}`, 1)
	s.want(`roster_http_request_duration_seconds_count{method="GET",route="/accounts/{AccountSid}/users"}`, 2)
	s.want(`roster_http_requests_in_flight`, 0)
	for _, secret := range []string{sid, "some-secret-token", "/no/such/page"} {
		if strings.Contains(s.body, secret) {
			t.Errorf("the metrics carry %q from a raw path", secret)
		}
	}
	// The pool and the Go runtime are there too.
	if s.value(`roster_db_pool_acquires_total`) <= 0 || s.value(`roster_db_pool_max_connections`) <= 0 {
		t.Errorf("no pool statistics:\n%s", s.body)
	}
	for _, name := range []string{"go_goroutines ", "process_resident_memory_bytes ", "roster_db_pool_empty_acquires_total ", "roster_db_pool_idle_connections "} {
		if !strings.Contains(s.body, "\n"+name) {
			t.Errorf("no %s", strings.TrimSpace(name))
		}
	}
}

// The in-flight gauge counts a request while it is being served.
func TestMetricsCountRequestsInFlight(t *testing.T) {
	gate := &auditGate{entered: make(chan struct{}), release: make(chan struct{})}
	app, s := newMeasuredApp(t, func(st web.Store) web.Store { gate.Store = st; return gate })
	c := app.newClient()
	sid := c.signUp("Ada", "ada@example.com", "Engines")
	done := make(chan struct{})
	go func() { defer close(done); c.get("/accounts/" + sid + "/audit") }()
	<-gate.entered
	s.scrape().want(`roster_http_requests_in_flight`, 1)
	close(gate.release)
	<-done
	s.scrape().want(`roster_http_requests_in_flight`, 0)
	s.want(`roster_http_requests_total{method="GET",route="/accounts/{AccountSid}/audit",status="200"}`, 1)
}

// auditGate holds the audit log's query until released.
type auditGate struct {
	web.Store
	entered, release chan struct{}
}

func (g *auditGate) ListAudit(ctx context.Context, accountID int64, f roster.AuditFilter, after string, limit int) (*roster.AuditPage, error) {
	close(g.entered)
	<-g.release
	return g.Store.ListAudit(ctx, accountID, f, after, limit)
}

// Sign-in outcomes and invitation events are counted.
func TestMetricsCountSignInsAndInvitations(t *testing.T) {
	app, s := newMeasuredApp(t)
	owner := app.newClient()
	sid := owner.signUp("Ada", "ada@example.com", "Engines")
	s.scrape()
	for _, r := range []string{"success", "failure", "throttled"} {
		s.want(`roster_signins_total{result="`+r+`"}`, 0) // there before the first
	}

	c := app.newClient()
	if res := c.signIn("ada@example.com", "correct horse battery"); res.Status != http.StatusOK {
		t.Fatalf("sign-in: %d", res.Status)
	}
	for range 5 {
		app.newClient().signIn("ada@example.com", "wrong password")
	}
	if res := app.newClient().signIn("ada@example.com", "correct horse battery"); res.Status != http.StatusTooManyRequests {
		t.Fatalf("throttled sign-in: %d", res.Status)
	}

	owner.invite(sid, "bob@example.com", "developer")
	bobInvitation := app.invitationSID(t, "bob@example.com")
	owner.post("/accounts/"+sid+"/invitations/"+bobInvitation+"/resend", url.Values{"confirm": {"yes"}})
	owner.post("/accounts/"+sid+"/invitations/"+bobInvitation+"/revoke", url.Values{"confirm": {"yes"}})
	owner.invite(sid, "grace@example.com", "support")
	link := app.outboxLink("invitation", "grace@example.com", "/invite/")
	res := app.newClient().post(link+"/signup", url.Values{"name": {"Grace"}, "password": {"correct horse battery"}})
	if res.Status != http.StatusOK {
		t.Fatalf("accepting by sign-up: %d\n%s", res.Status, res.Body)
	}

	s.scrape()
	s.want(`roster_signins_total{result="success"}`, 1)
	s.want(`roster_signins_total{result="failure"}`, 5)
	s.want(`roster_signins_total{result="throttled"}`, 1)
	s.want(`roster_invitations_total{event="sent",scope="account"}`, 2)
	s.want(`roster_invitations_total{event="resent",scope="account"}`, 1)
	s.want(`roster_invitations_total{event="revoked",scope="account"}`, 1)
	s.want(`roster_invitations_total{event="accepted",scope="account"}`, 1)
	// The outbox collector reads the database at scrape time. No sender
	// runs here: Ada's verification mail waits; the invitations' mails were
	// cancelled by the revoke and the acceptance.
	s.want(`roster_mail_outbox_mails{status="queued"}`, 1)
	s.want(`roster_mail_outbox_mails{status="retrying"}`, 0)
	if age := s.value(`roster_mail_outbox_oldest_age_seconds`); age <= 0 {
		t.Errorf("oldest queued mail is %v s old", age)
	}
}

// Invitations to an organization are counted in the same series as an
// account's, under scope="organization": sent (only when one is sent),
// resent, revoked, accepted through the link's sign-up.
func TestMetricsCountOrganizationInvitations(t *testing.T) {
	app, s := newMeasuredApp(t)
	w := app.orgWorld()
	owner := app.signedIn(w.owner.Email)
	s.scrape()
	for _, e := range []string{"sent", "resent", "accepted", "declined", "revoked"} {
		s.want(`roster_invitations_total{event="`+e+`",scope="organization"}`, 0) // there before the first
	}

	for _, email := range []string{"nina@example.com", "sam@example.com", "nina@example.com"} {
		owner.post(orgPath(w.org.SID, "/users/invite"), url.Values{"email": {email}})
	}
	var sam string
	if err := app.DB.Pool.QueryRow(context.Background(), `SELECT sid FROM organization_invitations WHERE email = 'sam@example.com'`).Scan(&sam); err != nil {
		t.Fatal(err)
	}
	if res := owner.post(orgPath(w.org.SID, "/invitations/"+sam+"/resend"), url.Values{"confirm": {"yes"}}); res.Status != http.StatusOK {
		t.Fatalf("resend: %d", res.Status)
	}
	if res := owner.post(orgPath(w.org.SID, "/invitations/"+sam+"/revoke"), url.Values{"confirm": {"yes"}}); res.Status != http.StatusOK {
		t.Fatalf("revoke: %d", res.Status)
	}
	link := app.outboxLink("org_invitation", "nina@example.com", "/join/")
	if res := app.newClient().post(link+"/signup", url.Values{"name": {"Nina"}, "password": {"correct horse battery"}}); res.Status != http.StatusOK {
		t.Fatalf("accepting by sign-up: %d\n%s", res.Status, res.Body)
	}

	s.scrape()
	s.want(`roster_invitations_total{event="sent",scope="organization"}`, 2) // the second to nina was refused
	s.want(`roster_invitations_total{event="resent",scope="organization"}`, 1)
	s.want(`roster_invitations_total{event="revoked",scope="organization"}`, 1)
	s.want(`roster_invitations_total{event="accepted",scope="organization"}`, 1)
	s.want(`roster_invitations_total{event="sent",scope="account"}`, 0)
}
