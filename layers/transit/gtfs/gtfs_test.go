package gtfs_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers/transit"
	"github.com/aktobe/geoportal/layers/transit/gtfs"
)

func TestImportSmallFeed(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	sum, err := gtfs.Import(ctx, pool, os.DirFS("testdata/small"), gtfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := gtfs.Summary{Agencies: 1, Routes: 2, Stops: 8, Trips: 31, StopTimes: 24*6 + 7*3, Shapes: 2 + 7, Services: 2}
	if *sum != want {
		t.Errorf("summary %+v, want %+v", *sum, want)
	}
	var n int
	pool.QueryRow(ctx, `SELECT count(*) FROM layer.bus_stops`).Scan(&n)
	if n != 8 {
		t.Errorf("bus_stops layer has %d features, want 8", n)
	}
	var routes string
	pool.QueryRow(ctx, `SELECT routes FROM layer.bus_stops WHERE code = '103'`).Scan(&routes)
	if routes != "12, 5" {
		t.Errorf("routes at stop 103 = %q, want \"12, 5\"", routes)
	}
	var refs string
	pool.QueryRow(ctx, `SELECT string_agg(ref, ',' ORDER BY ref) FROM layer.bus_routes`).Scan(&refs)
	if refs != "12,5" {
		t.Errorf("bus_routes refs %q", refs)
	}
	// The catalog counts follow (the layer triggers ran).
	pool.QueryRow(ctx, `SELECT feature_count FROM geoportal.layers WHERE slug = 'bus_stops'`).Scan(&n)
	if n != 8 {
		t.Errorf("catalog feature_count %d", n)
	}

	net, err := transit.LoadNetwork(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	// Stops lie in order along the shape, about where they are.
	tr := net.Trips["R5-E-01"]
	if tr == nil || len(tr.Stops) != 6 {
		t.Fatalf("trip R5-E-01: %+v", tr)
	}
	var length float64
	pool.QueryRow(ctx, `SELECT length_m FROM transit.shapes WHERE shape_id = 'SH5E'`).Scan(&length)
	for i := 1; i < len(tr.Stops); i++ {
		if tr.Stops[i].Dist <= tr.Stops[i-1].Dist {
			t.Errorf("stop %d at %.0f m is not after stop %d at %.0f m", i, tr.Stops[i].Dist, i-1, tr.Stops[i-1].Dist)
		}
	}
	if last := tr.Stops[5].Dist; last < length-50 || last > length+1 {
		t.Errorf("last stop at %.0f m, shape %.0f m long", last, length)
	}
	// The untimed fourth stop of odd trips is interpolated between its neighbours by distance.
	s3, s4, s5 := tr.Stops[2], tr.Stops[3], tr.Stops[4]
	if !(s4.Arr > s3.Dep && s4.Arr < s5.Arr) {
		t.Errorf("interpolated time %d not between %d and %d", s4.Arr, s3.Dep, s5.Arr)
	}
	// GTFS times past midnight are kept as such.
	if night := net.Trips["R12-NIGHT"]; night == nil || night.Start != 24*3600+15*60 {
		t.Errorf("night trip %+v", night)
	}
}

func writeFeed(t *testing.T, change func(name, content string) string) string {
	t.Helper()
	dir := t.TempDir()
	ents, _ := os.ReadDir("testdata/small")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("testdata/small", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, e.Name()), []byte(change(e.Name(), string(b))), 0o644)
	}
	return dir
}

func TestImportBadFeedKeepsPrevious(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	if _, err := gtfs.Import(ctx, pool, os.DirFS("testdata/small"), gtfs.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file, old, new, want string
	}{
		{"unknown stop", "stop_times.txt", "R5-E-00,06:00:00,06:00:00,S1,1", "R5-E-00,06:00:00,06:00:00,NOPE,1", "stop_times.txt line 2: stop_id \"NOPE\""},
		{"bad latitude", "stops.txt", "50.2801", "95.5", "stops.txt line 2: stop_lat"},
		{"bad time", "stop_times.txt", "06:03:00,06:03:30", "06:63:00,06:03:30", "stop_times.txt line 3"},
		{"time zone", "agency.txt", "Asia/Aqtobe", "Mars/Olympus", "agency_timezone"},
		{"missing calendar", "calendar.txt", "", "", "calendar.txt is missing"},
		{"unknown route", "trips.txt", "R12,DAILY,R12-S-00", "R99,DAILY,R12-S-00", "route_id \"R99\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFeed(t, func(name, c string) string {
				if name == tc.file {
					return strings.Replace(c, tc.old, tc.new, 1)
				}
				return c
			})
			if tc.name == "missing calendar" {
				os.Remove(filepath.Join(dir, "calendar.txt"))
			}
			_, err := gtfs.Import(ctx, pool, os.DirFS(dir), gtfs.Options{})
			if err == nil || geoportal.ErrorCode(err) != geoportal.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want EINVALID naming %q", err, tc.want)
			}
			var trips, stops int
			pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM transit.trips), (SELECT count(*) FROM layer.bus_stops)`).Scan(&trips, &stops)
			if trips != 31 || stops != 8 {
				t.Errorf("after a failed import: %d trips, %d stops; the previous feed must stay", trips, stops)
			}
		})
	}
}
