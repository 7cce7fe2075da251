package analysis

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/jackc/pgx/v5"
)

// Kinds of saved scenario.
const (
	KindCoverage = "coverage"
	KindSiting   = "siting"
	KindCameras  = "cameras"
	KindAccess   = "access"
)

// summaryKeys are the headline numbers kept beside each kind of result, for lists and compares.
var summaryKeys = map[string][]string{
	KindCoverage: {"layer", "filter", "method", "distance", "res", "facilities", "residents_total", "residents_covered", "covered_share"},
	KindSiting: {"layer", "candidates", "n", "distance", "demand", "unit", "candidates_count", "existing",
		"demand_total", "covered_before", "covered_after", "share_before", "share_after"},
	KindCameras: {"layer", "filter", "cameras", "street_length_m", "seen_length_m", "seen_share", "crossings_total", "crossings_seen", "crossings_share"},
	KindAccess:  {"layer", "capacity", "distance", "residents_total", "residents_without_access", "mean_access_per_1000"},
}

// ScenarioRequest saves the answer to an analysis under a name. Params are the kind's
// parameters (CoverageParams, SitingParams, CameraParams or AccessParams, as JSON); the server
// runs the analysis itself, so a saved result is always one it computed.
type ScenarioRequest struct {
	Name   string          `json:"name"`
	Kind   string          `json:"kind"`
	Params json.RawMessage `json:"params"`
}

// Scenario is a saved analysis.
type Scenario struct {
	ID        int64           `json:"id"`
	Name      string          `json:"name"`
	Kind      string          `json:"kind"`
	Params    json.RawMessage `json:"params"`
	Summary   map[string]any  `json:"summary"`
	Result    json.RawMessage `json:"result,omitempty"`
	CreatedBy string          `json:"created_by,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
}

func decodeStrict(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		raw = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return geoportal.Errorf(geoportal.EINVALID, "params: %v", err)
	}
	return nil
}

// Run runs the analysis a scenario request names and returns its normalised params and result.
func (s *Store) Run(ctx context.Context, kind string, raw json.RawMessage, staff bool) (params, result any, err error) {
	switch kind {
	case KindCoverage:
		var p CoverageParams
		if err := decodeStrict(raw, &p); err != nil {
			return nil, nil, err
		}
		r, err := s.Coverage(ctx, p, staff)
		if err != nil {
			return nil, nil, err
		}
		return r.CoverageParams, r, nil
	case KindSiting:
		var p SitingParams
		if err := decodeStrict(raw, &p); err != nil {
			return nil, nil, err
		}
		r, err := s.Siting(ctx, p, staff)
		if err != nil {
			return nil, nil, err
		}
		return r.SitingParams, r, nil
	case KindCameras:
		var p CameraParams
		if err := decodeStrict(raw, &p); err != nil {
			return nil, nil, err
		}
		r, err := s.Cameras(ctx, p, staff)
		if err != nil {
			return nil, nil, err
		}
		return r.CameraParams, r, nil
	case KindAccess:
		var p AccessParams
		if err := decodeStrict(raw, &p); err != nil {
			return nil, nil, err
		}
		r, err := s.Access(ctx, p, staff)
		if err != nil {
			return nil, nil, err
		}
		return r.AccessParams, r, nil
	}
	return nil, nil, geoportal.Errorf(geoportal.EINVALID, "kind must be coverage, siting, cameras or access, got %q", kind)
}

// SaveScenario runs the requested analysis and stores it. by names the user saving it.
func (s *Store) SaveScenario(ctx context.Context, req ScenarioRequest, staff bool, by string) (*Scenario, error) {
	name := strings.TrimSpace(req.Name)
	if name == "" || len([]rune(name)) > 200 {
		return nil, geoportal.Errorf(geoportal.EINVALID, "name must be 1 to 200 characters")
	}
	params, result, err := s.Run(ctx, req.Kind, req.Params, staff)
	if err != nil {
		return nil, err
	}
	pj, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	rj, err := json.Marshal(result)
	if err != nil {
		return nil, err
	}
	var full map[string]any
	if err := json.Unmarshal(rj, &full); err != nil {
		return nil, err
	}
	summary := map[string]any{}
	for _, k := range summaryKeys[req.Kind] {
		if v, ok := full[k]; ok {
			summary[k] = v
		}
	}
	sj, _ := json.Marshal(summary)
	sc := &Scenario{Name: name, Kind: req.Kind, Params: pj, Summary: summary, CreatedBy: by}
	var createdBy *string
	if by != "" {
		createdBy = &by
	}
	err = s.pool.QueryRow(ctx, `INSERT INTO geoportal.analysis_scenarios (name, kind, params, summary, result, created_by)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, created_at`, name, req.Kind, pj, sj, rj, createdBy).Scan(&sc.ID, &sc.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("save scenario: %w", err)
	}
	return sc, nil
}

// Scenarios lists saved scenarios, newest first, without their full results.
func (s *Store) Scenarios(ctx context.Context, limit int) ([]Scenario, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT id, name, kind, params, summary, coalesce(created_by, ''), created_at
		FROM geoportal.analysis_scenarios ORDER BY created_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list scenarios: %w", err)
	}
	defer rows.Close()
	out := []Scenario{}
	for rows.Next() {
		var sc Scenario
		if err := rows.Scan(&sc.ID, &sc.Name, &sc.Kind, &sc.Params, &sc.Summary, &sc.CreatedBy, &sc.CreatedAt); err != nil {
			return nil, fmt.Errorf("list scenarios: %w", err)
		}
		out = append(out, sc)
	}
	return out, rows.Err()
}

// Scenario returns one saved scenario with its result.
func (s *Store) Scenario(ctx context.Context, id int64) (*Scenario, error) {
	var sc Scenario
	err := s.pool.QueryRow(ctx, `SELECT id, name, kind, params, summary, result, coalesce(created_by, ''), created_at
		FROM geoportal.analysis_scenarios WHERE id = $1`, id).
		Scan(&sc.ID, &sc.Name, &sc.Kind, &sc.Params, &sc.Summary, &sc.Result, &sc.CreatedBy, &sc.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, geoportal.Errorf(geoportal.ENOTFOUND, "scenario %d not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("scenario %d: %w", id, err)
	}
	return &sc, nil
}

// Comparison sets two scenarios' headline numbers side by side.
type Comparison struct {
	A Scenario `json:"a"`
	B Scenario `json:"b"`
	// Difference is B minus A for every number both summaries hold.
	Difference map[string]float64 `json:"difference"`
}

// Compare returns two scenarios' summaries and the differences of their numbers.
func (s *Store) Compare(ctx context.Context, a, b int64) (*Comparison, error) {
	sa, err := s.Scenario(ctx, a)
	if err != nil {
		return nil, err
	}
	sb, err := s.Scenario(ctx, b)
	if err != nil {
		return nil, err
	}
	sa.Result, sb.Result = nil, nil
	c := &Comparison{A: *sa, B: *sb, Difference: map[string]float64{}}
	for k, va := range sa.Summary {
		fa, ok1 := va.(float64)
		fb, ok2 := sb.Summary[k].(float64)
		if ok1 && ok2 {
			c.Difference[k] = fb - fa
		}
	}
	return c, nil
}
