package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers/reports"
	"github.com/jackc/pgx/v5/pgxpool"
)

// fileReport files a report with an e-mail through the running server, with "Host: evil.example",
// and returns the body of the message queued for it.
func fileReport(t *testing.T, base, dbURL string) string {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `INSERT INTO layer.city_boundary (geom, name)
		VALUES (ST_Multi(ST_MakeEnvelope(57.0, 50.2, 57.3, 50.4, 4326)), 'Ақтөбе')`); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(base + "/api/reports/challenge")
	if err != nil {
		t.Fatal(err)
	}
	var ch reports.Challenge
	json.NewDecoder(resp.Body).Decode(&ch)
	resp.Body.Close()
	body, _ := json.Marshal(map[string]any{"service_code": "pothole", "lon": 57.17, "lat": 50.28, "description": "Яма",
		"email": "aigul@example.kz", "pow_challenge": ch.Challenge, "pow_nonce": reports.Solve(ch.Challenge, ch.Difficulty)})
	req, _ := http.NewRequest("POST", base+"/api/reports/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Host = "evil.example"
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("report: %d %s", resp.StatusCode, b)
	}
	var msg string
	if err := pool.QueryRow(ctx, `SELECT body FROM reports.outbox`).Scan(&msg); err != nil {
		t.Fatal(err)
	}
	return msg
}

// GEOPORTAL_PUBLIC_URL is where confirmation links point, whatever Host a request names.
func TestServePublicURL(t *testing.T) {
	dbURL := dbtest.NewURL(t)
	base, stop := startServe(t, map[string]string{"DATABASE_URL": dbURL, "GEOPORTAL_PUBLIC_URL": "https://geo.aktobe.example/"})
	msg := fileReport(t, base, dbURL)
	if strings.Contains(msg, "evil.example") || !strings.Contains(msg, "https://geo.aktobe.example/#confirm/c") {
		t.Errorf("message %q", msg)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// Without a public URL, links point at the listen address.
func TestServeWithoutPublicURL(t *testing.T) {
	dbURL := dbtest.NewURL(t)
	base, stop := startServe(t, map[string]string{"DATABASE_URL": dbURL})
	msg := fileReport(t, base, dbURL)
	if strings.Contains(msg, "evil.example") || !strings.Contains(msg, base+"/#confirm/c") {
		t.Errorf("message %q, want links to %s", msg, base)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestServeRefusesBadPublicURL(t *testing.T) {
	for _, v := range []string{"geo.aktobe.kz", "https://geo.aktobe.kz/portal", "javascript:alert(1)"} {
		err := run(context.Background(), []string{"serve", "-public-url", v}, func(string) string { return "" }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "-public-url") {
			t.Errorf("-public-url %q: %v", v, err)
		}
	}
}
