package importers

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
)

// schemaGuess infers attribute types and the geometry type from a first pass over a source
// whose format declares neither (GeoJSON, CSV, KML).
type schemaGuess struct {
	order []string
	kinds map[string]*kindCount
	dims  [3]int // features per dimension
	multi [3]bool
}

type kindCount struct {
	ints, bigs, floats, bools, dates, strs, objs, total int
}

func newSchemaGuess() *schemaGuess { return &schemaGuess{kinds: map[string]*kindCount{}} }

func (s *schemaGuess) field(name string) *kindCount {
	k, ok := s.kinds[name]
	if !ok {
		k = &kindCount{}
		s.kinds[name] = k
		s.order = append(s.order, name)
	}
	return k
}

// value counts a decoded JSON value (json.Number, string, bool, map, slice) or CSV text.
func (s *schemaGuess) value(name string, v any, textNumbers bool) {
	k := s.field(name)
	switch x := v.(type) {
	case nil:
		return
	case json.Number:
		k.total++
		if n, err := x.Int64(); err == nil {
			if n >= math.MinInt32 && n <= math.MaxInt32 {
				k.ints++
			} else {
				k.bigs++
			}
		} else {
			k.floats++
		}
	case bool:
		k.total++
		k.bools++
	case string:
		if x == "" {
			return
		}
		k.total++
		if textNumbers {
			if n, err := strconv.ParseInt(x, 10, 64); err == nil && !(len(x) > 1 && x[0] == '0') {
				if n >= math.MinInt32 && n <= math.MaxInt32 {
					k.ints++
				} else {
					k.bigs++
				}
				return
			}
			if f, err := strconv.ParseFloat(x, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				k.floats++
				return
			}
			switch strings.ToLower(x) {
			case "true", "false":
				k.bools++
				return
			}
		}
		if _, err := time.Parse("2006-01-02", x); err == nil {
			k.dates++
			return
		}
		k.strs++
	default:
		k.total++
		k.objs++
	}
}

func (s *schemaGuess) geometry(g orb.Geometry) {
	switch g.(type) {
	case orb.Point:
		s.dims[0]++
	case orb.MultiPoint:
		s.dims[0]++
		s.multi[0] = true
	case orb.LineString:
		s.dims[1]++
	case orb.MultiLineString:
		s.dims[1]++
	case orb.Polygon:
		s.dims[2]++
	case orb.MultiPolygon:
		s.dims[2]++
	case orb.Collection:
		for _, c := range g.(orb.Collection) {
			s.geometry(c)
		}
	}
}

// fields returns the inferred fields, in first-seen order.
func (s *schemaGuess) fields() []Field {
	var out []Field
	for _, name := range s.order {
		k := s.kinds[name]
		t := TypeText
		switch {
		case k.total == 0:
			t = TypeText
		case k.ints == k.total:
			t = TypeInteger
		case k.ints+k.bigs == k.total:
			t = TypeBigint
		case k.ints+k.bigs+k.floats == k.total:
			t = TypeDouble
		case k.bools == k.total:
			t = TypeBoolean
		case k.dates == k.total:
			t = TypeDate
		case k.objs == k.total:
			t = TypeJSON
		}
		out = append(out, Field{Name: name, Type: t})
	}
	return out
}

// geometryType is the layer type: the dimension most features have; lines and polygons as
// Multi types, points as Point unless some are MultiPoints.
func (s *schemaGuess) geometryType() string {
	best := -1
	for d := 2; d >= 0; d-- {
		if s.dims[d] > 0 && (best < 0 || s.dims[d] > s.dims[best]) {
			best = d
		}
	}
	switch best {
	case 0:
		if s.multi[0] {
			return "MultiPoint"
		}
		return "Point"
	case 1:
		return "MultiLineString"
	case 2:
		return "MultiPolygon"
	}
	return ""
}

// jsonValue turns a decoded JSON value into a source value (nil, string, int64, float64,
// bool; objects and arrays as JSON text).
func jsonValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case map[string]any, []any:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return v
}
