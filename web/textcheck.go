package web

import (
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/aktobe/geoportal"
)

// checkText refuses, with 400 naming the part, a request whose path or query holds what no text
// column can take: bytes that are not UTF-8 (`%FF`, `%C3%28`) or a NUL (`%00`). Every handler
// after it may hand path and query values to PostgreSQL as text. The answer takes the shape of
// the interface asked (OGC API exception, Open311 errors, or the JSON error of the rest).
func (s *Server) checkText(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := requestText(r); err != nil {
			s.failFor(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requestText checks the path and every query parameter's name and values.
func requestText(r *http.Request) error {
	if bad := badText(r.URL.Path); bad != "" {
		return geoportal.Errorf(geoportal.EINVALID, "the path %s", bad)
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return geoportal.Errorf(geoportal.EINVALID, "the query string is malformed: %v", err)
	}
	for name, values := range q {
		if bad := badText(name); bad != "" {
			return geoportal.Errorf(geoportal.EINVALID, "a query parameter's name %s", bad)
		}
		for _, v := range values {
			if bad := badText(v); bad != "" {
				return geoportal.Errorf(geoportal.EINVALID, "parameter %s %s", name, bad)
			}
		}
	}
	return nil
}

// badText says what is wrong with s as text, or "" when nothing is.
func badText(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "holds a NUL byte"
	}
	return ""
}
