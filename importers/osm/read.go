// Package osm reads OpenStreetMap extracts (.osm.pbf, .osm XML, .osm.bz2) as a stream and
// turns their objects into features of the city layers, following a mapping file from tags to
// layers and attributes. Node locations are kept in a compact sorted array (16 bytes a node);
// ways and multipolygon, boundary and route relations are assembled into geometries; objects
// that cannot be (a way with missing nodes or one node, a ring that does not close, a relation
// that references itself) are reported one by one and skipped.
//
//	err := osm.Read(ctx, "city.osm.pbf", osm.Options{Mapping: osm.Default(), Targets: t}, func(f *osm.Feature) error { … })
package osm

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/osm"
	"github.com/paulmach/osm/osmpbf"
	"github.com/paulmach/osm/osmxml"
)

// Feature is one OSM object as a feature of one layer.
type Feature struct {
	Layer  string
	OSMID  string       // node/1, way/2, relation/3
	Geom   orb.Geometry // WGS 84 longitude/latitude, shaped for the layer's geometry type
	Values map[string]any
	Tags   Tags
}

// Problem is an object that was skipped, and why.
type Problem struct {
	Object string `json:"object"`
	Reason string `json:"reason"`
}

// Options control a read.
type Options struct {
	Mapping *Mapping
	Targets map[string]Target // the catalog's layers, by slug
	Procs   int               // PBF decoding goroutines; 0: GOMAXPROCS
	// Problem, when set, is called for every object skipped.
	Problem func(Problem)
	// Progress, when set, is called now and then with the bytes read (both passes count: the
	// total is twice the file's size).
	Progress func(done, total int64)
}

// Stats says what a read saw.
type Stats struct {
	Nodes, Ways, Relations int64
	NodeBytes              int // memory of the node store
	Format                 string
}

// ErrFormat is returned for files that are not OSM extracts.
var ErrFormat = errors.New("osm: not an OpenStreetMap file")

// IsOSMFile reports whether a file name looks like an OSM extract.
func IsOSMFile(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, ".osm.pbf") || strings.HasSuffix(n, ".pbf") || strings.HasSuffix(n, ".osm") ||
		strings.HasSuffix(n, ".osm.bz2")
}

type scanner interface {
	Scan() bool
	Object() osm.Object
	Err() error
	Close() error
}

// relation is what the first pass keeps of a relation the mapping takes.
type relation struct {
	id      int64
	tags    Tags
	kind    string // area or route
	members osm.Members
	rules   []*Rule
	// An old-style multipolygon carries its tags on its outer way: oldStyle is set, and the
	// tags of its outer member ways are gathered in the second pass.
	oldStyle  bool
	outerTags map[int64]Tags
}

// lateWay is a way held back until the old-style multipolygons it is an outer of are built:
// one whose tags became the relation's is not a feature of its own.
type lateWay struct {
	id    int64
	obj   string
	line  orb.LineString
	tags  Tags
	rules []*Rule
}

// insignificant are the keys that do not make a multipolygon relation's own tags.
var insignificant = map[string]bool{"type": true, "role": true, "created_by": true, "source": true, "note": true, "fixme": true}

func oldStyle(t Tags) bool {
	for k := range t {
		if k != "type" && k != "role" && k != "created_by" {
			return false
		}
	}
	return true
}

type reader struct {
	opt      Options
	path     string
	size     int64
	read     atomic.Int64
	format   string
	rels     []*relation
	wayNeed  map[int64][]orb.Point // member ways of kept relations; nil value: not seen yet
	nodeName map[int64]string      // stop names of kept routes
	nodes    *nodeStore
	stats    Stats
	oldOuter map[int64][]*relation // outer ways of old-style multipolygons
	late     []lateWay
}

// Read reads the extract at path twice (relations first, then nodes and ways) and calls emit
// for every feature, in file order (nodes, ways, then relations). An error from emit or a
// broken file ends the read.
func Read(ctx context.Context, path string, opt Options, emit func(*Feature) error) (Stats, error) {
	if opt.Mapping == nil {
		return Stats{}, errors.New("osm: no mapping")
	}
	st, err := os.Stat(path)
	if err != nil {
		return Stats{}, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	r := &reader{opt: opt, path: path, size: st.Size(), wayNeed: map[int64][]orb.Point{},
		nodeName: map[int64]string{}, nodes: newNodeStore(),
		oldOuter: map[int64][]*relation{}}
	if err := r.passRelations(ctx); err != nil {
		return r.stats, err
	}
	if err := r.passNodesWays(ctx, emit); err != nil {
		return r.stats, err
	}
	if err := r.resolveOldStyle(emit); err != nil {
		return r.stats, err
	}
	if err := r.emitRelations(emit); err != nil {
		return r.stats, err
	}
	r.stats.NodeBytes = r.nodes.bytes()
	r.stats.Format = r.format
	return r.stats, nil
}

func (r *reader) problem(obj string, format string, args ...any) {
	if r.opt.Problem != nil {
		r.opt.Problem(Problem{Object: obj, Reason: fmt.Sprintf(format, args...)})
	}
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
	f func()
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	if c.f != nil {
		c.f()
	}
	return n, err
}

// open starts a scan of the file; skip says which kinds the PBF decoder may skip.
func (r *reader) open(ctx context.Context, skipNodesWays, skipRelations bool) (scanner, func(), error) {
	name := filepath.Base(r.path)
	f, err := os.Open(r.path)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	var progress func()
	if r.opt.Progress != nil {
		var last atomic.Int64
		progress = func() {
			if n := r.read.Load(); n-last.Load() > 1<<20 {
				last.Store(n)
				r.opt.Progress(n, 2*r.size)
			}
		}
	}
	in := bufio.NewReaderSize(countingReader{r: f, n: &r.read, f: progress}, 1<<16)
	head, _ := in.Peek(16)
	if bytes.Contains(head, []byte("OSMHeader")) {
		procs := r.opt.Procs
		if procs <= 0 {
			procs = runtime.GOMAXPROCS(0)
		}
		s := osmpbf.New(ctx, in, procs)
		s.SkipNodes, s.SkipWays, s.SkipRelations = skipNodesWays, skipNodesWays, skipRelations
		r.format = "osm.pbf"
		return s, func() { s.Close(); f.Close() }, nil
	}
	var text io.Reader = in
	r.format = "osm"
	if len(head) >= 3 && string(head[:3]) == "BZh" {
		text = bufio.NewReaderSize(bzip2.NewReader(in), 1<<16)
		r.format = "osm.bz2"
	}
	br := bufio.NewReaderSize(text, 1<<16)
	if err := checkXMLRoot(br); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	s := osmxml.New(ctx, br)
	return s, func() { s.Close(); f.Close() }, nil
}

// checkXMLRoot makes sure the file is XML with an <osm> root element (the PBF case was
// recognised by its header block).
func checkXMLRoot(br *bufio.Reader) error {
	head, err := br.Peek(4096)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return fmt.Errorf("%w: %v", ErrFormat, err)
	}
	s := string(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")))
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		switch {
		case strings.HasPrefix(s, "<?"):
			i := strings.Index(s, "?>")
			if i < 0 {
				return fmt.Errorf("%w: an unterminated XML declaration", ErrFormat)
			}
			s = s[i+2:]
		case strings.HasPrefix(s, "<!--"):
			i := strings.Index(s, "-->")
			if i < 0 {
				return fmt.Errorf("%w: an unterminated XML comment", ErrFormat)
			}
			s = s[i+3:]
		case strings.HasPrefix(s, "<osm") && len(s) > 4 && strings.ContainsAny(s[4:5], " \t\r\n>/"):
			return nil
		case strings.HasPrefix(s, "<"):
			end := strings.IndexAny(s, " \t\r\n>/")
			if end < 0 {
				end = min(len(s), 40)
			}
			return fmt.Errorf("%w: the root element is %s>, not <osm> (neither an OSM XML nor a PBF file)", ErrFormat, s[:end])
		default:
			return fmt.Errorf("%w: neither OSM XML nor PBF", ErrFormat)
		}
	}
}

func scanErr(name string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%s: %w: %v (a truncated or corrupt file?)", name, ErrFormat, err)
}

func tagsOf(t osm.Tags) Tags {
	m := make(Tags, len(t))
	for _, x := range t {
		m[x.Key] = x.Value
	}
	return m
}

// rulesFor returns the rules (first per layer) that take an object.
func (r *reader) rulesFor(kind int, t Tags) []*Rule {
	var out []*Rule
	var seen map[string]bool
	for _, ru := range r.opt.Mapping.Rules {
		if seen[ru.Layer] || !ru.Matches(kind, t) {
			continue
		}
		if seen == nil {
			seen = map[string]bool{}
		}
		seen[ru.Layer] = true
		out = append(out, ru)
	}
	return out
}

// passRelations keeps the relations the mapping takes and notes the ways and nodes they need.
func (r *reader) passRelations(ctx context.Context) error {
	s, done, err := r.open(ctx, true, false)
	if err != nil {
		return err
	}
	defer done()
	name := filepath.Base(r.path)
	for s.Scan() {
		rel, ok := s.Object().(*osm.Relation)
		if !ok {
			continue
		}
		r.stats.Relations++
		if len(rel.Tags) == 0 {
			continue
		}
		t := tagsOf(rel.Tags)
		kind := ""
		switch t["type"] {
		case "multipolygon", "boundary":
			kind = "area"
		case "route":
			kind = "route"
		default:
			continue
		}
		rules := r.rulesFor(KindRelation, t)
		old := kind == "area" && oldStyle(t)
		if len(rules) == 0 && !old {
			if kind == "area" {
				// Not a feature, but its outer ways may be drawn by it (see resolveOldStyle).
				light := &relation{id: int64(rel.ID), tags: t, kind: kind, outerTags: map[int64]Tags{}}
				light.members = outerMembers(rel.Members)
				for _, m := range outerWays(rel.Members) {
					r.oldOuter[m] = append(r.oldOuter[m], light)
				}
				r.rels = append(r.rels, light)
			}
			continue
		}
		obj := "relation/" + strconv.FormatInt(int64(rel.ID), 10)
		self := false
		for _, m := range rel.Members {
			if m.Type == osm.TypeRelation && m.Ref == int64(rel.ID) {
				self = true
			}
		}
		if self {
			r.problem(obj, "references itself")
			continue
		}
		kept := &relation{id: int64(rel.ID), tags: t, kind: kind, members: rel.Members, rules: rules, oldStyle: old}
		if kind == "area" {
			kept.outerTags = map[int64]Tags{}
			for _, m := range outerWays(rel.Members) {
				r.oldOuter[m] = append(r.oldOuter[m], kept)
			}
		}
		for _, m := range rel.Members {
			switch {
			case m.Type == osm.TypeWay:
				r.wayNeed[m.Ref] = nil
			case m.Type == osm.TypeNode && kind == "route":
				r.nodeName[m.Ref] = ""
			}
		}
		r.rels = append(r.rels, kept)
	}
	if err := s.Err(); err != nil {
		return scanErr(name, err)
	}
	return nil
}

// passNodesWays stores the node locations and emits the nodes and ways the mapping takes.
func (r *reader) passNodesWays(ctx context.Context, emit func(*Feature) error) error {
	s, done, err := r.open(ctx, false, true)
	if err != nil {
		return err
	}
	defer done()
	name := filepath.Base(r.path)
	sealed := false
	for s.Scan() {
		switch o := s.Object().(type) {
		case *osm.Node:
			if sealed {
				return fmt.Errorf("%s: node %d after the ways: the file is not sorted (nodes, ways, relations)", name, o.ID)
			}
			r.stats.Nodes++
			r.nodes.add(int64(o.ID), o.Lon, o.Lat)
			if len(o.Tags) == 0 {
				continue
			}
			t := tagsOf(o.Tags)
			if _, ok := r.nodeName[int64(o.ID)]; ok {
				r.nodeName[int64(o.ID)] = t["name"]
			}
			for _, ru := range r.rulesFor(KindNode, t) {
				obj := "node/" + strconv.FormatInt(int64(o.ID), 10)
				g, err := shape(orb.Point{o.Lon, o.Lat}, r.opt.Targets[ru.Layer].GeometryType)
				if err != nil {
					r.problem(obj, "layer %s: %v", ru.Layer, err)
					continue
				}
				if err := emit(r.feature(ru, obj, g, t)); err != nil {
					return err
				}
			}
		case *osm.Way:
			if !sealed {
				r.nodes.seal()
				sealed = true
			}
			r.stats.Ways++
			_, needed := r.wayNeed[int64(o.ID)]
			var rules []*Rule
			var t Tags
			if len(o.Tags) > 0 {
				t = tagsOf(o.Tags)
				rules = r.rulesFor(KindWay, t)
			}
			if len(rules) == 0 && !needed {
				continue
			}
			obj := "way/" + strconv.FormatInt(int64(o.ID), 10)
			line, err := r.wayLine(o)
			if err != nil {
				r.problem(obj, "%v", err)
				continue
			}
			if needed {
				r.wayNeed[int64(o.ID)] = line
			}
			if rels := r.oldOuter[int64(o.ID)]; len(rels) > 0 {
				for _, rel := range rels {
					rel.outerTags[int64(o.ID)] = t
				}
				if len(rules) > 0 {
					r.late = append(r.late, lateWay{id: int64(o.ID), obj: obj, line: line, tags: t, rules: rules})
				}
				continue
			}
			if err := r.emitWay(obj, line, t, rules, emit); err != nil {
				return err
			}
		case *osm.Relation:

			// The relations were read in the first pass; the XML reader cannot skip them.
			if err := s.Err(); err != nil {
				return scanErr(name, err)
			}
			return nil
		}
	}
	if err := s.Err(); err != nil {
		return scanErr(name, err)
	}
	if !sealed {
		r.nodes.seal()
	}
	return nil
}

func (r *reader) emitWay(obj string, line orb.LineString, t Tags, rules []*Rule, emit func(*Feature) error) error {
	for _, ru := range rules {
		g, err := shape(line, r.opt.Targets[ru.Layer].GeometryType)
		if err != nil {
			r.problem(obj, "layer %s: %v", ru.Layer, err)
			continue
		}
		if err := emit(r.feature(ru, obj, g, t)); err != nil {
			return err
		}
	}
	return nil
}

// outerMembers keeps a relation's outer ways only.
func outerMembers(ms osm.Members) osm.Members {
	var out osm.Members
	for _, id := range outerWays(ms) {
		out = append(out, osm.Member{Type: osm.TypeWay, Ref: id, Role: "outer"})
	}
	return out
}

// outerWays are the ways of a multipolygon with role outer (all its ways when none has).
func outerWays(ms osm.Members) []int64 {
	var out, all []int64
	for _, m := range ms {
		if m.Type != osm.TypeWay {
			continue
		}
		all = append(all, m.Ref)
		if m.Role == "outer" {
			out = append(out, m.Ref)
		}
	}
	if len(out) == 0 {
		return all
	}
	return out
}

// shareFeatureKey reports whether a way and a relation have a key in common that says what
// they are (building, leisure…; not a name, an address or a note).
func shareFeatureKey(way, rel Tags) bool {
	for k := range way {
		if insignificant[k] || strings.HasPrefix(k, "name") || strings.HasPrefix(k, "addr:") {
			continue
		}
		if _, ok := rel[k]; ok {
			return true
		}
	}
	return false
}

// resolveOldStyle gives each old-style multipolygon the tags of its first outer way (with
// its own), and emits the held-back outer ways that the relation does not draw. A relation
// draws its outer ways when it is old-style, or when they share a key saying what they are
// (both building=*): GDAL's OSM driver judges alike, so both give the same features.
func (r *reader) resolveOldStyle(emit func(*Feature) error) error {
	taken := map[int64]bool{}
	for _, rel := range r.rels {
		if rel.kind != "area" {
			continue
		}
		outers := outerWays(rel.members)
		if !rel.oldStyle {
			if len(rel.rules) == 0 {
				continue
			}
			for _, id := range outers {
				if t, ok := rel.outerTags[id]; ok && shareFeatureKey(t, rel.tags) {
					taken[id] = true
				}
			}
			continue
		}
		var first Tags
		for _, id := range outers {
			if t := rel.outerTags[id]; len(t) > 0 {
				first = t
				break
			}
		}
		if first == nil {
			continue
		}
		merged := Tags{}
		for k, v := range first {
			merged[k] = v
		}
		for k, v := range rel.tags {
			merged[k] = v
		}
		rel.tags = merged
		rel.rules = r.rulesFor(KindRelation, merged)
		for _, id := range outers {
			taken[id] = true
		}
	}
	for _, w := range r.late {
		if taken[w.id] {
			continue
		}
		if err := r.emitWay(w.obj, w.line, w.tags, w.rules, emit); err != nil {
			return err
		}
	}
	r.late = nil
	return nil
}

func (r *reader) wayLine(w *osm.Way) (orb.LineString, error) {
	line := make(orb.LineString, 0, len(w.Nodes))
	for _, n := range w.Nodes {
		p, ok := r.nodes.get(int64(n.ID))
		if !ok {
			return nil, fmt.Errorf("node %d is missing from the extract", n.ID)
		}
		if len(line) == 0 || line[len(line)-1] != p {
			line = append(line, p)
		}
	}
	if len(line) < 2 {
		return nil, fmt.Errorf("has only one node (a way needs two)")
	}
	return line, nil
}

// shape fits a node's point or a way's line to a layer's geometry type.
func shape(g orb.Geometry, gtype string) (orb.Geometry, error) {
	switch strings.TrimPrefix(gtype, "Multi") {
	case "Point":
		return pointOf(g), nil
	case "LineString":
		if _, ok := g.(orb.LineString); ok {
			return g, nil
		}
		return nil, fmt.Errorf("a %s cannot be a line", g.GeoJSONType())
	case "Polygon":
		l, ok := g.(orb.LineString)
		if !ok {
			return nil, fmt.Errorf("a %s cannot be an area", g.GeoJSONType())
		}
		if l[0] != l[len(l)-1] {
			return nil, fmt.Errorf("is not closed, so not an area")
		}
		if len(l) < 4 {
			return nil, fmt.Errorf("a closed way of %d nodes is no area", len(l))
		}
		return orb.Polygon{orb.Ring(l)}, nil
	}
	return nil, fmt.Errorf("unknown geometry type %q", gtype)
}

func (r *reader) feature(ru *Rule, obj string, g orb.Geometry, t Tags) *Feature {
	target := r.opt.Targets[ru.Layer]
	f := &Feature{Layer: ru.Layer, OSMID: obj, Geom: g, Values: map[string]any{}, Tags: t}
	area := 0.0
	for _, a := range ru.Set {
		if a.Fn == "residents" && area == 0 {
			area = geo.Area(g)
		}
		if v := a.value(t, area); v != nil {
			f.Values[a.Attr] = v
		}
	}
	auto := map[string]string{"name": "name", "name_kk": "name:kk", "name_ru": "name:ru", "name_en": "name:en"}
	for attr, key := range auto {
		if _, ok := target.Attributes[attr]; !ok {
			continue
		}
		if _, set := f.Values[attr]; set {
			continue
		}
		if v, ok := t[key]; ok && v != "" {
			f.Values[attr] = v
		}
	}
	if _, ok := target.Attributes["osm_id"]; ok {
		f.Values["osm_id"] = obj
	}
	if _, ok := target.Attributes["tags"]; ok {
		f.Values["tags"] = t
	}
	return f
}

// emitRelations assembles the kept relations from their member ways.
func (r *reader) emitRelations(emit func(*Feature) error) error {
	for _, rel := range r.rels {
		if len(rel.rules) == 0 {
			continue
		}
		obj := "relation/" + strconv.FormatInt(rel.id, 10)
		var lines []orb.LineString
		var stops []string
		missing := ""
		for _, m := range rel.members {
			switch m.Type {
			case osm.TypeWay:
				if rel.kind == "route" && strings.HasPrefix(m.Role, "platform") {
					continue
				}
				l := r.wayNeed[m.Ref]
				if l == nil {
					if missing == "" {
						missing = "way " + strconv.FormatInt(m.Ref, 10)
					}
					continue
				}
				lines = append(lines, l)
			case osm.TypeNode:
				if rel.kind == "route" && (strings.HasPrefix(m.Role, "stop") || strings.HasPrefix(m.Role, "platform")) {
					if n := r.nodeName[m.Ref]; n != "" && (len(stops) == 0 || stops[len(stops)-1] != n) {
						stops = append(stops, n)
					}
				}
			}
		}
		if missing != "" && rel.kind == "area" {
			r.problem(obj, "member %s is missing from the extract (or broken)", missing)
			continue
		} else if missing != "" {
			r.problem(obj, "member %s is missing from the extract (or broken): the route is kept without it", missing)
		}
		if len(lines) == 0 {
			r.problem(obj, "has no member ways")
			continue
		}
		var g orb.Geometry
		if rel.kind == "area" {
			mp, err := assembleAreas(lines)
			if err != nil {
				r.problem(obj, "%v", err)
				continue
			}
			g = mp
		} else {
			g = orb.MultiLineString(lines)
		}
		for _, ru := range rel.rules {
			gtype := r.opt.Targets[ru.Layer].GeometryType
			out := g
			switch strings.TrimPrefix(gtype, "Multi") {
			case "Point":
				out = pointOf(g)
			case "LineString":
				if rel.kind == "area" {
					r.problem(obj, "layer %s: an area cannot be a line", ru.Layer)
					continue
				}
				if gtype == "LineString" {
					r.problem(obj, "layer %s: a route of several ways cannot go into a LineString layer", ru.Layer)
					continue
				}
			case "Polygon":
				if rel.kind != "area" {
					r.problem(obj, "layer %s: a route cannot be an area", ru.Layer)
					continue
				}
			}
			f := r.feature(ru, obj, out, rel.tags)
			if _, ok := r.opt.Targets[ru.Layer].Attributes["stops"]; ok && len(stops) > 0 {
				if _, set := f.Values["stops"]; !set {
					f.Values["stops"] = strings.Join(stops, " → ")
				}
			}
			if err := emit(f); err != nil {
				return err
			}
		}
	}
	return nil
}
