package live_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"github.com/aktobe/geoportal/data/demo"
	"github.com/aktobe/geoportal/importers"
	"github.com/aktobe/geoportal/layers/transit"
	gtfsimport "github.com/aktobe/geoportal/layers/transit/gtfs"
	"github.com/aktobe/geoportal/web/webtest"
	"google.golang.org/protobuf/proto"
)

// The transit interfaces of a served demo city, checked against the standards' rules: the static
// GTFS the project writes (gtfs demo) and reads back (gtfs import), and the GTFS-realtime feeds
// decoded with the official bindings (github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs)
// and checked with the rules of the GTFS-realtime reference and of the MobilityData validator
// (header, timestamps, ids that exist in the static feed, vehicle and trip descriptors, stop time
// updates). The MobilityData gtfs-realtime-validator itself (Java) is not available to the build.
func TestTransitStandardsDemoCity(t *testing.T) {
	ctx := context.Background()
	srv, ts := webtest.NewTransit(t)
	if _, err := demo.Load(ctx, srv.Pool, demo.Options{}, nil); err != nil {
		t.Fatal(err)
	}
	// The demo timetable, running all day so that buses run whenever the test runs (as the
	// browser fixtures do: gtfs demo -first 0s -last 23h45m -headway 30m).
	tt := gtfsimport.DefaultDemoTimetable
	tt.FirstS, tt.LastS, tt.HeadwayS = 0, 23*3600+45*60, 1800
	var feed bytes.Buffer
	if _, err := gtfsimport.FromLayers(ctx, srv.Pool, tt, &feed); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(feed.Bytes()), int64(feed.Len()))
	if err != nil {
		t.Fatal(err)
	}
	static, problems := validateStaticGTFS(zr)
	for _, p := range problems {
		t.Errorf("static GTFS written by gtfs demo: %s", p)
	}
	_, sum, err := importers.New(srv.Pool, nil).ImportGTFS(ctx, zr, "demo.zip", gtfsimport.Options{TimetableOnly: true}, importers.Request{})
	if err != nil {
		t.Fatal(err)
	}
	// What was read is what the file holds.
	if sum.Routes != len(static.routes) || sum.Trips != len(static.trips) || sum.Stops != len(static.stops) || sum.StopTimes != static.stopTimes {
		t.Errorf("import read %+v; the feed has %d routes, %d trips, %d stops, %d stop times",
			*sum, len(static.routes), len(static.trips), len(static.stops), static.stopTimes)
	}
	net, err := transit.LoadNetwork(ctx, srv.Pool)
	if err != nil {
		t.Fatal(err)
	}

	// Vehicles: one at a stop of a trip running now (it matches a trip of that line), one of a
	// line but 50 km off it (it matches none), one of the municipal fleet (no line).
	now := time.Now()
	local := now.In(net.Loc)
	today := local.Hour()*3600 + local.Minute()*60 + local.Second()
	var trip *transit.Trip
	var at transit.StopTime
	for _, secs := range []int{today, today + 86400} { // today's trips, then yesterday's past midnight
		for _, tr := range net.Trips {
			if tr.Start+120 > secs || tr.End < secs || len(tr.Stops) < 3 {
				continue
			}
			best := tr.Stops[0]
			for _, st := range tr.Stops {
				if math.Abs(float64(st.Arr-secs)) < math.Abs(float64(best.Arr-secs)) {
					best = st
				}
			}
			if best.StopID != tr.Stops[len(tr.Stops)-1].StopID && (trip == nil || tr.ID < trip.ID) {
				trip, at = tr, best
			}
		}
		if trip != nil {
			break
		}
	}
	if trip == nil {
		t.Fatalf("no trip of the all-day timetable runs at %s", local.Format("15:04"))
	}
	route := net.Routes[trip.RouteID]
	stop := net.Stops[at.StopID]
	fixAt := now.Add(-20 * time.Second).UTC().Truncate(time.Second)
	post := func(device, line string, lon, lat float64) int64 {
		t.Helper()
		v, key, err := srv.Transit.AddVehicle(ctx, transit.NewVehicle{DeviceID: device, Plate: device, Route: line})
		if err != nil {
			t.Fatal(err)
		}
		if code, res := webtest.PostPositions(t, ts.URL, key, fmt.Sprintf(`{"positions":[{"time":%q,"lat":%f,"lon":%f,"speed_kmh":18}]}`,
			fixAt.Format(time.RFC3339), lat, lon)); code != 200 {
			t.Fatalf("post %s: %d %v", device, code, res)
		}
		return v.ID
	}
	matched := post("std-matched", route.ShortName, stop.Point[0], stop.Point[1])
	unmatched := post("std-unmatched", route.ShortName, stop.Point[0], stop.Point[1]+0.45)
	municipal := post("std-municipal", "", stop.Point[0]+0.001, stop.Point[1])

	fetch := func(path string) *gtfs.FeedMessage {
		t.Helper()
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-protobuf" {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var m gtfs.FeedMessage
		if err := proto.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s does not decode with the official bindings: %v", path, err)
		}
		return &m
	}

	var matchedTrip string
	t.Run("VehiclePositions", func(t *testing.T) {
		m := fetch("/gtfs-rt/vehicle-positions.pb")
		for _, p := range validateRealtime(m, static, time.Now()) {
			t.Error(p)
		}
		byID := map[string]*gtfs.VehiclePosition{}
		for _, e := range m.Entity {
			byID[e.GetVehicle().GetVehicle().GetId()] = e.GetVehicle()
		}
		// It may fit another trip of its line as well as the one it was put on (the other
		// direction through the same stop): any trip of the line will do.
		tr := byID[fmt.Sprint(matched)].GetTrip()
		if got := net.Trips[tr.GetTripId()]; got == nil || got.RouteID != trip.RouteID || tr.GetRouteId() != trip.RouteID ||
			tr.GetScheduleRelationship() != gtfs.TripDescriptor_SCHEDULED {
			t.Errorf("the vehicle at stop %s of trip %s has trip %v", at.StopID, trip.ID, tr)
		}
		matchedTrip = tr.GetTripId()
		// The fault of the issue: a vehicle of a line that matches no trip had no trip descriptor.
		if tr := byID[fmt.Sprint(unmatched)].GetTrip(); tr == nil || tr.TripId != nil || tr.GetRouteId() != trip.RouteID ||
			tr.GetScheduleRelationship() != gtfs.TripDescriptor_ADDED {
			t.Errorf("the vehicle of route %s matching no trip has trip %v, want route_id %s and ADDED", route.ShortName, tr, trip.RouteID)
		}
		if v := byID[fmt.Sprint(municipal)]; v == nil || v.Trip != nil {
			t.Errorf("the municipal vehicle: %v, want a position without trip", v)
		}
	})
	t.Run("TripUpdates", func(t *testing.T) {
		m := fetch("/gtfs-rt/trip-updates.pb")
		for _, p := range validateRealtime(m, static, time.Now()) {
			t.Error(p)
		}
		if len(m.Entity) != 1 || matchedTrip == "" || m.Entity[0].GetTripUpdate().GetTrip().GetTripId() != matchedTrip ||
			m.Entity[0].GetTripUpdate().GetVehicle().GetId() != fmt.Sprint(matched) {
			t.Fatalf("trip updates: %v, want one for trip %q by vehicle %d", m.Entity, matchedTrip, matched)
		}
		if matchedTrip == trip.ID {
			// The updates start at the stop the vehicle is at, or at one less than 30 m behind it
			// along the trip (the feed keeps those for a fix's noise: gtfsrt.go).
			u := m.Entity[0].GetTripUpdate().StopTimeUpdate
			var first *transit.StopTime
			for i := range trip.Stops {
				if len(u) > 0 && uint32(trip.Stops[i].Seq) == u[0].GetStopSequence() {
					first = &trip.Stops[i]
				}
			}
			if first == nil || first.Seq > at.Seq || at.Dist-first.Dist > 30 {
				t.Errorf("the first stop time update is %v, want the stop the vehicle is at (%s) or one within 30 m before it", u, at.StopID)
			}
		}
	})
}

// staticFeed is what validateStaticGTFS keeps of a feed to check realtime ids against.
type staticFeed struct {
	routes    map[string]bool
	trips     map[string]string            // trip_id: route_id
	stops     map[string]bool              // stop_id
	tripStops map[string]map[uint32]string // trip_id: stop_sequence: stop_id
	stopTimes int
}

var (
	gtfsTimeRe = regexp.MustCompile(`^([0-9]{1,2}):([0-5][0-9]):([0-5][0-9])$`)
	gtfsDateRe = regexp.MustCompile(`^[0-9]{8}$`)
	gtfsColor  = regexp.MustCompile(`^[0-9A-Fa-f]{6}$`)
)

// validateStaticGTFS checks a feed with the rules of the GTFS Schedule reference: required files
// and fields, unique ids, references between files, formats of times, dates, coordinates and
// colours, and stop times in increasing order of stop_sequence and time.
func validateStaticGTFS(fsys fs.FS) (*staticFeed, []string) {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	read := func(name string, required bool, cols ...string) []map[string]string {
		b, err := fs.ReadFile(fsys, name)
		if errors.Is(err, fs.ErrNotExist) {
			if required {
				bad("%s is missing", name)
			}
			return nil
		} else if err != nil {
			bad("%s: %v", name, err)
			return nil
		}
		if !utf8.Valid(b) {
			bad("%s is not UTF-8", name)
		}
		b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
		recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil || len(recs) == 0 {
			bad("%s is not CSV with a header: %v", name, err)
			return nil
		}
		var out []map[string]string
		for _, c := range cols {
			found := false
			for _, h := range recs[0] {
				found = found || h == c
			}
			if !found {
				bad("%s has no column %s", name, c)
			}
		}
		for _, r := range recs[1:] {
			m := map[string]string{}
			for i, h := range recs[0] {
				m[h] = r[i]
			}
			out = append(out, m)
		}
		return out
	}
	f := &staticFeed{routes: map[string]bool{}, trips: map[string]string{}, stops: map[string]bool{}, tripStops: map[string]map[uint32]string{}}
	agencies := read("agency.txt", true, "agency_name", "agency_url", "agency_timezone")
	if len(agencies) == 0 {
		bad("agency.txt has no agency")
	}
	for i, a := range agencies {
		if _, err := time.LoadLocation(a["agency_timezone"]); err != nil || a["agency_timezone"] == "" {
			bad("agency.txt line %d: agency_timezone %q", i+2, a["agency_timezone"])
		}
		if a["agency_name"] == "" || !strings.HasPrefix(a["agency_url"], "http") {
			bad("agency.txt line %d: agency_name or agency_url empty", i+2)
		}
	}
	for i, r := range read("routes.txt", true, "route_id", "route_type") {
		id := r["route_id"]
		if id == "" || f.routes[id] {
			bad("routes.txt line %d: route_id %q empty or repeated", i+2, id)
		}
		f.routes[id] = true
		if typ, err := strconv.Atoi(r["route_type"]); err != nil || !(typ >= 0 && typ <= 7 || typ == 11 || typ == 12 || typ >= 100 && typ <= 1702) {
			bad("routes.txt line %d: route_type %q", i+2, r["route_type"])
		}
		if r["route_short_name"] == "" && r["route_long_name"] == "" {
			bad("routes.txt line %d: neither route_short_name nor route_long_name", i+2)
		}
		for _, c := range []string{"route_color", "route_text_color"} {
			if r[c] != "" && !gtfsColor.MatchString(r[c]) {
				bad("routes.txt line %d: %s %q", i+2, c, r[c])
			}
		}
	}
	for i, s := range read("stops.txt", true, "stop_id") {
		id := s["stop_id"]
		if id == "" || f.stops[id] {
			bad("stops.txt line %d: stop_id %q empty or repeated", i+2, id)
		}
		f.stops[id] = true
		lat, err1 := strconv.ParseFloat(s["stop_lat"], 64)
		lon, err2 := strconv.ParseFloat(s["stop_lon"], 64)
		if err1 != nil || err2 != nil || math.Abs(lat) > 90 || math.Abs(lon) > 180 || lat == 0 && lon == 0 {
			bad("stops.txt line %d: stop_lat/stop_lon %q %q", i+2, s["stop_lat"], s["stop_lon"])
		}
	}
	services := map[string]bool{}
	for i, c := range read("calendar.txt", false, "service_id", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "start_date", "end_date") {
		if services[c["service_id"]] {
			bad("calendar.txt line %d: service_id %q repeated", i+2, c["service_id"])
		}
		services[c["service_id"]] = true
		if !gtfsDateRe.MatchString(c["start_date"]) || !gtfsDateRe.MatchString(c["end_date"]) || c["end_date"] < c["start_date"] {
			bad("calendar.txt line %d: start_date %q end_date %q", i+2, c["start_date"], c["end_date"])
		}
	}
	for i, c := range read("calendar_dates.txt", false, "service_id", "date", "exception_type") {
		services[c["service_id"]] = true
		if !gtfsDateRe.MatchString(c["date"]) || c["exception_type"] != "1" && c["exception_type"] != "2" {
			bad("calendar_dates.txt line %d: date %q exception_type %q", i+2, c["date"], c["exception_type"])
		}
	}
	if len(services) == 0 {
		bad("neither calendar.txt nor calendar_dates.txt defines a service")
	}
	shapes := map[string]bool{}
	for _, s := range read("shapes.txt", false, "shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence") {
		shapes[s["shape_id"]] = true
	}
	for i, tr := range read("trips.txt", true, "route_id", "service_id", "trip_id") {
		id := tr["trip_id"]
		if _, dup := f.trips[id]; id == "" || dup {
			bad("trips.txt line %d: trip_id %q empty or repeated", i+2, id)
		}
		f.trips[id] = tr["route_id"]
		if !f.routes[tr["route_id"]] {
			bad("trips.txt line %d: route_id %q is not in routes.txt", i+2, tr["route_id"])
		}
		if !services[tr["service_id"]] {
			bad("trips.txt line %d: service_id %q is in neither calendar file", i+2, tr["service_id"])
		}
		if tr["shape_id"] != "" && !shapes[tr["shape_id"]] {
			bad("trips.txt line %d: shape_id %q is not in shapes.txt", i+2, tr["shape_id"])
		}
		if d := tr["direction_id"]; d != "" && d != "0" && d != "1" {
			bad("trips.txt line %d: direction_id %q", i+2, d)
		}
	}
	type last struct{ seq, time int }
	prev := map[string]last{}
	for i, st := range read("stop_times.txt", true, "trip_id", "stop_id", "stop_sequence") {
		f.stopTimes++
		tid := st["trip_id"]
		if _, ok := f.trips[tid]; !ok {
			bad("stop_times.txt line %d: trip_id %q is not in trips.txt", i+2, tid)
		}
		if !f.stops[st["stop_id"]] {
			bad("stop_times.txt line %d: stop_id %q is not in stops.txt", i+2, st["stop_id"])
		}
		seq, err := strconv.ParseUint(st["stop_sequence"], 10, 32)
		if err != nil {
			bad("stop_times.txt line %d: stop_sequence %q", i+2, st["stop_sequence"])
		}
		if f.tripStops[tid] == nil {
			f.tripStops[tid] = map[uint32]string{}
		}
		f.tripStops[tid][uint32(seq)] = st["stop_id"]
		p, seen := prev[tid]
		if seen && int(seq) <= p.seq {
			bad("stop_times.txt line %d: stop_sequence %d of trip %s does not increase", i+2, seq, tid)
		}
		cur := last{int(seq), p.time}
		for _, c := range []string{"arrival_time", "departure_time"} {
			if st[c] == "" {
				continue
			}
			m := gtfsTimeRe.FindStringSubmatch(st[c])
			if m == nil {
				bad("stop_times.txt line %d: %s %q is not H:MM:SS", i+2, c, st[c])
				continue
			}
			h, _ := strconv.Atoi(m[1])
			mi, _ := strconv.Atoi(m[2])
			s, _ := strconv.Atoi(m[3])
			v := h*3600 + mi*60 + s
			if v < cur.time {
				bad("stop_times.txt line %d: %s %s goes back in time on trip %s", i+2, c, st[c], tid)
			}
			cur.time = v
		}
		prev[tid] = cur
	}
	for id := range f.trips {
		if len(f.tripStops[id]) < 2 {
			bad("trip %s has fewer than two stop times", id)
		}
	}
	return f, problems
}

// validateRealtime checks a decoded GTFS-realtime feed with the reference's rules (and the
// MobilityData validator's numbered ones where they apply) against the static feed.
func validateRealtime(m *gtfs.FeedMessage, st *staticFeed, now time.Time) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	h := m.GetHeader()
	if h.GetGtfsRealtimeVersion() != "2.0" {
		bad("header: gtfs_realtime_version %q, want 2.0", h.GetGtfsRealtimeVersion())
	}
	if h.Incrementality == nil || h.GetIncrementality() != gtfs.FeedHeader_FULL_DATASET {
		bad("header: incrementality %v, want FULL_DATASET", h.Incrementality)
	}
	// E001 (POSIX seconds, not milliseconds), E048 (timestamp present in 2.0), E050 (not in the
	// future), W007 (refreshed: not older than the live window).
	ht := int64(h.GetTimestamp())
	if h.Timestamp == nil || ht > now.Add(time.Minute).Unix() || ht < now.Add(-transit.LiveWindow).Unix() {
		bad("header: timestamp %d is missing, in the future or stale (now %d)", ht, now.Unix())
	}
	checkTime := func(what string, ts uint64) {
		// E001 and E012: entity timestamps are POSIX seconds not after the header's.
		if int64(ts) > ht || int64(ts) < ht-int64(transit.LiveWindow/time.Second)-60 {
			bad("%s: timestamp %d not within the live window before the header's %d", what, ts, ht)
		}
	}
	checkTrip := func(what string, td *gtfs.TripDescriptor) {
		if td == nil {
			return
		}
		if td.ScheduleRelationship == nil {
			bad("%s: trip schedule_relationship not populated (W009)", what)
		}
		if td.TripId != nil {
			route, ok := st.trips[td.GetTripId()]
			if !ok && td.GetScheduleRelationship() != gtfs.TripDescriptor_ADDED {
				bad("%s: trip_id %q is not in the static feed (E003)", what, td.GetTripId())
			}
			if td.RouteId != nil && ok && td.GetRouteId() != route {
				bad("%s: route_id %q is not the route %q of trip %s (E024)", what, td.GetRouteId(), route, td.GetTripId())
			}
		} else {
			// All the trips along a route: route_id alone; not matched to a scheduled trip, so not
			// SCHEDULED (the reference's ScheduleRelationship: "likely ADDED").
			if td.RouteId == nil {
				bad("%s: trip descriptor with neither trip_id nor route_id", what)
			}
			if td.GetScheduleRelationship() != gtfs.TripDescriptor_ADDED {
				bad("%s: trip descriptor without trip_id has schedule_relationship %v, want ADDED", what, td.GetScheduleRelationship())
			}
		}
		if td.RouteId != nil && !st.routes[td.GetRouteId()] {
			bad("%s: route_id %q is not in the static feed (E004)", what, td.GetRouteId())
		}
		if td.StartDate != nil && !gtfsDateRe.MatchString(td.GetStartDate()) {
			bad("%s: start_date %q is not YYYYMMDD (E019)", what, td.GetStartDate())
		}
	}
	ids := map[string]bool{}
	vehicles := map[string]bool{}
	for i, e := range m.Entity {
		what := fmt.Sprintf("entity %d %q", i, e.GetId())
		if e.GetId() == "" || ids[e.GetId()] {
			bad("%s: id empty or repeated (E052)", what)
		}
		ids[e.GetId()] = true
		n := 0
		for _, has := range []bool{e.Vehicle != nil, e.TripUpdate != nil, e.Alert != nil} {
			if has {
				n++
			}
		}
		if n != 1 || e.GetIsDeleted() {
			bad("%s: %d of vehicle/trip_update/alert, is_deleted %v in a FULL_DATASET", what, n, e.GetIsDeleted())
		}
		if vp := e.Vehicle; vp != nil {
			id := vp.GetVehicle().GetId()
			if id == "" || vehicles[id] {
				bad("%s: vehicle.id empty or repeated (E052)", what)
			}
			vehicles[id] = true
			p := vp.GetPosition()
			if p == nil || math.Abs(float64(p.GetLatitude())) > 90 || math.Abs(float64(p.GetLongitude())) > 180 ||
				p.GetLatitude() == 0 && p.GetLongitude() == 0 {
				bad("%s: position %v (E026)", what, p)
			}
			if p != nil && p.Bearing != nil && (p.GetBearing() < 0 || p.GetBearing() >= 360) {
				bad("%s: bearing %v (E027)", what, p.GetBearing())
			}
			if p != nil && p.Speed != nil && p.GetSpeed() < 0 {
				bad("%s: speed %v", what, p.GetSpeed())
			}
			if vp.Timestamp == nil {
				bad("%s: vehicle position without timestamp", what)
			} else {
				checkTime(what, vp.GetTimestamp())
			}
			checkTrip(what, vp.Trip)
		}
		if tu := e.TripUpdate; tu != nil {
			td := tu.GetTrip()
			if td == nil || td.TripId == nil {
				bad("%s: trip update without trip_id", what)
				continue
			}
			checkTrip(what, td)
			if tu.Timestamp != nil {
				checkTime(what, tu.GetTimestamp())
			}
			if len(tu.StopTimeUpdate) == 0 {
				bad("%s: trip update without stop time updates (E041)", what)
			}
			lastSeq, lastTime := int64(-1), int64(0)
			for k, u := range tu.StopTimeUpdate {
				w := fmt.Sprintf("%s stop_time_update %d", what, k)
				if u.ScheduleRelationship == nil {
					bad("%s: schedule_relationship not populated (W009)", w)
				}
				if u.StopSequence == nil && u.StopId == nil {
					bad("%s: neither stop_sequence nor stop_id (E040)", w)
				}
				if u.StopId != nil && !st.stops[u.GetStopId()] {
					bad("%s: stop_id %q is not in the static feed (E011)", w, u.GetStopId())
				}
				if u.StopSequence != nil {
					if int64(u.GetStopSequence()) <= lastSeq {
						bad("%s: stop_sequence %d does not increase (E002)", w, u.GetStopSequence())
					}
					lastSeq = int64(u.GetStopSequence())
					if sid, ok := st.tripStops[td.GetTripId()][u.GetStopSequence()]; !ok || u.StopId != nil && sid != u.GetStopId() {
						bad("%s: stop_sequence %d is not stop %q of trip %s in the static feed (E009/E045)", w, u.GetStopSequence(), u.GetStopId(), td.GetTripId())
					}
				}
				if u.Arrival == nil && u.Departure == nil {
					bad("%s: neither arrival nor departure (E043)", w)
				}
				for _, ev := range []*gtfs.TripUpdate_StopTimeEvent{u.Arrival, u.Departure} {
					if ev == nil {
						continue
					}
					if ev.Time == nil && ev.Delay == nil {
						bad("%s: stop time event without time or delay (E044)", w)
					}
					if ev.Time != nil {
						if ev.GetTime() < lastTime {
							bad("%s: time %d before the previous %d (E022/E025)", w, ev.GetTime(), lastTime)
						}
						lastTime = ev.GetTime()
					}
				}
			}
		}
	}
	return problems
}
