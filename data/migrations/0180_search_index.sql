-- The web map's search index: one row per searchable feature of every layer that has a name,
-- address or code column (a street's segments of one name merged into one row), with the text
-- normalised by the server (layers/searchtext.go: lower case, ё→е, Kazakh letters and Latin
-- spellings folded onto one Cyrillic skeleton, street words dropped, simple endings cut), so that
-- one trigram index answers every language and spelling. The server rebuilds a layer's rows when
-- the layer's version (bumped by geoportal.layer_changed on every write) differs from the one in
-- search_index_state; a dropped layer takes its rows with it.
CREATE TABLE geoportal.search_index (
    layer       text NOT NULL REFERENCES geoportal.layers (slug) ON DELETE CASCADE,
    feature_id  bigint NOT NULL,
    name        text NOT NULL DEFAULT '',
    name_kk     text NOT NULL DEFAULT '',
    name_ru     text NOT NULL DEFAULT '',
    name_en     text NOT NULL DEFAULT '',
    address     text NOT NULL DEFAULT '',
    code        text NOT NULL DEFAULT '',  -- as written ("A0415")
    code_norm   text NOT NULL DEFAULT '',  -- normalised ("а0415"): what a query is compared with
    -- normalised names, address and code: what a query's words are matched against
    terms       text NOT NULL,
    -- an address split into its normalised street and house number ("маресев", "95")
    street      text NOT NULL DEFAULT '',
    house       text NOT NULL DEFAULT '',
    -- the display text the results are merged by (same layer, same name and address: one row)
    merge_key   text NOT NULL,
    members     integer NOT NULL DEFAULT 1,
    -- on a tie, streets first (0), then the thematic layers' places (1), then the base map (2)
    priority    smallint NOT NULL DEFAULT 1,
    point       geometry(Point, 4326) NOT NULL,
    bbox        geometry(Polygon, 4326),
    -- a hash of the row as built: a rebuild rewrites only the rows whose hash changed
    digest      text NOT NULL DEFAULT '',
    PRIMARY KEY (layer, feature_id)
);
CREATE INDEX search_index_terms_trgm_idx ON geoportal.search_index USING gin (terms gin_trgm_ops);
CREATE INDEX search_index_street_trgm_idx ON geoportal.search_index USING gin (street gin_trgm_ops) WHERE house <> '';
CREATE INDEX search_index_house_idx ON geoportal.search_index (house) WHERE house <> '';
CREATE INDEX search_index_code_idx ON geoportal.search_index (code_norm text_pattern_ops) WHERE code_norm <> '';

-- The layer version each layer's index rows were built from.
CREATE TABLE geoportal.search_index_state (
    layer     text PRIMARY KEY REFERENCES geoportal.layers (slug) ON DELETE CASCADE,
    version   bigint NOT NULL,
    rows      integer NOT NULL,
    built_at  timestamptz NOT NULL DEFAULT now()
);
