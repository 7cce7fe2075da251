package reports

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/internal/csvsafe"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/reply"
)

// StaffRoles may work on reports: department staff on their department's, the others on all.
var StaffRoles = []accounts.Role{accounts.DepartmentStaff, accounts.Dispatcher, accounts.Admin}

// Actor is the signed-in staff member as the reports module sees them (EFORBIDDEN for roles
// that do not work on reports); the console pages ask it too.
func Actor(g *guard.Guard, r *http.Request) (reports.Actor, error) {
	u, ok := g.CurrentUser(r)
	if !ok {
		return reports.Actor{}, geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in required")
	}
	a := reports.Actor{Label: u.Label(), Department: u.Department}
	switch u.Role {
	case accounts.Admin, accounts.Dispatcher:
		a.AllDepartments = true
	case accounts.DepartmentStaff:
	default:
		return a, geoportal.Errorf(geoportal.EFORBIDDEN, "role %s does not work on reports", u.Role)
	}
	return a, nil
}

// StaffFilter reads the console's filters; department staff see only their department. The
// console pages read theirs with it too.
func StaffFilter(r *http.Request, a reports.Actor) (reports.Filter, error) {
	q := r.URL.Query()
	f := reports.Filter{Department: q.Get("department"), Limit: 500}
	if !a.AllDepartments {
		f.Department = a.Department
	}
	if v := q.Get("status"); v != "" {
		f.Statuses = strings.Split(v, ",")
	}
	if v := q.Get("service_code"); v != "" {
		f.ServiceCodes = strings.Split(v, ",")
	}
	if v := q.Get("older_than_days"); v != "" {
		d, err := strconv.Atoi(v)
		if err != nil || d < 0 {
			return f, geoportal.Errorf(geoportal.EINVALID, "older_than_days must be a whole number of days")
		}
		f.To = time.Now().AddDate(0, 0, -d)
	}
	if v := q.Get("bbox"); v != "" {
		parts := strings.Split(v, ",")
		if len(parts) != 4 {
			return f, geoportal.Errorf(geoportal.EINVALID, "bbox must be west,south,east,north")
		}
		for _, p := range parts {
			x, err := strconv.ParseFloat(p, 64)
			if err != nil {
				return f, geoportal.Errorf(geoportal.EINVALID, "bbox must be four numbers")
			}
			f.BBox = append(f.BBox, x)
		}
	}
	return f, nil
}

type staffReport struct {
	reports.Report
	Private reports.Private `json:"private"`
	AgeDays int             `json:"age_days"`
	Overdue bool            `json:"overdue"`
}

func (api *API) StaffList(w http.ResponseWriter, r *http.Request) {
	a, err := Actor(api.Guard, r)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	f, err := StaffFilter(r, a)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	out, err := api.staffReports(r, f)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	reply.JSON(w, http.StatusOK, map[string]any{"reports": out})
}

// StaffCSV exports the console's selection (without contact details).
func (api *API) StaffCSV(w http.ResponseWriter, r *http.Request) {
	a, err := Actor(api.Guard, r)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	f, err := StaffFilter(r, a)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	f.Limit = 1000
	rs, err := api.Reports.List(r.Context(), f)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="reports.csv"`)
	cw := csvsafe.NewWriter(w) // spreadsheet formulas in user text defused
	// The address is the reporter's, else the point's in the console's language (?lang=).
	lang := r.URL.Query().Get("lang")
	cw.Write([]string{"id", "service_code", "status", "department", "requested_at", "updated_at", "lon", "lat", "address", "support_count", "description"})
	for _, rep := range rs {
		cw.Write([]string{strconv.FormatInt(rep.ID, 10), rep.ServiceCode, rep.Status, rep.Department,
			rep.RequestedAt.Format(time.RFC3339), rep.UpdatedAt.Format(time.RFC3339),
			strconv.FormatFloat(rep.Lon, 'f', 6, 64), strconv.FormatFloat(rep.Lat, 'f', 6, 64),
			rep.AddressIn(lang), strconv.Itoa(rep.SupportCount), rep.Description})
	}
	cw.Flush()
}

type statusBody struct {
	Status      string `json:"status"`
	Comment     string `json:"comment"`
	DuplicateOf int64  `json:"duplicate_of"`
}

func (api *API) StaffStatus(w http.ResponseWriter, r *http.Request) {
	a, err := Actor(api.Guard, r)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	id, err := reportID(r)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	var b statusBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		api.Reply.Error(w, r, guard.BodyError(err))
		return
	}
	rep, err := api.Reports.ChangeStatus(r.Context(), id, reports.Change{Status: b.Status, Comment: b.Comment, DuplicateOf: b.DuplicateOf}, a)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]any{"report": rep})
}

// StaffBulk applies one status change to many reports; each is its own transaction
// and the answer says which succeeded.
func (api *API) StaffBulk(w http.ResponseWriter, r *http.Request) {
	a, err := Actor(api.Guard, r)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	var b struct {
		IDs []int64 `json:"ids"`
		statusBody
	}
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		api.Reply.Error(w, r, guard.BodyError(err))
		return
	}
	if len(b.IDs) == 0 || len(b.IDs) > 500 {
		api.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "ids must list 1 to 500 reports"))
		return
	}
	type result struct {
		ID    int64  `json:"id"`
		OK    bool   `json:"ok"`
		Error string `json:"error,omitempty"`
	}
	var out []result
	for _, id := range b.IDs {
		_, err := api.Reports.ChangeStatus(r.Context(), id, reports.Change{Status: b.Status, Comment: b.Comment, DuplicateOf: b.DuplicateOf}, a)
		res := result{ID: id, OK: err == nil}
		if err != nil {
			if geoportal.ErrorCode(err) == geoportal.EINTERNAL {
				api.Reply.Error(w, r, err)
				return
			}
			res.Error = geoportal.ErrorMessage(err)
		}
		out = append(out, res)
	}
	reply.JSON(w, http.StatusOK, map[string]any{"results": out})
}

func (api *API) StaffModerate(w http.ResponseWriter, r *http.Request) {
	a, err := Actor(api.Guard, r)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	id, err := reportID(r)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	var b struct {
		HideText   *bool  `json:"hide_text"`
		HidePhotos []int  `json:"hide_photos"`
		Ban        bool   `json:"ban"`
		Reason     string `json:"reason"`
	}
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		api.Reply.Error(w, r, guard.BodyError(err))
		return
	}
	if err := api.Reports.Moderate(r.Context(), id, reports.Moderation{HideText: b.HideText, HidePhotos: b.HidePhotos, Ban: b.Ban, Reason: b.Reason}, a); err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	api.StaffOne(w, r)
}

func (api *API) StaffOne(w http.ResponseWriter, r *http.Request) {
	a, err := Actor(api.Guard, r)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	id, err := reportID(r)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	rep, err := api.Reports.Get(r.Context(), id)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	if !a.AllDepartments && rep.Department != a.Department {
		api.Reply.Error(w, r, geoportal.Errorf(geoportal.EFORBIDDEN, "report %d belongs to department %s", id, rep.Department))
		return
	}
	p, err := api.Reports.GetPrivate(r.Context(), id)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	h, err := api.Reports.History(r.Context(), id, true)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]any{"report": rep, "private": p, "history": h})
}

// staffReports lists the console's reports with their private data, age and SLA state; the JSON
// API and the console page share it.
func (api *API) staffReports(r *http.Request, f reports.Filter) ([]staffReport, error) {
	rs, err := api.Reports.List(r.Context(), f)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(rs))
	for i, rep := range rs {
		ids[i] = rep.ID
	}
	priv, err := api.Reports.Privates(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := make([]staffReport, 0, len(rs))
	for _, rep := range rs {
		out = append(out, staffReport{Report: rep, Private: priv[rep.ID],
			AgeDays: int(now.Sub(rep.RequestedAt).Hours() / 24),
			Overdue: reports.Open(rep.Status) && rep.ExpectedAt != nil && now.After(*rep.ExpectedAt)})
	}
	return out, nil
}
