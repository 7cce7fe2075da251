package web

import (
	"net/http"

	"github.com/aktobe/geoportal/layers/reports"
	"github.com/aktobe/geoportal/layers/transit"
	webaccounts "github.com/aktobe/geoportal/web/accounts"
	"github.com/aktobe/geoportal/web/api"
	"github.com/aktobe/geoportal/web/live"
	webmodules "github.com/aktobe/geoportal/web/modules"
	"github.com/aktobe/geoportal/web/pages"
	webreports "github.com/aktobe/geoportal/web/reports"
)

// pages builds the server-rendered pages' face (web/pages) from the server: its stores, guard
// and error writer, the roles of its staff pages, and the actions it shares with the JSON API
// (web/accounts, web/reports).
func (s *Server) pages(ac *webaccounts.API) *pages.Pages {
	return &pages.Pages{
		Logger: s.Logger, Reply: s.reply, Guard: s.guard,
		Accounts: s.Accounts, Reports: s.Reports, Transit: s.Transit, Modules: s.Modules, Layers: s.Layers, StaffMap: staffMap(), MapEntry: mapEntry,
		Roles: pages.Roles{Import: api.ImportRoles, Dispatch: live.DispatchRoles, Outage: webmodules.OutageRoles, Area: webmodules.AreaRoles, Contest: webmodules.ContestRoles,
			Reports: webreports.StaffRoles, Planner: api.PlannerRoles, Layers: api.ImportRoles},
		Shared: pages.Shared{
			Login:                ac.StartSession,
			Logout:               ac.EndSession,
			CreateUser:           ac.AddUser,
			CreateKey:            ac.AddKey,
			SetTracker:           ac.SaveTracker,
			CheckNotSelfDemotion: ac.CheckNotSelfDemotion,
			AuditFilter:          webaccounts.AuditFilter,
			ReportActor:          func(r *http.Request) (reports.Actor, error) { return webreports.Actor(s.guard, r) },
			ReportFilter:         webreports.StaffFilter,
			TransitViewer:        func(r *http.Request) (transit.Viewer, error) { return live.Viewer(s.guard, r) },
			LayerChanged:         s.Tiles.RefreshCatalog,
		},
	}
}

// staffMap names the staff pages' map bundle from the Vite manifest (its script and the
// stylesheets it needs, shared chunks included).
func staffMap() pages.StaffMap {
	js, css := mapEntry("src/staffmap/main.js")
	return pages.StaffMap{Script: js, Styles: css}
}
