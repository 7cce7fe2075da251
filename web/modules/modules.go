// Package modules is the city modules' JSON API under /api/modules (docs/modules.md): the
// street-lighting audit, utility outages, clinics' attachment areas and school catchments, the
// barrier-free city and the best-yard contest, one file each. The staff page and the printable
// lighting audit are in web/pages.
package modules

import (
	"net/http"

	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/modules"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/aktobe/geoportal/web/guard"
	"github.com/aktobe/geoportal/web/pages"
	"github.com/aktobe/geoportal/web/reply"
)

// API serves the modules' routes; they are registered in web/routes.go.
type API struct {
	Modules *modules.Store
	// Guard says who is calling; Reply writes error answers.
	Guard *guard.Guard
	Reply reply.Writer
}

// OutageRoles may draw and close utility outages.
var OutageRoles = []accounts.Role{accounts.GISStaff, accounts.Dispatcher, accounts.Admin}

// AreaRoles may recompute clinic attachment areas and school catchments.
var AreaRoles = []accounts.Role{accounts.GISStaff, accounts.Planner, accounts.Admin}

// ContestRoles open and close best-yard seasons.
var ContestRoles = []accounts.Role{accounts.DepartmentStaff, accounts.GISStaff, accounts.Admin}

// VoterRoles may nominate yards and vote: every signed-in account.
var VoterRoles = append([]accounts.Role{accounts.Citizen}, accounts.StaffRoles...)

// MaxNominationBody bounds a nomination upload (three photos and the form).
const MaxNominationBody = reports.MaxPhotos*reports.MaxPhotoBytes + 1<<20

// modulePoint reads lon/lat, or resolves address through the search.
func (ms *API) modulePoint(r *http.Request) (float64, float64, string, error) {
	q := r.URL.Query()
	if addr := q.Get("address"); addr != "" && q.Get("lon") == "" && q.Get("lat") == "" {
		lon, lat, err := ms.Modules.Locate(r.Context(), addr, pages.Lang(r))
		return lon, lat, addr, err
	}
	lon, lat, err := modules.ParsePoint(q.Get("lon"), q.Get("lat"))
	return lon, lat, "", err
}

// Mine answers "which clinic (kind clinic) or school (kind school) is mine" at a point or address.
func (ms *API) Mine(kind string) http.HandlerFunc {
	k := modules.ClinicAreas
	if kind == "school" {
		k = modules.SchoolCatchments
	}
	return func(w http.ResponseWriter, r *http.Request) {
		lon, lat, addr, err := ms.modulePoint(r)
		if err != nil {
			ms.Reply.Error(w, r, err)
			return
		}
		f, err := ms.Modules.Mine(r.Context(), k, lon, lat)
		if err != nil {
			ms.Reply.Error(w, r, err)
			return
		}
		reply.JSON(w, http.StatusOK, map[string]any{"lon": lon, "lat": lat, "address": addr, kind: f})
	}
}

// RecomputeAreas recomputes the clinics' attachment areas or the schools' catchments.
func (ms *API) RecomputeAreas(kind string) http.HandlerFunc {
	k := modules.ClinicAreas
	if kind == "school" {
		k = modules.SchoolCatchments
	}
	return func(w http.ResponseWriter, r *http.Request) {
		n, err := ms.Modules.RecomputeAreas(r.Context(), k)
		if err != nil {
			ms.Reply.Error(w, r, err)
			return
		}
		reply.JSON(w, http.StatusOK, map[string]any{"areas": n})
	}
}
