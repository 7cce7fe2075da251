package cql2

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aktobe/geoportal"
	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Schema says which properties a filter may name, with their attribute types (text, integer,
// bigint, double, boolean, date, timestamptz, or geometry for the geometry property).
type Schema struct {
	Types map[string]string
	// GeometryColumn is the column that properties of type geometry stand for.
	GeometryColumn string
}

// Options tell how literals are read.
type Options struct {
	// SRID of the geometry literals (filter-crs); 0 means 4326.
	SRID int
	// SwapXY is set when literals are in latitude, longitude order (EPSG:4326 proper).
	SwapXY bool
	// FirstArg is the number of parameters already used by the surrounding query: the
	// fragment's placeholders start at $FirstArg+1.
	FirstArg int
}

// Compile turns e into a SQL boolean expression over the layer's table and its parameters.
func Compile(e Expr, s Schema, o Options) (string, []any, error) {
	if o.SRID == 0 {
		o.SRID = 4326
	}
	c := &compiler{s: s, o: o}
	if err := c.expr(e); err != nil {
		return "", nil, err
	}
	return c.b.String(), c.args, nil
}

type compiler struct {
	s    Schema
	o    Options
	b    strings.Builder
	args []any
}

func compileErr(format string, args ...any) error {
	return geoportal.Errorf(geoportal.EINVALID, "filter: "+format, args...)
}

func (c *compiler) param(v any, cast string) string {
	c.args = append(c.args, v)
	return fmt.Sprintf("$%d::%s", c.o.FirstArg+len(c.args), cast)
}

func (c *compiler) expr(e Expr) error {
	switch e := e.(type) {
	case And:
		return c.list(e.Args, " AND ")
	case Or:
		return c.list(e.Args, " OR ")
	case Not:
		c.b.WriteString("(NOT ")
		if err := c.expr(e.Arg); err != nil {
			return err
		}
		c.b.WriteString(")")
	case BoolConst:
		if e.Value {
			c.b.WriteString("TRUE")
		} else {
			c.b.WriteString("FALSE")
		}
	case Compare:
		l, lc, err := c.scalar(e.Left)
		if err != nil {
			return err
		}
		r, rc, err := c.scalar(e.Right)
		if err != nil {
			return err
		}
		if lc != rc {
			return compileErr("cannot compare %s with %s", describeOperand(e.Left, lc), describeOperand(e.Right, rc))
		}
		fmt.Fprintf(&c.b, "(%s %s %s)", l, e.Op, r)
	case Like:
		l, lc, err := c.scalar(e.Arg)
		if err != nil {
			return err
		}
		p, pc, err := c.scalar(e.Pattern)
		if err != nil {
			return err
		}
		if lc != "string" || pc != "string" {
			return compileErr("LIKE needs text on both sides, not %s and %s", describeOperand(e.Arg, lc), describeOperand(e.Pattern, pc))
		}
		fmt.Fprintf(&c.b, "(%s %sLIKE %s)", l, notIf(e.Not), p)
	case Between:
		v, vc, err := c.scalar(e.Arg)
		if err != nil {
			return err
		}
		lo, loc, err := c.scalar(e.Low)
		if err != nil {
			return err
		}
		hi, hic, err := c.scalar(e.High)
		if err != nil {
			return err
		}
		if vc == "boolean" || loc != vc || hic != vc {
			return compileErr("BETWEEN needs numbers, texts or times of one kind, not %s, %s and %s",
				describeOperand(e.Arg, vc), describeOperand(e.Low, loc), describeOperand(e.High, hic))
		}
		fmt.Fprintf(&c.b, "(%s %sBETWEEN %s AND %s)", v, notIf(e.Not), lo, hi)
	case In:
		v, vc, err := c.scalar(e.Arg)
		if err != nil {
			return err
		}
		if len(e.List) == 0 {
			return compileErr("IN needs at least one value")
		}
		var items []string
		for _, x := range e.List {
			if _, ok := x.(Literal); !ok {
				return compileErr("IN takes a list of literal values")
			}
			s, xc, err := c.scalar(x)
			if err != nil {
				return err
			}
			if xc != vc {
				return compileErr("IN list mixes %s with %s", describeOperand(e.Arg, vc), describeOperand(x, xc))
			}
			items = append(items, s)
		}
		fmt.Fprintf(&c.b, "(%s %sIN (%s))", v, notIf(e.Not), strings.Join(items, ", "))
	case IsNull:
		v, _, err := c.operand(e.Arg)
		if err != nil {
			return err
		}
		fmt.Fprintf(&c.b, "(%s IS %sNULL)", v, notIf(e.Not))
	case Spatial:
		a, err := c.geom(e.A)
		if err != nil {
			return err
		}
		b, err := c.geom(e.B)
		if err != nil {
			return err
		}
		fmt.Fprintf(&c.b, "%s(%s, %s)", spatialOps[e.Op], a, b)
	case DWithin:
		a, err := c.geom(e.A)
		if err != nil {
			return err
		}
		b, err := c.geom(e.B)
		if err != nil {
			return err
		}
		d := c.param(e.Meters, "double precision")
		// Distances are on the ellipsoid (geography); the && pre-filter on a slightly larger
		// geographic buffer of the literal lets the GiST index on the geometry column work.
		_, aLit := e.A.(GeomLiteral)
		_, bLit := e.B.(GeomLiteral)
		switch {
		case e.Meters > maxPrefilterMeters:
			c.b.WriteString("(") // a continent or more: no buffer, and the index would not help
		case aLit && !bLit:
			fmt.Fprintf(&c.b, "(%s && ST_Envelope(ST_Buffer(%s::geography, %s * 1.01 + 1)::geometry) AND ", b, a, d)
		case bLit && !aLit:
			fmt.Fprintf(&c.b, "(%s && ST_Envelope(ST_Buffer(%s::geography, %s * 1.01 + 1)::geometry) AND ", a, b, d)
		default:
			c.b.WriteString("(")
		}
		fmt.Fprintf(&c.b, "ST_DWithin(%s::geography, %s::geography, %s))", a, b, d)
	default:
		return compileErr("unsupported expression %T", e)
	}
	return nil
}

func notIf(not bool) string {
	if not {
		return "NOT "
	}
	return ""
}

func (c *compiler) list(es []Expr, sep string) error {
	c.b.WriteString("(")
	for i, x := range es {
		if i > 0 {
			c.b.WriteString(sep)
		}
		if err := c.expr(x); err != nil {
			return err
		}
	}
	c.b.WriteString(")")
	return nil
}

// classOf groups attribute types into what may be compared with what.
func classOf(typ string) string {
	switch typ {
	case "text":
		return "string"
	case "integer", "bigint", "double":
		return "number"
	case "boolean":
		return "boolean"
	case "date", "timestamptz":
		return "temporal"
	case "geometry":
		return "geometry"
	}
	return ""
}

func describeOperand(o Operand, class string) string {
	switch o := o.(type) {
	case Property:
		return fmt.Sprintf("%s property %q", class, o.Name)
	case Literal:
		return fmt.Sprintf("a %s value", class)
	}
	return "a geometry"
}

// operand returns the SQL and the class of any operand.
func (c *compiler) operand(o Operand) (string, string, error) {
	switch o := o.(type) {
	case Property:
		typ, ok := c.s.Types[o.Name]
		if !ok {
			return "", "", compileErr("unknown property %q (see the collection's queryables)", o.Name)
		}
		class := classOf(typ)
		if class == "" {
			return "", "", compileErr("property %q of type %s cannot be filtered on", o.Name, typ)
		}
		if class == "geometry" {
			return pgx.Identifier{c.s.GeometryColumn}.Sanitize(), class, nil
		}
		return pgx.Identifier{o.Name}.Sanitize(), class, nil
	case Literal:
		switch o.Kind {
		case KindString:
			return c.param(o.Str, "text"), "string", nil
		case KindNumber:
			return c.param(o.Num, "double precision"), "number", nil
		case KindBool:
			return c.param(o.Bool, "boolean"), "boolean", nil
		case KindDate:
			return c.param(o.Time, "date"), "temporal", nil
		case KindTimestamp:
			return c.param(o.Time, "timestamptz"), "temporal", nil
		}
	case GeomLiteral:
		s, err := c.geomLiteral(o.Geom)
		return s, "geometry", err
	}
	return "", "", compileErr("unsupported operand %T", o)
}

func (c *compiler) scalar(o Operand) (string, string, error) {
	s, class, err := c.operand(o)
	if err != nil {
		return "", "", err
	}
	if class == "geometry" {
		return "", "", compileErr("%s cannot be used in a scalar comparison; use a spatial predicate such as S_INTERSECTS", describeOperand(o, class))
	}
	return s, class, nil
}

func (c *compiler) geom(o Operand) (string, error) {
	s, class, err := c.operand(o)
	if err != nil {
		return "", err
	}
	if class != "geometry" {
		return "", compileErr("spatial predicates take geometries, not %s", describeOperand(o, class))
	}
	return s, nil
}

func (c *compiler) geomLiteral(g orb.Geometry) (string, error) {
	if b, ok := g.(orb.Bound); ok {
		g = b.ToPolygon()
	}
	if c.o.SwapXY {
		g = swapXY(g)
	}
	raw, err := json.Marshal(geojson.NewGeometry(g))
	if err != nil {
		return "", compileErr("geometry: %v", err)
	}
	lit := "ST_GeomFromGeoJSON(" + c.param(string(raw), "text") + ")"
	if c.o.SRID != 4326 {
		lit = fmt.Sprintf("ST_Transform(ST_SetSRID(%s, %s), 4326)", lit, c.param(c.o.SRID, "integer"))
	}
	// A scalar sub-select is evaluated once per query: under a generic plan a bare function of
	// parameters would parse the GeoJSON again for every row, and PostGIS's prepared-geometry
	// cache needs the same value on every call.
	return "(SELECT " + lit + ")", nil
}

// swapXY returns a copy of g with x and y exchanged.
func swapXY(g orb.Geometry) orb.Geometry {
	sw := func(pts []orb.Point) []orb.Point {
		out := make([]orb.Point, len(pts))
		for i, p := range pts {
			out[i] = orb.Point{p[1], p[0]}
		}
		return out
	}
	switch g := g.(type) {
	case orb.Point:
		return orb.Point{g[1], g[0]}
	case orb.MultiPoint:
		return orb.MultiPoint(sw(g))
	case orb.LineString:
		return orb.LineString(sw(g))
	case orb.Ring:
		return orb.Ring(sw(g))
	case orb.MultiLineString:
		out := make(orb.MultiLineString, len(g))
		for i, l := range g {
			out[i] = orb.LineString(sw(l))
		}
		return out
	case orb.Polygon:
		out := make(orb.Polygon, len(g))
		for i, r := range g {
			out[i] = orb.Ring(sw(r))
		}
		return out
	case orb.MultiPolygon:
		out := make(orb.MultiPolygon, len(g))
		for i, p := range g {
			out[i] = swapXY(p).(orb.Polygon)
		}
		return out
	case orb.Collection:
		out := make(orb.Collection, len(g))
		for i, x := range g {
			out[i] = swapXY(x)
		}
		return out
	}
	return g
}

// SwapXY returns a copy of g with x and y exchanged (for EPSG:4326's latitude-first order).
func SwapXY(g orb.Geometry) orb.Geometry { return swapXY(g) }
