package importers

import (
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/geo"
	"github.com/aktobe/geoportal/internal/wkb"
	_ "github.com/mattn/go-sqlite3" // SQLite driver for GeoPackage files
	"github.com/paulmach/orb"
)

// GeoPackage reads one feature table of an OGC GeoPackage (SQLite) file, row by row.
type GeoPackage struct {
	info   Info
	db     *sql.DB
	rows   *sql.Rows
	n      int
	nattrs int
}

// OpenGeoPackage opens a .gpkg file read-only; opt.Layer picks the table when there are several.
func OpenGeoPackage(p string, opt Options) (Source, error) {
	name := filepath.Base(p)
	head, err := sniff(p, 16)
	if err != nil {
		return nil, invalid("%s: %v", name, errNotExist(err))
	}
	if string(head) != "SQLite format 3\x00" {
		return nil, invalid("%s is not a GeoPackage (not an SQLite database)", name)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: abs}).EscapedPath()+"?mode=ro&immutable=1")
	if err != nil {
		return nil, invalid("%s: %v", name, err)
	}
	db.SetMaxOpenConns(1)
	g := &GeoPackage{db: db, info: Info{Format: "gpkg", File: name, Encoding: "UTF-8", EncodingSource: "source"}}
	if err := g.open(opt); err != nil {
		db.Close()
		return nil, err
	}
	return g, nil
}

func (g *GeoPackage) open(opt Options) error {
	name := g.info.File
	rows, err := g.db.Query(`SELECT c.table_name, gc.column_name, gc.geometry_type_name, c.srs_id
		FROM gpkg_contents c JOIN gpkg_geometry_columns gc ON gc.table_name = c.table_name
		WHERE c.data_type = 'features' ORDER BY c.table_name`)
	if err != nil {
		return invalid("%s is not a GeoPackage (no gpkg_contents): %v", name, err)
	}
	type table struct {
		name, geom, gtype string
		srs               int
	}
	var tables []table
	for rows.Next() {
		var t table
		if err := rows.Scan(&t.name, &t.geom, &t.gtype, &t.srs); err != nil {
			rows.Close()
			return invalid("%s: %v", name, err)
		}
		tables = append(tables, t)
	}
	rows.Close()
	var t *table
	var names []string
	for i := range tables {
		names = append(names, tables[i].name)
		if tables[i].name == opt.Layer || (opt.Layer == "" && len(tables) == 1) {
			t = &tables[i]
		}
	}
	if t == nil {
		if len(tables) == 0 {
			return invalid("%s holds no feature tables", name)
		}
		if opt.Layer != "" {
			return invalid("%s has no feature table %q (it has %s)", name, opt.Layer, strings.Join(names, ", "))
		}
		return invalid("%s holds %d feature tables (%s): choose one (--source-layer)", name, len(tables), strings.Join(names, ", "))
	}
	g.info.Name = t.name
	// Coordinate system.
	if opt.SRID != 0 {
		c, err := geo.EPSG(opt.SRID)
		if err != nil {
			return invalid("--srid %d: %v", opt.SRID, err)
		}
		g.info.CRS, g.info.CRSSource = c, "flag"
	} else {
		var org, def string
		var code int
		err := g.db.QueryRow(`SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?`, t.srs).Scan(&org, &code, &def)
		if err != nil {
			return invalid("%s: spatial reference system %d of table %s: %v", name, t.srs, t.name, err)
		}
		var c geo.CRS
		if strings.EqualFold(org, "EPSG") && code > 0 {
			c, err = geo.EPSG(code)
		} else {
			c, err = geo.ParseCRS(def)
		}
		if err != nil {
			return invalid("%s: spatial reference system %d: %v (give --srid)", name, t.srs, err)
		}
		g.info.CRS, g.info.CRSSource = c, "source"
	}
	switch strings.ToUpper(t.gtype) {
	case "POINT":
		g.info.GeometryType = "Point"
	case "MULTIPOINT":
		g.info.GeometryType = "MultiPoint"
	case "LINESTRING", "MULTILINESTRING", "CURVE", "MULTICURVE":
		g.info.GeometryType = "MultiLineString"
	case "POLYGON", "MULTIPOLYGON", "SURFACE", "MULTISURFACE":
		g.info.GeometryType = "MultiPolygon"
	}
	// Attributes: every column but the primary key and the geometry, typed from the declaration.
	cols, err := g.db.Query(`SELECT name, type, pk FROM pragma_table_info(?)`, t.name)
	if err != nil {
		return invalid("%s: table %s: %v", name, t.name, err)
	}
	var sel []string
	for cols.Next() {
		var cname, ctype string
		var pk int
		if err := cols.Scan(&cname, &ctype, &pk); err != nil {
			cols.Close()
			return err
		}
		if pk > 0 || cname == t.geom {
			continue
		}
		typ := TypeText
		switch u := strings.ToUpper(ctype); {
		case u == "BOOLEAN":
			typ = TypeBoolean
		case u == "TINYINT" || u == "SMALLINT" || u == "MEDIUMINT":
			typ = TypeInteger
		case strings.Contains(u, "INT"):
			typ = TypeBigint
		case u == "REAL" || u == "DOUBLE" || u == "FLOAT":
			typ = TypeDouble
		case u == "DATE":
			typ = TypeDate
		case u == "DATETIME":
			typ = TypeTimestamptz
		case strings.HasPrefix(u, "BLOB"):
			continue
		}
		g.info.Fields = append(g.info.Fields, Field{Name: cname, Type: typ})
		sel = append(sel, `"`+strings.ReplaceAll(cname, `"`, `""`)+`"`)
	}
	cols.Close()
	quoted := `"` + strings.ReplaceAll(t.name, `"`, `""`) + `"`
	if err := g.db.QueryRow(`SELECT count(*) FROM ` + quoted).Scan(&g.info.Count); err != nil {
		return invalid("%s: table %s: %v", name, t.name, err)
	}
	q := `SELECT "` + strings.ReplaceAll(t.geom, `"`, `""`) + `"`
	if len(sel) > 0 {
		q += `, ` + strings.Join(sel, ", ")
	}
	g.rows, err = g.db.Query(q + ` FROM ` + quoted + ` ORDER BY rowid`)
	if err != nil {
		return invalid("%s: table %s: %v", name, t.name, err)
	}
	g.nattrs = len(sel)
	return nil
}

// Info describes the table.
func (g *GeoPackage) Info() *Info { return &g.info }

// Next reads the next row.
func (g *GeoPackage) Next() (Feature, error) {
	if !g.rows.Next() {
		if err := g.rows.Err(); err != nil {
			return Feature{}, geoportal.Errorf(geoportal.EINVALID, "%s: row %d: %v", g.info.File, g.n+1, err)
		}
		return Feature{}, io.EOF
	}
	g.n++
	var blob []byte
	vals := make([]any, g.nattrs)
	dest := []any{&blob}
	for i := range vals {
		dest = append(dest, &vals[i])
	}
	if err := g.rows.Scan(dest...); err != nil {
		return Feature{}, geoportal.Errorf(geoportal.EINVALID, "%s: row %d: %v", g.info.File, g.n, err)
	}
	f := Feature{Record: g.n, Values: make([]any, g.nattrs)}
	for i, v := range vals {
		switch x := v.(type) {
		case []byte:
			f.Values[i] = string(x)
		case int64, float64, string, bool, nil:
			f.Values[i] = x
		case time.Time:
			f.Values[i] = x
		default:
			f.Values[i] = fmt.Sprint(x)
		}
	}
	if blob == nil {
		f.Err = &RecordError{Record: g.n, Reason: "no geometry"}
		return f, nil
	}
	geom, err := parseGPKGGeometry(blob)
	if err != nil {
		f.Err = &RecordError{Record: g.n, Reason: err.Error()}
	} else if geom == nil {
		f.Err = &RecordError{Record: g.n, Reason: "empty geometry"}
	}
	f.Geom = geom
	return f, nil
}

// Close closes the database.
func (g *GeoPackage) Close() error {
	if g.rows != nil {
		g.rows.Close()
	}
	return g.db.Close()
}

// parseGPKGGeometry reads a GeoPackage geometry blob: "GP", version, flags, srs id, optional
// envelope, then WKB (2-D, Z, M or ZM; Z and M dropped). nil for an empty geometry.
func parseGPKGGeometry(b []byte) (orb.Geometry, error) {
	if len(b) < 8 || b[0] != 'G' || b[1] != 'P' {
		return nil, fmt.Errorf("not a GeoPackage geometry blob")
	}
	flags := b[3]
	if flags&0x10 != 0 {
		return nil, nil // empty
	}
	env := map[byte]int{0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(flags>>1)&7]
	off := 8 + env
	if off > len(b) {
		return nil, fmt.Errorf("geometry blob is truncated")
	}
	return wkb.Unmarshal(b[off:])
}
