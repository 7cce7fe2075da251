package tiles_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aktobe/geoportal/data/dbtest"
	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/encoding/mvt"
)

// startServer runs `geoportal serve` on a free loopback port and returns its base URL.
func startServer(t *testing.T, bin, dbURL, name string) string {
	t.Helper()
	cmd := exec.Command(bin, "serve", "-addr", "127.0.0.1:0", "-log-level", "warn")
	// Only the HTTP listener: other listeners (the Wialon tracker port) are off so that two
	// processes can run side by side.
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "GEOPORTAL_WIALON_ADDR=off")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", name, stderr.String())
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`listening on (http://\S+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case u := <-addr:
		return u
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not start listening; stderr:\n%s", name, stderr.String())
	}
	return ""
}

// TestTwoProcessesServeFreshTiles runs two geoportal processes on one database: an edit made in
// SQL reaches the tiles both of them had cached.
func TestTwoProcessesServeFreshTiles(t *testing.T) {
	root, err := dbtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "geoportal")
	build := exec.Command("go", "build", "-o", bin, "./cmd/geoportal")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dbURL := dbtest.NewURL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, fixtureLayers); err != nil {
		t.Fatal(err)
	}
	tile := centreTile(16)
	c := tile.Center()
	if _, err := conn.Exec(ctx, `INSERT INTO layer.t_poly (id, geom, levels) VALUES (1, $1, 3)`,
		square(c[0], c[1], 0.0005)); err != nil {
		t.Fatal(err)
	}

	servers := []string{startServer(t, bin, dbURL, "server A"), startServer(t, bin, dbURL, "server B")}
	client := &http.Client{Timeout: 10 * time.Second}
	// fetch returns the levels of feature 1 in the tile and the X-Cache header.
	fetch := func(base string) (float64, string) {
		t.Helper()
		u := fmt.Sprintf("%s/tiles/t_poly/%d/%d/%d.mvt", base, tile.Z, tile.X, tile.Y)
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s %s", u, resp.Status, body)
		}
		ls, err := mvt.Unmarshal(body) // the client undid the gzip encoding
		if err != nil {
			t.Fatalf("decode %s: %v", u, err)
		}
		for _, l := range ls {
			for _, ft := range l.Features {
				if ft.ID == 1.0 {
					return ft.Properties["levels"].(float64), resp.Header.Get("X-Cache")
				}
			}
		}
		return -1, resp.Header.Get("X-Cache")
	}
	for _, s := range servers {
		// The listener connects right after start; until then tiles are not cached.
		eventually(t, s+" caches the tile", func() bool {
			v, _ := fetch(s)
			if v != 3 {
				t.Fatalf("%s: levels %v, want 3", s, v)
			}
			_, cache := fetch(s)
			return cache == "HIT"
		})
	}

	if _, err := conn.Exec(ctx, `UPDATE layer.t_poly SET levels = 8 WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	for _, s := range servers {
		eventually(t, s+" serves the edit", func() bool { v, _ := fetch(s); return v == 8 })
	}
	// And the fresh tile is cached again.
	for _, s := range servers {
		if v, cache := fetch(s); v != 8 || cache != "HIT" {
			t.Errorf("%s: levels %v, X-Cache %s; want 8 from the cache", s, v, cache)
		}
	}
}
