package transit

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/jackc/pgx/v5"
)

// FreshFix is how old a vehicle's last fix may be for it to count as running now.
const FreshFix = 3 * time.Minute

// liveTrips reads the vehicles matched to trips with a fix newer than FreshFix.
func (s *Service) liveTrips(ctx context.Context, now time.Time) ([]LiveTrip, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT vehicle_id, trip_id, shape_dist_m, delay_s, at FROM transit.vehicle_state
		WHERE trip_id IS NOT NULL AND at > $1`, now.Add(-FreshFix))
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (LiveTrip, error) {
		var l LiveTrip
		err := row.Scan(&l.VehicleID, &l.TripID, &l.Dist, &l.Delay, &l.At)
		return l, err
	})
}

// StopArrivals is a stop with its next arrivals.
type StopArrivals struct {
	StopID   string    `json:"stop_id"`
	Code     string    `json:"code"`
	Name     string    `json:"name"`
	Now      time.Time `json:"now"`
	Arrivals []Arrival `json:"arrivals"`
	// Hours is the stop's service hours by the timetable, for when no arrival is listed.
	Hours ServiceHours `json:"hours"`
}

// Arrivals returns the next arrivals at a stop (GTFS stop_id or stop code), at most perRoute per route.
func (s *Service) Arrivals(ctx context.Context, stop string, now time.Time, perRoute int) (*StopArrivals, error) {
	net, err := s.Network(ctx)
	if err != nil {
		return nil, err
	}
	st := net.Stops[stop]
	if st == nil {
		for _, x := range net.Stops {
			if x.Code == stop && x.Code != "" {
				st = x
				break
			}
		}
	}
	if st == nil {
		return nil, geoportal.Errorf(geoportal.ENOTFOUND, "stop %q is not in the timetable", stop)
	}
	live, err := s.liveTrips(ctx, now)
	if err != nil {
		return nil, fmt.Errorf("arrivals at %s: %w", stop, err)
	}
	arr := net.Arrivals(st.ID, now, live, perRoute)
	if arr == nil {
		arr = []Arrival{}
	}
	return &StopArrivals{StopID: st.ID, Code: st.Code, Name: st.Name, Now: now, Arrivals: arr, Hours: net.Hours(st.ID, now)}, nil
}

// Alert is a dispatcher alert of the on-line control.
type Alert struct {
	Kind      string    `json:"kind"` // off_route | no_vehicle | bunching
	Route     string    `json:"route"`
	VehicleID int64     `json:"vehicle_id,omitempty"`
	Plate     string    `json:"plate,omitempty"`
	TripID    string    `json:"trip_id,omitempty"`
	DistanceM float64   `json:"distance_m,omitempty"`
	Message   string    `json:"message"`
	At        time.Time `json:"at"`
}

// Alerts returns the on-line control's alerts at now: vehicles off their route by more than
// OffRouteM, trips scheduled now that no vehicle serves, and vehicles of one line closer than
// BunchingM along the same shape.
func (s *Service) Alerts(ctx context.Context, now time.Time) ([]Alert, error) {
	net, err := s.Network(ctx)
	if err != nil {
		return nil, err
	}
	type row struct {
		id           int64
		plate, route string
		at           time.Time
		trip         *string
		dist, off    *float64
	}
	rows, _ := s.Pool.Query(ctx, `SELECT v.id, v.plate, v.route, s.at, s.trip_id, s.shape_dist_m, s.off_route_m
		FROM transit.vehicle_state s JOIN transit.vehicles v ON v.id = s.vehicle_id
		WHERE v.route <> '' AND s.at > $1 ORDER BY v.id`, now.Add(-FreshFix))
	var vs []row
	var r row
	if _, err := pgx.ForEachRow(rows, []any{&r.id, &r.plate, &r.route, &r.at, &r.trip, &r.dist, &r.off}, func() error {
		vs = append(vs, r)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	alerts := []Alert{}
	served := map[string]bool{}
	type onShape struct {
		row
		d float64
	}
	byShape := map[string][]onShape{}
	for _, v := range vs {
		if v.off != nil && *v.off > s.OffRouteM {
			alerts = append(alerts, Alert{Kind: "off_route", Route: v.route, VehicleID: v.id, Plate: v.plate,
				DistanceM: math.Round(*v.off), At: v.at,
				Message: fmt.Sprintf("vehicle %s of route %s is %.0f m off its route", label(v.plate, v.id), v.route, *v.off)})
		}
		if v.trip != nil {
			served[*v.trip] = true
			if t := net.Trips[*v.trip]; t != nil && v.dist != nil {
				byShape[t.ShapeID] = append(byShape[t.ShapeID], onShape{v, *v.dist})
			}
		}
	}
	// Trips that should be running now (started over 3 minutes ago, not yet ended) with no vehicle.
	seen := map[string]bool{}
	for _, t := range net.Trips {
		if seen[t.RouteID] {
			continue
		}
		seen[t.RouteID] = true
		for _, td := range net.activeTrips(t.RouteID, now, -180, 0) {
			if !served[td.trip.ID] {
				rt := td.trip.RouteID
				if r := net.Routes[rt]; r != nil && r.ShortName != "" {
					rt = r.ShortName
				}
				alerts = append(alerts, Alert{Kind: "no_vehicle", Route: rt, TripID: td.trip.ID, At: now,
					Message: fmt.Sprintf("trip %s of route %s is scheduled now but no vehicle is on it", td.trip.ID, rt)})
			}
		}
	}
	for _, list := range byShape {
		sort.Slice(list, func(i, j int) bool { return list[i].d < list[j].d })
		for i := 1; i < len(list); i++ {
			if gap := list[i].d - list[i-1].d; gap < s.BunchingM {
				a, b := list[i-1], list[i]
				alerts = append(alerts, Alert{Kind: "bunching", Route: b.route, VehicleID: b.id, Plate: b.plate,
					TripID: *b.trip, DistanceM: math.Round(gap), At: now,
					Message: fmt.Sprintf("vehicles %s and %s of route %s are %.0f m apart", label(a.plate, a.id), label(b.plate, b.id), b.route, gap)})
			}
		}
	}
	sort.SliceStable(alerts, func(i, j int) bool {
		if alerts[i].Kind != alerts[j].Kind {
			return alerts[i].Kind < alerts[j].Kind
		}
		return alerts[i].Route < alerts[j].Route
	})
	return alerts, nil
}

func label(plate string, id int64) string {
	if plate != "" {
		return plate
	}
	return fmt.Sprintf("#%d", id)
}

// TrackPoint is one stored fix of a vehicle.
type TrackPoint struct {
	At       time.Time `json:"at"`
	Lon      float64   `json:"lon"`
	Lat      float64   `json:"lat"`
	SpeedKmh *float64  `json:"speed_kmh"`
	Heading  *float64  `json:"heading"`
	Flags    int16     `json:"flags"`
}

// MaxTrackSpan is the longest time range Track returns.
const MaxTrackSpan = 7 * 24 * time.Hour

// Viewer is who asks for a vehicle's history: AllDepartments (dispatchers and administrators)
// see every vehicle's, department staff only those of the vehicles of their Department.
type Viewer struct {
	Department     string
	AllDepartments bool
}

// May reports whether the viewer may see the history of vehicle v.
func (w Viewer) May(v *Vehicle) bool {
	return w.AllDepartments || (w.Department != "" && v.Department == w.Department)
}

// VehicleFor returns the vehicle with id when who may see its history: ENOTFOUND when there is
// none, EFORBIDDEN when it belongs to another department (or to none) than the viewer's.
func (s *Service) VehicleFor(ctx context.Context, who Viewer, id int64) (*Vehicle, error) {
	v, err := s.Vehicle(ctx, id)
	if err != nil {
		return nil, err
	}
	if !who.May(v) {
		return nil, geoportal.Errorf(geoportal.EFORBIDDEN, "vehicle %d is not one of your department's vehicles", id)
	}
	return v, nil
}

// Track returns a vehicle's fixes in [from, to), oldest first, at most limit, when who may see
// them (see VehicleFor); flagged fixes are included with their flags so a player can show or skip
// them.
func (s *Service) Track(ctx context.Context, who Viewer, vehicleID int64, from, to time.Time, limit int) ([]TrackPoint, error) {
	if !to.After(from) {
		return nil, geoportal.Errorf(geoportal.EINVALID, "track: to (%s) must be after from (%s)", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	if to.Sub(from) > MaxTrackSpan {
		return nil, geoportal.Errorf(geoportal.EINVALID, "track: at most %s at a time", MaxTrackSpan)
	}
	if _, err := s.VehicleFor(ctx, who, vehicleID); err != nil {
		return nil, err
	}
	rows, _ := s.Pool.Query(ctx, `SELECT at, lon, lat, speed_kmh::float8, heading::float8, flags FROM transit.positions
		WHERE vehicle_id = $1 AND at >= $2 AND at < $3 ORDER BY at LIMIT $4`, vehicleID, from, to, limit)
	pts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (TrackPoint, error) {
		var p TrackPoint
		err := row.Scan(&p.At, &p.Lon, &p.Lat, &p.SpeedKmh, &p.Heading, &p.Flags)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("track of vehicle %d: %w", vehicleID, err)
	}
	if pts == nil {
		pts = []TrackPoint{}
	}
	return pts, nil
}

// NetworkService is the network's service hours by the timetable and its next trip starts.
type NetworkService struct {
	Now        time.Time    `json:"now"`
	Hours      ServiceHours `json:"hours"`
	InService  bool         `json:"in_service"` // now lies between the day's first and last start
	Departures []Departure  `json:"departures"`
}

// Service returns the network's service hours around now and its next limit trip starts.
func (s *Service) Service(ctx context.Context, now time.Time, limit int) (*NetworkService, error) {
	if limit < 1 || limit > 50 {
		return nil, geoportal.Errorf(geoportal.EINVALID, "limit %d is not a number from 1 to 50", limit)
	}
	net, err := s.Network(ctx)
	if err != nil {
		return nil, err
	}
	h, deps := net.Service(now, limit)
	in := !h.First.IsZero() && !now.Before(h.First) && !now.After(h.Last)
	return &NetworkService{Now: now, Hours: h, InService: in, Departures: deps}, nil
}
