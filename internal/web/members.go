package web

import "github.com/go-chi/chi/v5"

// memberRoutes registers role edit, remove, leave, transfer and the audit log
// inside /accounts/{AccountSid}.
func (s *Server) memberRoutes(r chi.Router) {}
