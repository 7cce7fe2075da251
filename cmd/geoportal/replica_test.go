package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aktobe/geoportal/data/pgcluster"
	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

// metric sums the samples of a Prometheus metric whose labels include every given label.
func metric(t *testing.T, base, name string, labels ...string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if !ok {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum += v
	}
	return sum
}

// waitFor polls cond until it holds. The bound only keeps a broken run from hanging: it is far
// above what any step takes, because the machine may be shared (a minute, not a timing claim).
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
	}
}

func httpDo(t *testing.T, method, url, body string, header ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// tileFeatures counts the features of the playgrounds layer in the z16 tile around the point.
func tileFeatures(t *testing.T, base string, lon, lat float64) int {
	t.Helper()
	tile := maptile.At([2]float64{lon, lat}, 16)
	status, body := httpDo(t, "GET", fmt.Sprintf("%s/tiles/playgrounds/%d/%d/%d.mvt", base, tile.Z, tile.X, tile.Y), "")
	if status == http.StatusNoContent {
		return 0
	}
	if status != 200 {
		t.Fatalf("tile: %d %s", status, body)
	}
	ls, err := mvt.UnmarshalGzipped(body)
	if err != nil {
		if ls, err = mvt.Unmarshal(body); err != nil {
			t.Fatalf("tile: %v", err)
		}
	}
	n := 0
	for _, l := range ls {
		n += len(l.Features)
	}
	return n
}

// TestReadReplicas runs PostgreSQL's own streaming replication under two geoportal nodes: a
// primary, a standby made with pg_basebackup (standby.signal), and two servers reading from it.
func TestReadReplicas(t *testing.T) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "geoportal-replicas-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755) // the postgres user runs the servers when the tests run as root
	t.Cleanup(func() { os.RemoveAll(dir) })
	primary := pgcluster.New(filepath.Join(dir, "primary"), nil)
	purl, err := primary.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { primary.Stop() })
	standby := pgcluster.New(filepath.Join(dir, "replica"), nil)
	standby.Standby = purl
	rurl, err := standby.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { standby.Stop() })
	var recovering bool
	conn, err := pgx.Connect(ctx, rurl)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT pg_is_in_recovery()`).Scan(&recovering); err != nil || !recovering {
		t.Fatalf("the replica is not a standby: %v %v", recovering, err)
	}
	conn.Close(ctx)

	env := map[string]string{"DATABASE_URL": purl, "GEOPORTAL_REPLICA_URL": rurl}
	// Tiles straight from PostgreSQL (no in-memory copies), so that they are read from a replica.
	args := []string{"-wialon-addr", "off", "-tile-memory-mb", "0"}
	a, stopA := startServe(t, env, args...)
	defer stopA()
	b, stopB := startServe(t, env, args...)
	defer stopB()
	for _, n := range []string{a, b} {
		waitFor(t, time.Minute, "replica in rotation on "+n, func() bool { return metric(t, n, "geoportal_replica_in_rotation") == 1 })
	}

	// A GIS staff member's API key for OGC writes.
	var out, errOut bytes.Buffer
	getenv := func(k string) string { return env[k] }
	if err := runUser(ctx, []string{"add", "--email", "gis@example.kz", "--role", "gis_staff", "--password-stdin"}, getenv,
		strings.NewReader("replica test password 1234\n"), &out, &errOut); err != nil {
		t.Fatalf("user add: %v %s", err, errOut.String())
	}
	out.Reset()
	if err := runUser(ctx, []string{"key", "add", "--email", "gis@example.kz", "--scope", "features:write,read", "--name", "replica test"},
		getenv, nil, &out, &errOut); err != nil {
		t.Fatalf("key add: %v %s", err, errOut.String())
	}
	key := strings.TrimSpace(out.String())

	lon, lat := 57.2, 50.3
	if n := tileFeatures(t, a, lon, lat) + tileFeatures(t, b, lon, lat); n != 0 {
		t.Fatalf("tiles before the write: %d features", n)
	}
	replicaReads := func(n, use string) float64 {
		return metric(t, n, "geoportal_db_reads_total", `use="`+use+`"`, `target="replica"`)
	}
	tilesBefore := replicaReads(b, "tiles") + replicaReads(a, "tiles")
	if tilesBefore == 0 {
		t.Error("the tiles before the write were not read from the replica")
	}

	// The replica stops replaying (as a slow one would) before an OGC write through node A…
	rconn, err := pgx.Connect(ctx, rurl)
	if err != nil {
		t.Fatal(err)
	}
	defer rconn.Close(ctx)
	if _, err := rconn.Exec(ctx, `SELECT pg_wal_replay_pause()`); err != nil {
		t.Fatal(err)
	}
	heardBefore := metric(t, b, "geoportal_replica_changes_heard_total")
	status, body := httpDo(t, "POST", a+"/ogc/collections/playgrounds/items",
		fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Point","coordinates":[%v,%v]},"properties":{"name":"Replica yard"}}`, lon, lat),
		"Content-Type", "application/geo+json", "Authorization", "Bearer "+key)
	if status != 201 {
		t.Fatalf("create through A: %d %s", status, body)
	}
	waitFor(t, time.Minute, "B hears of the write", func() bool {
		return metric(t, b, "geoportal_replica_changes_heard_total") > heardBefore
	})
	// A change to the layer's catalog entry on the primary is announced (layer_catalog_changed)
	// and read fresh as well: /api/layers and the layer from either node have it.
	pconn, err := pgx.Connect(ctx, purl)
	if err != nil {
		t.Fatal(err)
	}
	defer pconn.Close(ctx)
	heardBefore = metric(t, b, "geoportal_replica_changes_heard_total")
	if _, err := pconn.Exec(ctx, `UPDATE geoportal.layers SET title_en = 'Replica playgrounds' WHERE slug = 'playgrounds'`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "B hears of the catalog change", func() bool {
		return metric(t, b, "geoportal_replica_changes_heard_total") > heardBefore
	})
	catalogBefore := replicaReads(b, "catalog")
	for _, n := range []string{a, b} {
		for _, path := range []string{"/api/layers/playgrounds", "/api/layers"} {
			status, body := httpDo(t, "GET", n+path, "")
			if status != 200 || !bytes.Contains(body, []byte("Replica playgrounds")) {
				t.Errorf("%s%s while the replica lags: %d, the new title missing", n, path, status)
			}
		}
	}
	// …so the replica lacks it: both nodes read that layer from the primary, and every answer,
	// features and tiles, has it.
	items := fmt.Sprintf("%s/ogc/collections/playgrounds/items?bbox=%v,%v,%v,%v", b, lon-0.01, lat-0.01, lon+0.01, lat+0.01)
	readsBefore := replicaReads(b, "public")
	for _, n := range []string{a, b} {
		status, body := httpDo(t, "GET", strings.Replace(items, b, n, 1), "")
		if status != 200 || !bytes.Contains(body, []byte("Replica yard")) {
			t.Errorf("items from %s while the replica lags: %d %s", n, status, body)
		}
		if got := tileFeatures(t, n, lon, lat); got != 1 {
			t.Errorf("tile from %s while the replica lags: %d features, want 1", n, got)
		}
	}
	if got := replicaReads(b, "public"); got != readsBefore {
		t.Errorf("B read the changed layer from a replica that had not replayed the change (%v → %v)", readsBefore, got)
	}
	if got := replicaReads(b, "catalog"); got != catalogBefore {
		t.Errorf("B read the changed catalog from a replica that had not replayed the change (%v → %v)", catalogBefore, got)
	}
	// Replay resumes: B reads the write from the replica.
	if _, err := rconn.Exec(ctx, `SELECT pg_wal_replay_resume()`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "the write seen through B reading from the replica", func() bool {
		before := replicaReads(b, "public")
		_, body := httpDo(t, "GET", items, "")
		if !bytes.Contains(body, []byte("Replica yard")) {
			t.Fatalf("B answered without the feature written through A: %s", body)
		}
		return replicaReads(b, "public") > before
	})
	for _, n := range []string{a, b} {
		if got := tileFeatures(t, n, lon, lat); got != 1 {
			t.Errorf("tile from %s after the write: %d features, want 1", n, got)
		}
	}
	waitFor(t, time.Minute, "the catalog change seen through B reading from the replica", func() bool {
		before := replicaReads(b, "catalog")
		_, body := httpDo(t, "GET", b+"/api/layers/playgrounds", "")
		if !bytes.Contains(body, []byte("Replica playgrounds")) {
			t.Fatalf("B answered with the old catalog entry: %s", body)
		}
		return replicaReads(b, "catalog") > before
	})

	// An analysis job started on A is followed and cancelled on B. A lock on the buildings, taken
	// on the primary, is replayed on the replica: the job's query waits there.
	lock, err := pgx.Connect(ctx, purl)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close(ctx)
	tx, err := lock.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE layer.buildings IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	status, body = httpDo(t, "POST", a+"/api/analysis/jobs", `{"kind":"coverage","params":{"layer":"playgrounds","distance":300}}`,
		"Content-Type", "application/json")
	if status != 202 {
		t.Fatalf("start job on A: %d %s", status, body)
	}
	var job struct {
		ID    string `json:"id"`
		State string `json:"state"`
		Stage string `json:"stage"`
	}
	json.Unmarshal(body, &job)
	waitFor(t, time.Minute, "B sees the job reach the residents", func() bool {
		status, body := httpDo(t, "GET", b+"/api/analysis/jobs/"+job.ID, "")
		if status != 200 {
			t.Fatalf("poll on B: %d %s", status, body)
		}
		json.Unmarshal(body, &job)
		return job.State == "running" && job.Stage == "residents"
	})
	status, body = httpDo(t, "DELETE", b+"/api/analysis/jobs/"+job.ID, "")
	json.Unmarshal(body, &job)
	if status != 200 || job.State != "canceled" {
		t.Fatalf("cancel on B: %d %s", status, body)
	}
	if replicaReads(a, "analysis") == 0 {
		t.Error("the analysis on A did not read from the replica")
	}
	tx.Rollback(ctx)

	// The replica stopped: reads fall back to the primary with no error…
	if err := standby.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{a, b} {
		status, body := httpDo(t, "GET", strings.Replace(items, b, n, 1), "")
		if status != 200 || !bytes.Contains(body, []byte("Replica yard")) {
			t.Errorf("items from %s with the replica down: %d %s", n, status, body)
		}
		if got := tileFeatures(t, n, lon, lat); got != 1 {
			t.Errorf("tile from %s with the replica down: %d features", n, got)
		}
		waitFor(t, time.Minute, "replica out of rotation on "+n, func() bool { return metric(t, n, "geoportal_replica_in_rotation") == 0 })
	}
	// …and once it is back it is used again.
	if _, err := standby.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{a, b} {
		waitFor(t, time.Minute, "replica back in rotation on "+n, func() bool { return metric(t, n, "geoportal_replica_in_rotation") == 1 })
		before := replicaReads(n, "public")
		status, _ := httpDo(t, "GET", strings.Replace(items, b, n, 1), "")
		if status != 200 || replicaReads(n, "public") <= before {
			t.Errorf("%s after the replica came back: %d, replica reads %v → %v", n, status, before, replicaReads(n, "public"))
		}
	}
}
