package guard

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aktobe/geoportal/layers/accounts"
)

func TestKeyScopePaths(t *testing.T) {
	k := &accounts.APIKey{Scopes: []accounts.Scope{accounts.ScopeOpen311, accounts.ScopeImport}}
	for _, tc := range []struct {
		method, path string
		want         bool
	}{
		{"POST", "/open311/v2/requests.json", true},
		{"POST", "/api/import", true},
		{"POST", "/api/imports/3", true},
		{"POST", "/api/importer", false},
		{"POST", "/open311/../api/admin/users", false},
		{"POST", "/open311//x", false},
		{"GET", "/api/layers", false},
		{"POST", "/api/admin/users", false},
	} {
		if got := KeyAllows(k, tc.method, tc.path); got != tc.want {
			t.Errorf("KeyAllows(%s %s) = %v; want %v", tc.method, tc.path, got, tc.want)
		}
	}
	read := &accounts.APIKey{Scopes: []accounts.Scope{accounts.ScopeRead}}
	if !KeyAllows(read, "GET", "/tiles/cameras/0/0/0.mvt") || KeyAllows(read, "POST", "/ogc/collections/cameras/items") {
		t.Error("read scope is wrong")
	}
}

func TestLimiterMemoryIsBounded(t *testing.T) {
	l := NewLimiter(RateLimit{PerMinute: 600, Burst: 1})
	now := time.Unix(0, 0)
	l.Now = func() time.Time { return now }
	for i := range 100_000 {
		l.Allow(fmt.Sprint(i))
	}
	now = now.Add(time.Second)
	l.Allow("new")
	if len(l.items) > 10 {
		t.Fatalf("%d buckets kept after all refilled", len(l.items))
	}
}

func FuzzAPIKeyHeader(f *testing.F) {
	f.Add("Bearer gpk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "")
	f.Add("Basic dXNlcjpwdw==", "gpk_x")
	f.Add("bearer", "")
	f.Fuzz(func(t *testing.T, authz, xkey string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", authz)
		r.Header.Set("X-API-Key", xkey)
		k, ok := APIKeyFrom(r)
		if ok && accounts.ValidKeyShape(k) && (len(k) != 47 || !strings.HasPrefix(k, accounts.KeyPrefix)) {
			t.Fatalf("key %q passed the shape check", k)
		}
		if !ok && k != "" {
			t.Fatal("a key without ok")
		}
	})
}

func TestClientIPAndOriginBehindProxy(t *testing.T) {
	c := Defaults()
	s := New(nil, &c, nil, nil, nil)
	r := httptest.NewRequest("POST", "http://internal:8080/api/x", nil)
	r.RemoteAddr = "10.0.0.5:4444"
	r.Header.Set("X-Forwarded-For", "203.0.113.7, 198.51.100.9")
	r.Header.Set("X-Forwarded-Host", "geoportal.aktobe.kz")
	r.Header.Set("Origin", "https://geoportal.aktobe.kz")
	if ip := s.ClientIP(r); ip != "10.0.0.5" {
		t.Fatalf("untrusted proxy headers were believed: %s", ip)
	}
	if err := s.checkSameOrigin(r); err == nil {
		t.Fatal("forwarded host accepted without -trust-proxy")
	}
	c.TrustForwardedFor = true
	if ip := s.ClientIP(r); ip != "198.51.100.9" {
		t.Fatalf("clientIP = %s; want the address the proxy saw", ip)
	}
	if err := s.checkSameOrigin(r); err != nil {
		t.Fatalf("same origin behind the proxy refused: %v", err)
	}
	r.Header.Set("Origin", "null")
	if err := s.checkSameOrigin(r); err == nil {
		t.Fatal("Origin: null accepted")
	}
}
