package gtfs_test

import (
	"context"
	"encoding/binary"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/importers"
	"github.com/aktobe/geoportal/internal/testfiles"
	"github.com/aktobe/geoportal/layers/transit"
	"github.com/aktobe/geoportal/layers/transit/gtfs"
)

// importFeed imports a feed as the product does, through the importers' pipeline steps.
func importFeed(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS, opt gtfs.Options) (*gtfs.Summary, error) {
	_, sum, err := importers.New(pool, nil).ImportGTFS(ctx, fsys, "feed", opt, importers.Request{})
	return sum, err
}

func TestImportSmallFeed(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	sum, err := importFeed(ctx, pool, os.DirFS("testdata/small"), gtfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := gtfs.Summary{Agencies: 1, Routes: 2, Stops: 8, Trips: 31, StopTimes: 24*6 + 7*3, Shapes: 2 + 7, Services: 2}
	if !reflect.DeepEqual(*sum, want) {
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
	if _, err := importFeed(ctx, pool, os.DirFS("testdata/small"), gtfs.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file, old, new, want string
	}{
		{"unknown stop", "stop_times.txt", "R5-E-00,06:00:00,06:00:00,S1,1", "R5-E-00,06:00:00,06:00:00,NOPE,1", "stop_times.txt line 2: stop_id \"NOPE\""},
		{"bad latitude", "stops.txt", "50.2801", "95.5", "stops.txt line 2: stop_lat"},
		{"bad time", "stop_times.txt", "06:03:00,06:03:30", "06:63:00,06:03:30", "stop_times.txt line 3"},
		{"time zone", "agency.txt", "Asia/Aqtobe", "Mars/Olympus", "agency_timezone"},
		{"missing calendar", "calendar.txt", "", "", "neither calendar.txt nor calendar_dates.txt is present"},
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
			_, err := importFeed(ctx, pool, os.DirFS(dir), gtfs.Options{})
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

// feedFrom copies the folder base, then the files of overlay over it, leaving out the files
// named in drop.
func feedFrom(t *testing.T, base, overlay string, drop ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, src := range []string{base, overlay} {
		if src == "" {
			continue
		}
		ents, err := os.ReadDir(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
		}
	}
	for _, d := range drop {
		os.Remove(filepath.Join(dir, d))
	}
	return dir
}

// Third-party test feeds are in the repository's testdata/gtfs (sources in testdata/README.md).

// sample-gtfs-feed: two agencies in two time zones, stations with platforms and entrances,
// calendar.txt with calendar_dates.txt exceptions, frequencies, pathways, levels, translations,
// an emoji stop_code and a stop_sequence starting at 3.
func TestImportSampleGTFSFeed(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	// Its stop times name two stations (location_type 1), which the GTFS reference forbids (the
	// MobilityData validator's location_with_unexpected_stop_time is an error).
	sampleGTFSFeed := testfiles.Path(t, "gtfs", "sample-gtfs-feed")
	_, err := importFeed(ctx, pool, os.DirFS(sampleGTFSFeed), gtfs.Options{})
	if want := `stop_times.txt line 3: stop_id "museum" has location_type 1 in stops.txt`; geoportal.ErrorCode(err) != geoportal.EINVALID || !strings.Contains(err.Error(), want) {
		t.Fatalf("sample-gtfs-feed: %v, want EINVALID naming %q", err, want)
	}
	// Without those stop times (our change), the rest imports; the trips left with fewer than
	// two stop times are skipped with a warning each.
	dir := feedFrom(t, sampleGTFSFeed, "")
	b, err := os.ReadFile(filepath.Join(dir, "stop_times.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.Contains(l, ",museum,") && !strings.Contains(l, ",airport,") {
			kept = append(kept, l)
		}
	}
	os.WriteFile(filepath.Join(dir, "stop_times.txt"), []byte(strings.Join(kept, "\n")), 0o644)
	sum, err := importFeed(ctx, pool, os.DirFS(dir), gtfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Agencies != 2 || sum.Routes != 4 || sum.Stops != 4 || sum.Trips != 6 || sum.Services != 4 || len(sum.Warnings) != 4 ||
		!strings.Contains(strings.Join(sum.Warnings, "\n"), "trips.txt line 11: trip during-dst-1 has 1 stop time(s)") {
		t.Errorf("summary %+v", *sum)
	}
	// The bus_routes layer takes each route's number and colour (route_short_name, route_color:
	// Babbage is FF0000, the others have none and keep the layer's default).
	var colours string
	if err := pool.QueryRow(ctx, `SELECT string_agg(ref || '=' || coalesce(color, '-'), ',' ORDER BY ref) FROM layer.bus_routes`).Scan(&colours); err != nil ||
		!strings.Contains(colours, "Babbage=#ff0000") || !strings.Contains(colours, "Ada=-") {
		t.Errorf("bus_routes colours %q %v; want Babbage=#ff0000, Ada without", colours, err)
	}
	// calendar_dates.txt exceptions count: all-day is removed on 2019-05-01, on-weekends on
	// Saturday 2019-07-20.
	net, err := transit.LoadNetwork(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	runs := func(trip string, y int, m time.Month, d, h, min int) bool {
		for _, a := range net.Arrivals("center", time.Date(y, m, d, h, min, 0, 0, net.Loc), nil, 10) {
			if a.TripID == trip {
				return true
			}
		}
		return false
	}
	for _, tc := range []struct {
		trip      string
		m         time.Month
		d, h, min int
		want      bool
	}{
		{"a-downtown-all-day", time.May, 2, 15, 20, true},
		{"a-downtown-all-day", time.May, 1, 15, 20, false},
		{"b-downtown-on-weekends", time.July, 13, 13, 20, true},
		{"b-downtown-on-weekends", time.July, 20, 13, 20, false},
	} {
		if got := runs(tc.trip, 2019, tc.m, tc.d, tc.h, tc.min); got != tc.want {
			t.Errorf("%s on 2019-%02d-%02d: runs %v, want %v", tc.trip, tc.m, tc.d, got, tc.want)
		}
	}
}

func TestImportThirdPartyFeeds(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	// transitfeed's good_feed: its stops, stop times and calendar, with our agency, routes and
	// trips for its ids (testdata/transitfeed-completion).
	transitfeed := func(dir string) string { return testfiles.Path(t, "gtfs", "transitfeed", dir) }
	good := feedFrom(t, transitfeed("good_feed"), "testdata/transitfeed-completion")
	sum, err := importFeed(ctx, pool, os.DirFS(good), gtfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (gtfs.Summary{Agencies: 1, Routes: 5, Stops: 9, Trips: 11, StopTimes: 28, Shapes: 11, Services: 2}); sum.Agencies != want.Agencies ||
		sum.Routes != want.Routes || sum.Stops != want.Stops || sum.Trips != want.Trips || sum.StopTimes != want.StopTimes || sum.Services != want.Services {
		t.Errorf("good_feed: %+v, want %+v", *sum, want)
	}

	// Services defined by calendar_dates.txt alone, as the GTFS reference allows: FULLW runs on
	// 2007-06-04 only, WE on 2007-06-05 only.
	dir := feedFrom(t, good, transitfeed("only_calendar_dates"), "calendar.txt")
	sum, err = importFeed(ctx, pool, os.DirFS(dir), gtfs.Options{})
	if err != nil {
		t.Fatalf("only_calendar_dates: %v", err)
	}
	if sum.Services != 2 || sum.Trips != 11 {
		t.Errorf("only_calendar_dates: %+v", *sum)
	}
	net, err := transit.LoadNetwork(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	la, _ := time.LoadLocation("America/Los_Angeles")
	trips := func(day int) map[string]bool {
		got := map[string]bool{}
		for _, a := range net.Arrivals("STAGECOACH", time.Date(2007, 6, day, 5, 50, 0, 0, la), nil, 10) {
			got[a.TripID] = true
		}
		return got
	}
	if got := trips(4); !got["CITY1"] || !got["STBA"] {
		t.Errorf("2007-06-04 (FULLW added): arrivals of trips %v at STAGECOACH, want CITY1 and STBA", got)
	}
	if got := trips(5); len(got) != 0 {
		t.Errorf("2007-06-05 (FULLW not added): arrivals of trips %v", got)
	}

	// A repeated stop_sequence is refused by file, line and field; the previous feed stays.
	dir = feedFrom(t, good, transitfeed("duplicate_stop_sequence"))
	_, err = importFeed(ctx, pool, os.DirFS(dir), gtfs.Options{})
	if want := "stop_times.txt line 4: trip CITY1 repeats stop_sequence 10 (first on line 3)"; geoportal.ErrorCode(err) != geoportal.EINVALID || !strings.Contains(err.Error(), want) {
		t.Errorf("duplicate_stop_sequence: %v, want EINVALID naming %q", err, want)
	}
	var n int
	pool.QueryRow(ctx, `SELECT count(*) FROM transit.calendar_dates`).Scan(&n)
	if n != 2 {
		t.Errorf("after a refused feed: %d calendar dates, want the previous 2", n)
	}
}

// Our own hostile variants of testdata/small: what the GTFS reference does not allow is refused
// naming file, line and field (never a raw database error), and nothing stored changes; what a
// validator only warns about is skipped with a warning.
func TestImportBadInputNamed(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	if _, err := importFeed(ctx, pool, os.DirFS("testdata/small"), gtfs.Options{}); err != nil {
		t.Fatal(err)
	}
	utf16le := func(s string) string {
		var b []byte
		b = append(b, 0xff, 0xfe)
		for _, u := range utf16.Encode([]rune(s)) {
			b = binary.LittleEndian.AppendUint16(b, u)
		}
		return string(b)
	}
	for _, tc := range []struct {
		name, file string
		change     func(string) string
		want       string
	}{
		{"invalid UTF-8", "stops.txt", func(c string) string { return strings.Replace(c, "Central square", "Central \xe9quare", 1) },
			"stops.txt line 4: stop_name is not valid UTF-8"},
		{"NUL byte", "routes.txt", func(c string) string { return strings.Replace(c, "Northern district", "Northern\x00district", 1) },
			"routes.txt line 3: route_long_name contains a NUL byte"},
		{"service_id twice", "calendar.txt", func(c string) string { return c + strings.SplitN(c, "\n", 3)[1] + "\n" },
			"calendar.txt line 4: service_id DAILY repeats (first on line 2)"},
		{"UTF-16", "agency.txt", utf16le, "agency.txt is UTF-16"},
		{"repeated stop_sequence", "stop_times.txt", func(c string) string {
			return strings.Replace(c, "R5-E-00,06:03:00,06:03:30,S2,2", "R5-E-00,06:03:00,06:03:30,S2,1", 1)
		}, "stop_times.txt line 3: trip R5-E-00 repeats stop_sequence 1 (first on line 2)"},
		{"unknown service", "trips.txt", func(c string) string { return strings.Replace(c, "R12,DAILY,R12-S-00", "R12,NOPE,R12-S-00", 1) },
			"service_id \"NOPE\" is in neither calendar.txt nor calendar_dates.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFeed(t, func(name, c string) string {
				if name == tc.file {
					out := tc.change(c)
					if out == c {
						t.Fatalf("the change did not apply to %s", name)
					}
					return out
				}
				return c
			})
			_, err := importFeed(ctx, pool, os.DirFS(dir), gtfs.Options{})
			if err == nil || geoportal.ErrorCode(err) != geoportal.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want EINVALID naming %q", err, tc.want)
			}
			var trips int
			pool.QueryRow(ctx, `SELECT count(*) FROM transit.trips`).Scan(&trips)
			if trips != 31 {
				t.Errorf("after a refused feed: %d trips, want the previous 31", trips)
			}
		})
	}

	// One trip with a single stop time does not refuse the feed: it is skipped with a warning.
	dir := writeFeed(t, func(name, c string) string {
		if name != "stop_times.txt" {
			return c
		}
		var keep []string
		for _, l := range strings.Split(c, "\n") {
			if !strings.HasPrefix(l, "R5-E-00,") || strings.HasSuffix(l, ",1") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	})
	sum, err := importFeed(ctx, pool, os.DirFS(dir), gtfs.Options{})
	if err != nil {
		t.Fatalf("a trip with one stop time refused the feed: %v", err)
	}
	if sum.Trips != 30 || len(sum.Warnings) != 1 || !strings.Contains(sum.Warnings[0], "trip R5-E-00 has 1 stop time(s), fewer than two: skipped") {
		t.Errorf("summary %+v, want 30 trips and a warning naming R5-E-00", *sum)
	}
}
