package cql2

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aktobe/geoportal"
	"github.com/paulmach/orb"
)

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tQuoted // "double-quoted identifier"
	tString
	tNumber
	tPunct
)

type token struct {
	kind tokKind
	text string
	pos  int
}

func errAt(pos int, format string, args ...any) error {
	return geoportal.Errorf(geoportal.EINVALID, "filter: at character %d: "+format, append([]any{pos + 1}, args...)...)
}

func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		r, w := utf8.DecodeRuneInString(src[i:])
		switch {
		case r == utf8.RuneError && w == 1:
			return nil, errAt(i, "invalid UTF-8")
		case unicode.IsSpace(r):
			i += w
		case r == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(src) {
					return nil, errAt(i, "unterminated string literal")
				}
				if src[j] == '\'' {
					if j+1 < len(src) && src[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(src[j])
				j++
			}
			toks = append(toks, token{tString, b.String(), i})
			i = j + 1
		case r == '"':
			j := strings.IndexByte(src[i+1:], '"')
			if j < 0 {
				return nil, errAt(i, "unterminated quoted property name")
			}
			toks = append(toks, token{tQuoted, src[i+1 : i+1+j], i})
			i += j + 2
		case r >= '0' && r <= '9' || r == '.' || (r == '-' || r == '+') && i+1 < len(src) && (src[i+1] >= '0' && src[i+1] <= '9' || src[i+1] == '.'):
			j := i
			if src[j] == '-' || src[j] == '+' {
				j++
			}
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.') {
				j++
			}
			if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
				k := j + 1
				if k < len(src) && (src[k] == '-' || src[k] == '+') {
					k++
				}
				if k < len(src) && src[k] >= '0' && src[k] <= '9' {
					for k < len(src) && src[k] >= '0' && src[k] <= '9' {
						k++
					}
					j = k
				}
			}
			toks = append(toks, token{tNumber, src[i:j], i})
			i = j
		case r == '_' || unicode.IsLetter(r):
			j := i
			for j < len(src) {
				r2, w2 := utf8.DecodeRuneInString(src[j:])
				if r2 == '_' || r2 == '.' || r2 == ':' || unicode.IsLetter(r2) || unicode.IsDigit(r2) {
					j += w2
					continue
				}
				break
			}
			toks = append(toks, token{tIdent, src[i:j], i})
			i = j
		case strings.HasPrefix(src[i:], "<>") || strings.HasPrefix(src[i:], "<=") || strings.HasPrefix(src[i:], ">="):
			toks = append(toks, token{tPunct, src[i : i+2], i})
			i += 2
		case strings.ContainsRune("()=<>,", r):
			toks = append(toks, token{tPunct, string(r), i})
			i++
		default:
			return nil, errAt(i, "unexpected character %q", r)
		}
	}
	return append(toks, token{tEOF, "", len(src)}), nil
}

type parser struct {
	toks     []token
	i        int
	depth    int
	literals int
}

// ParseText parses a filter in the CQL2 text encoding.
func ParseText(src string) (Expr, error) {
	if len(src) > maxLength {
		return nil, geoportal.Errorf(geoportal.EINVALID, "filter: longer than %d bytes", maxLength)
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	e, err := p.orExpr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, errAt(t.pos, "unexpected %q after the end of the expression", t.text)
	}
	return e, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// keyword reports whether the next token is the unquoted keyword kw (case-insensitive).
func (p *parser) keyword(kw string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) acceptKeyword(kw string) bool {
	if p.keyword(kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) punct(s string) bool {
	t := p.peek()
	return t.kind == tPunct && t.text == s
}

func (p *parser) expect(s string) error {
	if !p.punct(s) {
		t := p.peek()
		if t.kind == tEOF {
			return errAt(t.pos, "expected %q but the filter ended", s)
		}
		return errAt(t.pos, "expected %q, found %q", s, t.text)
	}
	p.i++
	return nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return errAt(p.peek().pos, "nested deeper than %d levels", maxDepth)
	}
	return nil
}

func (p *parser) countLiteral() error {
	p.literals++
	if p.literals > maxLiterals {
		return errAt(p.peek().pos, "more than %d literal values", maxLiterals)
	}
	return nil
}

func (p *parser) orExpr() (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	first, err := p.andExpr()
	if err != nil {
		return nil, err
	}
	args := []Expr{first}
	for p.acceptKeyword("or") {
		e, err := p.andExpr()
		if err != nil {
			return nil, err
		}
		args = append(args, e)
	}
	if len(args) == 1 {
		return first, nil
	}
	return Or{Args: args}, nil
}

func (p *parser) andExpr() (Expr, error) {
	first, err := p.notExpr()
	if err != nil {
		return nil, err
	}
	args := []Expr{first}
	for p.acceptKeyword("and") {
		e, err := p.notExpr()
		if err != nil {
			return nil, err
		}
		args = append(args, e)
	}
	if len(args) == 1 {
		return first, nil
	}
	return And{Args: args}, nil
}

func (p *parser) notExpr() (Expr, error) {
	if p.acceptKeyword("not") {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		e, err := p.notExpr()
		if err != nil {
			return nil, err
		}
		return Not{Arg: e}, nil
	}
	return p.primary()
}

func (p *parser) primary() (Expr, error) {
	t := p.peek()
	if p.punct("(") {
		p.i++
		e, err := p.orExpr()
		if err != nil {
			return nil, err
		}
		return e, p.expect(")")
	}
	if t.kind == tIdent && p.toks[p.i+1].kind == tPunct && p.toks[p.i+1].text == "(" {
		name := strings.ToLower(t.text)
		if _, ok := spatialOps[name]; ok {
			p.i += 2
			a, b, err := p.geomPair()
			if err != nil {
				return nil, err
			}
			return Spatial{Op: name, A: a, B: b}, p.expect(")")
		}
		if name == "dwithin" || name == "s_dwithin" {
			p.i += 2
			return p.dwithin()
		}
	}
	if t.kind == tIdent && (strings.EqualFold(t.text, "true") || strings.EqualFold(t.text, "false")) {
		after := p.toks[p.i+1]
		if after.kind == tEOF || after.kind == tPunct && after.text == ")" ||
			after.kind == tIdent && (strings.EqualFold(after.text, "and") || strings.EqualFold(after.text, "or")) {
			p.i++
			return BoolConst{Value: strings.EqualFold(t.text, "true")}, nil
		}
	}
	left, err := p.scalar()
	if err != nil {
		return nil, err
	}
	return p.predicate(left)
}

func (p *parser) predicate(left Operand) (Expr, error) {
	t := p.peek()
	if t.kind == tPunct {
		switch t.text {
		case "=", "<>", "<", ">", "<=", ">=":
			p.i++
			right, err := p.scalar()
			if err != nil {
				return nil, err
			}
			return Compare{Op: t.text, Left: left, Right: right}, nil
		}
	}
	not := p.acceptKeyword("not")
	switch {
	case p.acceptKeyword("like"):
		pat, err := p.scalar()
		if err != nil {
			return nil, err
		}
		return Like{Arg: left, Pattern: pat, Not: not}, nil
	case p.acceptKeyword("between"):
		lo, err := p.scalar()
		if err != nil {
			return nil, err
		}
		if !p.acceptKeyword("and") {
			return nil, errAt(p.peek().pos, "BETWEEN needs AND between its bounds")
		}
		hi, err := p.scalar()
		if err != nil {
			return nil, err
		}
		return Between{Arg: left, Low: lo, High: hi, Not: not}, nil
	case p.acceptKeyword("in"):
		if err := p.expect("("); err != nil {
			return nil, err
		}
		var list []Operand
		for {
			v, err := p.scalar()
			if err != nil {
				return nil, err
			}
			list = append(list, v)
			if p.punct(",") {
				p.i++
				continue
			}
			break
		}
		return In{Arg: left, List: list, Not: not}, p.expect(")")
	case !not && p.acceptKeyword("is"):
		isNot := p.acceptKeyword("not")
		if !p.acceptKeyword("null") {
			return nil, errAt(p.peek().pos, "expected NULL after IS")
		}
		return IsNull{Arg: left, Not: isNot}, nil
	}
	if t.kind == tEOF {
		return nil, errAt(t.pos, "the filter ended where an operator was expected")
	}
	return nil, errAt(t.pos, "expected a comparison operator, LIKE, BETWEEN, IN or IS NULL, found %q", t.text)
}

// scalar parses a property name or a scalar literal.
func (p *parser) scalar() (Operand, error) {
	t := p.next()
	switch t.kind {
	case tQuoted:
		return Property{Name: t.text}, nil
	case tString:
		return Literal{Kind: KindString, Str: t.text}, p.countLiteral()
	case tNumber:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, errAt(t.pos, "bad number %q", t.text)
		}
		return Literal{Kind: KindNumber, Num: f}, p.countLiteral()
	case tIdent:
		switch strings.ToLower(t.text) {
		case "true", "false":
			return Literal{Kind: KindBool, Bool: strings.EqualFold(t.text, "true")}, p.countLiteral()
		case "date", "timestamp":
			if !p.punct("(") {
				break // a property called date
			}
			p.i++
			s := p.next()
			if s.kind != tString {
				return nil, errAt(s.pos, "%s() takes a quoted string", strings.ToUpper(t.text))
			}
			lit, err := temporalLiteral(strings.ToLower(t.text), s.text)
			if err != nil {
				return nil, errAt(s.pos, "%s", err.Error())
			}
			if err := p.countLiteral(); err != nil {
				return nil, err
			}
			return lit, p.expect(")")
		case "and", "or", "not", "like", "between", "in", "is", "null":
			return nil, errAt(t.pos, "expected a property or a value, found keyword %s", strings.ToUpper(t.text))
		}
		if p.punct("(") {
			return nil, errAt(t.pos, "unsupported function %s()", t.text)
		}
		return Property{Name: t.text}, nil
	case tEOF:
		return nil, errAt(t.pos, "the filter ended where a value was expected")
	}
	return nil, errAt(t.pos, "expected a property or a value, found %q", t.text)
}

func temporalLiteral(kind, s string) (Literal, error) {
	if kind == "date" {
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			return Literal{}, geoportal.Errorf(geoportal.EINVALID, "bad date %q (want YYYY-MM-DD)", s)
		}
		return Literal{Kind: KindDate, Time: d}, nil
	}
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return Literal{}, geoportal.Errorf(geoportal.EINVALID, "bad timestamp %q (want RFC 3339, e.g. 2024-05-01T10:00:00Z)", s)
	}
	return Literal{Kind: KindTimestamp, Time: ts}, nil
}

func (p *parser) geomPair() (Operand, Operand, error) {
	a, err := p.geomOperand()
	if err != nil {
		return nil, nil, err
	}
	if err := p.expect(","); err != nil {
		return nil, nil, err
	}
	b, err := p.geomOperand()
	return a, b, err
}

func (p *parser) dwithin() (Expr, error) {
	a, b, err := p.geomPair()
	if err != nil {
		return nil, err
	}
	if err := p.expect(","); err != nil {
		return nil, err
	}
	t := p.next()
	if t.kind != tNumber {
		return nil, errAt(t.pos, "DWITHIN needs a distance number, found %q", t.text)
	}
	d, err := strconv.ParseFloat(t.text, 64)
	if err != nil || d < 0 || math.IsInf(d, 0) || math.IsNaN(d) {
		return nil, errAt(t.pos, "bad DWITHIN distance %q", t.text)
	}
	mult := 1.0
	if p.punct(",") {
		p.i++
		u := p.next()
		m, ok := unitMeters[strings.ToLower(u.text)]
		if u.kind != tIdent || !ok {
			return nil, errAt(u.pos, "unknown DWITHIN unit %q (use meters or kilometers)", u.text)
		}
		mult = m
	}
	m, ok := dwithinMeters(d, mult)
	if !ok {
		return nil, errAt(t.pos, "DWITHIN distance %s is above %d meters (half the Earth's circumference)", t.text, MaxDWithinMeters)
	}
	return DWithin{A: a, B: b, Meters: m}, p.expect(")")
}

// geomOperand parses a property name, a WKT geometry or BBOX(...).
func (p *parser) geomOperand() (Operand, error) {
	t := p.peek()
	if t.kind == tQuoted {
		p.i++
		return Property{Name: t.text}, nil
	}
	if t.kind != tIdent {
		return nil, errAt(t.pos, "expected a geometry or a geometry property, found %q", t.text)
	}
	kw := strings.ToLower(t.text)
	if kw == "bbox" || kw == "envelope" {
		p.i++
		if err := p.expect("("); err != nil {
			return nil, err
		}
		var nums []float64
		for {
			n, err := p.number()
			if err != nil {
				return nil, err
			}
			nums = append(nums, n)
			if !p.punct(",") {
				break
			}
			p.i++
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		b, err := boundOf(nums)
		if err != nil {
			return nil, errAt(t.pos, "%s", geoportal.ErrorMessage(err))
		}
		return GeomLiteral{Geom: b}, p.countLiteral()
	}
	if _, ok := wktTypes[kw]; ok {
		p.i++
		g, err := p.wktBody(kw, 0)
		if err != nil {
			return nil, err
		}
		if err := checkGeometry(g); err != nil {
			return nil, errAt(t.pos, "%s", geoportal.ErrorMessage(err))
		}
		return GeomLiteral{Geom: g}, p.countLiteral()
	}
	p.i++
	return Property{Name: t.text}, nil
}

// boundOf makes an envelope of 4 (w,s,e,n) or 6 (w,s,zmin,e,n,zmax) numbers.
func boundOf(n []float64) (orb.Bound, error) {
	switch len(n) {
	case 4:
		return orb.Bound{Min: orb.Point{n[0], n[1]}, Max: orb.Point{n[2], n[3]}}, nil
	case 6:
		return orb.Bound{Min: orb.Point{n[0], n[1]}, Max: orb.Point{n[3], n[4]}}, nil
	}
	return orb.Bound{}, geoportal.Errorf(geoportal.EINVALID, "a bbox has 4 or 6 numbers, not %d", len(n))
}

var wktTypes = map[string]bool{"point": true, "linestring": true, "polygon": true, "multipoint": true,
	"multilinestring": true, "multipolygon": true, "geometrycollection": true}

func (p *parser) number() (float64, error) {
	t := p.next()
	if t.kind != tNumber {
		return 0, errAt(t.pos, "expected a number, found %q", t.text)
	}
	f, err := strconv.ParseFloat(t.text, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, errAt(t.pos, "bad number %q", t.text)
	}
	return f, nil
}

// coord parses "x y [z [m]]", keeping x and y.
func (p *parser) coord() (orb.Point, error) {
	x, err := p.number()
	if err != nil {
		return orb.Point{}, err
	}
	y, err := p.number()
	if err != nil {
		return orb.Point{}, err
	}
	for i := 0; i < 2 && p.peek().kind == tNumber; i++ {
		p.i++
	}
	if err := p.countLiteral(); err != nil {
		return orb.Point{}, err
	}
	return orb.Point{x, y}, nil
}

func (p *parser) coordList() ([]orb.Point, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	var pts []orb.Point
	for {
		// MULTIPOINT((1 2),(3 4)) wraps each point in parentheses.
		paren := p.punct("(")
		if paren {
			p.i++
		}
		pt, err := p.coord()
		if err != nil {
			return nil, err
		}
		if paren {
			if err := p.expect(")"); err != nil {
				return nil, err
			}
		}
		pts = append(pts, pt)
		if !p.punct(",") {
			break
		}
		p.i++
	}
	return pts, p.expect(")")
}

func (p *parser) ringList() ([][]orb.Point, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	var out [][]orb.Point
	for {
		pts, err := p.coordList()
		if err != nil {
			return nil, err
		}
		out = append(out, pts)
		if !p.punct(",") {
			break
		}
		p.i++
	}
	return out, p.expect(")")
}

func (p *parser) wktBody(kind string, depth int) (orb.Geometry, error) {
	if depth > 8 {
		return nil, errAt(p.peek().pos, "geometry collections nested too deep")
	}
	// Dimension markers: POINT Z (...), POINT ZM (...), POINT M (...).
	if p.keyword("z") || p.keyword("m") || p.keyword("zm") {
		p.i++
	}
	if p.keyword("empty") {
		return nil, errAt(p.peek().pos, "empty geometries are not supported")
	}
	switch kind {
	case "point":
		if err := p.expect("("); err != nil {
			return nil, err
		}
		pt, err := p.coord()
		if err != nil {
			return nil, err
		}
		return pt, p.expect(")")
	case "linestring":
		pts, err := p.coordList()
		return orb.LineString(pts), err
	case "multipoint":
		pts, err := p.coordList()
		return orb.MultiPoint(pts), err
	case "polygon":
		rings, err := p.ringList()
		return toPolygon(rings), err
	case "multilinestring":
		ls, err := p.ringList()
		var m orb.MultiLineString
		for _, l := range ls {
			m = append(m, orb.LineString(l))
		}
		return m, err
	case "multipolygon":
		if err := p.expect("("); err != nil {
			return nil, err
		}
		var mp orb.MultiPolygon
		for {
			rings, err := p.ringList()
			if err != nil {
				return nil, err
			}
			mp = append(mp, toPolygon(rings))
			if !p.punct(",") {
				break
			}
			p.i++
		}
		return mp, p.expect(")")
	case "geometrycollection":
		if err := p.expect("("); err != nil {
			return nil, err
		}
		var c orb.Collection
		for {
			t := p.next()
			k := strings.ToLower(t.text)
			if t.kind != tIdent || !wktTypes[k] {
				return nil, errAt(t.pos, "expected a WKT geometry, found %q", t.text)
			}
			g, err := p.wktBody(k, depth+1)
			if err != nil {
				return nil, err
			}
			c = append(c, g)
			if !p.punct(",") {
				break
			}
			p.i++
		}
		return c, p.expect(")")
	}
	return nil, errAt(p.peek().pos, "unknown geometry type %s", kind)
}

func toPolygon(rings [][]orb.Point) orb.Polygon {
	var poly orb.Polygon
	for _, r := range rings {
		poly = append(poly, orb.Ring(r))
	}
	return poly
}

// checkGeometry refuses geometries PostGIS would reject with an internal-looking error.
func checkGeometry(g orb.Geometry) error {
	bad := func(format string, args ...any) error {
		return geoportal.Errorf(geoportal.EINVALID, format, args...)
	}
	switch g := g.(type) {
	case orb.Point:
		if math.IsNaN(g[0]) || math.IsNaN(g[1]) || math.IsInf(g[0], 0) || math.IsInf(g[1], 0) {
			return bad("coordinates must be finite numbers")
		}
	case orb.MultiPoint:
		if len(g) == 0 {
			return bad("a multipoint needs at least one point")
		}
		for _, p := range g {
			if err := checkGeometry(p); err != nil {
				return err
			}
		}
	case orb.LineString:
		if len(g) < 2 {
			return bad("a linestring needs at least 2 points")
		}
		return checkGeometry(orb.MultiPoint(g))
	case orb.MultiLineString:
		if len(g) == 0 {
			return bad("a multilinestring needs at least one linestring")
		}
		for _, l := range g {
			if err := checkGeometry(l); err != nil {
				return err
			}
		}
	case orb.Polygon:
		if len(g) == 0 {
			return bad("a polygon needs at least one ring")
		}
		for _, r := range g {
			if len(r) < 4 {
				return bad("a polygon ring needs at least 4 points")
			}
			if r[0] != r[len(r)-1] {
				return bad("a polygon ring must end where it starts")
			}
			if err := checkGeometry(orb.MultiPoint(r)); err != nil {
				return err
			}
		}
	case orb.MultiPolygon:
		if len(g) == 0 {
			return bad("a multipolygon needs at least one polygon")
		}
		for _, p := range g {
			if err := checkGeometry(p); err != nil {
				return err
			}
		}
	case orb.Collection:
		if len(g) == 0 {
			return bad("a geometry collection needs at least one geometry")
		}
		for _, x := range g {
			if err := checkGeometry(x); err != nil {
				return err
			}
		}
	case orb.Bound:
		return checkGeometry(orb.MultiPoint{g.Min, g.Max})
	case nil:
		return bad("missing geometry")
	default:
		return bad("unsupported geometry type %T", g)
	}
	return nil
}
