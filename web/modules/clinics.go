package modules

import (
	"net/http"

	"github.com/aktobe/geoportal/web/api"
	"github.com/aktobe/geoportal/web/reply"
)

func (ms *API) ClinicPlanning(w http.ResponseWriter, r *http.Request) {
	d, err := api.QueryFloat(r.URL.Query(), "distance", 1000)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	p, err := ms.Modules.ClinicPlanning(r.Context(), d, ms.Guard.IsStaff(r))
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, p)
}
