package modules

import (
	"net/http"

	"github.com/aktobe/geoportal/web/api"
	"github.com/aktobe/geoportal/web/reply"
)

func (ms *API) SchoolSafety(w http.ResponseWriter, r *http.Request) {
	radius, err := api.QueryFloat(r.URL.Query(), "radius", 300)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	rep, err := ms.Modules.SchoolSafety(r.Context(), radius)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, rep)
}

// SchoolCameras answers a school's popup: the cameras within radius (default 300 m).
func (ms *API) SchoolCameras(w http.ResponseWriter, r *http.Request) {
	id, err := api.PathID(r, "id")
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	radius, err := api.QueryFloat(r.URL.Query(), "radius", 300)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	rep, err := ms.Modules.SchoolCameras(r.Context(), id, radius)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, rep)
}
