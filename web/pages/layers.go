package pages

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/reply"
	"github.com/go-chi/chi/v5"
)

// The layer management page for GIS staff (GET /staff/layers, docs/staff.md): each layer's
// titles, visibility and colour in a form of its own, and deletion after a confirmation page
// naming the layer and its feature count. The store (layers/manage.go) audits every change and
// announces it; Shared.LayerChanged refreshes this process's tile catalog at once.

type layersPage struct {
	page
	Layers []layers.Layer
	// Layer is the one layer of the confirmation page.
	Layer layers.Layer
}

// Title is a layer's title in the page language.
func (p layersPage) Title(l layers.Layer) string {
	switch p.Lang {
	case "kk":
		return l.Title.KK
	case "en":
		return l.Title.EN
	}
	return l.Title.RU
}

// Count is a layer's feature count as the pages write numbers.
func (p layersPage) Count(l layers.Layer) string {
	return FormatNumber(p.Lang, float64(l.FeatureCount), 0)
}

// Color is the colour input's value: the style's colour, or the map's default.
func (p layersPage) Color(l layers.Layer) string {
	if c, ok := l.StyleColor(); ok {
		return c
	}
	return "#0b5d73"
}

// ByValue reports whether the layer's style colours its features by value (no single colour).
func (p layersPage) ByValue(l layers.Layer) bool {
	_, ok := l.StyleColor()
	return !ok && len(l.Style) > 2
}

// layersUser lets GIS staff and admins through: a sign-in redirect for anonymous visitors, 403
// for other roles.
func (ps *Pages) layersUser(w http.ResponseWriter, r *http.Request, p page) bool {
	if p.User == nil {
		signIn(w, r, p.Lang)
		return false
	}
	if !p.User.HasRole(ps.Roles.Layers...) {
		ps.forbidden(w, r, "the layer management page needs the gis_staff or admin role")
		return false
	}
	return true
}

// LayersPage lists the catalog's layers with their forms (GET /staff/layers).
func (ps *Pages) LayersPage(w http.ResponseWriter, r *http.Request) {
	ps.showLayers(w, r, http.StatusOK, "")
}

func (ps *Pages) showLayers(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	p := layersPage{page: ps.newPage(r)}
	if !ps.layersUser(w, r, p.page) {
		return
	}
	var err error
	if p.Layers, err = ps.Layers.Layers(r.Context(), true); err != nil {
		ps.fail(w, r, err)
		return
	}
	p.Error = errMsg
	switch r.URL.Query().Get("msg") {
	case "saved":
		p.Flash = p.T("layers.saved")
	case "deleted":
		if slug := r.URL.Query().Get("slug"); layers.ValidSlug(slug) {
			p.Flash = p.T("layers.deleted", "slug", slug)
		}
	}
	ps.render(w, status, p.Lang, "layers.html", p)
}

// layerForm runs one of the page's forms on the layer {slug}: back to the page with "saved" (and
// the layer's anchor), or the page with the error and its 4xx status.
func (ps *Pages) layerForm(edit func(r *http.Request) layers.LayerEdit) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			ps.fail(w, r, guard.BodyError(err))
			return
		}
		slug := chi.URLParam(r, "slug")
		if _, err := ps.Layers.EditLayer(r.Context(), slug, edit(r)); err != nil {
			ps.layerFailed(w, r, err)
			return
		}
		ps.layerChanged(r)
		http.Redirect(w, r, "/staff/layers?msg=saved&lang="+Lang(r)+"#layer-"+slug, http.StatusSeeOther)
	}
}

func (ps *Pages) layerFailed(w http.ResponseWriter, r *http.Request, err error) {
	if reply.Status(err) >= 500 {
		ps.fail(w, r, err)
		return
	}
	ps.showLayers(w, r, reply.Status(err), geoportal.ErrorMessage(err))
}

// layerChanged refreshes this process's tile catalog; the others hear the notification.
func (ps *Pages) layerChanged(r *http.Request) {
	if ps.Shared.LayerChanged == nil {
		return
	}
	if err := ps.Shared.LayerChanged(r.Context()); err != nil {
		ps.Logger.Warn("tile catalog refresh after a layer change", "error", err)
	}
}

// The page's forms, each at its POST /staff/layers/{slug}/… route.
func (ps *Pages) LayerTitlesForm() http.HandlerFunc {
	return ps.layerForm(func(r *http.Request) layers.LayerEdit {
		return layers.LayerEdit{Title: &layers.Titles{KK: r.PostForm.Get("title_kk"), RU: r.PostForm.Get("title_ru"), EN: r.PostForm.Get("title_en")}}
	})
}
func (ps *Pages) LayerVisibilityForm() http.HandlerFunc {
	return ps.layerForm(func(r *http.Request) layers.LayerEdit {
		v := r.PostForm.Get("visibility")
		return layers.LayerEdit{Visibility: &v}
	})
}
func (ps *Pages) LayerColorForm() http.HandlerFunc {
	return ps.layerForm(func(r *http.Request) layers.LayerEdit {
		c := r.PostForm.Get("color")
		return layers.LayerEdit{Color: &c}
	})
}

// LayerDeletePage is the confirmation step (GET /staff/layers/{slug}/delete): it names the layer
// and its feature count, and its form sends that count back.
func (ps *Pages) LayerDeletePage(w http.ResponseWriter, r *http.Request) {
	p := layersPage{page: ps.newPage(r)}
	if !ps.layersUser(w, r, p.page) {
		return
	}
	l, err := ps.Layers.Layer(r.Context(), chi.URLParam(r, "slug"), true)
	if err != nil {
		ps.fail(w, r, err)
		return
	}
	p.Layer = l
	ps.render(w, http.StatusOK, p.Lang, "layer_delete.html", p)
}

// LayerDeleteForm deletes the layer (POST /staff/layers/{slug}/delete, features = the count the
// confirmation page showed).
func (ps *Pages) LayerDeleteForm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		ps.fail(w, r, guard.BodyError(err))
		return
	}
	slug := chi.URLParam(r, "slug")
	v := r.PostForm.Get("features")
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		ps.layerFailed(w, r, geoportal.Errorf(geoportal.EINVALID, "features %q is not the layer's feature count: open the confirmation page again", v))
		return
	}
	if err := ps.Layers.DeleteLayer(r.Context(), slug, n); err != nil {
		ps.layerFailed(w, r, err)
		return
	}
	ps.layerChanged(r)
	http.Redirect(w, r, "/staff/layers?msg=deleted&slug="+url.QueryEscape(slug)+"&lang="+Lang(r), http.StatusSeeOther)
}
