package pages

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/transit"
	"github.com/aktobe/geoportal/web/reply"
	"github.com/paulmach/orb"
)

// The dispatchers' page: the on-line control's alerts (off route, bunching, scheduled trips
// without a vehicle) with links to the vehicle on the public map, and a vehicle's track drawn on
// a schematic map with a playback (no script).

// dispatchMapLayers is what the public map shows when a dispatcher follows a vehicle there.
const dispatchMapLayers = "city_boundary,districts,streets,buildings,bus_routes,bus_stops,vehicles"

// vehicleMapURL links to the public map centred on a vehicle, its popup open (src/ext/live.js).
func vehicleMapURL(id int64, lon, lat float64, lang string) string {
	return fmt.Sprintf("/#map=16.00/%.5f/%.5f&layers=%s&lang=%s&vehicle=%d", lat, lon, dispatchMapLayers, lang, id)
}

type dispatchAlert struct {
	transit.Alert
	Label    string
	MapURL   string
	TrackURL string
}

type noVehicleRoute struct {
	Route string
	Trips []string
	More  int
}

// Total is how many trips of the route run without a vehicle.
func (g noVehicleRoute) Total() int { return len(g.Trips) + g.More }

type dispatchPage struct {
	page
	Route     string
	At        time.Time
	Live      int
	OffRoute  []dispatchAlert
	Bunching  []dispatchAlert
	NoVehicle []noVehicleRoute
	NoTrips   int
}

// More formats "and N more" in the page's language.
func (p dispatchPage) More(n int) string { return p.T("dispatch.more", "n", n) }

// dispatchUser sends the anonymous to the sign-in page and refuses other roles; ok is false when
// the answer was written.
func (ps *Pages) dispatchUser(w http.ResponseWriter, r *http.Request, p page) bool {
	u, ok := ps.Guard.CurrentUser(r)
	if !ok || p.User == nil {
		signIn(w, r, p.Lang)
		return false
	}
	if !u.HasRole(ps.Roles.Dispatch...) {
		ps.forbidden(w, r, "the dispatchers' page needs the dispatcher, department_staff or admin role")
		return false
	}
	return true
}

// Dispatch lists the on-line control's alerts (GET /staff/dispatch), optionally for one ?route=.
func (ps *Pages) Dispatch(w http.ResponseWriter, r *http.Request) {
	p := dispatchPage{page: ps.newPage(r), At: time.Now()}
	if !ps.dispatchUser(w, r, p.page) {
		return
	}
	ctx := r.Context()
	p.Route = strings.TrimSpace(r.URL.Query().Get("route"))
	if len(p.Route) > 40 {
		p.Error = geoportal.ErrorMessage(geoportal.Errorf(geoportal.EINVALID, "route %q is longer than 40 characters", p.Route[:40]))
		p.Route = ""
	}
	alerts, err := ps.Transit.Alerts(ctx, p.At)
	if err != nil {
		ps.fail(w, r, err)
		return
	}
	live, err := ps.Transit.Hub().Live(ctx)
	if err != nil {
		ps.fail(w, r, err)
		return
	}
	p.Live = len(live)
	pos := make(map[int64]transit.LiveVehicle, len(live))
	for _, v := range live {
		pos[v.ID] = v
	}
	byRoute := map[string]*noVehicleRoute{}
	for _, a := range alerts {
		if p.Route != "" && a.Route != p.Route {
			continue
		}
		switch a.Kind {
		case "no_vehicle":
			g := byRoute[a.Route]
			if g == nil {
				g = &noVehicleRoute{Route: a.Route}
				byRoute[a.Route] = g
			}
			if len(g.Trips) < 6 {
				g.Trips = append(g.Trips, a.TripID)
			} else {
				g.More++
			}
			p.NoTrips++
		case "off_route", "bunching":
			da := dispatchAlert{Alert: a, Label: a.Plate}
			if da.Label == "" {
				da.Label = fmt.Sprintf("#%d", a.VehicleID)
			}
			if v, ok := pos[a.VehicleID]; ok {
				da.MapURL = vehicleMapURL(a.VehicleID, v.Lon, v.Lat, p.Lang)
			}
			da.TrackURL = fmt.Sprintf("/staff/dispatch/track?vehicle=%d&lang=%s", a.VehicleID, p.Lang)
			if a.Kind == "off_route" {
				p.OffRoute = append(p.OffRoute, da)
			} else {
				p.Bunching = append(p.Bunching, da)
			}
		}
	}
	for _, g := range byRoute {
		p.NoVehicle = append(p.NoVehicle, *g)
	}
	sort.Slice(p.NoVehicle, func(i, j int) bool { return routeLess(p.NoVehicle[i].Route, p.NoVehicle[j].Route) })
	ps.render(w, http.StatusOK, p.Lang, "dispatch.html", p)
}

// routeLess orders route numbers as people read them: 2 before 10, then by text.
func routeLess(a, b string) bool {
	na, ea := strconv.Atoi(a)
	nb, eb := strconv.Atoi(b)
	if ea == nil && eb == nil {
		return na < nb
	}
	if (ea == nil) != (eb == nil) {
		return ea == nil
	}
	return a < b
}

// --- the track page ---

type svgPoint struct{ X, Y float64 }

type trackFix struct {
	transit.TrackPoint
	Flags []string
}

type trackPage struct {
	page
	Vehicle    *transit.Vehicle
	VehicleID  string
	From, To   string
	Total      int
	Fixes      []trackFix // the newest listed, oldest first
	Drawn      int
	TrackPath  string
	RoutePaths []string
	Flagged    []svgPoint
	Start, End *svgPoint
	Playback   string // the replay's duration, "12s"
	GeoJSON    string
	MapURL     string
	Gone       bool
}

// Kind names a vehicle kind in the page's language.
func (p trackPage) Kind(k string) string {
	if key := "dispatch.kind_" + k; has(key) {
		return p.T(key)
	}
	return k
}

// Listed formats "the last N of M fixes are listed".
func (p trackPage) Listed() string {
	return p.T("dispatch.listed", "listed", len(p.Fixes), "total", p.Total)
}

const (
	trackSVGWidth  = 640.0
	trackSVGHeight = 420.0
	trackListed    = 300
)

// Track draws a vehicle's track (GET /staff/dispatch/track?vehicle=&from=&to=, city time;
// default the last hour) on a schematic map with its route's line, a replay and the list of fixes.
func (ps *Pages) Track(w http.ResponseWriter, r *http.Request) {
	p := trackPage{page: ps.newPage(r)}
	if !ps.dispatchUser(w, r, p.page) {
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	to := time.Now()
	from := to.Add(-time.Hour)
	fail := func(err error) {
		status := reply.Status(err)
		if status >= 500 {
			ps.fail(w, r, err)
			return
		}
		p.Error = geoportal.ErrorMessage(err)
		ps.render(w, status, p.Lang, "track.html", p)
	}
	p.VehicleID = strings.TrimSpace(q.Get("vehicle"))
	p.From, p.To = from.In(cityClock).Format("2006-01-02T15:04"), to.In(cityClock).Format("2006-01-02T15:04")
	id, err := strconv.ParseInt(p.VehicleID, 10, 64)
	if err != nil || id < 1 {
		fail(geoportal.Errorf(geoportal.EINVALID, "vehicle %q is not a vehicle number", p.VehicleID))
		return
	}
	if v := q.Get("from"); v != "" {
		if from, err = cityTime("from", v); err != nil {
			fail(err)
			return
		}
		p.From = v
	}
	if v := q.Get("to"); v != "" {
		if to, err = cityTime("to", v); err != nil {
			fail(err)
			return
		}
		p.To = v
	}
	who, err := ps.Shared.TransitViewer(r)
	if err != nil {
		fail(err)
		return
	}
	veh, err := ps.Transit.VehicleFor(ctx, who, id)
	if err != nil {
		fail(err)
		return
	}
	p.Vehicle = veh
	pts, err := ps.Transit.Track(ctx, who, id, from, to, 50000)
	if err != nil {
		fail(err)
		return
	}
	p.Total = len(pts)
	p.GeoJSON = fmt.Sprintf("/api/vehicles/%d/track?from=%s&to=%s", id, url.QueryEscape(from.UTC().Format(time.RFC3339)),
		url.QueryEscape(to.UTC().Format(time.RFC3339)))
	listed := pts
	if len(listed) > trackListed {
		listed = listed[len(listed)-trackListed:]
	}
	for _, pt := range listed {
		f := trackFix{TrackPoint: pt}
		for _, bit := range []int16{1, 2, 4, 8} {
			if pt.Flags&bit != 0 {
				f.Flags = append(f.Flags, p.T(fmt.Sprintf("dispatch.flag_%d", bit)))
			}
		}
		p.Fixes = append(p.Fixes, f)
	}
	var shapes []orb.LineString
	if net, err := ps.Transit.Network(ctx); err == nil && veh.Route != "" {
		shapes = net.RouteShapes(veh.Route)
	}
	p.drawTrack(pts, shapes)
	live, err := ps.Transit.Hub().Live(ctx)
	if err != nil {
		ps.fail(w, r, err)
		return
	}
	p.Gone = true
	for _, v := range live {
		if v.ID == id {
			p.MapURL, p.Gone = vehicleMapURL(id, v.Lon, v.Lat, p.Lang), false
		}
	}
	ps.render(w, http.StatusOK, p.Lang, "track.html", p)
}

// drawTrack projects the track (fixes without flags) and the route's shapes to the SVG's box.
func (p *trackPage) drawTrack(pts []transit.TrackPoint, shapes []orb.LineString) {
	merc := func(lon, lat float64) (float64, float64) {
		return lon * math.Pi / 180, math.Log(math.Tan(math.Pi/4 + lat*math.Pi/360))
	}
	var good []orb.Point
	var bad []orb.Point
	for _, pt := range pts {
		if pt.Flags&1 != 0 || math.Abs(pt.Lat) > 85 || math.Abs(pt.Lon) > 180 {
			continue
		}
		if pt.Flags != 0 {
			bad = append(bad, orb.Point{pt.Lon, pt.Lat})
		} else {
			good = append(good, orb.Point{pt.Lon, pt.Lat})
		}
	}
	if len(good)+len(bad) == 0 {
		return
	}
	// The box: the track, at least ~600 m across, with a margin.
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, q := range append(append([]orb.Point{}, good...), bad...) {
		x, y := merc(q[0], q[1])
		minX, minY, maxX, maxY = math.Min(minX, x), math.Min(minY, y), math.Max(maxX, x), math.Max(maxY, y)
	}
	cx, cy := (minX+maxX)/2, (minY+maxY)/2
	minSpan := 600 / 6371008.8 / math.Cos(latOf(cy))
	span := math.Max(math.Max(maxX-minX, (maxY-minY)*trackSVGWidth/trackSVGHeight), minSpan) * 1.15
	scale := trackSVGWidth / span
	pr := func(q orb.Point) svgPoint {
		x, y := merc(q[0], q[1])
		return svgPoint{math.Round((trackSVGWidth/2+(x-cx)*scale)*10) / 10, math.Round((trackSVGHeight/2-(y-cy)*scale)*10) / 10}
	}
	line := func(ls []orb.Point) string {
		var b strings.Builder
		for i, q := range ls {
			s := pr(q)
			if i == 0 {
				b.WriteString("M")
			} else {
				b.WriteString(" L")
			}
			fmt.Fprintf(&b, "%g %g", s.X, s.Y)
		}
		return b.String()
	}
	for _, sh := range shapes {
		p.RoutePaths = append(p.RoutePaths, line(sh))
	}
	if len(good) > 0 {
		p.Drawn = len(good)
		if len(good) == 1 {
			good = append(good, good[0])
		}
		p.TrackPath = line(good)
		a, b := pr(good[0]), pr(good[len(good)-1])
		p.Start, p.End = &a, &b
		// A replay of about a second per 30 fixes, between 4 and 30 seconds.
		p.Playback = fmt.Sprintf("%ds", min(30, max(4, len(good)/30)))
	}
	for _, q := range bad {
		p.Flagged = append(p.Flagged, pr(q))
	}
}

// latOf inverts the Mercator y (radians) to a latitude in radians.
func latOf(y float64) float64 { return 2*math.Atan(math.Exp(y)) - math.Pi/2 }
