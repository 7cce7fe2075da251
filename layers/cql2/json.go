package cql2

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"

	"github.com/aktobe/geoportal"
)

func jsonErr(format string, args ...any) error {
	return geoportal.Errorf(geoportal.EINVALID, "filter (cql2-json): "+format, args...)
}

// ParseJSON parses a filter in the CQL2 JSON encoding.
func ParseJSON(src []byte) (Expr, error) {
	if len(src) > maxLength {
		return nil, geoportal.Errorf(geoportal.EINVALID, "filter: longer than %d bytes", maxLength)
	}
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, jsonErr("not JSON: %v", err)
	}
	if dec.More() {
		return nil, jsonErr("trailing data after the expression")
	}
	p := &jsonParser{}
	return p.expr(v, 0)
}

type jsonParser struct{ literals int }

func (p *jsonParser) count() error {
	p.literals++
	if p.literals > maxLiterals {
		return jsonErr("more than %d literal values", maxLiterals)
	}
	return nil
}

func (p *jsonParser) expr(v any, depth int) (Expr, error) {
	if depth > maxDepth {
		return nil, jsonErr("nested deeper than %d levels", maxDepth)
	}
	if b, ok := v.(bool); ok {
		return BoolConst{Value: b}, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, jsonErr("expected an object with \"op\" and \"args\", found %s", describe(v))
	}
	op, ok := obj["op"].(string)
	if !ok {
		return nil, jsonErr("expression without a string \"op\"")
	}
	args, ok := obj["args"].([]any)
	if !ok {
		return nil, jsonErr("operator %q without an \"args\" array", op)
	}
	nargs := func(n int) error {
		if len(args) != n {
			return jsonErr("operator %q takes %d arguments, not %d", op, n, len(args))
		}
		return nil
	}
	lop := strings.ToLower(op)
	switch lop {
	case "and", "or":
		if len(args) < 2 {
			return nil, jsonErr("operator %q takes at least 2 arguments", op)
		}
		var es []Expr
		for _, a := range args {
			e, err := p.expr(a, depth+1)
			if err != nil {
				return nil, err
			}
			es = append(es, e)
		}
		if lop == "and" {
			return And{Args: es}, nil
		}
		return Or{Args: es}, nil
	case "not":
		if err := nargs(1); err != nil {
			return nil, err
		}
		e, err := p.expr(args[0], depth+1)
		return Not{Arg: e}, err
	case "=", "<>", "<", ">", "<=", ">=":
		if err := nargs(2); err != nil {
			return nil, err
		}
		a, b, err := p.scalars(args[0], args[1])
		return Compare{Op: lop, Left: a, Right: b}, err
	case "like":
		if err := nargs(2); err != nil {
			return nil, err
		}
		a, b, err := p.scalars(args[0], args[1])
		return Like{Arg: a, Pattern: b}, err
	case "between":
		if err := nargs(3); err != nil {
			return nil, err
		}
		a, lo, err := p.scalars(args[0], args[1])
		if err != nil {
			return nil, err
		}
		hi, err := p.scalar(args[2])
		return Between{Arg: a, Low: lo, High: hi}, err
	case "in":
		if err := nargs(2); err != nil {
			return nil, err
		}
		a, err := p.scalar(args[0])
		if err != nil {
			return nil, err
		}
		list, ok := args[1].([]any)
		if !ok || len(list) == 0 {
			return nil, jsonErr("the second argument of \"in\" must be a non-empty array")
		}
		var ops []Operand
		for _, x := range list {
			o, err := p.scalar(x)
			if err != nil {
				return nil, err
			}
			ops = append(ops, o)
		}
		return In{Arg: a, List: ops}, nil
	case "isnull":
		if err := nargs(1); err != nil {
			return nil, err
		}
		a, err := p.scalar(args[0])
		return IsNull{Arg: a}, err
	case "dwithin", "s_dwithin":
		if len(args) != 3 && len(args) != 4 {
			return nil, jsonErr("operator %q takes 3 or 4 arguments (geometry, geometry, distance[, units])", op)
		}
		a, b, err := p.geoms(args[0], args[1])
		if err != nil {
			return nil, err
		}
		n, ok := args[2].(json.Number)
		d, ferr := n.Float64()
		if !ok || ferr != nil || d < 0 || math.IsInf(d, 0) {
			return nil, jsonErr("the distance of %q must be a non-negative number", op)
		}
		mult := 1.0
		if len(args) == 4 {
			u, _ := args[3].(string)
			m, ok := unitMeters[strings.ToLower(u)]
			if !ok {
				return nil, jsonErr("unknown %s unit %q (use meters or kilometers)", op, u)
			}
			mult = m
		}
		m, ok := dwithinMeters(d, mult)
		if !ok {
			return nil, jsonErr("the DWITHIN distance of %q, %s, is above %d meters (half the Earth's circumference)", op, n, MaxDWithinMeters)
		}
		return DWithin{A: a, B: b, Meters: m}, nil
	}
	if _, ok := spatialOps[lop]; ok {
		if err := nargs(2); err != nil {
			return nil, err
		}
		a, b, err := p.geoms(args[0], args[1])
		return Spatial{Op: lop, A: a, B: b}, err
	}
	return nil, jsonErr("unsupported operator %q", op)
}

func (p *jsonParser) scalars(a, b any) (Operand, Operand, error) {
	x, err := p.scalar(a)
	if err != nil {
		return nil, nil, err
	}
	y, err := p.scalar(b)
	return x, y, err
}

func (p *jsonParser) scalar(v any) (Operand, error) {
	switch v := v.(type) {
	case string:
		return Literal{Kind: KindString, Str: v}, p.count()
	case json.Number:
		f, err := v.Float64()
		if err != nil || math.IsInf(f, 0) {
			return nil, jsonErr("bad number %s", v)
		}
		return Literal{Kind: KindNumber, Num: f}, p.count()
	case bool:
		return Literal{Kind: KindBool, Bool: v}, p.count()
	case map[string]any:
		if name, ok := v["property"].(string); ok && len(v) == 1 {
			return Property{Name: name}, nil
		}
		for _, k := range []string{"date", "timestamp"} {
			if s, ok := v[k].(string); ok && len(v) == 1 {
				lit, err := temporalLiteral(k, s)
				if err != nil {
					return nil, jsonErr("%s", geoportal.ErrorMessage(err))
				}
				return lit, p.count()
			}
		}
		if _, ok := v["op"]; ok {
			return nil, jsonErr("functions and nested operators are not supported as values (op %v)", v["op"])
		}
	}
	return nil, jsonErr("expected a property, string, number, boolean, date or timestamp, found %s", describe(v))
}

func (p *jsonParser) geoms(a, b any) (Operand, Operand, error) {
	x, err := p.geom(a)
	if err != nil {
		return nil, nil, err
	}
	y, err := p.geom(b)
	return x, y, err
}

func (p *jsonParser) geom(v any) (Operand, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, jsonErr("expected a geometry, a bbox or a property, found %s", describe(v))
	}
	if name, ok := obj["property"].(string); ok && len(obj) == 1 {
		return Property{Name: name}, nil
	}
	if bb, ok := obj["bbox"].([]any); ok && len(obj) == 1 {
		var nums []float64
		for _, x := range bb {
			n, ok := x.(json.Number)
			f, err := n.Float64()
			if !ok || err != nil || math.IsInf(f, 0) {
				return nil, jsonErr("bbox values must be numbers")
			}
			nums = append(nums, f)
		}
		b, err := boundOf(nums)
		if err != nil {
			return nil, jsonErr("%s", geoportal.ErrorMessage(err))
		}
		return GeomLiteral{Geom: b}, p.count()
	}
	if _, ok := obj["type"].(string); ok {
		raw, err := json.Marshal(obj)
		if err != nil {
			return nil, jsonErr("geometry: %v", err)
		}
		g, err := UnmarshalGeometry(raw)
		if err != nil {
			return nil, jsonErr("%s", geoportal.ErrorMessage(err))
		}
		return GeomLiteral{Geom: g}, p.count()
	}
	return nil, jsonErr("expected a geometry, a bbox or a property")
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	}
	return "an object"
}
