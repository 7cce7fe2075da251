package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/analysis"
	"github.com/aktobe/geoportal/web/reply"
	"github.com/go-chi/chi/v5"
)

// Planner analyses: anyone may run them over public layers (they only read); staff-only layers
// and saved scenarios need a planner (see routes.go for the scenarios).

// PlannerRoles may analyse staff-only layers and save and read scenarios.
var PlannerRoles = []accounts.Role{accounts.Planner, accounts.GISStaff, accounts.Admin}

// isPlanner reports whether the caller may analyse staff-only layers.
func (hs *Handlers) isPlanner(r *http.Request) bool {
	u, ok := hs.Guard.CurrentUser(r)
	return ok && u.HasRole(PlannerRoles...)
}

// QueryFloat reads a number parameter; missing gives def.
func QueryFloat(q url.Values, name string, def float64) (float64, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, geoportal.Errorf(geoportal.EINVALID, "%s must be a number, got %q", name, v)
	}
	return f, nil
}

func QueryInt(q url.Values, name string, def int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, geoportal.Errorf(geoportal.EINVALID, "%s must be a whole number, got %q", name, v)
	}
	return n, nil
}

// PathID reads the positive integer id in the path parameter name.
func PathID(r *http.Request, name string) (int64, error) {
	v := chi.URLParam(r, name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, geoportal.Errorf(geoportal.EINVALID, "%s %q is not a positive integer", name, v)
	}
	return id, nil
}

func queryBool(q url.Values, name string) (*bool, error) {
	v := q.Get(name)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, geoportal.Errorf(geoportal.EINVALID, "%s must be true or false, got %q", name, v)
	}
	return &b, nil
}

// requireDistance reads the distance parameter, which the analyses cannot guess.
func requireDistance(q url.Values) (float64, error) {
	if q.Get("distance") == "" {
		return 0, geoportal.Errorf(geoportal.EINVALID, "distance (metres) is required")
	}
	return QueryFloat(q, "distance", 0)
}

// decodeBody reads a JSON body into v, refusing unknown fields and trailing data.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return geoportal.Errorf(geoportal.ETOOLARGE, "request body is too large")
		}
		if errors.Is(err, io.EOF) {
			return geoportal.Errorf(geoportal.EINVALID, "request body is empty: send a JSON object")
		}
		return geoportal.Errorf(geoportal.EINVALID, "request body: %v", err)
	}
	if dec.More() {
		return geoportal.Errorf(geoportal.EINVALID, "request body: more than one JSON value")
	}
	return nil
}

// GET /api/analysis/coverage?layer=SLUG&distance=M[&method=line|network][&res=9][&filter=a:v][&curve=true]
func (hs *Handlers) Coverage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := analysis.CoverageParams{Layer: q.Get("layer"), Filter: q.Get("filter"), Method: q.Get("method")}
	var err error
	var curve *bool
	if p.Distance, err = requireDistance(q); err == nil {
		if p.Res, err = QueryInt(q, "res", 0); err == nil {
			curve, err = queryBool(q, "curve")
		}
	}
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	p.Curve = curve != nil && *curve
	res, err := hs.Analysis.Coverage(r.Context(), p, hs.isPlanner(r))
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, res)
}

// POST /api/analysis/siting {layer, filter, candidates, candidate_filter, n, distance, demand, res, step}
func (hs *Handlers) Siting(w http.ResponseWriter, r *http.Request) {
	var p analysis.SitingParams
	if err := decodeBody(r, &p); err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	res, err := hs.Analysis.Siting(r.Context(), p, hs.isPlanner(r))
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, res)
}

// GET /api/analysis/cameras[?layer=cameras][&filter=status:installed|all][&step=5][&occlusion=true]
// [&crossings=smart_crossings|intersections][&geometry=true][&private=true: the private group too]
func (hs *Handlers) CameraCoverage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := analysis.CameraParams{Layer: q.Get("layer"), Filter: q.Get("filter"), Crossings: q.Get("crossings")}
	var err error
	var private *bool
	if p.Step, err = QueryFloat(q, "step", 0); err == nil {
		if p.Occlusion, err = queryBool(q, "occlusion"); err == nil {
			if p.Geometry, err = queryBool(q, "geometry"); err == nil {
				private, err = queryBool(q, "private")
			}
		}
	}
	p.Private = private != nil && *private
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	res, err := hs.Analysis.Cameras(r.Context(), p, hs.isPlanner(r))
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, res)
}

// GET /api/analysis/access?layer=clinics&distance=M[&capacity=capacity][&res=9][&filter=a:v]
func (hs *Handlers) Access(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := analysis.AccessParams{Layer: q.Get("layer"), Filter: q.Get("filter"), Capacity: q.Get("capacity")}
	var err error
	if p.Distance, err = requireDistance(q); err == nil {
		p.Res, err = QueryInt(q, "res", 0)
	}
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	res, err := hs.Analysis.Access(r.Context(), p, hs.isPlanner(r))
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, res)
}

// GET /api/analysis/population[?res=9]: residents per H3 cell.
func (hs *Handlers) Population(w http.ResponseWriter, r *http.Request) {
	res, err := QueryInt(r.URL.Query(), "res", 9)
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	pop, err := hs.Analysis.Population(r.Context(), res)
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, pop)
}

// POST /api/analysis/scenarios {name, kind, params}: runs the analysis and saves it.
func (hs *Handlers) SaveScenario(w http.ResponseWriter, r *http.Request) {
	var req analysis.ScenarioRequest
	if err := decodeBody(r, &req); err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	by := ""
	if u, ok := hs.Guard.CurrentUser(r); ok {
		by = u.Label()
	}
	sc, err := hs.Analysis.SaveScenario(r.Context(), req, hs.isPlanner(r), by)
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusCreated, sc)
}

// GET /api/analysis/scenarios[?limit=100]
func (hs *Handlers) Scenarios(w http.ResponseWriter, r *http.Request) {
	limit, err := QueryInt(r.URL.Query(), "limit", 100)
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	scs, err := hs.Analysis.Scenarios(r.Context(), limit)
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, map[string]any{"scenarios": scs})
}

func scenarioID(v, name string) (int64, error) {
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, geoportal.Errorf(geoportal.EINVALID, "%s must be a scenario id, got %q", name, v)
	}
	return id, nil
}

// GET /api/analysis/scenarios/{id}
func (hs *Handlers) Scenario(w http.ResponseWriter, r *http.Request) {
	id, err := scenarioID(chi.URLParam(r, "id"), "id")
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	sc, err := hs.Analysis.Scenario(r.Context(), id)
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, sc)
}

// GET /api/analysis/compare?a=ID&b=ID
func (hs *Handlers) CompareScenarios(w http.ResponseWriter, r *http.Request) {
	a, err := scenarioID(r.URL.Query().Get("a"), "a")
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	b, err := scenarioID(r.URL.Query().Get("b"), "b")
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	c, err := hs.Analysis.Compare(r.Context(), a, b)
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, c)
}

// Long analyses as background jobs, for the planner page's progress bar and Cancel button:
// POST starts one (202 with its id), GET follows it (the answer comes with state "done"), DELETE
// cancels it, the database queries it was running included.

// POST /api/analysis/jobs {kind: coverage|siting|cameras|access, params: {…}}
func (hs *Handlers) StartJob(w http.ResponseWriter, r *http.Request) {
	var req analysis.JobRequest
	if err := decodeBody(r, &req); err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	st, err := hs.Analysis.StartJob(r.Context(), req, hs.isPlanner(r))
	if err != nil {
		if geoportal.ErrorCode(err) == geoportal.ERATELIMIT {
			w.Header().Set("Retry-After", "10") // jobs end within seconds to minutes; poll again
		}
		hs.Reply.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/analysis/jobs/"+st.ID)
	reply.JSON(w, http.StatusAccepted, st)
}

// GET /api/analysis/jobs/{id}
func (hs *Handlers) Job(w http.ResponseWriter, r *http.Request) {
	st, err := hs.Analysis.Job(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	reply.JSON(w, http.StatusOK, st)
}

// DELETE /api/analysis/jobs/{id}: answers once the job has stopped (or after 5 s).
func (hs *Handlers) CancelJob(w http.ResponseWriter, r *http.Request) {
	st, err := hs.Analysis.CancelJob(r.Context(), chi.URLParam(r, "id"), 5*time.Second)
	if err != nil {
		hs.Reply.Error(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, st)
}
