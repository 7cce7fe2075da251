package web_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/web"
)

// errorCounter is a slog handler that counts records at Error level.
type errorCounter struct{ n atomic.Int64 }

func (c *errorCounter) Enabled(context.Context, slog.Level) bool { return true }
func (c *errorCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		c.n.Add(1)
	}
	return nil
}
func (c *errorCounter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *errorCounter) WithGroup(string) slog.Handler      { return c }

// TestBadBytesRefused: bytes that are not UTF-8, or a NUL, in a text value that would reach SQL
// are a 400 naming the parameter, in the error shape of the interface asked, and nothing is
// logged as an error (they were 500s with an ERROR line).
func TestBadBytesRefused(t *testing.T) {
	var errs errorCounter
	srv := web.NewServer(slog.New(&errs), dbtest.New(t))
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)

	cases := []struct {
		path  string
		shape string // ogc, open311-json, open311-xml, api
		names string // what the message must name
	}{
		{"/ogc/collections/bus_stops/items?name=%FF", "ogc", "parameter name"},
		{"/ogc/collections/bus_stops/items?name=%C3%28", "ogc", "parameter name"},
		{"/ogc/collections/bus_stops/items?filter=name%3D%27%FF%27", "ogc", "parameter filter"},
		{"/ogc/collections/bus_stops/items?filter=name%3D%27a%00b%27", "ogc", "parameter filter"},
		{"/api/search?q=%00", "api", "parameter q"},
		{"/api/search?q=%FF", "api", "parameter q"},
		{"/api/modules/outages/affected?address=%00", "api", "parameter address"},
		{"/api/reports/nearby?lat=50.28&lon=57.17&service_code=%FF", "api", "parameter service_code"},
		{"/open311/v2/requests.json?service_code=%FF", "open311-json", "parameter service_code"},
		{"/open311/v2/requests.xml?service_code=%00", "open311-xml", "parameter service_code"},
		{"/open311/v2/services/%FF.json", "open311-json", "the path"},
		{"/open311/v2/tokens/%FF.json", "open311-json", "the path"},
		{"/api/layers?%FF=1", "api", "parameter's name"},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := http.Get(ts.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 400 {
				t.Fatalf("status %d, want 400: %.300s", resp.StatusCode, body)
			}
			var msg string
			switch tc.shape {
			case "ogc":
				var e struct{ Code, Description string }
				if err := json.Unmarshal(body, &e); err != nil || e.Code != "InvalidParameterValue" {
					t.Fatalf("not an OGC exception: %s", body)
				}
				msg = e.Description
			case "open311-json":
				var e []struct {
					Code        int
					Description string
				}
				if err := json.Unmarshal(body, &e); err != nil || len(e) != 1 || e[0].Code != 400 {
					t.Fatalf("not Open311 errors: %s", body)
				}
				msg = e[0].Description
			case "open311-xml":
				var e struct {
					Errors []struct {
						Code        int    `xml:"code"`
						Description string `xml:"description"`
					} `xml:"error"`
				}
				if err := xml.Unmarshal(body, &e); err != nil || len(e.Errors) != 1 || e.Errors[0].Code != 400 {
					t.Fatalf("not Open311 XML errors: %s", body)
				}
				msg = e.Errors[0].Description
			default:
				var e struct {
					Error struct{ Code, Message string }
				}
				if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != "invalid" {
					t.Fatalf("not the API's error: %s", body)
				}
				msg = e.Error.Message
			}
			if !strings.Contains(msg, tc.names) {
				t.Errorf("message %q does not name %q", msg, tc.names)
			}
		})
	}
	if n := errs.n.Load(); n != 0 {
		t.Errorf("%d ERROR log lines for bad input", n)
	}
	// Good text still passes.
	if resp, err := http.Get(ts.URL + "/api/search?q=%D0%BF%D0%BE%D0%BB%D0%B8%D0%BA%D0%BB%D0%B8%D0%BD%D0%B8%D0%BA%D0%B0"); err != nil || resp.StatusCode != 200 {
		t.Errorf("a Cyrillic search: %v %v", resp.StatusCode, err)
	}
}

// TestLongBadValueNotEchoed: a 20 KB bad value is named, not repeated whole, in the answer.
func TestLongBadValueNotEchoed(t *testing.T) {
	ts := newTestServer(t)
	junk := strings.Repeat("x", 20000)
	for _, path := range []string{
		"/ogc/collections/bus_stops/items?filter=name%20%3D%20" + junk,
		"/ogc/collections/bus_stops/items?bbox=" + junk,
		"/ogc/collections/bus_stops/items?datetime=" + junk,
		"/ogc/collections/bus_stops/items?limit=" + junk,
		"/api/nearest?layer=" + junk + "&lat=50.28&lon=57.17",
		"/tiles/bus_stops/" + junk + "/1/1.mvt",
	} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("%.60s…: status %d", path, resp.StatusCode)
		}
		if len(body) > 2048 {
			t.Errorf("%.60s…: %d bytes of answer echo the value: %.200s", path, len(body), body)
		}
	}
}
