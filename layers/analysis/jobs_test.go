package analysis_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers"
	"github.com/aktobe/geoportal/layers/analysis"
	"github.com/jackc/pgx/v5/pgxpool"
)

// recorder keeps every progress report of one analysis.
type recorder struct {
	mu     sync.Mutex
	stages []string
	shares []float64
}

func (r *recorder) report(stage string, done float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.stages) == 0 || r.stages[len(r.stages)-1] != stage {
		r.stages = append(r.stages, stage)
	}
	r.shares = append(r.shares, done)
}

// check fails unless the shares only grow, from 0 to 1, and the stages came in the given order.
func (r *recorder) check(t *testing.T, want ...string) {
	t.Helper()
	if len(r.shares) == 0 || r.shares[len(r.shares)-1] != 1 {
		t.Fatalf("progress did not reach 1: %v", r.shares)
	}
	if !slices.IsSorted(r.shares) || r.shares[0] < 0 {
		t.Errorf("progress went backwards: %v", r.shares)
	}
	if !slices.Equal(r.stages, want) {
		t.Errorf("stages %v, want %v", r.stages, want)
	}
}

func TestProgress(t *testing.T) {
	_, st := fixture(t)
	t.Run("network coverage, cold", func(t *testing.T) {
		var rec recorder
		ctx := analysis.WithProgress(context.Background(), rec.report)
		res, err := st.Coverage(ctx, analysis.CoverageParams{Layer: "bus_stops", Distance: 400, Method: analysis.MethodNetwork}, false)
		if err != nil {
			t.Fatal(err)
		}
		if res.ResidentsCovered != 350 {
			t.Errorf("covered %v", res.ResidentsCovered)
		}
		rec.check(t, analysis.StageLayers, analysis.StageResidents, analysis.StageStreets, analysis.StageSnapping,
			analysis.StageDistances, analysis.StageSummary)
	})
	t.Run("line coverage, warm", func(t *testing.T) {
		var rec recorder
		ctx := analysis.WithProgress(context.Background(), rec.report)
		if _, err := st.Coverage(ctx, analysis.CoverageParams{Layer: "bus_stops", Distance: 100, Curve: true}, false); err != nil {
			t.Fatal(err)
		}
		rec.check(t, analysis.StageLayers, analysis.StageResidents, analysis.StageDistances, analysis.StageSummary)
	})
	t.Run("siting", func(t *testing.T) {
		var rec recorder
		ctx := analysis.WithProgress(context.Background(), rec.report)
		res, err := st.Siting(ctx, analysis.SitingParams{Layer: "bus_stops", Candidates: "layer:clinics", N: 2, Distance: 200}, false)
		if err != nil {
			t.Fatal(err)
		}
		// K1 reaches B2 (150 m away), which no stop serves.
		if len(res.Sites) != 1 || res.Sites[0].Name != "K1" || res.Sites[0].Gain != 50 {
			t.Errorf("no sites: %+v", res)
		}
		rec.check(t, analysis.StageLayers, analysis.StageResidents, analysis.StageStreets, analysis.StageCandidates,
			analysis.StageGreedy, analysis.StageSummary)
	})
}

// coverageOf decodes a job's answer (JSON, as kept in geoportal.analysis_jobs) as a coverage
// result; false when the job has none.
func coverageOf(t *testing.T, js analysis.JobStatus) (*analysis.CoverageResult, bool) {
	t.Helper()
	raw, ok := js.Result.(json.RawMessage)
	if !ok {
		return nil, false
	}
	var res analysis.CoverageResult
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("job result: %v", err)
	}
	return &res, true
}

func coverageMust(t *testing.T, js analysis.JobStatus) *analysis.CoverageResult {
	t.Helper()
	res, ok := coverageOf(t, js)
	if !ok {
		t.Fatalf("job has no result: %+v", js)
	}
	return res
}

// waitJob polls a job until it leaves the running state.
func waitJob(t *testing.T, st *analysis.Store, id string) analysis.JobStatus {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		js, err := st.Job(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if js.State != analysis.JobRunning {
			return js
		}
		if time.Now().After(deadline) {
			t.Fatalf("job still running: %+v", js)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestJobs(t *testing.T) {
	_, st := fixture(t)
	ctx := context.Background()
	js, err := st.StartJob(ctx, analysis.JobRequest{Kind: "coverage",
		Params: json.RawMessage(`{"layer":"bus_stops","distance":400,"method":"network"}`)}, false)
	if err != nil {
		t.Fatal(err)
	}
	if js.State != analysis.JobRunning || len(js.ID) != 32 {
		t.Errorf("started %+v", js)
	}
	done := waitJob(t, st, js.ID)
	res, ok := coverageOf(t, done)
	if done.State != analysis.JobDone || done.Progress != 1 || !ok || res.ResidentsCovered != 350 {
		t.Fatalf("done %+v", done)
	}
	// A job failing on bad data says why, with the API's code.
	js, err = st.StartJob(ctx, analysis.JobRequest{Kind: "coverage", Params: json.RawMessage(`{"layer":"schools","distance":400}`)}, false)
	if err != nil {
		t.Fatal(err)
	}
	if f := waitJob(t, st, js.ID); f.State != analysis.JobFailed || f.Error == nil || f.Error.Code != geoportal.EINVALID ||
		f.Error.Message != `layer "schools" has no features` {
		t.Errorf("failed job %+v %+v", f, f.Error)
	}
	// Bad input is refused before any job starts.
	for _, tc := range []struct{ name, kind, params, want string }{
		{"unknown kind", "guess", `{}`, `kind must be`},
		{"unknown layer", "coverage", `{"layer":"nope","distance":100}`, `unknown layer "nope"`},
		{"unknown candidate layer", "siting", `{"layer":"bus_stops","candidates":"layer:nope","n":1,"distance":100}`, `unknown layer "nope"`},
		{"negative distance", "coverage", `{"layer":"bus_stops","distance":-5}`, `positive`},
		{"unknown field", "siting", `{"layer":"bus_stops","sites":3}`, `unknown field`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := st.StartJob(ctx, analysis.JobRequest{Kind: tc.kind, Params: json.RawMessage(tc.params)}, false)
			if geoportal.ErrorCode(err) != geoportal.EINVALID || !strings.Contains(geoportal.ErrorMessage(err), tc.want) {
				t.Errorf("got %v, want invalid with %q", err, tc.want)
			}
		})
	}
	if _, err := st.Job(ctx, "0123"); geoportal.ErrorCode(err) != geoportal.ENOTFOUND {
		t.Errorf("unknown job: %v", err)
	}
}

// lockBuildings holds an exclusive lock on layer.buildings until the test ends (or release is
// called), so that a cold analysis blocks in its SQL query for the residents.
func lockBuildings(t *testing.T, pool *pgxpool.Pool) (release func()) {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE layer.buildings IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { tx.Rollback(ctx) }) }
	t.Cleanup(release)
	return release
}

// waitingQueries counts queries on layer.buildings waiting for a lock.
func waitingQueries(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_catalog.pg_stat_activity
		WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%layer.buildings%'
		AND pid <> pg_backend_pid()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestJobCancelReachesTheDatabase(t *testing.T) {
	pool, st := fixture(t)
	ctx := context.Background()
	release := lockBuildings(t, pool)
	js, err := st.StartJob(ctx, analysis.JobRequest{Kind: "coverage", Params: json.RawMessage(`{"layer":"bus_stops","distance":300}`)}, false)
	if err != nil {
		t.Fatal(err)
	}
	// The job reaches the residents query and waits there for the lock.
	deadline := time.Now().Add(20 * time.Second)
	for waitingQueries(t, pool) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the job's query never waited for the lock")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if cur, err := st.Job(ctx, js.ID); err != nil || cur.State != analysis.JobRunning || cur.Stage != analysis.StageResidents || cur.Progress <= 0 {
		t.Errorf("while blocked: %+v %v", cur, err)
	}
	c, err := st.CancelJob(ctx, js.ID, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// Cancelled while the lock is still held: the database query itself was cancelled.
	if c.State != analysis.JobCanceled || c.Result != nil || c.Error != nil {
		t.Errorf("after cancel: %+v", c)
	}
	// The cancel request reaches the server within moments; without it the query would wait for
	// as long as the test holds the lock.
	for deadline := time.Now().Add(3 * time.Second); waitingQueries(t, pool) != 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the job's query still waits on layer.buildings after the cancel")
		}
	}
	release()
	// Cancelling again changes nothing; a new job runs to the end.
	if again, err := st.CancelJob(ctx, js.ID, time.Second); err != nil || again.State != analysis.JobCanceled {
		t.Errorf("second cancel %+v %v", again, err)
	}
	js, err = st.StartJob(ctx, analysis.JobRequest{Kind: "coverage", Params: json.RawMessage(`{"layer":"bus_stops","distance":100}`)}, false)
	if err != nil {
		t.Fatal(err)
	}
	if done := waitJob(t, st, js.ID); done.State != analysis.JobDone || coverageMust(t, done).ResidentsCovered != 300 {
		t.Errorf("after the cancel: %+v", done)
	}
}

func TestJobsAreBounded(t *testing.T) {
	pool, st := fixture(t)
	ctx := context.Background()
	lockBuildings(t, pool)
	var ids []string
	for range analysis.MaxRunningJobs { // as a planner: the last slot is kept for planners
		js, err := st.StartJob(ctx, analysis.JobRequest{Kind: "coverage", Params: json.RawMessage(`{"layer":"bus_stops","distance":300}`)}, true)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, js.ID)
	}
	_, err := st.StartJob(ctx, analysis.JobRequest{Kind: "coverage", Params: json.RawMessage(`{"layer":"bus_stops","distance":300}`)}, false)
	if geoportal.ErrorCode(err) != geoportal.ERATELIMIT {
		t.Errorf("one job too many: %v", err)
	}
	for _, id := range ids {
		if c, err := st.CancelJob(ctx, id, 10*time.Second); err != nil || c.State != analysis.JobCanceled {
			t.Errorf("cancel %s: %+v %v", id, c, err)
		}
	}
	js, err := st.StartJob(ctx, analysis.JobRequest{Kind: "coverage", Params: json.RawMessage(`{"layer":"bus_stops","distance":300}`)}, false)
	if err != nil {
		t.Fatalf("after the cancels: %v", err)
	}
	st.CancelJob(ctx, js.ID, 10*time.Second)
}

// Two stores over one database stand for two geoportal nodes behind a load balancer: a job
// started on one is followed and cancelled through the other, and a job whose node died is
// reported failed instead of running forever.
func TestJobsAcrossNodes(t *testing.T) {
	pool, a := fixture(t)
	b := analysis.NewStore(pool, layers.NewStore(pool))
	ctx := context.Background()
	release := lockBuildings(t, pool)
	js, err := a.StartJob(ctx, analysis.JobRequest{Kind: "coverage", Params: json.RawMessage(`{"layer":"bus_stops","distance":300}`)}, false)
	if err != nil {
		t.Fatal(err)
	}
	// B sees the job, and within a beat the progress A reports.
	deadline := time.Now().Add(20 * time.Second)
	for {
		cur, err := b.Job(ctx, js.ID)
		if err != nil {
			t.Fatalf("poll on the other node: %v", err)
		}
		if cur.State != analysis.JobRunning {
			t.Fatalf("job left running while the lock is held: %+v", cur)
		}
		if cur.Stage == analysis.StageResidents && cur.Progress > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other node never saw the job's progress: %+v", cur)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Cancelled through B: A's job stops, its database query included, while the lock is held.
	c, err := b.CancelJob(ctx, js.ID, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if c.State != analysis.JobCanceled {
		t.Fatalf("cancel through the other node: %+v", c)
	}
	for deadline := time.Now().Add(5 * time.Second); waitingQueries(t, pool) != 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the job's query still waits on layer.buildings after the cancel through the other node")
		}
	}
	if at, err := a.Job(ctx, js.ID); err != nil || at.State != analysis.JobCanceled {
		t.Errorf("on the node that ran it: %+v %v", at, err)
	}
	release()
	// A job finished on A is read with its answer on B.
	js, err = a.StartJob(ctx, analysis.JobRequest{Kind: "coverage", Params: json.RawMessage(`{"layer":"bus_stops","distance":100}`)}, false)
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, a, js.ID)
	if done, err := b.Job(ctx, js.ID); err != nil || done.State != analysis.JobDone || coverageMust(t, done).ResidentsCovered != 300 {
		t.Errorf("finished job read on the other node: %+v %v", done, err)
	}
	// A node that died leaves its job running with a stale heartbeat: the next reader fails it.
	if _, err := pool.Exec(ctx, `INSERT INTO geoportal.analysis_jobs (id, kind, staff, node, state, stage, beat_at)
		VALUES ('deadbeefdeadbeefdeadbeefdeadbeef', 'coverage', false, 'gone:1:x', 'running', 'residents', now() - interval '1 minute')`); err != nil {
		t.Fatal(err)
	}
	lost, err := b.Job(ctx, "deadbeefdeadbeefdeadbeefdeadbeef")
	if err != nil || lost.State != analysis.JobFailed || lost.Error == nil || lost.Error.Code != geoportal.EUNAVAILABLE {
		t.Errorf("job of a dead node: %+v %v", lost, err)
	}
}
