package analysis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/accounts"
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
	// MaxKeptJobs bounds the jobs kept in memory, running and finished.
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

type job struct {
	id, kind string
	staff    bool
	client   string // who started it (see jobClient); "" when not known
	cancel   context.CancelFunc
	done     chan struct{}

	// guarded by jobs.mu
	state    string
	stage    string
	progress float64
	started  time.Time
	finished time.Time
	seen     time.Time
	params   any
	result   any
	err      *JobError
}

// jobs holds the store's background analyses, in memory: an answer is worth keeping only while
// the page that asked for it waits.
type jobs struct {
	mu      sync.Mutex
	byID    map[string]*job
	running int
	now     func() time.Time
}

func (s *Store) jobTable() *jobs {
	s.jobsOnce.Do(func() { s.jobs = &jobs{byID: map[string]*job{}, now: time.Now} })
	return s.jobs
}

// sweep cancels abandoned jobs and forgets old finished ones. Called with mu held.
func (js *jobs) sweep() {
	now := js.now()
	for id, j := range js.byID {
		switch {
		case j.state == JobRunning && now.Sub(j.seen) > JobAbandoned:
			j.cancel()
		case j.state != JobRunning && now.Sub(j.finished) > JobKept:
			delete(js.byID, id)
		}
	}
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

// StartJob checks the request, then runs the analysis in the background and returns at once.
// Its id is a random 128-bit token: whoever holds it may follow and cancel the job. staff (a
// planner) allows staff-only layers, as for the synchronous analyses, and the slots kept for
// planners. One client (jobClient) may run MaxRunningJobsPerClient jobs at once and keep
// MaxKeptJobsPerClient; more is refused with ERATELIMIT.
func (s *Store) StartJob(ctx context.Context, req JobRequest, staff bool) (JobStatus, error) {
	if err := s.check(ctx, req.Kind, req.Params, staff); err != nil {
		return JobStatus{}, err
	}
	client := jobClient(ctx)
	js := s.jobTable()
	js.mu.Lock()
	defer js.mu.Unlock()
	js.sweep()
	if js.running >= MaxRunningJobs {
		return JobStatus{}, geoportal.Errorf(geoportal.ERATELIMIT, "%d analyses are running already: try again when one ends", js.running)
	}
	if !staff && js.running >= MaxRunningJobs-PlannerReservedJobs {
		return JobStatus{}, geoportal.Errorf(geoportal.ERATELIMIT,
			"%d analyses are running already (the last %d slot(s) are kept for planners): try again when one ends", js.running, PlannerReservedJobs)
	}
	if len(js.byID) >= MaxKeptJobs {
		return JobStatus{}, geoportal.Errorf(geoportal.ERATELIMIT, "too many analyses are kept: try again in a few minutes")
	}
	if client != "" {
		running, kept := 0, 0
		for _, j := range js.byID {
			if j.client == client {
				kept++
				if j.state == JobRunning {
					running++
				}
			}
		}
		if running >= MaxRunningJobsPerClient {
			return JobStatus{}, geoportal.Errorf(geoportal.ERATELIMIT,
				"you have %d analyses running already (at most %d at once): wait for one to end or cancel it", running, MaxRunningJobsPerClient)
		}
		if kept >= MaxKeptJobsPerClient {
			return JobStatus{}, geoportal.Errorf(geoportal.ERATELIMIT,
				"you have %d analyses kept (at most %d): try again in a few minutes", kept, MaxKeptJobsPerClient)
		}
	}
	// The job outlives the request that started it, so it gets its own context, bounded in time.
	jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), JobTimeout)
	now := js.now()
	j := &job{id: newJobID(), kind: req.Kind, staff: staff, client: client, cancel: cancel, done: make(chan struct{}),
		state: JobRunning, stage: StageLayers, started: now, seen: now}
	js.byID[j.id] = j
	js.running++
	jctx = WithProgress(jctx, func(stage string, done float64) {
		js.mu.Lock()
		j.stage, j.progress = stage, done
		js.mu.Unlock()
	})
	go s.runJob(jctx, js, j, req.Params)
	return j.status(js.now()), nil
}

func (s *Store) runJob(ctx context.Context, js *jobs, j *job, raw json.RawMessage) {
	defer close(j.done)
	defer j.cancel()
	params, result, err := s.Run(ctx, j.kind, raw, j.staff)
	js.mu.Lock()
	defer js.mu.Unlock()
	js.running--
	j.finished = js.now()
	switch {
	case err == nil:
		j.state, j.progress, j.params, j.result = JobDone, 1, params, result
	case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || isCancelError(err)):
		j.state = JobCanceled
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			j.state = JobFailed
			j.err = &JobError{Code: geoportal.EUNAVAILABLE, Message: "the analysis took longer than " + JobTimeout.String() + " and was stopped"}
		}
	default:
		j.state = JobFailed
		j.err = &JobError{Code: geoportal.ErrorCode(err), Message: geoportal.ErrorMessage(err)}
	}
}

// isCancelError recognises PostgreSQL's answer to a cancelled statement, which pgx may return
// instead of the context's error.
func isCancelError(err error) bool {
	return err != nil && strings.Contains(err.Error(), "canceling statement due to user request")
}

func (j *job) status(now time.Time) JobStatus {
	st := JobStatus{ID: j.id, Kind: j.kind, State: j.state, Stage: j.stage, Progress: round(j.progress, 3),
		StartedAt: j.started, Params: j.params, Result: j.result, Error: j.err}
	end := now
	if j.state != JobRunning {
		end = j.finished
	}
	st.ElapsedMS = end.Sub(j.started).Milliseconds()
	return st
}

func (js *jobs) get(id string) (*job, error) {
	j, ok := js.byID[id]
	if !ok {
		return nil, geoportal.Errorf(geoportal.ENOTFOUND, "analysis job %q not found (finished jobs are kept for %s)", id, JobKept)
	}
	return j, nil
}

// Job returns a job's status, with the answer once it is done. Asking keeps a running job alive.
func (s *Store) Job(id string) (JobStatus, error) {
	js := s.jobTable()
	js.mu.Lock()
	defer js.mu.Unlock()
	js.sweep()
	j, err := js.get(id)
	if err != nil {
		return JobStatus{}, err
	}
	j.seen = js.now()
	return j.status(j.seen), nil
}

// CancelJob stops a running job and waits (up to wait) for it to end; the queries it was running
// are cancelled on the database too. Cancelling a finished job changes nothing.
func (s *Store) CancelJob(id string, wait time.Duration) (JobStatus, error) {
	js := s.jobTable()
	js.mu.Lock()
	j, err := js.get(id)
	js.mu.Unlock()
	if err != nil {
		return JobStatus{}, err
	}
	j.cancel()
	select {
	case <-j.done:
	case <-time.After(wait):
	}
	js.mu.Lock()
	defer js.mu.Unlock()
	return j.status(js.now()), nil
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
