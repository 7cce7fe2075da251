package web

import (
	"net/http"

	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/aktobe/geoportal/layers/transit"
	"github.com/aktobe/geoportal/web/live"
	webmodules "github.com/aktobe/geoportal/web/modules"
	"github.com/aktobe/geoportal/web/pages"
	webreports "github.com/aktobe/geoportal/web/reports"
)

// pages builds the server-rendered pages' face (web/pages) from the server: its stores, guard
// and error writer, the roles of its staff pages, and the actions it shares with the JSON API.
func (s *Server) pages() *pages.Pages {
	return &pages.Pages{
		Logger: s.Logger, Reply: s.reply, Guard: s.guard,
		Accounts: s.Accounts, Reports: s.Reports, Transit: s.Transit, Modules: s.Modules,
		Roles: pages.Roles{Import: importRoles, Dispatch: live.DispatchRoles, Outage: webmodules.OutageRoles, Area: webmodules.AreaRoles, Contest: webmodules.ContestRoles},
		Shared: pages.Shared{
			Login:  s.login,
			Logout: s.logout,
			CreateUser: func(r *http.Request, u accounts.NewUser) (*accounts.User, string, error) {
				return s.createUser(r, createUserRequest{Email: u.Email, Name: u.Name, Role: string(u.Role),
					Department: u.Department, Password: u.Password})
			},
			CreateKey:  s.createKey,
			SetTracker: s.setTracker,
			CheckNotSelfDemotion: func(r *http.Request, id int64, role accounts.Role, disabled bool) error {
				return checkNotSelfDemotion(r, s, id, role, disabled)
			},
			AuditFilter:   parseAuditQuery,
			ReportActor:   func(r *http.Request) (reports.Actor, error) { return webreports.Actor(s.guard, r) },
			ReportFilter:  webreports.StaffFilter,
			TransitViewer: func(r *http.Request) (transit.Viewer, error) { return live.Viewer(s.guard, r) },
		},
	}
}
