package sim_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/importers"
	"github.com/aktobe/geoportal/layers/transit"
	"github.com/aktobe/geoportal/layers/transit/gtfs"
	"github.com/aktobe/geoportal/layers/transit/sim"
	"github.com/aktobe/geoportal/web"
)

// TestRunDrivesVehiclesOverBothProtocols runs the load generator briefly against a real server
// and Wialon listener: every vehicle gets acknowledgements and the watcher sees the moves.
func TestRunDrivesVehiclesOverBothProtocols(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	if _, _, err := importers.New(pool, nil).ImportGTFS(ctx, os.DirFS("../gtfs/testdata/small"), "small", gtfs.Options{}, importers.Request{}); err != nil {
		t.Fatal(err)
	}
	srv := web.NewServer(slog.New(slog.DiscardHandler), pool)
	defer srv.Transit.Close()
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go srv.Transit.ServeWialon(lctx, ln)

	netw, err := srv.Transit.Network(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var vs []sim.Vehicle
	for i := range 6 {
		pw := fmt.Sprintf("simtest-password-%d", i) // the Wialon half logs in with it
		v, key, err := srv.Transit.AddVehicle(ctx, transit.NewVehicle{DeviceID: fmt.Sprintf("simtest-%d", i), Route: "5", WialonPassword: pw})
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, sim.Vehicle{ID: v.ID, DeviceID: v.DeviceID, Key: key, WialonPassword: pw, Route: netw.Shape("R5-E-00")})
	}
	rep, err := sim.Run(ctx, sim.Config{HTTPURL: ts.URL, WialonAddr: ln.Addr().String(), WialonShare: 0.5, Rate: 2, Batch: 2,
		Duration: 4 * time.Second, Watch: true}, vs, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Errors != 0 || rep.Acked < 6*2*2 {
		t.Errorf("report %+v", rep)
	}
	var wialonN, httpN int
	pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE source = 'w'), count(*) FILTER (WHERE source = 'h') FROM transit.positions`).Scan(&wialonN, &httpN)
	if wialonN == 0 || httpN == 0 || int64(wialonN+httpN) < rep.Acked {
		t.Errorf("stored %d over Wialon and %d over HTTP; %d acknowledged", wialonN, httpN, rep.Acked)
	}
	if rep.PushN == 0 || rep.PushP99 <= 0 {
		t.Errorf("no push latency measured: %+v", rep)
	}
}
