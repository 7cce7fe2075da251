package layers

import (
	"context"
	"fmt"
	"math"
	"strings"
	"unicode"
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
	// WalkM is the walking distance along the streets (GET /api/nearest?by=walk), absent when
	// the feature cannot be reached on foot within the walk searched.
	WalkM *float64 `json:"walk_m,omitempty"`
	// Search only: the stop code, how many features the result merges (a street's segments,
	// stops of one name) with their extent, and what matched: name, address, code or category.
	Code  string      `json:"code,omitempty"`
	Count int         `json:"count,omitempty"`
	BBox  *[4]float64 `json:"bbox,omitempty"`
	Match string      `json:"match,omitempty"`
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

// SearchQuery is one search: the text, the language of the names, a page of the results and,
// when known, where the user is (category results come nearest first).
type SearchQuery struct {
	Q      string
	Lang   string
	Limit  int
	Offset int
	Near   *[2]float64 // lon, lat
	Staff  bool
}

// SearchPage is one page of results and how many there are in all.
type SearchPage struct {
	Query      string   `json:"query"`
	Total      int      `json:"total"`
	Offset     int      `json:"offset"`
	Limit      int      `json:"limit"`
	Categories []string `json:"categories"` // layers whose kind the query names
	Results    []Hit    `json:"results"`
}

// MaxSearchOffset bounds paging: deeper pages are no use to anyone typing into a search box.
const MaxSearchOffset = 1000

// validSearch checks a query; its errors name the parameter at fault.
func validSearch(q *SearchQuery) error {
	raw := q.Q
	switch {
	case !utf8.ValidString(raw):
		return geoportal.Errorf(geoportal.EINVALID, "search: query q is not valid UTF-8")
	case strings.IndexFunc(raw, func(r rune) bool { return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' }) >= 0:
		return geoportal.Errorf(geoportal.EINVALID, "search: query q contains control characters")
	}
	q.Q = strings.Join(strings.Fields(raw), " ")
	switch {
	case q.Q == "":
		return geoportal.Errorf(geoportal.EINVALID, "search: query q is empty")
	case utf8.RuneCountInString(q.Q) > MaxSearchQuery:
		return geoportal.Errorf(geoportal.EINVALID, "search: query q is longer than %d characters", MaxSearchQuery)
	case !ValidLanguage(q.Lang):
		return geoportal.Errorf(geoportal.EINVALID, "search: lang %q is not one of kk, ru, en", q.Lang)
	case q.Limit < 1 || q.Limit > MaxSearchLimit:
		return geoportal.Errorf(geoportal.EINVALID, "search: limit %d is not between 1 and %d", q.Limit, MaxSearchLimit)
	case q.Offset < 0 || q.Offset > MaxSearchOffset:
		return geoportal.Errorf(geoportal.EINVALID, "search: offset %d is not between 0 and %d", q.Offset, MaxSearchOffset)
	}
	if q.Near != nil {
		lon, lat := q.Near[0], q.Near[1]
		if math.IsNaN(lon) || lon < -180 || lon > 180 {
			return geoportal.Errorf(geoportal.EINVALID, "search: lon %v is not between -180 and 180", lon)
		}
		if math.IsNaN(lat) || lat < -90 || lat > 90 {
			return geoportal.Errorf(geoportal.EINVALID, "search: lat %v is not between -90 and 90", lat)
		}
	}
	return nil
}

// Search finds features of the visible layers by name, address, house number, stop code or the
// word for their kind, in kk, ru or en, in Cyrillic or Latin letters, typo-tolerant (pg_trgm word
// similarity over geoportal.search_index): best first, features of the same layer with the same
// name and address merged into one result with a count. Names are given in lang.
func (s *Store) Search(ctx context.Context, q, lang string, limit int, staff bool) ([]Hit, error) {
	p, err := s.Find(ctx, SearchQuery{Q: q, Lang: lang, Limit: limit, Staff: staff})
	if err != nil {
		return nil, err
	}
	return p.Results, nil
}

// Find is Search with paging and the user's position: one page of results and the total.
func (s *Store) Find(ctx context.Context, q SearchQuery) (SearchPage, error) {
	if err := validSearch(&q); err != nil {
		return SearchPage{}, err
	}
	page := SearchPage{Query: q.Q, Offset: q.Offset, Limit: q.Limit, Categories: []string{}, Results: []Hit{}}
	all, err := s.Layers(ctx, true)
	if err != nil {
		return page, err
	}
	// With the background indexer listening the index follows the changes by itself and the
	// search reads it as it is (the rows of a layer being rebuilt as they were until the rebuild
	// commits); without it, a stale layer is rebuilt here, before the read.
	if !s.searchIndexLive() {
		stale, err := s.searchIndexStale(ctx, all)
		if err != nil {
			return page, err
		}
		if stale {
			if err := s.RefreshSearchIndex(ctx); err != nil {
				return page, err
			}
		}
	}
	titles := map[string]Titles{}
	var visible []string
	for i := range all {
		l := &all[i]
		if !q.Staff && !l.Public() {
			continue
		}
		if names, address, code := searchable(l); len(names) > 0 || address || code {
			titles[l.Slug] = l.Title
			visible = append(visible, l.Slug)
		}
	}
	nq := Normalize(q.Q)
	if nq == "" || len(visible) == 0 {
		return page, nil // punctuation only: nothing to look for
	}
	exactKinds, nearKinds := categoryOf(q.Q, titles)
	if len(exactKinds)+len(nearKinds) > 0 {
		page.Categories = append(exactKinds, nearKinds...)
	}
	street, house := splitAddress(q.Q)
	code := ""
	if c := normCode(q.Q); utf8.RuneCountInString(c) >= 3 && strings.ContainsAny(c, "0123456789") && !strings.Contains(q.Q, " ") {
		code = c
	}
	var lon, lat *float64
	if q.Near != nil {
		lon, lat = &q.Near[0], &q.Near[1]
	}
	esc := escapeLike(nq)
	// Typos cost trigrams; 0.4 keeps one wrong letter in a short word findable. The estimated
	// cost of the trigram operators can trigger JIT compilation, which takes longer than the
	// query itself: off. Custom plans let the planner drop the branches of searchMatches whose
	// parameter is empty. The settings go with BEGIN, in one round trip.
	tx, err := s.read.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, BeginQuery: searchBegin})
	if err != nil {
		return page, fmt.Errorf("search: %w", err)
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, searchSQL, nq, esc+"%", "%"+esc+"%", house, street, code, exactKinds,
		visible, q.Lang, lon, lat, nearKinds, q.Limit, q.Offset)
	if err != nil {
		return page, mapPgError(fmt.Errorf("search %q: %w", q.Q, err))
	}
	defer rows.Close()
	for rows.Next() {
		var h Hit
		var score float64
		var dist *float64
		var bbox []float64
		if err := rows.Scan(&h.Layer, &h.ID, &h.Name, &h.Address, &h.Code, &h.Point[0], &h.Point[1], &score, &dist,
			&h.Count, &bbox, &h.Match, &page.Total); err != nil {
			return page, mapPgError(fmt.Errorf("search %q: %w", q.Q, err))
		}
		h.Score = math.Round(score*1000) / 1000
		if dist != nil {
			d := math.Round(*dist*10) / 10
			h.DistanceM = &d
		}
		if len(bbox) == 4 && (bbox[0] != bbox[2] || bbox[1] != bbox[3]) {
			h.BBox = &[4]float64{bbox[0], bbox[1], bbox[2], bbox[3]}
		}
		h.LayerTitle = titles[h.Layer]
		page.Results = append(page.Results, h)
	}
	if err := rows.Err(); err != nil {
		return page, mapPgError(fmt.Errorf("search %q: %w", q.Q, err))
	}
	if len(page.Results) == 0 && q.Offset > 0 {
		// Past the last page: the total is still worth knowing.
		if err := tx.QueryRow(ctx, `SELECT count(DISTINCT (m.layer, m.merge_key)) FROM (`+searchMatches+`) m`, nq, esc+"%", "%"+esc+"%",
			house, street, code, exactKinds, visible, q.Lang, lon, lat, nearKinds).Scan(&page.Total); err != nil {
			return page, mapPgError(fmt.Errorf("search %q: %w", q.Q, err))
		}
	}
	return page, nil
}

// searchBegin opens the search's read-only transaction with its settings.
const searchBegin = `BEGIN READ ONLY; SET LOCAL pg_trgm.word_similarity_threshold = 0.4; SET LOCAL jit = off;
	SET LOCAL plan_cache_mode = force_custom_plan`

// searchMatches selects the index rows a query matches, with their score:
// $1 the normalised query, $2/$3 its prefix and substring LIKE patterns, $4/$5 a house number and
// street read from it, $6 a code, $7 the layers whose kind it names, $8 the visible layers, $9
// the language, $10/$11 the user's position or NULL, $12 the layers whose kind it names but
// for a letter (categoryOf): their features score at least 0.6 (not 0.6 more), below a good
// name match (a whole word of a name typed with one wrong letter scores about 0.75). d2 is the distance in metres on the sphere
// (within 0.5% of the spheroid's, and cheap enough for every match).
const searchMatches = `
	SELECT i.layer, i.feature_id, i.address, i.code, i.merge_key, i.members, i.priority, i.point, i.bbox,
		greatest(
			word_similarity($1, i.terms)
				+ CASE WHEN i.terms = $1 THEN 0.75 WHEN i.terms LIKE $2 THEN 0.5 WHEN i.terms LIKE $3 THEN 0.25 ELSE 0 END,
			CASE WHEN $4 <> '' AND i.house = $4 AND i.street %> $5 THEN 1.5 + word_similarity($5, i.street) ELSE 0 END,
			CASE WHEN $6 <> '' AND i.code_norm = $6 THEN 3 WHEN $6 <> '' AND i.code_norm LIKE $6 || '%' THEN 2.5 ELSE 0 END,
			CASE WHEN i.layer = ANY($12) THEN 0.6 ELSE 0 END
		) + CASE WHEN i.layer = ANY($7) THEN 2 ELSE 0 END AS score,
		CASE WHEN $6 <> '' AND i.code_norm LIKE $6 || '%' THEN 'code'
			WHEN $4 <> '' AND i.house = $4 AND i.street %> $5 THEN 'address'
			WHEN i.layer = ANY($7 || $12) THEN 'category' ELSE 'name' END AS match,
		CASE WHEN $10::float8 IS NULL THEN NULL
			ELSE ST_DistanceSphere(i.point, ST_SetSRID(ST_MakePoint($10, $11), 4326)) END AS d2,
		coalesce(nullif(CASE $9 WHEN 'kk' THEN i.name_kk WHEN 'ru' THEN i.name_ru ELSE i.name_en END, ''),
			nullif(i.name, ''), nullif(i.name_ru, ''), nullif(i.name_kk, ''), nullif(i.name_en, ''), i.address) AS display
	FROM geoportal.search_index i
	WHERE i.ctid = ANY (ARRAY(
		-- One branch per way of matching, each answered by its own index (the trigram index on
		-- terms, the house number, the code, the primary key's layer): an OR of them all is
		-- planned as one scan that cannot use them together and falls back to reading the whole
		-- table. A branch whose parameter is empty is cut at planning (custom plans). The rows
		-- are fetched by their ctid (a TID scan, which drops the duplicates of rows matched
		-- twice), within the statement's snapshot: less than half the time of a semi-join
		-- on the primary key for the hundreds of matches of a street name.
		SELECT ctid FROM geoportal.search_index WHERE terms %> $1
		UNION ALL SELECT ctid FROM geoportal.search_index WHERE terms LIKE $3
		UNION ALL SELECT ctid FROM geoportal.search_index
			WHERE $4 <> '' AND house <> '' AND house = $4 AND street %> $5
		UNION ALL SELECT ctid FROM geoportal.search_index
			WHERE $6 <> '' AND code_norm <> '' AND code_norm LIKE $6 || '%'
		UNION ALL SELECT ctid FROM geoportal.search_index WHERE layer = ANY($7 || $12)))
		-- not an index condition: the visible layers are nearly all of them, the matches few
		AND i.layer || '' = ANY($8)`

// searchSQL merges the matches of one layer with one name and address (the stops of one name
// along a street are one result with a count and the extent of them all, shown by the nearest),
// counts the merged results and returns page $13 at offset $14: by score, or category matches
// nearest first when the position is known.
const searchSQL = `WITH m AS (` + searchMatches + `),
	g AS (
		SELECT m.*, row_number() OVER (PARTITION BY layer, merge_key ORDER BY d2 NULLS LAST, score DESC, feature_id) AS rn,
			CASE WHEN $10::float8 IS NOT NULL AND layer = ANY($7) THEN 0 ELSE 1 END AS near_first,
			max(score) OVER w AS best, sum(members) OVER w AS n, min(priority) OVER w AS prio,
			CASE WHEN count(*) OVER w > 1 OR bbox IS NOT NULL THEN ST_Extent(coalesce(bbox, point)) OVER w END AS ext
		FROM m WINDOW w AS (PARTITION BY layer, merge_key)),
	page AS (
		SELECT g.*, count(*) OVER () AS total FROM g WHERE rn = 1
		ORDER BY near_first, CASE WHEN near_first = 0 THEN d2 END, best DESC, prio, d2 NULLS LAST, length(display), layer, feature_id
		LIMIT $13 OFFSET $14)
	SELECT layer, feature_id, display, CASE WHEN address = display THEN '' ELSE address END, code, ST_X(point), ST_Y(point), best,
		d2, n::int, CASE WHEN n > 1 THEN ARRAY[ST_XMin(ext), ST_YMin(ext), ST_XMax(ext), ST_YMax(ext)] END,
		match, total::int
	FROM page
	ORDER BY near_first, CASE WHEN near_first = 0 THEN d2 END, best DESC, prio, d2 NULLS LAST, length(display), layer, feature_id`

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
