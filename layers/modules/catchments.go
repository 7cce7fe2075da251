package modules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/analysis"
	"github.com/jackc/pgx/v5"
)

// areaKind is a facility layer split into attachment areas (layer target, facility id column).
type areaKind struct {
	source, target, idCol, noun string
	nameCol, addrCol            string
}

// The two kinds of attachment areas.
var (
	ClinicAreas = areaKind{source: "clinics", target: "clinic_areas", idCol: "clinic_id", noun: "clinic",
		nameCol: "clinic_name", addrCol: "clinic_address"}
	SchoolCatchments = areaKind{source: "schools", target: "school_catchments", idCol: "school_id", noun: "school",
		nameCol: "school_name", addrCol: "school_address"}
)

// areaSRID is the metric projection the Voronoi split is computed in (UTM zone 40N covers
// Aktobe at 57° E): equal distances in metres, not in degrees of different lengths.
const areaSRID = 32640

// RecomputeAreas replaces the attachment areas of k (layer clinic_areas or school_catchments)
// with a Voronoi split of the city boundary among the facilities: every address belongs to its
// nearest facility in a straight line. Audited as <target>.recompute. Returns how many areas.
func (s *Store) RecomputeAreas(ctx context.Context, k areaKind) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var facilities, boundaries int
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM `+pgx.Identifier{"layer", k.source}.Sanitize()+`),
			(SELECT count(*) FROM layer.city_boundary)`).Scan(&facilities, &boundaries); err != nil {
			return fmt.Errorf("recompute %s: %w", k.target, err)
		}
		if facilities == 0 {
			return geoportal.Errorf(geoportal.EINVALID, "layer %s has no features to split the city among", k.source)
		}
		if boundaries == 0 {
			return geoportal.Errorf(geoportal.EINVALID, "layer city_boundary is empty: the areas are clipped to it")
		}
		// Lock the target so two recomputations do not interleave.
		target := pgx.Identifier{"layer", k.target}.Sanitize()
		cols := pgx.Identifier{k.nameCol}.Sanitize() + ", " + pgx.Identifier{k.addrCol}.Sanitize()
		if _, err := tx.Exec(ctx, `LOCK TABLE `+target+` IN EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("recompute %s: %w", k.target, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM `+target); err != nil {
			return fmt.Errorf("recompute %s: %w", k.target, err)
		}
		// One facility alone owns the whole city; otherwise the Voronoi cell holding each
		// facility (facilities at the same spot share one cell: the lowest id gets it).
		q := `
			WITH f AS (SELECT id, ST_Transform(ST_PointOnSurface(geom), $1::int) g, name, address
			           FROM ` + pgx.Identifier{"layer", k.source}.Sanitize() + `),
			     b AS (SELECT ST_Transform(ST_Union(geom), $1::int) g FROM layer.city_boundary),
			     cells AS (SELECT (ST_Dump(ST_VoronoiPolygons(ST_Collect(f.g), 0,
			                      ST_Expand(ST_Envelope(ST_Collect(ST_Envelope(b.g), ST_Envelope(ST_Collect(f.g)))), 1000)))).geom cell
			               FROM f, b GROUP BY b.g),
			     owner AS (SELECT DISTINCT ON (c.cell) c.cell, f.id, f.name, f.address
			               FROM cells c JOIN f ON ST_Intersects(c.cell, f.g) ORDER BY c.cell, f.id)
			INSERT INTO ` + target + ` (geom, ` + pgx.Identifier{k.idCol}.Sanitize() + `, ` + cols + `)
			SELECT ST_Multi(ST_CollectionExtract(ST_Transform(ST_Intersection(o.cell, b.g), 4326), 3)), o.id, o.name, o.address
			FROM owner o, b
			WHERE ST_Intersects(o.cell, b.g) AND NOT ST_IsEmpty(ST_CollectionExtract(ST_Intersection(o.cell, b.g), 3))`
		if facilities == 1 {
			// A single facility owns the whole city (no Voronoi split of one point).
			q = `INSERT INTO ` + target + ` (geom, ` + pgx.Identifier{k.idCol}.Sanitize() + `, ` + cols + `)
				SELECT ST_Multi(ST_CollectionExtract(ST_Union(b.geom), 3)), f.id, f.name, f.address
				FROM ` + pgx.Identifier{"layer", k.source}.Sanitize() + ` f, layer.city_boundary b
				WHERE $1::int > 0 GROUP BY f.id, f.name, f.address`
		}
		tag, err := tx.Exec(ctx, q, areaSRID)
		if err != nil {
			return fmt.Errorf("recompute %s: %w", k.target, err)
		}
		n = int(tag.RowsAffected())
		return accounts.Audit(ctx, tx, accounts.Entry{Action: k.target + ".recompute", ObjectType: "layer",
			ObjectID: k.target, After: map[string]int{"areas": n, "facilities": facilities}})
	})
	return n, err
}

// Facility is the clinic or school whose area holds a point.
type Facility struct {
	ID        int64   `json:"id"`
	Name      string  `json:"name"`
	Address   string  `json:"address"`
	Lon       float64 `json:"lon"`
	Lat       float64 `json:"lat"`
	DistanceM float64 `json:"distance_m"`
	// AreaID and Area are the attachment area holding the point (GeoJSON MultiPolygon, WGS 84),
	// so that the map can highlight it without a second request.
	AreaID int64           `json:"area_id"`
	Area   json.RawMessage `json:"area"`
}

// Mine returns the facility whose attachment area (k) holds lon/lat, with that area.
func (s *Store) Mine(ctx context.Context, k areaKind, lon, lat float64) (Facility, error) {
	var f Facility
	err := s.pool.QueryRow(ctx, `SELECT f.id, coalesce(f.name, ''), coalesce(f.address, ''),
			ST_X(ST_PointOnSurface(f.geom)), ST_Y(ST_PointOnSurface(f.geom)),
			ST_Distance(f.geom::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography),
			a.id, ST_AsGeoJSON(a.geom, 6)::jsonb
		FROM `+pgx.Identifier{"layer", k.target}.Sanitize()+` a
		JOIN `+pgx.Identifier{"layer", k.source}.Sanitize()+` f ON f.id = a.`+pgx.Identifier{k.idCol}.Sanitize()+`
		WHERE ST_Covers(a.geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))
		ORDER BY a.id LIMIT 1`, lon, lat).Scan(&f.ID, &f.Name, &f.Address, &f.Lon, &f.Lat, &f.DistanceM, &f.AreaID, &f.Area)
	if errors.Is(err, pgx.ErrNoRows) {
		return f, geoportal.Errorf(geoportal.ENOTFOUND,
			"no %s area holds %.6f, %.6f: the point is outside the city, or the areas (layer %s) are not computed yet",
			k.noun, lon, lat, k.target)
	}
	if err != nil {
		return f, fmt.Errorf("%s at point: %w", k.noun, err)
	}
	f.DistanceM = math.Round(f.DistanceM)
	return f, nil
}

// SchoolSafety is one school's cameras nearby ("safe environment in schools").
type SchoolSafety struct {
	ID               int64    `json:"id"`
	Name             string   `json:"name"`
	Address          string   `json:"address"`
	Lon              float64  `json:"lon"`
	Lat              float64  `json:"lat"`
	CamerasInstalled int      `json:"cameras_installed"`
	CamerasPlanned   int      `json:"cameras_planned"`
	CamerasOther     int      `json:"cameras_other"`
	NearestCameraM   *float64 `json:"nearest_installed_camera_m"`
	CameraIDs        []int64  `json:"camera_ids"`
}

// SafetyReport lists every school with the cameras within Radius metres.
type SafetyReport struct {
	Radius               float64        `json:"radius_m"`
	Schools              []SchoolSafety `json:"schools"`
	SchoolsTotal         int            `json:"schools_total"`
	SchoolsWithoutCamera int            `json:"schools_without_installed_camera"`
}

// SchoolSafety counts the cameras (by status) within radius metres of each school; schools
// without an installed camera come first.
func (s *Store) SchoolSafety(ctx context.Context, radius float64) (*SafetyReport, error) {
	if math.IsNaN(radius) || radius < 10 || radius > 5000 {
		return nil, geoportal.Errorf(geoportal.EINVALID, "radius %g m is out of range 10..5000", radius)
	}
	rows, err := s.pool.Query(ctx, `
		SELECT s.id, coalesce(s.name, ''), coalesce(s.address, ''), ST_X(ST_PointOnSurface(s.geom)), ST_Y(ST_PointOnSurface(s.geom)),
		       count(c.id) FILTER (WHERE c.status = 'installed')::int,
		       count(c.id) FILTER (WHERE c.status = 'planned')::int,
		       count(c.id) FILTER (WHERE c.status IS DISTINCT FROM 'installed' AND c.status IS DISTINCT FROM 'planned')::int,
		       min(ST_Distance(s.geom::geography, c.geom::geography)) FILTER (WHERE c.status = 'installed'),
		       coalesce(array_agg(c.id ORDER BY c.id) FILTER (WHERE c.id IS NOT NULL), '{}')
		FROM layer.schools s
		LEFT JOIN layer.cameras c ON ST_DWithin(c.geom, s.geom, $1 / (111000 * cos(radians(ST_Y(ST_PointOnSurface(s.geom))))))
		      AND ST_DWithin(s.geom::geography, c.geom::geography, $1)
		GROUP BY s.id ORDER BY 6, s.id`, radius)
	if err != nil {
		return nil, fmt.Errorf("school safety: %w", err)
	}
	defer rows.Close()
	rep := &SafetyReport{Radius: radius, Schools: []SchoolSafety{}}
	for rows.Next() {
		var sc SchoolSafety
		if err := rows.Scan(&sc.ID, &sc.Name, &sc.Address, &sc.Lon, &sc.Lat, &sc.CamerasInstalled, &sc.CamerasPlanned,
			&sc.CamerasOther, &sc.NearestCameraM, &sc.CameraIDs); err != nil {
			return nil, fmt.Errorf("school safety: %w", err)
		}
		if sc.NearestCameraM != nil {
			v := math.Round(*sc.NearestCameraM*10) / 10
			sc.NearestCameraM = &v
		}
		rep.SchoolsTotal++
		if sc.CamerasInstalled == 0 {
			rep.SchoolsWithoutCamera++
		}
		rep.Schools = append(rep.Schools, sc)
	}
	return rep, rows.Err()
}

// NearCamera is a camera within the radius of one school.
type NearCamera struct {
	ID        int64   `json:"id"`
	Name      string  `json:"name"`
	Status    string  `json:"status"`
	Lon       float64 `json:"lon"`
	Lat       float64 `json:"lat"`
	DistanceM float64 `json:"distance_m"`
}

// SchoolCameras is one school's "safe environment" answer: the counts of SchoolSafety and the
// cameras themselves, nearest first, for the school's popup on the map.
type SchoolCameras struct {
	SchoolSafety
	Radius  float64      `json:"radius_m"`
	Cameras []NearCamera `json:"cameras"`
}

// SchoolCameras lists the cameras (any status) within radius metres of school id.
func (s *Store) SchoolCameras(ctx context.Context, id int64, radius float64) (*SchoolCameras, error) {
	if math.IsNaN(radius) || radius < 10 || radius > 5000 {
		return nil, geoportal.Errorf(geoportal.EINVALID, "radius %g m is out of range 10..5000", radius)
	}
	out := &SchoolCameras{Radius: radius, Cameras: []NearCamera{}}
	sc := &out.SchoolSafety
	sc.CameraIDs = []int64{}
	err := s.pool.QueryRow(ctx, `SELECT id, coalesce(name, ''), coalesce(address, ''), ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom))
		FROM layer.schools WHERE id = $1`, id).Scan(&sc.ID, &sc.Name, &sc.Address, &sc.Lon, &sc.Lat)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, geoportal.Errorf(geoportal.ENOTFOUND, "school %d does not exist", id)
	}
	if err != nil {
		return nil, fmt.Errorf("school %d: %w", id, err)
	}
	// The degree pre-filter uses the index; the geography distance decides.
	rows, err := s.pool.Query(ctx, `
		SELECT c.id, coalesce(c.name, ''), coalesce(c.status, ''), ST_X(c.geom), ST_Y(c.geom),
		       ST_Distance(s.geom::geography, c.geom::geography) d
		FROM layer.schools s
		JOIN layer.cameras c ON ST_DWithin(c.geom, s.geom, $2 / (111000 * cos(radians(ST_Y(ST_PointOnSurface(s.geom))))))
		     AND ST_DWithin(s.geom::geography, c.geom::geography, $2)
		WHERE s.id = $1
		ORDER BY d, c.id`, id, radius)
	if err != nil {
		return nil, fmt.Errorf("cameras near school %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c NearCamera
		if err := rows.Scan(&c.ID, &c.Name, &c.Status, &c.Lon, &c.Lat, &c.DistanceM); err != nil {
			return nil, fmt.Errorf("cameras near school %d: %w", id, err)
		}
		c.DistanceM = math.Round(c.DistanceM*10) / 10
		switch c.Status {
		case "installed":
			sc.CamerasInstalled++
			if sc.NearestCameraM == nil {
				d := c.DistanceM
				sc.NearestCameraM = &d
			}
		case "planned":
			sc.CamerasPlanned++
		default:
			sc.CamerasOther++
		}
		sc.CameraIDs = append(sc.CameraIDs, c.ID)
		out.Cameras = append(out.Cameras, c)
	}
	return out, rows.Err()
}

// ClinicPlanning is the planners' view of clinics: who lives within reach, and capacity per
// resident (2SFCA), both from the coverage analysis.
type ClinicPlanning struct {
	Coverage *analysis.CoverageResult `json:"coverage"`
	Access   *analysis.AccessResult   `json:"access"`
}

// ClinicPlanning runs the coverage analysis (residents within distance metres of a clinic) and
// 2SFCA over the clinics' capacity (visits per shift) with the same catchment.
func (s *Store) ClinicPlanning(ctx context.Context, distance float64, staff bool) (*ClinicPlanning, error) {
	cov, err := s.analysis.Coverage(ctx, analysis.CoverageParams{Layer: ClinicAreas.source, Distance: distance}, staff)
	if err != nil {
		return nil, err
	}
	acc, err := s.analysis.Access(ctx, analysis.AccessParams{Layer: ClinicAreas.source, Capacity: "capacity", Distance: distance}, staff)
	if err != nil {
		return nil, err
	}
	return &ClinicPlanning{Coverage: cov, Access: acc}, nil
}
