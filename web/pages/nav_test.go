package pages_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web/pages"
	"github.com/aktobe/geoportal/web/webtest"
)

var navLink = regexp.MustCompile(`<a href="([^"?]+)\?lang=[a-z]+"( aria-current="page")?>`)

// navOf lists the section paths of a page's staff navigation bar and the one marked current.
func navOf(page string) (paths []string, current string) {
	start := strings.Index(page, `<nav class="staff"`)
	if start < 0 {
		return nil, ""
	}
	end := strings.Index(page[start:], "</nav>")
	for _, m := range navLink.FindAllStringSubmatch(page[start:start+end], -1) {
		if m[1] == "/" {
			continue // back to the map, on every bar
		}
		paths = append(paths, m[1])
		if m[2] != "" {
			current = m[1]
		}
	}
	return paths, current
}

// Each staff section answers its roles (200) and refuses the others (403; anonymous visitors are
// sent to sign in), and the navigation bar on every page lists exactly the sections of the role.
func TestStaffSectionsByRole(t *testing.T) {
	e := webtest.NewSite(t)
	pages := []string{"/staff/reports", "/staff/dispatch", "/staff/modules", "/staff/import", "/staff/layers", "/admin"}
	// The sections each role may open, in the bar's order (/lighting/audit and /planner are
	// links for all staff and for planners; their pages are public).
	want := map[accounts.Role][]string{
		accounts.GISStaff:        {"/staff/modules", "/lighting/audit", "/planner", "/staff/import", "/staff/layers"},
		accounts.Planner:         {"/staff/modules", "/lighting/audit", "/planner"},
		accounts.DepartmentStaff: {"/staff/reports", "/staff/dispatch", "/staff/modules", "/lighting/audit"},
		accounts.Dispatcher:      {"/staff/reports", "/staff/dispatch", "/staff/modules", "/lighting/audit"},
		accounts.Admin:           {"/staff/reports", "/staff/dispatch", "/staff/modules", "/lighting/audit", "/planner", "/staff/import", "/staff/layers", "/admin"},
	}
	for _, p := range pages {
		if code, loc, _ := e.Page(webtest.Caller{}, p+"?lang=en", nil); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
			t.Errorf("anonymous %s: %d %q, want 303 to /login", p, code, loc)
		}
	}
	citizen := e.SignIn("resident@example.kz", accounts.Citizen)
	for _, p := range pages {
		if code, _, body := e.Page(citizen, p, nil); code != http.StatusForbidden || strings.Contains(body, `<nav class="staff"`) {
			t.Errorf("citizen %s: %d, want 403 without a staff bar", p, code)
		}
	}
	for who, c := range map[string]webtest.Caller{"anonymous": {}, "citizen": citizen} {
		if got, current, bar := plannerNav(t, e, c); len(got) != 0 || current != "" || bar.CSRF != "" || bar.Email != "" {
			t.Errorf("%s: the planner's bar lists %v (current %q, csrf %q), want none", who, got, current, bar.CSRF)
		}
	}
	for role, sections := range want {
		t.Run(string(role), func(t *testing.T) {
			var c webtest.Caller
			if role == accounts.DepartmentStaff {
				c = e.SignInStaff("staff." + string(role) + "@akimat.kz")
			} else {
				c = e.SignIn(string(role)+"@akimat.kz", role)
			}
			// The public lighting audit carries the bar for staff too.
			_, _, audit := e.Page(c, "/lighting/audit?lang=ru", nil)
			if got, current := navOf(audit); !slices.Equal(got, sections) || current != "/lighting/audit" {
				t.Errorf("/lighting/audit: the bar lists %v (current %q), want %v", got, current, sections)
			}
			// The planner builds its header in the browser from /staff/nav.json: the same sections.
			got, current, bar := plannerNav(t, e, c)
			wantCurrent := ""
			if slices.Contains(sections, "/planner") {
				wantCurrent = "/planner"
			}
			if !slices.Equal(got, sections) || current != wantCurrent {
				t.Errorf("/staff/nav.json: the planner's bar lists %v (current %q), want %v (current %q)", got, current, sections, wantCurrent)
			}
			if bar.CSRF == "" || bar.Email == "" || bar.Texts["menu"]["kk"] != "Мәзір" || bar.Sections[0].Title["en"] == "" {
				t.Errorf("/staff/nav.json: sign-out token, account or texts missing: %+v", bar)
			}
			for _, p := range pages {
				code, _, body := e.Page(c, p+"?lang=kk", nil)
				if !slices.Contains(sections, p) {
					if code != http.StatusForbidden {
						t.Errorf("%s: %d, want 403", p, code)
					}
					continue
				}
				if code != http.StatusOK {
					t.Errorf("%s: %d, want 200\n%.500s", p, code, body)
					continue
				}
				got, current := navOf(body)
				if !slices.Equal(got, sections) {
					t.Errorf("%s: the bar lists %v, want %v", p, got, sections)
				}
				if current != p {
					t.Errorf("%s: the bar marks %q as current", p, current)
				}
				for _, s := range []string{`action="/logout"`, `href="?lang=en"`, `href="/?lang=kk#lang=kk"`, "Мәзір"} {
					if !strings.Contains(body, s) {
						t.Errorf("%s: the header lacks %s", p, s)
					}
				}
			}
		})
	}
}

// plannerNav reads the planner's bar (GET /staff/nav.json?path=/planner) as c: its section paths
// and the one marked current.
func plannerNav(t *testing.T, e *webtest.Site, c webtest.Caller) (paths []string, current string, bar pages.NavBar) {
	t.Helper()
	code, _, body := e.Page(c, "/staff/nav.json?path=/planner", nil)
	if code != http.StatusOK {
		t.Fatalf("/staff/nav.json: %d %s", code, body)
	}
	if err := json.Unmarshal([]byte(body), &bar); err != nil {
		t.Fatalf("/staff/nav.json: %v: %s", err, body)
	}
	for _, s := range bar.Sections {
		paths = append(paths, s.Path)
		if s.Current {
			current = s.Path
		}
	}
	return paths, current, bar
}
