// Package reports is the citizen reports' JSON API: residents file, follow, confirm and support
// reports (/api/reports); department staff, dispatchers and admins work on them (/api/staff/reports,
// with a CSV export). The console pages are in web/pages, Open311 in web/open311.
package reports

import (
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/reply"
	"github.com/go-chi/chi/v5"
)

// API serves the reports routes; they are registered in web/routes.go.
type API struct {
	Reports *reports.Store
	// Guard says who is calling and limits devices; Reply writes error answers.
	Guard *guard.Guard
	Reply reply.Writer
}

// MaxReportBody bounds a report submission: three photos plus the form.
const MaxReportBody = reports.MaxPhotos*reports.MaxPhotoBytes + 1<<20

func reportID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, geoportal.Errorf(geoportal.ENOTFOUND, "report %q not found", chi.URLParam(r, "id"))
	}
	return id, nil
}

func (api *API) Services(w http.ResponseWriter, r *http.Request) {
	svs, err := api.Reports.Services(r.Context())
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]any{"services": svs})
}

func (api *API) Challenge(w http.ResponseWriter, r *http.Request) {
	c, err := api.Reports.NewChallenge(r.Context())
	if err != nil {
		api.Reply.Error(w, r, err)
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

func (api *API) Nearby(w http.ResponseWriter, r *http.Request) {
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
		api.Reply.Error(w, r, err)
		return
	}
	rs, err := api.Reports.Nearby(r.Context(), r.URL.Query().Get("service_code"), lon, lat, radius)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]any{"reports": rs})
}

// Create files a report from the web app: a multipart form (or JSON without photos).
// Anonymous residents and citizens solve a proof-of-work challenge; staff and API keys do not.
func (api *API) Create(w http.ResponseWriter, r *http.Request) {
	var n reports.NewReport
	var challenge, nonce string
	form := map[string]string{}
	var files []*multipart.FileHeader
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "multipart/form-data"):
		if err := r.ParseMultipartForm(4 << 20); err != nil {
			api.Reply.Error(w, r, guard.BodyError(err))
			return
		}
		for k, v := range r.MultipartForm.Value {
			form[k] = strings.Join(v, ",")
		}
		files = r.MultipartForm.File["photo"]
	case strings.HasPrefix(ct, "application/json"):
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			api.Reply.Error(w, r, guard.BodyError(err))
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
		api.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "send the report as multipart/form-data or application/json"))
		return
	}
	lon, err1 := strconv.ParseFloat(form["lon"], 64)
	lat, err2 := strconv.ParseFloat(form["lat"], 64)
	if err1 != nil || err2 != nil {
		api.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "lon and lat are required decimal degrees"))
		return
	}
	n = reports.NewReport{ServiceCode: form["service_code"], Lon: lon, Lat: lat, Address: form["address"],
		Description: form["description"], Email: form["email"], Phone: form["phone"],
		FirstName: form["first_name"], LastName: form["last_name"], DeviceID: form["device_id"],
		Attributes: map[string]string{}, LinkBase: api.Guard.MessageBase()}
	for k, v := range form {
		if strings.HasPrefix(k, "attribute[") && strings.HasSuffix(k, "]") {
			n.Attributes[k[len("attribute["):len(k)-1]] = v
		}
	}
	challenge, nonce = form["pow_challenge"], form["pow_nonce"]
	// Per device as well as per address and account: one phone behind many addresses is still one.
	if !api.allowDevice(w, r, n.DeviceID) {
		return
	}
	u, _ := api.Guard.CurrentUser(r)
	if u != nil {
		n.AccountID = u.ID
	}
	// The cheap checks first: count and size of the photos, then the proof of work. Only then
	// are the photos decoded (each bounded by its header: reports.CheckPhoto).
	if len(files) > reports.MaxPhotos {
		api.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "at most %d photos per report", reports.MaxPhotos))
		return
	}
	for _, fh := range files {
		if fh.Size > reports.MaxPhotoBytes {
			api.Reply.Error(w, r, geoportal.Errorf(geoportal.ETOOLARGE, "photo %s is larger than %d MiB", fh.Filename, reports.MaxPhotoBytes>>20))
			return
		}
	}
	if u == nil || !u.IsStaff() {
		if err := api.Reports.SpendChallenge(r.Context(), challenge, nonce); err != nil {
			api.Reply.Error(w, r, err)
			return
		}
	}
	for _, fh := range files {
		p, err := api.readPhoto(r.Context(), fh)
		if err != nil {
			api.Reply.Error(w, r, err)
			return
		}
		n.Photos = append(n.Photos, p)
	}
	rep, sec, err := api.Reports.Create(r.Context(), n)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	contacts, err := api.Reports.Contacts(r.Context(), rep.ID)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusCreated, map[string]any{"report": rep, "token": sec.Token, "follow": sec.Follow,
		"follow_url": api.Guard.RequestBase(r) + "/#report/" + sec.Follow, "contacts": contacts})
}

func (api *API) readPhoto(ctx context.Context, fh *multipart.FileHeader) (reports.Photo, error) {
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
	return api.Reports.ProcessPhoto(ctx, fh.Filename, b)
}

// reportView is a report as the public (and its reporter) see it: with its history, never
// contact details.
func (api *API) reportView(w http.ResponseWriter, r *http.Request, rep reports.Report) {
	h, err := api.Reports.History(r.Context(), rep.ID, false)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]any{"report": rep, "history": h})
}

func (api *API) Get(w http.ResponseWriter, r *http.Request) {
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
	api.reportView(w, r, rep)
}

// Follow is the reporter's private view: the public view plus their own contacts
// (masked) and whether each is confirmed.
func (api *API) Follow(w http.ResponseWriter, r *http.Request) {
	rep, err := api.Reports.ByFollowSecret(r.Context(), chi.URLParam(r, "secret"))
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	h, err := api.Reports.History(r.Context(), rep.ID, false)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	contacts, err := api.Reports.Contacts(r.Context(), rep.ID)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	reply.JSON(w, http.StatusOK, map[string]any{"report": rep, "history": h, "contacts": contacts})
}

// Confirm confirms a reporter's (or supporter's) e-mail or phone: either with the
// link secret {"link": …} (the page at /#confirm/<secret> posts it, so a mail scanner fetching
// the link confirms nothing), or with the private follow secret and the code that was sent
// {"follow": …, "channel": "email"|"sms", "code": "123456"}.
func (api *API) Confirm(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Link    string `json:"link"`
		Follow  string `json:"follow"`
		Channel string `json:"channel"`
		Code    string `json:"code"`
	}
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		api.Reply.Error(w, r, guard.BodyError(err))
		return
	}
	var c reports.Confirmed
	var err error
	switch {
	case b.Link != "":
		c, err = api.Reports.ConfirmLink(r.Context(), b.Link)
	case b.Follow != "":
		c, err = api.Reports.ConfirmCode(r.Context(), b.Follow, b.Channel, b.Code)
	default:
		err = geoportal.Errorf(geoportal.EINVALID, "send link, or follow with channel and code")
	}
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	reply.JSON(w, http.StatusOK, map[string]any{"confirmed": c})
}

// ConfirmResend sends the reporter a new confirmation code {"follow", "channel"}.
func (api *API) ConfirmResend(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Follow  string `json:"follow"`
		Channel string `json:"channel"`
	}
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		api.Reply.Error(w, r, guard.BodyError(err))
		return
	}
	c, err := api.Reports.ResendConfirmation(r.Context(), b.Follow, b.Channel, api.Guard.MessageBase())
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusAccepted, map[string]any{"sent": c})
}

// Support records "this is my problem too" {"device_id", "email", "pow_challenge",
// "pow_nonce"}: limited per address and account (the route), per device, and paid for with the
// same proof of work as a report (staff excepted), so that rotating device ids costs work.
func (api *API) Support(w http.ResponseWriter, r *http.Request) {
	id, err := reportID(r)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	var body struct {
		DeviceID  string `json:"device_id"`
		Email     string `json:"email"`
		Challenge string `json:"pow_challenge"`
		Nonce     string `json:"pow_nonce"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		api.Reply.Error(w, r, guard.BodyError(err))
		return
	}
	if !api.allowDevice(w, r, body.DeviceID) {
		return
	}
	if u, _ := api.Guard.CurrentUser(r); u == nil || !u.IsStaff() {
		if err := api.Reports.SpendChallenge(r.Context(), body.Challenge, body.Nonce); err != nil {
			api.Reply.Error(w, r, err)
			return
		}
	}
	n, err := api.Reports.Support(r.Context(), id, body.DeviceID, body.Email, api.Guard.MessageBase())
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]any{"id": id, "support_count": n})
}

// Photo serves /api/reports/{id}/photos/{n}.jpg and {n}.thumb.jpg.
func (api *API) Photo(w http.ResponseWriter, r *http.Request) {
	id, err := reportID(r)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	file := chi.URLParam(r, "file")
	thumb := strings.HasSuffix(file, ".thumb.jpg")
	num := strings.TrimSuffix(strings.TrimSuffix(file, ".thumb.jpg"), ".jpg")
	n, err := strconv.Atoi(num)
	if err != nil || !strings.HasSuffix(file, ".jpg") {
		api.Reply.Error(w, r, geoportal.Errorf(geoportal.ENOTFOUND, "no photo %q", file))
		return
	}
	b, err := api.Reports.PhotoData(r.Context(), id, n, thumb)
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(b)
}

func (api *API) Stats(w http.ResponseWriter, r *http.Request) {
	st, err := api.Reports.Stats(r.Context())
	if err != nil {
		api.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, st)
}

// allowDevice applies the submission rate limit to a reporter's device id (when one is given);
// it answers 429 itself when the device is over its limit.
func (api *API) allowDevice(w http.ResponseWriter, r *http.Request, deviceID string) bool {
	if deviceID == "" {
		return true
	}
	key := "device:" + deviceID
	if ok, wait := api.Guard.Limiter(guard.LimitSubmit).Allow(key); !ok {
		api.Guard.RefuseRateLimited(w, r, guard.LimitSubmit, key, wait)
		return false
	}
	return true
}
