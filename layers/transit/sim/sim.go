// Package sim is the load generator of the live-vehicle module: simulated vehicles drive along
// the timetable's shapes and report to a geoportal over Wialon IPS (one TCP connection each) and
// HTTP, while a watcher on the live stream measures how long a fix takes to reach a browser.
// It only talks to the addresses it is given (127.0.0.1 in the benchmarks) and stops after
// Config.Duration.
package sim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aktobe/geoportal/layers/transit"
	"github.com/aktobe/geoportal/layers/transit/wialon"
	"github.com/paulmach/orb"
)

// Vehicle is a simulated vehicle: its registry id, tracker id, HTTP device key and Wialon IPS
// password (the vehicles that speak Wialon IPS need one: units without a password are refused).
type Vehicle struct {
	ID             int64
	DeviceID       string
	Key            string
	WialonPassword string
	Route          *transit.Walker
}

// Config is one simulation run.
type Config struct {
	HTTPURL     string        // base URL of the geoportal, e.g. http://127.0.0.1:8080
	WialonAddr  string        // Wialon IPS listener
	WialonShare float64       // share of vehicles that speak Wialon IPS (the rest HTTP)
	Rate        float64       // fixes per vehicle per second
	Batch       int           // fixes per packet or request (black box / JSON batch)
	Duration    time.Duration // how long to run
	Watch       bool          // measure ingest-to-push latency on /api/vehicles/live
	SpeedKmh    float64       // simulated driving speed (default 25)
	Home        orb.Point     // lon, lat around which vehicles with no route stand (the city's centre)
}

// Report is what a run measured.
type Report struct {
	Vehicles       int
	Acked          int64 // positions acknowledged (stored durably)
	Errors         int64
	Elapsed        time.Duration
	PerSecond      float64
	AckP50, AckP99 time.Duration // request/packet round trip
	PushN          int
	PushP50        time.Duration // fix sent -> seen on the live stream
	PushP99        time.Duration
	PushMax        time.Duration
}

type sentKey struct {
	id int64
	at int64 // unix ms of the fix time
}

type runner struct {
	cfg     Config
	acked   atomic.Int64
	errs    atomic.Int64
	mu      sync.Mutex
	ackLat  []time.Duration
	sent    map[sentKey]time.Time
	pushLat []time.Duration
	client  *http.Client
}

// Run drives the vehicles until cfg.Duration passes or ctx ends, printing progress to out.
func Run(ctx context.Context, cfg Config, vehicles []Vehicle, out io.Writer) (*Report, error) {
	if cfg.Rate <= 0 {
		cfg.Rate = 1
	}
	if cfg.Batch < 1 {
		cfg.Batch = 1
	}
	if cfg.SpeedKmh <= 0 {
		cfg.SpeedKmh = 25
	}
	r := &runner{cfg: cfg, sent: map[sentKey]time.Time{}, client: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512, IdleConnTimeout: time.Minute},
	}}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var watchWG sync.WaitGroup
	if cfg.Watch {
		ready := make(chan error, 1)
		watchWG.Add(1)
		go func() { defer watchWG.Done(); r.watch(ctx, ready) }()
		if err := <-ready; err != nil {
			return nil, err
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	nWialon := int(math.Round(cfg.WialonShare * float64(len(vehicles))))
	for i, v := range vehicles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Spread the vehicles over the first interval.
			interval := time.Duration(float64(cfg.Batch) / cfg.Rate * float64(time.Second))
			select {
			case <-time.After(time.Duration(rand.Int64N(int64(interval) + 1))):
			case <-ctx.Done():
				return
			}
			if i < nWialon {
				r.driveWialon(ctx, v, interval)
			} else {
				r.driveHTTP(ctx, v, interval)
			}
		}()
	}
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	last, lastAt := int64(0), start
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
loop:
	for {
		select {
		case <-done:
			break loop
		case now := <-tick.C:
			a := r.acked.Load()
			fmt.Fprintf(out, "%5.0fs  %8d acked  %7.0f/s  %d errors\n", now.Sub(start).Seconds(), a,
				float64(a-last)/now.Sub(lastAt).Seconds(), r.errs.Load())
			last, lastAt = a, now
		}
	}
	elapsed := time.Since(start)
	cancel()
	watchWG.Wait()
	rep := &Report{Vehicles: len(vehicles), Acked: r.acked.Load(), Errors: r.errs.Load(), Elapsed: elapsed}
	rep.PerSecond = float64(rep.Acked) / elapsed.Seconds()
	r.mu.Lock()
	defer r.mu.Unlock()
	rep.AckP50, rep.AckP99 = pct(r.ackLat, 0.5), pct(r.ackLat, 0.99)
	rep.PushN = len(r.pushLat)
	rep.PushP50, rep.PushP99, rep.PushMax = pct(r.pushLat, 0.5), pct(r.pushLat, 0.99), pct(r.pushLat, 1)
	return rep, nil
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// mover advances a vehicle along its shape. At 1 Hz or less its clock is the wall clock; above
// 1 Hz it replays a drive at one simulated second per fix, starting far enough in the past that
// it never passes the wall clock (fix times must be distinct and not in the future).
type mover struct {
	v     Vehicle
	dist  float64
	clock time.Time
	speed float64   // m/s
	live  bool      // clock follows the wall clock (rate <= 1)
	home  orb.Point // where it stands when it has no route
}

func newMover(v Vehicle, cfg Config) *mover {
	m := &mover{v: v, home: cfg.Home, speed: cfg.SpeedKmh / 3.6 * (0.8 + 0.4*rand.Float64())}
	if v.Route != nil {
		m.dist = rand.Float64() * v.Route.Length()
	}
	if cfg.Rate <= 1 {
		m.live = true
	} else {
		m.clock = time.Now().Add(-time.Duration(cfg.Rate*cfg.Duration.Seconds()+60) * time.Second).Truncate(time.Second)
	}
	return m
}

func (m *mover) next() wialon.Fix {
	var at time.Time
	if m.live {
		at = time.Now().Truncate(time.Second)
		if !at.After(m.clock) {
			at = m.clock.Add(time.Second)
		}
	} else {
		at = m.clock.Add(time.Second)
	}
	step := m.speed * at.Sub(m.clock).Seconds()
	if m.clock.IsZero() {
		step = 0
	}
	m.clock = at
	var pt orb.Point
	heading := 0.0
	if m.v.Route != nil {
		m.dist += step
		if m.dist > m.v.Route.Length() {
			m.dist = 0
		}
		pt, heading = m.v.Route.At(m.dist)
	} else {
		pt = orb.Point{m.home[0] + float64(m.v.ID%100)*0.0005, m.home[1] + float64(m.v.ID/100%100)*0.0005}
	}
	return wialon.Fix{Time: at, Lat: pt[1], Lon: pt[0], HasPos: true, Speed: math.Round(m.speed * 3.6), Course: math.Round(heading),
		Alt: 200, Sats: 10, HDOP: 0.9}
}

func (r *runner) recordSent(id int64, fixes []wialon.Fix, t time.Time) {
	if !r.cfg.Watch {
		return
	}
	r.mu.Lock()
	for _, f := range fixes {
		r.sent[sentKey{id, f.Time.UnixMilli()}] = t
	}
	r.mu.Unlock()
}

func (r *runner) recordAck(n int, lat time.Duration) {
	r.acked.Add(int64(n))
	r.mu.Lock()
	if len(r.ackLat) < 2_000_000 {
		r.ackLat = append(r.ackLat, lat)
	}
	r.mu.Unlock()
}

func (r *runner) driveWialon(ctx context.Context, v Vehicle, interval time.Duration) {
	m := newMover(v, r.cfg)
	for ctx.Err() == nil {
		err := r.wialonSession(ctx, m, interval)
		if err != nil && ctx.Err() == nil {
			r.errs.Add(1)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

func (r *runner) wialonSession(ctx context.Context, m *mover, interval time.Duration) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", r.cfg.WialonAddr)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	br := bufio.NewReader(c)
	if _, err := c.Write(wialon.EncodeLogin(m.v.DeviceID, m.v.WialonPassword)); err != nil {
		return err
	}
	if line, err := br.ReadString('\n'); err != nil || line != "#AL#1\r\n" {
		return fmt.Errorf("login %s: %q %v", m.v.DeviceID, line, err)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		fixes := make([]wialon.Fix, r.cfg.Batch)
		for i := range fixes {
			fixes[i] = m.next()
		}
		var pkt []byte
		want := "#AD#1\r\n"
		if len(fixes) == 1 {
			pkt = wialon.EncodeData(fixes[0])
		} else {
			pkt = wialon.EncodeBlackBox(fixes)
			want = fmt.Sprintf("#AB#%d\r\n", len(fixes))
		}
		sent := time.Now()
		r.recordSent(m.v.ID, fixes, sent)
		if _, err := c.Write(pkt); err != nil {
			return err
		}
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		if line != want {
			r.errs.Add(1)
		} else {
			r.recordAck(len(fixes), time.Since(sent))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (r *runner) driveHTTP(ctx context.Context, v Vehicle, interval time.Duration) {
	m := newMover(v, r.cfg)
	t := time.NewTicker(interval)
	defer t.Stop()
	type pos struct {
		Time    string  `json:"time"`
		Lat     float64 `json:"lat"`
		Lon     float64 `json:"lon"`
		Speed   float64 `json:"speed_kmh"`
		Heading float64 `json:"heading"`
	}
	for {
		fixes := make([]wialon.Fix, r.cfg.Batch)
		body := struct {
			Positions []pos `json:"positions"`
		}{}
		for i := range fixes {
			f := m.next()
			fixes[i] = f
			body.Positions = append(body.Positions, pos{f.Time.Format(time.RFC3339Nano), f.Lat, f.Lon, f.Speed, f.Course})
		}
		b, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(r.cfg.HTTPURL, "/")+"/api/vehicles/positions", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Device-Key", v.Key)
		sent := time.Now()
		r.recordSent(v.ID, fixes, sent)
		resp, err := r.client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			r.errs.Add(1)
		} else {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				r.recordAck(len(fixes), time.Since(sent))
			} else {
				r.errs.Add(1)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// watch reads the live stream and records, for each vehicle update, the time since its fix was sent.
func (r *runner) watch(ctx context.Context, ready chan<- error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(r.cfg.HTTPURL, "/")+"/api/vehicles/live", nil)
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		ready <- err
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		ready <- fmt.Errorf("live stream: %s", resp.Status)
		return
	}
	ready <- nil
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = line[7:]
		case strings.HasPrefix(line, "data: ") && event == "vehicles":
			now := time.Now()
			var vs []struct {
				ID     int64     `json:"id"`
				SeenAt time.Time `json:"seen_at"`
			}
			if json.Unmarshal([]byte(line[6:]), &vs) != nil {
				continue
			}
			r.mu.Lock()
			for _, v := range vs {
				k := sentKey{v.ID, v.SeenAt.UnixMilli()}
				if t, ok := r.sent[k]; ok {
					r.pushLat = append(r.pushLat, now.Sub(t))
					delete(r.sent, k)
				}
			}
			r.mu.Unlock()
		}
	}
}
