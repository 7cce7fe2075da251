package web

import (
	"net/http"
	"net/url"
	"strings"
)

// securityHeaders sets the headers every response carries. The CSP lets MapLibre GL JS run: it
// builds its workers from blob: URLs and draws images from data: and blob: URLs; it sets styles
// only through the CSSOM, so no 'unsafe-inline' is needed. An external basemap's origin is
// allowed for images and fetches.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", s.contentSecurityPolicy())
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Permissions-Policy", "geolocation=(self), camera=(), microphone=(), payment=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.guard.OverHTTPS(r) {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) contentSecurityPolicy() string {
	extra := ""
	if u, err := url.Parse(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(s.Map.BasemapURL, "{z}", "0"),
		"{x}", "0"), "{y}", "0")); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" &&
		!strings.ContainsAny(u.Host, " ;'\"") {
		extra = " " + u.Scheme + "://" + u.Host
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:" + extra +
		"; font-src 'self'; connect-src 'self'" + extra + "; worker-src 'self' blob:; child-src 'self' blob:" +
		"; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
}
