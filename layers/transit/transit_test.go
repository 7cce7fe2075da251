package transit_test

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/importers"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/transit"
	gtfsimport "github.com/aktobe/geoportal/layers/transit/gtfs"
	"github.com/aktobe/geoportal/layers/transit/wialon"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/proto"
)

func newService(t testing.TB) (*transit.Service, *pgxpool.Pool) {
	t.Helper()
	pool := dbtest.New(t)
	s := transit.New(pool, nil)
	t.Cleanup(s.Close)
	return s, pool
}

func importFeed(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	if _, _, err := importers.New(pool, nil).ImportGTFS(context.Background(), os.DirFS("gtfs/testdata/small"), "small", gtfsimport.Options{}, importers.Request{}); err != nil {
		t.Fatal(err)
	}
}

func addVehicle(t *testing.T, s *transit.Service, nv transit.NewVehicle) (*transit.Vehicle, string) {
	t.Helper()
	v, key, err := s.AddVehicle(context.Background(), nv)
	if err != nil {
		t.Fatal(err)
	}
	return v, key
}

// yesterday returns a time of yesterday's service day in Aktobe (always in the past).
func yesterday(h, m, sec int) time.Time {
	loc, _ := time.LoadLocation("Asia/Aqtobe")
	d := time.Now().In(loc).AddDate(0, 0, -1)
	return time.Date(d.Year(), d.Month(), d.Day(), h, m, sec, 0, loc)
}

// offset moves a lon/lat point by dx, dy metres.
func offset(lon, lat, dx, dy float64) (float64, float64) {
	return lon + dx/(111320*math.Cos(lat*math.Pi/180)), lat + dy/110540
}

func TestIngestFlagsAndIdempotentResend(t *testing.T) {
	ctx := context.Background()
	s, pool := newService(t)
	v, _ := addVehicle(t, s, transit.NewVehicle{DeviceID: "860000000000001", Plate: "123 ABC 04", Route: "5"})
	t0 := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	lon, lat := 57.1669, 50.2839
	p := func(dt int, dx, dy float64) transit.Position {
		x, y := offset(lon, lat, dx, dy)
		return transit.Position{VehicleID: v.ID, At: t0.Add(time.Duration(dt) * time.Second), Lon: x, Lat: y,
			SpeedKmh: 20, Heading: 90, AltM: math.NaN(), Sats: 9, Source: transit.SourceHTTP}
	}
	batch := []transit.Position{
		p(0, 0, 0),
		p(10, 50, 0),
		p(20, 10000, 0), // 10 km in 10 s: a teleport
		p(30, 100, 0),   // fine against the last good fix
		{VehicleID: v.ID, At: time.Now().Add(time.Hour), Lon: lon, Lat: lat, SpeedKmh: math.NaN(), Heading: math.NaN(), AltM: math.NaN(), Sats: -1},
		{VehicleID: v.ID, At: t0.Add(40 * time.Second), Lon: lon, Lat: 95, SpeedKmh: math.NaN(), Heading: math.NaN(), AltM: math.NaN(), Sats: -1},
	}
	res, err := s.Ingest(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if res != (transit.IngestResult{Stored: 6, Flagged: 3}) {
		t.Errorf("first batch %+v", res)
	}
	// An older fix arriving late is kept but not drawn.
	res, err = s.Ingest(ctx, []transit.Position{p(5, 20, 0)})
	if err != nil || res != (transit.IngestResult{Stored: 1, Flagged: 1}) {
		t.Errorf("late fix %+v %v", res, err)
	}
	flags := map[int]int{}
	rows, _ := pool.Query(ctx, `SELECT extract(epoch FROM at - $2)::int, flags FROM transit.positions WHERE vehicle_id = $1`, v.ID, t0)
	for rows.Next() {
		var dt, f int
		rows.Scan(&dt, &f)
		flags[dt] = f
	}
	if flags[0] != 0 || flags[10] != 0 || flags[20] != transit.FlagTeleport || flags[30] != 0 || flags[40] != transit.FlagBadCoords ||
		flags[5] != transit.FlagStale || len(flags) != 7 {
		t.Errorf("flags by second %v", flags)
	}

	if err := s.SyncLayer(ctx); err != nil {
		t.Fatal(err)
	}
	var version1 int64
	pool.QueryRow(ctx, `SELECT version FROM geoportal.layers WHERE slug = 'vehicles'`).Scan(&version1)
	// The tracker reconnects and resends everything: nothing is duplicated.
	res, err = s.Ingest(ctx, batch)
	if err != nil || res != (transit.IngestResult{Duplicates: 6}) {
		t.Errorf("resend %+v %v", res, err)
	}
	var n int
	pool.QueryRow(ctx, `SELECT count(*) FROM transit.positions WHERE vehicle_id = $1`, v.ID).Scan(&n)
	if n != 7 {
		t.Errorf("%d positions stored, want 7", n)
	}
	if err := s.SyncLayer(ctx); err != nil {
		t.Fatal(err)
	}
	var version2 int64
	pool.QueryRow(ctx, `SELECT version FROM geoportal.layers WHERE slug = 'vehicles'`).Scan(&version2)
	if version2 != version1 {
		t.Errorf("a resend changed the live layer (version %d -> %d)", version1, version2)
	}

	// The live layer shows the newest good fix, once.
	var seen time.Time
	var x float64
	var plate string
	pool.QueryRow(ctx, `SELECT count(*) OVER (), seen_at, ST_X(geom), plate FROM layer.vehicles`).Scan(&n, &seen, &x, &plate)
	wantX, _ := offset(lon, lat, 100, 0)
	if n != 1 || !seen.Equal(t0.Add(30*time.Second)) || math.Abs(x-wantX) > 1e-9 || plate != "123 ABC 04" {
		t.Errorf("live layer: %d rows, seen %v, x %v, plate %q", n, seen, x, plate)
	}
	// One batch moving many vehicles bumps the layer version once (one statement, one trigger).
	var vs []transit.Position
	for i := range 20 {
		w, _ := addVehicle(t, s, transit.NewVehicle{DeviceID: fmt.Sprintf("bulk-%d", i)})
		vs = append(vs, transit.Position{VehicleID: w.ID, At: t0, Lon: lon, Lat: lat, SpeedKmh: math.NaN(), Heading: math.NaN(), AltM: math.NaN(), Sats: -1})
	}
	if _, err := s.Ingest(ctx, vs); err != nil {
		t.Fatal(err)
	}
	if err := s.SyncLayer(ctx); err != nil {
		t.Fatal(err)
	}
	var v3, v4 int64
	pool.QueryRow(ctx, `SELECT version FROM geoportal.layers WHERE slug = 'vehicles'`).Scan(&v3)
	for i := range vs {
		vs[i].At = vs[i].At.Add(time.Second)
		vs[i].Lon += 0.0001
	}
	if _, err := s.Ingest(ctx, vs); err != nil {
		t.Fatal(err)
	}
	if err := s.SyncLayer(ctx); err != nil {
		t.Fatal(err)
	}
	pool.QueryRow(ctx, `SELECT version FROM geoportal.layers WHERE slug = 'vehicles'`).Scan(&v4)
	if v4 != v3+1 {
		t.Errorf("moving 20 vehicles in one batch and syncing the layer bumped its version by %d, want 1", v4-v3)
	}
}

func TestRegistry(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	v, key := addVehicle(t, s, transit.NewVehicle{DeviceID: "dev-1", Kind: "bus", WialonPassword: "s3cret-pw"})
	if got, err := s.VehicleByKey(ctx, key); err != nil || got.ID != v.ID {
		t.Errorf("by key: %v %v", got, err)
	}
	if _, err := s.VehicleByKey(ctx, "dk_wrong"); geoportal.ErrorCode(err) != geoportal.EUNAUTHORIZED {
		t.Errorf("wrong key: %v", err)
	}
	if _, err := s.CheckWialonLogin(ctx, "dev-1", "s3cret-pw"); err != nil {
		t.Errorf("wialon login: %v", err)
	}
	if _, err := s.CheckWialonLogin(ctx, "dev-1", "NA"); geoportal.ErrorCode(err) != geoportal.EUNAUTHORIZED {
		t.Errorf("wialon wrong password: %v", err)
	}
	// A tracker password set under accounts (admin page) is the vehicle's; without one it is refused.
	addVehicle(t, s, transit.NewVehicle{DeviceID: "dev-2"})
	if _, err := s.CheckWialonLogin(ctx, "dev-2", "anything"); geoportal.ErrorCode(err) != geoportal.EUNAUTHORIZED {
		t.Errorf("no password: %v", err)
	}
	if err := accounts.NewStore(s.Pool).SetTrackerPassword(ctx, "dev-2", "from-admin", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CheckWialonLogin(ctx, "dev-2", "anything"); geoportal.ErrorCode(err) != geoportal.EUNAUTHORIZED {
		t.Errorf("accounts password ignored: %v", err)
	}
	if _, err := s.CheckWialonLogin(ctx, "dev-2", "from-admin"); err != nil {
		t.Errorf("accounts password: %v", err)
	}
	if _, err := s.CheckWialonLogin(ctx, "nobody", "NA"); geoportal.ErrorCode(err) != geoportal.EUNAUTHORIZED {
		t.Errorf("wialon unknown: %v", err)
	}
	for _, bad := range []transit.NewVehicle{{DeviceID: ""}, {DeviceID: "a b"}, {DeviceID: "x", Kind: "spaceship"}} {
		if _, _, err := s.AddVehicle(ctx, bad); geoportal.ErrorCode(err) != geoportal.EINVALID {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if _, _, err := s.AddVehicle(ctx, transit.NewVehicle{DeviceID: "dev-1"}); geoportal.ErrorCode(err) != geoportal.ECONFLICT {
		t.Errorf("duplicate: %v", err)
	}
}

// run5 simulates a bus on trip R5-E-06 (08:00 yesterday) that runs late by 60 s at the start,
// growing to 180 s at the end of the line. It returns the fixes and the true arrival times.
func run5(t *testing.T, net *transit.Network, vehicleID int64) ([]transit.Position, map[string]time.Time) {
	t.Helper()
	trip := net.Trips["R5-E-06"]
	walk := net.Shape(trip.ID)
	day := yesterday(0, 0, 0)
	L := trip.Stops[len(trip.Stops)-1].Dist
	// dist(τ): where the schedule puts the bus τ seconds into the service day.
	dist := func(tau float64) float64 {
		st := trip.Stops
		for i := 1; i < len(st); i++ {
			if tau <= float64(st[i-1].Dep) {
				return st[i-1].Dist
			}
			if tau <= float64(st[i].Arr) {
				return st[i-1].Dist + (tau-float64(st[i-1].Dep))/float64(st[i].Arr-st[i-1].Dep)*(st[i].Dist-st[i-1].Dist)
			}
		}
		return L
	}
	delay := func(d float64) float64 { return 60 + 120*d/L }
	var ps []transit.Position
	last := time.Time{}
	for tau := float64(trip.Start); tau <= float64(trip.End); tau += 5 {
		d := dist(tau)
		at := day.Add(time.Duration((tau + delay(d)) * float64(time.Second))).Truncate(time.Second)
		if !at.After(last) {
			continue
		}
		last = at
		pt, head := walk.At(d)
		// ±8 m of GPS noise, deterministic.
		x, y := offset(pt[0], pt[1], 8*math.Sin(tau), 8*math.Cos(tau*1.3))
		ps = append(ps, transit.Position{VehicleID: vehicleID, At: at, Lon: x, Lat: y, SpeedKmh: 25, Heading: head, AltM: math.NaN(), Sats: 9})
	}
	arrive := map[string]time.Time{}
	for _, st := range trip.Stops {
		arrive[st.StopID] = day.Add(time.Duration((float64(st.Arr) + delay(st.Dist)) * float64(time.Second)))
	}
	return ps, arrive
}

func TestPredictionAccuracyOnSimulatedRun(t *testing.T) {
	ctx := context.Background()
	s, pool := newService(t)
	importFeed(t, pool)
	net, err := s.Network(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := addVehicle(t, s, transit.NewVehicle{DeviceID: "bus-5-1", Plate: "505 AKT 04", Route: "5", LowFloor: true})
	ps, arrive := run5(t, net, v.ID)
	// Feed the run until the bus passes stop S3, a minute of fixes per batch.
	var now time.Time
	for i := 0; i < len(ps); i += 12 {
		b := ps[i:min(i+12, len(ps))]
		if b[0].At.After(arrive["S3"].Add(30 * time.Second)) {
			break
		}
		if _, err := s.Ingest(ctx, b); err != nil {
			t.Fatal(err)
		}
		now = b[len(b)-1].At
	}
	var trip string
	var delay int
	pool.QueryRow(ctx, `SELECT trip_id, delay_s FROM transit.vehicle_state WHERE vehicle_id = $1`, v.ID).Scan(&trip, &delay)
	if trip != "R5-E-06" {
		t.Fatalf("matched trip %q, want R5-E-06", trip)
	}
	for _, stop := range []string{"S5", "105", "S6"} {
		a, err := s.Arrivals(ctx, stop, now, 3)
		if err != nil {
			t.Fatal(err)
		}
		stopID := a.StopID
		var got *transit.Arrival
		for i := range a.Arrivals {
			if a.Arrivals[i].TripID == "R5-E-06" {
				got = &a.Arrivals[i]
			}
		}
		if got == nil || !got.Realtime || got.VehicleID != v.ID {
			t.Fatalf("%s: no real-time arrival of R5-E-06 in %+v", stop, a.Arrivals)
		}
		actual := arrive[stopID]
		errPred := got.Predicted.Sub(actual).Abs()
		errSched := got.Scheduled.Sub(actual).Abs()
		t.Logf("%s: predicted %s, actual %s (error %s; timetable alone %s)", stop, got.Predicted.Format("15:04:05"),
			actual.Format("15:04:05"), errPred, errSched)
		if errPred > 90*time.Second || errPred >= errSched {
			t.Errorf("%s: prediction off by %s (timetable alone: %s)", stop, errPred, errSched)
		}
	}
	// A stop the bus has passed shows the next trip instead, from the timetable.
	a, err := s.Arrivals(ctx, "S2", now, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range a.Arrivals {
		if x.TripID == "R5-E-06" {
			t.Errorf("passed stop S2 still expects R5-E-06: %+v", x)
		}
	}
	if _, err := s.Arrivals(ctx, "NOPE", now, 3); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Errorf("unknown stop: %v", err)
	}

	// GTFS-realtime feeds, decoded with the official bindings.
	b, last, err := s.VehiclePositionsFeed(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	var vp gtfs.FeedMessage
	if err := proto.Unmarshal(b, &vp); err != nil {
		t.Fatal(err)
	}
	if vp.GetHeader().GetGtfsRealtimeVersion() != "2.0" || len(vp.Entity) != 1 || !last.Equal(now) {
		t.Fatalf("vehicle positions: %v, last %v", &vp, last)
	}
	e := vp.Entity[0].GetVehicle()
	if e.GetTrip().GetTripId() != "R5-E-06" || e.GetTrip().GetRouteId() != "R5" || e.GetVehicle().GetLicensePlate() != "505 AKT 04" ||
		math.Abs(float64(e.GetPosition().GetLatitude())-ps[0].Lat) > 0.05 || e.GetTimestamp() != uint64(now.Unix()) {
		t.Errorf("vehicle entity %v", e)
	}
	b, _, err = s.TripUpdatesFeed(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	var tu gtfs.FeedMessage
	if err := proto.Unmarshal(b, &tu); err != nil {
		t.Fatal(err)
	}
	if len(tu.Entity) != 1 {
		t.Fatalf("trip updates: %v", &tu)
	}
	u := tu.Entity[0].GetTripUpdate()
	if u.GetTrip().GetTripId() != "R5-E-06" || u.GetTrip().GetStartDate() != yesterday(0, 0, 0).Format("20060102") ||
		len(u.StopTimeUpdate) == 0 || u.StopTimeUpdate[len(u.StopTimeUpdate)-1].GetStopId() != "S6" {
		t.Errorf("trip update %v", u)
	}
	for _, stu := range u.StopTimeUpdate {
		if stu.GetStopId() == "S2" || stu.GetArrival().GetDelay() != int32(delay) {
			t.Errorf("stop time update %v (delay %d)", stu, delay)
		}
	}
}

func TestAlerts(t *testing.T) {
	ctx := context.Background()
	s, pool := newService(t)
	importFeed(t, pool)
	net, _ := s.Network(ctx)
	now := yesterday(8, 8, 0)
	trip := net.Trips["R5-E-06"] // 08:00 -> 08:15
	walk := net.Shape(trip.ID)
	mk := func(dev string, d, dy float64) {
		v, _ := addVehicle(t, s, transit.NewVehicle{DeviceID: dev, Plate: dev, Route: "5"})
		pt, _ := walk.At(d)
		x, y := offset(pt[0], pt[1], 0, dy)
		if _, err := s.Ingest(ctx, []transit.Position{{VehicleID: v.ID, At: now, Lon: x, Lat: y, SpeedKmh: 20, Heading: 90, AltM: math.NaN(), Sats: 8}}); err != nil {
			t.Fatal(err)
		}
	}
	d := trip.Stops[2].Dist + 250       // on schedule for 08:07-08:08
	mk("on-time", d, 0)                 // serves R5-E-06
	mk("bunched", d+120, 0)             // 120 m ahead of it
	mk("lost", trip.Stops[3].Dist, 900) // 900 m north of the line
	alerts, err := s.Alerts(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string][]transit.Alert{}
	for _, a := range alerts {
		kinds[a.Kind] = append(kinds[a.Kind], a)
	}
	if len(kinds["off_route"]) != 1 || kinds["off_route"][0].Plate != "lost" || kinds["off_route"][0].DistanceM < 800 {
		t.Errorf("off route: %+v", kinds["off_route"])
	}
	if len(kinds["bunching"]) != 1 || kinds["bunching"][0].DistanceM > 150 {
		t.Errorf("bunching: %+v", kinds["bunching"])
	}
	// Running at 08:08: R5-E-06, R5-W-06 (both 08:00-08:15) and R12-S-03 (08:10) has not
	// started; R5-W-06 has no vehicle. R12-S-02 (07:40-07:48) has ended.
	var missing []string
	for _, a := range kinds["no_vehicle"] {
		missing = append(missing, a.TripID)
	}
	if fmt.Sprint(missing) != "[R5-W-06]" {
		t.Errorf("no-vehicle alerts for %v, want [R5-W-06]", missing)
	}
}

func TestLiveHubAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	writer := transit.New(pool, nil)
	defer writer.Close()
	// A second "process": its own service and pool on the same database.
	pool2, err := pgxpool.New(ctx, pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	defer pool2.Close()
	reader := transit.New(pool2, nil)
	defer reader.Close()
	v, _, err := writer.AddVehicle(ctx, transit.NewVehicle{DeviceID: "live-1", Route: "7", Plate: "LIVE"})
	if err != nil {
		t.Fatal(err)
	}
	snap, ch, cancel, err := reader.Hub().Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	if len(snap) != 0 {
		t.Errorf("snapshot %v", snap)
	}
	at := time.Now().Truncate(time.Millisecond)
	if _, err := writer.Ingest(ctx, []transit.Position{{VehicleID: v.ID, At: at, Lon: 57.17, Lat: 50.28, SpeedKmh: 30, Heading: 45, AltM: math.NaN(), Sats: -1}}); err != nil {
		t.Fatal(err)
	}
	select {
	case vs := <-ch:
		if len(vs) != 1 || vs[0].ID != v.ID || !vs[0].SeenAt.Equal(at) || vs[0].Plate != "LIVE" || *vs[0].SpeedKmh != 30 {
			t.Errorf("pushed %+v", vs)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no push within 10 s")
	}
	// A new subscriber starts from the snapshot.
	snap, _, cancel2, err := reader.Hub().Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel2()
	if len(snap) != 1 || snap[0].ID != v.ID {
		t.Errorf("snapshot %+v", snap)
	}
}

func TestPartitions(t *testing.T) {
	ctx := context.Background()
	s, pool := newService(t)
	v, _ := addVehicle(t, s, transit.NewVehicle{DeviceID: "old-1"})
	old := time.Now().Add(-200 * 24 * time.Hour)
	if _, err := s.Ingest(ctx, []transit.Position{{VehicleID: v.ID, At: old, Lon: 57.1, Lat: 50.2, SpeedKmh: math.NaN(), Heading: math.NaN(), AltM: math.NaN(), Sats: -1}}); err != nil {
		t.Fatal(err)
	}
	created, _, err := s.MaintainPartitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var parts int
	pool.QueryRow(ctx, `SELECT count(*) FROM pg_inherits WHERE inhparent = 'transit.positions'::regclass AND inhrelid::regclass::text ~ '_[0-9]{8}$'`).Scan(&parts)
	if parts < s.PartitionDays+2 {
		t.Errorf("%d daily partitions (created %d), want at least %d", parts, created, s.PartitionDays+2)
	}
	var tomorrow bool
	pool.QueryRow(ctx, `SELECT to_regclass('transit.positions_' || to_char(current_date + 1, 'YYYYMMDD')) IS NOT NULL`).Scan(&tomorrow)
	if !tomorrow {
		t.Error("no partition for tomorrow")
	}
	// The 200-day-old fix is past the 90-day retention.
	var n int
	pool.QueryRow(ctx, `SELECT count(*) FROM transit.positions`).Scan(&n)
	if n != 0 {
		t.Errorf("%d positions left after retention", n)
	}
}

func TestWialonListener(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, pool := newService(t)
	addVehicle(t, s, transit.NewVehicle{DeviceID: "860000000000000", Route: "5"})
	addVehicle(t, s, transit.NewVehicle{DeviceID: "355217044956192", WialonPassword: "pw1-secret"})
	// A unit without a password (old trackers send NA) logs in only when an administrator opened it.
	if err := accounts.NewStore(pool).SetTrackerOpen(context.Background(), "860000000000000", "sends NA"); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.ServeWialon(ctx, ln) }()

	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(20 * time.Second))
		return c, bufio.NewReader(c)
	}
	say := func(c net.Conn, r *bufio.Reader, pkt string, want string) {
		t.Helper()
		if _, err := c.Write([]byte(pkt)); err != nil {
			t.Fatal(err)
		}
		got, err := r.ReadString('\n')
		if err != nil || got != want {
			t.Fatalf("sent %q: got %q %v, want %q", pkt, got, err, want)
		}
	}
	// Unknown unit and wrong password are refused alike and hung up on.
	c, r := dial()
	say(c, r, string(wialon.EncodeLogin("999", "")), "#AL#01\r\n")
	if _, err := r.ReadString('\n'); err == nil {
		t.Error("connection of an unknown unit stays open")
	}
	c.Close()
	c, r = dial()
	say(c, r, "#L#2.0;355217044956192;NA;E335\r\n", "#AL#01\r\n")
	c.Close()
	c, r = dial()
	say(c, r, string(wialon.EncodeLogin("355217044956192", "pw1-secret")), "#AL#1\r\n")
	c.Close()

	c, r = dial()
	defer c.Close()
	say(c, r, "#P#\r\n", "#AP#\r\n")
	say(c, r, "#L#2.0;860000000000000;NA;46D4\r\n", "#AL#1\r\n")
	base := time.Now().Add(-time.Hour).Truncate(time.Second).UTC()
	fix := func(i int) wialon.Fix {
		return wialon.Fix{Time: base.Add(time.Duration(i) * time.Second), Lat: 50.28 + float64(i)*1e-5, Lon: 57.17, HasPos: true,
			Speed: 20, Course: 0, Alt: 200, Sats: 9, HDOP: 1}
	}
	say(c, r, string(wialon.EncodeData(fix(0))), "#AD#1\r\n")
	say(c, r, string(wialon.EncodeShort(fix(1))), "#ASD#1\r\n")
	bb := string(wialon.EncodeBlackBox([]wialon.Fix{fix(2), fix(3), fix(4)}))
	say(c, r, bb, "#AB#3\r\n")
	// Bad packets get their error reply; the connection and the listener live on.
	say(c, r, "#D#garbage\r\n", "#AD#-1\r\n")
	say(c, r, "#D#garbage;1234\r\n", "#AD#16\r\n")
	say(c, r, "#SD#251126;080000;5017.1234;N;05710.5678;E;35;180;210;11;0000\r\n", "#ASD#13\r\n")
	say(c, r, "#B#x|0000\r\n", "#AB#\r\n")
	c.Write([]byte("\x00\xff\xfe garbage without type\r\n"))
	say(c, r, "#P#\r\n", "#AP#\r\n")
	c.Close()

	// The tracker reconnects and resends its black box: acknowledged again, stored once.
	c2, r2 := dial()
	defer c2.Close()
	say(c2, r2, "#L#2.0;860000000000000;NA;46D4\r\n", "#AL#1\r\n")
	say(c2, r2, bb, "#AB#3\r\n")
	var n int
	pool.QueryRow(context.Background(), `SELECT count(*) FROM transit.positions p JOIN transit.vehicles v ON v.id = p.vehicle_id
		WHERE v.device_id = '860000000000000' AND p.source = 'w'`).Scan(&n)
	if n != 5 {
		t.Errorf("%d positions stored, want 5", n)
	}
	// Data before login is refused.
	c3, r3 := dial()
	defer c3.Close()
	say(c3, r3, string(wialon.EncodeData(fix(9))), "#AD#-1\r\n")

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(10 * time.Second):
		t.Error("listener did not stop")
	}
}

// TestStopServiceHours: a stop's arrivals at night carry its service hours by the timetable —
// the first and last departure of the day and the next one — so that the map can say when buses run.
func TestStopServiceHours(t *testing.T) {
	ctx := context.Background()
	s, pool := newService(t)
	importFeed(t, pool)
	loc, _ := time.LoadLocation("Asia/Aqtobe")
	at := func(y int, m time.Month, d, hh, mm, ss int) time.Time { return time.Date(y, m, d, hh, mm, ss, 0, loc) }
	for _, c := range []struct {
		name              string
		now               time.Time
		first, last, next time.Time
	}{
		// Monday 02:00: weekdays run R5 and R12 from 06:06:30 (R5-E-00 leaves S3) to 09:49:14
		// (R5-W-11, no time at S3: interpolated by distance between S4 at 09:46:30 and S2 at
		// 09:52); Sunday's night bus left at 00:19.
		{"monday night", at(2027, 1, 4, 2, 0, 0), at(2027, 1, 4, 6, 6, 30), at(2027, 1, 4, 9, 49, 14), at(2027, 1, 4, 6, 6, 30)},
		// Monday 10:00: the day's service is over; the next departure is Tuesday's first.
		{"monday after service", at(2027, 1, 4, 10, 0, 0), at(2027, 1, 4, 6, 6, 30), at(2027, 1, 4, 9, 49, 14), at(2027, 1, 5, 6, 6, 30)},
		// Saturday 10:00: the weekend night bus (24:19) is the day's last departure, after midnight.
		{"saturday", at(2027, 1, 9, 10, 0, 0), at(2027, 1, 9, 6, 6, 30), at(2027, 1, 10, 0, 19, 0), at(2027, 1, 10, 0, 19, 0)},
	} {
		a, err := s.Arrivals(ctx, "S3", c.now, 3)
		if err != nil {
			t.Fatal(err)
		}
		if c.name == "monday night" && len(a.Arrivals) != 0 {
			t.Errorf("%s: arrivals %+v, want none (no bus in the next hours)", c.name, a.Arrivals)
		}
		h := a.Hours
		if !h.First.Equal(c.first) || !h.Last.Equal(c.last) || !h.Next.Equal(c.next) {
			t.Errorf("%s: hours first %s last %s next %s, want %s %s %s", c.name,
				h.First.In(loc), h.Last.In(loc), h.Next.In(loc), c.first, c.last, c.next)
		}
	}
}

// TestNetworkService: the network's service hours by the timetable (the day's first and last trip
// start), whether buses run now, and the next trip starts, soonest first — what the live panel
// says at night when no bus is live.
func TestNetworkService(t *testing.T) {
	ctx := context.Background()
	s, pool := newService(t)
	importFeed(t, pool)
	loc, _ := time.LoadLocation("Asia/Aqtobe")
	at := func(d, hh, mm int) time.Time { return time.Date(2027, 1, d, hh, mm, 0, 0, loc) }
	for _, c := range []struct {
		name              string
		now               time.Time
		in                bool
		first, last, next time.Time
	}{
		// Monday 02:00: weekdays' trips start from 06:00 (R5 both ways) to 09:40; Sunday's night
		// bus left at 00:15.
		{"monday night", at(4, 2, 0), false, at(4, 6, 0), at(4, 9, 40), at(4, 6, 0)},
		{"monday morning", at(4, 7, 0), true, at(4, 6, 0), at(4, 9, 40), at(4, 7, 10)}, // R12 southbound
		{"monday after service", at(4, 10, 0), false, at(4, 6, 0), at(4, 9, 40), at(5, 6, 0)},
	} {
		sv, err := s.Service(ctx, c.now, 3)
		if err != nil {
			t.Fatal(err)
		}
		h := sv.Hours
		if sv.InService != c.in || !h.First.Equal(c.first) || !h.Last.Equal(c.last) || !h.Next.Equal(c.next) {
			t.Errorf("%s: in service %v, first %s last %s next %s; want %v %s %s %s", c.name, sv.InService,
				h.First.In(loc), h.Last.In(loc), h.Next.In(loc), c.in, c.first, c.last, c.next)
		}
		if len(sv.Departures) != 3 || !sv.Departures[0].Departure.Equal(c.next) {
			t.Errorf("%s: departures %+v", c.name, sv.Departures)
		}
	}
	sv, err := s.Service(ctx, at(4, 2, 0), 3)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range sv.Departures {
		got = append(got, d.TripID+" "+d.Route+" "+d.Color+" "+d.FromStop+" "+d.Departure.In(loc).Format("15:04"))
	}
	want := []string{"R5-E-00 5 1E88E5 Western terminal 06:00", "R5-W-00 5 1E88E5 Eastern terminal 06:00",
		"R12-S-00 12 E53935 Northern district 06:10"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("departures at 02:00:\n got %q\nwant %q", got, want)
	}
	if _, err := s.Service(ctx, at(4, 2, 0), 0); geoportal.ErrorCode(err) != geoportal.EINVALID {
		t.Errorf("limit 0: %v", err)
	}
}
