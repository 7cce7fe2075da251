package gtfs_test

import (
	"archive/zip"
	"bytes"
	"context"
	"testing"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/aktobe/geoportal/layers/transit"
	"github.com/aktobe/geoportal/layers/transit/gtfs"
)

func TestFeedFromLayers(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	// A drawn network: route 7 along an avenue with a pair of stops at two places and one stop
	// of another route; route 9 with a single stop (too few to run).
	if _, err := pool.Exec(ctx, `
		INSERT INTO layer.bus_routes (geom, ref, name, operator) VALUES
			('SRID=4326;MULTILINESTRING((57.10 50.28, 57.15 50.28, 57.20 50.285))', '7', 'West - East', 'Aktobe bus'),
			('SRID=4326;MULTILINESTRING((57.10 50.30, 57.12 50.30))', '9', 'Nowhere - Far', 'Aktobe bus');
		INSERT INTO layer.bus_stops (geom, name, code, routes) VALUES
			('SRID=4326;POINT(57.1001 50.2801)', 'West end', 'A1', '7'),
			('SRID=4326;POINT(57.1001 50.2799)', 'West end (other side)', 'A2', '7, 12'),
			('SRID=4326;POINT(57.1500 50.2802)', 'Middle', 'B1', '7'),
			('SRID=4326;POINT(57.1999 50.2849)', 'East end', 'C1', '12, 7'),
			('SRID=4326;POINT(57.1700 50.2900)', 'Far from the line', 'D1', '7'),
			('SRID=4326;POINT(57.1600 50.2820)', 'Other route', 'E1', '12'),
			('SRID=4326;POINT(57.1100 50.3000)', 'Lonely', 'F1', '9')`); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	sum, err := gtfs.FromLayers(ctx, pool, gtfs.DefaultDemoTimetable, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Routes != 2 || sum.Shapes != 2 || sum.Stops != 3 || sum.Trips != 65+64 { // route 9 does not run; westbound starts 7.5 min later
		t.Errorf("summary %+v", sum)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := importFeed(ctx, pool, zr, gtfs.Options{TimetableOnly: true}); err != nil {
		t.Fatal(err)
	}
	var stops int
	pool.QueryRow(ctx, `SELECT count(*) FROM layer.bus_stops`).Scan(&stops)
	if stops != 7 {
		t.Errorf("the layers changed: %d stops", stops)
	}
	net, err := transit.LoadNetwork(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	east, west := net.Trips["r1-0-000"], net.Trips["r1-1-000"]
	if east == nil || west == nil {
		t.Fatalf("trips %v", net.Trips)
	}
	var order []string
	for _, st := range east.Stops {
		order = append(order, st.StopID)
	}
	if len(order) != 3 || order[0][0] != 'A' || order[1] != "B1" || order[2] != "C1" {
		t.Errorf("eastbound stops %v", order)
	}
	// About 7.3 km at 20 km/h plus one 20 s stop: 22 to 23 minutes; departures at 06:00.
	if east.Start != 6*3600 || east.End-east.Start < 21*60 || east.End-east.Start > 24*60 {
		t.Errorf("eastbound %d -> %d", east.Start, east.End)
	}
	if west.Stops[0].StopID != "C1" || west.Start != 6*3600+450 {
		t.Errorf("westbound %+v", west)
	}
}
