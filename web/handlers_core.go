package web

import (
	"errors"
	"net/http"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/web/reply"
)

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	reply.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if err := s.ready(r.Context()); err != nil {
		// The detail (host, role, SQLSTATE) is for the operator's log, not for anyone who asks.
		reason := "database unavailable"
		if errors.Is(err, errPendingMigrations) {
			reason = geoportal.ErrorMessage(err)
		}
		s.Logger.Warn("not ready", "error", err)
		reply.JSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": reason})
		return
	}
	reply.JSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
