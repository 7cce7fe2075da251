package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers/transit"
	"github.com/aktobe/geoportal/layers/transit/wialon"
	"github.com/jackc/pgx/v5/pgxpool"
)

// startProcess runs the built binary's `serve` and returns its HTTP URL and Wialon address.
func startProcess(t *testing.T, bin, dbURL string) (*exec.Cmd, string, string) {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "GEOPORTAL_ADDR=127.0.0.1:0", "GEOPORTAL_WIALON_ADDR=127.0.0.1:0",
		"GEOPORTAL_LOG_LEVEL=error")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var httpURL, wialonAddr string
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			l := sc.Text()
			if _, a, ok := strings.Cut(l, "wialon ips trackers on tcp://"); ok {
				wialonAddr = a
			}
			if _, u, ok := strings.Cut(l, "geoportal listening on "); ok {
				httpURL = u
				close(found)
			}
		}
	}()
	select {
	case <-found:
	case <-time.After(2 * time.Minute):
		t.Fatal("serve did not start")
	}
	if wialonAddr == "" {
		t.Fatal("no wialon listener")
	}
	return cmd, httpURL, wialonAddr
}

type ackKey struct {
	vehicle int64
	at      time.Time
}

// TestCrashLosesNoAcknowledgedPosition kills a real `geoportal serve` with SIGKILL while HTTP
// and Wialon trackers are sending, restarts it, and checks that every position that was
// acknowledged is stored.
func TestCrashLosesNoAcknowledgedPosition(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "geoportal")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ctx := context.Background()
	dbURL := dbtest.NewURL(t)
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	cmd, httpURL, wialonAddr := startProcess(t, bin, dbURL)

	svc := transit.New(pool, nil)
	defer svc.Close()
	type dev struct {
		id       int64
		deviceID string
		key      string
	}
	var devs []dev
	for i := range 16 {
		v, key, err := svc.AddVehicle(ctx, transit.NewVehicle{DeviceID: fmt.Sprintf("crash-%02d", i), WialonPassword: "crash-test-pw"})
		if err != nil {
			t.Fatal(err)
		}
		devs = append(devs, dev{v.ID, v.DeviceID, key})
	}
	var mu sync.Mutex
	acked := map[ackKey]bool{}
	ack := func(id int64, ts []time.Time) {
		mu.Lock()
		for _, t := range ts {
			acked[ackKey{id, t}] = true
		}
		mu.Unlock()
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	for i, d := range devs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			clock := base
			batch := func() ([]wialon.Fix, []time.Time) {
				var fs []wialon.Fix
				var ts []time.Time
				for range 5 {
					clock = clock.Add(time.Second)
					fs = append(fs, wialon.Fix{Time: clock, Lat: 50.28 + float64(clock.Unix()%1000)*1e-5, Lon: 57.17, HasPos: true, Speed: 20,
						Course: 0, Alt: 200, Sats: 9, HDOP: 1})
					ts = append(ts, clock)
				}
				return fs, ts
			}
			if i%2 == 0 { // Wialon IPS
				c, err := net.Dial("tcp", wialonAddr)
				if err != nil {
					return
				}
				defer c.Close()
				r := bufio.NewReader(c)
				c.Write(wialon.EncodeLogin(d.deviceID, "crash-test-pw"))
				if l, err := r.ReadString('\n'); err != nil || l != "#AL#1\r\n" {
					return
				}
				for {
					select {
					case <-stop:
						return
					default:
					}
					fs, ts := batch()
					if _, err := c.Write(wialon.EncodeBlackBox(fs)); err != nil {
						return
					}
					l, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if l == "#AB#5\r\n" {
						ack(d.id, ts)
					}
				}
			}
			client := &http.Client{Timeout: 10 * time.Second}
			for {
				select {
				case <-stop:
					return
				default:
				}
				fs, ts := batch()
				var body struct {
					Positions []map[string]any `json:"positions"`
				}
				for _, f := range fs {
					body.Positions = append(body.Positions, map[string]any{"time": f.Time.Format(time.RFC3339), "lat": f.Lat, "lon": f.Lon})
				}
				b, _ := json.Marshal(body)
				req, _ := http.NewRequest(http.MethodPost, httpURL+"/api/vehicles/positions", bytes.NewReader(b))
				req.Header.Set("X-Device-Key", d.key)
				resp, err := client.Do(req)
				if err != nil {
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					ack(d.id, ts)
				}
			}
		}()
	}
	time.Sleep(3 * time.Second)
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no shutdown code runs
		t.Fatal(err)
	}
	cmd.Wait()
	close(stop)
	wg.Wait()
	mu.Lock()
	n := len(acked)
	mu.Unlock()
	if n < 100 {
		t.Fatalf("only %d positions acknowledged before the kill; the test needs traffic", n)
	}

	// Restart on the same database: it comes up, and every acknowledged position is there.
	_, httpURL2, _ := startProcess(t, bin, dbURL)
	if resp, err := http.Get(httpURL2 + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("restarted server not ready: %v", err)
	}
	stored := map[ackKey]bool{}
	rows, _ := pool.Query(ctx, `SELECT vehicle_id, at FROM transit.positions`)
	for rows.Next() {
		var k ackKey
		rows.Scan(&k.vehicle, &k.at)
		stored[ackKey{k.vehicle, k.at.UTC()}] = true
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	lost := 0
	for k := range acked {
		if !stored[ackKey{k.vehicle, k.at.UTC()}] {
			lost++
		}
	}
	t.Logf("%d positions acknowledged before SIGKILL, %d stored", n, len(stored))
	if lost > 0 {
		t.Errorf("%d of %d acknowledged positions lost", lost, n)
	}
}

// geoportal simulate gives its Wialon units passwords: against a served geoportal with the
// default limits they all log in and their fixes are stored. With no timetable its vehicles stand
// in the city the data describe (here a boundary around Dover, Delaware), not in Aktobe.
func TestSimulateWialonUnitsLogIn(t *testing.T) {
	dbURL := dbtest.NewURL(t)
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(context.Background(), `INSERT INTO layer.city_boundary (name, geom)
		VALUES ('Dover', ST_Multi(ST_MakeEnvelope(-75.56, 39.13, -75.48, 39.20, 4326)))`); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wialonAddr := ln.Addr().String()
	ln.Close()
	env := map[string]string{"DATABASE_URL": dbURL}
	url, stop := startServe(t, env, "-wialon-addr", wialonAddr)
	defer stop()
	var out bytes.Buffer
	err = run(context.Background(), []string{"simulate", "-vehicles", "4", "-wialon-share", "0.5", "-rate", "2", "-duration", "3s",
		"-watch=false", "-url", url, "-wialon", wialonAddr}, func(k string) string { return env[k] }, &out, io.Discard)
	if err != nil || !strings.Contains(out.String(), "; 0 errors;") {
		t.Fatalf("simulate: %v\n%s", err, out.String())
	}
	var away int
	pool.QueryRow(context.Background(), `SELECT count(*) FROM transit.positions
		WHERE NOT (lon BETWEEN -75.6 AND -75.4 AND lat BETWEEN 39.1 AND 39.3)`).Scan(&away)
	if away > 0 {
		t.Errorf("%d simulated positions lie outside the city the data describe", away)
	}
	var units int
	pool.QueryRow(context.Background(), `SELECT count(DISTINCT vehicle_id) FROM transit.positions WHERE source = 'w'`).Scan(&units)
	if units != 2 {
		t.Errorf("%d simulated units stored fixes over Wialon IPS, want 2", units)
	}
}
