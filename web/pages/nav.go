package pages

import (
	"encoding/json"
	"net/http"
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

// navText is one text of the bar in every page language, so that a page switching its language
// in the browser (the planner) needs no second request.
type navText map[string]string

// navTexts is key's text in each of Langs.
func navTexts(key string) navText {
	out := make(navText, len(Langs))
	for _, l := range Langs {
		out[l] = Text(l, key)
	}
	return out
}

// NavSection is a section of the bar as NavJSON sends it.
type NavSection struct {
	Path    string  `json:"path"`
	Title   navText `json:"title"`
	Current bool    `json:"current"`
}

// NavBar is the staff navigation bar for a page that builds its own header in the browser (the
// planner, a bundle entry of the front-end): the same sections, by role, as the server pages'
// bar, with its texts in kk, ru and en.
type NavBar struct {
	// Sections are the signed-in role's sections; empty for citizens and anonymous visitors,
	// who get no bar.
	Sections []NavSection `json:"sections"`
	// Email and Department name the signed-in account (empty when nobody is signed in).
	Email      string `json:"email,omitempty"`
	Department string `json:"department,omitempty"`
	// CSRF is the token Sign out sends with POST /logout.
	CSRF string `json:"csrf_token,omitempty"`
	// Texts are the bar's own words: label, menu, to_map, sign_out, signed_in_as.
	Texts map[string]navText `json:"texts"`
}

// NavJSON answers GET /staff/nav.json?path=/planner: the bar of the page at path (which section
// is current) for the signed-in visitor, never cached (it is personal).
func (ps *Pages) NavJSON(w http.ResponseWriter, r *http.Request) {
	p := ps.newPage(r)
	path := r.URL.Query().Get("path")
	bar := NavBar{Sections: []NavSection{}, Texts: map[string]navText{
		"label": navTexts("nav.label"), "menu": navTexts("nav.menu"), "to_map": navTexts("nav.to_map"),
		"sign_out": navTexts("page.sign_out"), "signed_in_as": navTexts("page.signed_in_as"),
	}}
	if p.User != nil {
		for _, s := range ps.nav(p.User, path) {
			bar.Sections = append(bar.Sections, NavSection{Path: s.Path, Title: navTexts(s.Key), Current: s.Current})
		}
		if len(bar.Sections) > 0 {
			bar.Email, bar.Department, bar.CSRF = p.User.Email, p.User.Department, p.CSRF
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(bar)
}
