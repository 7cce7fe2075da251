package tiles_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/web"
)

func newFontServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := web.NewServer(slog.New(slog.DiscardHandler), dbtest.New(t))
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func fetchGlyphs(t *testing.T, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	// No transparent decompression: the test reads what the server sent.
	res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

func TestGlyphRange(t *testing.T) {
	ts := newFontServer(t)
	url := ts.URL + "/fonts/DejaVu%20Sans%20Book/1024-1279.pbf"
	res, body := fetchGlyphs(t, url, nil)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/x-protobuf" || len(body) < 10000 {
		t.Fatalf("GET %s: %d %q, %d bytes", url, res.StatusCode, res.Header.Get("Content-Type"), len(body))
	}
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=604800") {
		t.Errorf("Cache-Control %q, want a long lifetime", cc)
	}
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if !strings.Contains(string(body), "DejaVu Sans Book") || !strings.Contains(string(body), "1024-1279") {
		t.Error("the range does not name its fontstack and range")
	}

	res, gz := fetchGlyphs(t, url, map[string]string{"Accept-Encoding": "gzip"})
	if res.Header.Get("Content-Encoding") != "gzip" || len(gz) >= len(body) {
		t.Errorf("with gzip accepted: Content-Encoding %q, %d bytes of %d", res.Header.Get("Content-Encoding"), len(gz), len(body))
	}
	res, _ = fetchGlyphs(t, url, map[string]string{"If-None-Match": etag})
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match with the ETag: %d, want 304", res.StatusCode)
	}
	// A fontstack list is served by its first served font.
	res, _ = fetchGlyphs(t, ts.URL+"/fonts/Noto%20Sans%20Bold,DejaVu%20Sans%20Bold/0-255.pbf", nil)
	if res.StatusCode != http.StatusOK {
		t.Errorf("fontstack list: %d, want 200", res.StatusCode)
	}
}

func TestGlyphRangeErrors(t *testing.T) {
	ts := newFontServer(t)
	for _, tc := range []struct {
		name, path string
		status     int
		message    string
	}{
		{"range not a multiple of 256", "/fonts/DejaVu%20Sans%20Book/100-355.pbf", http.StatusBadRequest, "multiple of 256"},
		{"range of the wrong size", "/fonts/DejaVu%20Sans%20Book/0-511.pbf", http.StatusBadRequest, "END must be START+255"},
		{"range not numbers", "/fonts/DejaVu%20Sans%20Book/latin.pbf", http.StatusBadRequest, "want START-END"},
		{"range past the BMP", "/fonts/DejaVu%20Sans%20Book/65536-65791.pbf", http.StatusBadRequest, "from 0 to 65280"},
		{"unknown fontstack", "/fonts/Comic%20Sans/0-255.pbf", http.StatusNotFound, `unknown fontstack "Comic Sans"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := fetchGlyphs(t, ts.URL+tc.path, nil)
			var e struct {
				Error struct{ Message string } `json:"error"`
			}
			json.Unmarshal(body, &e)
			if res.StatusCode != tc.status || !strings.Contains(e.Error.Message, tc.message) {
				t.Errorf("GET %s: %d %s, want %d saying %q", tc.path, res.StatusCode, body, tc.status, tc.message)
			}
		})
	}
}
