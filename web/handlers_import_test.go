package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/layers/accounts"
)

// TestImportPage checks who gets the upload page: nobody signed in is sent to the sign-in page
// and back, roles that may not import are refused, GIS staff and admins get it in kk/ru/en with
// the page's wording handed to its script (web/pages/catalog_test.go checks it has every language) (and no inline script: CSP script-src 'self').
func TestImportPage(t *testing.T) {
	f := newAuthFixture(t, nil)
	for path, want := range map[string]string{"/staff/import.js": "text/javascript", "/pages/pages.css": "text/css"} {
		w := f.do(f.ids["anonymous"], "GET", path, "")
		if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), want) || w.Body.Len() < 200 {
			t.Errorf("GET %s: %d %s (%d bytes)", path, w.Code, w.Header().Get("Content-Type"), w.Body.Len())
		}
	}
	w := f.do(f.ids["anonymous"], "GET", "/staff/import?lang=kk", "")
	if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?lang=kk&next=%2Fstaff%2Fimport") {
		t.Errorf("anonymous: %d to %q, want a redirect to the sign-in page and back", w.Code, loc)
	}
	for _, role := range []accounts.Role{accounts.Citizen, accounts.Planner, accounts.DepartmentStaff} {
		if w := f.do(f.ids[string(role)], "GET", "/staff/import", ""); w.Code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", role, w.Code)
		}
	}
	for _, tc := range []struct{ role, lang, want string }{
		{"gis_staff", "kk", "Қабатты импорттау"}, {"gis_staff", "ru", "Импорт слоя"}, {"admin", "en", "Import a layer"},
	} {
		w := f.do(f.ids[tc.role], "GET", "/staff/import?lang="+tc.lang, "")
		body := w.Body.String()
		if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
			t.Fatalf("%s %s: %d %s", tc.role, tc.lang, w.Code, w.Header().Get("Content-Type"))
		}
		if !strings.Contains(body, `<html lang="`+tc.lang+`">`) || !strings.Contains(body, "<h1>"+tc.want+"</h1>") ||
			!strings.Contains(body, tc.role+"@test.kz") || !strings.Contains(body, `data-csrf="`+f.ids[tc.role].csrf+`"`) {
			t.Errorf("%s %s: page lacks its language, title, user or CSRF token:\n%s", tc.role, tc.lang, body)
		}
		if !strings.Contains(body, `src="/staff/import.js"`) || strings.Contains(body, "<script>") {
			t.Errorf("the page must load its script from a file (CSP script-src 'self')")
		}
		// The script's wording: a JSON object in a data block, in the page's language.
		_, rest, _ := strings.Cut(body, `<script type="application/json" id="import-text">`)
		js, _, _ := strings.Cut(rest, "</script>")
		var text map[string]string
		if err := json.Unmarshal([]byte(js), &text); err != nil || text["title"] != tc.want || text["refused"] == "" {
			t.Errorf("%s: script wording %q: %v", tc.lang, js, err)
		}
	}
}
