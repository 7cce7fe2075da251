package main

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
)

func TestUserCommands(t *testing.T) {
	env := map[string]string{"DATABASE_URL": dbtest.NewURL(t)}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()
	user := func(stdin string, args ...string) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := runUser(ctx, args, getenv, strings.NewReader(stdin), &out, &errOut)
		return out.String(), err
	}

	out, err := user("first admin password\n", "add", "--email", "Admin@Akimat.kz", "--name", "Әкімші", "--role", "admin", "--password-stdin")
	if err != nil || !strings.Contains(out, "admin@akimat.kz (admin)") || strings.Contains(out, "password:") {
		t.Fatalf("add admin: %q %v", out, err)
	}
	out, err = user("", "add", "--email", "roads@akimat.kz", "--role", "department_staff", "--department", "roads")
	pw := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)
	if err != nil || pw == nil || len(pw[1]) < 20 {
		t.Fatalf("add with a generated password: %q %v", out, err)
	}
	for _, bad := range [][]string{
		{"add", "--email", "x@akimat.kz", "--role", "root"},
		{"add", "--role", "citizen"},
		{"add", "--email", "x@akimat.kz", "--role", "department_staff"},
		{"role", "--email", "nobody@akimat.kz", "--role", "planner"},
		{"frobnicate"},
		{"key", "add", "--email", "admin@akimat.kz", "--scope", "everything"},
	} {
		if _, err := user("", bad...); err == nil {
			t.Errorf("user %v: no error", bad)
		}
	}
	if _, err := user("", "add", "--email", "x@akimat.kz", "--role", "citizen", "--password-stdin"); err == nil ||
		!strings.Contains(err.Error(), "no password") {
		t.Errorf("empty stdin: %v", err)
	}
	if out, err = user("", "role", "--email", "roads@akimat.kz", "--role", "planner"); err != nil || !strings.Contains(out, "now planner") {
		t.Fatalf("role: %q %v", out, err)
	}
	if out, err = user("", "passwd", "--email", "roads@akimat.kz"); err != nil || !strings.Contains(out, "password: ") {
		t.Fatalf("passwd: %q %v", out, err)
	}
	out, err = user("", "list")
	if err != nil || !strings.Contains(out, "admin@akimat.kz") || !strings.Contains(out, "Әкімші") || !strings.Contains(out, "planner") {
		t.Fatalf("list: %q %v", out, err)
	}
	key, err := user("", "key", "add", "--email", "admin@akimat.kz", "--scope", "read,admin", "--name", "backup script")
	key = strings.TrimSpace(key)
	if err != nil || !regexp.MustCompile(`^gpk_[A-Za-z0-9_-]{43}$`).MatchString(key) {
		t.Fatalf("key add: %q %v", key, err)
	}
	if out, err = user("", "tracker", "set", "--login", "862462030000001", "--note", "bus 12"); err != nil || !strings.Contains(out, "password: ") {
		t.Fatalf("tracker set: %q %v", out, err)
	}
	if out, err = user("NA\n", "tracker", "set", "--login", "862462030000002", "--password-stdin"); err == nil || !strings.Contains(err.Error(), "NA") {
		t.Fatalf("tracker set NA: %q %v, want refused", out, err)
	}
	if out, err = user("", "tracker", "open", "--login", "862462030000003", "--note", "old tracker"); err != nil {
		t.Fatalf("tracker open: %q %v", out, err)
	}
	if out, err = user("", "tracker", "list"); err != nil || !strings.Contains(out, "862462030000001  password") ||
		!strings.Contains(out, "862462030000003  ANY PASSWORD (open)") || strings.Contains(out, "862462030000002") {
		t.Fatalf("tracker list: %q %v", out, err)
	}

	// The key works against the served API until it is revoked.
	base, stop := startServe(t, env)
	defer stop()
	status := func() int {
		req, _ := http.NewRequest("GET", base+"/api/admin/users", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := status(); s != http.StatusOK {
		t.Fatalf("admin API with the key: %d", s)
	}
	out, _ = user("", "key", "list")
	id := regexp.MustCompile(`(?m)^(\d+)\s+gpk_`).FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("key list: %q", out)
	}
	if _, err := user("", "key", "revoke", "--id", id[1]); err != nil {
		t.Fatal(err)
	}
	if s := status(); s != http.StatusUnauthorized {
		t.Fatalf("revoked key: %d", s)
	}
	if out, err = user("", "revoke-sessions", "--email", "admin@akimat.kz"); err != nil || !strings.Contains(out, "ended 0 session(s)") {
		t.Fatalf("revoke-sessions: %q %v", out, err)
	}
}
