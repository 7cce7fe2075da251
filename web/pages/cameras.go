package pages

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/modules"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/reply"
)

// Private cameras in Safe City (docs/modules.md, section 7): the owners' page (/cameras:
// register a camera with its view sector drawn on a map, my cameras with edit and withdraw), the
// Safe City staff's moderation page (/staff/cameras) and incident lookup
// (/staff/cameras/incident). The forms are plain posts handled here through the modules store;
// the map (position, sector handles) is the bundle's cameras entry (web/frontend/src/cameras).

// cameraFields are the fields a store error may name (its message starts "field: "); an error
// naming one is shown next to that field.
var cameraFields = []string{"position", "name", "heading", "fov", "range_m", "height_m", "films",
	"retention_days", "contact", "consent_police", "id", "status", "decision", "reason", "from", "to"}

// fieldOf is the field an error's message names, or "".
func fieldOf(msg string) string {
	f, _, ok := strings.Cut(msg, ": ")
	if !ok {
		return ""
	}
	for _, c := range cameraFields {
		if f == c {
			return f
		}
	}
	return ""
}

// cameraForm is the registration form's values as typed, so that a refused form comes back as
// it was sent.
type cameraForm struct {
	Lon, Lat, Name, Heading, FOV, Range, Height, Films, Retention, Contact string
	ConsentPolice, ConsentCoverage, ShowPublic                             bool
}

func formOf(c modules.PrivateCamera) cameraForm {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	return cameraForm{Lon: f(c.Lon), Lat: f(c.Lat), Name: c.Name, Heading: f(c.Heading), FOV: f(c.FOV), Range: f(c.Range),
		Height: f(c.Height), Films: c.Films, Retention: strconv.Itoa(c.RetentionDays), Contact: c.Contact,
		ConsentPolice: c.ConsentPolice, ConsentCoverage: c.ConsentCoverage, ShowPublic: c.ShowPublic}
}

func readCameraForm(r *http.Request) cameraForm {
	v := func(k string) string { return strings.TrimSpace(r.PostForm.Get(k)) }
	return cameraForm{Lon: v("lon"), Lat: v("lat"), Name: v("name"), Heading: v("heading"), FOV: v("fov"), Range: v("range_m"),
		Height: v("height_m"), Films: v("films"), Retention: v("retention_days"), Contact: v("contact"),
		ConsentPolice: v("consent_police") != "", ConsentCoverage: v("consent_coverage") != "", ShowPublic: v("show_public") != ""}
}

// camera parses the form; a number that is not one is an EINVALID naming its field.
func (f cameraForm) camera() (modules.NewCamera, error) {
	n := modules.NewCamera{Name: f.Name, Films: f.Films, Contact: f.Contact,
		ConsentPolice: f.ConsentPolice, ConsentCoverage: f.ConsentCoverage, ShowPublic: f.ShowPublic}
	nums := []struct {
		field, v string
		to       *float64
	}{{"position", f.Lon, &n.Lon}, {"position", f.Lat, &n.Lat}, {"heading", f.Heading, &n.Heading},
		{"fov", f.FOV, &n.FOV}, {"range_m", f.Range, &n.Range}, {"height_m", f.Height, &n.Height}}
	for _, x := range nums {
		v, err := strconv.ParseFloat(strings.ReplaceAll(x.v, ",", "."), 64)
		if err != nil {
			return n, geoportal.Errorf(geoportal.EINVALID, "%s: %q is not a number", x.field, x.v)
		}
		*x.to = v
	}
	d, err := strconv.Atoi(f.Retention)
	if err != nil {
		return n, geoportal.Errorf(geoportal.EINVALID, "retention_days: %q is not a whole number of days", f.Retention)
	}
	n.RetentionDays = d
	return n, nil
}

type camerasPage struct {
	page
	Map      mapAssets
	Mine     []modules.PrivateCamera
	Form     cameraForm
	EditID   int64
	Field    string // the field the error names
	Films    []string
	Script   map[string]string
	MaxRange float64
}

// mapAssets are the bundle files of the pages' map (the cameras entry).
type mapAssets struct {
	JS  string
	CSS []string
}

func (ps *Pages) mapAssets() mapAssets {
	if ps.MapEntry == nil {
		return mapAssets{}
	}
	js, css := ps.MapEntry("src/cameras/main.js")
	return mapAssets{JS: js, CSS: css}
}

// fieldErr is an error shown next to the field it names.
type fieldErr struct{ Field, Text string }

// errAt is the error of p shown at field (nil when it names another), in the page's language
// when the catalog words it (cameras.err_FIELD), else the server's message.
func errAt(p page, errField, field string) *fieldErr {
	if errField != field || p.Error == "" {
		return nil
	}
	key := "cameras.err_" + field
	switch {
	case field == "position" && strings.Contains(p.Error, "outside the city"):
		key += "_outside"
	case field == "position" && strings.Contains(p.Error, "already registered"):
		key += "_duplicate"
	case field == "position":
		key = ""
	}
	if has(key) {
		return &fieldErr{field, p.T(key)}
	}
	return &fieldErr{field, p.Error}
}

// Err is the error shown at field.
func (p camerasPage) Err(field string) *fieldErr { return errAt(p.page, p.Field, field) }

// Status names a registration's status in the page's language.
func (p page) CameraStatus(s string) string { return p.T("cameras.status_" + s) }

// Films names what a camera films.
func (p page) CameraFilms(s string) string { return p.T("cameras.films_" + s) }

// Cameras is the owners' page (GET /cameras[?edit=ID]): the registration form with the map, and
// the visitor's cameras.
func (ps *Pages) Cameras(w http.ResponseWriter, r *http.Request) {
	p := ps.newCamerasPage(r)
	if p.User == nil {
		signIn(w, r, p.Lang)
		return
	}
	if err := ps.loadMine(r, &p); err != nil {
		ps.fail(w, r, err)
		return
	}
	if v := r.URL.Query().Get("edit"); v != "" {
		id, _ := strconv.ParseInt(v, 10, 64)
		for _, c := range p.Mine {
			if c.ID == id && c.Status != modules.CameraWithdrawn {
				p.EditID, p.Form = c.ID, formOf(c)
			}
		}
		if p.EditID == 0 {
			ps.fail(w, r, geoportal.Errorf(geoportal.ENOTFOUND, "id: you have no camera %q to change", v))
			return
		}
	}
	switch r.URL.Query().Get("msg") {
	case "saved":
		p.Flash = p.T("cameras.saved")
	case "withdrawn":
		p.Flash = p.T("cameras.withdrawn")
	}
	ps.render(w, http.StatusOK, p.Lang, "cameras.html", p)
}

func (ps *Pages) newCamerasPage(r *http.Request) camerasPage {
	p := camerasPage{page: ps.newPage(r), Map: ps.mapAssets(), Films: modules.CameraFilms, MaxRange: modules.MaxCameraRange,
		Form: cameraForm{Heading: "0", FOV: "90", Range: "30", Height: "3", Films: "street", Retention: "30"}}
	p.Script = table(p.Lang, "cameras.js_")
	return p
}

func (ps *Pages) loadMine(r *http.Request, p *camerasPage) error {
	var err error
	p.Mine, err = ps.Modules.MyCameras(r.Context(), p.User.ID)
	return err
}

// CameraRegisterForm registers a camera (POST /cameras) and CameraUpdateForm changes one
// (POST /cameras/{id}); a refused form comes back with the error next to its field.
func (ps *Pages) CameraRegisterForm(w http.ResponseWriter, r *http.Request) {
	ps.cameraSave(w, r, false)
}
func (ps *Pages) CameraUpdateForm(w http.ResponseWriter, r *http.Request) { ps.cameraSave(w, r, true) }

func (ps *Pages) cameraSave(w http.ResponseWriter, r *http.Request, update bool) {
	if err := r.ParseForm(); err != nil {
		ps.fail(w, r, guard.BodyError(err))
		return
	}
	p := ps.newCamerasPage(r)
	if p.User == nil {
		ps.fail(w, r, geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in to register cameras"))
		return
	}
	p.Form = readCameraForm(r)
	err := func() error {
		var id int64
		if update {
			var err error
			if id, err = idParam(r, "id"); err != nil {
				return err
			}
			p.EditID = id
		}
		n, err := p.Form.camera()
		if err != nil {
			return err
		}
		if update {
			_, err = ps.Modules.UpdateCamera(r.Context(), p.User.ID, id, n)
		} else {
			_, err = ps.Modules.RegisterCamera(r.Context(), p.User.ID, n)
		}
		return err
	}()
	if err == nil {
		http.Redirect(w, r, "/cameras?msg=saved&lang="+p.Lang, http.StatusSeeOther)
		return
	}
	ps.cameraRefused(w, r, &p, err)
}

// cameraRefused shows the owners' page again with a 4xx error at its field.
func (ps *Pages) cameraRefused(w http.ResponseWriter, r *http.Request, p *camerasPage, err error) {
	status := reply.Status(err)
	if status >= 500 {
		ps.fail(w, r, err)
		return
	}
	p.Error = geoportal.ErrorMessage(err)
	// An error about the registration itself (someone else's, withdrawn) shows at the top.
	if p.Field = fieldOf(p.Error); p.Field == "id" || p.Field == "status" {
		p.Field = ""
	}
	if lerr := ps.loadMine(r, p); lerr != nil {
		ps.fail(w, r, lerr)
		return
	}
	ps.render(w, status, p.Lang, "cameras.html", *p)
}

// CameraWithdrawForm withdraws an owner's camera (POST /cameras/{id}/withdraw).
func (ps *Pages) CameraWithdrawForm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		ps.fail(w, r, guard.BodyError(err))
		return
	}
	p := ps.newCamerasPage(r)
	if p.User == nil {
		ps.fail(w, r, geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in to withdraw a camera"))
		return
	}
	id, err := idParam(r, "id")
	if err == nil {
		_, err = ps.Modules.WithdrawCamera(r.Context(), p.User.ID, id)
	}
	if err != nil {
		ps.cameraRefused(w, r, &p, err)
		return
	}
	http.Redirect(w, r, "/cameras?msg=withdrawn&lang="+p.Lang, http.StatusSeeOther)
}

// --- Safe City staff ---

type camerasStaffPage struct {
	page
	Map     mapAssets
	Queue   []modules.PrivateCamera
	Changes []modules.PrivateCamera
	History []accounts.AuditRecord
	ErrorID int64 // the registration the error is about
	Field   string
	Script  map[string]string
}

// Action names an audited action on a camera in the page's language.
func (p camerasStaffPage) Action(a string) string {
	if key := "cameras.action_" + strings.TrimPrefix(a, "private_camera."); has(key) {
		return p.T(key)
	}
	return a
}

// safeCityUser sends the anonymous to sign in and refuses anyone but Safe City staff.
func (ps *Pages) safeCityUser(w http.ResponseWriter, r *http.Request, p page) bool {
	u, ok := ps.Guard.CurrentUser(r)
	if !ok || p.User == nil {
		signIn(w, r, p.Lang)
		return false
	}
	if !modules.IsSafeCityStaff(u) {
		ps.forbidden(w, r, fmt.Sprintf("the private cameras' pages are for Safe City staff (department %s) or an admin", modules.SafeCityDepartment))
		return false
	}
	return true
}

// CamerasStaff is the moderation page (GET /staff/cameras): the queue with duplicates nearby,
// the registrations waiting for their owners' changes, and the history of decisions.
func (ps *Pages) CamerasStaff(w http.ResponseWriter, r *http.Request) {
	ps.showCamerasStaff(w, r, http.StatusOK, nil, 0)
}

func (ps *Pages) showCamerasStaff(w http.ResponseWriter, r *http.Request, status int, failure error, errID int64) {
	p := camerasStaffPage{page: ps.newPage(r), Map: ps.mapAssets()}
	if !ps.safeCityUser(w, r, p.page) {
		return
	}
	p.Script = table(p.Lang, "cameras.js_")
	ctx := r.Context()
	var err error
	if p.Queue, err = ps.Modules.CameraQueue(ctx, ""); err == nil {
		if p.Changes, err = ps.Modules.CameraQueue(ctx, modules.CameraChangesRequested); err == nil {
			p.History, err = ps.Accounts.AuditLog(ctx, accounts.AuditFilter{ObjectType: "private_camera", Limit: 100})
		}
	}
	if err != nil {
		ps.fail(w, r, err)
		return
	}
	if failure != nil {
		p.Error = geoportal.ErrorMessage(failure)
		p.Field, p.ErrorID = fieldOf(p.Error), errID
	}
	if r.URL.Query().Get("msg") == "saved" {
		p.Flash = p.T("cameras.decided")
	}
	ps.render(w, status, p.Lang, "cameras_staff.html", p)
}

// CameraDecisionForm records a decision (POST /staff/cameras/{id}/decision: decision, reason).
func (ps *Pages) CameraDecisionForm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		ps.fail(w, r, guard.BodyError(err))
		return
	}
	p := ps.newPage(r)
	if !ps.safeCityUser(w, r, p) {
		return
	}
	id, err := idParam(r, "id")
	if err == nil {
		_, err = ps.Modules.DecideCamera(r.Context(), p.User.ID, id, r.PostForm.Get("decision"), r.PostForm.Get("reason"))
	}
	if err != nil {
		if reply.Status(err) >= 500 {
			ps.fail(w, r, err)
			return
		}
		ps.showCamerasStaff(w, r, reply.Status(err), err, id)
		return
	}
	http.Redirect(w, r, "/staff/cameras?msg=saved&lang="+p.Lang, http.StatusSeeOther)
}

type incidentPage struct {
	page
	Map               mapAssets
	Lon, Lat          string
	From, To          string
	Field             string
	Incident          *modules.Incident
	Script            map[string]string
	Searched          bool
	CityRetentionDays int
}

// Err is the error shown at field.
func (p incidentPage) Err(field string) *fieldErr { return errAt(p.page, p.Field, field) }

// Err is the error shown at field of registration id's decision form.
func (p camerasStaffPage) Err(id int64, field string) *fieldErr {
	if id != p.ErrorID {
		return nil
	}
	return errAt(p.page, p.Field, field)
}

// CameraIncident is the staff's incident lookup (GET /staff/cameras/incident?lon=&lat=&from=&to=,
// times in the city's clock): the city and private cameras whose view sector covers the place,
// with the owners' contacts to ask for the footage.
func (ps *Pages) CameraIncident(w http.ResponseWriter, r *http.Request) {
	p := incidentPage{page: ps.newPage(r), Map: ps.mapAssets(), CityRetentionDays: modules.CityRetentionDays}
	if !ps.safeCityUser(w, r, p.page) {
		return
	}
	p.Script = table(p.Lang, "cameras.js_")
	q := r.URL.Query()
	now := time.Now()
	p.Lon, p.Lat, p.From, p.To = strings.TrimSpace(q.Get("lon")), strings.TrimSpace(q.Get("lat")), q.Get("from"), q.Get("to")
	if p.From == "" {
		p.From = now.Add(-2 * time.Hour).In(cityClock).Format("2006-01-02T15:04")
	}
	if p.To == "" {
		p.To = now.In(cityClock).Format("2006-01-02T15:04")
	}
	if p.Lon == "" && p.Lat == "" {
		ps.render(w, http.StatusOK, p.Lang, "cameras_incident.html", p)
		return
	}
	p.Searched = true
	err := func() error {
		lon, lat, err := modules.ParsePoint(p.Lon, p.Lat)
		if err != nil {
			return geoportal.Errorf(geoportal.EINVALID, "position: %s", geoportal.ErrorMessage(err))
		}
		from, err := cityTime("from", p.From)
		if err != nil {
			return geoportal.Errorf(geoportal.EINVALID, "from: %s", geoportal.ErrorMessage(err))
		}
		to, err := cityTime("to", p.To)
		if err != nil {
			return geoportal.Errorf(geoportal.EINVALID, "to: %s", geoportal.ErrorMessage(err))
		}
		inc, err := ps.Modules.IncidentLookup(r.Context(), lon, lat, from, to, now)
		if err != nil {
			return err
		}
		p.Incident = &inc
		return nil
	}()
	if err != nil {
		status := reply.Status(err)
		if status >= 500 {
			ps.fail(w, r, err)
			return
		}
		p.Error = geoportal.ErrorMessage(err)
		p.Field = fieldOf(p.Error)
		ps.render(w, status, p.Lang, "cameras_incident.html", p)
		return
	}
	ps.render(w, http.StatusOK, p.Lang, "cameras_incident.html", p)
}

// mapCamera is a camera as the pages' map script draws it.
type mapCamera struct {
	Kind    string  `json:"kind"`
	ID      int64   `json:"id"`
	Name    string  `json:"name"`
	Lon     float64 `json:"lon"`
	Lat     float64 `json:"lat"`
	Heading float64 `json:"heading"`
	FOV     float64 `json:"fov"`
	Range   float64 `json:"range_m"`
}

func mapJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// MapData is what a registration's small map draws: it, and its duplicates nearby.
func (p camerasStaffPage) MapData(c modules.PrivateCamera) string {
	cams := []mapCamera{{Kind: "registration", ID: c.ID, Name: c.Name, Lon: c.Lon, Lat: c.Lat, Heading: c.Heading, FOV: c.FOV, Range: c.Range}}
	for _, d := range c.Duplicates {
		cams = append(cams, mapCamera{Kind: d.Kind, ID: d.ID, Name: d.Name, Lon: d.Lon, Lat: d.Lat, Heading: d.Heading, FOV: d.FOV, Range: d.Range})
	}
	return mapJSON(map[string]any{"center": []float64{c.Lon, c.Lat}, "cameras": cams})
}

// MapData is what the incident map draws: the place and the cameras that see it.
func (p incidentPage) MapData() string {
	out := map[string]any{}
	if p.Incident != nil {
		out["place"] = []float64{p.Incident.Lon, p.Incident.Lat}
		cams := []mapCamera{}
		for _, c := range p.Incident.Cameras {
			cams = append(cams, mapCamera{Kind: c.Kind, ID: c.ID, Name: c.Name, Lon: c.Lon, Lat: c.Lat, Heading: c.Heading, FOV: c.FOV, Range: c.Range})
		}
		out["cameras"] = cams
	}
	return mapJSON(out)
}
