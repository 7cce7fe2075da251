-- Where a report is, in words: the nearest address of its point in Kazakh, Russian and English
-- (layers.ReverseAll, filled when the report is filed) and how far the point is from the
-- feature it names. Staff lists, the follow page and Open311 show it when the reporter gave no
-- address of their own.
ALTER TABLE reports.private
    ADD COLUMN place_kk text NOT NULL DEFAULT '',
    ADD COLUMN place_ru text NOT NULL DEFAULT '',
    ADD COLUMN place_en text NOT NULL DEFAULT '',
    ADD COLUMN place_distance_m double precision;

-- Reports filed before: the same rules as layers/reverse.go. A house within 25 m gives its
-- address (the street in the language from the street's name_<lang>); a named street within
-- 100 m gives its name and its nearest house within 200 m; else the nearest named street or
-- settlement within 2 km. Names fall back from name_<lang> to name_ru, then name.
DO $$
BEGIN
    IF to_regclass('layer.buildings') IS NULL OR to_regclass('layer.streets') IS NULL
       OR to_regclass('layer.places') IS NULL THEN
        RETURN;
    END IF;
    BEGIN
        WITH pts AS (
            SELECT p.report_id, r.geom AS g FROM reports.private p JOIN layer.citizen_reports r ON r.id = p.report_id
            WHERE p.place_ru = ''),
        found AS (
            SELECT pts.report_id, b.address AS b_addr, b.d AS b_d,
                bs.kk AS bs_kk, bs.ru AS bs_ru, bs.en AS bs_en,
                st.name AS s_name, st.kk AS s_kk, st.ru AS s_ru, st.en AS s_en, st.d AS s_d,
                pl.name AS p_name, pl.kk AS p_kk, pl.ru AS p_ru, pl.en AS p_en, pl.d AS p_d,
                h.house
            FROM pts
            LEFT JOIN LATERAL (
                SELECT c.address, c.geom, ST_Distance(c.geom::geography, pts.g::geography) AS d
                FROM (SELECT t.address, t.geom FROM layer.buildings t
                      WHERE t.address <> '' AND t.geom && ST_Expand(pts.g, 0.0015)
                      ORDER BY t.geom <-> pts.g LIMIT 8) c ORDER BY 3 LIMIT 1) b ON true
            LEFT JOIN LATERAL (
                SELECT nullif(s.name_kk, '') AS kk, nullif(s.name_ru, '') AS ru, nullif(s.name_en, '') AS en
                FROM layer.streets s
                WHERE s.name = regexp_replace(b.address, ', [^,]*$', '') AND s.geom && ST_Expand(b.geom, 0.01)
                ORDER BY s.geom <-> b.geom LIMIT 1) bs ON true
            LEFT JOIN LATERAL (
                SELECT c.name, c.kk, c.ru, c.en, ST_Distance(c.geom::geography, pts.g::geography) AS d
                FROM (SELECT t.geom, nullif(t.name, '') AS name, nullif(t.name_kk, '') AS kk,
                          nullif(t.name_ru, '') AS ru, nullif(t.name_en, '') AS en FROM layer.streets t
                      WHERE (coalesce(t.name, '') <> '' OR coalesce(t.name_kk, '') <> '' OR coalesce(t.name_ru, '') <> ''
                          OR coalesce(t.name_en, '') <> '')
                      AND t.geom && ST_Expand(pts.g, 0.03)
                      ORDER BY t.geom <-> pts.g LIMIT 8) c ORDER BY 5 LIMIT 1) st ON true
            LEFT JOIN LATERAL (
                SELECT c.name, c.kk, c.ru, c.en, ST_Distance(c.geom::geography, pts.g::geography) AS d
                FROM (SELECT t.geom, nullif(t.name, '') AS name, nullif(t.name_kk, '') AS kk,
                          nullif(t.name_ru, '') AS ru, nullif(t.name_en, '') AS en FROM layer.places t
                      WHERE (coalesce(t.name, '') <> '' OR coalesce(t.name_kk, '') <> '' OR coalesce(t.name_ru, '') <> ''
                          OR coalesce(t.name_en, '') <> '')
                      AND t.geom && ST_Expand(pts.g, 0.03)
                      ORDER BY t.geom <-> pts.g LIMIT 8) c ORDER BY 5 LIMIT 1) pl ON true
            LEFT JOIN LATERAL (
                SELECT substring(c.address FROM ', ([^,]*)$') AS house
                FROM (SELECT t.address, ST_Distance(t.geom::geography, pts.g::geography) AS d FROM layer.buildings t
                      WHERE st.name IS NOT NULL AND starts_with(t.address, st.name || ', ')
                          AND t.geom && ST_Expand(pts.g, 0.003)
                      ORDER BY t.geom <-> pts.g LIMIT 8) c WHERE c.d <= 200 ORDER BY c.d LIMIT 1) h ON true),
        described AS (
            SELECT CASE WHEN f.b_d <= 25 THEN 'building'
                     WHEN f.s_d <= 100 THEN 'street'
                     WHEN f.s_d <= 2000 AND (f.p_d IS NULL OR f.p_d > 2000 OR f.s_d <= f.p_d) THEN 'near_street'
                     WHEN f.p_d <= 2000 THEN 'near_place' END AS kind,
                f.*
            FROM found f),
        texts AS (
            SELECT d.report_id, lang.code,
                CASE d.kind
                    WHEN 'building' THEN
                        CASE WHEN position(', ' IN d.b_addr) > 0 AND coalesce(CASE lang.code WHEN 'kk' THEN d.bs_kk
                                WHEN 'en' THEN d.bs_en ELSE d.bs_ru END, d.bs_ru) IS NOT NULL
                            THEN coalesce(CASE lang.code WHEN 'kk' THEN d.bs_kk WHEN 'en' THEN d.bs_en ELSE d.bs_ru END, d.bs_ru)
                                || ', ' || substring(d.b_addr FROM ', ([^,]*)$')
                            ELSE d.b_addr END
                    WHEN 'street' THEN
                        CASE WHEN d.house IS NULL THEN street.name
                            ELSE format(CASE lang.code WHEN 'kk' THEN '%s, %s үйдің жанында' WHEN 'en' THEN '%s, near No. %s'
                                ELSE '%s, у дома %s' END, street.name, d.house) END
                    WHEN 'near_street' THEN street.name
                    WHEN 'near_place' THEN coalesce(CASE lang.code WHEN 'kk' THEN d.p_kk WHEN 'en' THEN d.p_en
                        ELSE d.p_ru END, d.p_ru, d.p_name, d.p_kk, d.p_en)
                END AS text,
                CASE d.kind WHEN 'building' THEN d.b_d WHEN 'near_place' THEN d.p_d ELSE d.s_d END AS distance
            FROM described d
            CROSS JOIN (VALUES ('kk'), ('ru'), ('en')) AS lang(code)
            CROSS JOIN LATERAL (SELECT coalesce(CASE lang.code WHEN 'kk' THEN d.s_kk WHEN 'en' THEN d.s_en
                ELSE d.s_ru END, d.s_ru, d.s_name, d.s_kk, d.s_en) AS name) street
            WHERE d.kind IS NOT NULL)
        UPDATE reports.private p SET
            place_kk = coalesce((SELECT t.text FROM texts t WHERE t.report_id = p.report_id AND t.code = 'kk'), ''),
            place_ru = coalesce((SELECT t.text FROM texts t WHERE t.report_id = p.report_id AND t.code = 'ru'), ''),
            place_en = coalesce((SELECT t.text FROM texts t WHERE t.report_id = p.report_id AND t.code = 'en'), ''),
            place_distance_m = (SELECT round(t.distance::numeric, 1)::float8 FROM texts t
                WHERE t.report_id = p.report_id AND t.code = 'ru')
        WHERE p.report_id IN (SELECT report_id FROM texts);
    EXCEPTION WHEN undefined_column OR undefined_table THEN
        -- A base layer was replaced by an import without these attributes: reports keep their
        -- coordinates only.
        RAISE NOTICE 'report places not filled: %', SQLERRM;
    END;
END
$$;
