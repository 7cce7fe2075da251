package web

import (
	"net/http"
	"strings"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/web/ogc"
	"github.com/aktobe/geoportal/web/open311"
)

var errPendingMigrations = geoportal.Errorf(geoportal.EUNAVAILABLE, "database has pending migrations")

// failFor writes err in the error shape of the face the request is for: the OGC exception under
// /ogc, Open311 errors under /open311, else the JSON API's. Middleware refusals (the text check,
// web/guard's 401, 403, 413 and 429) answer through it.
func (s *Server) failFor(w http.ResponseWriter, r *http.Request, err error) {
	p := r.URL.Path
	switch {
	case p == "/ogc" || strings.HasPrefix(p, "/ogc/"):
		ogc.WriteError(s.reply, w, r, err)
	case strings.HasPrefix(p, "/open311/"):
		format := "json"
		if strings.HasSuffix(p, ".xml") {
			format = "xml"
		}
		open311.WriteError(s.reply, w, r, format, err)
	default:
		s.reply.Error(w, r, err)
	}
}
