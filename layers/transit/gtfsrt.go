package transit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"
)

type feedVehicle struct {
	id             int64
	plate, route   string
	at             time.Time
	lon, lat       float64
	speed, heading *float64
	trip           *string
	dist           *float64
	delay          *int
}

func (s *Service) feedVehicles(ctx context.Context, now time.Time) ([]feedVehicle, time.Time, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT v.id, v.plate, v.route, s.at, s.lon, s.lat, s.speed_kmh::float8, s.heading::float8, s.trip_id, s.shape_dist_m, s.delay_s
		FROM transit.vehicle_state s JOIN transit.vehicles v ON v.id = s.vehicle_id WHERE s.at > $1 ORDER BY v.id`, now.Add(-LiveWindow))
	var out []feedVehicle
	var last time.Time
	var f feedVehicle
	_, err := pgx.ForEachRow(rows, []any{&f.id, &f.plate, &f.route, &f.at, &f.lon, &f.lat, &f.speed, &f.heading, &f.trip, &f.dist, &f.delay}, func() error {
		out = append(out, f)
		if f.at.After(last) {
			last = f.at
		}
		f = feedVehicle{}
		return nil
	})
	if err != nil {
		return nil, last, fmt.Errorf("gtfs-rt: %w", err)
	}
	return out, last, nil
}

func header(now time.Time) *gtfs.FeedHeader {
	return &gtfs.FeedHeader{GtfsRealtimeVersion: proto.String("2.0"),
		Incrementality: gtfs.FeedHeader_FULL_DATASET.Enum(), Timestamp: proto.Uint64(uint64(now.Unix()))}
}

// VehiclePositionsFeed returns the GTFS-realtime VehiclePositions feed and the time of its newest fix.
func (s *Service) VehiclePositionsFeed(ctx context.Context, now time.Time) ([]byte, time.Time, error) {
	net, err := s.Network(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	vs, last, err := s.feedVehicles(ctx, now)
	if err != nil {
		return nil, last, err
	}
	msg := &gtfs.FeedMessage{Header: header(now)}
	for _, v := range vs {
		id := strconv.FormatInt(v.id, 10)
		vp := &gtfs.VehiclePosition{
			Vehicle:   &gtfs.VehicleDescriptor{Id: proto.String(id), Label: proto.String(label(v.plate, v.id))},
			Position:  &gtfs.Position{Latitude: proto.Float32(float32(v.lat)), Longitude: proto.Float32(float32(v.lon))},
			Timestamp: proto.Uint64(uint64(v.at.Unix())),
		}
		if v.plate != "" {
			vp.Vehicle.LicensePlate = proto.String(v.plate)
		}
		if v.heading != nil {
			vp.Position.Bearing = proto.Float32(float32(*v.heading))
		}
		if v.speed != nil {
			vp.Position.Speed = proto.Float32(float32(*v.speed / 3.6))
		}
		vp.Trip = vehicleTrip(net, v)
		msg.Entity = append(msg.Entity, &gtfs.FeedEntity{Id: proto.String("v" + id), Vehicle: vp})
	}
	b, err := proto.Marshal(msg)
	return b, last, err
}

// vehicleTrip is the trip descriptor of a vehicle position: the matched trip with its route, or,
// for a vehicle of a line that no scheduled trip fits now (between trips, early, off its shapes),
// the route alone with schedule_relationship ADDED. The specification lets a TripDescriptor name
// "all the trips along a given route" by route_id alone, and says a trip run in accordance with a
// schedule not reflected in GTFS "shouldn't be marked as SCHEDULED, but likely as ADDED".
// Consumers (OneBusAway, Transit) drop vehicles without a trip descriptor. Vehicles serving no
// line (municipal fleet) or a line the timetable does not have get none.
func vehicleTrip(net *Network, v feedVehicle) *gtfs.TripDescriptor {
	if v.trip != nil {
		if t := net.Trips[*v.trip]; t != nil {
			return &gtfs.TripDescriptor{TripId: proto.String(t.ID), RouteId: proto.String(t.RouteID),
				ScheduleRelationship: gtfs.TripDescriptor_SCHEDULED.Enum()}
		}
	}
	if id, ok := net.RouteID(v.route); ok {
		return &gtfs.TripDescriptor{RouteId: proto.String(id), ScheduleRelationship: gtfs.TripDescriptor_ADDED.Enum()}
	}
	return nil
}

// TripUpdatesFeed returns the GTFS-realtime TripUpdates feed: for each trip with a vehicle
// matched to it and a fix younger than FreshFix, its remaining stops with the vehicle's current
// deviation carried forward. Vehicles that match no trip are in VehiclePositions only: without a
// trip there are no stop times to predict.
func (s *Service) TripUpdatesFeed(ctx context.Context, now time.Time) ([]byte, time.Time, error) {
	net, err := s.Network(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	vs, last, err := s.feedVehicles(ctx, now)
	if err != nil {
		return nil, last, err
	}
	msg := &gtfs.FeedMessage{Header: header(now)}
	done := map[string]bool{}
	for _, v := range vs {
		if v.trip == nil || v.delay == nil || v.dist == nil || done[*v.trip] || now.Sub(v.at) > FreshFix {
			continue
		}
		t := net.Trips[*v.trip]
		if t == nil {
			continue
		}
		done[t.ID] = true
		day, _ := net.serviceDay(v.at)
		id := strconv.FormatInt(v.id, 10)
		tu := &gtfs.TripUpdate{
			Trip: &gtfs.TripDescriptor{TripId: proto.String(t.ID), RouteId: proto.String(t.RouteID),
				StartDate: proto.String(day.Format("20060102")), ScheduleRelationship: gtfs.TripDescriptor_SCHEDULED.Enum()},
			Vehicle:   &gtfs.VehicleDescriptor{Id: proto.String(id), Label: proto.String(label(v.plate, v.id))},
			Timestamp: proto.Uint64(uint64(v.at.Unix())),
			Delay:     proto.Int32(int32(*v.delay)),
		}
		for _, st := range t.Stops {
			if st.Dist+30 < *v.dist {
				continue
			}
			arr := day.Add(time.Duration(st.Arr+*v.delay) * time.Second)
			dep := day.Add(time.Duration(st.Dep+*v.delay) * time.Second)
			tu.StopTimeUpdate = append(tu.StopTimeUpdate, &gtfs.TripUpdate_StopTimeUpdate{
				StopSequence: proto.Uint32(uint32(st.Seq)), StopId: proto.String(st.StopID),
				ScheduleRelationship: gtfs.TripUpdate_StopTimeUpdate_SCHEDULED.Enum(),
				Arrival:              &gtfs.TripUpdate_StopTimeEvent{Delay: proto.Int32(int32(*v.delay)), Time: proto.Int64(arr.Unix())},
				Departure:            &gtfs.TripUpdate_StopTimeEvent{Delay: proto.Int32(int32(*v.delay)), Time: proto.Int64(dep.Unix())},
			})
		}
		if len(tu.StopTimeUpdate) == 0 {
			continue
		}
		msg.Entity = append(msg.Entity, &gtfs.FeedEntity{Id: proto.String("t" + t.ID), TripUpdate: tu})
	}
	b, err := proto.Marshal(msg)
	return b, last, err
}
