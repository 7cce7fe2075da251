package analysis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/jackc/pgx/v5"
)

// Limits on background analyses (jobs), so that a few browsers cannot occupy the server.
const (
	// MaxRunningJobs is how many jobs may run at once; one more is refused until one ends.
	MaxRunningJobs = 4
	// PlannerReservedJobs of those are kept for planners: the jobs of everyone else (anonymous
	// callers included) run in the other slots, so that they cannot lock planners out.
	PlannerReservedJobs = 1
	// MaxRunningJobsPerClient is how many jobs one client (an account, or an address when not
	// signed in) may have running at once.
	MaxRunningJobsPerClient = 2
	// MaxKeptJobs bounds the jobs kept (geoportal.analysis_jobs), running and finished.
	MaxKeptJobs = 64
	// MaxKeptJobsPerClient bounds one client's share of them.
	MaxKeptJobsPerClient = 16
	// JobTimeout ends a job that runs longer.
	JobTimeout = 5 * time.Minute
	// JobAbandoned cancels a running job nobody has asked about for this long (the page that
	// started it was closed).
	JobAbandoned = time.Minute
	// JobKept is how long a finished job's answer stays readable.
	JobKept = 10 * time.Minute
)

// Job states.
const (
	JobRunning  = "running"
	JobDone     = "done"
	JobFailed   = "failed"
	JobCanceled = "canceled"
)

// JobRequest starts an analysis in the background: Kind and Params as in ScenarioRequest.
type JobRequest struct {
	Kind   string          `json:"kind"`
	Params json.RawMessage `json:"params"`
}

// JobError is why a job failed, with the same code the synchronous API would answer.
type JobError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// JobStatus is what a job's owner sees. Result is set once the job is done.
type JobStatus struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	State     string    `json:"state"`
	Stage     string    `json:"stage"`
	Progress  float64   `json:"progress"` // 0 to 1
	StartedAt time.Time `json:"started_at"`
	ElapsedMS int64     `json:"elapsed_ms"`
	Params    any       `json:"params,omitempty"`
	Result    any       `json:"result,omitempty"`
	Error     *JobError `json:"error,omitempty"`
}

// jobBeat is how often the node running a job writes its progress and heartbeat and reads
// whether it was asked to stop; jobLost is how old a heartbeat may be before the job counts as
// lost with its node.
const (
	jobBeat = 500 * time.Millisecond
	jobLost = 30 * time.Second
)

// jobLostMessage is the error of a job whose node stopped beating.
const jobLostMessage = "the server running the analysis stopped; start it again"

// job is a job this node runs: what only this process can do to it (cancel its context) and its
// latest progress, written to geoportal.analysis_jobs every jobBeat.
type job struct {
	id     string
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	stage    string
	progress float64
}

// jobs are the jobs this node runs. Their state lives in geoportal.analysis_jobs (migration 0170),
// so any node answers a poll or a cancel.
type jobs struct {
	node  string // this process, in the table's node column
	mu    sync.Mutex
	local map[string]*job
}

func (s *Store) jobTable() *jobs {
	s.jobsOnce.Do(func() {
		host, _ := os.Hostname()
		s.jobs = &jobs{node: fmt.Sprintf("%s:%d:%s", host, os.Getpid(), newJobID()[:8]), local: map[string]*job{}}
	})
	return s.jobs
}

func newJobID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// jobClient is who starts a job, for the per-client limits: the account when signed in, else the
// client address (both from the request's accounts.Actor); "" when the context has no actor (a
// direct call, not a request).
func jobClient(ctx context.Context) string {
	a := accounts.ActorFrom(ctx)
	switch {
	case a.UserID != 0:
		return "user:" + strconv.FormatInt(a.UserID, 10)
	case a.IP != "":
		return "ip:" + a.IP
	}
	return ""
}

// jobsLock serialises the limit checks of StartJob across nodes (pg_advisory_xact_lock key).
const jobsLock = 0x67656f6a6f6273 // "geojobs"

// StartJob checks the request, then runs the analysis in the background on this node and returns
// at once. Its id is a random 128-bit token: whoever holds it may follow and cancel the job,
// through any node. staff (a planner) allows staff-only layers, as for the synchronous analyses,
// and the slots kept for planners. The running limits count this node's jobs (they share its
// CPU); the per-client limits and the number kept count every node's. More is refused with
// ERATELIMIT.
func (s *Store) StartJob(ctx context.Context, req JobRequest, staff bool) (JobStatus, error) {
	if err := s.check(ctx, req.Kind, req.Params, staff); err != nil {
		return JobStatus{}, err
	}
	client := jobClient(ctx)
	js := s.jobTable()
	id := newJobID()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(jobsLock)); err != nil {
			return err
		}
		if err := sweepJobs(ctx, tx); err != nil {
			return err
		}
		var running, kept, clientRunning, clientKept int
		if err := tx.QueryRow(ctx, `SELECT
				count(*) FILTER (WHERE state = 'running' AND node = $1),
				count(*),
				count(*) FILTER (WHERE state = 'running' AND client = $2 AND $2 <> ''),
				count(*) FILTER (WHERE client = $2 AND $2 <> '')
			FROM geoportal.analysis_jobs`, js.node, client).Scan(&running, &kept, &clientRunning, &clientKept); err != nil {
			return err
		}
		switch {
		case running >= MaxRunningJobs:
			return geoportal.Errorf(geoportal.ERATELIMIT, "%d analyses are running already: try again when one ends", running)
		case !staff && running >= MaxRunningJobs-PlannerReservedJobs:
			return geoportal.Errorf(geoportal.ERATELIMIT,
				"%d analyses are running already (the last %d slot(s) are kept for planners): try again when one ends", running, PlannerReservedJobs)
		case kept >= MaxKeptJobs:
			return geoportal.Errorf(geoportal.ERATELIMIT, "too many analyses are kept: try again in a few minutes")
		case clientRunning >= MaxRunningJobsPerClient:
			return geoportal.Errorf(geoportal.ERATELIMIT,
				"you have %d analyses running already (at most %d at once): wait for one to end or cancel it", clientRunning, MaxRunningJobsPerClient)
		case clientKept >= MaxKeptJobsPerClient:
			return geoportal.Errorf(geoportal.ERATELIMIT,
				"you have %d analyses kept (at most %d): try again in a few minutes", clientKept, MaxKeptJobsPerClient)
		}
		_, err := tx.Exec(ctx, `INSERT INTO geoportal.analysis_jobs (id, kind, staff, client, node, state, stage)
			VALUES ($1, $2, $3, $4, $5, 'running', $6)`, id, req.Kind, staff, client, js.node, StageLayers)
		return err
	})
	if err != nil {
		if geoportal.ErrorCode(err) == geoportal.ERATELIMIT {
			return JobStatus{}, err
		}
		return JobStatus{}, fmt.Errorf("start analysis job: %w", err)
	}
	// The job outlives the request that started it, so it gets its own context, bounded in time.
	jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), JobTimeout)
	j := &job{id: id, cancel: cancel, done: make(chan struct{}), stage: StageLayers}
	js.mu.Lock()
	js.local[id] = j
	js.mu.Unlock()
	jctx = WithProgress(jctx, func(stage string, done float64) {
		j.mu.Lock()
		j.stage, j.progress = stage, done
		j.mu.Unlock()
	})
	go s.beat(jctx, j)
	go s.runJob(jctx, js, j, req.Kind, staff, req.Params)
	return s.Job(ctx, id)
}

// sweepJobs fails running jobs whose node stopped beating and forgets old finished ones.
func sweepJobs(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `UPDATE geoportal.analysis_jobs SET state = 'failed', finished_at = now(),
			error_code = $1, error_message = $3
		WHERE state = 'running' AND beat_at < now() - $2::interval`, geoportal.EUNAVAILABLE, jobLost.String(), jobLostMessage); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `DELETE FROM geoportal.analysis_jobs WHERE state <> 'running' AND finished_at < now() - $1::interval`,
		JobKept.String())
	return err
}

// beat writes j's progress and heartbeat every jobBeat until it ends, and cancels it when someone
// asked (through any node) or nobody has asked about it for JobAbandoned.
func (s *Store) beat(ctx context.Context, j *job) {
	t := time.NewTicker(jobBeat)
	defer t.Stop()
	for {
		select {
		case <-j.done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		j.mu.Lock()
		stage, progress := j.stage, j.progress
		j.mu.Unlock()
		var stop bool
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		err := s.pool.QueryRow(bctx, `UPDATE geoportal.analysis_jobs SET stage = $2, progress = $3, beat_at = now()
			WHERE id = $1 AND state = 'running'
			RETURNING cancel_requested OR seen_at < now() - $4::interval`, j.id, stage, progress, JobAbandoned.String()).Scan(&stop)
		cancel()
		if err == nil && stop {
			j.cancel()
		}
	}
}

func (s *Store) runJob(ctx context.Context, js *jobs, j *job, kind string, staff bool, raw json.RawMessage) {
	defer func() {
		js.mu.Lock()
		delete(js.local, j.id)
		js.mu.Unlock()
		close(j.done)
	}()
	defer j.cancel()
	params, result, err := s.Run(ctx, kind, raw, staff)
	state, jerr := JobDone, (*JobError)(nil)
	switch {
	case err == nil:
	case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || isCancelError(err)):
		state = JobCanceled
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			state = JobFailed
			jerr = &JobError{Code: geoportal.EUNAVAILABLE, Message: "the analysis took longer than " + JobTimeout.String() + " and was stopped"}
		}
	default:
		state = JobFailed
		jerr = &JobError{Code: geoportal.ErrorCode(err), Message: geoportal.ErrorMessage(err)}
	}
	var pj, rj []byte
	if state == JobDone {
		if pj, err = json.Marshal(params); err == nil {
			rj, err = json.Marshal(result)
		}
		if err != nil {
			state, jerr = JobFailed, &JobError{Code: geoportal.EINTERNAL, Message: "the answer could not be written"}
			pj, rj = nil, nil
		}
	}
	var code, msg *string
	if jerr != nil {
		code, msg = &jerr.Code, &jerr.Message
	}
	progress := 0.0
	if state == JobDone {
		progress = 1
	} else {
		j.mu.Lock()
		progress = j.progress
		j.mu.Unlock()
	}
	// Written even when the job's context ended (cancelled, timed out): the outcome must be kept.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	s.pool.Exec(wctx, `UPDATE geoportal.analysis_jobs SET state = $2, progress = $3, params = $4, result = $5,
			error_code = $6, error_message = $7, finished_at = now(), beat_at = now()
		WHERE id = $1 AND state = 'running'`, j.id, state, progress, nullJSON(pj), nullJSON(rj), code, msg)
}

func nullJSON(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// isCancelError recognises PostgreSQL's answer to a cancelled statement, which pgx may return
// instead of the context's error.
func isCancelError(err error) bool {
	return err != nil && strings.Contains(err.Error(), "canceling statement due to user request")
}

// jobStatus reads one job; seen marks it asked about (which keeps a running job alive). A running
// job whose node stopped beating is failed on the way.
func (s *Store) jobStatus(ctx context.Context, id string, seen bool) (JobStatus, error) {
	var st JobStatus
	var params, result []byte
	var code, msg *string
	var elapsed float64
	err := s.pool.QueryRow(ctx, `UPDATE geoportal.analysis_jobs j SET
			seen_at = CASE WHEN $2 THEN now() ELSE j.seen_at END,
			state = CASE WHEN l.lost THEN 'failed' ELSE j.state END,
			error_code = CASE WHEN l.lost THEN $4 ELSE j.error_code END,
			error_message = CASE WHEN l.lost THEN $5 ELSE j.error_message END,
			finished_at = CASE WHEN l.lost THEN now() ELSE j.finished_at END
		FROM (SELECT state = 'running' AND beat_at < now() - $3::interval AS lost
			FROM geoportal.analysis_jobs WHERE id = $1) AS l
		WHERE j.id = $1
		RETURNING j.id, j.kind, j.state, j.stage, j.progress, j.started_at,
			extract(epoch FROM coalesce(j.finished_at, now()) - j.started_at) * 1000,
			j.params::text::bytea, j.result::text::bytea, j.error_code, j.error_message`,
		id, seen, jobLost.String(), geoportal.EUNAVAILABLE, jobLostMessage).Scan(&st.ID, &st.Kind, &st.State, &st.Stage, &st.Progress,
		&st.StartedAt, &elapsed, &params, &result, &code, &msg)
	if errors.Is(err, pgx.ErrNoRows) {
		return JobStatus{}, geoportal.Errorf(geoportal.ENOTFOUND, "analysis job %q not found (finished jobs are kept for %s)", id, JobKept)
	}
	if err != nil {
		return JobStatus{}, fmt.Errorf("analysis job %s: %w", id, err)
	}
	if st.State == JobRunning {
		// Run here: its progress is fresher than the last beat written.
		js := s.jobTable()
		js.mu.Lock()
		j := js.local[id]
		js.mu.Unlock()
		if j != nil {
			j.mu.Lock()
			st.Stage, st.Progress = j.stage, j.progress
			j.mu.Unlock()
		}
	}
	st.Progress = round(st.Progress, 3)
	st.ElapsedMS = int64(elapsed)
	if params != nil {
		st.Params = json.RawMessage(params)
	}
	if result != nil {
		st.Result = json.RawMessage(result)
	}
	if code != nil {
		st.Error = &JobError{Code: *code, Message: *msg}
	}
	return st, nil
}

// Job returns a job's status, with the answer once it is done, from any node. Asking keeps a
// running job alive.
func (s *Store) Job(ctx context.Context, id string) (JobStatus, error) {
	return s.jobStatus(ctx, id, true)
}

// CancelJob stops a running job, on whichever node runs it, and waits (up to wait) for it to end;
// the queries it was running are cancelled on the database too. Cancelling a finished job changes
// nothing.
func (s *Store) CancelJob(ctx context.Context, id string, wait time.Duration) (JobStatus, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE geoportal.analysis_jobs SET cancel_requested = true WHERE id = $1`, id)
	if err != nil {
		return JobStatus{}, fmt.Errorf("cancel analysis job %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return JobStatus{}, geoportal.Errorf(geoportal.ENOTFOUND, "analysis job %q not found (finished jobs are kept for %s)", id, JobKept)
	}
	js := s.jobTable()
	js.mu.Lock()
	j := js.local[id]
	js.mu.Unlock()
	if j != nil { // here: no need to wait for its next beat
		j.cancel()
		select {
		case <-j.done:
		case <-time.After(wait):
		}
	}
	deadline := time.Now().Add(wait)
	for {
		st, err := s.jobStatus(ctx, id, false)
		if err != nil || st.State != JobRunning || time.Now().After(deadline) {
			return st, err
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// check reads and checks a request's parameters and the layers it names, so that bad input is
// refused before a job starts.
func (s *Store) check(ctx context.Context, kind string, raw json.RawMessage, staff bool) error {
	var slugs []string
	switch kind {
	case KindCoverage:
		var p CoverageParams
		if err := decodeStrict(raw, &p); err != nil {
			return err
		}
		if err := p.Normalize(); err != nil {
			return err
		}
		slugs = append(slugs, p.Layer)
	case KindSiting:
		var p SitingParams
		if err := decodeStrict(raw, &p); err != nil {
			return err
		}
		if err := p.Normalize(); err != nil {
			return err
		}
		slugs = append(slugs, p.Layer)
		if c, ok := strings.CutPrefix(p.Candidates, candidatesLayerPrefix); ok {
			slugs = append(slugs, c)
		}
	case KindCameras:
		var p CameraParams
		if err := decodeStrict(raw, &p); err != nil {
			return err
		}
		if err := p.Normalize(); err != nil {
			return err
		}
		slugs = append(slugs, p.Layer)
	case KindAccess:
		var p AccessParams
		if err := decodeStrict(raw, &p); err != nil {
			return err
		}
		if err := p.Normalize(); err != nil {
			return err
		}
		slugs = append(slugs, p.Layer)
	default:
		return geoportal.Errorf(geoportal.EINVALID, "kind must be coverage, siting, cameras or access, got %q", kind)
	}
	for _, slug := range slugs {
		if _, err := s.layerFor(ctx, slug, staff); err != nil {
			return err
		}
	}
	return nil
}
