package pages

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func FuzzLoginForm(f *testing.F) {
	f.Add("email=a%40b.kz&password=x&csrf_token=t&next=%2Fadmin", "application/x-www-form-urlencoded")
	f.Add("email=%ZZ", "application/x-www-form-urlencoded")
	f.Add(`{"email":"a"}`, "application/json")
	f.Fuzz(func(t *testing.T, body, ct string) {
		r := httptest.NewRequest("POST", "/login", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		_, _, _, next, err := parseLoginForm(r)
		if err == nil && (!strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\")) {
			t.Fatalf("next %q leaves the site", next)
		}
	})
}
