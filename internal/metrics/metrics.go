// Package metrics keeps Roster's Prometheus metrics on a private registry
// and serves them in the Prometheus text format.
//
// A *Metrics is handed by hand to the parts that count (the web server, the
// mail worker); each takes it as an optional field, and a nil *Metrics
// counts nothing, so every method is safe to call on nil. What lives in the
// database (the outbox) and in the connection pool is read at scrape time by
// collectors registered with WatchOutbox and WatchPool.
package metrics

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Label values the console and the mail worker report. Others are counted
// under their own value; these exist from the start at zero, so that rates
// and alerts work before the first event.
var (
	SignInResults    = []string{"success", "failure", "throttled"}
	InvitationEvents = []string{"sent", "resent", "accepted", "declined", "revoked"}
	// InvitationScopes says what an invitation is to: an account, or an
	// organization (to become its managed user).
	InvitationScopes = []string{"account", "organization"}
	MailResults      = []string{"sent", "retry", "failed"}
)

// Metrics is Roster's set of metrics. Create it with New.
type Metrics struct {
	reg             *prometheus.Registry
	requests        *prometheus.CounterVec
	duration        *prometheus.HistogramVec
	inFlight        prometheus.Gauge
	mailSends       *prometheus.CounterVec
	mailLastSuccess prometheus.Gauge
	signIns         *prometheus.CounterVec
	invitations     *prometheus.CounterVec
}

// New returns the metrics, registered on a registry of their own together
// with the Go runtime, process and build collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roster_http_requests_total",
			Help: "HTTP requests served, by route pattern (never the raw path), method and status code.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "roster_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by route pattern and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "roster_http_requests_in_flight",
			Help: "HTTP requests being served now.",
		}),
		mailSends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roster_mail_sends_total",
			Help: "Delivery attempts of outbox mail by this instance, by result: sent, retry (failed, will be tried again) or failed (given up).",
		}, []string{"result"}),
		mailLastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "roster_mail_last_success_timestamp_seconds",
			Help: "Unix time of this instance's last delivered mail; 0 if none since it started.",
		}),
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roster_signins_total",
			Help: "Sign-in attempts with a password, by result: success, failure (wrong email or password, or a deactivated login) or throttled (refused after too many failures).",
		}, []string{"result"}),
		invitations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roster_invitations_total",
			Help: "Invitation events through the console: sent, resent, accepted, declined and revoked, by scope: to an account, or to an organization. Sum over scope for every invitation.",
		}, []string{"event", "scope"}),
	}
	for _, r := range SignInResults {
		m.signIns.WithLabelValues(r)
	}
	for _, e := range InvitationEvents {
		for _, s := range InvitationScopes {
			m.invitations.WithLabelValues(e, s)
		}
	}
	for _, r := range MailResults {
		m.mailSends.WithLabelValues(r)
	}
	m.reg.MustRegister(m.requests, m.duration, m.inFlight, m.mailSends, m.mailLastSuccess, m.signIns, m.invitations,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
	)
	return m
}

// Handler serves the metrics in the Prometheus text format. A collector that
// fails (the database did not answer) is logged and left out of that scrape;
// the others are still served.
func (m *Metrics) Handler(log *slog.Logger) http.Handler {
	return promhttp.InstrumentMetricHandler(m.reg, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelError),
	}))
}

// RequestStarted counts a request in flight until RequestFinished.
func (m *Metrics) RequestStarted() {
	if m == nil {
		return
	}
	m.inFlight.Inc()
}

// RequestFinished records a served request. route must be the route's
// pattern ("/accounts/{AccountSid}/users"), never the raw path, which
// carries tokens and ids and would make a series per visitor.
func (m *Metrics) RequestFinished(route, method string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.inFlight.Dec()
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(d.Seconds())
}

// SignIn counts a sign-in attempt by result (see SignInResults).
func (m *Metrics) SignIn(result string) {
	if m == nil {
		return
	}
	m.signIns.WithLabelValues(result).Inc()
}

// Invitation counts an invitation event (see InvitationEvents) of a scope
// (see InvitationScopes).
func (m *Metrics) Invitation(scope, event string) {
	if m == nil {
		return
	}
	m.invitations.WithLabelValues(event, scope).Inc()
}

// MailResult counts a delivery attempt by result (see MailResults), and
// notes the time of a success.
func (m *Metrics) MailResult(result string) {
	if m == nil {
		return
	}
	m.mailSends.WithLabelValues(result).Inc()
	if result == "sent" {
		m.mailLastSuccess.SetToCurrentTime()
	}
}
