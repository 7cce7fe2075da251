package api_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/web"
	"github.com/aktobe/geoportal/web/webtest"
)

// walkFixture: a main street along 50.2800 from 57.150 to 57.190 (two pieces meeting at 57.185),
// a street north from there to 50.2840 and one back west along 50.2840 to 57.165. Clinic
// "Across" lies on the northern street at 57.170, 434 m north of the start in a straight line
// but about 2.6 km away on foot (east, north, west again); clinic "Along" lies 570 m east on the
// main street; clinic "Steppe" is kilometres from any street. The start is 57.170, 50.2801.
func walkFixture(t *testing.T) *httptest.Server {
	t.Helper()
	pool := dbtest.New(t)
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO layer.buildings (geom, residents) VALUES
			(ST_Expand(ST_SetSRID(ST_MakePoint(57.160, 50.2802), 4326), 0.00005), 40)`,
		`INSERT INTO layer.streets (geom, name) VALUES
			(ST_SetSRID(ST_MakeLine(ST_MakePoint(57.150, 50.2800), ST_MakePoint(57.185, 50.2800)), 4326), 'Main street'),
			(ST_SetSRID(ST_MakeLine(ST_MakePoint(57.185, 50.2800), ST_MakePoint(57.190, 50.2800)), 4326), 'Main street'),
			(ST_SetSRID(ST_MakeLine(ST_MakePoint(57.185, 50.2800), ST_MakePoint(57.185, 50.2840)), 4326), 'North street'),
			(ST_SetSRID(ST_MakeLine(ST_MakePoint(57.185, 50.2840), ST_MakePoint(57.165, 50.2840)), 4326), 'Back street')`,
		`INSERT INTO layer.clinics (geom, name) VALUES
			(ST_SetSRID(ST_MakePoint(57.170, 50.2840), 4326), 'Across'),
			(ST_SetSRID(ST_MakePoint(57.178, 50.2801), 4326), 'Along'),
			(ST_SetSRID(ST_MakePoint(57.300, 50.3500), 4326), 'Steppe')`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	ts := httptest.NewServer(web.NewServer(slog.New(slog.DiscardHandler), pool).Handler())
	t.Cleanup(ts.Close)
	return ts
}

// nearestNames reads an /api/nearest answer: the names in order, their straight-line and
// walking distances (walk -1 when absent).
func nearestNames(t *testing.T, body map[string]any) (names []string, line, walk []float64) {
	t.Helper()
	for _, r := range body["results"].([]any) {
		h := r.(map[string]any)
		names = append(names, h["name"].(string))
		line = append(line, h["distance_m"].(float64))
		if w, ok := h["walk_m"].(float64); ok {
			walk = append(walk, w)
		} else {
			walk = append(walk, -1)
		}
	}
	return names, line, walk
}

// /api/nearest?by=walk orders by walking distance along the streets, never shorter than the
// straight line; what cannot be reached on foot comes last without walk_m; from far off the
// streets the answer is the straight line, saying why; bad input is a 400.
func TestNearestByWalk(t *testing.T) {
	ts := walkFixture(t)
	from := "/api/nearest?layer=clinics&lon=57.170&lat=50.2801&limit=3&lang=en"

	code, line := webtest.GetJSON(t, ts.URL+from)
	if code != 200 || line["by"] != "line" {
		t.Fatalf("by line: %d %v", code, line)
	}
	if names, _, _ := nearestNames(t, line); strings.Join(names, ",") != "Across,Along,Steppe" {
		t.Errorf("straight-line order %v, want Across, Along, Steppe", names)
	}

	code, walk := webtest.GetJSON(t, ts.URL+from+"&by=walk")
	if code != 200 || walk["by"] != "walk" {
		t.Fatalf("by walk: %d %v", code, walk)
	}
	names, straight, walked := nearestNames(t, walk)
	if strings.Join(names, ",") != "Along,Across,Steppe" {
		t.Fatalf("walking order %v, want Along, Across, Steppe", names)
	}
	for i, n := range names[:2] {
		if walked[i] < straight[i] {
			t.Errorf("%s: walk %.1f m shorter than the straight line %.1f m", n, walked[i], straight[i])
		}
	}
	// Along: 11 m to the street, 570 m along it, 11 m off it. Across: 1,068 m east, 445 m north
	// and 1,068 m back west.
	if walked[0] < 580 || walked[0] > 610 {
		t.Errorf("Along: walk %.1f m, want about 592", walked[0])
	}
	if walked[1] < 2500 || walked[1] > 2700 || straight[1] > 450 {
		t.Errorf("Across: walk %.1f m (straight %.1f m), want about 2,590 (434)", walked[1], straight[1])
	}
	if walked[2] != -1 {
		t.Errorf("Steppe is off the streets, yet walk_m %.1f", walked[2])
	}
	if walk["complete"] != true {
		t.Errorf("three candidates of three: complete %v", walk["complete"])
	}

	// The nearest on foot alone.
	code, two := webtest.GetJSON(t, ts.URL+strings.Replace(from, "limit=3", "limit=1", 1)+"&by=walk")
	if names, _, _ := nearestNames(t, two); code != 200 || strings.Join(names, ",") != "Along" {
		t.Errorf("limit 1 on foot: %d %v", code, names)
	}

	// Kilometres from any street: the straight line, saying there is no walk from there.
	code, far := webtest.GetJSON(t, ts.URL+"/api/nearest?layer=clinics&lon=57.170&lat=50.3500&limit=2&by=walk")
	if names, _, walked := nearestNames(t, far); code != 200 || far["by"] != "line" || !strings.Contains(fmt.Sprint(far["walk_unavailable"]), "from any street") ||
		strings.Join(names, ",") != "Across,Along" || walked[0] != -1 {
		t.Errorf("far from the streets: %d %v", code, far)
	}

	for _, c := range []struct{ path, want string }{
		{from + "&by=car", "by"},
		{from + "&by=", ""}, // empty is the default: line
		{strings.Replace(from, "limit=3", "limit=0", 1) + "&by=walk", "limit"},
	} {
		code, body := webtest.GetJSON(t, ts.URL+c.path)
		if c.want == "" {
			if code != 200 {
				t.Errorf("%s: %d %v", c.path, code, body)
			}
			continue
		}
		e, _ := body["error"].(map[string]any)
		msg, _ := e["message"].(string)
		if code != 400 || !strings.Contains(msg, c.want) {
			t.Errorf("%s: %d %q, want 400 naming %s", c.path, code, msg, c.want)
		}
	}
}
