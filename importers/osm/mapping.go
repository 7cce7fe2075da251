package osm

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

// The mapping file says which OSM objects go into which layer and how their tags become the
// layer's attributes. It is a plain text file of blocks (docs/osm.md):
//
//	# a comment
//	[schools]                                  the layer (a catalog slug)
//	from    = node way relation                which objects: node, way, relation
//	match   = amenity=school|kindergarten      tag conditions joined by &; several match lines: any
//	address = address()                        attribute = expression
//
// A layer may have several blocks (each with its own match and attributes); the first block
// that matches an object decides its attributes. Conditions: key=v1|v2, key=* (present),
// key!=v1|v2, !key (absent). Expressions: a tag key (its value), "a literal", number(key),
// int(key), yes(key) (true for yes/true/1, false for no/false/0), direction(key) (degrees,
// from a number or a compass point such as NE), address() (addr:street and
// addr:housenumber), keys(prefix) (the keys prefix:X=yes, as "X, Y"), residents(key) (the
// building's floor area times the levels in key, 25 m² a resident, residential buildings only).
// Every layer also gets, when it has such attributes, name and name_kk/name_ru/name_en from the
// name tags, osm_id and the object's tags as JSON, unless a block sets them.

//go:embed default.map
var defaultMapping string

// Kinds of OSM objects a rule takes.
const (
	KindNode = 1 << iota
	KindWay
	KindRelation
)

// Mapping is a parsed mapping file.
type Mapping struct {
	File  string
	Rules []*Rule
}

// Rule is one block of the mapping file.
type Rule struct {
	Layer string
	Line  int // where the block starts, for messages
	Kinds int
	Match [][]Cond // any of these, each all of its conditions
	Set   []Assign
}

// Cond is one tag condition.
type Cond struct {
	Key    string
	Values []string // empty: any value
	Negate bool     // != or !key
}

// Assign sets one attribute from an expression.
type Assign struct {
	Attr string
	Line int
	Fn   string // "" (the tag's value), "literal", number, int, yes, direction, address, keys, residents
	Arg  string
}

// Default returns the mapping built into the program (importers/osm/default.map).
func Default() *Mapping {
	m, err := Parse(strings.NewReader(defaultMapping), "default.map")
	if err != nil {
		panic("osm: the built-in mapping does not parse: " + err.Error())
	}
	return m
}

// DefaultText is the text of the built-in mapping, to start one's own from.
func DefaultText() string { return defaultMapping }

// LoadMapping reads a mapping file.
func LoadMapping(path string) (*Mapping, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("mapping: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

var functions = map[string]bool{"number": true, "int": true, "yes": true, "direction": true, "address": true,
	"keys": true, "residents": true}

// Parse reads a mapping; errors name the file and line.
func Parse(r io.Reader, name string) (*Mapping, error) {
	m := &Mapping{File: name}
	sc := bufio.NewScanner(r)
	n := 0
	var cur *Rule
	bad := func(format string, args ...any) error {
		return fmt.Errorf("mapping %s:%d: %s", name, n, fmt.Sprintf(format, args...))
	}
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.Index(line, "#"); i >= 0 && !inQuotes(line, i) {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "[") {
			if !strings.HasSuffix(line, "]") {
				return nil, bad("a block starts with [layer]")
			}
			slug := strings.TrimSpace(line[1 : len(line)-1])
			if !validWord(slug) {
				return nil, bad("%q is not a layer name", slug)
			}
			cur = &Rule{Layer: slug, Line: n, Kinds: KindNode | KindWay | KindRelation}
			m.Rules = append(m.Rules, cur)
			continue
		}
		if cur == nil {
			return nil, bad("%q before the first [layer]", line)
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, bad("want key = value, got %q", line)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "from":
			cur.Kinds = 0
			for _, w := range strings.Fields(v) {
				switch w {
				case "node":
					cur.Kinds |= KindNode
				case "way":
					cur.Kinds |= KindWay
				case "relation":
					cur.Kinds |= KindRelation
				default:
					return nil, bad("from: %q is not node, way or relation", w)
				}
			}
			if cur.Kinds == 0 {
				return nil, bad("from: name node, way and/or relation")
			}
		case "match":
			conds, err := parseConds(v)
			if err != nil {
				return nil, bad("match: %v", err)
			}
			cur.Match = append(cur.Match, conds)
		default:
			if !validWord(k) {
				return nil, bad("%q is not an attribute name", k)
			}
			a, err := parseExpr(v)
			if err != nil {
				return nil, bad("%s: %v", k, err)
			}
			a.Attr, a.Line = k, n
			cur.Set = append(cur.Set, a)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("mapping %s: %w", name, err)
	}
	for _, r := range m.Rules {
		if len(r.Match) == 0 {
			return nil, fmt.Errorf("mapping %s:%d: layer %s has no match line", name, r.Line, r.Layer)
		}
	}
	if len(m.Rules) == 0 {
		return nil, fmt.Errorf("mapping %s: no [layer] block", name)
	}
	return m, nil
}

func inQuotes(s string, i int) bool { return strings.Count(s[:i], `"`)%2 == 1 }

func validWord(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func validKey(s string) bool {
	return s != "" && !strings.ContainsAny(s, "=!&|\"() \t*")
}

func parseConds(s string) ([]Cond, error) {
	var out []Cond
	for _, part := range strings.Split(s, "&") {
		part = strings.TrimSpace(part)
		var c Cond
		switch {
		case strings.HasPrefix(part, "!") && !strings.Contains(part, "="):
			c = Cond{Key: strings.TrimSpace(part[1:]), Negate: true}
		case strings.Contains(part, "!="):
			k, v, _ := strings.Cut(part, "!=")
			c = Cond{Key: strings.TrimSpace(k), Values: strings.Split(strings.TrimSpace(v), "|"), Negate: true}
		case strings.Contains(part, "="):
			k, v, _ := strings.Cut(part, "=")
			c = Cond{Key: strings.TrimSpace(k)}
			if v = strings.TrimSpace(v); v != "*" {
				c.Values = strings.Split(v, "|")
			}
		default:
			return nil, fmt.Errorf("condition %q is not key=value, key=*, key!=value or !key", part)
		}
		if !validKey(c.Key) {
			return nil, fmt.Errorf("condition %q: bad tag key %q", part, c.Key)
		}
		for _, v := range c.Values {
			if v == "" || v == "*" || strings.ContainsAny(v, "=!&") {
				return nil, fmt.Errorf("condition %q: bad value %q", part, v)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

func parseExpr(s string) (Assign, error) {
	if strings.HasPrefix(s, `"`) {
		if len(s) < 2 || !strings.HasSuffix(s, `"`) || strings.Count(s, `"`) != 2 {
			return Assign{}, fmt.Errorf("unterminated literal %s", s)
		}
		return Assign{Fn: "literal", Arg: s[1 : len(s)-1]}, nil
	}
	if i := strings.Index(s, "("); i >= 0 {
		if !strings.HasSuffix(s, ")") {
			return Assign{}, fmt.Errorf("%q: want function(key)", s)
		}
		fn, arg := strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1:len(s)-1])
		if !functions[fn] {
			return Assign{}, fmt.Errorf("unknown function %s (want number, int, yes, direction, address, keys or residents)", fn)
		}
		if fn != "address" && !validKey(arg) {
			return Assign{}, fmt.Errorf("%s(%s): bad tag key", fn, arg)
		}
		return Assign{Fn: fn, Arg: arg}, nil
	}
	if !validKey(s) {
		return Assign{}, fmt.Errorf("%q is not a tag key, a \"literal\" or function(key)", s)
	}
	return Assign{Arg: s}, nil
}

// Target is what the mapping needs to know of a layer of the catalog.
type Target struct {
	Slug         string
	GeometryType string
	Attributes   map[string]string // name → type (text, integer, bigint, double, boolean, jsonb…)
}

// Check verifies the mapping against the catalog: every layer exists and takes OSM data, every
// attribute set exists.
func (m *Mapping) Check(targets map[string]Target) error {
	for _, r := range m.Rules {
		t, ok := targets[r.Layer]
		if !ok {
			return fmt.Errorf("mapping %s:%d: layer %s is not in the catalog", m.File, r.Line, r.Layer)
		}
		if _, ok := t.Attributes["osm_id"]; !ok {
			return fmt.Errorf("mapping %s:%d: layer %s has no osm_id attribute to key OSM objects on", m.File, r.Line, r.Layer)
		}
		for _, a := range r.Set {
			if _, ok := t.Attributes[a.Attr]; !ok {
				return fmt.Errorf("mapping %s:%d: layer %s has no attribute %s", m.File, a.Line, r.Layer, a.Attr)
			}
		}
	}
	return nil
}

// Layers returns the layers the mapping fills, sorted.
func (m *Mapping) Layers() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range m.Rules {
		if !seen[r.Layer] {
			seen[r.Layer] = true
			out = append(out, r.Layer)
		}
	}
	sort.Strings(out)
	return out
}

// Tags is an object's tags.
type Tags map[string]string

func (c Cond) holds(t Tags) bool {
	v, ok := t[c.Key]
	in := ok
	if ok && len(c.Values) > 0 {
		in = false
		for _, w := range c.Values {
			if v == w {
				in = true
				break
			}
		}
	}
	return in != c.Negate
}

// Matches reports whether the rule takes an object of kind with tags t.
func (r *Rule) Matches(kind int, t Tags) bool {
	if r.Kinds&kind == 0 {
		return false
	}
	for _, all := range r.Match {
		ok := true
		for _, c := range all {
			if !c.holds(t) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// value evaluates an expression on tags; areaM2 is the object's area (for residents).
func (a Assign) value(t Tags, areaM2 float64) any {
	switch a.Fn {
	case "literal":
		return a.Arg
	case "":
		if v, ok := t[a.Arg]; ok {
			return v
		}
		return nil
	case "number":
		return number(t[a.Arg])
	case "int":
		if f, ok := number(t[a.Arg]).(float64); ok && f == math.Trunc(f) && math.Abs(f) < 2e9 {
			return int64(f)
		}
		return nil
	case "yes":
		switch strings.ToLower(t[a.Arg]) {
		case "yes", "true", "1":
			return true
		case "no", "false", "0":
			return false
		}
		return nil
	case "direction":
		return direction(t[a.Arg])
	case "address":
		street, house := t["addr:street"], t["addr:housenumber"]
		switch {
		case street != "" && house != "":
			return street + ", " + house
		case street != "":
			return street
		case t["addr:full"] != "":
			return t["addr:full"]
		}
		return nil
	case "keys":
		var ks []string
		for k, v := range t {
			if rest, ok := strings.CutPrefix(k, a.Arg+":"); ok && v == "yes" {
				ks = append(ks, rest)
			}
		}
		if len(ks) == 0 {
			return nil
		}
		sort.Strings(ks)
		return strings.Join(ks, ", ")
	case "residents":
		if !residential[t["building"]] || areaM2 <= 0 {
			return nil
		}
		levels := 1.0
		if f, ok := number(t[a.Arg]).(float64); ok && f >= 1 && f < 200 {
			levels = math.Round(f)
		}
		return int64(math.Round(areaM2 * levels / 25))
	}
	return nil
}

// residential are the building values people live in.
var residential = map[string]bool{"apartments": true, "residential": true, "house": true, "detached": true,
	"semidetached_house": true, "terrace": true, "dormitory": true, "bungalow": true}

// number reads "12", "12.5", "12,5", "5 m", "8%"; nil when it is not a number.
func number(s string) any {
	s = strings.TrimSpace(s)
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(s, "%"), " m"))
	s = strings.TrimSuffix(s, "m")
	if s == "" {
		return nil
	}
	f, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return f
}

var compass = map[string]float64{"N": 0, "NNE": 22.5, "NE": 45, "ENE": 67.5, "E": 90, "ESE": 112.5, "SE": 135,
	"SSE": 157.5, "S": 180, "SSW": 202.5, "SW": 225, "WSW": 247.5, "W": 270, "WNW": 292.5, "NW": 315, "NNW": 337.5}

func direction(s string) any {
	s = strings.TrimSpace(s)
	if d, ok := compass[strings.ToUpper(s)]; ok {
		return d
	}
	if f, ok := number(s).(float64); ok {
		return math.Mod(math.Mod(f, 360)+360, 360)
	}
	return nil
}
