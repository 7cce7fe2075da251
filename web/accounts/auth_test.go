package accounts

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func FuzzLoginJSON(f *testing.F) {
	f.Add(`{"email":"a@b.kz","password":"x"}`)
	f.Add(`{"email":1}`)
	f.Add(`{"email":"a","password":"b"} {}`)
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/api/auth/login", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		req, err := parseLoginJSON(r)
		if err == nil && (req.Email == "" || req.Password == "") {
			t.Fatal("accepted a login without email or password")
		}
	})
}

func FuzzAuditQuery(f *testing.F) {
	f.Add("actor=a&action=login.*&since=2026-01-01&limit=10")
	f.Add("since=2026-13-45&before_id=-1")
	f.Fuzz(func(t *testing.T, q string) {
		v, err := url.ParseQuery(q)
		if err != nil {
			return
		}
		af, err := AuditFilter(v)
		if err == nil && (af.Limit < 0 || af.BeforeID < 0) {
			t.Fatalf("accepted negative numbers: %+v", af)
		}
	})
}
