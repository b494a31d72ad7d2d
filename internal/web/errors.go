package web

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"roster/internal/roster"
	"roster/web/templates"
)

// handlerFunc is a handler that returns its failure instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

var errNotFound = roster.Errorf(roster.ENOTFOUND, "There's nothing here, or you don't have access to it. Check the address, or pick an account from your list.")

var errMethodNotAllowed = &edgeError{http.StatusMethodNotAllowed, "That can't be done this way",
	"This address only takes what Roster's own pages send. Go back, and use the page's button or link."}

// handle adapts a handlerFunc: an error becomes a status and a page written
// for people. Only unexpected errors are logged, with the request id that the
// page shows.
func (s *site) handle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.renderError(w, r, err)
		}
	}
}

var statusByCode = map[string]int{
	roster.EINVALID:      http.StatusUnprocessableEntity,
	roster.ENOTFOUND:     http.StatusNotFound,
	roster.ECONFLICT:     http.StatusConflict,
	roster.EFORBIDDEN:    http.StatusForbidden,
	roster.EUNAUTHORIZED: http.StatusUnauthorized,
	roster.ETOOMANY:      http.StatusTooManyRequests,
	roster.EGONE:         http.StatusGone,
}

var headingByCode = map[string]string{
	roster.EINVALID:      "That didn't work",
	roster.ENOTFOUND:     "Page not found",
	roster.ECONFLICT:     "That can't be done right now",
	roster.EFORBIDDEN:    "You don't have permission to do this",
	roster.EUNAUTHORIZED: "Please sign in",
	roster.ETOOMANY:      "Too many attempts",
	roster.EGONE:         "This link no longer works",
}

// httpStatus maps an error to its status code.
func httpStatus(err error) int {
	if st, ok := statusByCode[roster.ErrorCode(err)]; ok {
		return st
	}
	return http.StatusInternalServerError
}

func (s *site) renderError(w http.ResponseWriter, r *http.Request, err error) {
	var edge *edgeError
	if errors.As(err, &edge) {
		s.render(w, r, edge.status, templates.ErrorPage(s.chrome(r), edge.status, edge.heading, edge.message, ""))
		return
	}
	status := httpStatus(err)
	heading := headingByCode[roster.ErrorCode(err)]
	if secs := retryAfter(err, time.Now()); secs > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	reqID := ""
	if status == http.StatusInternalServerError {
		reqID = middleware.GetReqID(r.Context())
		heading = "Something went wrong"
		s.Logger.Error("request failed", "request_id", reqID, "method", r.Method, "route", routePattern(r), "err", err)
	}
	s.render(w, r, status, templates.ErrorPage(s.chrome(r), status, heading, errorMessage(err), reqID))
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render writes a page: rendered into a pooled buffer first, so a template
// failure becomes a clean 500 and the page goes out in one write with its
// length.
func (s *site) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if err := c.Render(r.Context(), buf); err != nil {
		reqID := middleware.GetReqID(r.Context())
		s.Logger.Error("rendering failed", "request_id", reqID, "route", routePattern(r), "err", err)
		http.Error(w, "Something went wrong on our side. Reference: "+reqID, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", fmt.Sprint(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// recoverPanics turns a panic into a logged 500 instead of a dropped
// connection.
func (s *site) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				s.Logger.Error("panic", "request_id", middleware.GetReqID(r.Context()), "panic", v, "stack", string(debug.Stack()))
				http.Error(w, "Something went wrong on our side. Reference: "+middleware.GetReqID(r.Context()), http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// logRequests writes one structured line per request. It logs the route
// pattern (/invite/{token}), never the path: paths carry invitation, reset
// and verification tokens, and the log must not hold them.
func (s *site) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		start := time.Now()
		next.ServeHTTP(ww, r)
		s.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", middleware.GetReqID(r.Context())),
			slog.String("method", r.Method),
			slog.String("route", routePattern(r)),
			slog.Int("status", ww.Status()),
			slog.Int("bytes", ww.BytesWritten()),
			slog.Duration("duration", time.Since(start)),
		)
	})
}

// routePattern is the pattern of the route that served r, as far as routing
// got ("-" before routing, or when nothing matched).
func routePattern(r *http.Request) string {
	if p := chi.RouteContext(r.Context()).RoutePattern(); p != "" {
		return p
	}
	return "-"
}
