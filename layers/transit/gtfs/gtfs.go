// Package gtfs reads a GTFS static feed (agency, routes, stops, trips, stop_times, shapes,
// calendar, calendar_dates) and writes it into the transit tables and the bus_stops and
// bus_routes map layers, replacing what was there, in the transaction of an import (see
// importers.ImportGTFS): a feed that fails leaves everything as it was.
package gtfs

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/transit"
	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
)

// Summary counts what an import wrote, with what it skipped.
type Summary struct {
	Agencies, Routes, Stops, Trips, StopTimes, Shapes, Services int
	// Warnings name, by file and line, what was skipped as a validator would only warn about it
	// (a trip with fewer than two stop times cannot be ridden).
	Warnings []string
}

// Options tune an import.
type Options struct {
	// Demo marks the map-layer features as demo data (is_demo).
	Demo bool
	// TimetableOnly leaves the bus_stops and bus_routes layers as they are (the feed was made
	// from them, see FromLayers).
	TimetableOnly bool
}

// MaxFileSize bounds each file of a feed (and each zip entry, against zip bombs).
const MaxFileSize = 512 << 20

// Open returns the feed at path: a .zip file or a folder of .txt files.
func Open(path string) (fs.FS, func() error, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, geoportal.Errorf(geoportal.EINVALID, "gtfs feed %s: %v", path, err)
	}
	if st.IsDir() {
		return os.DirFS(path), func() error { return nil }, nil
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, nil, geoportal.Errorf(geoportal.EINVALID, "gtfs feed %s is neither a folder nor a zip file: %v", path, err)
	}
	return zr, zr.Close, nil
}

// table is one parsed GTFS file: header index and records.
type table struct {
	name string
	cols map[string]int
	rows [][]string
}

func (t *table) get(r []string, col string) string {
	if i, ok := t.cols[col]; ok && i < len(r) {
		return strings.TrimSpace(r[i])
	}
	return ""
}

func readTable(fsys fs.FS, name string, required bool, need ...string) (*table, error) {
	f, err := fsys.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		// Feeds zipped with a top folder keep their files one level down.
		if m, _ := fs.Glob(fsys, "*/"+name); len(m) == 1 {
			f, err = fsys.Open(m[0])
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		if required {
			return nil, geoportal.Errorf(geoportal.EINVALID, "gtfs: %s is missing", name)
		}
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("gtfs: %s: %w", name, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("gtfs: %s: %w", name, err)
	}
	if len(data) > MaxFileSize {
		return nil, geoportal.Errorf(geoportal.ETOOLARGE, "gtfs: %s is larger than %d MiB", name, MaxFileSize>>20)
	}
	if bytes.HasPrefix(data, []byte("\xff\xfe")) || bytes.HasPrefix(data, []byte("\xfe\xff")) ||
		len(data) >= 2 && (data[0] == 0 || data[1] == 0) {
		return nil, geoportal.Errorf(geoportal.EINVALID, "gtfs: %s is UTF-16; the GTFS reference requires UTF-8 (save the file as UTF-8)", name)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	head, err := r.Read()
	if err != nil {
		return nil, geoportal.Errorf(geoportal.EINVALID, "gtfs: %s: no header line: %v", name, err)
	}
	if err := checkText(r, name, head, nil); err != nil {
		return nil, err
	}
	t := &table{name: name, cols: map[string]int{}}
	for i, h := range head {
		t.cols[strings.TrimSpace(h)] = i
	}
	for _, c := range need {
		if _, ok := t.cols[c]; !ok {
			return nil, geoportal.Errorf(geoportal.EINVALID, "gtfs: %s has no column %s", name, c)
		}
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, geoportal.Errorf(geoportal.EINVALID, "gtfs: %s: %v", name, err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if err := checkText(r, name, rec, head); err != nil {
			return nil, err
		}
		t.rows = append(t.rows, rec)
	}
	return t, nil
}

// checkText refuses a field that is not UTF-8 or holds a NUL byte (PostgreSQL stores neither),
// naming the file, the line and the column.
func checkText(r *csv.Reader, name string, rec, head []string) error {
	for i, f := range rec {
		what := ""
		if !utf8.ValidString(f) {
			what = "is not valid UTF-8 (the GTFS reference requires UTF-8)"
		} else if strings.IndexByte(f, 0) >= 0 {
			what = "contains a NUL byte"
		} else {
			continue
		}
		ln, _ := r.FieldPos(i)
		col := fmt.Sprintf("column %d", i+1)
		if head == nil {
			col = "the header"
		} else if i < len(head) && utf8.ValidString(head[i]) {
			col = strings.TrimSpace(head[i])
		}
		return geoportal.Errorf(geoportal.EINVALID, "gtfs: %s line %d: %s %s", name, ln, col, what)
	}
	return nil
}

// calendarRows returns the rows of an optional table (none when the file is absent).
func calendarRows(t *table) [][]string {
	if t == nil {
		return nil
	}
	return t.rows
}

// line is the 1-based line number of data row i (after the header).
func line(i int) int { return i + 2 }

func parseTime(s string) (int, error) {
	p := strings.Split(s, ":")
	if len(p) != 3 {
		return 0, fmt.Errorf("%q is not HH:MM:SS", s)
	}
	var n [3]int
	for i, x := range p {
		v, err := strconv.Atoi(x)
		if err != nil || v < 0 || (i > 0 && v > 59) {
			return 0, fmt.Errorf("%q is not HH:MM:SS", s)
		}
		n[i] = v
	}
	if n[0] > 47 {
		return 0, fmt.Errorf("%q is beyond 47:59:59", s)
	}
	return n[0]*3600 + n[1]*60 + n[2], nil
}

func parseFloat(t *table, i int, r []string, col string, lo, hi float64) (float64, error) {
	v, err := strconv.ParseFloat(t.get(r, col), 64)
	if err != nil || v < lo || v > hi {
		return 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: %s line %d: %s %q is not a number in [%g, %g]", t.name, line(i), col, t.get(r, col), lo, hi)
	}
	return v, nil
}

type stopTime struct {
	seq      int
	stop     string
	arr, dep int
	hasTime  bool
}

// LayerChange is what an import did to one map layer: features deleted and inserted.
type LayerChange struct {
	Layer             string
	Deleted, Inserted int
}

// Import reads and checks the feed, then replaces the timetable and (unless TimetableOnly) the
// bus layers with it in tx, the caller's transaction. It returns what it wrote, the changes to
// the layers and the number of records (lines) read.
func Import(ctx context.Context, tx pgx.Tx, fsys fs.FS, opt Options) (*Summary, []LayerChange, int, error) {
	agency, err := readTable(fsys, "agency.txt", true, "agency_name", "agency_timezone")
	if err != nil {
		return nil, nil, 0, err
	}
	routes, err := readTable(fsys, "routes.txt", true, "route_id", "route_type")
	if err != nil {
		return nil, nil, 0, err
	}
	stops, err := readTable(fsys, "stops.txt", true, "stop_id", "stop_lat", "stop_lon")
	if err != nil {
		return nil, nil, 0, err
	}
	trips, err := readTable(fsys, "trips.txt", true, "route_id", "service_id", "trip_id")
	if err != nil {
		return nil, nil, 0, err
	}
	stopTimes, err := readTable(fsys, "stop_times.txt", true, "trip_id", "stop_id", "stop_sequence", "arrival_time", "departure_time")
	if err != nil {
		return nil, nil, 0, err
	}
	calendar, err := readTable(fsys, "calendar.txt", false, "service_id", "monday", "tuesday", "wednesday", "thursday",
		"friday", "saturday", "sunday", "start_date", "end_date")
	if err != nil {
		return nil, nil, 0, err
	}
	calendarDates, err := readTable(fsys, "calendar_dates.txt", false, "service_id", "date", "exception_type")
	if err != nil {
		return nil, nil, 0, err
	}
	if calendar == nil && calendarDates == nil {
		return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: neither calendar.txt nor calendar_dates.txt is present (one of them must define the services)")
	}
	shapes, err := readTable(fsys, "shapes.txt", false, "shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence")
	if err != nil {
		return nil, nil, 0, err
	}
	records := 0
	for _, t := range []*table{agency, routes, stops, trips, stopTimes, calendar, calendarDates, shapes} {
		if t != nil {
			records += len(t.rows)
		}
	}
	sum := &Summary{}

	// Agencies.
	var agID, agName, agURL, agTZ []string
	for i, r := range agency.rows {
		id := agency.get(r, "agency_id")
		tz := agency.get(r, "agency_timezone")
		if _, err := time.LoadLocation(tz); err != nil || tz == "" {
			return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: agency.txt line %d: agency_timezone %q is not a time zone", line(i), tz)
		}
		agID, agName, agURL, agTZ = append(agID, id), append(agName, agency.get(r, "agency_name")), append(agURL, agency.get(r, "agency_url")), append(agTZ, tz)
	}
	if len(agID) == 0 {
		return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: agency.txt has no agency")
	}
	agencyName := map[string]string{}
	for i := range agID {
		agencyName[agID[i]] = agName[i]
	}

	// Routes.
	type route struct {
		id, agency, short, long, color string
		typ                            int
	}
	routeByID := map[string]*route{}
	var routeList []*route
	for i, r := range routes.rows {
		id := routes.get(r, "route_id")
		typ, err := strconv.Atoi(routes.get(r, "route_type"))
		if id == "" || err != nil {
			return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: routes.txt line %d: route_id is empty or route_type %q is not a number", line(i), routes.get(r, "route_type"))
		}
		if routeByID[id] != nil {
			return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: routes.txt line %d: route_id %s repeats", line(i), id)
		}
		rt := &route{id: id, agency: routes.get(r, "agency_id"), short: routes.get(r, "route_short_name"),
			long: routes.get(r, "route_long_name"), color: routes.get(r, "route_color"), typ: typ}
		if rt.agency == "" {
			rt.agency = agID[0]
		}
		routeByID[id] = rt
		routeList = append(routeList, rt)
	}

	// Stops.
	type stop struct {
		id, code, name string
		pt             orb.Point
		wheelchair     int
	}
	stopByID := map[string]*stop{}
	notStop := map[string]string{} // stations, entrances, nodes, boarding areas: their location_type
	var stopList []*stop
	for i, r := range stops.rows {
		id := stops.get(r, "stop_id")
		if id == "" {
			return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: stops.txt line %d: stop_id is empty", line(i))
		}
		if lt := stops.get(r, "location_type"); lt != "" && lt != "0" {
			notStop[id] = lt
			continue // stations, entrances and nodes are not where buses stop
		}
		lat, err := parseFloat(stops, i, r, "stop_lat", -90, 90)
		if err != nil {
			return nil, nil, 0, err
		}
		lon, err := parseFloat(stops, i, r, "stop_lon", -180, 180)
		if err != nil {
			return nil, nil, 0, err
		}
		wc, _ := strconv.Atoi(stops.get(r, "wheelchair_boarding"))
		s := &stop{id: id, code: stops.get(r, "stop_code"), name: stops.get(r, "stop_name"), pt: orb.Point{lon, lat}, wheelchair: wc}
		if stopByID[id] != nil {
			return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: stops.txt line %d: stop_id %s repeats", line(i), id)
		}
		stopByID[id] = s
		stopList = append(stopList, s)
	}

	// Calendar.
	var svID []string
	var svDays [][]bool
	var svStart, svEnd []time.Time
	days := []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
	services := map[string]bool{}
	seenService := map[string]int{}
	for i, r := range calendarRows(calendar) {
		sid := calendar.get(r, "service_id")
		if sid == "" {
			return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: calendar.txt line %d: service_id is empty", line(i))
		}
		if prev, ok := seenService[sid]; ok {
			return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: calendar.txt line %d: service_id %s repeats (first on line %d)", line(i), sid, line(prev))
		}
		seenService[sid] = i
		services[sid] = true
		var d []bool
		for _, c := range days {
			v := calendar.get(r, c)
			if v != "0" && v != "1" {
				return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: calendar.txt line %d: %s %q is not 0 or 1", line(i), c, v)
			}
			d = append(d, v == "1")
		}
		sd, err1 := time.Parse("20060102", calendar.get(r, "start_date"))
		ed, err2 := time.Parse("20060102", calendar.get(r, "end_date"))
		if err1 != nil || err2 != nil {
			return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: calendar.txt line %d: start_date or end_date is not YYYYMMDD", line(i))
		}
		if ed.Before(sd) {
			return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: calendar.txt line %d: end_date is before start_date", line(i))
		}
		svID, svDays, svStart, svEnd = append(svID, sid), append(svDays, d), append(svStart, sd), append(svEnd, ed)
	}
	var cdID []string
	var cdDate []time.Time
	var cdType []int16
	seenDate := map[[2]string]int{}
	for i, r := range calendarRows(calendarDates) {
		sid, ds, et := calendarDates.get(r, "service_id"), calendarDates.get(r, "date"), calendarDates.get(r, "exception_type")
		d, err := time.Parse("20060102", ds)
		if sid == "" || err != nil {
			return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: calendar_dates.txt line %d: service_id is empty or date %q is not YYYYMMDD", line(i), ds)
		}
		if et != "1" && et != "2" {
			return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: calendar_dates.txt line %d: exception_type %q is not 1 or 2", line(i), et)
		}
		k := [2]string{sid, ds}
		if prev, ok := seenDate[k]; ok {
			return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: calendar_dates.txt line %d: service_id %s date %s repeats (first on line %d)", line(i), sid, ds, line(prev))
		}
		seenDate[k] = i
		services[sid] = true
		cdID, cdDate, cdType = append(cdID, sid), append(cdDate, d), append(cdType, int16(et[0]-'0'))
	}

	// Shapes.
	type shpPt struct {
		seq int
		pt  orb.Point
	}
	shapePts := map[string][]shpPt{}
	if shapes != nil {
		for i, r := range shapes.rows {
			id := shapes.get(r, "shape_id")
			lat, err := parseFloat(shapes, i, r, "shape_pt_lat", -90, 90)
			if err != nil {
				return nil, nil, 0, err
			}
			lon, err := parseFloat(shapes, i, r, "shape_pt_lon", -180, 180)
			if err != nil {
				return nil, nil, 0, err
			}
			seq, err := strconv.Atoi(shapes.get(r, "shape_pt_sequence"))
			if err != nil || id == "" {
				return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: shapes.txt line %d: shape_id empty or shape_pt_sequence not a number", line(i))
			}
			shapePts[id] = append(shapePts[id], shpPt{seq, orb.Point{lon, lat}})
		}
	}
	shapeLines := map[string]orb.LineString{}
	for id, pts := range shapePts {
		sort.Slice(pts, func(a, b int) bool { return pts[a].seq < pts[b].seq })
		var ls orb.LineString
		for _, p := range pts {
			if len(ls) == 0 || ls[len(ls)-1] != p.pt {
				ls = append(ls, p.pt)
			}
		}
		if len(ls) < 2 {
			return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: shapes.txt: shape %s has fewer than two distinct points", id)
		}
		shapeLines[id] = ls
	}

	// Stop times, grouped by trip.
	byTrip := map[string][]stopTime{}
	seqLine := map[string]map[int]int{}
	for i, r := range stopTimes.rows {
		tid := stopTimes.get(r, "trip_id")
		sid := stopTimes.get(r, "stop_id")
		if lt, ok := notStop[sid]; ok {
			return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: stop_times.txt line %d: stop_id %q has location_type %s in stops.txt; stop times must name a stop or platform (location_type 0 or empty)", line(i), sid, lt)
		}
		if stopByID[sid] == nil {
			return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: stop_times.txt line %d: stop_id %q is not in stops.txt", line(i), sid)
		}
		seq, err := strconv.Atoi(stopTimes.get(r, "stop_sequence"))
		if err != nil || seq < 0 {
			return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: stop_times.txt line %d: stop_sequence %q is not a number", line(i), stopTimes.get(r, "stop_sequence"))
		}
		if seqLine[tid] == nil {
			seqLine[tid] = map[int]int{}
		}
		if prev, ok := seqLine[tid][seq]; ok {
			return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: stop_times.txt line %d: trip %s repeats stop_sequence %d (first on line %d)", line(i), tid, seq, line(prev))
		}
		seqLine[tid][seq] = i
		st := stopTime{seq: seq, stop: sid}
		a, d := stopTimes.get(r, "arrival_time"), stopTimes.get(r, "departure_time")
		if a != "" || d != "" {
			if a == "" {
				a = d
			}
			if d == "" {
				d = a
			}
			if st.arr, err = parseTime(a); err == nil {
				st.dep, err = parseTime(d)
			}
			if err != nil {
				return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: stop_times.txt line %d: %v", line(i), err)
			}
			st.hasTime = true
		}
		byTrip[tid] = append(byTrip[tid], st)
	}

	// Trips: order stop times, interpolate missing times, measure stop distances along the shape.
	type trip struct {
		id, route, service, headsign, shape string
		dir                                 *int16
		stops                               []stopTime
		dists                               []float64
	}
	var tripList []*trip
	seenTrip := map[string]bool{}
	for i, r := range trips.rows {
		t := &trip{id: trips.get(r, "trip_id"), route: trips.get(r, "route_id"), service: trips.get(r, "service_id"),
			headsign: trips.get(r, "trip_headsign"), shape: trips.get(r, "shape_id")}
		if routeByID[t.route] == nil {
			return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: trips.txt line %d: route_id %q is not in routes.txt", line(i), t.route)
		}
		if t.id == "" || seenTrip[t.id] {
			return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: trips.txt line %d: trip_id %q is empty or repeats", line(i), t.id)
		}
		seenTrip[t.id] = true
		if !services[t.service] {
			return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: trips.txt line %d: service_id %q is in neither calendar.txt nor calendar_dates.txt", line(i), t.service)
		}
		if d := trips.get(r, "direction_id"); d == "0" || d == "1" {
			v := int16(d[0] - '0')
			t.dir = &v
		}
		t.stops = byTrip[t.id]
		if len(t.stops) < 2 {
			// The MobilityData validator's unusable_trip is a warning: skip the trip, keep the feed.
			sum.Warnings = append(sum.Warnings, fmt.Sprintf("trips.txt line %d: trip %s has %d stop time(s), fewer than two: skipped", line(i), t.id, len(t.stops)))
			continue
		}
		sort.Slice(t.stops, func(a, b int) bool { return t.stops[a].seq < t.stops[b].seq })
		if !t.stops[0].hasTime || !t.stops[len(t.stops)-1].hasTime {
			return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: trip %s: the first and last stop times need times", t.id)
		}
		var pts []orb.Point
		for _, st := range t.stops {
			pts = append(pts, stopByID[st.stop].pt)
		}
		if t.shape == "" || shapeLines[t.shape] == nil {
			if t.shape != "" {
				return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: trips.txt line %d: shape_id %q is not in shapes.txt", line(i), t.shape)
			}
			// No shape: the straight line through the stops stands in for it.
			t.shape = "trip:" + t.id
			shapeLines[t.shape] = orb.LineString(pts)
		}
		t.dists, _ = transit.StopDistances(shapeLines[t.shape], pts)
		// Interpolate times of untimed stops by distance.
		for a := 0; a < len(t.stops); {
			b := a + 1
			for b < len(t.stops) && !t.stops[b].hasTime {
				b++
			}
			for k := a + 1; k < b && b < len(t.stops); k++ {
				f := 0.0
				if span := t.dists[b] - t.dists[a]; span > 0 {
					f = (t.dists[k] - t.dists[a]) / span
				}
				v := t.stops[a].dep + int(f*float64(t.stops[b].arr-t.stops[a].dep))
				t.stops[k].arr, t.stops[k].dep = v, v
			}
			a = b
		}
		for k := 1; k < len(t.stops); k++ {
			if t.stops[k].arr < t.stops[k-1].dep {
				return nil, nil, 0, geoportal.Errorf(geoportal.EINVALID, "gtfs: trip %s: stop_sequence %d arrives before the previous stop departs", t.id, t.stops[k].seq)
			}
		}
		tripList = append(tripList, t)
	}

	var changes []LayerChange
	write := func() error {
		if _, err := tx.Exec(ctx, `TRUNCATE transit.stop_times, transit.trips, transit.shapes, transit.calendar,
			transit.calendar_dates, transit.stops, transit.routes, transit.agencies`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO transit.agencies (agency_id, name, url, timezone)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])`, agID, agName, agURL, agTZ); err != nil {
			return fmt.Errorf("agencies: %w", err)
		}
		var rid, rag, rsh, rlo, rco []string
		var rty []int32
		for _, r := range routeList {
			rid, rag, rsh, rlo, rco, rty = append(rid, r.id), append(rag, r.agency), append(rsh, r.short), append(rlo, r.long), append(rco, r.color), append(rty, int32(r.typ))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO transit.routes (route_id, agency_id, short_name, long_name, color, route_type)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[])`, rid, rag, rsh, rlo, rco, rty); err != nil {
			return fmt.Errorf("routes: %w", err)
		}
		var sid, sco, sna []string
		var slo, sla []float64
		var swc []int16
		for _, s := range stopList {
			sid, sco, sna, slo, sla, swc = append(sid, s.id), append(sco, s.code), append(sna, s.name), append(slo, s.pt[0]), append(sla, s.pt[1]), append(swc, int16(s.wheelchair))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO transit.stops (stop_id, code, name, geom, wheelchair_boarding)
			SELECT id, code, name, ST_SetSRID(ST_MakePoint(lon, lat), 4326), wc
			FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::smallint[]) AS u(id, code, name, lon, lat, wc)`,
			sid, sco, sna, slo, sla, swc); err != nil {
			return fmt.Errorf("stops: %w", err)
		}
		for k := range svID {
			if _, err := tx.Exec(ctx, `INSERT INTO transit.calendar (service_id, days, start_date, end_date) VALUES ($1, $2, $3, $4)`,
				svID[k], svDays[k], svStart[k], svEnd[k]); err != nil {
				return fmt.Errorf("calendar: service %s: %w", svID[k], err)
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO transit.calendar_dates (service_id, date, exception_type)
			SELECT * FROM unnest($1::text[], $2::date[], $3::smallint[])`, cdID, cdDate, cdType); err != nil {
			return fmt.Errorf("calendar dates: %w", err)
		}
		used := map[string]bool{}
		for _, t := range tripList {
			used[t.shape] = true
		}
		var shid, shwkt []string
		for id, ls := range shapeLines {
			if used[id] {
				shid, shwkt = append(shid, id), append(shwkt, wkt.MarshalString(ls))
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO transit.shapes (shape_id, geom, length_m)
			SELECT id, g, ST_Length(g::geography) FROM (SELECT id, ST_GeomFromText(w, 4326) AS g
			FROM unnest($1::text[], $2::text[]) AS u(id, w)) s`, shid, shwkt); err != nil {
			return fmt.Errorf("shapes: %w", err)
		}
		var tid, troute, tsvc, thead, tshape []string
		var tdir []*int16
		var tstart, tend []int32
		var stRows [][]any
		for _, t := range tripList {
			tid, troute, tsvc, thead, tshape = append(tid, t.id), append(troute, t.route), append(tsvc, t.service), append(thead, t.headsign), append(tshape, t.shape)
			tdir = append(tdir, t.dir)
			tstart, tend = append(tstart, int32(t.stops[0].dep)), append(tend, int32(t.stops[len(t.stops)-1].arr))
			for k, st := range t.stops {
				stRows = append(stRows, []any{t.id, int32(st.seq), st.stop, int32(st.arr), int32(st.dep), t.dists[k]})
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO transit.trips (trip_id, route_id, service_id, headsign, shape_id, direction_id, start_s, end_s)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::smallint[], $7::int[], $8::int[])`,
			tid, troute, tsvc, thead, tshape, tdir, tstart, tend); err != nil {
			return fmt.Errorf("trips: %w", err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"transit", "stop_times"},
			[]string{"trip_id", "stop_sequence", "stop_id", "arrival_s", "departure_s", "dist_m"}, pgx.CopyFromRows(stRows)); err != nil {
			return fmt.Errorf("stop times: %w", err)
		}

		if opt.TimetableOnly {
			_, err := tx.Exec(ctx, `SELECT pg_notify('transit_network', '')`)
			return err
		}
		// The map layers: one bus_routes feature per route (its distinct shapes), one bus_stops
		// feature per stop with the routes that serve it.
		delStops, err := tx.Exec(ctx, `DELETE FROM layer.bus_stops`)
		if err != nil {
			return fmt.Errorf("bus_stops layer: %w", err)
		}
		delRoutes, err := tx.Exec(ctx, `DELETE FROM layer.bus_routes`)
		if err != nil {
			return fmt.Errorf("bus_routes layer: %w", err)
		}
		// The route's colour (route_color, six hex digits without '#') as the style reads it.
		insRoutes, err := tx.Exec(ctx, `INSERT INTO layer.bus_routes (geom, ref, name, operator, low_floor_share, color, is_demo)
			SELECT ST_Multi(ST_Collect(DISTINCT sh.geom)), coalesce(nullif(r.short_name, ''), r.route_id), r.long_name,
				coalesce(a.name, ''),
				(SELECT round(100.0 * avg(v.low_floor::int), 1) FROM transit.vehicles v
				 WHERE v.route IN (r.route_id, r.short_name) AND v.route <> ''),
				CASE WHEN r.color ~ '^[0-9A-Fa-f]{6}$' THEN '#' || lower(r.color) END,
				$1
			FROM transit.routes r JOIN transit.trips t ON t.route_id = r.route_id
			JOIN transit.shapes sh ON sh.shape_id = t.shape_id
			LEFT JOIN transit.agencies a ON a.agency_id = r.agency_id
			GROUP BY r.route_id, r.short_name, r.long_name, r.color, a.name`, opt.Demo)
		if err != nil {
			return fmt.Errorf("bus_routes layer: %w", err)
		}
		insStops, err := tx.Exec(ctx, `INSERT INTO layer.bus_stops (geom, name, code, routes, smart, shelter, is_demo)
			SELECT s.geom, s.name, coalesce(nullif(s.code, ''), s.stop_id),
				(SELECT string_agg(DISTINCT coalesce(nullif(r.short_name, ''), r.route_id), ', ')
				 FROM transit.stop_times st JOIN transit.trips t ON t.trip_id = st.trip_id
				 JOIN transit.routes r ON r.route_id = t.route_id WHERE st.stop_id = s.stop_id),
				false, NULL, $1
			FROM transit.stops s`, opt.Demo)
		if err != nil {
			return fmt.Errorf("bus_stops layer: %w", err)
		}
		changes = []LayerChange{
			{Layer: "bus_routes", Deleted: int(delRoutes.RowsAffected()), Inserted: int(insRoutes.RowsAffected())},
			{Layer: "bus_stops", Deleted: int(delStops.RowsAffected()), Inserted: int(insStops.RowsAffected())},
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify('transit_network', '')`)
		return err
	}
	if err := write(); err != nil {
		var ge *geoportal.Error
		if errors.As(err, &ge) {
			return nil, nil, 0, err
		}
		return nil, nil, 0, fmt.Errorf("gtfs import: %w", err)
	}
	sum.Agencies, sum.Routes, sum.Stops, sum.Trips, sum.Services = len(agID), len(routeList), len(stopList), len(tripList), len(services)
	for _, t := range tripList {
		sum.StopTimes += len(t.stops)
	}
	used := map[string]bool{}
	for _, t := range tripList {
		used[t.shape] = true
	}
	sum.Shapes = len(used)
	return sum, changes, records, nil
}
