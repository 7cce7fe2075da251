// Package layers is the layer catalog and the PostGIS store behind it: what layers the city has,
// their titles in kk/ru/en, attribute schema and style, and the typed table holding each one.
package layers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aktobe/geoportal"
	"github.com/aktobe/geoportal/data/replica"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Directions of the city programme; 0 is the base map.
var Directions = []Titles{
	{EN: "Base map", RU: "Базовая карта", KK: "Негізгі карта"},
	{EN: "Safe city", RU: "Безопасный город", KK: "Қауіпсіз қала"},
	{EN: "Digital akimat", RU: "Цифровой акимат", KK: "Цифрлық әкімдік"},
	{EN: "Education \"Bilim al\"", RU: "Образование «Білім ал»", KK: "«Білім ал» білім беру жүйесі"},
	{EN: "Digital energy, smart utilities and transport", RU: "Цифровая энергетика, умное ЖКХ и транспорт", KK: "Цифрлық энергетика, ақылды ТКШ және көлік"},
	{EN: "Digital medicine", RU: "Цифровая медицина", KK: "Цифрлық медицина"},
	{EN: "Barrier-free and social city", RU: "Безбарьерная среда и социальный город", KK: "Кедергісіз орта және әлеуметтік қала"},
}

// Titles is a text in the three languages of the portal.
type Titles struct {
	KK string `json:"kk"`
	RU string `json:"ru"`
	EN string `json:"en"`
}

// Attribute is one typed column of a layer.
type Attribute struct {
	Name  string `json:"name"`
	Type  string `json:"type"` // text, integer, bigint, double, boolean, date, timestamptz, jsonb
	Title Titles `json:"title"`
	Popup bool   `json:"popup"`
	// Values is the attribute's value dictionary: what each coded value ("park", "photocell")
	// reads as in kk, ru and en. A value with no entry is shown as it is (ValueLabel).
	Values map[string]Titles `json:"values,omitempty"`
}

// Layer is one row of the catalog.
type Layer struct {
	Slug         string          `json:"slug"`
	Title        Titles          `json:"title"`
	Description  Titles          `json:"description"`
	Direction    int             `json:"direction"`
	GeometryType string          `json:"geometry_type"`
	Attributes   []Attribute     `json:"attributes"`
	Style        json.RawMessage `json:"style"`
	MinZoom      int             `json:"min_zoom"`
	MaxZoom      int             `json:"max_zoom"`
	Visibility   string          `json:"visibility"` // public or staff
	Attribution  string          `json:"attribution"`
	TimeColumn   string          `json:"time_column,omitempty"`
	Live         bool            `json:"live"`
	SortOrder    int             `json:"sort_order"`
	// Workflow names the module workflow that alone changes this layer's features (reports,
	// live vehicles, outages, computed areas); empty for layers that take generic writes.
	Workflow     string    `json:"workflow,omitempty"`
	BBox         []float64 `json:"bbox,omitempty"` // west, south, east, north (EPSG:4326)
	FeatureCount int64     `json:"feature_count"`
	Version      int64     `json:"version"`
	UpdatedAt    time.Time `json:"updated_at"`
	CreatedAt    time.Time `json:"created_at"`
}

// Public reports whether anonymous users may see the layer.
func (l *Layer) Public() bool { return l.Visibility == "public" }

// GenericWrites returns nil when the layer's features may be written by generic means (OGC API
// writes, imports), and a conflict naming the workflow to use when a module owns the layer: a
// generic write would skip its transitions, scope checks, history and notices.
func (l *Layer) GenericWrites() error {
	if l.Workflow == "" {
		return nil
	}
	return geoportal.Errorf(geoportal.ECONFLICT, "layer %s is read-only through generic writes (OGC API, imports): its features change through %s",
		l.Slug, l.Workflow)
}

// Attribute returns the named attribute.
func (l *Layer) Attribute(name string) (Attribute, bool) {
	for _, a := range l.Attributes {
		if a.Name == name {
			return a, true
		}
	}
	return Attribute{}, false
}

// Table is the sanitized, schema-qualified name of the layer's table.
func (l *Layer) Table() string { return pgx.Identifier{"layer", l.Slug}.Sanitize() }

var slugRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,47}$`)

// ValidSlug reports whether s can name a layer.
func ValidSlug(s string) bool { return slugRE.MatchString(s) }

// Store reads and writes the catalog and the layers' tables.
type Store struct {
	pool *pgxpool.Pool
	// read serves the reads anyone may ask for (Features, Feature, Search, Nearest, City): pool
	// when not set, else the public read pool or a replica.Reads over it and the replicas (SetReads).
	read Reader
	// catalog serves Layers and Layer: pool, or a replica.Reads over it (SetCatalogReads).
	catalog Reader
	// replicas is told of this store's writes so that this node's next reads see them (SetReads).
	replicas *replica.Set
	// countBudget bounds the exact count of a filtered numberMatched (SetCountBudget).
	countBudget time.Duration
	// indexer keeps the search index current in the background once made (SearchIndexer).
	indexerMu sync.Mutex
	indexer   *SearchIndexer
	// areaLabels keeps AreaLabels' answers until their layers change.
	areaLabels labelCache
}

// NewStore returns a store over pool.
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, read: pool, catalog: pool, countBudget: DefaultCountBudget}
}

// DefaultCountBudget is how long the exact count of a filtered numberMatched may take before the
// planner's estimate is given instead.
const DefaultCountBudget = time.Second

// Reader runs the public reads: a *pgxpool.Pool or a *replica.Reads.
type Reader interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

// SetReadPool makes the reads anyone may ask for (Features, Feature, Search, Nearest) use pool:
// one made with data.PublicReadConfig, with its own size and statement_timeout. Call it before
// serving.
func (s *Store) SetReadPool(pool *pgxpool.Pool) { s.read = pool }

// SetReads makes those reads use r, a replica.Reads over the public read pools of the primary and
// the read replicas of set; the store's feature writes then tell set, so that this node's next
// read of the layer waits for a replica that has the write (or goes to the primary). Call it
// before serving.
func (s *Store) SetReads(r Reader, set *replica.Set) { s.read, s.replicas = r, set }

// SetCatalogReads makes the catalog reads (Layers, Layer) use r, a replica.Reads over the
// primary's pool. A read of one layer goes to a replica that has replayed every change of that
// layer this node heard of (its features, which change the count and extent, and its catalog
// entry: layer_catalog_changed, data/migrations/0200), the list of every layer to one that has
// replayed every change heard of; else to the primary. A read that must see this node's own
// catalog write runs under replica.OnPrimary (the importers do). Call it before serving.
func (s *Store) SetCatalogReads(r Reader) { s.catalog = r }

// SetCountBudget sets how long counting a filtered numberMatched may take (0: no bound) before
// the estimate is used. Call it before serving.
func (s *Store) SetCountBudget(d time.Duration) { s.countBudget = d }

// Pool is the store's connection pool, for other stores in the same database.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

const layerColumns = `slug, title_kk, title_ru, title_en, description_kk, description_ru, description_en,
	direction, geometry_type, attributes, style, min_zoom, max_zoom, visibility, attribution,
	coalesce(time_column, ''), live, sort_order, coalesce(workflow, ''),
	CASE WHEN bbox IS NULL THEN NULL ELSE ARRAY[ST_XMin(bbox), ST_YMin(bbox), ST_XMax(bbox), ST_YMax(bbox)] END,
	feature_count, version, updated_at, created_at`

func scanLayer(row pgx.Row) (Layer, error) {
	var l Layer
	var attrs []byte
	err := row.Scan(&l.Slug, &l.Title.KK, &l.Title.RU, &l.Title.EN, &l.Description.KK, &l.Description.RU,
		&l.Description.EN, &l.Direction, &l.GeometryType, &attrs, &l.Style, &l.MinZoom, &l.MaxZoom,
		&l.Visibility, &l.Attribution, &l.TimeColumn, &l.Live, &l.SortOrder, &l.Workflow, &l.BBox, &l.FeatureCount,
		&l.Version, &l.UpdatedAt, &l.CreatedAt)
	if err != nil {
		return l, err
	}
	if err := json.Unmarshal(attrs, &l.Attributes); err != nil {
		return l, fmt.Errorf("layer %s: attributes: %w", l.Slug, err)
	}
	return l, nil
}

// Layers returns the catalog in display order; staff-only layers only when staff is true.
func (s *Store) Layers(ctx context.Context, staff bool) ([]Layer, error) {
	// Every layer's count and extent are in the list: it needs every change heard of.
	rows, err := s.catalog.Query(replica.WithLayers(ctx), `SELECT `+layerColumns+` FROM geoportal.layers
		WHERE $1 OR visibility = 'public' ORDER BY direction, sort_order, slug`, staff)
	if err != nil {
		return nil, fmt.Errorf("list layers: %w", err)
	}
	defer rows.Close()
	var out []Layer
	for rows.Next() {
		l, err := scanLayer(rows)
		if err != nil {
			return nil, fmt.Errorf("list layers: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// Layer returns one layer. A staff-only layer is "not found" unless staff is true, so that its
// existence does not leak.
func (s *Store) Layer(ctx context.Context, slug string, staff bool) (Layer, error) {
	if !ValidSlug(slug) {
		return Layer{}, geoportal.Errorf(geoportal.ENOTFOUND, "layer %q not found", slug)
	}
	l, err := scanLayer(s.catalog.QueryRow(replica.WithLayers(ctx, slug), `SELECT `+layerColumns+` FROM geoportal.layers
		WHERE slug = $1 AND ($2 OR visibility = 'public')`, slug, staff))
	if errors.Is(err, pgx.ErrNoRows) {
		return Layer{}, geoportal.Errorf(geoportal.ENOTFOUND, "layer %q not found", slug)
	} else if err != nil {
		return Layer{}, fmt.Errorf("layer %s: %w", slug, err)
	}
	return l, nil
}

// Versions returns every layer's data version, for cache keys.
func (s *Store) Versions(ctx context.Context) (map[string]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT slug, version FROM geoportal.layers`)
	if err != nil {
		return nil, fmt.Errorf("layer versions: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var slug string
		var v int64
		if err := rows.Scan(&slug, &v); err != nil {
			return nil, err
		}
		out[slug] = v
	}
	return out, rows.Err()
}

// CreateLayer adds a layer and its typed table in tx (or in its own transaction when tx is nil).
func (s *Store) CreateLayer(ctx context.Context, tx pgx.Tx, l Layer) error {
	if err := ValidateValues(l.Attributes); err != nil {
		return err
	}
	def := map[string]any{
		"slug": l.Slug, "title_kk": l.Title.KK, "title_ru": l.Title.RU, "title_en": l.Title.EN,
		"description_kk": l.Description.KK, "description_ru": l.Description.RU, "description_en": l.Description.EN,
		"direction": l.Direction, "geometry_type": l.GeometryType, "attributes": l.Attributes,
		"min_zoom": l.MinZoom, "max_zoom": l.MaxZoom, "visibility": l.Visibility,
		"attribution": l.Attribution, "live": l.Live, "sort_order": l.SortOrder,
	}
	if l.Attributes == nil {
		def["attributes"] = []Attribute{}
	}
	if len(l.Style) > 0 {
		def["style"] = l.Style
	}
	if l.TimeColumn != "" {
		def["time_column"] = l.TimeColumn
	}
	if l.Visibility == "" {
		def["visibility"] = "public"
	}
	if l.MaxZoom == 0 {
		def["max_zoom"] = 22
	}
	b, err := json.Marshal(def)
	if err != nil {
		return err
	}
	if tx != nil {
		_, err = tx.Exec(ctx, `SELECT geoportal.create_layer($1::jsonb)`, b)
	} else {
		_, err = s.pool.Exec(ctx, `SELECT geoportal.create_layer($1::jsonb)`, b)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "23505" || pgErr.Code == "42P07") {
		// Another transaction created the layer since it was looked for: its catalog row (or its
		// table's name) is taken. The same answer as when the two come one after the other.
		return LayerExistsError(l.Slug)
	}
	if err != nil {
		return mapPgError(fmt.Errorf("create layer %s: %w", l.Slug, err))
	}
	if tx == nil {
		s.replicas.Wrote(ctx, l.Slug)
	}
	return nil
}

// SaveValues stores the value dictionaries of l's attributes (Layer.ApplyValues) in tx, which
// holds the layer's catalog row locked.
func (s *Store) SaveValues(ctx context.Context, tx pgx.Tx, l Layer) error {
	if err := ValidateValues(l.Attributes); err != nil {
		return err
	}
	b, err := json.Marshal(l.Attributes)
	if err != nil {
		return err
	}
	// Only the dictionaries change: each stored attribute gets the "values" of the attribute of
	// the same name, so that a column added meanwhile is kept.
	tag, err := tx.Exec(ctx, `UPDATE geoportal.layers SET attributes = (
		SELECT coalesce(jsonb_agg(CASE WHEN n.a ? 'values' THEN x || jsonb_build_object('values', n.a->'values') ELSE x END ORDER BY o), '[]')
		FROM jsonb_array_elements(attributes) WITH ORDINALITY AS e(x, o)
		LEFT JOIN LATERAL (SELECT a FROM jsonb_array_elements($2::jsonb) a WHERE a->>'name' = x->>'name' LIMIT 1) n ON true)
		WHERE slug = $1`, l.Slug, b)
	if err != nil {
		return mapPgError(fmt.Errorf("layer %s: save value dictionaries: %w", l.Slug, err))
	}
	if tag.RowsAffected() == 0 {
		return geoportal.Errorf(geoportal.ENOTFOUND, "layer %q not found", l.Slug)
	}
	return nil
}

// LayerExistsError is the error for creating a layer whose name is taken (ECONFLICT).
func LayerExistsError(slug string) error {
	return geoportal.Errorf(geoportal.ECONFLICT, "layer %s already exists: import with mode replace, append or upsert, or choose another name", slug)
}

// mapPgError turns the database's answers to bad requests into domain errors.
func mapPgError(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch pgErr.Code {
	case "22023", "22P02", "23502", "23514", "22003", "22007", "22008":
		return &geoportal.Error{Code: geoportal.EINVALID, Message: pgErr.Message}
	case "23505":
		return &geoportal.Error{Code: geoportal.ECONFLICT, Message: pgErr.Message}
	case "P0002":
		return &geoportal.Error{Code: geoportal.ENOTFOUND, Message: pgErr.Message}
	case "57014":
		if strings.Contains(pgErr.Message, "statement timeout") {
			return ErrReadBudget
		}
	}
	return err
}

// ErrReadBudget is the answer to a read that ran past the statement_timeout of the public read
// pool (data.PublicReadConfig).
var ErrReadBudget = &geoportal.Error{Code: geoportal.EUNAVAILABLE,
	Message: "the query took longer than the time allowed for one read: narrow it (a bbox, a filter, a smaller limit) or try again later"}
