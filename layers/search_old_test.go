package layers

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/aktobe/geoportal"
	"github.com/jackc/pgx/v5"
)

// OldSearch runs the search as it was before geoportal.search_index, for BenchmarkSearch.
var OldSearch = (*Store).oldSearch

// oldSearch is the search before the search index (kept to benchmark against): it finds features of the visible layers whose name or address matches q: typo-tolerant
// (pg_trgm word similarity) and substring matches, best first. Names are given in lang.
func (s *Store) oldSearch(ctx context.Context, q, lang string, limit int, staff bool) ([]Hit, error) {
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
