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
// /ogc, Open311 errors under /open311, the error page for a body past its limit on a page route
// (a form), else the JSON API's. Middleware refusals (the text check, web/guard's 401, 403, 413
// and 429) answer through it.
func (s *Server) failFor(w http.ResponseWriter, r *http.Request, err error) {
	p := r.URL.Path
	switch {
	case s.pageFail != nil && pagePath(p) && geoportal.ErrorCode(err) == geoportal.ETOOLARGE:
		s.pageFail(w, r, err)
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

// pagePath reports whether p is one of the server-rendered pages' routes (web/pages).
func pagePath(p string) bool {
	switch p {
	case "/login", "/logout", "/admin", "/reports/stats", "/lighting/audit":
		return true
	}
	return strings.HasPrefix(p, "/admin/") || strings.HasPrefix(p, "/staff/") || strings.HasPrefix(p, "/pages/")
}
