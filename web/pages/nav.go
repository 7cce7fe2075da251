package pages

import (
	"slices"
	"strings"

	"github.com/aktobe/geoportal/layers/accounts"
)

// The staff workspace's one navigation bar (docs/staff.md): every staff page shows the sections
// the signed-in role may open, and only those, with the current one marked. A new staff page is
// one more entry in sections; its handler checks the same roles.

// section is one entry of the navigation bar: its path, its text (catalog key) and who may open it.
type section struct {
	Path, Key string
	Roles     []accounts.Role
}

// sections lists the staff workspace in the bar's order.
func (ps *Pages) sections() []section {
	return []section{
		{Path: "/staff/reports", Key: "nav.reports", Roles: ps.Roles.Reports},
		{Path: "/staff/dispatch", Key: "nav.dispatch", Roles: ps.Roles.Dispatch},
		{Path: "/staff/modules", Key: "nav.modules", Roles: ps.Roles.ModulesPage()},
		{Path: "/lighting/audit", Key: "nav.lighting", Roles: accounts.StaffRoles},
		{Path: "/planner", Key: "nav.planner", Roles: ps.Roles.Planner},
		{Path: "/staff/import", Key: "nav.import", Roles: ps.Roles.Import},
		{Path: "/staff/layers", Key: "nav.layers", Roles: ps.Roles.Layers},
		{Path: "/admin", Key: "nav.admin", Roles: []accounts.Role{accounts.Admin}},
	}
}

// ModulesPage are the roles that see the modules' staff page: those of any of its tools.
func (r Roles) ModulesPage() []accounts.Role {
	var out []accounts.Role
	for _, x := range slices.Concat(r.Outage, r.Area, r.Contest) {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// NavItem is a section as the bar shows it.
type NavItem struct {
	Path, Key string
	Current   bool
}

// Section is the key's name within "nav.": the layout writes the link as t (printf "nav.%s"
// .Section), a form the catalog test can check against catalog.json.
func (n NavItem) Section() string { return strings.TrimPrefix(n.Key, "nav.") }

// nav is the bar for u on the page at path: nil for visitors who are not staff.
func (ps *Pages) nav(u *accounts.User, path string) []NavItem {
	if u == nil || !u.Role.IsStaff() {
		return nil
	}
	var out []NavItem
	for _, s := range ps.sections() {
		if u.HasRole(s.Roles...) {
			out = append(out, NavItem{Path: s.Path, Key: s.Key, Current: path == s.Path || strings.HasPrefix(path, s.Path+"/")})
		}
	}
	return out
}
