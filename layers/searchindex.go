package layers

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// searchable lists a layer's text columns the search index reads: the name columns, address and
// code. A layer with none of them is not indexed.
func searchable(l *Layer) (names []string, address, code bool) {
	names, address = textColumns(l)
	if a, ok := l.Attribute("code"); ok && a.Type == "text" {
		code = true
	}
	return names, address, code
}

func isLine(l *Layer) bool { return strings.HasSuffix(l.GeometryType, "LineString") }

// searchPriority orders results of equal score: streets, then the thematic layers' places, then
// the rest of the base map (buildings, districts).
func searchPriority(l *Layer) int {
	switch {
	case l.Direction == 0 && isLine(l):
		return 0
	case l.Direction == 0:
		return 2
	}
	return 1
}

// RefreshSearchIndex rebuilds the search index rows of every searchable layer whose data changed
// since they were built (its version in the catalog differs from the one in
// geoportal.search_index_state). It writes on the primary. The SearchIndexer calls it in the
// background after changes; without one running, Find calls it before reading a stale index.
func (s *Store) RefreshSearchIndex(ctx context.Context) error {
	ls, err := s.Layers(ctx, true)
	if err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	built := map[string]int64{}
	rows, err := s.pool.Query(ctx, `SELECT layer, version FROM geoportal.search_index_state`)
	if err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	for rows.Next() {
		var slug string
		var v int64
		if err := rows.Scan(&slug, &v); err != nil {
			rows.Close()
			return fmt.Errorf("search index: %w", err)
		}
		built[slug] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	changed := 0
	for i := range ls {
		l := &ls[i]
		names, address, code := searchable(l)
		if len(names) == 0 && !address && !code {
			continue
		}
		if v, ok := built[l.Slug]; ok && v == l.Version {
			continue
		}
		n, err := s.indexLayer(ctx, l)
		if err != nil {
			return err
		}
		changed += n
	}
	// After a large change (the first build, a demo load, an import) the planner needs fresh
	// statistics at once, not at autovacuum's next round, to pick the indexes: once, after
	// every layer is in.
	if changed >= 500 {
		if _, err := s.pool.Exec(ctx, `ANALYZE geoportal.search_index`); err != nil {
			return fmt.Errorf("search index: analyze: %w", err)
		}
	}
	return nil
}

// searchIndexStale reports whether some searchable layer changed since its index rows were built.
func (s *Store) searchIndexStale(ctx context.Context, ls []Layer) (bool, error) {
	var slugs []string
	var versions []int64
	for i := range ls {
		names, address, code := searchable(&ls[i])
		if len(names) > 0 || address || code {
			slugs = append(slugs, ls[i].Slug)
			versions = append(versions, ls[i].Version)
		}
	}
	var stale bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (
		SELECT 1 FROM unnest($1::text[], $2::bigint[]) AS l(slug, version)
		LEFT JOIN geoportal.search_index_state st ON st.layer = l.slug
		WHERE st.version IS DISTINCT FROM l.version)`, slugs, versions).Scan(&stale)
	if err != nil {
		return false, fmt.Errorf("search index: %w", err)
	}
	return stale, nil
}

// indexLayer replaces the layer's index rows in one transaction and returns how many rows it
// wrote or deleted. An advisory lock keeps two processes from building the same layer at once;
// the second finds it built and does nothing. Searches meanwhile read the rows as they were
// before the transaction.
func (s *Store) indexLayer(ctx context.Context, l *Layer) (int, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("search index %s: %w", l.Slug, err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('geoportal.search_index'), hashtext($1))`, l.Slug); err != nil {
		return 0, fmt.Errorf("search index %s: %w", l.Slug, err)
	}
	// The version is read before the rows: a write committed in between is in the rows but
	// not in the version, so the next search rebuilds once more rather than miss it.
	var version int64
	var builtVersion *int64
	err = tx.QueryRow(ctx, `SELECT l.version, st.version FROM geoportal.layers l
		LEFT JOIN geoportal.search_index_state st ON st.layer = l.slug WHERE l.slug = $1`, l.Slug).Scan(&version, &builtVersion)
	if err == pgx.ErrNoRows {
		return 0, nil // dropped meanwhile
	}
	if err != nil {
		return 0, fmt.Errorf("search index %s: %w", l.Slug, err)
	}
	if builtVersion != nil && *builtVersion == version {
		return 0, nil
	}
	old := map[int64]string{}
	drows, err := tx.Query(ctx, `SELECT feature_id, digest FROM geoportal.search_index WHERE layer = $1`, l.Slug)
	if err != nil {
		return 0, fmt.Errorf("search index %s: %w", l.Slug, err)
	}
	for drows.Next() {
		var id int64
		var d string
		if err := drows.Scan(&id, &d); err != nil {
			drows.Close()
			return 0, fmt.Errorf("search index %s: %w", l.Slug, err)
		}
		old[id] = d
	}
	drows.Close()
	if err := drows.Err(); err != nil {
		return 0, fmt.Errorf("search index %s: %w", l.Slug, err)
	}
	names, address, code := searchable(l)
	col := func(c string, have bool) string {
		if !have {
			return "''"
		}
		return "coalesce(" + pgx.Identifier{c}.Sanitize() + ", '')"
	}
	has := map[string]bool{}
	for _, c := range names {
		has[c] = true
	}
	sel := []string{col("name", has["name"]), col("name_kk", has["name_kk"]), col("name_ru", has["name_ru"]),
		col("name_en", has["name_en"]), col("address", address), col("code", code)}
	var sql string
	if isLine(l) {
		// A street is drawn as many segments of one name: one row for them all, found by its
		// name and shown by its extent.
		sql = fmt.Sprintf(`SELECT min(id), %[1]s, count(*)::int,
			ST_X(ST_PointOnSurface((array_agg(geom ORDER BY ST_Length(geom) DESC))[1])),
			ST_Y(ST_PointOnSurface((array_agg(geom ORDER BY ST_Length(geom) DESC))[1])),
			ARRAY[ST_XMin(ST_Extent(geom)), ST_YMin(ST_Extent(geom)), ST_XMax(ST_Extent(geom)), ST_YMax(ST_Extent(geom))]
			FROM %[2]s WHERE geom IS NOT NULL GROUP BY 2, 3, 4, 5, 6, 7`, strings.Join(sel, ", "), l.Table())
	} else {
		sql = fmt.Sprintf(`SELECT id, %s, 1, ST_X(p), ST_Y(p), NULL::float8[]
			FROM (SELECT *, ST_PointOnSurface(geom) AS p FROM %s WHERE geom IS NOT NULL) t`, strings.Join(sel, ", "), l.Table())
	}
	rows, err := tx.Query(ctx, sql)
	if err != nil {
		return 0, fmt.Errorf("search index %s: %w", l.Slug, err)
	}
	var (
		ids                                       []int64
		nm, kk, ru, en, ad, cd, cn, terms, street []string
		house, key, digests                       []string
		gone                                      []int64
		members                                   []int32
		xs, ys                                    []float64
		bx0, by0, bx1, by1                        []*float64
	)
	for rows.Next() {
		var id int64
		var n, k, r, e, a, c string
		var m int32
		var x, y float64
		var bbox []float64
		if err := rows.Scan(&id, &n, &k, &r, &e, &a, &c, &m, &x, &y, &bbox); err != nil {
			rows.Close()
			return 0, fmt.Errorf("search index %s: %w", l.Slug, err)
		}
		t := indexTerms(n, k, r, e, a)
		st, h := splitAddress(a)
		if t == "" && c == "" {
			continue
		}
		d := rowDigest(id, n, k, r, e, a, c, m, x, y, bbox)
		prev, had := old[id]
		delete(old, id)
		if had && prev == d {
			continue // unchanged since the last build
		}
		if had {
			gone = append(gone, id)
		}
		digests = append(digests, d)
		ids, nm, kk, ru, en, ad, cd = append(ids, id), append(nm, n), append(kk, k), append(ru, r), append(en, e), append(ad, a), append(cd, c)
		cn = append(cn, normCode(c))
		terms, street, house = append(terms, t), append(street, st), append(house, h)
		key = append(key, strings.ToLower(strings.Join([]string{n, k, r, e, a}, "|")))
		members, xs, ys = append(members, m), append(xs, x), append(ys, y)
		if len(bbox) == 4 {
			bx0, by0, bx1, by1 = append(bx0, &bbox[0]), append(by0, &bbox[1]), append(bx1, &bbox[2]), append(by1, &bbox[3])
		} else {
			bx0, by0, bx1, by1 = append(bx0, nil), append(by0, nil), append(bx1, nil), append(by1, nil)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("search index %s: %w", l.Slug, err)
	}
	for id := range old {
		gone = append(gone, id) // no longer in the layer
	}
	if _, err := tx.Exec(ctx, `DELETE FROM geoportal.search_index WHERE layer = $1 AND feature_id = ANY($2)`, l.Slug, gone); err != nil {
		return 0, fmt.Errorf("search index %s: %w", l.Slug, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO geoportal.search_index (layer, feature_id, name, name_kk, name_ru,
			name_en, address, code, code_norm, terms, street, house, merge_key, members, priority, point, bbox, digest)
		SELECT $1, u.id, u.nm, u.kk, u.ru, u.en, u.ad, u.cd, u.cn, u.terms, u.street, u.house, u.key, u.members, $2,
			ST_SetSRID(ST_MakePoint(u.x, u.y), 4326),
			CASE WHEN u.bx0 IS NULL THEN NULL ELSE ST_SetSRID(ST_Expand(ST_MakeEnvelope(u.bx0, u.by0, u.bx1, u.by1), 1e-6), 4326) END, u.digest
		FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
			$10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::int[], $16::float8[], $17::float8[],
			$18::float8[], $19::float8[], $20::float8[], $21::float8[], $22::text[])
			AS u(id, nm, kk, ru, en, ad, cd, cn, terms, street, house, key, members, x, y, bx0, by0, bx1, by1, digest)`,
		l.Slug, searchPriority(l), ids, nm, kk, ru, en, ad, cd, cn, terms, street, house, key, members, xs, ys,
		bx0, by0, bx1, by1, digests); err != nil {
		return 0, fmt.Errorf("search index %s: %w", l.Slug, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO geoportal.search_index_state (layer, version, rows)
		VALUES ($1, $2, (SELECT count(*) FROM geoportal.search_index WHERE layer = $1))
		ON CONFLICT (layer) DO UPDATE SET version = EXCLUDED.version, rows = EXCLUDED.rows, built_at = now()`,
		l.Slug, version); err != nil {
		return 0, fmt.Errorf("search index %s: %w", l.Slug, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("search index %s: %w", l.Slug, err)
	}
	return len(ids) + len(gone), nil
}

// indexTerms is what a feature is found by: the distinct normalised forms of its names and address.
func indexTerms(texts ...string) string {
	var out []string
	seen := map[string]bool{}
	for _, t := range texts {
		n := Normalize(t)
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return strings.Join(out, " ")
}

// rowDigest fingerprints an index row's sources (and the normaliser's version, so that a change
// of the rules rebuilds every row).
func rowDigest(id int64, n, k, r, e, a, c string, m int32, x, y float64, bbox []float64) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d|%s|%s|%s|%s|%s|%s|%d|%.7f|%.7f|%v|%d", id, n, k, r, e, a, c, m, x, y, bbox, normaliserVersion)
	return strconv.FormatUint(h.Sum64(), 36)
}

// normaliserVersion changes whenever Normalize, splitAddress or normCode change what they return.
const normaliserVersion = 2
