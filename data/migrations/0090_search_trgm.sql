-- Trigram (pg_trgm) GIN indexes for the web map's search box: every text column named name,
-- name_kk, name_ru, name_en or address of the city layers, so that typo-tolerant word-similarity
-- matching ("col %> query") and substring matching (ILIKE) use an index. Layers created later
-- call geoportal.create_search_indexes(slug) themselves (the search works without, only slower).
CREATE FUNCTION geoportal.create_search_indexes(s text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    col text;
BEGIN
    FOR col IN
        SELECT a->>'name' FROM geoportal.layers l, jsonb_array_elements(l.attributes) AS a
        WHERE l.slug = s AND a->>'type' = 'text'
          AND a->>'name' IN ('name', 'name_kk', 'name_ru', 'name_en', 'address')
    LOOP
        EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON layer.%I USING gin (%I gin_trgm_ops)',
            left(s || '_' || col, 50) || '_trgm_idx', s, col);
    END LOOP;
END
$$;

SELECT geoportal.create_search_indexes(slug) FROM geoportal.layers ORDER BY slug;
