// Package pages is the geoportal's server-rendered face: the sign-in and admin pages, the
// reports console and statistics, the dispatchers' pages, the city modules' pages, the private
// cameras' pages (owners and Safe City staff) and the upload page, in kk, ru and en. One template
// engine (one layout, one FuncMap), one stylesheet, one error page and one text catalog
// (catalog.json) serve them all; package web registers the handlers in its routes.go.
package pages

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/modules"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/aktobe/geoportal/layers/transit"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/reply"
	"github.com/go-chi/chi/v5"
)

// Pages serves the server-rendered pages. Package web builds it from its Server: the stores
// the pages call, the guard, the error writer, the roles of each page and the few actions the
// pages share with the JSON API (so both faces act alike).
type Pages struct {
	Logger   *slog.Logger
	Reply    reply.Writer
	Guard    *guard.Guard
	Accounts *accounts.Store
	Reports  *reports.Store
	Transit  *transit.Service
	// Modules is the city modules' store.
	Modules *modules.Store
	// Layers is the layer catalog (the layer management page).
	Layers *layers.Store
	// StaffMap names the staff pages' map bundle (src/staffmap in the front-end); empty when the
	// front-end is not built in, and the pages then keep their plain fields.
	StaffMap StaffMap
	Roles    Roles
	Shared   Shared
	// MapEntry names the built files of one of the map bundle's entries (its script and
	// stylesheets, under /assets/), for the pages that draw a map; nil or "" when the bundle
	// was not built.
	MapEntry func(entry string) (js string, css []string)
}

// Roles are who may open each staff page (the JSON API's routes check the same lists); the
// navigation bar (nav.go) shows each section to the same roles.
type Roles struct {
	Import, Dispatch, Outage, Area, Contest []accounts.Role
	// Reports work on citizen reports; Planner open the planners' page; Layers manage the layer
	// catalog (titles, visibility, style, deletion).
	Reports, Planner, Layers []accounts.Role
}

// StaffMap is the script and stylesheet of the staff pages' maps, as paths under /assets/.
type StaffMap struct {
	Script string
	Styles []string
}

// Shared are what a page does exactly as the JSON API does.
type Shared struct {
	// Login checks a password under the login limits and starts a session; Logout ends the
	// request's session and clears its cookie.
	Login  func(r *http.Request, email, password string) (*accounts.User, string, *accounts.Session, error)
	Logout func(w http.ResponseWriter, r *http.Request) error
	// CreateUser adds a user, generating the password when it is empty (then returned).
	CreateUser func(r *http.Request, u accounts.NewUser) (*accounts.User, string, error)
	// CreateKey makes an API key; expires is a date or RFC 3339 time, empty for never.
	CreateKey func(r *http.Request, userID int64, name string, scopes []string, expires string) (string, *accounts.APIKey, error)
	// SetTracker sets a tracker's password, or marks it open.
	SetTracker func(r *http.Request, login, password, note string, open bool) error
	// CheckNotSelfDemotion refuses an admin's change that would lock them out.
	CheckNotSelfDemotion func(r *http.Request, id int64, role accounts.Role, disabled bool) error
	// AuditFilter reads the audit log's filters from a query.
	AuditFilter func(q url.Values) (accounts.AuditFilter, error)
	// ReportActor is the caller as the reports module sees them (EFORBIDDEN for roles that do not
	// work on reports); ReportFilter reads the console's filters for them.
	ReportActor  func(r *http.Request) (reports.Actor, error)
	ReportFilter func(r *http.Request, a reports.Actor) (reports.Filter, error)
	// TransitViewer is the caller as the transit module sees them.
	TransitViewer func(r *http.Request) (transit.Viewer, error)
	// LayerChanged reads the tile catalog again after a layer's catalog entry changed.
	LayerChanged func(ctx context.Context) error
}

//go:embed templates static
var files embed.FS

// cityClock is the city's clock (layers.TimeZone): pages show times in it and read form times in it.
var cityClock = layers.Location()

// templates holds the pages parsed once per language: the t func of each set speaks its
// language, so a template names a text by its key alone ({{t "page.sign_in"}}).
var templates = parseTemplates()

func parseTemplates() map[string]*template.Template {
	sets := map[string]*template.Template{}
	for _, lang := range Langs {
		sets[lang] = template.Must(template.New("").Funcs(funcs(lang)).ParseFS(files, templateGlobs...))
	}
	return sets
}

// templateGlobs name every template file: the layout and error page, then one folder per page set.
var templateGlobs = []string{"templates/*.html", "templates/*/*.html"}

// funcs is the one FuncMap of the pages, with t speaking lang.
func funcs(lang string) template.FuncMap {
	fm := template.FuncMap{
		// t is a text of the catalog with its {name} placeholders filled from name, value pairs.
		"t": func(key string, params ...any) string { return Text(lang, key, params...) },
		// utc, local, localsec and date format a time.Time or *time.Time (nil: "—"): in UTC
		// (utc), else on the city's clock; clock is the city's time of day. Numbers, shares,
		// years and dates with month names: formatFuncs (format.go).
		"utc":      timeFormat(time.UTC, "2006-01-02 15:04 UTC"),
		"local":    timeFormat(cityClock, "2006-01-02 15:04"),
		"localsec": timeFormat(cityClock, "2006-01-02 15:04:05"),
		"date":     timeFormat(cityClock, "2006-01-02"),
		"clock":    timeFormat(cityClock, "15:04:05"),
		"json":     func(b json.RawMessage) string { return string(b) },
		"hasScope": func(k accounts.APIKey, sc accounts.Scope) bool { return k.HasScope(sc) },
	}
	for k, f := range formatFuncs(lang) {
		fm[k] = f
	}
	return fm
}

func timeFormat(loc *time.Location, layout string) func(v any) string {
	return func(v any) string {
		switch t := v.(type) {
		case time.Time:
			return t.In(loc).Format(layout)
		case *time.Time:
			if t != nil {
				return t.In(loc).Format(layout)
			}
		}
		return "—"
	}
}

// page is what every page gets.
type page struct {
	Lang  string
	Path  string
	CSRF  string
	User  *accounts.User
	Error string
	Flash string
	// Nav is the staff navigation bar (nav.go): the sections the user's role may open.
	Nav []NavItem
	// StaffMap is the map bundle, for the pages with a map ("staffmap" in layout.html).
	StaffMap StaffMap
}

// MapText is the map script's texts in the page language (the staffmap.* keys without prefix).
func (p page) MapText() map[string]string { return table(p.Lang, "staffmap.") }

// T is a text in the page's language, for the handlers.
func (p page) T(key string, params ...any) string { return Text(p.Lang, key, params...) }

func (ps *Pages) newPage(r *http.Request) page {
	p := page{Lang: Lang(r), Path: r.URL.Path, StaffMap: ps.StaffMap}
	if u, ok := ps.Guard.CurrentUser(r); ok && u.Session != nil {
		p.User = u
		p.CSRF = accounts.CSRFToken(guard.SessionToken(r))
		p.Nav = ps.nav(u, r.URL.Path)
	}
	return p
}

// render writes the named template in lang with status. Pages are personal (no-store) unless
// the handler set Cache-Control.
func (ps *Pages) render(w http.ResponseWriter, status int, lang, name string, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	if err := templates[lang].ExecuteTemplate(w, name, data); err != nil {
		ps.Logger.Error("render page", "page", name, "error", err)
	}
}

// fail is the pages' one error path: reply.Writer.Fail classifies err (a 503 gets Retry-After,
// a canceled request nothing), then the error page says what went wrong in the page's language.
func (ps *Pages) fail(w http.ResponseWriter, r *http.Request, err error) {
	f, ok := ps.Reply.Fail(w, r, err)
	if !ok {
		return
	}
	p := ps.newPage(r)
	p.Error = geoportal.ErrorMessage(f.Err)
	switch f.Code {
	case geoportal.EFORBIDDEN:
		p.Error = p.T("page.forbidden")
	case geoportal.ENOTFOUND:
		p.Error = p.T("page.not_found")
	case geoportal.EUNAVAILABLE:
		p.Error = p.T("page.unavailable")
	case geoportal.EINTERNAL:
		p.Error = p.T("page.internal")
	}
	w.Header().Set("Cache-Control", "no-store")
	ps.render(w, f.Status, p.Lang, "error.html", p)
}

// Fail answers err with the error page, as the pages' own handlers do; package web sends a
// middleware's 413 on a page route here (web/errors.go).
func (ps *Pages) Fail(w http.ResponseWriter, r *http.Request, err error) { ps.fail(w, r, err) }

// signIn sends a visitor who is not signed in to the sign-in page and back to where they were.
func signIn(w http.ResponseWriter, r *http.Request, lang string) {
	http.Redirect(w, r, "/login?lang="+lang+"&next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
}

// forbidden answers a signed-in visitor whose role may not open the page.
func (ps *Pages) forbidden(w http.ResponseWriter, r *http.Request, why string) {
	ps.fail(w, r, geoportal.Errorf(geoportal.EFORBIDDEN, "%s", why))
}

// CSS serves the pages' one stylesheet (/pages/pages.css).
func (ps *Pages) CSS(w http.ResponseWriter, r *http.Request) {
	ps.static(w, r, "static/pages.css", "text/css; charset=utf-8", "public, max-age=3600")
}

// NavJS serves the navigation bar's script (/pages/nav.js): it folds the bar on a phone.
func (ps *Pages) NavJS(w http.ResponseWriter, r *http.Request) {
	ps.static(w, r, "static/nav.js", "text/javascript; charset=utf-8", "public, max-age=3600")
}

// ImportJS serves the upload page's script (/staff/import.js).
func (ps *Pages) ImportJS(w http.ResponseWriter, r *http.Request) {
	ps.static(w, r, "static/import.js", "text/javascript; charset=utf-8", "no-cache")
}

func (ps *Pages) static(w http.ResponseWriter, r *http.Request, name, ctype, cache string) {
	b, err := fs.ReadFile(files, name)
	if err != nil {
		ps.fail(w, r, fmt.Errorf("static file %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", cache)
	w.Write(b)
}

// cityTime reads a datetime-local form or query value in the city's clock (or RFC 3339).
func cityTime(name, v string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.ParseInLocation(layout, v, cityClock); err == nil {
			return t, nil
		}
	}
	return time.Time{}, geoportal.Errorf(geoportal.EINVALID, "%s %q is not a date and time (YYYY-MM-DDTHH:MM)", name, v)
}

// idParam reads a positive id from the route's {name}.
func idParam(r *http.Request, name string) (int64, error) {
	v := chi.URLParam(r, name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, geoportal.Errorf(geoportal.EINVALID, "%s %q is not a positive integer", name, v)
	}
	return id, nil
}
