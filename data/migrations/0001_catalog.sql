-- The layer catalog: one row per layer, one typed PostGIS table per layer in schema "layer".
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE SCHEMA IF NOT EXISTS geoportal;
CREATE SCHEMA IF NOT EXISTS layer;

CREATE TABLE geoportal.layers (
    slug            text PRIMARY KEY CHECK (slug ~ '^[a-z][a-z0-9_]{0,47}$'),
    title_kk        text NOT NULL CHECK (title_kk <> ''),
    title_ru        text NOT NULL CHECK (title_ru <> ''),
    title_en        text NOT NULL CHECK (title_en <> ''),
    description_kk  text NOT NULL DEFAULT '',
    description_ru  text NOT NULL DEFAULT '',
    description_en  text NOT NULL DEFAULT '',
    -- 0 = base map (boundary, districts, streets, buildings); 1..6 = the programme's directions.
    direction       smallint NOT NULL CHECK (direction BETWEEN 0 AND 6),
    geometry_type   text NOT NULL CHECK (geometry_type IN
                        ('Point','LineString','Polygon','MultiPoint','MultiLineString','MultiPolygon')),
    -- [{"name": "...", "type": "text|integer|bigint|double|boolean|date|timestamptz",
    --   "title": {"kk": "...", "ru": "...", "en": "..."}, "popup": true}]
    attributes      jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(attributes) = 'array'),
    -- MapLibre layer fragment: {"type": "circle", "paint": {...}, "layout": {...}}
    style           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(style) = 'object'),
    min_zoom        smallint NOT NULL DEFAULT 0 CHECK (min_zoom BETWEEN 0 AND 22),
    max_zoom        smallint NOT NULL DEFAULT 22 CHECK (max_zoom BETWEEN 0 AND 22),
    visibility      text NOT NULL DEFAULT 'public' CHECK (visibility IN ('public','staff')),
    attribution     text NOT NULL DEFAULT '',
    -- column used by OGC API datetime filters, if any
    time_column     text,
    -- true for layers whose data changes continuously (vehicles, reports)
    live            boolean NOT NULL DEFAULT false,
    sort_order      integer NOT NULL DEFAULT 0,
    bbox            geometry(Polygon, 4326),
    feature_count   bigint NOT NULL DEFAULT 0,
    -- bumped by every write to the layer's table; tile caches key on it
    version         bigint NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (min_zoom <= max_zoom)
);

-- SQL type of an attribute type name from the catalog; NULL for unknown names.
CREATE FUNCTION geoportal.attribute_sql_type(t text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE t
        WHEN 'text' THEN 'text'
        WHEN 'integer' THEN 'integer'
        WHEN 'bigint' THEN 'bigint'
        WHEN 'double' THEN 'double precision'
        WHEN 'boolean' THEN 'boolean'
        WHEN 'date' THEN 'date'
        WHEN 'timestamptz' THEN 'timestamptz'
        WHEN 'jsonb' THEN 'jsonb'
    END
$$;

-- Statement-level trigger on every layer table: keeps the catalog's count, extent, version and
-- updated time current and announces the changed extent on channel "layer_changed" so that every
-- geoportal process on this database drops exactly the affected tiles.
CREATE FUNCTION geoportal.layer_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    slug    text := TG_TABLE_NAME;
    delta   bigint := 0;
    ext     box2d;
    v       bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT count(*), ST_Extent(geom) INTO delta, ext FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT -count(*), ST_Extent(geom) INTO delta, ext FROM old_rows;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT ST_Extent(geom) INTO ext
        FROM (SELECT geom FROM new_rows UNION ALL SELECT geom FROM old_rows) AS changed;
    ELSIF TG_OP = 'TRUNCATE' THEN
        UPDATE geoportal.layers SET feature_count = 0, bbox = NULL, version = version + 1,
               updated_at = now() WHERE layers.slug = TG_TABLE_NAME RETURNING version INTO v;
        PERFORM pg_notify('layer_changed', json_build_object('layer', slug, 'version', v)::text);
        RETURN NULL;
    END IF;
    IF delta = 0 AND ext IS NULL THEN
        RETURN NULL;
    END IF;
    UPDATE geoportal.layers l SET
        feature_count = greatest(l.feature_count + delta, 0),
        bbox = CASE
            WHEN TG_OP = 'DELETE' THEN l.bbox
            WHEN ext IS NULL THEN l.bbox
            WHEN l.bbox IS NULL THEN ST_SetSRID(ST_Envelope(ST_Expand(ext::geometry, 1e-7)), 4326)
            ELSE ST_Envelope(ST_Collect(l.bbox, ST_SetSRID(ST_Expand(ext::geometry, 1e-7), 4326)))
        END,
        version = l.version + 1,
        updated_at = now()
    WHERE l.slug = TG_TABLE_NAME
    RETURNING l.version INTO v;
    PERFORM pg_notify('layer_changed', json_build_object(
        'layer', slug, 'version', v,
        'bbox', CASE WHEN ext IS NULL THEN NULL
                ELSE json_build_array(ST_XMin(ext), ST_YMin(ext), ST_XMax(ext), ST_YMax(ext)) END)::text);
    RETURN NULL;
END
$$;

-- Creates a layer from its catalog description (a JSON object with the catalog's column names)
-- and its typed table layer.<slug>. Identifiers go through format('%I'); attribute names must be
-- lower-case words and attribute types one of attribute_sql_type's names.
CREATE FUNCTION geoportal.create_layer(def jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    s      text := def->>'slug';
    gtype  text := def->>'geometry_type';
    a      jsonb;
    cols   text := '';
    sqlt   text;
BEGIN
    IF s IS NULL OR s !~ '^[a-z][a-z0-9_]{0,47}$' THEN
        RAISE EXCEPTION 'layer slug % is not a lower-case word of at most 48 letters, digits and _', s
            USING ERRCODE = '22023';
    END IF;
    FOR a IN SELECT * FROM jsonb_array_elements(coalesce(def->'attributes', '[]')) LOOP
        IF (a->>'name') IS NULL OR (a->>'name') !~ '^[a-z][a-z0-9_]{0,62}$'
           OR (a->>'name') IN ('id','geom','created_at','updated_at','is_demo') THEN
            RAISE EXCEPTION 'layer %: attribute name % is not allowed', s, a->>'name' USING ERRCODE = '22023';
        END IF;
        sqlt := geoportal.attribute_sql_type(a->>'type');
        IF sqlt IS NULL THEN
            RAISE EXCEPTION 'layer %: attribute % has unknown type %', s, a->>'name', a->>'type'
                USING ERRCODE = '22023';
        END IF;
        cols := cols || format('%I %s, ', a->>'name', sqlt);
    END LOOP;

    INSERT INTO geoportal.layers (slug, title_kk, title_ru, title_en, description_kk, description_ru,
        description_en, direction, geometry_type, attributes, style, min_zoom, max_zoom, visibility,
        attribution, time_column, live, sort_order)
    VALUES (s, def->>'title_kk', def->>'title_ru', def->>'title_en',
        coalesce(def->>'description_kk', ''), coalesce(def->>'description_ru', ''),
        coalesce(def->>'description_en', ''), (def->>'direction')::smallint, gtype,
        coalesce(def->'attributes', '[]'), coalesce(def->'style', '{}'),
        coalesce((def->>'min_zoom')::smallint, 0), coalesce((def->>'max_zoom')::smallint, 22),
        coalesce(def->>'visibility', 'public'), coalesce(def->>'attribution', ''),
        def->>'time_column', coalesce((def->>'live')::boolean, false),
        coalesce((def->>'sort_order')::integer, 0));

    EXECUTE format('CREATE TABLE layer.%I (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        geom geometry(%s, 4326) NOT NULL,
        %s
        is_demo boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now())', s, gtype, cols);
    EXECUTE format('CREATE INDEX %I ON layer.%I USING gist (geom)', s || '_geom_idx', s);
    EXECUTE format('CREATE TRIGGER layer_changed_ins AFTER INSERT ON layer.%I
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION geoportal.layer_changed()', s);
    EXECUTE format('CREATE TRIGGER layer_changed_upd AFTER UPDATE ON layer.%I
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
        EXECUTE FUNCTION geoportal.layer_changed()', s);
    EXECUTE format('CREATE TRIGGER layer_changed_del AFTER DELETE ON layer.%I
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION geoportal.layer_changed()', s);
    EXECUTE format('CREATE TRIGGER layer_changed_trunc AFTER TRUNCATE ON layer.%I
        FOR EACH STATEMENT EXECUTE FUNCTION geoportal.layer_changed()', s);
END
$$;

-- Drops a layer's table and catalog row.
CREATE FUNCTION geoportal.drop_layer(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM geoportal.layers WHERE slug = s;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'layer % does not exist', s USING ERRCODE = 'P0002';
    END IF;
    EXECUTE format('DROP TABLE layer.%I', s);
END
$$;
