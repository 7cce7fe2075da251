package cql2

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/orb"
)

var testSchema = Schema{Types: map[string]string{
	"id": "bigint", "name": "text", "status": "text", "population": "integer", "heading": "double",
	"low_floor": "boolean", "seen_at": "timestamptz", "opened": "date", "geom": "geometry",
	"Mixed Case": "text", "geometry": "geometry",
}, GeometryColumn: "geom"}

func compileText(t *testing.T, src string, o Options) (string, []any, error) {
	t.Helper()
	e, err := ParseText(src)
	if err != nil {
		return "", nil, err
	}
	return Compile(e, testSchema, o)
}

func TestCompileText(t *testing.T) {
	ts, _ := time.Parse(time.RFC3339, "2024-05-01T10:00:00Z")
	day, _ := time.Parse("2006-01-02", "2024-05-01")
	tests := []struct {
		name, src, sql string
		args           []any
	}{
		{"equal string", `status = 'installed'`, `("status" = $1::text)`, []any{"installed"}},
		{"quote escape", `name = 'O''Brien'`, `("name" = $1::text)`, []any{"O'Brien"}},
		{"number", `population >= 1000`, `("population" >= $1::double precision)`, []any{1000.0}},
		{"negative float", `heading < -1.5e2`, `("heading" < $1::double precision)`, []any{-150.0}},
		{"boolean", `low_floor = TRUE`, `("low_floor" = $1::boolean)`, []any{true}},
		{"quoted property", `"Mixed Case" <> 'x'`, `("Mixed Case" <> $1::text)`, []any{"x"}},
		{"and or precedence", `status = 'a' OR status = 'b' AND population > 1`,
			`(("status" = $1::text) OR (("status" = $2::text) AND ("population" > $3::double precision)))`, []any{"a", "b", 1.0}},
		{"parentheses and not", `NOT (status = 'a' OR low_floor = false)`,
			`(NOT (("status" = $1::text) OR ("low_floor" = $2::boolean)))`, []any{"a", false}},
		{"keywords any case", `status like 'inst%' and not name is null`,
			`(("status" LIKE $1::text) AND (NOT ("name" IS NULL)))`, []any{"inst%"}},
		{"not like", `name NOT LIKE '%x_'`, `("name" NOT LIKE $1::text)`, []any{"%x_"}},
		{"in", `status IN ('installed', 'planned')`, `("status" IN ($1::text, $2::text))`, []any{"installed", "planned"}},
		{"not in", `population NOT IN (1, 2)`, `("population" NOT IN ($1::double precision, $2::double precision))`, []any{1.0, 2.0}},
		{"between", `population BETWEEN 10 AND 20`, `("population" BETWEEN $1::double precision AND $2::double precision)`, []any{10.0, 20.0}},
		{"is not null", `name IS NOT NULL`, `("name" IS NOT NULL)`, nil},
		{"timestamp", `seen_at > TIMESTAMP('2024-05-01T10:00:00Z')`, `("seen_at" > $1::timestamptz)`, []any{ts}},
		{"date vs timestamp column", `seen_at >= DATE('2024-05-01')`, `("seen_at" >= $1::date)`, []any{day}},
		{"property vs property", `name = status`, `("name" = "status")`, nil},
		{"true predicate", `TRUE`, `TRUE`, nil},
		{"intersects point", `S_INTERSECTS(geom, POINT(57.1 50.2))`, `ST_Intersects("geom", (SELECT ST_GeomFromGeoJSON($1::text)))`,
			[]any{`{"type":"Point","coordinates":[57.1,50.2]}`}},
		{"within polygon", `S_WITHIN(geom, POLYGON((57 50, 58 50, 58 51, 57 51, 57 50)))`,
			`ST_Within("geom", (SELECT ST_GeomFromGeoJSON($1::text)))`,
			[]any{`{"type":"Polygon","coordinates":[[[57,50],[58,50],[58,51],[57,51],[57,50]]]}`}},
		{"bbox literal first", `S_INTERSECTS(BBOX(57,50,58,51), geometry)`, `ST_Intersects((SELECT ST_GeomFromGeoJSON($1::text)), "geom")`,
			[]any{`{"type":"Polygon","coordinates":[[[57,50],[58,50],[58,51],[57,51],[57,50]]]}`}},
		{"multipoint both forms", `S_INTERSECTS(geom, MULTIPOINT((1 2), (3 4)))`, `ST_Intersects("geom", (SELECT ST_GeomFromGeoJSON($1::text)))`,
			[]any{`{"type":"MultiPoint","coordinates":[[1,2],[3,4]]}`}},
		{"point z", `S_INTERSECTS(geom, POINT Z (1 2 3))`, `ST_Intersects("geom", (SELECT ST_GeomFromGeoJSON($1::text)))`,
			[]any{`{"type":"Point","coordinates":[1,2]}`}},
		{"dwithin meters", `DWITHIN(geom, POINT(57.1 50.2), 500, meters)`,
			`("geom" && ST_Envelope(ST_Buffer((SELECT ST_GeomFromGeoJSON($1::text))::geography, $2::double precision * 1.01 + 1)::geometry) AND ST_DWithin("geom"::geography, (SELECT ST_GeomFromGeoJSON($1::text))::geography, $2::double precision))`,
			[]any{`{"type":"Point","coordinates":[57.1,50.2]}`, 500.0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sql, args, err := compileText(t, tc.src, Options{})
			if err != nil {
				t.Fatalf("compile %q: %v", tc.src, err)
			}
			if sql != tc.sql {
				t.Errorf("sql\n got %s\nwant %s", sql, tc.sql)
			}
			if diff := cmp.Diff(tc.args, args); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDWithinUnits(t *testing.T) {
	for src, want := range map[string]float64{
		`DWITHIN(geom, POINT(1 2), 2, kilometers)`: 2000,
		`DWITHIN(geom, POINT(1 2), 2.5, m)`:        2.5,
		`DWITHIN(geom, POINT(1 2), 3)`:             3,
	} {
		e, err := ParseText(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if got := e.(DWithin).Meters; got != want {
			t.Errorf("%s: %g meters, want %g", src, got, want)
		}
	}
}

func TestFilterCRS(t *testing.T) {
	// EPSG:4326 literals are latitude first; the compiler swaps them to x, y.
	sql, args, err := compileText(t, `S_INTERSECTS(geom, POINT(50.2 57.1))`, Options{SRID: 4326, SwapXY: true})
	if err != nil {
		t.Fatal(err)
	}
	if args[0] != `{"type":"Point","coordinates":[57.1,50.2]}` {
		t.Errorf("swapped point %v", args[0])
	}
	sql, args, err = compileText(t, `S_INTERSECTS(geom, POINT(6364000 6498000))`, Options{SRID: 3857, FirstArg: 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := `ST_Intersects("geom", (SELECT ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON($3::text), $4::integer), 4326)))`; sql != want {
		t.Errorf("sql\n got %s\nwant %s", sql, want)
	}
	if args[1] != 3857 {
		t.Errorf("srid arg %v", args[1])
	}
}

func TestJSONMatchesText(t *testing.T) {
	pairs := [][2]string{
		{`status = 'installed'`, `{"op":"=","args":[{"property":"status"},"installed"]}`},
		{`status = 'a' AND population > 5`, `{"op":"and","args":[{"op":"=","args":[{"property":"status"},"a"]},{"op":">","args":[{"property":"population"},5]}]}`},
		{`NOT (name LIKE 'A%')`, `{"op":"not","args":[{"op":"like","args":[{"property":"name"},"A%"]}]}`},
		{`population BETWEEN 1 AND 9`, `{"op":"between","args":[{"property":"population"},1,9]}`},
		{`status IN ('a','b')`, `{"op":"in","args":[{"property":"status"},["a","b"]]}`},
		{`name IS NULL`, `{"op":"isNull","args":[{"property":"name"}]}`},
		{`seen_at < TIMESTAMP('2024-01-02T03:04:05Z')`, `{"op":"<","args":[{"property":"seen_at"},{"timestamp":"2024-01-02T03:04:05Z"}]}`},
		{`opened = DATE('2024-01-02')`, `{"op":"=","args":[{"property":"opened"},{"date":"2024-01-02"}]}`},
		{`S_INTERSECTS(geom, POINT(57 50))`, `{"op":"s_intersects","args":[{"property":"geom"},{"type":"Point","coordinates":[57,50]}]}`},
		{`S_WITHIN(geom, BBOX(1,2,3,4))`, `{"op":"s_within","args":[{"property":"geom"},{"bbox":[1,2,3,4]}]}`},
		{`DWITHIN(geom, POINT(57 50), 1, kilometers)`, `{"op":"dwithin","args":[{"property":"geom"},{"type":"Point","coordinates":[57,50]},1000]}`},
		{`TRUE`, `true`},
	}
	for _, p := range pairs {
		te, err := ParseText(p[0])
		if err != nil {
			t.Fatalf("text %s: %v", p[0], err)
		}
		je, err := ParseJSON([]byte(p[1]))
		if err != nil {
			t.Fatalf("json %s: %v", p[1], err)
		}
		ts, targs, err := Compile(te, testSchema, Options{})
		if err != nil {
			t.Fatalf("compile text %s: %v", p[0], err)
		}
		js, jargs, err := Compile(je, testSchema, Options{})
		if err != nil {
			t.Fatalf("compile json %s: %v", p[1], err)
		}
		if ts != js || !cmp.Equal(targs, jargs) {
			t.Errorf("%s\n text: %s %v\n json: %s %v", p[0], ts, targs, js, jargs)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"empty", ``, "ended where a value was expected"},
		{"unknown property", `colour = 'red'`, `unknown property "colour"`},
		{"type mismatch", `population = 'many'`, "cannot compare number property \"population\" with a string value"},
		{"like on number", `population LIKE '1%'`, "LIKE needs text"},
		{"geometry compared", `geom = 'x'`, "cannot be used in a scalar comparison"},
		{"spatial on text", `S_INTERSECTS(name, POINT(1 2))`, "spatial predicates take geometries"},
		{"unterminated string", `name = 'abc`, "unterminated string literal"},
		{"unterminated identifier", `"name = 'x'`, "unterminated quoted property name"},
		{"missing operator", `name 'x'`, `expected a comparison operator`},
		{"trailing", `name = 'x' 'y'`, `unexpected "y" after the end`},
		{"bad date", `opened = DATE('2024-13-45')`, "bad date"},
		{"bad timestamp", `seen_at = TIMESTAMP('yesterday')`, "bad timestamp"},
		{"function", `upper(name) = 'X'`, "unsupported function upper()"},
		{"open ring", `S_WITHIN(geom, POLYGON((0 0, 1 0, 1 1, 0 1)))`, "must end where it starts"},
		{"empty geometry", `S_WITHIN(geom, POINT EMPTY)`, "empty geometries are not supported"},
		{"bad unit", `DWITHIN(geom, POINT(1 2), 5, parsecs)`, "unknown DWITHIN unit"},
		{"bad char", `name = 'a' ; DROP TABLE x`, `unexpected character ';'`},
		{"bang equals", `name != 'a'`, `unexpected character '!'`},
		{"bbox arity", `S_INTERSECTS(geom, BBOX(1,2,3))`, "4 or 6 numbers"},
		{"deep nesting", strings.Repeat("(", 100) + "TRUE" + strings.Repeat(")", 100), "nested deeper than"},
		{"deep not", strings.Repeat("NOT ", 100) + "TRUE", "nested deeper than"},
		{"in mixes types", `status IN ('a', 1)`, "IN list mixes"},
		{"keyword as value", `name = AND`, "found keyword AND"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := compileText(t, tc.src, Options{})
			if err == nil {
				t.Fatalf("%q compiled", tc.src)
			}
			if geoportal.ErrorCode(err) != geoportal.EINVALID {
				t.Errorf("code %s, want invalid", geoportal.ErrorCode(err))
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

func TestJSONErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"not json", `{"op":`, "not JSON"},
		{"no op", `{"args":[]}`, `without a string "op"`},
		{"unknown op", `{"op":"regex","args":[{"property":"name"},"x"]}`, `unsupported operator "regex"`},
		{"arity", `{"op":"=","args":[{"property":"name"}]}`, "takes 2 arguments"},
		{"bad geometry", `{"op":"s_intersects","args":[{"property":"geom"},{"type":"Blob","coordinates":[]}]}`, `unknown type "Blob"`},
		{"nested op as value", `{"op":"=","args":[{"op":"casei","args":[{"property":"name"}]},"x"]}`, "not supported as values"},
		{"trailing", `true true`, "trailing data"},
		{"in without array", `{"op":"in","args":[{"property":"name"},"a"]}`, "non-empty array"},
	}
	wantErrors(t, tests, func(src string) error { _, err := ParseJSON([]byte(src)); return err })
}

// wantErrors runs read on each case's src and checks that it fails saying want.
func wantErrors(t *testing.T, tests []struct{ name, src, want string }, read func(src string) error) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := read(tc.src)
			if err == nil {
				t.Fatalf("%s read", tc.src)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

// TestUnmarshalGeometryErrors: what orb's GeoJSON decoder would read silently or name vaguely
// is refused with an error that says what is wrong.
func TestUnmarshalGeometryErrors(t *testing.T) {
	deep := `{"type":"Point","coordinates":[1,2]}`
	for range 10 {
		deep = `{"type":"GeometryCollection","geometries":[` + deep + `]}`
	}
	tests := []struct{ name, src, want string }{
		{"not json", `{"type":`, "GeoJSON geometry"},
		{"not an object", `[1,2]`, "not an object"},
		{"unknown type", `{"type":"Circle","coordinates":[1,2]}`, `unknown type "Circle"`},
		{"no coordinates", `{"type":"Point"}`, "missing coordinates"},
		{"short position", `{"type":"Point","coordinates":[57]}`, "at least 2 numbers"},
		{"short position in a ring", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1],[0,0]]]}`, "at least 2 numbers"},
		{"text coordinate", `{"type":"LineString","coordinates":[[0,0],["1",1]]}`, "must be numbers"},
		{"wrong nesting", `{"type":"Polygon","coordinates":[[0,0],[1,0],[1,1],[0,0]]}`, "is not an array"},
		{"short part in a collection", `{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1]}]}`, "at least 2 numbers"},
		{"nested too deep", deep, "nested too deep"},
		{"open ring", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`, "must end where it starts"},
		{"empty collection", `{"type":"GeometryCollection","geometries":[]}`, "at least one geometry"},
	}
	wantErrors(t, tests, func(src string) error { _, err := UnmarshalGeometry([]byte(src)); return err })
}

// TestUnmarshalGeometry reads every type through orb's decoder, a Z coordinate dropped.
func TestUnmarshalGeometry(t *testing.T) {
	ring := orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 0}}
	for src, want := range map[string]orb.Geometry{
		`{"type":"Point","coordinates":[57.1,50.2,300]}`:                                    orb.Point{57.1, 50.2},
		`{"type":"MultiPoint","coordinates":[[1,2],[3,4]]}`:                                 orb.MultiPoint{{1, 2}, {3, 4}},
		`{"type":"LineString","coordinates":[[1,2],[3,4]]}`:                                 orb.LineString{{1, 2}, {3, 4}},
		`{"type":"MultiLineString","coordinates":[[[1,2],[3,4]]]}`:                          orb.MultiLineString{{{1, 2}, {3, 4}}},
		`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}`:                      orb.Polygon{ring},
		`{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]}`:               orb.MultiPolygon{{ring}},
		`{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]}]}`: orb.Collection{orb.Point{1, 2}},
	} {
		got, err := UnmarshalGeometry([]byte(src))
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", src, diff)
		}
	}
}

// Injection attempts: whatever the filter says, the SQL holds only schema identifiers,
// operators and $n placeholders; strings travel as parameters.
func TestInjectionNeverReachesSQL(t *testing.T) {
	attempts := []string{
		`name = 'x''; DROP TABLE layer.cameras; --'`,
		`name = 'a' OR '1'='1'`,
		`"name"" = 1; DROP TABLE x; --" = 'a'`,
		`"name; DROP TABLE x" = 'a'`,
		`name LIKE '%'' OR 1=1 --'`,
		`S_INTERSECTS(geom, POINT(1 2)) OR name = 'pg_sleep(10)'`,
	}
	for _, src := range attempts {
		sql, args, err := compileText(t, src, Options{})
		if err != nil {
			// Refusing is fine (a quoted name not in the schema, a stray quote); it must be a
			// client error.
			if geoportal.ErrorCode(err) != geoportal.EINVALID {
				t.Errorf("%s: %v", src, err)
			}
			continue
		}
		checkSafeSQL(t, src, sql, args)
	}
}

var (
	placeholderRE = regexp.MustCompile(`\$(\d+)`)
	identRE       = regexp.MustCompile(`"((?:[^"]|"")*)"`)
)

// checkSafeSQL asserts that sql has no string literal, only known identifiers, and exactly
// len(args) placeholders.
func checkSafeSQL(t *testing.T, src, sql string, args []any) {
	t.Helper()
	if strings.ContainsAny(sql, "';\\") || strings.Contains(sql, "--") || strings.Contains(sql, "/*") {
		t.Fatalf("%q compiled to SQL with a literal or comment: %s", src, sql)
	}
	for _, m := range identRE.FindAllStringSubmatch(sql, -1) {
		name := strings.ReplaceAll(m[1], `""`, `"`)
		if _, ok := testSchema.Types[name]; !ok {
			t.Fatalf("%q put identifier %q into SQL: %s", src, name, sql)
		}
	}
	max := 0
	for _, m := range placeholderRE.FindAllStringSubmatch(sql, -1) {
		n, _ := strconv.Atoi(m[1])
		if n > max {
			max = n
		}
	}
	if max != len(args) {
		t.Fatalf("%q: highest placeholder $%d but %d args: %s", src, max, len(args), sql)
	}
}

func FuzzCQL2Text(f *testing.F) {
	for _, s := range []string{
		`status = 'installed'`, `population BETWEEN 1 AND 2 OR name LIKE 'a%'`,
		`S_INTERSECTS(geom, POLYGON((0 0, 1 0, 1 1, 0 0)))`, `DWITHIN(geom, POINT(1 2), 3, meters)`,
		`NOT "Mixed Case" IN ('a','b')`, `seen_at > TIMESTAMP('2024-01-01T00:00:00Z')`,
		`S_WITHIN(geom, GEOMETRYCOLLECTION(POINT(1 2), LINESTRING(0 0, 1 1)))`, `opened IS NOT NULL`,
		`S_INTERSECTS(geom, MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5))))`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := ParseText(src)
		if err != nil {
			if geoportal.ErrorCode(err) != geoportal.EINVALID {
				t.Fatalf("parse error of code %s: %v", geoportal.ErrorCode(err), err)
			}
			return
		}
		sql, args, err := Compile(e, testSchema, Options{})
		if err != nil {
			if geoportal.ErrorCode(err) != geoportal.EINVALID {
				t.Fatalf("compile error of code %s: %v", geoportal.ErrorCode(err), err)
			}
			return
		}
		checkSafeSQL(t, src, sql, args)
	})
}

func FuzzCQL2JSON(f *testing.F) {
	for _, s := range []string{
		`{"op":"=","args":[{"property":"status"},"installed"]}`,
		`{"op":"and","args":[{"op":"in","args":[{"property":"population"},[1,2]]},{"op":"isNull","args":[{"property":"name"}]}]}`,
		`{"op":"s_intersects","args":[{"property":"geom"},{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}]}`,
		`{"op":"dwithin","args":[{"property":"geom"},{"type":"Point","coordinates":[1,2]},5,"km"]}`,
		`{"op":"between","args":[{"property":"seen_at"},{"timestamp":"2024-01-01T00:00:00Z"},{"date":"2024-02-01"}]}`,
		`{"op":"s_within","args":[{"bbox":[1,2,3,4]},{"property":"geometry"}]}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := ParseJSON([]byte(src))
		if err != nil {
			if geoportal.ErrorCode(err) != geoportal.EINVALID {
				t.Fatalf("parse error of code %s: %v", geoportal.ErrorCode(err), err)
			}
			return
		}
		sql, args, err := Compile(e, testSchema, Options{SRID: 3857})
		if err != nil {
			if geoportal.ErrorCode(err) != geoportal.EINVALID {
				t.Fatalf("compile error of code %s: %v", geoportal.ErrorCode(err), err)
			}
			return
		}
		checkSafeSQL(t, src, sql, args)
	})
}
