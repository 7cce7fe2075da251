package pages

import (
	"net/http"
	"net/url"
)

// importPage is what the upload page shows: who is signed in, the session's CSRF token, and the
// page's texts for its script (the import.* keys without their prefix).
type importPage struct {
	page
	Email, Role string
	Script      map[string]string
}

// Import is the upload page for GIS staff (GET /staff/import, in kk/ru/en by ?lang= or
// Accept-Language). Anybody not signed in is sent to the sign-in page and back; other roles get
// "forbidden".
func (ps *Pages) Import(w http.ResponseWriter, r *http.Request) {
	p := importPage{page: ps.newPage(r)}
	if p.User == nil {
		http.Redirect(w, r, "/login?lang="+p.Lang+"&next="+url.QueryEscape("/staff/import?lang="+p.Lang), http.StatusSeeOther)
		return
	}
	if !p.User.HasRole(ps.Roles.Import...) {
		ps.forbidden(w, r, "the upload page needs the gis_staff or admin role")
		return
	}
	p.Email, p.Role, p.Script = p.User.Email, string(p.User.Role), table(p.Lang, "import.")
	ps.render(w, http.StatusOK, p.Lang, "import.html", p)
}
