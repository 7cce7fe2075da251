package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/web"
	"github.com/jackc/pgx/v5/pgxpool"
)

// analysisFixture: two districts split at 57.17 E; three houses; two bus stops; one street;
// one installed camera; two clinics with capacities. Offsets of 0.001° are about 71 m east-west
// and 111 m north-south here.
func analysisFixture(t *testing.T) (*pgxpool.Pool, *httptest.Server) {
	t.Helper()
	pool := dbtest.New(t)
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO layer.districts (geom, name) VALUES
			(ST_Multi(ST_MakeEnvelope(57.15, 50.27, 57.17, 50.29, 4326)), 'Батыс'),
			(ST_Multi(ST_MakeEnvelope(57.17, 50.27, 57.19, 50.29, 4326)), 'Шығыс')`,
		// house A at 57.160, house B at 57.175, house C at 57.185 (all on 50.280)
		`INSERT INTO layer.buildings (geom, residents) VALUES
			(ST_Expand(ST_SetSRID(ST_MakePoint(57.160, 50.280), 4326), 0.00005), 120),
			(ST_Expand(ST_SetSRID(ST_MakePoint(57.175, 50.280), 4326), 0.00005), 80),
			(ST_Expand(ST_SetSRID(ST_MakePoint(57.185, 50.280), 4326), 0.00005), 50)`,
		// stop 1 about 71 m east of A; stop 2 about 355 m west of C, 355 m east of B
		`INSERT INTO layer.bus_stops (geom, name) VALUES
			(ST_SetSRID(ST_MakePoint(57.161, 50.280), 4326), 'Stop 1'),
			(ST_SetSRID(ST_MakePoint(57.180, 50.280), 4326), 'Stop 2')`,
		`INSERT INTO layer.streets (geom, name) VALUES
			(ST_SetSRID(ST_MakeLine(ST_MakePoint(57.155, 50.2799), ST_MakePoint(57.170, 50.2799)), 4326), 'West street'),
			(ST_SetSRID(ST_MakeLine(ST_MakePoint(57.170, 50.2799), ST_MakePoint(57.190, 50.2799)), 4326), 'East street'),
			(ST_SetSRID(ST_MakeLine(ST_MakePoint(57.170, 50.2799), ST_MakePoint(57.170, 50.2850)), 4326), 'North street')`,
		`INSERT INTO layer.cameras (geom, name, status, heading, fov, range_m) VALUES
			(ST_SetSRID(ST_MakePoint(57.170, 50.2799), 4326), 'Cam', 'installed', 90, 60, 80)`,
		`INSERT INTO layer.clinics (geom, name, capacity) VALUES
			(ST_SetSRID(ST_MakePoint(57.160, 50.281), 4326), 'Clinic 1', 24),
			(ST_SetSRID(ST_MakePoint(57.185, 50.281), 4326), 'Clinic 2', 10)`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	srv := web.NewServer(slog.New(slog.DiscardHandler), pool)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return pool, ts
}

func doJSON(t *testing.T, method, u string, body any, header http.Header) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
	}
	req, _ := http.NewRequest(method, u, rd)
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s %s: not JSON (%v): %s", method, u, err, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: content type %q", method, u, ct)
	}
	return resp.StatusCode, v
}

func TestCoverageAPI(t *testing.T) {
	_, ts := analysisFixture(t)
	code, v := doJSON(t, "GET", ts.URL+"/api/analysis/coverage?layer=bus_stops&distance=300", nil, nil)
	if code != 200 {
		t.Fatalf("status %d: %v", code, v)
	}
	// A (71 m from stop 1) is covered; B and C are about 355 m from stop 2.
	if v["residents_total"] != 250.0 || v["residents_covered"] != 120.0 || v["covered_share"] != 0.48 {
		t.Errorf("totals %v %v %v", v["residents_total"], v["residents_covered"], v["covered_share"])
	}
	ds := v["districts"].([]any)
	if len(ds) != 2 || ds[0].(map[string]any)["name"] != "Батыс" || ds[0].(map[string]any)["covered_share"] != 1.0 ||
		ds[1].(map[string]any)["residents_covered"] != 0.0 {
		t.Errorf("districts %v", ds)
	}
	hexes := v["unserved_hexes"].(map[string]any)
	feats := hexes["features"].([]any)
	if hexes["type"] != "FeatureCollection" || len(feats) != 2 {
		t.Fatalf("unserved hexes %v", hexes)
	}
	f := feats[0].(map[string]any)
	if f["geometry"].(map[string]any)["type"] != "Polygon" || f["properties"].(map[string]any)["residents"] != 80.0 {
		t.Errorf("first hex %v", f)
	}
	// At 400 m everyone is served; on foot along the streets too (the houses are 11 m off them).
	for _, method := range []string{"line", "network"} {
		code, v = doJSON(t, "GET", ts.URL+"/api/analysis/coverage?layer=bus_stops&distance=400&res=10&curve=true&method="+method, nil, nil)
		if code != 200 || v["covered_share"] != 1.0 || len(v["curve"].([]any)) != 10 {
			t.Errorf("%s: %d %v %v", method, code, v["covered_share"], v["error"])
		}
	}
}

func TestSitingAPI(t *testing.T) {
	_, ts := analysisFixture(t)
	code, v := doJSON(t, "POST", ts.URL+"/api/analysis/siting",
		map[string]any{"layer": "bus_stops", "candidates": "layer:clinics", "n": 1, "distance": 300}, nil)
	if code != 200 {
		t.Fatalf("status %d: %v", code, v)
	}
	// Clinic 2's site is 71 m from C (50 residents) and 711 m from B; Clinic 1's covers only A,
	// which stop 1 serves already: so the best single site adds 50 and nothing could add more.
	sites := v["sites"].([]any)
	if len(sites) != 1 || sites[0].(map[string]any)["name"] != "Clinic 2" || sites[0].(map[string]any)["gain"] != 50.0 {
		t.Errorf("sites %v", sites)
	}
	b := v["bound"].(map[string]any)
	if b["guarantee"].(float64) < 0.632 || b["optimum_added_at_most"] != 50.0 || b["certified"] != 1.0 {
		t.Errorf("bound %v", b)
	}
	if v["covered_before"] != 120.0 || v["covered_after"] != 170.0 || v["sites_geojson"].(map[string]any)["type"] != "FeatureCollection" {
		t.Errorf("siting %v", v)
	}
}

func TestCamerasAndAccessAPI(t *testing.T) {
	_, ts := analysisFixture(t)
	code, v := doJSON(t, "GET", ts.URL+"/api/analysis/cameras?crossings=intersections", nil, nil)
	if code != 200 {
		t.Fatalf("cameras %d: %v", code, v)
	}
	// The camera looks east along East street: 80 m of it.
	if v["cameras"] != 1.0 || v["seen_length_m"].(float64) < 79.5 || v["seen_length_m"].(float64) > 80.5 ||
		v["crossings_total"] != 1.0 || v["crossings_seen"] != 1.0 {
		t.Errorf("cameras %v %v %v %v", v["cameras"], v["seen_length_m"], v["crossings_total"], v["crossings_seen"])
	}
	if len(v["unseen_streets"].(map[string]any)["features"].([]any)) != 3 {
		t.Errorf("unseen streets %v", v["unseen_streets"])
	}
	code, v = doJSON(t, "GET", ts.URL+"/api/analysis/access?layer=clinics&distance=500", nil, nil)
	if code != 200 {
		t.Fatalf("access %d: %v", code, v)
	}
	// Clinic 1 reaches A only (24 per 120 residents), Clinic 2 reaches C only (10 per 50).
	fs := v["facilities"].([]any)
	if len(fs) != 2 || fs[0].(map[string]any)["capacity_per_1000"] != 200.0 || fs[1].(map[string]any)["capacity_per_1000"] != 200.0 {
		t.Errorf("facilities %v", fs)
	}
	if v["residents_without_access"] != 80.0 {
		t.Errorf("without access %v", v["residents_without_access"])
	}
	code, v = doJSON(t, "GET", ts.URL+"/api/analysis/population?res=10", nil, nil)
	if code != 200 || v["residents_total"] != 250.0 || len(v["hexes"].(map[string]any)["features"].([]any)) != 3 {
		t.Errorf("population %d %v", code, v)
	}
}

func TestAnalysisAPIBadInput(t *testing.T) {
	_, ts := analysisFixture(t)
	for _, tc := range []struct {
		name, method, path string
		body               any
		want               string
	}{
		{"unknown layer", "GET", "/api/analysis/coverage?layer=nope&distance=100", nil, `unknown layer \"nope\"`},
		{"no distance", "GET", "/api/analysis/coverage?layer=bus_stops", nil, "distance (metres) is required"},
		{"negative distance", "GET", "/api/analysis/coverage?layer=bus_stops&distance=-1", nil, "positive"},
		{"huge distance", "GET", "/api/analysis/coverage?layer=bus_stops&distance=1e9", nil, "too large"},
		{"distance not a number", "GET", "/api/analysis/coverage?layer=bus_stops&distance=far", nil, "must be a number"},
		{"bad res", "GET", "/api/analysis/coverage?layer=bus_stops&distance=100&res=15", nil, "res must be"},
		{"bad method", "GET", "/api/analysis/coverage?layer=bus_stops&distance=100&method=fly", nil, "method must be"},
		{"empty layer", "GET", "/api/analysis/coverage?layer=schools&distance=100", nil, `has no features`},
		{"unknown filter attribute", "GET", "/api/analysis/coverage?layer=bus_stops&distance=100&filter=x:1", nil, `no attribute \"x\"`},
		{"unknown capacity", "GET", "/api/analysis/access?layer=clinics&distance=100&capacity=beds", nil, `no attribute \"beds\"`},
		{"bad occlusion", "GET", "/api/analysis/cameras?occlusion=maybe", nil, "true or false"},
		{"n beyond candidates", "POST", "/api/analysis/siting", map[string]any{"layer": "bus_stops", "candidates": "layer:clinics", "n": 3, "distance": 300}, "more than the 2 candidates"},
		{"unknown field", "POST", "/api/analysis/siting", map[string]any{"layer": "bus_stops", "sites": 3}, "unknown field"},
		{"not JSON", "POST", "/api/analysis/siting", "{", "request body"},
		{"empty body", "POST", "/api/analysis/siting", "", "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, v := doJSON(t, tc.method, ts.URL+tc.path, tc.body, nil)
			msg, _ := json.Marshal(v["error"])
			if code != 400 || !strings.Contains(string(msg), tc.want) {
				t.Errorf("status %d, error %s; want 400 with %s", code, msg, tc.want)
			}
		})
	}
}

func TestScenariosNeedPlanner(t *testing.T) {
	pool, ts := analysisFixture(t)
	ctx := context.Background()
	acc := accounts.NewStore(pool)
	session := func(role accounts.Role) http.Header {
		u, err := acc.CreateUser(ctx, accounts.NewUser{Email: string(role) + "@example.kz", Name: string(role), Role: role,
			Password: "correct horse battery staple"})
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := acc.CreateSession(ctx, u.ID, "127.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		return http.Header{"Cookie": {"geoportal_session=" + url.QueryEscape(tok)}, "X-Csrf-Token": {accounts.CSRFToken(tok)}}
	}
	body := map[string]any{"name": "Stops at 300 m", "kind": "coverage", "params": map[string]any{"layer": "bus_stops", "distance": 300}}
	if code, v := doJSON(t, "POST", ts.URL+"/api/analysis/scenarios", body, nil); code != 401 {
		t.Errorf("anonymous save: %d %v", code, v)
	}
	if code, v := doJSON(t, "POST", ts.URL+"/api/analysis/scenarios", body, session(accounts.Citizen)); code != 403 {
		t.Errorf("citizen save: %d %v", code, v)
	}
	planner := session(accounts.Planner)
	code, a := doJSON(t, "POST", ts.URL+"/api/analysis/scenarios", body, planner)
	if code != 201 || a["summary"].(map[string]any)["covered_share"] != 0.48 || a["created_by"] == "" {
		t.Fatalf("planner save: %d %v", code, a)
	}
	body["params"] = map[string]any{"layer": "bus_stops", "distance": 400}
	code, b := doJSON(t, "POST", ts.URL+"/api/analysis/scenarios", body, planner)
	if code != 201 {
		t.Fatalf("second save: %d %v", code, b)
	}
	code, list := doJSON(t, "GET", ts.URL+"/api/analysis/scenarios", nil, planner)
	if code != 200 || len(list["scenarios"].([]any)) != 2 {
		t.Errorf("list %d %v", code, list)
	}
	code, one := doJSON(t, "GET", fmt.Sprintf("%s/api/analysis/scenarios/%v", ts.URL, a["id"]), nil, planner)
	if code != 200 || one["result"].(map[string]any)["residents_covered"] != 120.0 {
		t.Errorf("one %d %v", code, one)
	}
	code, cmp := doJSON(t, "GET", fmt.Sprintf("%s/api/analysis/compare?a=%v&b=%v", ts.URL, a["id"], b["id"]), nil, planner)
	if code != 200 || cmp["difference"].(map[string]any)["residents_covered"] != 130.0 {
		t.Errorf("compare %d %v", code, cmp)
	}
	if code, _ := doJSON(t, "GET", ts.URL+"/api/analysis/scenarios/999", nil, planner); code != 404 {
		t.Errorf("missing scenario: %d", code)
	}
	if code, _ := doJSON(t, "GET", ts.URL+"/api/analysis/scenarios", nil, nil); code != 401 {
		t.Errorf("anonymous list: %d", code)
	}
	// A staff-only layer is unknown to the public and open to planners.
	ls := layers.NewStore(pool)
	if err := ls.CreateLayer(ctx, nil, layers.Layer{Slug: "planned_stops", GeometryType: "Point", Visibility: "staff",
		Title: layers.Titles{EN: "Planned stops", RU: "Планируемые остановки", KK: "Жоспарланған аялдамалар"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO layer.planned_stops (geom) VALUES (ST_SetSRID(ST_MakePoint(57.175, 50.2805), 4326))`); err != nil {
		t.Fatal(err)
	}
	staffURL := ts.URL + "/api/analysis/coverage?layer=planned_stops&distance=100"
	if code, v := doJSON(t, "GET", staffURL, nil, nil); code != 400 {
		t.Errorf("anonymous on a staff layer: %d %v", code, v)
	}
	if code, v := doJSON(t, "GET", staffURL, nil, planner); code != 200 || v["residents_covered"] != 80.0 {
		t.Errorf("planner on a staff layer: %d %v", code, v["residents_covered"])
	}
	// Without the CSRF token a cookie-authenticated save is refused.
	noCSRF := http.Header{"Cookie": planner["Cookie"]}
	if code, _ := doJSON(t, "POST", ts.URL+"/api/analysis/scenarios", body, noCSRF); code != 403 {
		t.Errorf("save without CSRF: %d", code)
	}
}
