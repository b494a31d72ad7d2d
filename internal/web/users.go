package web

import "github.com/go-chi/chi/v5"

// inviteRoutes registers Manage users and the invitation actions inside
// /accounts/{AccountSid}.
func (s *Server) inviteRoutes(r chi.Router) {}
