// Package cql2 parses OGC Common Query Language (CQL2) filters, in the text and the JSON encoding,
// and compiles them into a parameterised SQL WHERE fragment over a layer's typed table.
//
//	e, err := cql2.ParseText(`status = 'installed' AND S_INTERSECTS(geom, BBOX(57.1,50.2,57.3,50.4))`)
//	sql, args, err := cql2.Compile(e, schema, cql2.Options{SRID: 4326})
//
// Property names are checked against the schema and quoted with pgx.Identifier; every literal,
// including geometries, travels as a $n parameter, so no part of a filter reaches SQL as text.
package cql2

import (
	"math"
	"time"

	"github.com/paulmach/orb"
)

// Expr is a boolean CQL2 expression.
type Expr interface{ isExpr() }

// Operand is a value inside a predicate: a Property, a Literal or a GeomLiteral.
type Operand interface{ isOperand() }

// And is true when every argument is.
type And struct{ Args []Expr }

// Or is true when any argument is.
type Or struct{ Args []Expr }

// Not negates its argument.
type Not struct{ Arg Expr }

// BoolConst is the predicate TRUE or FALSE.
type BoolConst struct{ Value bool }

// Compare is a binary comparison; Op is one of = <> < > <= >=.
type Compare struct {
	Op          string
	Left, Right Operand
}

// Like matches a string against a pattern with % and _ wildcards (escape \).
type Like struct {
	Arg, Pattern Operand
	Not          bool
}

// In tests membership in a list of literals.
type In struct {
	Arg  Operand
	List []Operand
	Not  bool
}

// Between tests Low <= Arg <= High.
type Between struct {
	Arg, Low, High Operand
	Not            bool
}

// IsNull tests for a missing value.
type IsNull struct {
	Arg Operand
	Not bool
}

// Spatial is one of the S_* spatial predicates (Op in lower case, e.g. "s_intersects").
type Spatial struct {
	Op   string
	A, B Operand
}

// DWithin is the DWITHIN(a, b, distance, units) extension: true when a and b are within Meters
// of each other on the ellipsoid.
type DWithin struct {
	A, B   Operand
	Meters float64
}

// Property names a queryable of the collection.
type Property struct{ Name string }

// LiteralKind is the type of a scalar literal.
type LiteralKind int

// Kinds of literals.
const (
	KindString LiteralKind = iota
	KindNumber
	KindBool
	KindDate
	KindTimestamp
)

// Literal is a scalar value. Exactly the field for Kind is set.
type Literal struct {
	Kind LiteralKind
	Str  string
	Num  float64
	Bool bool
	Time time.Time
}

// GeomLiteral is a geometry given in the filter (WKT, GeoJSON or BBOX), in the filter CRS.
type GeomLiteral struct{ Geom orb.Geometry }

func (And) isExpr()       {}
func (Or) isExpr()        {}
func (Not) isExpr()       {}
func (BoolConst) isExpr() {}
func (Compare) isExpr()   {}
func (Like) isExpr()      {}
func (In) isExpr()        {}
func (Between) isExpr()   {}
func (IsNull) isExpr()    {}
func (Spatial) isExpr()   {}
func (DWithin) isExpr()   {}

func (Property) isOperand()    {}
func (Literal) isOperand()     {}
func (GeomLiteral) isOperand() {}

// spatialOps maps the CQL2 spatial predicates to their PostGIS functions.
var spatialOps = map[string]string{
	"s_intersects": "ST_Intersects",
	"s_within":     "ST_Within",
	"s_contains":   "ST_Contains",
	"s_disjoint":   "ST_Disjoint",
	"s_equals":     "ST_Equals",
	"s_overlaps":   "ST_Overlaps",
	"s_touches":    "ST_Touches",
	"s_crosses":    "ST_Crosses",
}

// Limits that keep a hostile filter from costing much before it is refused.
const (
	maxDepth    = 64
	maxLiterals = 1000
	maxLength   = 256 << 10
)

// MaxDWithinMeters bounds a DWITHIN distance: half the Earth's equatorial circumference
// (π × 6,378,137 m), past which every point is within it. A longer distance is refused.
const MaxDWithinMeters = 20_037_509

// maxPrefilterMeters is the longest DWITHIN distance compiled with the index pre-filter (a
// geographic buffer of the literal); PostGIS cannot buffer a geography by much more.
const maxPrefilterMeters = 5_000_000

// dwithinMeters converts a DWITHIN distance to meters, or says why it is refused.
func dwithinMeters(d, mult float64) (float64, bool) {
	m := d * mult
	return m, !(math.IsNaN(m) || m < 0 || m > MaxDWithinMeters)
}

// unitMeters converts DWITHIN distance units to meters.
var unitMeters = map[string]float64{
	"meters": 1, "meter": 1, "metres": 1, "metre": 1, "m": 1,
	"kilometers": 1000, "kilometer": 1000, "kilometres": 1000, "kilometre": 1000, "km": 1000,
	"feet": 0.3048, "ft": 0.3048, "miles": 1609.344, "mi": 1609.344,
}
