package web

import (
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
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
	"github.com/go-chi/chi/v5"
)

// maxReportBody bounds a report submission: three photos plus the form.
const maxReportBody = reports.MaxPhotos*reports.MaxPhotoBytes + 1<<20

// reportStaffRoles may work on reports: department staff on their department's, the others on all.
var reportStaffRoles = []accounts.Role{accounts.DepartmentStaff, accounts.Dispatcher, accounts.Admin}

func reportID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, geoportal.Errorf(geoportal.ENOTFOUND, "report %q not found", chi.URLParam(r, "id"))
	}
	return id, nil
}

func (s *Server) handleReportServices(w http.ResponseWriter, r *http.Request) {
	svs, err := s.Reports.Services(r.Context())
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]any{"services": svs})
}

func (s *Server) handleReportChallenge(w http.ResponseWriter, r *http.Request) {
	c, err := s.Reports.NewChallenge(r.Context())
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	reply.JSON(w, http.StatusOK, c)
}

func reportFloat(r *http.Request, name string) (float64, error) {
	v, err := strconv.ParseFloat(r.URL.Query().Get(name), 64)
	if err != nil {
		return 0, geoportal.Errorf(geoportal.EINVALID, "%s must be a number", name)
	}
	return v, nil
}

func (s *Server) handleReportsNearby(w http.ResponseWriter, r *http.Request) {
	lon, err := reportFloat(r, "lon")
	var lat float64
	if err == nil {
		lat, err = reportFloat(r, "lat")
	}
	radius := 150.0
	if err == nil && r.URL.Query().Get("radius") != "" {
		radius, err = reportFloat(r, "radius")
	}
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	rs, err := s.Reports.Nearby(r.Context(), r.URL.Query().Get("service_code"), lon, lat, radius)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]any{"reports": rs})
}

// handleReportCreate files a report from the web app: a multipart form (or JSON without photos).
// Anonymous residents and citizens solve a proof-of-work challenge; staff and API keys do not.
func (s *Server) handleReportCreate(w http.ResponseWriter, r *http.Request) {
	var n reports.NewReport
	var challenge, nonce string
	form := map[string]string{}
	var files []*multipart.FileHeader
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "multipart/form-data"):
		if err := r.ParseMultipartForm(4 << 20); err != nil {
			s.reply.Error(w, r, guard.BodyError(err))
			return
		}
		for k, v := range r.MultipartForm.Value {
			form[k] = strings.Join(v, ",")
		}
		files = r.MultipartForm.File["photo"]
	case strings.HasPrefix(ct, "application/json"):
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			s.reply.Error(w, r, guard.BodyError(err))
			return
		}
		for k, v := range body {
			switch x := v.(type) {
			case string:
				form[k] = x
			case float64:
				form[k] = strconv.FormatFloat(x, 'f', -1, 64)
			case map[string]any:
				if k == "attributes" {
					for ak, av := range x {
						form["attribute["+ak+"]"], _ = av.(string)
					}
				}
			}
		}
	default:
		s.reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "send the report as multipart/form-data or application/json"))
		return
	}
	lon, err1 := strconv.ParseFloat(form["lon"], 64)
	lat, err2 := strconv.ParseFloat(form["lat"], 64)
	if err1 != nil || err2 != nil {
		s.reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "lon and lat are required decimal degrees"))
		return
	}
	n = reports.NewReport{ServiceCode: form["service_code"], Lon: lon, Lat: lat, Address: form["address"],
		Description: form["description"], Email: form["email"], Phone: form["phone"],
		FirstName: form["first_name"], LastName: form["last_name"], DeviceID: form["device_id"],
		Attributes: map[string]string{}, LinkBase: s.guard.MessageBase()}
	for k, v := range form {
		if strings.HasPrefix(k, "attribute[") && strings.HasSuffix(k, "]") {
			n.Attributes[k[len("attribute["):len(k)-1]] = v
		}
	}
	challenge, nonce = form["pow_challenge"], form["pow_nonce"]
	// Per device as well as per address and account: one phone behind many addresses is still one.
	if !s.allowDevice(w, r, n.DeviceID) {
		return
	}
	u, _ := s.guard.CurrentUser(r)
	if u != nil {
		n.AccountID = u.ID
	}
	// The cheap checks first: count and size of the photos, then the proof of work. Only then
	// are the photos decoded (each bounded by its header: reports.CheckPhoto).
	if len(files) > reports.MaxPhotos {
		s.reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "at most %d photos per report", reports.MaxPhotos))
		return
	}
	for _, fh := range files {
		if fh.Size > reports.MaxPhotoBytes {
			s.reply.Error(w, r, geoportal.Errorf(geoportal.ETOOLARGE, "photo %s is larger than %d MiB", fh.Filename, reports.MaxPhotoBytes>>20))
			return
		}
	}
	if u == nil || !u.IsStaff() {
		if err := s.Reports.SpendChallenge(r.Context(), challenge, nonce); err != nil {
			s.reply.Error(w, r, err)
			return
		}
	}
	for _, fh := range files {
		p, err := s.readPhoto(r.Context(), fh)
		if err != nil {
			s.reply.Error(w, r, err)
			return
		}
		n.Photos = append(n.Photos, p)
	}
	rep, sec, err := s.Reports.Create(r.Context(), n)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	contacts, err := s.Reports.Contacts(r.Context(), rep.ID)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusCreated, map[string]any{"report": rep, "token": sec.Token, "follow": sec.Follow,
		"follow_url": s.guard.RequestBase(r) + "/#report/" + sec.Follow, "contacts": contacts})
}

func (s *Server) readPhoto(ctx context.Context, fh *multipart.FileHeader) (reports.Photo, error) {
	if fh.Size > reports.MaxPhotoBytes {
		return reports.Photo{}, geoportal.Errorf(geoportal.ETOOLARGE, "photo %s is larger than %d MiB", fh.Filename, reports.MaxPhotoBytes>>20)
	}
	f, err := fh.Open()
	if err != nil {
		return reports.Photo{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, reports.MaxPhotoBytes+1))
	if err != nil {
		return reports.Photo{}, err
	}
	return s.Reports.ProcessPhoto(ctx, fh.Filename, b)
}

// reportView is a report as the public (and its reporter) see it: with its history, never
// contact details.
func (s *Server) reportView(w http.ResponseWriter, r *http.Request, rep reports.Report) {
	h, err := s.Reports.History(r.Context(), rep.ID, false)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]any{"report": rep, "history": h})
}

func (s *Server) handleReportGet(w http.ResponseWriter, r *http.Request) {
	id, err := reportID(r)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	rep, err := s.Reports.Get(r.Context(), id)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	s.reportView(w, r, rep)
}

// handleReportFollow is the reporter's private view: the public view plus their own contacts
// (masked) and whether each is confirmed.
func (s *Server) handleReportFollow(w http.ResponseWriter, r *http.Request) {
	rep, err := s.Reports.ByFollowSecret(r.Context(), chi.URLParam(r, "secret"))
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	h, err := s.Reports.History(r.Context(), rep.ID, false)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	contacts, err := s.Reports.Contacts(r.Context(), rep.ID)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	reply.JSON(w, http.StatusOK, map[string]any{"report": rep, "history": h, "contacts": contacts})
}

// handleReportConfirm confirms a reporter's (or supporter's) e-mail or phone: either with the
// link secret {"link": …} (the page at /#confirm/<secret> posts it, so a mail scanner fetching
// the link confirms nothing), or with the private follow secret and the code that was sent
// {"follow": …, "channel": "email"|"sms", "code": "123456"}.
func (s *Server) handleReportConfirm(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Link    string `json:"link"`
		Follow  string `json:"follow"`
		Channel string `json:"channel"`
		Code    string `json:"code"`
	}
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		s.reply.Error(w, r, guard.BodyError(err))
		return
	}
	var c reports.Confirmed
	var err error
	switch {
	case b.Link != "":
		c, err = s.Reports.ConfirmLink(r.Context(), b.Link)
	case b.Follow != "":
		c, err = s.Reports.ConfirmCode(r.Context(), b.Follow, b.Channel, b.Code)
	default:
		err = geoportal.Errorf(geoportal.EINVALID, "send link, or follow with channel and code")
	}
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	reply.JSON(w, http.StatusOK, map[string]any{"confirmed": c})
}

// handleReportConfirmResend sends the reporter a new confirmation code {"follow", "channel"}.
func (s *Server) handleReportConfirmResend(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Follow  string `json:"follow"`
		Channel string `json:"channel"`
	}
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		s.reply.Error(w, r, guard.BodyError(err))
		return
	}
	c, err := s.Reports.ResendConfirmation(r.Context(), b.Follow, b.Channel, s.guard.MessageBase())
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusAccepted, map[string]any{"sent": c})
}

// handleReportSupport records "this is my problem too" {"device_id", "email", "pow_challenge",
// "pow_nonce"}: limited per address and account (the route), per device, and paid for with the
// same proof of work as a report (staff excepted), so that rotating device ids costs work.
func (s *Server) handleReportSupport(w http.ResponseWriter, r *http.Request) {
	id, err := reportID(r)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	var body struct {
		DeviceID  string `json:"device_id"`
		Email     string `json:"email"`
		Challenge string `json:"pow_challenge"`
		Nonce     string `json:"pow_nonce"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		s.reply.Error(w, r, guard.BodyError(err))
		return
	}
	if !s.allowDevice(w, r, body.DeviceID) {
		return
	}
	if u, _ := s.guard.CurrentUser(r); u == nil || !u.IsStaff() {
		if err := s.Reports.SpendChallenge(r.Context(), body.Challenge, body.Nonce); err != nil {
			s.reply.Error(w, r, err)
			return
		}
	}
	n, err := s.Reports.Support(r.Context(), id, body.DeviceID, body.Email, s.guard.MessageBase())
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]any{"id": id, "support_count": n})
}

// handleReportPhoto serves /api/reports/{id}/photos/{n}.jpg and {n}.thumb.jpg.
func (s *Server) handleReportPhoto(w http.ResponseWriter, r *http.Request) {
	id, err := reportID(r)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	file := chi.URLParam(r, "file")
	thumb := strings.HasSuffix(file, ".thumb.jpg")
	num := strings.TrimSuffix(strings.TrimSuffix(file, ".thumb.jpg"), ".jpg")
	n, err := strconv.Atoi(num)
	if err != nil || !strings.HasSuffix(file, ".jpg") {
		s.reply.Error(w, r, geoportal.Errorf(geoportal.ENOTFOUND, "no photo %q", file))
		return
	}
	b, err := s.Reports.PhotoData(r.Context(), id, n, thumb)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(b)
}

// reportActor is the signed-in staff member as the reports module sees them.
func (s *Server) reportActor(r *http.Request) (reports.Actor, error) {
	u, ok := s.guard.CurrentUser(r)
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

// staffFilter reads the console's filters; department staff see only their department.
func (s *Server) staffFilter(r *http.Request, a reports.Actor) (reports.Filter, error) {
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

func (s *Server) handleStaffReports(w http.ResponseWriter, r *http.Request) {
	a, err := s.reportActor(r)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	f, err := s.staffFilter(r, a)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	out, err := s.staffReports(r, f)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	reply.JSON(w, http.StatusOK, map[string]any{"reports": out})
}

// handleStaffReportsCSV exports the console's selection (without contact details).
func (s *Server) handleStaffReportsCSV(w http.ResponseWriter, r *http.Request) {
	a, err := s.reportActor(r)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	f, err := s.staffFilter(r, a)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	f.Limit = 1000
	rs, err := s.Reports.List(r.Context(), f)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="reports.csv"`)
	cw := csvsafe.NewWriter(w) // spreadsheet formulas in user text defused
	cw.Write([]string{"id", "service_code", "status", "department", "requested_at", "updated_at", "lon", "lat", "address", "support_count", "description"})
	for _, rep := range rs {
		cw.Write([]string{strconv.FormatInt(rep.ID, 10), rep.ServiceCode, rep.Status, rep.Department,
			rep.RequestedAt.Format(time.RFC3339), rep.UpdatedAt.Format(time.RFC3339),
			strconv.FormatFloat(rep.Lon, 'f', 6, 64), strconv.FormatFloat(rep.Lat, 'f', 6, 64),
			rep.Address, strconv.Itoa(rep.SupportCount), rep.Description})
	}
	cw.Flush()
}

type statusBody struct {
	Status      string `json:"status"`
	Comment     string `json:"comment"`
	DuplicateOf int64  `json:"duplicate_of"`
}

func (s *Server) handleStaffReportStatus(w http.ResponseWriter, r *http.Request) {
	a, err := s.reportActor(r)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	id, err := reportID(r)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	var b statusBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		s.reply.Error(w, r, guard.BodyError(err))
		return
	}
	rep, err := s.Reports.ChangeStatus(r.Context(), id, reports.Change{Status: b.Status, Comment: b.Comment, DuplicateOf: b.DuplicateOf}, a)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]any{"report": rep})
}

// handleStaffReportsBulk applies one status change to many reports; each is its own transaction
// and the answer says which succeeded.
func (s *Server) handleStaffReportsBulk(w http.ResponseWriter, r *http.Request) {
	a, err := s.reportActor(r)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	var b struct {
		IDs []int64 `json:"ids"`
		statusBody
	}
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		s.reply.Error(w, r, guard.BodyError(err))
		return
	}
	if len(b.IDs) == 0 || len(b.IDs) > 500 {
		s.reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "ids must list 1 to 500 reports"))
		return
	}
	type result struct {
		ID    int64  `json:"id"`
		OK    bool   `json:"ok"`
		Error string `json:"error,omitempty"`
	}
	var out []result
	for _, id := range b.IDs {
		_, err := s.Reports.ChangeStatus(r.Context(), id, reports.Change{Status: b.Status, Comment: b.Comment, DuplicateOf: b.DuplicateOf}, a)
		res := result{ID: id, OK: err == nil}
		if err != nil {
			if geoportal.ErrorCode(err) == geoportal.EINTERNAL {
				s.reply.Error(w, r, err)
				return
			}
			res.Error = geoportal.ErrorMessage(err)
		}
		out = append(out, res)
	}
	reply.JSON(w, http.StatusOK, map[string]any{"results": out})
}

func (s *Server) handleStaffReportModerate(w http.ResponseWriter, r *http.Request) {
	a, err := s.reportActor(r)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	id, err := reportID(r)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	var b struct {
		HideText   *bool  `json:"hide_text"`
		HidePhotos []int  `json:"hide_photos"`
		Ban        bool   `json:"ban"`
		Reason     string `json:"reason"`
	}
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		s.reply.Error(w, r, guard.BodyError(err))
		return
	}
	if err := s.Reports.Moderate(r.Context(), id, reports.Moderation{HideText: b.HideText, HidePhotos: b.HidePhotos, Ban: b.Ban, Reason: b.Reason}, a); err != nil {
		s.reply.Error(w, r, err)
		return
	}
	s.handleStaffReportOne(w, r)
}

func (s *Server) handleStaffReportOne(w http.ResponseWriter, r *http.Request) {
	a, err := s.reportActor(r)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	id, err := reportID(r)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	rep, err := s.Reports.Get(r.Context(), id)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	if !a.AllDepartments && rep.Department != a.Department {
		s.reply.Error(w, r, geoportal.Errorf(geoportal.EFORBIDDEN, "report %d belongs to department %s", id, rep.Department))
		return
	}
	p, err := s.Reports.GetPrivate(r.Context(), id)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	h, err := s.Reports.History(r.Context(), id, true)
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]any{"report": rep, "private": p, "history": h})
}

func (s *Server) handleReportStats(w http.ResponseWriter, r *http.Request) {
	st, err := s.Reports.Stats(r.Context())
	if err != nil {
		s.reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, st)
}

// allowDevice applies the submission rate limit to a reporter's device id (when one is given);
// it answers 429 itself when the device is over its limit.
func (s *Server) allowDevice(w http.ResponseWriter, r *http.Request, deviceID string) bool {
	if deviceID == "" {
		return true
	}
	key := "device:" + deviceID
	if ok, wait := s.guard.Limiter(guard.LimitSubmit).Allow(key); !ok {
		s.guard.RefuseRateLimited(w, r, guard.LimitSubmit, key, wait)
		return false
	}
	return true
}

// staffReports lists the console's reports with their private data, age and SLA state; the JSON
// API and the console page share it.
func (s *Server) staffReports(r *http.Request, f reports.Filter) ([]staffReport, error) {
	rs, err := s.Reports.List(r.Context(), f)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(rs))
	for i, rep := range rs {
		ids[i] = rep.ID
	}
	priv, err := s.Reports.Privates(r.Context(), ids)
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
