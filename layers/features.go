package layers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/replica"
	"github.com/aktobe/geoportal/layers/accounts"
	"github.com/aktobe/geoportal/layers/cql2"
	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/geojson"
)

// CRS is a coordinate reference system the feature API speaks.
type CRS struct {
	URI  string
	SRID int
	// LatLon is set for EPSG:4326 proper, whose axis order is latitude, longitude.
	LatLon bool
}

// The CRSs features can be read and written in. CRS84 (longitude, latitude) is the default.
var (
	CRS84     = CRS{URI: "http://www.opengis.net/def/crs/OGC/1.3/CRS84", SRID: 4326}
	EPSG4326  = CRS{URI: "http://www.opengis.net/def/crs/EPSG/0/4326", SRID: 4326, LatLon: true}
	EPSG3857  = CRS{URI: "http://www.opengis.net/def/crs/EPSG/0/3857", SRID: 3857}
	EPSG32640 = CRS{URI: "http://www.opengis.net/def/crs/EPSG/0/32640", SRID: 32640}

	SupportedCRS = []CRS{CRS84, EPSG4326, EPSG3857, EPSG32640}
)

// ParseCRS reads a CRS URI (http://www.opengis.net/def/crs/EPSG/0/3857), a safe CURIE
// ([EPSG:3857]) or a short name (EPSG:3857, CRS84).
func ParseCRS(s string) (CRS, error) {
	t := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "["), "]")
	for _, c := range SupportedCRS {
		if t == c.URI || strings.TrimPrefix(t, "https://") == strings.TrimPrefix(c.URI, "http://") {
			return c, nil
		}
		short := "EPSG:" + strconv.Itoa(c.SRID)
		if c == CRS84 {
			short = "OGC:CRS84"
		}
		if strings.EqualFold(t, short) || c == CRS84 && strings.EqualFold(t, "CRS84") {
			return c, nil
		}
	}
	return CRS{}, geoportal.Errorf(geoportal.EINVALID, "unsupported CRS %q (supported: CRS84, EPSG:4326, EPSG:3857, EPSG:32640 as http://www.opengis.net/def/crs/... URIs)", s)
}

// Queryables returns the properties a client may filter and sort on, with their attribute
// types: the feature id, the geometry ("geom", type geometry) and every scalar attribute.
func (l *Layer) Queryables() map[string]string {
	q := map[string]string{"id": "bigint", "geom": "geometry"}
	for _, a := range l.Attributes {
		if a.Type != "jsonb" {
			q[a.Name] = a.Type
		}
	}
	if _, taken := q["geometry"]; !taken {
		q["geometry"] = "geometry"
	}
	return q
}

// FilterSchema is the schema CQL2 filters over the layer are compiled against.
func (l *Layer) FilterSchema() cql2.Schema {
	return cql2.Schema{Types: l.Queryables(), GeometryColumn: "geom"}
}

// timeColumn returns the layer's time column and whether it is a date.
func (l *Layer) timeColumn() (string, bool, error) {
	switch l.TimeColumn {
	case "":
		return "", false, geoportal.Errorf(geoportal.EINVALID, "collection %s has no time property, so datetime cannot filter it", l.Slug)
	case "created_at", "updated_at":
		return l.TimeColumn, false, nil
	}
	a, ok := l.Attribute(l.TimeColumn)
	if !ok || a.Type != "date" && a.Type != "timestamptz" {
		return "", false, fmt.Errorf("layer %s: time column %q is not a date or timestamptz attribute", l.Slug, l.TimeColumn)
	}
	return a.Name, a.Type == "date", nil
}

// Interval is a datetime filter: Start and End are inclusive unless EndExclusive; nil is open.
type Interval struct {
	Start, End   *time.Time
	EndExclusive bool
}

// ParseDatetime reads the OGC API datetime parameter: an instant (2024-05-01T10:00:00Z or a
// date, which means that whole UTC day) or an interval a/b whose ends may be open (".." or empty).
func ParseDatetime(s string) (Interval, error) {
	bad := func() (Interval, error) {
		return Interval{}, geoportal.Errorf(geoportal.EINVALID,
			"bad datetime %q: want an RFC 3339 instant, a date, or an interval start/end with .. for an open end", s)
	}
	parse := func(v string, end bool) (*time.Time, bool, bool) {
		if v == "" || v == ".." {
			return nil, false, true
		}
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return &t, false, true
		}
		if d, err := time.Parse("2006-01-02", v); err == nil {
			if end {
				d = d.AddDate(0, 0, 1)
				return &d, true, true
			}
			return &d, false, true
		}
		return nil, false, false
	}
	parts := strings.Split(s, "/")
	switch len(parts) {
	case 1:
		if s == "" || s == ".." {
			return bad()
		}
		start, _, ok := parse(s, false)
		if !ok {
			return bad()
		}
		end, excl, _ := parse(s, true)
		return Interval{Start: start, End: end, EndExclusive: excl}, nil
	case 2:
		start, _, ok1 := parse(parts[0], false)
		end, excl, ok2 := parse(parts[1], true)
		if !ok1 || !ok2 || start == nil && end == nil {
			return bad()
		}
		if start != nil && end != nil && end.Before(*start) {
			return Interval{}, geoportal.Errorf(geoportal.EINVALID, "bad datetime %q: the interval ends before it starts", s)
		}
		return Interval{Start: start, End: end, EndExclusive: excl}, nil
	}
	return bad()
}

// Sort is one key of sortby.
type Sort struct {
	Property string
	Desc     bool
}

// FeatureQuery selects features of a layer. The zero value (plus a Limit) reads the first page.
type FeatureQuery struct {
	Limit, Offset int
	// BBox is west, south, east, north in BBoxCRS, already in x, y order.
	BBox    []float64
	BBoxCRS CRS
	Time    *Interval
	// Equals holds attribute = value filters (values as given in the query string).
	Equals map[string]string
	Filter cql2.Expr
	// FilterCRS is the CRS of the filter's geometry literals.
	FilterCRS CRS
	SortBy    []Sort
	// AfterID, with the default order (no SortBy), starts the page after this feature id:
	// keyset paging, which costs the same on every page, where Offset costs a scan of the rows
	// skipped. Offset is then only the page's position, for numbering and prev links.
	AfterID *int64
	// Properties, when SelectProperties is set, are the only attributes returned.
	Properties       []string
	SelectProperties bool
	// CRS of the returned geometries.
	CRS CRS
}

// Feature is one row of a layer as GeoJSON parts. In a Features callback its byte slices are
// valid only until the callback returns.
type Feature struct {
	ID         int64
	Geometry   json.RawMessage
	Properties json.RawMessage
}

// FeaturePage says what a Features call returned.
type FeaturePage struct {
	NumberMatched  int64
	Estimated      bool // NumberMatched is the planner's estimate, not a count
	NumberReturned int
	More           bool // there are features after this page
}

// exactCountLimit is the layer size up to which a filtered numberMatched is counted exactly;
// above it the planner's estimate is used, since counting would scan the whole match.
const exactCountLimit = 200_000

// MaxLimit is the largest page a client can ask for.
const MaxLimit = 10_000

func badParam(format string, args ...any) error {
	return geoportal.Errorf(geoportal.EINVALID, format, args...)
}

// where builds the WHERE clause (without the keyword) and its parameters.
func (l *Layer) where(q FeatureQuery) (string, []any, error) {
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.BBox != nil {
		if len(q.BBox) != 4 {
			return "", nil, badParam("bbox needs 4 numbers")
		}
		w, s, e, n := q.BBox[0], q.BBox[1], q.BBox[2], q.BBox[3]
		for _, v := range q.BBox {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return "", nil, badParam("bbox values must be finite numbers")
			}
		}
		if s > n {
			return "", nil, badParam("bbox south %g is north of north %g", s, n)
		}
		srid := q.BBoxCRS.SRID
		if srid == 0 {
			srid = 4326
		}
		env := func(w, e float64) string {
			mk := fmt.Sprintf("ST_MakeEnvelope(%s, %s, %s, %s, %s::integer)", arg(w), arg(s), arg(e), arg(n), arg(srid))
			if srid != 4326 {
				// Transforming the constant envelope (not the column) keeps the GiST index
				// usable; the sub-select computes it once, not per row under a generic plan.
				mk = "(SELECT ST_Transform(" + mk + ", 4326))"
			}
			return "ST_Intersects(t.geom, " + mk + ")"
		}
		switch {
		case w <= e:
			conds = append(conds, env(w, e))
		case srid == 4326:
			// An antimeridian-crossing box is two boxes.
			conds = append(conds, "("+env(w, 180)+" OR "+env(-180, e)+")")
		default:
			return "", nil, badParam("bbox west %g is east of east %g", w, e)
		}
	}
	if q.Time != nil {
		col, _, err := l.timeColumn()
		if err != nil {
			return "", nil, err
		}
		c := "t." + pgx.Identifier{col}.Sanitize()
		if q.Time.Start != nil {
			conds = append(conds, c+" >= "+arg(*q.Time.Start)+"::timestamptz")
		}
		if q.Time.End != nil {
			op := " <= "
			if q.Time.EndExclusive {
				op = " < "
			}
			conds = append(conds, c+op+arg(*q.Time.End)+"::timestamptz")
		}
	}
	qt := l.Queryables()
	// Sorted, so that one query shape gives one SQL text (pgx caches statements by text).
	for _, name := range slices.Sorted(maps.Keys(q.Equals)) {
		raw := q.Equals[name]
		typ, ok := qt[name]
		if !ok || typ == "geometry" {
			return "", nil, badParam("%q is not a queryable property of %s", name, l.Slug)
		}
		v, cast, err := parseValue(typ, raw)
		if err != nil {
			return "", nil, badParam("%s=%q: %s", name, raw, geoportal.ErrorMessage(err))
		}
		conds = append(conds, "t."+pgx.Identifier{name}.Sanitize()+" = "+arg(v)+"::"+cast)
	}
	if q.Filter != nil {
		o := cql2.Options{SRID: q.FilterCRS.SRID, SwapXY: q.FilterCRS.LatLon, FirstArg: len(args)}
		sql, fargs, err := cql2.Compile(q.Filter, l.FilterSchema(), o)
		if err != nil {
			return "", nil, err
		}
		conds = append(conds, sql)
		args = append(args, fargs...)
	}
	if len(conds) == 0 {
		return "TRUE", args, nil
	}
	return strings.Join(conds, " AND "), args, nil
}

// parseValue reads a query-string value as an attribute of type typ; it returns the value and
// the SQL type to cast its parameter to.
func parseValue(typ, s string) (any, string, error) {
	switch typ {
	case "text":
		return s, "text", nil
	case "integer", "bigint":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, "", badParam("not an integer")
		}
		return n, "bigint", nil
	case "double":
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, "", badParam("not a number")
		}
		return f, "double precision", nil
	case "boolean":
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, "", badParam("not true or false")
		}
		return b, "boolean", nil
	case "date":
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			return nil, "", badParam("not a date YYYY-MM-DD")
		}
		return d, "date", nil
	case "timestamptz":
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, "", badParam("not an RFC 3339 timestamp")
		}
		return t, "timestamptz", nil
	}
	return nil, "", badParam("attributes of type %s cannot be compared", typ)
}

// geomSQL is the output expression of the geometry column in crs.
func geomSQL(crs CRS) (string, int) {
	switch {
	case crs.SRID == 0 || crs == CRS84:
		return "t.geom", 9
	case crs.LatLon:
		return "ST_FlipCoordinates(t.geom)", 9
	}
	return fmt.Sprintf("ST_Transform(t.geom, %d)", crs.SRID), 3
}

// selectSQL is the select list: id, geometry GeoJSON text, properties JSON text.
func (l *Layer) selectSQL(q FeatureQuery) (string, error) {
	names := make([]string, 0, len(l.Attributes))
	if q.SelectProperties {
		seen := make(map[string]bool, len(q.Properties))
		for _, p := range q.Properties {
			if _, ok := l.Attribute(p); !ok {
				return "", badParam("properties: %q is not a property of %s", p, l.Slug)
			}
			if seen[p] {
				return "", badParam("properties: %q is named twice", p)
			}
			seen[p] = true
			names = append(names, p)
		}
	} else {
		for _, a := range l.Attributes {
			names = append(names, a.Name)
		}
	}
	props := "'{}'::json"
	if len(names) > 0 {
		cols := make([]string, len(names))
		for i, n := range names {
			cols[i] = "t." + pgx.Identifier{n}.Sanitize()
		}
		// A sub-select names the JSON keys after the columns, for any number of columns.
		props = "(SELECT row_to_json(p) FROM (SELECT " + strings.Join(cols, ", ") + ") AS p)"
	}
	g, digits := geomSQL(q.CRS)
	return fmt.Sprintf("t.id, ST_AsGeoJSON(%s, %d), %s::text", g, digits, props), nil
}

func (l *Layer) orderSQL(sorts []Sort) (string, error) {
	qt := l.Queryables()
	var keys []string
	for _, s := range sorts {
		typ, ok := qt[s.Property]
		if !ok || typ == "geometry" {
			return "", badParam("sortby: %q is not a sortable property of %s", s.Property, l.Slug)
		}
		k := "t." + pgx.Identifier{s.Property}.Sanitize()
		if s.Desc {
			k += " DESC"
		}
		keys = append(keys, k)
	}
	// id last keeps pages stable when sort keys tie.
	keys = append(keys, "t.id")
	return strings.Join(keys, ", "), nil
}

// CheckFeatureQuery validates q against the layer without running it, so that a handler can
// refuse bad input before it starts streaming a response.
func (l *Layer) CheckFeatureQuery(q FeatureQuery) error {
	if _, _, err := l.where(q); err != nil {
		return err
	}
	if _, err := l.selectSQL(q); err != nil {
		return err
	}
	_, err := l.orderSQL(q.SortBy)
	return err
}

// Features runs q over the layer and calls emit with each feature, row by row, as the
// database returns them: a page is never held in memory. An error from emit stops the scan.
func (s *Store) Features(ctx context.Context, l Layer, q FeatureQuery, emit func(Feature) error) (FeaturePage, error) {
	ctx = replica.WithLayers(ctx, l.Slug)
	var page FeaturePage
	if q.Limit <= 0 {
		q.Limit = 10
	}
	if q.Limit > MaxLimit {
		q.Limit = MaxLimit
	}
	if q.Offset < 0 {
		return page, badParam("offset must not be negative")
	}
	where, args, err := l.where(q)
	if err != nil {
		return page, err
	}
	sel, err := l.selectSQL(q)
	if err != nil {
		return page, err
	}
	order, err := l.orderSQL(q.SortBy)
	if err != nil {
		return page, err
	}
	pageWhere, pageArgs, offset := where, args, q.Offset
	if q.AfterID != nil {
		if len(q.SortBy) > 0 {
			return page, badParam("a cursor pages only in the default order (without sortby)")
		}
		pageArgs = append(slices.Clip(args), *q.AfterID)
		pageWhere += " AND t.id > $" + strconv.Itoa(len(pageArgs))
		offset = 0
	}
	n := len(pageArgs)
	// The page is cut in a sub-select so that GeoJSON and properties are built only for the
	// rows returned, not for every match the sort looks at.
	sql := fmt.Sprintf("SELECT %s FROM (SELECT t.* FROM %s AS t WHERE %s ORDER BY %s LIMIT $%d OFFSET $%d) AS t ORDER BY %s",
		sel, l.Table(), pageWhere, order, n+1, n+2, order)
	// One row more than the page tells whether a next page exists.
	rows, err := s.read.Query(ctx, sql, append(pageArgs, q.Limit+1, offset)...)
	if err != nil {
		return page, mapPgError(fmt.Errorf("features %s: %w", l.Slug, err))
	}
	defer rows.Close()
	var f Feature
	var geom, props []byte
	for rows.Next() {
		if page.NumberReturned == q.Limit {
			page.More = true
			break
		}
		if err := rows.Scan(&f.ID, &geom, &props); err != nil {
			return page, fmt.Errorf("features %s: %w", l.Slug, err)
		}
		f.Geometry, f.Properties = geom, props
		if err := emit(f); err != nil {
			return page, err
		}
		page.NumberReturned++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return page, mapPgError(fmt.Errorf("features %s: %w", l.Slug, err))
	}
	// numberMatched counts every match, not only those after a cursor.
	filtered := where != "TRUE"
	switch {
	case !page.More && q.AfterID == nil && (q.Offset == 0 || page.NumberReturned > 0):
		page.NumberMatched = int64(q.Offset + page.NumberReturned)
	case !filtered:
		// The catalog's count is kept exact by the layer's triggers.
		err = s.read.QueryRow(ctx, `SELECT feature_count FROM geoportal.layers WHERE slug = $1`, l.Slug).
			Scan(&page.NumberMatched)
	case l.FeatureCount <= exactCountLimit:
		// Counted exactly within the count budget; past it, estimated (a costly filter would
		// otherwise scan its whole match again on every page).
		page.NumberMatched, err = s.countWithin(ctx, "SELECT count(*) FROM "+l.Table()+" AS t WHERE "+where, args)
		if errors.Is(err, errCountBudget) {
			page.NumberMatched, err = s.estimate(ctx, "SELECT 1 FROM "+l.Table()+" AS t WHERE "+where, args)
			page.Estimated = true
		}
	default:
		page.NumberMatched, err = s.estimate(ctx, "SELECT 1 FROM "+l.Table()+" AS t WHERE "+where, args)
		page.Estimated = true
	}
	if err != nil {
		return page, mapPgError(fmt.Errorf("features %s: count: %w", l.Slug, err))
	}
	return page, nil
}

var errCountBudget = errors.New("layers: count past its budget")

// countWithin runs a count(*) query with statement_timeout set to the store's count budget, in a
// read-only transaction of its own; errCountBudget when the count runs past it.
func (s *Store) countWithin(ctx context.Context, sql string, args []any) (int64, error) {
	if s.countBudget <= 0 {
		var n int64
		err := s.read.QueryRow(ctx, sql, args...).Scan(&n)
		return n, err
	}
	tx, err := s.read.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT set_config('statement_timeout', $1, true)`,
		strconv.FormatInt(s.countBudget.Milliseconds(), 10)); err != nil {
		return 0, err
	}
	var n int64
	if err := tx.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		if errors.Is(mapPgError(err), ErrReadBudget) {
			return 0, errCountBudget
		}
		return 0, err
	}
	return n, nil
}

// estimate returns the planner's row estimate for sql.
func (s *Store) estimate(ctx context.Context, sql string, args []any) (int64, error) {
	var plan []byte
	if err := s.read.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+sql, args...).Scan(&plan); err != nil {
		return 0, err
	}
	var p []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal(plan, &p); err != nil || len(p) == 0 {
		return 0, fmt.Errorf("explain: unexpected plan %s", plan)
	}
	return int64(p[0].Plan.Rows), nil
}

// Feature returns one feature by id, with its geometry in crs.
func (s *Store) Feature(ctx context.Context, l Layer, id int64, crs CRS) (Feature, error) {
	ctx = replica.WithLayers(ctx, l.Slug)
	sel, err := l.selectSQL(FeatureQuery{CRS: crs})
	if err != nil {
		return Feature{}, err
	}
	var f Feature
	var geom, props []byte
	err = s.read.QueryRow(ctx, "SELECT "+sel+" FROM "+l.Table()+" AS t WHERE t.id = $1", id).
		Scan(&f.ID, &geom, &props)
	if errors.Is(err, pgx.ErrNoRows) {
		return Feature{}, geoportal.Errorf(geoportal.ENOTFOUND, "feature %d not found in %s", id, l.Slug)
	} else if err != nil {
		return Feature{}, fmt.Errorf("feature %s/%d: %w", l.Slug, id, err)
	}
	f.Geometry, f.Properties = geom, props
	return f, nil
}

// FeatureInput is a feature to write: a GeoJSON geometry in CRS and attribute values.
// In an update, a nil Geometry keeps the stored one and only the given properties change.
type FeatureInput struct {
	Geometry   json.RawMessage
	Properties map[string]json.RawMessage
	CRS        CRS
}

// value checks one JSON property value against its attribute type and returns the
// parameter and SQL cast.
func value(a Attribute, raw json.RawMessage) (any, string, error) {
	bad := func(want string) (any, string, error) {
		return nil, "", badParam("property %q must be %s", a.Name, want)
	}
	cast := a.Type
	if s := strings.TrimSpace(string(raw)); s == "null" || s == "" {
		if a.Type == "double" {
			cast = "double precision"
		}
		return nil, cast, nil
	}
	switch a.Type {
	case "text":
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return bad("a string")
		}
		return s, "text", nil
	case "integer", "bigint":
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			return bad("an integer")
		}
		i, err := n.Int64()
		if err != nil || a.Type == "integer" && (i > math.MaxInt32 || i < math.MinInt32) {
			return bad("an integer in range")
		}
		return i, a.Type, nil
	case "double":
		var f float64
		if json.Unmarshal(raw, &f) != nil {
			return bad("a number")
		}
		return f, "double precision", nil
	case "boolean":
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			return bad("true or false")
		}
		return b, "boolean", nil
	case "date", "timestamptz":
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return bad("a date string")
		}
		v, c, err := parseValue(a.Type, s)
		if err != nil {
			return bad(map[string]string{"date": "a date YYYY-MM-DD", "timestamptz": "an RFC 3339 timestamp"}[a.Type])
		}
		return v, c, nil
	case "jsonb":
		if !json.Valid(raw) {
			return bad("JSON")
		}
		return string(raw), "jsonb", nil
	}
	return nil, "", fmt.Errorf("layer attribute %s has unknown type %s", a.Name, a.Type)
}

// writeSet validates in against the layer and returns column names and value expressions.
// full means every attribute is set (missing ones to NULL), as in create and replace.
func (l *Layer) writeSet(in FeatureInput, full bool, arg func(any) string) ([]string, []string, error) {
	for name := range in.Properties {
		if _, ok := l.Attribute(name); !ok {
			var names []string
			for _, a := range l.Attributes {
				names = append(names, a.Name)
			}
			return nil, nil, badParam("%q is not a property of %s (it has: %s)", name, l.Slug, strings.Join(names, ", "))
		}
	}
	var cols, vals []string
	if in.Geometry != nil {
		g, err := cql2.UnmarshalGeometry(in.Geometry)
		if err != nil {
			return nil, nil, err
		}
		gt := g.GeoJSONType()
		multi := l.GeometryType == "Multi"+gt
		if gt != l.GeometryType && !multi {
			return nil, nil, badParam("geometry of %s must be a %s, not a %s", l.Slug, l.GeometryType, gt)
		}
		crs := in.CRS
		if crs.SRID == 0 {
			crs = CRS84
		}
		if crs.LatLon {
			g = cql2.SwapXY(g)
		}
		raw, err := json.Marshal(geojson.NewGeometry(g))
		if err != nil {
			return nil, nil, err
		}
		expr := "ST_SetSRID(ST_GeomFromGeoJSON(" + arg(string(raw)) + "::text), " + arg(crs.SRID) + "::integer)"
		if crs.SRID != 4326 {
			expr = "ST_Transform(" + expr + ", 4326)"
		}
		if multi {
			expr = "ST_Multi(" + expr + ")"
		}
		cols = append(cols, "geom")
		vals = append(vals, expr)
	} else if full {
		return nil, nil, badParam("a feature needs a geometry")
	}
	for _, a := range l.Attributes {
		raw, ok := in.Properties[a.Name]
		if !ok && !full {
			continue
		}
		v, cast, err := value(a, raw)
		if err != nil {
			return nil, nil, err
		}
		if cast == "double" {
			cast = "double precision"
		}
		cols = append(cols, pgx.Identifier{a.Name}.Sanitize())
		vals = append(vals, arg(v)+"::"+cast)
	}
	return cols, vals, nil
}

// checkStored refuses a written geometry that is invalid in PostGIS's eyes, naming the reason;
// the caller's transaction then rolls the write back.
func checkStored(ctx context.Context, tx pgx.Tx, l Layer, id int64) error {
	var valid bool
	var reason string
	if err := tx.QueryRow(ctx, "SELECT ST_IsValid(geom), ST_IsValidReason(geom) FROM "+l.Table()+" WHERE id = $1",
		id).Scan(&valid, &reason); err != nil {
		return err
	}
	if !valid {
		return badParam("invalid geometry: %s", reason)
	}
	return nil
}

// rowJSON is a stored feature as the audit log keeps it: its columns, the geometry as GeoJSON.
const rowJSON = "(to_jsonb(t) - 'geom') || jsonb_build_object('geom', ST_AsGeoJSON(t.geom)::jsonb)"

func featureRow(ctx context.Context, tx pgx.Tx, l Layer, id int64) (json.RawMessage, error) {
	var row json.RawMessage
	err := tx.QueryRow(ctx, "SELECT "+rowJSON+" FROM "+l.Table()+" AS t WHERE t.id = $1", id).Scan(&row)
	return row, err
}

// auditFeature records a feature write in the audit log, in the write's transaction.
func auditFeature(ctx context.Context, tx pgx.Tx, action string, l Layer, id int64, before, after json.RawMessage) error {
	e := accounts.Entry{Action: action, ObjectType: "feature", ObjectID: l.Slug + "/" + strconv.FormatInt(id, 10)}
	if before != nil {
		e.Before = before
	}
	if after != nil {
		e.After = after
	}
	return accounts.Audit(ctx, tx, e)
}

// CreateFeature inserts a feature and returns its id. Every write bumps the layer's version
// through its triggers, which invalidates its tiles.
func (s *Store) CreateFeature(ctx context.Context, l Layer, in FeatureInput) (int64, error) {
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	cols, vals, err := l.writeSet(in, true, arg)
	if err != nil {
		return 0, err
	}
	var id int64
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, "INSERT INTO "+l.Table()+" ("+strings.Join(cols, ", ")+") VALUES ("+
			strings.Join(vals, ", ")+") RETURNING id", args...).Scan(&id); err != nil {
			return err
		}
		if err := checkStored(ctx, tx, l, id); err != nil {
			return err
		}
		after, err := featureRow(ctx, tx, l, id)
		if err != nil {
			return err
		}
		return auditFeature(ctx, tx, "feature.create", l, id, nil, after)
	})
	if err != nil {
		return 0, mapPgError(fmt.Errorf("create feature in %s: %w", l.Slug, err))
	}
	s.replicas.Wrote(ctx, l.Slug)
	return id, nil
}

// ReplaceFeature overwrites a feature's geometry and every attribute (missing ones become
// NULL); UpdateFeature (full false) changes only what in names.
func (s *Store) ReplaceFeature(ctx context.Context, l Layer, id int64, in FeatureInput) error {
	return s.updateFeature(ctx, l, id, in, true)
}

// UpdateFeature changes the given properties and, when in.Geometry is set, the geometry.
func (s *Store) UpdateFeature(ctx context.Context, l Layer, id int64, in FeatureInput) error {
	return s.updateFeature(ctx, l, id, in, false)
}

func (s *Store) updateFeature(ctx context.Context, l Layer, id int64, in FeatureInput, full bool) error {
	args := []any{id}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	cols, vals, err := l.writeSet(in, full, arg)
	if err != nil {
		return err
	}
	set := []string{"updated_at = now()"}
	for i := range cols {
		set = append(set, cols[i]+" = "+vals[i])
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+l.Table()+" WHERE id = $1 FOR UPDATE)", id).
			Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return geoportal.Errorf(geoportal.ENOTFOUND, "feature %d not found in %s", id, l.Slug)
		}
		before, err := featureRow(ctx, tx, l, id)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE "+l.Table()+" SET "+strings.Join(set, ", ")+" WHERE id = $1", args...); err != nil {
			return err
		}
		if in.Geometry != nil {
			if err := checkStored(ctx, tx, l, id); err != nil {
				return err
			}
		}
		after, err := featureRow(ctx, tx, l, id)
		if err != nil {
			return err
		}
		return auditFeature(ctx, tx, "feature.update", l, id, before, after)
	})
	if err != nil {
		return mapPgError(fmt.Errorf("update feature %s/%d: %w", l.Slug, id, err))
	}
	s.replicas.Wrote(ctx, l.Slug)
	return nil
}

// DeleteFeature removes a feature.
func (s *Store) DeleteFeature(ctx context.Context, l Layer, id int64) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var before json.RawMessage
		err := tx.QueryRow(ctx, "DELETE FROM "+l.Table()+" AS t WHERE t.id = $1 RETURNING "+rowJSON, id).Scan(&before)
		if errors.Is(err, pgx.ErrNoRows) {
			return geoportal.Errorf(geoportal.ENOTFOUND, "feature %d not found in %s", id, l.Slug)
		}
		if err != nil {
			return err
		}
		return auditFeature(ctx, tx, "feature.delete", l, id, before, nil)
	})
	if err != nil {
		return mapPgError(fmt.Errorf("delete feature %s/%d: %w", l.Slug, id, err))
	}
	s.replicas.Wrote(ctx, l.Slug)
	return nil
}
