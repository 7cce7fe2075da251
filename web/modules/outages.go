package modules

import (
	"net/http"
	"strconv"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/modules"
	"github.com/aktobe/geoportal/web/api"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/reply"
)

func (ms *API) Outages(w http.ResponseWriter, r *http.Request) {
	list, err := ms.Modules.Outages(r.Context())
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	fc := map[string]any{"type": "FeatureCollection", "features": []any{}}
	feats := []any{}
	for _, o := range list {
		g := o.Geometry
		o.Geometry = nil
		feats = append(feats, map[string]any{"type": "Feature", "id": o.ID, "geometry": g, "properties": o})
	}
	fc["features"] = feats
	reply.JSON(w, http.StatusOK, fc)
}

func (ms *API) OutageAffected(w http.ResponseWriter, r *http.Request) {
	if v := r.URL.Query().Get("building"); v != "" {
		// A building clicked on the map (its feature id in layer buildings).
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			ms.Reply.Error(w, r, geoportal.Errorf(geoportal.EINVALID, "building %q is not a positive integer (a feature id of layer buildings)", v))
			return
		}
		a, err := ms.Modules.AffectedBuilding(r.Context(), id)
		if err != nil {
			ms.Reply.Error(w, r, err)
			return
		}
		reply.JSON(w, http.StatusOK, a)
		return
	}
	lon, lat, addr, err := ms.modulePoint(r)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	a, err := ms.Modules.AffectedAt(r.Context(), lon, lat)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	a.Address = addr
	reply.JSON(w, http.StatusOK, a)
}

func (ms *API) OutageCreate(w http.ResponseWriter, r *http.Request) {
	var n modules.NewOutage
	if err := guard.DecodeJSON(r, &n); err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	o, err := ms.Modules.CreateOutage(r.Context(), n)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusCreated, o)
}

func (ms *API) OutageClose(w http.ResponseWriter, r *http.Request) {
	id, err := api.PathID(r, "id")
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	o, err := ms.Modules.CloseOutage(r.Context(), id)
	if err != nil {
		ms.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, o)
}
