package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb/maptile"
)

// freeTCPPort returns a loopback port nothing listens on now.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// descendants are the processes under pid (children, their children, …), from /proc.
func descendants(pid int) []int {
	parent := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …: comm may hold spaces, so read after the last ')'.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) > 1 {
			parent[p], _ = strconv.Atoi(f[1])
		}
	}
	var out []int
	todo := []int{pid}
	for len(todo) > 0 {
		p := todo[0]
		todo = todo[1:]
		for c, pp := range parent {
			if pp == p {
				out = append(out, c)
				todo = append(todo, c)
			}
		}
	}
	return out
}

// TestClusterScript runs scripts/cluster.sh as an operator would: up (a primary, a streaming
// replica, two nodes, nginx), a write through nginx read back through nginx from both nodes, the
// tile cache and the live stream through nginx, status, up again (nothing restarted), and down,
// after which no process it started is left.
func TestClusterScript(t *testing.T) {
	if _, err := exec.LookPath("nginx"); err != nil {
		if _, err := os.Stat("/usr/sbin/nginx"); err != nil {
			t.Fatal("nginx is missing: scripts/deps.sh installs it (Debian package nginx; make test runs it)")
		}
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "geoportal-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755) // the postgres and nobody users run the servers when the tests run as root
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "geoportal")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	front, pa, pb := freeTCPPort(t), freeTCPPort(t), freeTCPPort(t)
	script, err := filepath.Abs("../../scripts/cluster.sh")
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "CLUSTER_DIR="+filepath.Join(dir, "cluster"), "GEOPORTAL_BIN="+bin,
		fmt.Sprintf("CLUSTER_PORT=%d", front), fmt.Sprintf("CLUSTER_NODE_PORTS=%d %d", pa, pb))
	cluster := func(verb string) string {
		t.Helper()
		cmd := exec.Command(script, verb)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("cluster.sh %s: %v\n%s", verb, err, out)
		}
		return string(out)
	}
	downDone := false
	t.Cleanup(func() {
		if !downDone {
			cmd := exec.Command(script, "down")
			cmd.Env = env
			cmd.Run()
		}
	})
	out := cluster("up")
	t.Logf("up:\n%s", out)
	base := fmt.Sprintf("http://127.0.0.1:%d", front)

	// What status shows: nginx, two nodes using the replica, the primary streaming to a standby.
	status := cluster("status")
	t.Logf("status:\n%s", status)
	pids := map[string]int{}
	for _, want := range []string{"nginx", "node-a", "node-b", "primary", "replica"} {
		m := regexp.MustCompile(`(?m)^` + want + `\s+(\d+)\s+(\d+)\s+(.*)$`).FindStringSubmatch(status)
		if m == nil {
			t.Fatalf("status has no line for %s:\n%s", want, status)
		}
		pids[want], _ = strconv.Atoi(m[1])
		switch want {
		case "node-a", "node-b":
			if !strings.Contains(m[3], "in rotation: 1") {
				t.Errorf("%s does not use the replica: %s", want, m[3])
			}
		case "replica":
			if !strings.Contains(m[3], "standby wal_receiver=streaming") {
				t.Errorf("the replica is not a streaming standby: %s", m[3])
			}
		}
	}
	if !regexp.MustCompile(`replication: addr=127\.0\.0\.1 state=streaming lag_bytes=\d+`).MatchString(status) {
		t.Errorf("status shows no streaming replica with its lag:\n%s", status)
	}
	var started []int
	for _, pid := range pids {
		started = append(started, pid)
		started = append(started, descendants(pid)...)
	}

	// up again: everything is found running, nothing is started twice.
	again := cluster("up")
	for _, name := range []string{"node-a", "node-b", "nginx"} {
		if !strings.Contains(again, name) || !regexp.MustCompile(`(?m)^`+name+`\s+already running \(pid `+strconv.Itoa(pids[name])).MatchString(again) {
			t.Errorf("second up did not find %s running as pid %d:\n%s", name, pids[name], again)
		}
	}

	// A write through nginx, by a GIS staff member's API key.
	var dburl, errOut bytes.Buffer
	if err := run(ctx, []string{"db", "-data-dir", filepath.Join(dir, "cluster", "primary"), "url"}, os.Getenv, &dburl, &errOut); err != nil {
		t.Fatalf("db url: %v %s", err, errOut.String())
	}
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return strings.TrimSpace(dburl.String())
		}
		return ""
	}
	var keyOut bytes.Buffer
	if err := runUser(ctx, []string{"add", "--email", "gis@example.kz", "--role", "gis_staff", "--password-stdin"}, getenv,
		strings.NewReader("cluster test password 1234\n"), &keyOut, &errOut); err != nil {
		t.Fatalf("user add: %v %s", err, errOut.String())
	}
	keyOut.Reset()
	if err := runUser(ctx, []string{"key", "add", "--email", "gis@example.kz", "--scope", "features:write,read", "--name", "cluster test"},
		getenv, nil, &keyOut, &errOut); err != nil {
		t.Fatalf("key add: %v %s", err, errOut.String())
	}
	key := strings.TrimSpace(keyOut.String())
	lon, lat := 57.02, 50.12 // outside the demo city's playgrounds
	status2, body := httpDo(t, "POST", base+"/ogc/collections/playgrounds/items",
		fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Point","coordinates":[%v,%v]},"properties":{"name":"Cluster yard"}}`, lon, lat),
		"Content-Type", "application/geo+json", "Authorization", "Bearer "+key)
	if status2 != 201 {
		t.Fatalf("create through nginx: %d %s", status2, body)
	}
	// Visible through nginx at once, from both nodes (round robin: four reads reach each twice).
	items := fmt.Sprintf("%s/ogc/collections/playgrounds/items?bbox=%v,%v,%v,%v", base, lon-0.001, lat-0.001, lon+0.001, lat+0.001)
	for i := range 4 {
		status, body := httpDo(t, "GET", items, "")
		if status != 200 || !bytes.Contains(body, []byte("Cluster yard")) {
			t.Fatalf("read %d through nginx: %d %s", i, status, body)
		}
	}
	for _, p := range []int{pa, pb} {
		_, body := httpDo(t, "GET", strings.Replace(items, base, fmt.Sprintf("http://127.0.0.1:%d", p), 1), "")
		if !bytes.Contains(body, []byte("Cluster yard")) {
			t.Errorf("node on port %d does not have the write: %s", p, body)
		}
	}
	// The tile of the place: drawn with the feature, then served from nginx's cache with our
	// Cache-Control and ETag, and revalidated to a 304.
	if n := tileFeatures(t, base, lon, lat); n != 1 {
		t.Errorf("tile through nginx: %d features, want 1", n)
	}
	tile := maptile.At([2]float64{lon, lat}, 16)
	tileURL := fmt.Sprintf("%s/tiles/playgrounds/%d/%d/%d.mvt", base, tile.Z, tile.X, tile.Y)
	resp, err := http.Get(tileURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	etag := resp.Header.Get("Etag")
	if got := resp.Header.Get("X-Cache-Status"); got != "HIT" {
		t.Errorf("second request of the tile: X-Cache-Status %q, want HIT", got)
	}
	if got := resp.Header.Get("Cache-Control"); got != "public, max-age=60" {
		t.Errorf("tile through nginx: Cache-Control %q", got)
	}
	if st, _ := httpDo(t, "GET", tileURL, "", "If-None-Match", etag); etag == "" || st != http.StatusNotModified {
		t.Errorf("tile with If-None-Match %q: %d, want 304", etag, st)
	}

	// The live vehicles' stream passes through nginx unbuffered: its first event arrives while
	// the stream stays open.
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	req, _ := http.NewRequestWithContext(sctx, "GET", base+"/api/vehicles/live", nil)
	sresp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("live stream through nginx: %v", err)
	}
	sc := bufio.NewScanner(sresp.Body)
	gotSnapshot := false
	for sc.Scan() {
		if sc.Text() == "event: snapshot" {
			gotSnapshot = true
			break
		}
	}
	cancel()
	sresp.Body.Close()
	if !gotSnapshot || sresp.Header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("live stream through nginx: %s, snapshot event seen: %v", sresp.Status, gotSnapshot)
	}

	// down: no process it started is left.
	out = cluster("down")
	downDone = true
	t.Logf("down:\n%s", out)
	for _, pid := range started {
		if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && !bytes.Contains(stat, []byte(") Z ")) {
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			t.Errorf("process %d still runs after down: %s", pid, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
		}
	}
	if after := cluster("status"); !strings.Contains(after, "(nothing running)") {
		t.Errorf("status after down:\n%s", after)
	}
}
