package layers

import (
	"context"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/aktobe/geoportal"
	"github.com/jackc/pgx/v5"
)

// Languages of the portal, in the order the catalog stores them.
var Languages = []string{"kk", "ru", "en"}

// ValidLanguage reports whether lang is one of the portal's languages.
func ValidLanguage(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// Limits of the search and nearest queries.
const (
	MaxSearchQuery = 100 // characters
	MaxSearchLimit = 50
	MaxNearest     = 50
)

// Hit is one feature found by Search or Nearest: enough to list it and to jump to it on the map.
type Hit struct {
	Layer      string     `json:"layer"`
	LayerTitle Titles     `json:"layer_title"`
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Address    string     `json:"address,omitempty"`
	Point      [2]float64 `json:"point"` // lon, lat: a point on the feature
	Score      float64    `json:"score,omitempty"`
	DistanceM  *float64   `json:"distance_m,omitempty"`
}

// searchColumns are the text attributes the search box looks at, by role.
var nameColumns = []string{"name", "name_kk", "name_ru", "name_en"}

// textColumns returns which of the searchable columns the layer has as text attributes.
func textColumns(l *Layer) (names []string, address bool) {
	for _, c := range nameColumns {
		if a, ok := l.Attribute(c); ok && a.Type == "text" {
			names = append(names, c)
		}
	}
	if a, ok := l.Attribute("address"); ok && a.Type == "text" {
		address = true
	}
	return names, address
}

// displayName is an SQL expression naming a feature in lang: name_<lang>, else name, else the
// first other name column, else the empty string.
func displayName(names []string, lang string) string {
	var order []string
	for _, c := range names {
		if c == "name_"+lang {
			order = append(order, c)
		}
	}
	for _, c := range names {
		if c == "name" {
			order = append(order, c)
		}
	}
	for _, c := range names {
		if c != "name" && c != "name_"+lang {
			order = append(order, c)
		}
	}
	parts := make([]string, 0, len(order)+1)
	for _, c := range order {
		parts = append(parts, "nullif("+pgx.Identifier{c}.Sanitize()+", '')")
	}
	parts = append(parts, "''")
	return "coalesce(" + strings.Join(parts, ", ") + ")"
}

// escapeLike quotes LIKE's wildcards so that user text matches literally.
func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// Search finds features of the visible layers whose name or address matches q: typo-tolerant
// (pg_trgm word similarity) and substring matches, best first. Names are given in lang.
func (s *Store) Search(ctx context.Context, q, lang string, limit int, staff bool) ([]Hit, error) {
	q = strings.Join(strings.Fields(q), " ")
	switch {
	case q == "":
		return nil, geoportal.Errorf(geoportal.EINVALID, "search: query q is empty")
	case utf8.RuneCountInString(q) > MaxSearchQuery:
		return nil, geoportal.Errorf(geoportal.EINVALID, "search: query q is longer than %d characters", MaxSearchQuery)
	case !utf8.ValidString(q):
		return nil, geoportal.Errorf(geoportal.EINVALID, "search: query q is not valid UTF-8")
	case !ValidLanguage(lang):
		return nil, geoportal.Errorf(geoportal.EINVALID, "search: lang %q is not one of kk, ru, en", lang)
	case limit < 1 || limit > MaxSearchLimit:
		return nil, geoportal.Errorf(geoportal.EINVALID, "search: limit %d is not between 1 and %d", limit, MaxSearchLimit)
	}
	ls, err := s.Layers(ctx, staff)
	if err != nil {
		return nil, err
	}
	byLayer := map[string]Titles{}
	var parts, titles []string
	for i := range ls {
		l := &ls[i]
		names, address := textColumns(l)
		if len(names) == 0 && !address {
			continue
		}
		byLayer[l.Slug] = l.Title
		cols := append([]string{}, names...)
		if address {
			cols = append(cols, "address")
		}
		var sims, conds []string
		for _, c := range cols {
			id := pgx.Identifier{c}.Sanitize()
			// word_similarity finds the query inside longer names despite typos; a prefix
			// match of the whole name ranks first, any substring match next.
			sims = append(sims, fmt.Sprintf("word_similarity($1, %[1]s) + CASE WHEN %[1]s ILIKE $3 THEN 0.5 WHEN %[1]s ILIKE $2 THEN 0.25 ELSE 0 END", id))
			conds = append(conds, fmt.Sprintf("%[1]s %%> $1 OR %[1]s ILIKE $2", id))
		}
		addr := "''"
		if address {
			addr = `coalesce("address", '')`
		}
		name := displayName(names, lang)
		if len(names) == 0 {
			name = addr
		}
		// A query naming the kind of place ("парк", "мектеп", "clinic") lifts that layer's
		// features above others that merely share the word.
		titles = append(titles, l.Title.KK+" "+l.Title.RU+" "+l.Title.EN)
		kind := fmt.Sprintf("CASE WHEN word_similarity($1, ($5::text[])[%d]) >= 0.6 THEN 0.3 ELSE 0 END", len(titles))
		base := 0
		if l.Direction == 0 {
			base = 1 // the base map's buildings and streets come after named places on a tie
		}
		parts = append(parts, fmt.Sprintf(`(SELECT %s::text AS layer, id, %s AS name, %s AS address,
			ST_PointOnSurface(geom) AS pt, greatest(%s) + %s AS score, %d AS base
			FROM %s WHERE %s ORDER BY score DESC LIMIT $4)`,
			quoteLiteral(l.Slug), name, addr, strings.Join(sims, ", "), kind, base, l.Table(), strings.Join(conds, " OR ")))
	}
	if len(parts) == 0 {
		return []Hit{}, nil
	}
	sql := `SELECT layer, id, name, address, ST_X(pt), ST_Y(pt), score FROM (` +
		strings.Join(parts, " UNION ALL ") + `) AS hits
		ORDER BY score DESC, base, length(name), layer, id LIMIT $4`
	tx, err := s.read.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer tx.Rollback(ctx)
	// Typos cost trigrams; 0.4 keeps one wrong letter in a short word findable.
	// The planner prices the trigram operators like cheap comparisons and scans small tables
	// row by row, computing word_similarity for each; the trigram indexes are much faster.
	// That makes the estimated cost of this long UNION large enough to trigger JIT compilation,
	// which takes seconds for a query that runs in milliseconds: off.
	if _, err := tx.Exec(ctx, `SET LOCAL pg_trgm.word_similarity_threshold = 0.4; SET LOCAL enable_seqscan = off; SET LOCAL jit = off`); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	esc := escapeLike(q)
	rows, err := tx.Query(ctx, sql, q, "%"+esc+"%", esc+"%", limit, titles)
	if err != nil {
		return nil, mapPgError(fmt.Errorf("search %q: %w", q, err))
	}
	hits, err := scanHits(rows, byLayer, false)
	if err != nil {
		return nil, mapPgError(fmt.Errorf("search %q: %w", q, err))
	}
	return hits, nil
}

// Nearest returns the limit features of layer closest to (lon, lat), nearest first, with their
// distance in metres on the spheroid.
func (s *Store) Nearest(ctx context.Context, slug string, lon, lat float64, lang string, limit int, staff bool) ([]Hit, error) {
	switch {
	case math.IsNaN(lon) || lon < -180 || lon > 180:
		return nil, geoportal.Errorf(geoportal.EINVALID, "nearest: lon %v is not between -180 and 180", lon)
	case math.IsNaN(lat) || lat < -90 || lat > 90:
		return nil, geoportal.Errorf(geoportal.EINVALID, "nearest: lat %v is not between -90 and 90", lat)
	case limit < 1 || limit > MaxNearest:
		return nil, geoportal.Errorf(geoportal.EINVALID, "nearest: limit %d is not between 1 and %d", limit, MaxNearest)
	case !ValidLanguage(lang):
		return nil, geoportal.Errorf(geoportal.EINVALID, "nearest: lang %q is not one of kk, ru, en", lang)
	}
	l, err := s.Layer(ctx, slug, staff)
	if err != nil {
		return nil, err
	}
	names, address := textColumns(&l)
	addr := "''"
	if address {
		addr = `coalesce("address", '')`
	}
	name := displayName(names, lang)
	if len(names) == 0 {
		name = addr
	}
	// The index orders candidates by planar distance in degrees, which at Aktobe's latitude
	// stretches east-west; take a few more than asked and order them by true distance.
	sql := fmt.Sprintf(`WITH here AS (SELECT ST_SetSRID(ST_MakePoint($1, $2), 4326) AS g),
		candidates AS (
			SELECT t.id, %s AS name, %s AS address, t.geom FROM %s t, here
			ORDER BY t.geom <-> here.g LIMIT $3 * 4 + 16)
		SELECT %s::text, c.id, c.name, c.address,
			ST_X(ST_PointOnSurface(c.geom)), ST_Y(ST_PointOnSurface(c.geom)),
			ST_Distance(c.geom::geography, here.g::geography)
		FROM candidates c, here ORDER BY 7, c.id LIMIT $3`, name, addr, l.Table(), quoteLiteral(l.Slug))
	rows, err := s.read.Query(ctx, sql, lon, lat, limit)
	if err != nil {
		return nil, mapPgError(fmt.Errorf("nearest %s: %w", slug, err))
	}
	hits, err := scanHits(rows, map[string]Titles{l.Slug: l.Title}, true)
	if err != nil {
		return nil, mapPgError(fmt.Errorf("nearest %s: %w", slug, err))
	}
	return hits, nil
}

func scanHits(rows pgx.Rows, titles map[string]Titles, distance bool) ([]Hit, error) {
	defer rows.Close()
	hits := []Hit{}
	for rows.Next() {
		var h Hit
		var last float64
		if err := rows.Scan(&h.Layer, &h.ID, &h.Name, &h.Address, &h.Point[0], &h.Point[1], &last); err != nil {
			return nil, err
		}
		if distance {
			d := math.Round(last*10) / 10
			h.DistanceM = &d
		} else {
			h.Score = math.Round(last*1000) / 1000
		}
		h.LayerTitle = titles[h.Layer]
		hits = append(hits, h)
	}
	return hits, rows.Err()
}

// quoteLiteral quotes a slug (already checked by ValidSlug's pattern in the catalog) as an SQL
// string literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
