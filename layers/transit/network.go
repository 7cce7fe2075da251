package transit

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"
	_ "time/tzdata" // the agency time zone (Asia/Aqtobe) must load on machines without tzdata

	"github.com/aktobe/geoportal/internal/wkb"
	"github.com/aktobe/geoportal/layers"
	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
)

// Network is the GTFS timetable in memory: trips with their stop times and shapes, used to match
// vehicles to trips and to predict arrivals. It is immutable once loaded.
type Network struct {
	Loc          *time.Location
	Routes       map[string]*Route
	Trips        map[string]*Trip
	Stops        map[string]*Stop
	tripsByRoute map[string][]*Trip // by route_id and by short name
	stopVisits   map[string][]stopVisit
	services     map[string]service
	exceptions   map[serviceDate]bool // calendar_dates: true added, false removed
	shapes       map[string]*path
}

// Route is a GTFS route.
type Route struct {
	ID, ShortName, LongName, Color string
	Type                           int
}

// Stop is a GTFS stop.
type Stop struct {
	ID, Code, Name string
	Point          orb.Point
}

// Trip is a GTFS trip with its stop times in sequence and its shape.
type Trip struct {
	ID, RouteID, ServiceID, Headsign, ShapeID string
	Direction                                 int
	Start, End                                int // seconds of the service day
	Stops                                     []StopTime
	shape                                     *path
}

// StopTime is a trip's visit of a stop; Dist is the stop's distance along the trip's shape (m).
type StopTime struct {
	StopID   string
	Seq      int
	Arr, Dep int
	Dist     float64
}

type stopVisit struct {
	trip *Trip
	idx  int
}

type serviceDate struct {
	service string
	date    time.Time // UTC midnight of the date
}

type service struct {
	days       [7]bool // Monday first
	start, end time.Time
}

// LoadNetwork reads the timetable from the transit tables.
func LoadNetwork(ctx context.Context, q Querier) (*Network, error) {
	n := &Network{Routes: map[string]*Route{}, Trips: map[string]*Trip{}, Stops: map[string]*Stop{},
		tripsByRoute: map[string][]*Trip{}, stopVisits: map[string][]stopVisit{}, services: map[string]service{},
		exceptions: map[serviceDate]bool{}, shapes: map[string]*path{}}
	tz := layers.TimeZone
	if err := q.QueryRow(ctx, `SELECT coalesce((SELECT timezone FROM transit.agencies ORDER BY agency_id LIMIT 1), $1)`, layers.TimeZone).Scan(&tz); err != nil {
		return nil, fmt.Errorf("transit network: agency: %w", err)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("transit network: agency time zone %q: %w", tz, err)
	}
	n.Loc = loc
	rows, _ := q.Query(ctx, `SELECT route_id, short_name, long_name, route_type, color FROM transit.routes`)
	var r Route
	if _, err := pgx.ForEachRow(rows, []any{&r.ID, &r.ShortName, &r.LongName, &r.Type, &r.Color}, func() error {
		rr := r
		n.Routes[r.ID] = &rr
		return nil
	}); err != nil {
		return nil, fmt.Errorf("transit network: routes: %w", err)
	}
	rows, _ = q.Query(ctx, `SELECT stop_id, code, name, ST_X(geom), ST_Y(geom) FROM transit.stops`)
	var s Stop
	if _, err := pgx.ForEachRow(rows, []any{&s.ID, &s.Code, &s.Name, &s.Point[0], &s.Point[1]}, func() error {
		ss := s
		n.Stops[s.ID] = &ss
		return nil
	}); err != nil {
		return nil, fmt.Errorf("transit network: stops: %w", err)
	}
	rows, _ = q.Query(ctx, `SELECT shape_id, ST_AsBinary(geom) FROM transit.shapes`)
	var id string
	var g []byte
	if _, err := pgx.ForEachRow(rows, []any{&id, &g}, func() error {
		geom, err := wkb.Unmarshal(g)
		if err != nil {
			return err
		}
		ls, ok := geom.(orb.LineString)
		if !ok {
			return fmt.Errorf("shape %s is not a line", id)
		}
		n.shapes[id] = newPath(ls)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("transit network: shapes: %w", err)
	}
	rows, _ = q.Query(ctx, `SELECT service_id, days, start_date, end_date FROM transit.calendar`)
	var days []bool
	var sd, ed time.Time
	if _, err := pgx.ForEachRow(rows, []any{&id, &days, &sd, &ed}, func() error {
		var sv service
		copy(sv.days[:], days)
		sv.start, sv.end = sd, ed
		n.services[id] = sv
		return nil
	}); err != nil {
		return nil, fmt.Errorf("transit network: calendar: %w", err)
	}
	rows, _ = q.Query(ctx, `SELECT service_id, date, exception_type FROM transit.calendar_dates`)
	var exc int16
	if _, err := pgx.ForEachRow(rows, []any{&id, &sd, &exc}, func() error {
		n.exceptions[serviceDate{id, time.Date(sd.Year(), sd.Month(), sd.Day(), 0, 0, 0, 0, time.UTC)}] = exc == 1
		return nil
	}); err != nil {
		return nil, fmt.Errorf("transit network: calendar dates: %w", err)
	}
	rows, _ = q.Query(ctx, `SELECT trip_id, route_id, service_id, headsign, coalesce(direction_id, 0), coalesce(shape_id, ''),
		start_s, end_s FROM transit.trips`)
	var t Trip
	if _, err := pgx.ForEachRow(rows, []any{&t.ID, &t.RouteID, &t.ServiceID, &t.Headsign, &t.Direction, &t.ShapeID, &t.Start, &t.End}, func() error {
		tt := t
		tt.shape = n.shapes[t.ShapeID]
		n.Trips[t.ID] = &tt
		n.tripsByRoute[t.RouteID] = append(n.tripsByRoute[t.RouteID], &tt)
		if r := n.Routes[t.RouteID]; r != nil && r.ShortName != "" && r.ShortName != r.ID {
			n.tripsByRoute[r.ShortName] = append(n.tripsByRoute[r.ShortName], &tt)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("transit network: trips: %w", err)
	}
	rows, _ = q.Query(ctx, `SELECT trip_id, stop_sequence, stop_id, arrival_s, departure_s, dist_m FROM transit.stop_times ORDER BY trip_id, stop_sequence`)
	var st StopTime
	if _, err := pgx.ForEachRow(rows, []any{&id, &st.Seq, &st.StopID, &st.Arr, &st.Dep, &st.Dist}, func() error {
		if t := n.Trips[id]; t != nil {
			t.Stops = append(t.Stops, st)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("transit network: stop times: %w", err)
	}
	for _, t := range n.Trips {
		for i, st := range t.Stops {
			n.stopVisits[st.StopID] = append(n.stopVisits[st.StopID], stopVisit{t, i})
		}
	}
	return n, nil
}

// Querier is what LoadNetwork needs: a pool, a connection or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// serviceDay returns the local midnight of the service day holding t and t's seconds into it.
func (n *Network) serviceDay(t time.Time) (time.Time, int) {
	lt := t.In(n.Loc)
	day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, n.Loc)
	return day, int(lt.Sub(day) / time.Second)
}

// runs reports whether the trip's service runs on the service day starting at day: an exception
// of calendar_dates.txt for that date decides, else the weekly pattern of calendar.txt.
func (n *Network) runs(t *Trip, day time.Time) bool {
	d := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
	if added, ok := n.exceptions[serviceDate{t.ServiceID, d}]; ok {
		return added
	}
	sv, ok := n.services[t.ServiceID]
	if !ok {
		return false
	}
	if d.Before(sv.start) || d.After(sv.end) {
		return false
	}
	return sv.days[(int(day.Weekday())+6)%7]
}

// tripDay is a trip on one service day: the day's local midnight and the trip.
type tripDay struct {
	trip *Trip
	day  time.Time
	// secs is the query time in seconds of this service day (may exceed 86400 for yesterday's trips)
	secs int
}

// activeTrips returns the trips of route (route_id or short name) whose window [start-before,
// end+after] holds t, on today's and yesterday's service day (GTFS times may pass 24:00).
func (n *Network) activeTrips(route string, t time.Time, before, after int) []tripDay {
	day, secs := n.serviceDay(t)
	var out []tripDay
	for _, back := range []int{0, 1} {
		d := day.AddDate(0, 0, -back)
		s := secs + back*86400
		for _, tr := range n.tripsByRoute[route] {
			if s >= tr.Start-before && s <= tr.End+after && n.runs(tr, d) {
				out = append(out, tripDay{tr, d, s})
			}
		}
	}
	return out
}

// scheduledAt returns the scheduled time (seconds of the service day) at distance d along the trip.
func (t *Trip) scheduledAt(d float64) float64 {
	st := t.Stops
	if len(st) == 0 {
		return float64(t.Start)
	}
	if d <= st[0].Dist {
		return float64(st[0].Dep)
	}
	for i := 1; i < len(st); i++ {
		if d <= st[i].Dist {
			span := st[i].Dist - st[i-1].Dist
			f := 0.0
			if span > 0 {
				f = (d - st[i-1].Dist) / span
			}
			return float64(st[i-1].Dep) + f*float64(st[i].Arr-st[i-1].Dep)
		}
	}
	return float64(st[len(st)-1].Arr)
}

// Match is a vehicle matched to a trip: its distance along the trip's shape, its schedule
// deviation (positive: late) and its distance from the shape.
type Match struct {
	TripID string
	Dist   float64
	Delay  int
	Off    float64
}

// maxMatchOff is how far from a trip's shape a vehicle may be and still be matched to it.
const maxMatchOff = 150.0

// Match matches a vehicle of route at pt at time t to one of the route's trips running then: the
// trip whose schedule the vehicle fits best, preferring prev (its last trip) when it still fits.
// A known heading (degrees; NaN when unknown) rules out trips running the other way along the
// same street. ok is false when no trip fits; off is then the distance to the nearest shape of
// the route (or +Inf when the route has no shapes).
func (n *Network) Match(route string, pt orb.Point, heading float64, t time.Time, prev Match) (m Match, ok bool, off float64) {
	off = math.Inf(1)
	bestScore := math.Inf(1)
	// Trips of a line share a few shapes: project onto each shape once.
	type proj struct{ along, off float64 }
	free := map[*path]proj{}
	project := func(p *path) (float64, float64) {
		if r, ok := free[p]; ok {
			return r.along, r.off
		}
		a, o := p.project(pt, 0)
		free[p] = proj{a, o}
		return a, o
	}
	for _, td := range n.activeTrips(route, t, 20*60, 30*60) {
		tr := td.trip
		if tr.shape == nil || len(tr.Stops) == 0 {
			continue
		}
		along, o := project(tr.shape)
		if prev.TripID == tr.ID && prev.Dist > 200 {
			// On a shape that passes a place twice, stay on the stretch the vehicle is on,
			// unless it is far better placed elsewhere (it started the trip again).
			if a2, o2 := tr.shape.project(pt, prev.Dist-200); o2 <= o+50 {
				along, o = a2, o2
			}
		}
		off = math.Min(off, o)
		if o > maxMatchOff {
			continue
		}
		if !math.IsNaN(heading) {
			diff := math.Abs(math.Mod(heading-tr.shape.bearingAt(along)+540, 360) - 180)
			if diff > 100 {
				continue
			}
		}
		delay := float64(td.secs) - tr.scheduledAt(along)
		score := math.Abs(delay) + o
		if prev.TripID == tr.ID {
			score -= 180
		}
		if score < bestScore {
			bestScore = score
			m = Match{TripID: tr.ID, Dist: along, Delay: int(math.Round(delay)), Off: o}
			ok = true
		}
	}
	if math.IsInf(off, 1) {
		// No trip running now: distance to any shape of the route, for the off-route check.
		seen := map[*path]bool{}
		for _, tr := range n.tripsByRoute[route] {
			if tr.shape != nil && !seen[tr.shape] {
				seen[tr.shape] = true
				_, o := tr.shape.project(pt, 0)
				off = math.Min(off, o)
			}
		}
	}
	return m, ok, off
}

// HasRoute reports whether route (route_id or short name) has trips.
func (n *Network) HasRoute(route string) bool { return len(n.tripsByRoute[route]) > 0 }

// RouteID returns the route_id of route, given as a route_id or as a route_short_name; ok is false
// when no route has it or when the short name is shared by several routes.
func (n *Network) RouteID(route string) (id string, ok bool) {
	if route == "" {
		return "", false
	}
	if r := n.Routes[route]; r != nil {
		return r.ID, true
	}
	for _, r := range n.Routes {
		if r.ShortName == route {
			if ok {
				return "", false
			}
			id, ok = r.ID, true
		}
	}
	return id, ok
}

// RouteOf returns the route of a trip, or nil.
func (n *Network) RouteOf(tripID string) *Route {
	if t := n.Trips[tripID]; t != nil {
		return n.Routes[t.RouteID]
	}
	return nil
}

// Arrival is a predicted (or, with no live vehicle, scheduled) arrival of a trip at a stop.
type Arrival struct {
	RouteID   string    `json:"route_id"`
	Route     string    `json:"route"`
	Headsign  string    `json:"headsign"`
	TripID    string    `json:"trip_id"`
	VehicleID int64     `json:"vehicle_id,omitempty"`
	Scheduled time.Time `json:"scheduled"`
	Predicted time.Time `json:"predicted"`
	DelayS    int       `json:"delay_s"`
	Realtime  bool      `json:"realtime"`
	Minutes   int       `json:"minutes"`
}

// ServiceHours is when buses serve a stop by the timetable: the first and last scheduled departure
// of the service day of a time (zero when no trip serves the stop that day), and the next
// scheduled departure after that time (zero when none in the coming week). The map says it when
// no bus is live ("service runs 06:00–23:00"), e.g. at night.
type ServiceHours struct {
	First time.Time `json:"first,omitzero"`
	Last  time.Time `json:"last,omitzero"`
	Next  time.Time `json:"next,omitzero"`
}

// Hours returns the timetable's service hours of stop around now.
func (n *Network) Hours(stopID string, now time.Time) ServiceHours {
	var h ServiceHours
	day, _ := n.serviceDay(now)
	for _, v := range n.stopVisits[stopID] {
		dep := v.trip.Stops[v.idx].Dep
		if n.runs(v.trip, day) {
			t := day.Add(time.Duration(dep) * time.Second)
			if h.First.IsZero() || t.Before(h.First) {
				h.First = t
			}
			if t.After(h.Last) {
				h.Last = t
			}
		}
		// Yesterday's trips running past midnight, today's and the next week's.
		for k := -1; k <= 7; k++ {
			d := day.AddDate(0, 0, k)
			t := d.Add(time.Duration(dep) * time.Second)
			if !t.After(now) || (!h.Next.IsZero() && !t.Before(h.Next)) || !n.runs(v.trip, d) {
				continue
			}
			h.Next = t
		}
	}
	return h
}

// LiveTrip is a vehicle's current trip match, as stored in transit.vehicle_state.
type LiveTrip struct {
	VehicleID int64
	TripID    string
	Dist      float64
	Delay     int
	At        time.Time
}

// Arrivals predicts the next arrivals at stop after now: a trip with a matched vehicle that has
// not passed the stop arrives at its scheduled time plus the vehicle's current deviation; trips
// without a vehicle keep their schedule. At most perRoute arrivals per route, soonest first.
func (n *Network) Arrivals(stopID string, now time.Time, live []LiveTrip, perRoute int) []Arrival {
	byTrip := map[string]LiveTrip{}
	for _, l := range live {
		if old, ok := byTrip[l.TripID]; !ok || l.At.After(old.At) {
			byTrip[l.TripID] = l
		}
	}
	day, secs := n.serviceDay(now)
	var out []Arrival
	for _, v := range n.stopVisits[stopID] {
		st := v.trip.Stops[v.idx]
		for _, back := range []int{0, 1} {
			d := day.AddDate(0, 0, -back)
			s := secs + back*86400
			if st.Arr < s-3600 || st.Arr > s+3*3600 || !n.runs(v.trip, d) {
				continue
			}
			sched := d.Add(time.Duration(st.Arr) * time.Second)
			a := Arrival{RouteID: v.trip.RouteID, Headsign: v.trip.Headsign, TripID: v.trip.ID, Scheduled: sched, Predicted: sched}
			if r := n.Routes[v.trip.RouteID]; r != nil {
				a.Route = r.ShortName
			}
			if l, ok := byTrip[v.trip.ID]; ok && back == 0 {
				if l.Dist > st.Dist+30 {
					continue // the vehicle has passed the stop
				}
				a.Realtime, a.VehicleID, a.DelayS = true, l.VehicleID, l.Delay
				a.Predicted = sched.Add(time.Duration(l.Delay) * time.Second)
				// A late vehicle cannot arrive before now; an early one waits at timing points but
				// not at every stop, so the deviation is carried forward unchanged.
				if a.Predicted.Before(now) {
					a.Predicted = now
				}
			} else if sched.Before(now) {
				continue
			}
			a.Minutes = int(math.Round(a.Predicted.Sub(now).Minutes()))
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Predicted.Before(out[j].Predicted) })
	count := map[string]int{}
	kept := out[:0]
	for _, a := range out {
		if count[a.RouteID] < perRoute {
			count[a.RouteID]++
			kept = append(kept, a)
		}
	}
	return kept
}

// Departure is a trip's scheduled start: its route, headsign, first stop and time.
type Departure struct {
	TripID    string    `json:"trip_id"`
	RouteID   string    `json:"route_id"`
	Route     string    `json:"route"` // short name, else the route id
	Color     string    `json:"color,omitempty"`
	Headsign  string    `json:"headsign"`
	FromStop  string    `json:"from_stop"`
	Departure time.Time `json:"departure"`
}

// Service returns the network's service hours around now by the timetable (the first and last
// trip start of now's service day over every trip, and the next start after now) and the next
// limit trip starts after now within the coming week, soonest first: what the live map shows
// when no bus reports its position, e.g. at night.
func (n *Network) Service(now time.Time, limit int) (ServiceHours, []Departure) {
	var h ServiceHours
	day, _ := n.serviceDay(now)
	type start struct {
		t    time.Time
		trip *Trip
	}
	var next []start
	for _, tr := range n.Trips {
		if len(tr.Stops) == 0 {
			continue
		}
		dep := tr.Stops[0].Dep
		if n.runs(tr, day) {
			t := day.Add(time.Duration(dep) * time.Second)
			if h.First.IsZero() || t.Before(h.First) {
				h.First = t
			}
			if t.After(h.Last) {
				h.Last = t
			}
		}
		for k := -1; k <= 7; k++ {
			d := day.AddDate(0, 0, k)
			t := d.Add(time.Duration(dep) * time.Second)
			if !t.After(now) || !n.runs(tr, d) {
				continue
			}
			next = append(next, start{t, tr})
			break // the soonest of this trip
		}
	}
	sort.Slice(next, func(i, j int) bool {
		if !next[i].t.Equal(next[j].t) {
			return next[i].t.Before(next[j].t)
		}
		return next[i].trip.ID < next[j].trip.ID
	})
	if len(next) > 0 {
		h.Next = next[0].t
	}
	out := []Departure{}
	for _, s := range next {
		if len(out) == limit {
			break
		}
		d := Departure{TripID: s.trip.ID, RouteID: s.trip.RouteID, Route: s.trip.RouteID, Headsign: s.trip.Headsign, Departure: s.t}
		if r := n.Routes[s.trip.RouteID]; r != nil {
			if r.ShortName != "" {
				d.Route = r.ShortName
			}
			d.Color = r.Color
		}
		if st := n.Stops[s.trip.Stops[0].StopID]; st != nil {
			d.FromStop = st.Name
		}
		out = append(out, d)
	}
	return h, out
}
