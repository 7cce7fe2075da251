package tiles

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/glyphs"
	"github.com/aktobe/geoportal/web/reply"
	"github.com/go-chi/chi/v5"
)

// glyphCacheControl: a glyph range changes only with the font files, and then its ETag does.
const glyphCacheControl = "public, max-age=604800, stale-while-revalidate=86400"

// Glyphs serves /fonts/{fontstack}/{range}.pbf, the SDF glyph ranges the map's labels
// are drawn with (package glyphs).
func (a *API) Glyphs(w http.ResponseWriter, r *http.Request) {
	fontstack, err := url.PathUnescape(chi.URLParam(r, "fontstack"))
	if err != nil {
		a.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "fontstack %q is not a valid path segment", truncateParam(chi.URLParam(r, "fontstack"))))
		return
	}
	stack, err := glyphs.Stack(fontstack)
	if err != nil {
		a.Reply.Error(w, r, geoportal.Errorf(geoportal.ENOTFOUND, "%s", strings.TrimPrefix(err.Error(), "glyphs: ")))
		return
	}
	start, err := glyphs.ParseRange(chi.URLParam(r, "range"))
	if err != nil {
		a.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "%s", strings.TrimPrefix(err.Error(), "glyphs: ")))
		return
	}
	rg, err := a.Fonts.Range(stack, start)
	if err != nil {
		a.Reply.Error(w, r, err) // a font file missing or unreadable: internal, logged
		return
	}
	h := w.Header()
	h.Set("Cache-Control", glyphCacheControl)
	h.Set("ETag", rg.ETag)
	h.Set("Vary", "Accept-Encoding")
	if reply.ETagMatches(r.Header.Get("If-None-Match"), rg.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/x-protobuf")
	body := rg.PBF
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = rg.Gzip
	}
	w.Write(body)
}
