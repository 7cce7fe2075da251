package pages

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/reply"
	"github.com/go-chi/chi/v5"
)

// The reports console for department staff (plain forms, no script) and the public statistics
// of citizen reports.

// maxBulk is how many reports one bulk change may name.
const maxBulk = 500

var workflowStatuses = []string{reports.StatusNew, reports.StatusAccepted, reports.StatusInProgress,
	reports.StatusResolved, reports.StatusRejected, reports.StatusDuplicate}

// consoleRow is a report on the console: with its reporter, its age and whether it is overdue.
type consoleRow struct {
	reports.Report
	Private reports.Private
	AgeDays int
	Overdue bool
}

type staffPage struct {
	page
	Services       []reports.Service
	Departments    map[string]layers.Titles
	Statuses       []string
	AllDepartments bool
	Filter         struct{ Status, Service, Department, OlderThan string }
	Query          string
	Reports        []consoleRow
	// one report
	Report  reports.Report
	Private reports.Private
	History []reports.HistoryEntry
	Photos  []int
	Next    []string
}

// Name picks the page language's title.
func (p staffPage) Name(t layers.Titles) string {
	switch p.Lang {
	case "kk":
		return t.KK
	case "en":
		return t.EN
	}
	return t.RU
}

// mapPoint is a listed report on the console's map.
type mapPoint struct {
	ID     int64   `json:"id"`
	Lat    float64 `json:"lat"`
	Lon    float64 `json:"lon"`
	Status string  `json:"status"`
	Href   string  `json:"href"`
}

// Points are the listed reports for the console's map (the filters apply to both).
func (p staffPage) Points() []mapPoint {
	out := make([]mapPoint, 0, len(p.Reports))
	for _, r := range p.Reports {
		out = append(out, mapPoint{ID: r.ID, Lat: r.Lat, Lon: r.Lon, Status: r.Status,
			Href: "/staff/reports/" + strconv.FormatInt(r.ID, 10) + "?lang=" + p.Lang})
	}
	return out
}

// ServiceName is a category's title in the page language.
func (p staffPage) ServiceName(code string) string {
	for _, sv := range p.Services {
		if sv.Code == code {
			return p.Name(sv.Name)
		}
	}
	return code
}

// question is the question code of the report's category, if it has one.
func (p staffPage) question(code string) (reports.ServiceAttribute, bool) {
	for _, sv := range p.Services {
		if sv.Code != p.Report.ServiceCode {
			continue
		}
		for _, a := range sv.Attributes {
			if a.Code == code {
				return a, true
			}
		}
	}
	return reports.ServiceAttribute{}, false
}

// Question is a question of the report's category in the page language, its code when the
// category no longer asks it.
func (p staffPage) Question(code string) string {
	if a, ok := p.question(code); ok {
		if s := a.Description.Label(p.Lang); s != "" {
			return s
		}
	}
	return code
}

// Answer is the answer value to question code in the page language: a list answer's choices
// by their names ("large" → "Большая"), anything else as it was given.
func (p staffPage) Answer(code, value string) string {
	a, ok := p.question(code)
	if !ok || len(a.Values) == 0 {
		return value
	}
	keys := strings.Split(value, ",")
	for i, k := range keys {
		k = strings.TrimSpace(k)
		keys[i] = k
		for _, v := range a.Values {
			if v.Key == k {
				keys[i] = v.Name.Label(p.Lang)
			}
		}
	}
	return strings.Join(keys, ", ")
}

// ActorName is who made a change in the report's history: the reporter and the system by
// their names in the page language, staff by their own.
func (p staffPage) ActorName(actor string) string {
	switch actor {
	case "reporter", "system":
		return p.T("reports.actor_" + actor)
	}
	return actor
}

// newStaffPage checks the visitor may work on reports: anonymous visitors go to sign in, other
// roles get a 403 page.
func (ps *Pages) newStaffPage(w http.ResponseWriter, r *http.Request) (staffPage, reports.Actor, bool) {
	p := staffPage{page: ps.newPage(r), Statuses: workflowStatuses}
	a, err := ps.Shared.ReportActor(r)
	if err != nil || p.User == nil {
		if geoportal.ErrorCode(err) == geoportal.EFORBIDDEN {
			ps.fail(w, r, err)
		} else if r.Method == http.MethodGet {
			signIn(w, r, p.Lang)
		} else {
			ps.Guard.Refuse(w, r, geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in required"))
		}
		return p, a, false
	}
	p.AllDepartments = a.AllDepartments
	if p.Services, err = ps.Reports.Services(r.Context()); err == nil {
		p.Departments, err = ps.Reports.Departments(r.Context())
	}
	if err != nil {
		ps.fail(w, r, err)
		return p, a, false
	}
	p.Flash = staffFlash(p.Lang, r.URL.Query())
	return p, a, true
}

// staffFlash is the console's message for ?msg=CODE after a form: only known codes, in the page
// language, so that a link cannot make the city's page say what it likes. An unknown code shows
// nothing. Codes: saved; bulk_done with done and of (numbers of reports).
func staffFlash(lang string, q url.Values) string {
	switch q.Get("msg") {
	case "saved":
		return Text(lang, "reports.saved")
	case "bulk_done":
		done, err1 := strconv.Atoi(q.Get("done"))
		of, err2 := strconv.Atoi(q.Get("of"))
		if err1 != nil || err2 != nil || done < 0 || of < 1 || done > of || of > maxBulk {
			return ""
		}
		return Text(lang, "reports.bulk_done", "done", done, "of", of)
	}
	return ""
}

// Console is the reports console (GET /staff/reports).
func (ps *Pages) Console(w http.ResponseWriter, r *http.Request) {
	p, a, ok := ps.newStaffPage(w, r)
	if !ok {
		return
	}
	ps.showConsole(w, r, p, a, http.StatusOK)
}

// consoleRows lists the reports of f with their reporters.
func (ps *Pages) consoleRows(r *http.Request, f reports.Filter) ([]consoleRow, error) {
	list, err := ps.Reports.List(r.Context(), f)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(list))
	for _, rep := range list {
		ids = append(ids, rep.ID)
	}
	private, err := ps.Reports.Privates(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	rows := make([]consoleRow, len(list))
	for i, rep := range list {
		overdue := reports.Open(rep.Status) && rep.ExpectedAt != nil && now.After(*rep.ExpectedAt)
		rows[i] = consoleRow{Report: rep, Private: private[rep.ID], AgeDays: int(now.Sub(rep.RequestedAt) / (24 * time.Hour)), Overdue: overdue}
	}
	return rows, nil
}

// showConsole renders the console list with status (a refused bulk change shows its error
// here, with its 4xx status).
func (ps *Pages) showConsole(w http.ResponseWriter, r *http.Request, p staffPage, a reports.Actor, status int) {
	q := r.URL.Query()
	p.Filter.Status, p.Filter.Service, p.Filter.Department, p.Filter.OlderThan =
		q.Get("status"), q.Get("service_code"), q.Get("department"), q.Get("older_than_days")
	for _, k := range []string{"lang", "msg", "done", "of"} {
		q.Del(k)
	}
	p.Query = q.Encode()
	f, err := ps.Shared.ReportFilter(r, a)
	if err == nil {
		p.Reports, err = ps.consoleRows(r, f)
	}
	if err != nil {
		if reply.Status(err) >= 500 {
			ps.fail(w, r, err)
			return
		}
		p.Error, status = geoportal.ErrorMessage(err), reply.Status(err)
	}
	ps.render(w, status, p.Lang, "reports.html", p)
}

// reportNumber reads the report's number from the route; a bad one is a report not found.
func reportNumber(r *http.Request) (int64, error) {
	id, err := idParam(r, "id")
	if err != nil {
		return 0, geoportal.Errorf(geoportal.ENOTFOUND, "report %q not found", chi.URLParam(r, "id"))
	}
	return id, nil
}

// Report is one report on the console (GET /staff/reports/{id}).
func (ps *Pages) Report(w http.ResponseWriter, r *http.Request) {
	p, a, ok := ps.newStaffPage(w, r)
	if !ok {
		return
	}
	ps.showReport(w, r, p, a, http.StatusOK)
}

func (ps *Pages) showReport(w http.ResponseWriter, r *http.Request, p staffPage, a reports.Actor, status int) {
	id, err := reportNumber(r)
	if err == nil {
		p.Report, err = ps.Reports.Get(r.Context(), id)
	}
	if err == nil && !a.AllDepartments && p.Report.Department != a.Department {
		err = geoportal.Errorf(geoportal.EFORBIDDEN, "report %d belongs to department %s", id, p.Report.Department)
	}
	if err == nil {
		p.Private, err = ps.Reports.GetPrivate(r.Context(), id)
	}
	if err == nil {
		p.History, err = ps.Reports.History(r.Context(), id, true)
	}
	if err != nil {
		ps.fail(w, r, err)
		return
	}
	for n := 1; n <= p.Report.Photos; n++ {
		p.Photos = append(p.Photos, n)
	}
	p.Next = reports.NextStatuses(p.Report.Status)
	ps.render(w, status, p.Lang, "report.html", p)
}

// staffForm runs a console form: back to the page with "saved" on success, or the page with the
// error (4xx) when the change is refused.
func (ps *Pages) staffForm(w http.ResponseWriter, r *http.Request, onReport bool, action func(a reports.Actor) (string, error)) {
	p, a, ok := ps.newStaffPage(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		ps.fail(w, r, guard.BodyError(err))
		return
	}
	back, err := action(a)
	if err != nil {
		if reply.Status(err) >= 500 {
			ps.fail(w, r, err)
			return
		}
		p.Error = geoportal.ErrorMessage(err)
		if onReport {
			ps.showReport(w, r, p, a, reply.Status(err))
		} else {
			ps.showConsole(w, r, p, a, reply.Status(err))
		}
		return
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// StatusForm changes a report's status (POST /staff/reports/{id}/status).
func (ps *Pages) StatusForm(w http.ResponseWriter, r *http.Request) {
	ps.staffForm(w, r, true, func(a reports.Actor) (string, error) {
		id, err := reportNumber(r)
		if err != nil {
			return "", err
		}
		var dup int64
		if v := r.PostForm.Get("duplicate_of"); v != "" {
			if dup, err = strconv.ParseInt(v, 10, 64); err != nil {
				return "", geoportal.Errorf(geoportal.EINVALID, "duplicate_of must be a report number")
			}
		}
		_, err = ps.Reports.ChangeStatus(r.Context(), id, reports.Change{Status: r.PostForm.Get("status"),
			Comment: r.PostForm.Get("comment"), DuplicateOf: dup}, a)
		return "/staff/reports/" + strconv.FormatInt(id, 10) + "?msg=saved&lang=" + Lang(r), err
	})
}

// ModerateForm hides a report's text or photos, or bans its reporter (POST /staff/reports/{id}/moderate).
func (ps *Pages) ModerateForm(w http.ResponseWriter, r *http.Request) {
	ps.staffForm(w, r, true, func(a reports.Actor) (string, error) {
		id, err := reportNumber(r)
		if err != nil {
			return "", err
		}
		hide := r.PostForm.Get("hide_text") == "true"
		m := reports.Moderation{HideText: &hide, Ban: r.PostForm.Get("ban") == "true", Reason: r.PostForm.Get("reason")}
		for _, v := range r.PostForm["hide_photo"] {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > reports.MaxPhotos {
				return "", geoportal.Errorf(geoportal.EINVALID, "hide_photo %q is not a photo number", v)
			}
			m.HidePhotos = append(m.HidePhotos, n)
		}
		return "/staff/reports/" + strconv.FormatInt(id, 10) + "?msg=saved&lang=" + Lang(r), ps.Reports.Moderate(r.Context(), id, m, a)
	})
}

// BulkForm changes the status of the selected reports (POST /staff/reports/bulk).
func (ps *Pages) BulkForm(w http.ResponseWriter, r *http.Request) {
	ps.staffForm(w, r, false, func(a reports.Actor) (string, error) {
		ids := r.PostForm["id"]
		if len(ids) == 0 || len(ids) > maxBulk {
			return "", geoportal.Errorf(geoportal.EINVALID, "select 1 to %d reports", maxBulk)
		}
		status := r.PostForm.Get("status")
		if !slices.Contains(workflowStatuses, status) {
			return "", geoportal.Errorf(geoportal.EINVALID, "status %q is not a workflow status", status)
		}
		done := 0
		for _, v := range ids {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return "", geoportal.Errorf(geoportal.EINVALID, "report %q is not a number", v)
			}
			_, err = ps.Reports.ChangeStatus(r.Context(), id, reports.Change{Status: status, Comment: r.PostForm.Get("comment")}, a)
			if err == nil {
				done++
			} else if reply.Status(err) >= 500 {
				return "", err
			}
		}
		return "/staff/reports?lang=" + Lang(r) + "&msg=bulk_done&done=" + strconv.Itoa(done) + "&of=" + strconv.Itoa(len(ids)), nil
	})
}

type chartBar struct {
	Label                    string
	Total, Open              int
	Y, TotalW, OpenW, LabelX int
}

type chart struct {
	ID, Title string
	Height    int
	Bars      []chartBar
}

type statsPage struct {
	staffPage
	Stats       reports.Stats
	Total, Open int
	Charts      []chart
}

// Stats is the public statistics page (GET /reports/stats): bar charts drawn as SVG on the
// server (no script), with the same numbers in a table for screen readers.
func (ps *Pages) Stats(w http.ResponseWriter, r *http.Request) {
	p := statsPage{staffPage: staffPage{page: ps.newPage(r)}}
	var err error
	if p.Services, err = ps.Reports.Services(r.Context()); err == nil {
		p.Stats, err = ps.Reports.Stats(r.Context())
	}
	if err != nil {
		ps.fail(w, r, err)
		return
	}
	for _, c := range p.Stats.ByStatus {
		p.Total += c.Total
		p.Open += c.Open
	}
	status := func(k string) string { return p.T("reports.st_" + k) }
	// month names a "2026-12" key in the page's language.
	month := func(k string) string {
		if t, err := time.Parse("2006-01", k); err == nil {
			return FormatMonth(p.Lang, t.Year(), t.Month())
		}
		return k
	}
	for _, g := range []struct {
		id     string
		counts []reports.Count
		name   func(string) string
	}{
		{"category", p.Stats.ByCategory, p.ServiceName},
		{"district", p.Stats.ByDistrict, nil},
		{"month", p.Stats.ByMonth, month},
		{"status", p.Stats.ByStatus, status},
	} {
		if len(g.counts) == 0 {
			continue
		}
		c := chart{ID: g.id, Title: p.T("reports.by_" + g.id), Height: 24*len(g.counts) + 4}
		most := 1
		for _, n := range g.counts {
			most = max(most, n.Total)
		}
		for i, n := range g.counts {
			b := chartBar{Label: n.Key, Total: n.Total, Open: n.Open, Y: 24 * i,
				TotalW: 300 * n.Total / most, OpenW: 300 * n.Open / most}
			if g.name != nil {
				b.Label = g.name(n.Key)
			} else if n.Names != nil {
				b.Label = p.Name(*n.Names)
			}
			b.LabelX = 226 + b.TotalW
			c.Bars = append(c.Bars, b)
		}
		p.Charts = append(p.Charts, c)
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	ps.render(w, http.StatusOK, p.Lang, "stats.html", p)
}
