package modules

import (
	"net/http"
	"strconv"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/modules"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/reply"
	"github.com/go-chi/chi/v5"
)

// Private cameras in Safe City (docs/modules.md, section 7): owners register, edit and
// withdraw their cameras; safe-city staff moderate them and look up the cameras of an incident.

func cameraID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, geoportal.Errorf(geoportal.EINVALID, "id: %q is not a camera id", chi.URLParam(r, "id"))
	}
	return id, nil
}

// safeCityStaff refuses anyone but safe-city staff (401 without a session, 403 otherwise).
func (ms *API) safeCityStaff(w http.ResponseWriter, r *http.Request) (int64, bool) {
	u, ok := ms.Guard.CurrentUser(r)
	if !ok {
		ms.Reply.Error(w, r, geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in as Safe City staff"))
		return 0, false
	}
	if !modules.IsSafeCityStaff(u) {
		ms.Reply.Error(w, r, geoportal.Errorf(geoportal.EFORBIDDEN, "only Safe City staff (department %s) or an admin may moderate cameras", modules.SafeCityDepartment))
		return 0, false
	}
	return u.ID, true
}

func (ms *API) owner(w http.ResponseWriter, r *http.Request) (int64, bool) {
	u, ok := ms.Guard.CurrentUser(r)
	if !ok {
		ms.Reply.Error(w, r, geoportal.Errorf(geoportal.EUNAUTHORIZED, "sign in to register cameras"))
		return 0, false
	}
	return u.ID, true
}

func (ms *API) CameraRegister(w http.ResponseWriter, r *http.Request) {
	uid, ok := ms.owner(w, r)
	if !ok {
		return
	}
	var n modules.NewCamera
	if err := guard.DecodeJSON(r, &n); err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	c, err := ms.Modules.RegisterCamera(r.Context(), uid, n)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusCreated, c)
}

func (ms *API) CameraMine(w http.ResponseWriter, r *http.Request) {
	uid, ok := ms.owner(w, r)
	if !ok {
		return
	}
	cs, err := ms.Modules.MyCameras(r.Context(), uid)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]any{"cameras": cs})
}

func (ms *API) CameraUpdate(w http.ResponseWriter, r *http.Request) {
	uid, ok := ms.owner(w, r)
	if !ok {
		return
	}
	id, err := cameraID(r)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	var n modules.NewCamera
	if err := guard.DecodeJSON(r, &n); err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	c, err := ms.Modules.UpdateCamera(r.Context(), uid, id, n)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, c)
}

func (ms *API) CameraWithdraw(w http.ResponseWriter, r *http.Request) {
	uid, ok := ms.owner(w, r)
	if !ok {
		return
	}
	id, err := cameraID(r)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	c, err := ms.Modules.WithdrawCamera(r.Context(), uid, id)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, c)
}

func (ms *API) CameraQueue(w http.ResponseWriter, r *http.Request) {
	if _, ok := ms.safeCityStaff(w, r); !ok {
		return
	}
	cs, err := ms.Modules.CameraQueue(r.Context(), r.URL.Query().Get("status"))
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]any{"cameras": cs})
}

func (ms *API) CameraDecide(w http.ResponseWriter, r *http.Request) {
	sid, ok := ms.safeCityStaff(w, r)
	if !ok {
		return
	}
	id, err := cameraID(r)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	var body struct {
		Decision string `json:"decision"`
		Reason   string `json:"reason"`
	}
	if err := guard.DecodeJSON(r, &body); err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	c, err := ms.Modules.DecideCamera(r.Context(), sid, id, body.Decision, body.Reason)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, c)
}

// CameraIncident answers ?lon=&lat=&from=&to= (RFC 3339) with the cameras that saw the place.
func (ms *API) CameraIncident(w http.ResponseWriter, r *http.Request) {
	if _, ok := ms.safeCityStaff(w, r); !ok {
		return
	}
	q := r.URL.Query()
	lon, lat, err := modules.ParsePoint(q.Get("lon"), q.Get("lat"))
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	var t [2]time.Time
	for i, f := range []string{"from", "to"} {
		if t[i], err = time.Parse(time.RFC3339, q.Get(f)); err != nil {
			ms.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "%s: %q is not a time (RFC 3339)", f, q.Get(f)))
			return
		}
	}
	inc, err := ms.Modules.IncidentLookup(r.Context(), lon, lat, t[0], t[1], time.Now())
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, inc)
}
