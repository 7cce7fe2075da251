package tiles

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aktobe/geoportal/layers"
	"github.com/jackc/pgx/v5"
)

// Tile geometry constants: the MVT extent and the buffer drawn around each tile (in extent units),
// so that lines and polygons continue seamlessly and point symbols are not cut at tile edges.
const (
	Extent = 4096
	Buffer = 256
)

// linearFromZoom is the zoom from which tiles are drawn by the linear map of the tile's corners
// instead of projecting every vertex to Web Mercator. Mercator's y is not linear in latitude, but
// over one tile the difference is at most (2π / 2^z) · 512 · sin(latitude) · 1.27 (buffer
// included) extent units: under 0.25 of a unit from z14 on, anywhere on Earth — below the
// rounding of tile coordinates to whole units — while PROJ's per-geometry cost was the largest
// single cost of a building tile.
const linearFromZoom = 14

// bufferFraction is the buffer as a share of the tile's width.
const bufferFraction = float64(Buffer) / Extent

// clusterCells is how many grid cells a tile is cut into, per side, when points are clustered:
// 16 cells of 256 extent units (32 screen pixels on a 512-pixel tile).
const clusterCells = 16

// invalidationMargin is how far (as a share of a tile's width) a change can reach into
// neighbouring tiles: the buffer, plus one cluster cell because a cluster's point is the mean of
// its members, which can lie up to a cell away from the member that changed.
const invalidationMargin = bufferFraction + 1.0/clusterCells

// layerDef is a catalog layer compiled for tile generation: its SQL, the properties it puts in
// tiles and a fingerprint of everything in the catalog that changes the tiles' contents.
type layerDef struct {
	layers.Layer
	fingerprint string
	fields      map[string]string // property name -> TileJSON field type
	props       []string          // property names, in the order the queries return them
	// property names of the cluster query (sqlCluster), in the order it returns them
	clusterProps []string
	sqlPlain     string // $1 slug, $2..$5 tile bounds (3857), $6..$9 filter box (4326), $10 cap
	sqlSimplify  string // as sqlPlain, with $11 the simplification tolerance (metres)
	sqlCluster   string // as sqlPlain, with $11 the cluster cell size (metres)
	// as sqlPlain, with $2..$5 the tile's bounds in degrees: the tile is drawn from the stored
	// longitudes and latitudes by the linear map of its corners (see linearFromZoom)
	sqlLinear string
	// polygon layers only: as sqlLinear, but a polygon whose bounding box lies inside $11..$14
	// (the tile and nearly all of its buffer, in degrees) comes back as it is stored, in an extra
	// column after the geometry, for Go to draw (see lonlat.go); the others as from sqlLinear
	sqlLinearFast string
	// as sqlLinear, for the features whose ids are in $11 only (those Go hands back)
	sqlLinearIDs string
	// as sqlPlain (ids in $11) and sqlSimplify (ids in $12), for the features Go hands back below z14
	sqlPlainIDs, sqlSimplifyIDs string
	// point, line and polygon layers: every feature as stored (id, WKB, properties), for the copy held
	// in memory (memstore.go); sqlMemBox those whose box meets $1..$4 (degrees)
	sqlMemAll, sqlMemBox string
}

// labelAttributes are the attributes that go into tiles whether shown in popups or not: the map
// draws its labels from them (the name in each language, with "name" the fallback, and house
// numbers) and its colours ("color": a bus route's own, from GTFS route_color).
var labelAttributes = map[string]bool{"name": true, "name_kk": true, "name_ru": true, "name_en": true, "housenumber": true,
	"color": true}

// tileProperties picks the attributes that go into tiles: those shown in popups, plus the label
// attributes.
func tileProperties(l *layers.Layer) []layers.Attribute {
	var out []layers.Attribute
	for _, a := range l.Attributes {
		if a.Popup || labelAttributes[a.Name] {
			out = append(out, a)
		}
	}
	return out
}

// fieldType is the TileJSON description of an attribute type.
func fieldType(t string) string {
	switch t {
	case "integer", "bigint", "double":
		return "Number"
	case "boolean":
		return "Boolean"
	}
	return "String"
}

// propertyExpr is the SQL that reads attribute a of row alias t as a tile property: numbers,
// booleans and text keep their type; dates and times become ISO 8601 text; jsonb its JSON text.
func propertyExpr(alias string, a layers.Attribute) string {
	col := alias + "." + pgx.Identifier{a.Name}.Sanitize()
	switch a.Type {
	case "date", "timestamptz":
		return "to_json(" + col + ") #>> '{}'"
	case "jsonb":
		return col + "::text"
	}
	return col
}

func compileLayer(l layers.Layer) (*layerDef, error) {
	if !layers.ValidSlug(l.Slug) {
		return nil, fmt.Errorf("tiles: layer slug %q is not valid", l.Slug)
	}
	props := tileProperties(&l)
	d := &layerDef{Layer: l, fields: map[string]string{}}
	for _, a := range props {
		d.fields[a.Name] = fieldType(a.Type)
	}
	fp, _ := json.Marshal([]any{l.GeometryType, props, l.MinZoom, l.MaxZoom, l.Visibility, l.Live, l.CreatedAt})
	d.fingerprint = string(fp)

	table := l.Table()
	var sel, outCols strings.Builder
	for _, a := range props {
		name := pgx.Identifier{a.Name}.Sanitize()
		sel.WriteString(", " + propertyExpr("t", a) + " AS " + name)
		outCols.WriteString(", q." + name)
		d.props = append(d.props, a.Name)
	}
	// The filter is a bounding-box test in the table's own SRID (4326) so the GiST index is used;
	// ST_AsMVTGeom clips to the tile plus its buffer and drops what falls outside.
	// Every query returns the layer's data version (read in the same snapshot as the rows), then
	// one row per feature: id, geometry in tile coordinates as WKB, properties. The LEFT JOIN
	// keeps the version row when the tile has no features (its id is then NULL).
	// OFFSET 0 keeps the planner from pushing "q.geom IS NOT NULL" down into the scan, where it
	// would compute ST_AsMVTGeom a second time for every row.
	build := func(geomExpr string, boundsSRID int, extra string) string {
		return `SELECT v.version, q.id, ST_AsBinary(q.geom)` + outCols.String() + `
FROM (SELECT l.version FROM geoportal.layers l WHERE l.slug = $1) v
LEFT JOIN LATERAL (
	SELECT * FROM (
		SELECT t.id, ST_AsMVTGeom(` + geomExpr + `, ST_MakeEnvelope($2, $3, $4, $5, ` + fmt.Sprint(boundsSRID) + `), ` +
			fmt.Sprint(Extent) + `, ` + fmt.Sprint(Buffer) + `, true) AS geom` + sel.String() + `
		FROM ` + table + ` t
		WHERE t.geom && ST_MakeEnvelope($6, $7, $8, $9, 4326)` + extra + `
		OFFSET 0
	) q WHERE q.geom IS NOT NULL
	LIMIT $10 + 1
) q ON true`
	}
	d.sqlPlain = build("ST_Transform(t.geom, 3857)", 3857, "")
	d.sqlSimplify = build("ST_Simplify(ST_Transform(t.geom, 3857), $11, true)", 3857, "")
	d.sqlLinear = build("t.geom", 4326, "")
	switch l.GeometryType {
	case "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon":
		d.sqlLinearIDs = build("t.geom", 4326, " AND t.id = ANY($11)")
		d.sqlPlainIDs = build("ST_Transform(t.geom, 3857)", 3857, " AND t.id = ANY($11)")
		if l.GeometryType != "Point" && l.GeometryType != "MultiPoint" {
			d.sqlSimplifyIDs = build("ST_Simplify(ST_Transform(t.geom, 3857), $11, true)", 3857, " AND t.id = ANY($12)")
		}
		d.sqlMemAll = `SELECT t.id, ST_AsBinary(t.geom)` + sel.String() + ` FROM ` + table + ` t`
		d.sqlMemBox = d.sqlMemAll + ` WHERE t.geom && ST_MakeEnvelope($1, $2, $3, $4, 4326)`
	}
	if l.GeometryType == "Polygon" || l.GeometryType == "MultiPolygon" {
		// Most features of a polygon layer lie wholly inside the tile and its buffer: for them
		// ST_AsMVTGeom's clipping and validation (wagyu), most of the database's cost per
		// feature, is replaced by drawing them in Go (lonlat.go), which hands the rare polygon
		// it cannot draw exactly back to sqlLinearIDs.
		d.sqlLinearFast = `SELECT v.version, q.id, ST_AsBinary(q.geom), q.raw` + outCols.String() + `
FROM (SELECT l.version FROM geoportal.layers l WHERE l.slug = $1) v
LEFT JOIN LATERAL (
	SELECT * FROM (
		SELECT t.id,
			CASE WHEN NOT t.geom @ ST_MakeEnvelope($11, $12, $13, $14, 4326) THEN ST_AsMVTGeom(t.geom,
				ST_MakeEnvelope($2, $3, $4, $5, 4326), ` + fmt.Sprint(Extent) + `, ` + fmt.Sprint(Buffer) + `, true) END AS geom,
			CASE WHEN t.geom @ ST_MakeEnvelope($11, $12, $13, $14, 4326) THEN ST_AsBinary(t.geom) END AS raw` + sel.String() + `
		FROM ` + table + ` t
		WHERE t.geom && ST_MakeEnvelope($6, $7, $8, $9, 4326)
		OFFSET 0
	) q WHERE q.geom IS NOT NULL OR q.raw IS NOT NULL
	LIMIT $10 + 1
) q ON true`
	}

	if l.GeometryType == "Point" {
		// Clusters: points are grouped by a grid of cells aligned with the tile grid (so a cell
		// never straddles two tiles); a cell holding one point yields that point with its
		// properties, a cell holding several yields their mean position with point_count.
		var psel, pcols, pout strings.Builder
		for _, a := range props {
			if a.Name == "point_count" || a.Name == "cluster" {
				continue
			}
			name := pgx.Identifier{a.Name}.Sanitize()
			psel.WriteString(", " + propertyExpr("t", a) + " AS " + name)
			pcols.WriteString(", p." + name)
			pout.WriteString(", q." + name)
			d.clusterProps = append(d.clusterProps, a.Name)
		}
		d.sqlCluster = `SELECT v.version, q.id, ST_AsBinary(q.geom)` + pout.String() + `, q.point_count, q.cluster
FROM (SELECT l.version FROM geoportal.layers l WHERE l.slug = $1) v
LEFT JOIN LATERAL (
	WITH p AS MATERIALIZED (
		SELECT t.id, ST_Transform(t.geom, 3857) AS g` + psel.String() + `
		FROM ` + table + ` t
		WHERE t.geom && ST_MakeEnvelope($6, $7, $8, $9, 4326)
	), c AS (
		SELECT count(*) AS n, min(p.id) AS id, avg(ST_X(p.g)) AS x, avg(ST_Y(p.g)) AS y
		FROM p
		GROUP BY floor((ST_X(p.g) + 20037508.342789244) / $11), floor((ST_Y(p.g) + 20037508.342789244) / $11)
	)
	SELECT * FROM (
		SELECT c.id, ST_AsMVTGeom(CASE WHEN c.n = 1 THEN p.g ELSE ST_SetSRID(ST_MakePoint(c.x, c.y), 3857) END,
			ST_MakeEnvelope($2, $3, $4, $5, 3857), ` + fmt.Sprint(Extent) + `, ` + fmt.Sprint(Buffer) + `, true) AS geom` +
			pcols.String() + `,
			CASE WHEN c.n > 1 THEN c.n END AS point_count,
			CASE WHEN c.n > 1 THEN true END AS cluster
		FROM c LEFT JOIN p ON c.n = 1 AND p.id = c.id
	) q WHERE q.geom IS NOT NULL
	LIMIT $10 + 1
) q ON true`
		d.clusterProps = append(d.clusterProps, "point_count", "cluster")
		d.fields["point_count"] = "Number"
		d.fields["cluster"] = "Boolean"
	}
	return d, nil
}
