package pgcluster_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aktobe/geoportal/data/pgcluster"
	"github.com/jackc/pgx/v5"
)

// NewTestDir makes a folder the cluster's unprivileged user can enter (t.TempDir is private to
// the test's user, which is root in CI).
func newTestDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pgcluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() {
		pgcluster.New(dir, nil).Stop()
		os.RemoveAll(dir)
	})
	return dir
}

func query(t *testing.T, url string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS postgis`); err != nil {
		t.Fatalf("create extension postgis: %v", err)
	}
	var v string
	if err := conn.QueryRow(ctx, `SELECT postgis_lib_version()`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// Two users of one folder share one server; the server stops when the last one leaves.
func TestTwoUsersShareOneCluster(t *testing.T) {
	ctx := context.Background()
	dir := newTestDir(t)
	first := pgcluster.New(dir, nil)
	url1, err := first.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v := query(t, url1); v == "" {
		t.Fatal("no PostGIS in the local cluster")
	}
	second := pgcluster.New(dir, nil)
	url2, err := second.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if url1 != url2 {
		t.Fatalf("second user got %s, first %s: want the same server", url2, url1)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	query(t, url2) // still running for the second user
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := pgx.Connect(ctx, url2); err == nil {
		t.Fatal("server still accepts connections after its last user left")
	}
	if _, err := os.Stat(filepath.Join(dir, "pgdata", "postmaster.pid")); err == nil {
		t.Fatal("postmaster.pid left behind after stop")
	}
	// And it starts again on the same data.
	third := pgcluster.New(dir, nil)
	url3, err := third.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	query(t, url3)
}

// A busy default port makes the cluster choose another one rather than fail.
func TestBusyPortIsAvoided(t *testing.T) {
	ctx := context.Background()
	a := pgcluster.New(newTestDir(t), nil)
	urlA, err := a.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b := pgcluster.New(newTestDir(t), nil)
	urlB, err := b.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if urlA == urlB {
		t.Fatal("two clusters in two folders got the same URL")
	}
	query(t, urlA)
	query(t, urlB)
}

// Status tells a primary from its streaming standby, shows the standby as the primary sees it,
// and a stopped cluster as stopped.
func TestStatusOfPrimaryAndStandby(t *testing.T) {
	ctx := context.Background()
	primary := pgcluster.New(newTestDir(t), nil)
	purl, err := primary.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer primary.Close()
	standby := pgcluster.New(newTestDir(t), nil)
	standby.Standby = purl
	if _, err := standby.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer standby.Close()

	var st pgcluster.State
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if st, err = primary.Status(ctx); err != nil {
			t.Fatal(err)
		}
		if len(st.Replicas) == 1 && st.Replicas[0].State == "streaming" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the primary shows no streaming standby: %+v", st)
		}
	}
	if !st.Running || st.Standby || st.PID <= 0 || st.Port <= 0 || st.Replicas[0].LagBytes < 0 {
		t.Errorf("primary status: %+v", st)
	}
	sst, err := standby.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !sst.Running || !sst.Standby || sst.Receiver != "streaming" || sst.Port == st.Port || len(sst.Replicas) != 0 {
		t.Errorf("standby status: %+v", sst)
	}
	if err := standby.Stop(); err != nil {
		t.Fatal(err)
	}
	if sst, err = standby.Status(ctx); err != nil || sst.Running {
		t.Errorf("stopped standby: %+v %v", sst, err)
	}
}
