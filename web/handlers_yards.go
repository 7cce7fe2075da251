package web

import (
	"net/http"
	"strconv"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/web/reply"
)

// The best-yard contest's answers for the public map (src/ext/yards.js): every season, so the
// map shows the winners once a season is closed, and what the signed-in resident has already
// done in a season (voted, nominated). The rest of the contest API is in handlers_modules.go.

func (s *Server) handleYardSeasons(w http.ResponseWriter, r *http.Request) {
	list, err := s.Modules.Seasons(r.Context())
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	reply.JSON(w, http.StatusOK, map[string]any{"seasons": list})
}

// handleYardMine answers for the signed-in account: its vote and nominations in ?season=.
func (s *Server) handleYardMine(w http.ResponseWriter, r *http.Request) {
	u, ok := s.guard.CurrentUser(r)
	if !ok {
		s.reply.Error(w, r, geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in to see your vote"))
		return
	}
	v := r.URL.Query().Get("season")
	season, err := strconv.Atoi(v)
	if err != nil {
		s.reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "season %q is not a year", v))
		return
	}
	p, err := s.Modules.Participation(r.Context(), u.ID, season)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	reply.JSON(w, http.StatusOK, p)
}
