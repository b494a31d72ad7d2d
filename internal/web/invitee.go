package web

import "github.com/go-chi/chi/v5"

// inviteLinkRoutes registers the invitee's landing page, /invite/{token}.
func (s *Server) inviteLinkRoutes(r chi.Router) {}

// inviteeRoutes registers the signed-in user's own invitations.
func (s *Server) inviteeRoutes(r chi.Router) {}
