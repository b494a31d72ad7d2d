package web

import (
	"log/slog"

	"github.com/alexedwards/scs/v2"
	"github.com/go-chi/chi/v5"
)

// site is what every handler group shares: the session manager, password
// hashing and checking, the deployment's configuration, the logger, the
// metrics (nil counts nothing), and the SessionStore that loads the caller
// on each request. Its methods are the middleware (middleware.go,
// metrics.go), rendering and error pages (errors.go), flash messages, and
// starting a login (auth.go). The exported-looking fields keep the names
// they have on Server.
//
// A handler group is a small struct of the site and its own store interface,
// e.g. manageUsersPages{*site, ManageUsersStore}: its methods reach the
// shared helpers through the embedded site, and storage only through its
// own interface (and the shared SessionStore).
type site struct {
	Sessions      *scs.SessionManager
	Hasher        Hasher
	CheckPassword PasswordChecker
	Config        Config
	Logger        *slog.Logger
	Metrics       Metrics
	sessionStore  SessionStore
	// routes is the router, for the edge to tell which route a request is
	// for before routing (checkInput: the upload's own body limit).
	routes *chi.Mux
}
