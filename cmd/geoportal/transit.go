package main

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	neturl "net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aktobe/geoportal/data"
	"github.com/aktobe/geoportal/importers"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/transit"
	"github.com/aktobe/geoportal/layers/transit/gtfs"
	"github.com/aktobe/geoportal/layers/transit/sim"
	"github.com/aktobe/geoportal/web"
	"github.com/paulmach/orb"
)

// transitFlags are the serve flags that bound the Wialon IPS listener and the live stream.
type transitFlags struct {
	wialon                     transit.WialonLimits
	live                       transit.LiveLimits
	addrFailures, unitFailures string
	err                        error
}

func registerTransitFlags(fs *flag.FlagSet, getenv func(string) string) *transitFlags {
	f := &transitFlags{}
	dw, dl := transit.DefaultWialonLimits(), transit.DefaultLiveLimits()
	intFlag := func(dst *int, name, env string, def int, usage string) {
		v := envOr(getenv, env, strconv.Itoa(def))
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			f.err = errors.Join(f.err, fmt.Errorf("%s %q: want a whole number, 0 for no limit", env, v))
		}
		fs.IntVar(dst, name, n, usage+" (env "+env+"; 0: no limit)")
	}
	intFlag(&f.wialon.MaxConns, "wialon-max-conns", "GEOPORTAL_WIALON_MAX_CONNS", dw.MaxConns, "open Wialon IPS connections in total")
	intFlag(&f.wialon.MaxConnsPerAddr, "wialon-max-conns-per-addr", "GEOPORTAL_WIALON_MAX_CONNS_PER_ADDR", dw.MaxConnsPerAddr,
		"open Wialon IPS connections per client address (IPv6: per /64); trackers behind one mobile NAT share an address")
	timeout, err := time.ParseDuration(envOr(getenv, "GEOPORTAL_WIALON_LOGIN_TIMEOUT", dw.LoginTimeout.String()))
	if err != nil {
		f.err = errors.Join(f.err, fmt.Errorf("GEOPORTAL_WIALON_LOGIN_TIMEOUT: %w", err))
	}
	fs.DurationVar(&f.wialon.LoginTimeout, "wialon-login-timeout", timeout,
		"time from connect to an accepted Wialon IPS login; pings do not extend it (env GEOPORTAL_WIALON_LOGIN_TIMEOUT)")
	ptimeout, err := time.ParseDuration(envOr(getenv, "GEOPORTAL_WIALON_PACKET_TIMEOUT", dw.PacketTimeout.String()))
	if err != nil {
		f.err = errors.Join(f.err, fmt.Errorf("GEOPORTAL_WIALON_PACKET_TIMEOUT: %w", err))
	}
	fs.DurationVar(&f.wialon.PacketTimeout, "wialon-packet-timeout", ptimeout,
		"time from a Wialon IPS packet's first byte to its end after login; a slower packet closes the connection (env GEOPORTAL_WIALON_PACKET_TIMEOUT)")
	fs.StringVar(&f.addrFailures, "wialon-login-failures-per-addr", envOr(getenv, "GEOPORTAL_WIALON_LOGIN_FAILURES_PER_ADDR", rateText(dw.FailuresPerAddr)),
		"failed Wialon IPS logins per client address: PER_MINUTE/BURST, 0 = off (env GEOPORTAL_WIALON_LOGIN_FAILURES_PER_ADDR)")
	fs.StringVar(&f.unitFailures, "wialon-login-failures-per-unit", envOr(getenv, "GEOPORTAL_WIALON_LOGIN_FAILURES_PER_UNIT", rateText(dw.FailuresPerUnit)),
		"failed Wialon IPS logins per unit id: PER_MINUTE/BURST, 0 = off (env GEOPORTAL_WIALON_LOGIN_FAILURES_PER_UNIT)")
	intFlag(&f.live.MaxSubscribers, "live-max-subscribers", "GEOPORTAL_LIVE_MAX_SUBSCRIBERS", dl.MaxSubscribers,
		"open live-vehicle streams (/api/vehicles/live) in this process; more get 503 with Retry-After")
	intFlag(&f.live.MaxPerClientAddr, "live-max-per-client", "GEOPORTAL_LIVE_MAX_PER_CLIENT", dl.MaxPerClientAddr,
		"open live-vehicle streams per client address (IPv6: per /64); more get 429 with Retry-After")
	return f
}

func rateText(r transit.Rate) string { return fmt.Sprintf("%g/%d", r.PerMinute, r.Burst) }

// check reads the flags into f.wialon and f.live, or says which one is wrong.
func (f *transitFlags) check() error {
	if f.err != nil {
		return f.err
	}
	w := &f.wialon
	if w.LoginTimeout < time.Second {
		return fmt.Errorf("-wialon-login-timeout %s: want at least 1s", w.LoginTimeout)
	}
	if w.PacketTimeout < time.Second {
		return fmt.Errorf("-wialon-packet-timeout %s: want at least 1s", w.PacketTimeout)
	}
	for _, r := range []struct {
		name, v string
		dst     *transit.Rate
	}{{"-wialon-login-failures-per-addr", f.addrFailures, &w.FailuresPerAddr}, {"-wialon-login-failures-per-unit", f.unitFailures, &w.FailuresPerUnit}} {
		rl, err := parseRate(r.name, r.v)
		if err != nil {
			return err
		}
		*r.dst = transit.Rate{PerMinute: rl.PerMinute, Burst: rl.Burst}
	}
	if w.MaxConns < 0 || w.MaxConnsPerAddr < 0 || f.live.MaxSubscribers < 0 || f.live.MaxPerClientAddr < 0 {
		return fmt.Errorf("connection and subscriber limits must be 0 (none) or more")
	}
	return nil
}

// serveWialon starts the Wialon IPS listener of `geoportal serve` ("off" disables it).
func serveWialon(ctx context.Context, srv *web.Server, addr string, stdout io.Writer, logger *slog.Logger) error {
	if addr == "" || addr == "off" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		// The map and the HTTP ingest still serve; trackers retry until the port is free.
		logger.Error("wialon ips listener not started", "addr", addr, "error", err)
		return nil
	}
	fmt.Fprintf(stdout, "wialon ips trackers on tcp://%s\n", ln.Addr())
	go func() {
		if err := srv.Transit.ServeWialon(ctx, ln); err != nil {
			logger.Error("wialon listener stopped", "error", err)
		}
	}()
	return nil
}

const gtfsUsage = `Usage:
  geoportal gtfs import [flags] FEED   (FEED: a GTFS .zip or a folder of .txt files)
      replaces the timetable and the bus_stops and bus_routes layers with the feed, in one transaction
  geoportal gtfs demo [-o FEED.zip] [-import=true]
      makes a GTFS feed of the network drawn in the bus layers (the demo city's) with an invented
      timetable, and imports it as the timetable (the layers stay as they are)
`

func runGTFS(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "demo" {
		return runGTFSDemo(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) == 0 || args[0] != "import" {
		fmt.Fprint(stderr, gtfsUsage)
		return fmt.Errorf("gtfs: want 'gtfs import FEED' or 'gtfs demo'")
	}
	var cfg config
	fs := flag.NewFlagSet("gtfs import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.register(fs, getenv)
	demo := fs.Bool("demo", false, "mark the bus_stops and bus_routes features as demo data")
	dryRun := fs.Bool("dry-run", false, "read, check and write the feed, then roll back: a preview that changes nothing")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprint(stderr, gtfsUsage)
		return fmt.Errorf("gtfs import: want one FEED")
	}
	logger := newLogger(stderr, cfg.LogLevel)
	db, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := data.Migrate(ctx, db.Pool); err != nil {
		return err
	}
	feed, closeFeed, err := gtfs.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer closeFeed()
	start := time.Now()
	user := getenv("USER")
	ctx = accounts.WithActor(ctx, accounts.Actor{Label: "cli:" + cmp.Or(user, "unknown")}) // for the audit log
	_, sum, err := importers.New(db.Pool, logger).ImportGTFS(ctx, feed, filepath.Base(fs.Arg(0)), gtfs.Options{Demo: *demo},
		importers.Request{User: user, DryRun: *dryRun})
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	if *dryRun {
		fmt.Fprintln(stdout, "dry run: nothing was written")
	}
	fmt.Fprintf(stdout, "imported %s in %s: %d agencies, %d routes, %d stops, %d trips, %d stop times, %d shapes, %d services\n",
		fs.Arg(0), time.Since(start).Round(time.Millisecond), sum.Agencies, sum.Routes, sum.Stops, sum.Trips, sum.StopTimes, sum.Shapes, sum.Services)
	for _, w := range sum.Warnings {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	return nil
}

const vehicleUsage = `Usage:
  geoportal vehicle add -device ID [-plate P] [-kind bus] [-route 5] [-low-floor] [-department D] [-wialon-password PW]
      registers a vehicle and prints its HTTP device key (shown once); a Wialon IPS unit logs in
      only with -wialon-password (8 to 100 characters; or geoportal user tracker set/open later)
  geoportal vehicle key -device ID     gives the vehicle a new HTTP device key
  geoportal vehicle list
`

func runVehicle(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, vehicleUsage)
		return fmt.Errorf("vehicle: want add, key or list")
	}
	var cfg config
	fs := flag.NewFlagSet("vehicle "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.register(fs, getenv)
	var nv transit.NewVehicle
	fs.StringVar(&nv.DeviceID, "device", "", "tracker unit id (IMEI or serial)")
	fs.StringVar(&nv.Plate, "plate", "", "licence plate")
	fs.StringVar(&nv.Kind, "kind", "bus", "vehicle kind")
	fs.StringVar(&nv.Route, "route", "", "GTFS route short name or route_id it serves")
	fs.BoolVar(&nv.LowFloor, "low-floor", false, "low floor or wheelchair lift")
	fs.StringVar(&nv.Department, "department", "", "owner department")
	fs.StringVar(&nv.WialonPassword, "wialon-password", "", "Wialon IPS password, 8 to 100 characters (empty: the unit cannot log in over Wialon IPS until one is set with geoportal user tracker set)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	logger := newLogger(stderr, cfg.LogLevel)
	db, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := data.Migrate(ctx, db.Pool); err != nil {
		return err
	}
	svc := transit.New(db.Pool, logger)
	defer svc.Close()
	switch args[0] {
	case "add":
		v, key, err := svc.AddVehicle(ctx, nv)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "vehicle %d (%s) registered; HTTP device key (shown once): %s\n", v.ID, v.DeviceID, key)
	case "key":
		key, err := svc.ResetDeviceKey(ctx, nv.DeviceID)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "new HTTP device key of %s (shown once): %s\n", nv.DeviceID, key)
	case "list":
		vs, err := svc.Vehicles(ctx)
		if err != nil {
			return err
		}
		for _, v := range vs {
			fmt.Fprintf(stdout, "%d\t%s\t%s\t%s\t%s\tlow_floor=%t\t%s\n", v.ID, v.DeviceID, v.Plate, v.Kind, v.Route, v.LowFloor, v.Department)
		}
	default:
		fmt.Fprint(stderr, vehicleUsage)
		return fmt.Errorf("vehicle: unknown action %q", args[0])
	}
	return nil
}

func runSimulate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg config
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.register(fs, getenv)
	var sc sim.Config
	n := fs.Int("vehicles", 100, "simulated vehicles (registered as PREFIX-NNNNN, keys renewed each run)")
	prefix := fs.String("prefix", "sim", "device id prefix of the simulated vehicles (a new prefix gives fresh vehicles)")
	fs.StringVar(&sc.HTTPURL, "url", "http://"+envOr(getenv, "GEOPORTAL_ADDR", "127.0.0.1:8080"), "geoportal base URL")
	fs.StringVar(&sc.WialonAddr, "wialon", envOr(getenv, "GEOPORTAL_WIALON_ADDR", "127.0.0.1:20332"), "Wialon IPS address")
	fs.Float64Var(&sc.WialonShare, "wialon-share", 0.5, "share of vehicles speaking Wialon IPS (the rest HTTP)")
	fs.Float64Var(&sc.Rate, "rate", 1, "fixes per vehicle per second")
	fs.IntVar(&sc.Batch, "batch", 1, "fixes per packet/request (black box, JSON batch)")
	fs.DurationVar(&sc.Duration, "duration", 30*time.Second, "how long to run (bounded: at most 30m)")
	fs.BoolVar(&sc.Watch, "watch", true, "measure ingest-to-push latency on /api/vehicles/live")
	fs.Float64Var(&sc.SpeedKmh, "speed", 25, "driving speed, km/h")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if sc.Duration <= 0 || sc.Duration > 30*time.Minute {
		return fmt.Errorf("simulate: -duration must be in (0, 30m]")
	}
	if *n < 1 || *n > 100000 {
		return fmt.Errorf("simulate: -vehicles must be 1 to 100000")
	}
	for _, a := range []string{sc.HTTPURL, "tcp://" + sc.WialonAddr} {
		if err := loopbackOnly(a); err != nil {
			return err
		}
	}
	logger := newLogger(stderr, cfg.LogLevel)
	db, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := transit.New(db.Pool, logger)
	defer svc.Close()
	net, err := svc.Network(ctx)
	if err != nil {
		return err
	}
	// Routes to drive: every trip's shape, round-robin; none without a timetable (fixed points).
	var walkers []*transit.Walker
	var routes []string
	for id, t := range net.Trips {
		if w := net.Shape(id); w != nil && len(walkers) < 500 {
			walkers = append(walkers, w)
			if r := net.Routes[t.RouteID]; r != nil && r.ShortName != "" {
				routes = append(routes, r.ShortName)
			} else {
				routes = append(routes, t.RouteID)
			}
		}
	}
	if len(walkers) == 0 {
		// No timetable to drive: the vehicles stand around the city's centre, as the data give it.
		city, err := layers.NewStore(db.Pool).City(ctx, layers.City{})
		if err != nil {
			return err
		}
		if city.Center == nil {
			return fmt.Errorf("simulate: no timetable and no city data to place vehicles in; run `geoportal demo` or import the city first")
		}
		sc.Home = orb.Point{city.Center[0], city.Center[1]}
	}
	vehicles := make([]sim.Vehicle, *n)
	// The first share of the vehicles speak Wialon IPS (sim.Run): each gets a fresh password this
	// run, as its HTTP key is renewed (a unit logs in only with its password).
	nWialon := int(math.Round(sc.WialonShare * float64(*n)))
	for i := range vehicles {
		dev := fmt.Sprintf("%s-%05d", *prefix, i+1)
		route := ""
		var w *transit.Walker
		if len(walkers) > 0 {
			w, route = walkers[i%len(walkers)], routes[i%len(walkers)]
		}
		v, key, err := svc.AddVehicle(ctx, transit.NewVehicle{DeviceID: dev, Plate: fmt.Sprintf("SIM %03d", i+1), Kind: "bus", Route: route, LowFloor: i%3 == 0, Department: "simulation"})
		if err != nil {
			var err2 error
			if v, err2 = svc.VehicleByDevice(ctx, dev); err2 != nil {
				return err
			}
			if key, err = svc.ResetDeviceKey(ctx, dev); err != nil {
				return err
			}
		}
		vehicles[i] = sim.Vehicle{ID: v.ID, DeviceID: dev, Key: key, Route: w}
		if i < nWialon {
			pw := "sim-" + rand.Text()
			if err := svc.SetWialonPassword(ctx, dev, pw); err != nil {
				return err
			}
			vehicles[i].WialonPassword = pw
		}
	}
	fmt.Fprintf(stdout, "simulating %d vehicles (%.0f%% Wialon IPS) at %g Hz, %d fixes per packet, for %s\n",
		*n, sc.WialonShare*100, sc.Rate, sc.Batch, sc.Duration)
	rep, err := sim.Run(ctx, sc, vehicles, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "acked %d positions in %s: %.0f positions/s; %d errors; ack round trip p50 %s p99 %s\n",
		rep.Acked, rep.Elapsed.Round(time.Millisecond), rep.PerSecond, rep.Errors, rep.AckP50.Round(time.Millisecond), rep.AckP99.Round(time.Millisecond))
	if sc.Watch {
		fmt.Fprintf(stdout, "ingest-to-push latency over %d fixes: p50 %s p99 %s max %s\n", rep.PushN,
			rep.PushP50.Round(time.Millisecond), rep.PushP99.Round(time.Millisecond), rep.PushMax.Round(time.Millisecond))
	}
	return nil
}

// loopbackOnly refuses load-test targets other than this machine.
func loopbackOnly(rawURL string) error {
	u, err := parseHostPort(rawURL)
	if err != nil {
		return err
	}
	ips, err := net.LookupIP(u)
	if err != nil {
		return fmt.Errorf("simulate: %s: %w", rawURL, err)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return errors.New("simulate: only loopback targets (127.0.0.1, localhost) are allowed, not " + rawURL)
		}
	}
	return nil
}

func parseHostPort(raw string) (string, error) {
	u, err := neturl.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("simulate: %q is not a URL or host:port", raw)
	}
	return u.Hostname(), nil
}

func runGTFSDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg config
	fs := flag.NewFlagSet("gtfs demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.register(fs, getenv)
	out := fs.String("o", "", "also write the feed to this .zip file")
	doImport := fs.Bool("import", true, "import the feed as the timetable")
	tt := gtfs.DefaultDemoTimetable
	first := fs.Duration("first", time.Duration(tt.FirstS)*time.Second, "first departure after midnight")
	last := fs.Duration("last", time.Duration(tt.LastS)*time.Second, "last departure after midnight")
	headway := fs.Duration("headway", time.Duration(tt.HeadwayS)*time.Second, "time between departures")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := newLogger(stderr, cfg.LogLevel)
	db, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := data.Migrate(ctx, db.Pool); err != nil {
		return err
	}
	if *headway < time.Minute || *first < 0 || *last < *first || *last > 30*time.Hour {
		return fmt.Errorf("gtfs demo: want 0 <= -first <= -last <= 30h and -headway >= 1m")
	}
	tt.FirstS, tt.LastS, tt.HeadwayS = int(first.Seconds()), int(last.Seconds()), int(headway.Seconds())
	sum, feed, err := demoTimetable(ctx, db, tt, *doImport)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo feed: %d routes, %d stops, %d trips, %d stop times\n", sum.Routes, sum.Stops, sum.Trips, sum.StopTimes)
	if *out != "" {
		if err := os.WriteFile(*out, feed, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", *out)
	}
	if *doImport {
		fmt.Fprintln(stdout, "imported as the timetable")
	}
	return nil
}

// errNoDemoNetwork: there is no bus network to make a demo timetable of.
var errNoDemoNetwork = errors.New("gtfs demo: the bus_routes and bus_stops layers hold no route with two stops (load the demo city first: geoportal demo)")

// demoTimetable makes a GTFS feed of the network drawn in the bus layers with an invented
// timetable, and imports it as the timetable when asked.
func demoTimetable(ctx context.Context, db *database, tt gtfs.DemoTimetable, doImport bool) (*gtfs.Summary, []byte, error) {
	var buf bytes.Buffer
	sum, err := gtfs.FromLayers(ctx, db.Pool, tt, &buf)
	if err != nil {
		return nil, nil, err
	}
	if sum.Trips == 0 {
		return nil, nil, errNoDemoNetwork
	}
	if doImport {
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			return nil, nil, err
		}
		if _, _, err := importers.New(db.Pool, nil).ImportGTFS(ctx, zr, "gtfs demo", gtfs.Options{TimetableOnly: true}, importers.Request{}); err != nil {
			return nil, nil, err
		}
	}
	return sum, buf.Bytes(), nil
}
