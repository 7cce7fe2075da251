package web_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/web"
	"github.com/aktobe/geoportal/web/webtest"
	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
	"github.com/paulmach/orb/encoding/mvt"
)

// rawGet sends a GET with Accept-Encoding set by hand (the transport's own gzip handling off) and
// returns the answer with its body as sent.
func rawGet(t *testing.T, u, acceptEncoding string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func decodeBody(t *testing.T, encoding string, b []byte) []byte {
	t.Helper()
	switch encoding {
	case "":
		return b
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("not gzip: %v", err)
		}
		out, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		return out
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		out, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("zstd: %v", err)
		}
		return out
	}
	t.Fatalf("unexpected Content-Encoding %q", encoding)
	return nil
}

// TestTextAnswersCompressed: JSON, GeoJSON, CSV and HTML answers travel compressed when the client
// accepts it (zstd when offered, else gzip), as they are when it does not, and say so in Vary;
// tiles, compressed by their own handler, are not compressed twice.
func TestTextAnswersCompressed(t *testing.T) {
	pool := dbtest.New(t)
	if _, err := pool.Exec(context.Background(), `INSERT INTO layer.clinics (geom, name, address)
		SELECT ST_SetSRID(ST_MakePoint(57.15 + i * 1e-3, 50.28), 4326), 'Емхана №' || i, 'Абай даңғылы, ' || i
		FROM generate_series(1, 200) AS i`); err != nil {
		t.Fatal(err)
	}
	srv := web.NewServer(slog.New(slog.DiscardHandler), pool)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)

	for _, path := range []string{
		"/api/layers", // JSON
		"/ogc/collections/clinics/items?limit=200", // GeoJSON
		"/api/layers/clinics/export.csv",           // CSV
		"/ogc/collections?f=html",                  // HTML
		"/ogc/api",                                 // OpenAPI
	} {
		t.Run(path, func(t *testing.T) {
			plainResp, plain := rawGet(t, ts.URL+path, "")
			if plainResp.StatusCode != 200 || plainResp.Header.Get("Content-Encoding") != "" {
				t.Fatalf("without Accept-Encoding: %d, Content-Encoding %q", plainResp.StatusCode, plainResp.Header.Get("Content-Encoding"))
			}
			if len(plain) < 1024 {
				t.Fatalf("answer of %d bytes: too small to show compression", len(plain))
			}
			for _, tc := range []struct{ accept, want string }{
				{"gzip", "gzip"},
				{"gzip, deflate, br, zstd", "zstd"},
				{"identity", ""},
			} {
				resp, b := rawGet(t, ts.URL+path, tc.accept)
				if got := resp.Header.Get("Content-Encoding"); got != tc.want {
					t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", tc.accept, got, tc.want)
					continue
				}
				if !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Accept-Encoding") {
					t.Errorf("Accept-Encoding %q: Vary %q", tc.accept, resp.Header.Values("Vary"))
				}
				if tc.want != "" && len(b) >= len(plain) {
					t.Errorf("Accept-Encoding %q: %d bytes compressed, %d plain", tc.accept, len(b), len(plain))
				}
				got := decodeBody(t, tc.want, b)
				if path == "/ogc/collections/clinics/items?limit=200" {
					// The page's timeStamp differs between two requests; the features do not.
					got, plain = withoutTimeStamp(got), withoutTimeStamp(plain)
				}
				if !bytes.Equal(got, plain) {
					t.Errorf("Accept-Encoding %q: decoded body differs from the plain one", tc.accept)
				}
			}
		})
	}

	t.Run("tile compressed once", func(t *testing.T) {
		resp, b := rawGet(t, ts.URL+"/tiles/clinics/10/674/346.mvt", "gzip, deflate, br, zstd")
		if resp.StatusCode != 200 {
			t.Fatalf("tile: %d", resp.StatusCode)
		}
		enc := resp.Header.Get("Content-Encoding")
		if enc == "" || strings.Contains(enc, ",") {
			t.Fatalf("tile Content-Encoding %q, want one encoding", enc)
		}
		raw := b
		switch enc {
		case "gzip":
			raw = decodeBody(t, "gzip", b)
		case "br":
			var err error
			if raw, err = io.ReadAll(brotli.NewReader(bytes.NewReader(b))); err != nil {
				t.Fatalf("brotli: %v", err)
			}
		default:
			t.Fatalf("tile Content-Encoding %q", enc)
		}
		ls, err := mvt.Unmarshal(raw)
		if err != nil || len(ls) == 0 || len(ls[0].Features) == 0 {
			t.Fatalf("tile after one decoding: %v, %d layers", err, len(ls))
		}
	})
}

// withoutTimeStamp drops the "timeStamp" member of an OGC items page.
func withoutTimeStamp(b []byte) []byte {
	i := bytes.Index(b, []byte(`"timeStamp":"`))
	if i < 0 {
		return b
	}
	j := bytes.IndexByte(b[i+len(`"timeStamp":"`):], '"')
	return append(append([]byte{}, b[:i]...), b[i+len(`"timeStamp":"`)+j+1:]...)
}

// TestLiveStreamCompressedEventByEvent: the live vehicle stream is compressed too, and each event
// reaches the client when it is sent, not when the stream ends.
func TestLiveStreamCompressedEventByEvent(t *testing.T) {
	_, ts := webtest.NewTransit(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/api/vehicles/live", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: Content-Encoding %q, Content-Type %q", resp.Header.Get("Content-Encoding"), resp.Header.Get("Content-Type"))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	// The snapshot arrives while the stream stays open (the context ends it only at the deadline).
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "data: ") {
			if l != "data: []" {
				t.Errorf("snapshot %q", l)
			}
			return
		}
	}
	t.Fatalf("no snapshot event before the stream ended: %v", sc.Err())
}
