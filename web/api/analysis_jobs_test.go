package api_test

import (
	"context"
	"strings"
	"testing"
	"time"
)

// pollJob follows a job over HTTP until it leaves the running state, keeping every progress.
func pollJob(t *testing.T, base, id string) (map[string]any, []float64) {
	t.Helper()
	var seen []float64
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, v := doJSON(t, "GET", base+"/api/analysis/jobs/"+id, nil, nil)
		if code != 200 {
			t.Fatalf("job %s: %d %v", id, code, v)
		}
		seen = append(seen, v["progress"].(float64))
		if v["state"] != "running" {
			return v, seen
		}
		if time.Now().After(deadline) {
			t.Fatalf("job still running: %v", v)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAnalysisJobsAPI(t *testing.T) {
	_, ts := analysisFixture(t)
	code, v := doJSON(t, "POST", ts.URL+"/api/analysis/jobs", map[string]any{"kind": "coverage",
		"params": map[string]any{"layer": "bus_stops", "distance": 300, "method": "network", "curve": true}}, nil)
	if code != 202 || v["state"] != "running" || v["id"] == "" {
		t.Fatalf("start: %d %v", code, v)
	}
	done, seen := pollJob(t, ts.URL, v["id"].(string))
	res, _ := done["result"].(map[string]any)
	if done["state"] != "done" || done["progress"] != 1.0 || res == nil || res["residents_total"] != 250.0 || len(res["curve"].([]any)) != 10 {
		t.Fatalf("done: %v", done)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] < seen[i-1] {
			t.Errorf("progress went backwards: %v", seen)
		}
	}
	// Siting as a job gives the same answer as the synchronous call.
	code, v = doJSON(t, "POST", ts.URL+"/api/analysis/jobs", map[string]any{"kind": "siting",
		"params": map[string]any{"layer": "bus_stops", "candidates": "layer:clinics", "n": 1, "distance": 300}}, nil)
	if code != 202 {
		t.Fatalf("siting: %d %v", code, v)
	}
	done, _ = pollJob(t, ts.URL, v["id"].(string))
	sites := done["result"].(map[string]any)["sites"].([]any)
	if len(sites) != 1 || sites[0].(map[string]any)["name"] != "Clinic 2" || sites[0].(map[string]any)["gain"] != 50.0 {
		t.Errorf("siting job: %v", done)
	}
	// A job failing on the data reports the code and message the synchronous API would give.
	code, v = doJSON(t, "POST", ts.URL+"/api/analysis/jobs", map[string]any{"kind": "coverage",
		"params": map[string]any{"layer": "schools", "distance": 300}}, nil)
	if code != 202 {
		t.Fatalf("empty layer: %d %v", code, v)
	}
	done, _ = pollJob(t, ts.URL, v["id"].(string))
	if e, _ := done["error"].(map[string]any); done["state"] != "failed" || e["code"] != "invalid" || !strings.Contains(e["message"].(string), "has no features") {
		t.Errorf("failed job: %v", done)
	}
	for _, tc := range []struct {
		name string
		body any
		want string
	}{
		{"unknown layer", map[string]any{"kind": "coverage", "params": map[string]any{"layer": "nope", "distance": 300}}, `unknown layer`},
		{"huge distance", map[string]any{"kind": "coverage", "params": map[string]any{"layer": "bus_stops", "distance": 1e9}}, `too large`},
		{"n out of range", map[string]any{"kind": "siting", "params": map[string]any{"layer": "bus_stops", "n": 0, "distance": 300}}, `n must be`},
		{"unknown kind", map[string]any{"kind": "magic", "params": map[string]any{}}, `kind must be`},
		{"unknown field", map[string]any{"kind": "coverage", "parameters": map[string]any{}}, `unknown field`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, v := doJSON(t, "POST", ts.URL+"/api/analysis/jobs", tc.body, nil)
			if e, _ := v["error"].(map[string]any); code != 400 || !strings.Contains(e["message"].(string), tc.want) {
				t.Errorf("%d %v, want 400 with %q", code, v, tc.want)
			}
		})
	}
	if code, _ := doJSON(t, "GET", ts.URL+"/api/analysis/jobs/0000", nil, nil); code != 404 {
		t.Errorf("unknown job: %d", code)
	}
	if code, _ := doJSON(t, "DELETE", ts.URL+"/api/analysis/jobs/0000", nil, nil); code != 404 {
		t.Errorf("cancel unknown job: %d", code)
	}
}

func TestAnalysisJobCancel(t *testing.T) {
	pool, ts := analysisFixture(t)
	ctx := context.Background()
	// An exclusive lock on the buildings holds the job in its residents query.
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `LOCK TABLE layer.buildings IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	code, v := doJSON(t, "POST", ts.URL+"/api/analysis/jobs", map[string]any{"kind": "coverage",
		"params": map[string]any{"layer": "bus_stops", "distance": 300}}, nil)
	if code != 202 {
		t.Fatalf("start: %d %v", code, v)
	}
	id := v["id"].(string)
	waiting := func() int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock' AND query LIKE '%layer.buildings%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(20 * time.Second)
	for waiting() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the job never reached the residents query")
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, v = doJSON(t, "GET", ts.URL+"/api/analysis/jobs/"+id, nil, nil)
	if code != 200 || v["state"] != "running" || v["stage"] != "residents" || v["progress"].(float64) <= 0 || v["result"] != nil {
		t.Errorf("running: %d %v", code, v)
	}
	code, v = doJSON(t, "DELETE", ts.URL+"/api/analysis/jobs/"+id, nil, nil)
	if code != 200 || v["state"] != "canceled" {
		t.Fatalf("cancel: %d %v", code, v)
	}
	// The cancel request reaches the server within moments; without it the query would wait for
	// as long as the test holds the lock.
	for deadline := time.Now().Add(3 * time.Second); waiting() != 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the job's query still waits for the lock after the cancel")
		}
	}
}
