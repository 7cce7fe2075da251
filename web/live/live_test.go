package live_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"github.com/aktobe/geoportal/importers"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/transit"
	gtfsimport "github.com/aktobe/geoportal/layers/transit/gtfs"
	"github.com/aktobe/geoportal/web/webtest"
	"google.golang.org/protobuf/proto"
)

func TestTransitHTTPIngestAndLivePush(t *testing.T) {
	ctx := context.Background()
	srv, ts := webtest.NewTransit(t)
	v, key, err := srv.Transit.AddVehicle(ctx, transit.NewVehicle{DeviceID: "http-1", Plate: "777 AAA 04", Route: "5", LowFloor: true})
	if err != nil {
		t.Fatal(err)
	}
	// Subscribe before posting: the stream opens with a snapshot.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, _ := http.NewRequestWithContext(sctx, http.MethodGet, ts.URL+"/api/vehicles/live", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	events := make(chan [2]string, 16)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		var ev string
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "event: ") {
				ev = l[7:]
			} else if strings.HasPrefix(l, "data: ") {
				events <- [2]string{ev, l[6:]}
			}
		}
	}()
	if e := <-events; e[0] != "snapshot" || e[1] != "[]" {
		t.Errorf("first event %v", e)
	}

	at := time.Now().Add(-5 * time.Second).UTC().Truncate(time.Millisecond)
	body := fmt.Sprintf(`{"positions":[{"time":%q,"lat":50.2839,"lon":57.1669,"speed_kmh":31.5,"heading":180,"sats":9},
		{"time":%q,"lat":50.2838,"lon":57.1669,"speed_kmh":30}]}`, at.Add(-time.Second).Format(time.RFC3339Nano), at.Format(time.RFC3339Nano))
	code, res := webtest.PostPositions(t, ts.URL, key, body)
	if code != 200 || res["stored"] != 2.0 || res["duplicates"] != 0.0 {
		t.Fatalf("post: %d %v", code, res)
	}
	select {
	case e := <-events:
		var vs []map[string]any
		json.Unmarshal([]byte(e[1]), &vs)
		if e[0] != "vehicles" || len(vs) != 1 || vs[0]["id"] != float64(v.ID) || vs[0]["route"] != "5" || vs[0]["low_floor"] != true ||
			vs[0]["seen_at"] != at.Format(time.RFC3339Nano) {
			t.Errorf("pushed %v", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no push within 10 s")
	}
	// A resend is acknowledged as duplicates.
	if code, res := webtest.PostPositions(t, ts.URL, key, body); code != 200 || res["duplicates"] != 2.0 {
		t.Errorf("resend: %d %v", code, res)
	}
	if code, body := webtest.GetJSON(t, ts.URL+"/api/vehicles"); code != 200 || len(body["vehicles"].([]any)) != 1 {
		t.Errorf("vehicles: %d %v", code, body)
	}

	for _, tc := range []struct {
		name, key, body string
		code            int
	}{
		{"no key", "", body, 401},
		{"wrong key", "dk_nope", body, 401},
		{"not json", key, `{"positions": [`, 400},
		{"unknown field", key, `{"positions": [{"time": "2026-01-01T00:00:00Z", "lat": 1, "lon": 1, "colour": 2}]}`, 400},
		{"bad time", key, `{"positions": [{"time": "yesterday", "lat": 1, "lon": 1}]}`, 400},
		{"no lat", key, `{"positions": [{"time": "2026-01-01T00:00:00Z", "lon": 1}]}`, 400},
		{"empty", key, `{"positions": []}`, 400},
		{"other device", key, `{"positions": [{"device_id": "http-2", "time": "2026-01-01T00:00:00Z", "lat": 1, "lon": 1}]}`, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, res := webtest.PostPositions(t, ts.URL, tc.key, tc.body); code != tc.code {
				t.Errorf("%d %v, want %d", code, res, tc.code)
			}
		})
	}
}

func TestTransitArrivalsFeedsAndDispatch(t *testing.T) {
	ctx := context.Background()
	srv, ts := webtest.NewTransit(t)
	if _, _, err := importers.New(srv.Pool, nil).ImportGTFS(ctx, os.DirFS("../../layers/transit/gtfs/testdata/small"), "small", gtfsimport.Options{}, importers.Request{}); err != nil {
		t.Fatal(err)
	}
	code, body := webtest.GetJSON(t, ts.URL+"/api/stops/103/arrivals")
	if code != 200 || body["stop_id"] != "S3" || body["name"] != "Central square" {
		t.Errorf("arrivals: %d %v", code, body)
	}
	// The stop's service hours by the timetable (daily: R5-E-00 leaves S3 at 06:06:30 first),
	// for the map to say when buses run when none is listed.
	hours, _ := body["hours"].(map[string]any)
	first, err := time.Parse(time.RFC3339, fmt.Sprint(hours["first"]))
	loc, _ := time.LoadLocation("Asia/Aqtobe")
	if err != nil || first.In(loc).Format("15:04:05") != "06:06:30" || hours["last"] == nil || hours["next"] == nil {
		t.Errorf("arrivals' service hours: %v (%v)", hours, err)
	}
	// The network's service (GET /api/transit/service): the day's first start (06:00), the next
	// trip starts with their routes' numbers and colours.
	code, body = webtest.GetJSON(t, ts.URL+"/api/transit/service?limit=2")
	shours, _ := body["hours"].(map[string]any)
	sfirst, err := time.Parse(time.RFC3339, fmt.Sprint(shours["first"]))
	deps, _ := body["departures"].([]any)
	if code != 200 || err != nil || sfirst.In(loc).Format("15:04") != "06:00" || len(deps) != 2 || body["in_service"] == nil {
		t.Errorf("network service: %d %v", code, body)
	} else if d, _ := deps[0].(map[string]any); d["route"] == "" || d["departure"] == nil || d["from_stop"] == "" {
		t.Errorf("network service's first departure: %v", d)
	}
	if code, _ := webtest.GetJSON(t, ts.URL+"/api/transit/service?limit=99"); code != 400 {
		t.Errorf("network service, limit 99: %d", code)
	}
	if code, _ := webtest.GetJSON(t, ts.URL+"/api/stops/NOPE/arrivals"); code != 404 {
		t.Errorf("unknown stop: %d", code)
	}
	if code, _ := webtest.GetJSON(t, ts.URL+"/api/stops/103/arrivals?per_route=0"); code != 400 {
		t.Errorf("bad per_route: %d", code)
	}

	v, key, _ := srv.Transit.AddVehicle(ctx, transit.NewVehicle{DeviceID: "rt-1", Plate: "RT 1", Route: "5"})
	at := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	if code, res := webtest.PostPositions(t, ts.URL, key, fmt.Sprintf(`{"positions":[{"time":%q,"lat":50.2839,"lon":57.1669,"heading":90,"speed_kmh":20}]}`, at.Format(time.RFC3339))); code != 200 {
		t.Fatalf("post %d %v", code, res)
	}
	resp, err := http.Get(ts.URL + "/gtfs-rt/vehicle-positions.pb")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var feed gtfs.FeedMessage
	if err := proto.Unmarshal(b, &feed); err != nil {
		t.Fatal(err)
	}
	lm := resp.Header.Get("Last-Modified")
	if resp.Header.Get("Content-Type") != "application/x-protobuf" || lm != at.Format(http.TimeFormat) || len(feed.Entity) != 1 ||
		feed.Entity[0].GetVehicle().GetVehicle().GetId() != fmt.Sprint(v.ID) {
		t.Errorf("feed: %s %q %v", resp.Header.Get("Content-Type"), lm, &feed)
	}
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/gtfs-rt/vehicle-positions.pb", nil)
	req.Header.Set("If-Modified-Since", lm)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-Modified-Since: %d", resp.StatusCode)
	}
	resp, err = http.Get(ts.URL + "/gtfs-rt/trip-updates.pb")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := proto.Unmarshal(b, &feed); err != nil || resp.StatusCode != 200 {
		t.Errorf("trip updates: %d %v", resp.StatusCode, err)
	}

	// Dispatch and tracks need a dispatcher.
	if code, _ := webtest.GetJSON(t, ts.URL+"/api/dispatch/alerts"); code != 401 {
		t.Errorf("anonymous alerts: %d", code)
	}
	u, err := srv.Accounts.CreateUser(ctx, accounts.NewUser{Email: "dispatch@example.kz", Role: accounts.Dispatcher, Password: "a long dispatcher password"})
	if err != nil {
		t.Fatal(err)
	}
	apiKey, _, err := srv.Accounts.CreateKey(ctx, u.ID, "test", []accounts.Scope{accounts.ScopeRead}, nil)
	if err != nil {
		t.Fatal(err)
	}
	authGet := func(path string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+apiKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		b, _ := io.ReadAll(resp.Body)
		json.NewDecoder(bytes.NewReader(b)).Decode(&v)
		return resp.StatusCode, v
	}
	if code, body := authGet("/api/dispatch/alerts"); code != 200 || body["alerts"] == nil {
		t.Errorf("alerts: %d %v", code, body)
	}
	from := at.Add(-time.Minute).Format(time.RFC3339)
	to := at.Add(time.Minute).Format(time.RFC3339)
	code, body = authGet(fmt.Sprintf("/api/vehicles/%d/track?from=%s&to=%s", v.ID, from, to))
	if code != 200 || len(body["features"].([]any)) != 1 {
		t.Errorf("track: %d %v", code, body)
	}
	if code, _ := authGet(fmt.Sprintf("/api/vehicles/%d/track?from=%s&to=%s", v.ID, to, from)); code != 400 {
		t.Errorf("reversed range: %d", code)
	}
	if code, _ := authGet("/api/vehicles/999999/track"); code != 404 {
		t.Errorf("unknown vehicle: %d", code)
	}
}
