package gtfs

import (
	"archive/zip"
	"context"
	"fmt"
	"github.com/aktobe/geoportal/internal/csvsafe"
	"io"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/aktobe/geoportal/internal/wkb"
	"github.com/aktobe/geoportal/layers/transit"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
)

// DemoTimetable describes the timetable FromLayers invents for the drawn network.
type DemoTimetable struct {
	FirstS, LastS int     // first and last departures from the terminals, seconds after midnight
	HeadwayS      int     // seconds between departures
	SpeedKmh      float64 // running speed between stops
	DwellS        int     // seconds at each intermediate stop
	StopRadiusM   float64 // a stop within this distance of a route's line serves it
}

// DefaultDemoTimetable: every 15 minutes from 06:00 to 22:00 at 20 km/h, 20 s at each stop.
var DefaultDemoTimetable = DemoTimetable{FirstS: 6 * 3600, LastS: 22 * 3600, HeadwayS: 900, SpeedKmh: 20, DwellS: 20, StopRadiusM: 60}

// FromLayers writes, as a zipped GTFS feed, the network drawn in the bus_routes and bus_stops
// layers (the demo city's) with an invented timetable: each route runs both ways along its line,
// serving the stops that list it and lie within StopRadiusM of the line, in order along it.
func FromLayers(ctx context.Context, pool *pgxpool.Pool, tt DemoTimetable, w io.Writer) (*Summary, error) {
	type route struct {
		ref, name, operator, color string
		line                       orb.LineString
	}
	var routes []route
	rows, _ := pool.Query(ctx, `SELECT coalesce(ref, id::text), coalesce(name, ''), coalesce(operator, ''),
		coalesce(ltrim(color, '#'), ''), ST_AsBinary(ST_LineMerge(geom))
		FROM layer.bus_routes ORDER BY id`)
	var r route
	var g []byte
	if _, err := pgx.ForEachRow(rows, []any{&r.ref, &r.name, &r.operator, &r.color, &g}, func() error {
		geom, err := wkb.Unmarshal(g)
		if err != nil {
			return err
		}
		switch x := geom.(type) {
		case orb.LineString:
			r.line = x
		case orb.MultiLineString:
			// Not one connected line: drive the longest piece.
			best := 0.0
			for _, ls := range x {
				if _, l := transit.StopDistances(ls, nil); len(ls) > 1 && l >= best {
					best, r.line = l, ls
				}
			}
		}
		if len(r.line) >= 2 {
			routes = append(routes, r)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("demo gtfs: bus_routes: %w", err)
	}
	type stop struct {
		id, code, name string
		pt             orb.Point
		routes         []string
	}
	var stops []stop
	rows, _ = pool.Query(ctx, `SELECT id::text, coalesce(code, ''), coalesce(name, ''), ST_X(geom), ST_Y(geom), coalesce(routes, '') FROM layer.bus_stops ORDER BY id`)
	var s stop
	var list string
	if _, err := pgx.ForEachRow(rows, []any{&s.id, &s.code, &s.name, &s.pt[0], &s.pt[1], &list}, func() error {
		x := s
		x.routes = nil
		for _, p := range strings.Split(list, ",") {
			if p = strings.TrimSpace(p); p != "" {
				x.routes = append(x.routes, p)
			}
		}
		if x.code != "" {
			x.id = x.code
		} else {
			x.id = "f" + x.id
		}
		stops = append(stops, x)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("demo gtfs: bus_stops: %w", err)
	}

	zw := zip.NewWriter(w)
	files := map[string]*csvsafe.Writer{}
	open := func(name string, head ...string) (*csvsafe.Writer, error) {
		f, err := zw.Create(name)
		if err != nil {
			return nil, err
		}
		cw := csvsafe.NewWriter(f) // as every CSV the geoportal writes
		cw.Write(head)
		files[name] = cw
		return cw, nil
	}
	// zip entries are written one after the other: build each file completely before the next.
	sum := &Summary{Agencies: 1, Services: 1}
	type tripOut struct {
		id, route, headsign, shape string
		dir                        int
		times                      [][2]int
		stops                      []string
	}
	type shapeOut struct {
		id   string
		line orb.LineString
	}
	var trips []tripOut
	var shapes []shapeOut
	used := map[string]bool{}
	for ri, rt := range routes {
		rid := fmt.Sprintf("r%d", ri+1)
		for dir := 0; dir < 2; dir++ {
			line := slices.Clone(rt.line)
			if dir == 1 {
				slices.Reverse(line)
			}
			type cand struct {
				id    string
				along float64
			}
			var cs []cand
			for _, st := range stops {
				if !slices.Contains(st.routes, rt.ref) {
					continue
				}
				along, off := transit.Project(line, st.pt)
				if off <= tt.StopRadiusM {
					cs = append(cs, cand{st.id, along})
				}
			}
			sort.Slice(cs, func(a, b int) bool { return cs[a].along < cs[b].along })
			var kept []cand
			for _, c := range cs {
				// Stops come in pairs, one each side of the street: one per place per direction.
				if len(kept) > 0 && c.along-kept[len(kept)-1].along < 40 {
					continue
				}
				kept = append(kept, c)
			}
			if len(kept) < 2 {
				continue
			}
			shapeID := fmt.Sprintf("%s-%d", rid, dir)
			shapes = append(shapes, shapeOut{shapeID, line})
			headsign := rt.name
			if parts := strings.Split(rt.name, " - "); len(parts) == 2 {
				headsign = parts[1-dir]
			}
			v := tt.SpeedKmh / 3.6
			for k, dep := 0, tt.FirstS+dir*tt.HeadwayS/2; dep <= tt.LastS; k, dep = k+1, dep+tt.HeadwayS {
				tr := tripOut{id: fmt.Sprintf("%s-%d-%03d", rid, dir, k), route: rid, headsign: headsign, shape: shapeID, dir: dir}
				t := float64(dep)
				for i, c := range kept {
					if i > 0 {
						t += (c.along - kept[i-1].along) / v
					}
					arr := int(math.Round(t))
					d := arr
					if i > 0 && i < len(kept)-1 {
						d += tt.DwellS
						t += float64(tt.DwellS)
					}
					tr.times = append(tr.times, [2]int{arr, d})
					tr.stops = append(tr.stops, c.id)
					used[c.id] = true
				}
				trips = append(trips, tr)
			}
		}
	}
	hms := func(s int) string { return fmt.Sprintf("%02d:%02d:%02d", s/3600, s%3600/60, s%60) }
	cw, err := open("agency.txt", "agency_id", "agency_name", "agency_url", "agency_timezone", "agency_lang")
	if err != nil {
		return nil, err
	}
	operator := "Aktobe city bus"
	if len(routes) > 0 && routes[0].operator != "" {
		operator = routes[0].operator
	}
	cw.Write([]string{"AKT", operator, "https://aktobe.gov.kz", "Asia/Aqtobe", "ru"})
	cw.Flush()
	if cw, err = open("routes.txt", "route_id", "agency_id", "route_short_name", "route_long_name", "route_type", "route_color"); err != nil {
		return nil, err
	}
	for ri, rt := range routes {
		cw.Write([]string{fmt.Sprintf("r%d", ri+1), "AKT", rt.ref, rt.name, "3", rt.color})
	}
	cw.Flush()
	if cw, err = open("stops.txt", "stop_id", "stop_code", "stop_name", "stop_lat", "stop_lon"); err != nil {
		return nil, err
	}
	for _, st := range stops {
		if used[st.id] {
			cw.Write([]string{st.id, st.code, st.name, fmt.Sprintf("%.7f", st.pt[1]), fmt.Sprintf("%.7f", st.pt[0])})
			sum.Stops++
		}
	}
	cw.Flush()
	if cw, err = open("calendar.txt", "service_id", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "start_date", "end_date"); err != nil {
		return nil, err
	}
	cw.Write([]string{"DAILY", "1", "1", "1", "1", "1", "1", "1", "20240101", "20351231"})
	cw.Flush()
	if cw, err = open("shapes.txt", "shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"); err != nil {
		return nil, err
	}
	for _, sh := range shapes {
		for i, p := range sh.line {
			cw.Write([]string{sh.id, fmt.Sprintf("%.7f", p[1]), fmt.Sprintf("%.7f", p[0]), fmt.Sprint(i + 1)})
		}
	}
	cw.Flush()
	if cw, err = open("trips.txt", "route_id", "service_id", "trip_id", "trip_headsign", "direction_id", "shape_id"); err != nil {
		return nil, err
	}
	for _, tr := range trips {
		cw.Write([]string{tr.route, "DAILY", tr.id, tr.headsign, fmt.Sprint(tr.dir), tr.shape})
	}
	cw.Flush()
	if cw, err = open("stop_times.txt", "trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"); err != nil {
		return nil, err
	}
	for _, tr := range trips {
		for i := range tr.stops {
			cw.Write([]string{tr.id, hms(tr.times[i][0]), hms(tr.times[i][1]), tr.stops[i], fmt.Sprint(i + 1)})
			sum.StopTimes++
		}
	}
	cw.Flush()
	for name, cw := range files {
		// Each file is flushed above; this Flush writes nothing and reports any error of them.
		if err := cw.Flush(); err != nil {
			return nil, fmt.Errorf("demo gtfs: %s: %w", name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	sum.Routes, sum.Trips, sum.Shapes = len(routes), len(trips), len(shapes)
	return sum, nil
}
