package modules

import (
	"net/http"

	"github.com/aktobe/geoportal/web/api"
	"github.com/aktobe/geoportal/web/reply"
)

func (ms *API) Accessibility(w http.ResponseWriter, r *http.Request) {
	d, err := api.QueryFloat(r.URL.Query(), "distance", 300)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	limit, err := api.QueryInt(r.URL.Query(), "limit", 50)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	rep, err := ms.Modules.Accessibility(r.Context(), d, limit)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, rep)
}
