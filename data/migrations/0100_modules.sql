-- City modules (issue 11): utility outages, clinic attachment areas, school catchments and the
-- best-yard contest. Outages and the computed areas are catalog layers, so the map and the tile
-- server show them like any other layer; the contest keeps its own tables in schema modules.

SELECT geoportal.create_layer($def${"slug": "outages", "direction": 4, "geometry_type": "MultiPolygon",
 "title_en": "Utility outages", "title_ru": "Отключения коммунальных услуг", "title_kk": "Коммуналдық қызметтердің өшірілуі",
 "description_en": "Areas where heating, water, sewer, power or gas is off now, with the expected end.",
 "description_ru": "Районы, где сейчас отключены отопление, вода, канализация, электричество или газ, и ожидаемое время включения.",
 "description_kk": "Қазір жылу, су, кәріз, электр немесе газ өшірілген аумақтар және қосылатын уақыты.",
 "attributes": [
  {"name": "network", "type": "text", "title": {"en": "Network", "ru": "Сеть", "kk": "Желі"}, "popup": true},
  {"name": "starts_at", "type": "timestamptz", "title": {"en": "Since", "ru": "С", "kk": "Басталуы"}, "popup": true},
  {"name": "expected_end", "type": "timestamptz", "title": {"en": "Expected end", "ru": "Ожидаемое включение", "kk": "Күтілетін қосылу"}, "popup": true},
  {"name": "description_kk", "type": "text", "title": {"en": "Description (Kazakh)", "ru": "Описание (каз.)", "kk": "Сипаттама (қаз.)"}, "popup": false},
  {"name": "description_ru", "type": "text", "title": {"en": "Description (Russian)", "ru": "Описание (рус.)", "kk": "Сипаттама (орыс.)"}, "popup": false},
  {"name": "description_en", "type": "text", "title": {"en": "Description (English)", "ru": "Описание (англ.)", "kk": "Сипаттама (ағыл.)"}, "popup": false}],
 "style": {"type": "fill", "paint": {"fill-color": ["match", ["get", "network"], "heating", "#e53935", "water", "#1e88e5", "sewer", "#6d4c41", "power", "#fdd835", "gas", "#fb8c00", "#757575"], "fill-opacity": 0.35, "fill-outline-color": "#b71c1c"}},
 "min_zoom": 0, "max_zoom": 22, "sort_order": 135, "time_column": "starts_at",
 "attribution": "City utilities dispatch"}$def$);

-- Closed outages leave the map; their history stays here (with who closed them in the audit log).
CREATE SCHEMA IF NOT EXISTS modules;

CREATE TABLE modules.outages_closed (
    id             bigint PRIMARY KEY,
    geom           geometry(MultiPolygon, 4326) NOT NULL,
    network        text NOT NULL,
    starts_at      timestamptz NOT NULL,
    expected_end   timestamptz,
    closed_at      timestamptz NOT NULL DEFAULT now(),
    description_kk text NOT NULL DEFAULT '',
    description_ru text NOT NULL DEFAULT '',
    description_en text NOT NULL DEFAULT ''
);

SELECT geoportal.create_layer($def${"slug": "clinic_areas", "direction": 5, "geometry_type": "MultiPolygon",
 "title_en": "Clinic attachment areas", "title_ru": "Участки прикрепления поликлиник", "title_kk": "Емханаларға тіркелу аумақтары",
 "description_en": "Each address belongs to the nearest clinic (Voronoi split of the city, recomputed by staff).",
 "description_ru": "Каждый адрес относится к ближайшей поликлинике (разбиение Вороного, пересчитывается сотрудниками).",
 "description_kk": "Әр мекенжай ең жақын емханаға жатады (Вороной бөлінісі, қызметкерлер қайта есептейді).",
 "attributes": [
  {"name": "clinic_id", "type": "bigint", "title": {"en": "Clinic id", "ru": "Код поликлиники", "kk": "Емхана коды"}, "popup": false},
  {"name": "clinic_name", "type": "text", "title": {"en": "Clinic", "ru": "Поликлиника", "kk": "Емхана"}, "popup": true},
  {"name": "clinic_address", "type": "text", "title": {"en": "Clinic address", "ru": "Адрес поликлиники", "kk": "Емхана мекенжайы"}, "popup": true}],
 "style": {"type": "line", "paint": {"line-color": "#d81b60", "line-width": 1.5, "line-dasharray": [2, 2]}},
 "min_zoom": 0, "max_zoom": 22, "sort_order": 165, "attribution": "Computed by the geoportal from the clinics layer"}$def$);

SELECT geoportal.create_layer($def${"slug": "school_catchments", "direction": 3, "geometry_type": "MultiPolygon",
 "title_en": "School catchments", "title_ru": "Микроучастки школ", "title_kk": "Мектептердің шағын учаскелері",
 "description_en": "Each address belongs to the nearest school (Voronoi split of the city, recomputed by staff).",
 "description_ru": "Каждый адрес относится к ближайшей школе (разбиение Вороного, пересчитывается сотрудниками).",
 "description_kk": "Әр мекенжай ең жақын мектепке жатады (Вороной бөлінісі, қызметкерлер қайта есептейді).",
 "attributes": [
  {"name": "school_id", "type": "bigint", "title": {"en": "School id", "ru": "Код школы", "kk": "Мектеп коды"}, "popup": false},
  {"name": "school_name", "type": "text", "title": {"en": "School", "ru": "Школа", "kk": "Мектеп"}, "popup": true},
  {"name": "school_address", "type": "text", "title": {"en": "School address", "ru": "Адрес школы", "kk": "Мектеп мекенжайы"}, "popup": true}],
 "style": {"type": "line", "paint": {"line-color": "#1565c0", "line-width": 1.5, "line-dasharray": [2, 2]}},
 "min_zoom": 0, "max_zoom": 22, "sort_order": 95, "attribution": "Computed by the geoportal from the schools layer"}$def$);

-- (The areas name their facility in clinic_name/school_name, not name/address, so that the
-- search box finds the clinic or school itself, not its area.)

-- Best-yard contest. One season a year; staff open it, residents nominate and vote while it is
-- open, staff close it and publish the winners.
CREATE TABLE modules.yard_seasons (
    season     integer PRIMARY KEY CHECK (season BETWEEN 2000 AND 2100),
    status     text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    opened_at  timestamptz NOT NULL DEFAULT now(),
    closed_at  timestamptz,
    winners    bigint[] NOT NULL DEFAULT '{}'
);

CREATE TABLE modules.yard_nominations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    season      integer NOT NULL REFERENCES modules.yard_seasons (season),
    account_id  bigint NOT NULL REFERENCES auth.users (id),
    geom        geometry(Geometry, 4326) NOT NULL
                CHECK (GeometryType(geom) IN ('POINT', 'POLYGON') AND ST_IsValid(geom)),
    title       text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 4000),
    hidden      boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX yard_nominations_season ON modules.yard_nominations (season);
CREATE INDEX yard_nominations_geom ON modules.yard_nominations USING gist (geom);

CREATE TABLE modules.yard_photos (
    nomination_id bigint NOT NULL REFERENCES modules.yard_nominations (id) ON DELETE CASCADE,
    n             smallint NOT NULL CHECK (n BETWEEN 1 AND 3),
    data          bytea NOT NULL,
    thumb         bytea NOT NULL,
    width         integer NOT NULL,
    height        integer NOT NULL,
    PRIMARY KEY (nomination_id, n)
);

-- One vote per account per season: the primary key refuses a second one.
CREATE TABLE modules.yard_votes (
    season        integer NOT NULL REFERENCES modules.yard_seasons (season),
    account_id    bigint NOT NULL REFERENCES auth.users (id),
    nomination_id bigint NOT NULL REFERENCES modules.yard_nominations (id) ON DELETE CASCADE,
    at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (season, account_id)
);
CREATE INDEX yard_votes_nomination ON modules.yard_votes (nomination_id);
