// Package webtest starts the web server over a fresh, migrated test database (data/dbtest) for
// the tests of the face packages, so that each test stays short.
package webtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web"
)

// NewServer returns a server over a fresh, migrated database that logs to logger (nil: nowhere).
func NewServer(t *testing.T, logger *slog.Logger) *web.Server {
	t.Helper()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	srv := web.NewServer(logger, dbtest.New(t))
	t.Cleanup(srv.Transit.Close)
	return srv
}

// Reports is a served test city with a boundary (reports are filed inside it) and an API key
// with the open311 scope.
type Reports struct {
	TS  *httptest.Server
	Srv *web.Server
	Key string
}

// NewReports serves a fresh database with the city boundary, easy proofs of work and links in
// messages to the server's own address (as `geoportal serve` sets it).
func NewReports(t *testing.T) Reports {
	t.Helper()
	ctx := context.Background()
	pool := dbtest.New(t)
	if _, err := pool.Exec(ctx, `INSERT INTO layer.city_boundary (geom, name)
		VALUES (ST_Multi(ST_MakeEnvelope(57.0, 50.2, 57.3, 50.4, 4326)), 'Ақтөбе')`); err != nil {
		t.Fatal(err)
	}
	srv := web.NewServer(slog.New(slog.DiscardHandler), pool)
	srv.Reports.Difficulty = 6
	ts := httptest.NewUnstartedServer(srv.Handler())
	srv.Security.ListenURL = "http://" + ts.Listener.Addr().String()
	ts.Start()
	t.Cleanup(ts.Close)
	u, err := srv.Accounts.CreateUser(ctx, accounts.NewUser{Email: "app@example.kz", Name: "City app",
		Role: accounts.Citizen, Password: "a long enough password 1"})
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := srv.Accounts.CreateKey(ctx, u.ID, "open311 client", []accounts.Scope{accounts.ScopeOpen311}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return Reports{TS: ts, Srv: srv, Key: key}
}

// Fetch sends one request and returns the status, the headers and the body.
func Fetch(t *testing.T, method, url, contentType string, body io.Reader) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// NewTransit serves a fresh database for the live vehicle tests.
func NewTransit(t *testing.T) (*web.Server, *httptest.Server) {
	t.Helper()
	srv := NewServer(t, nil)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return srv, ts
}

// PostPositions posts a tracker's batch of fixes with its device key ("" for none) and returns
// the status and the decoded answer.
func PostPositions(t *testing.T, url, key, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/api/vehicles/positions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("X-Device-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

// GetJSON gets url and decodes its JSON object; it fails the test when the answer is not JSON.
func GetJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("GET %s: not JSON (%v): %s", url, err, body)
	}
	return resp.StatusCode, v
}

// MultipartBody is a multipart/form-data body of fields and files (each in field "file"), and
// its Content-Type.
func MultipartBody(t *testing.T, fields map[string]string, files map[string][]byte) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for name, b := range files {
		w, err := mw.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	mw.Close()
	return mw.FormDataContentType(), &buf
}
