-- OpenStreetMap import (docs/osm.md): every city layer the OSM mapping fills gets the OSM object
-- it came from (osm_id, "node/123", "way/45", "relation/6": unique, NULL for features drawn by
-- hand or imported from other files), the object's tags as JSON (nothing in OSM is thrown
-- away) and, where it has a name, the name in Kazakh, Russian and English. A trees layer holds
-- the city's greening programme; bus routes list their stops in order.

-- Adds an attribute to a layer: its column and its catalog entry (no-op when it exists).
CREATE FUNCTION geoportal.add_attribute(s text, a jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM geoportal.layers l, jsonb_array_elements(l.attributes) x
               WHERE l.slug = s AND x->>'name' = a->>'name') THEN
        RETURN;
    END IF;
    EXECUTE format('ALTER TABLE layer.%I ADD COLUMN %I %s', s, a->>'name',
        geoportal.attribute_sql_type(a->>'type'));
    UPDATE geoportal.layers SET attributes = attributes || jsonb_build_array(a) WHERE slug = s;
END
$$;

SELECT geoportal.create_layer($def${"slug": "trees", "direction": 6, "geometry_type": "Point", "title_en": "Trees", "title_ru": "Деревья", "title_kk": "Ағаштар", "attributes": [{"name": "name", "type": "text", "title": {"en": "Name", "ru": "Название", "kk": "Атауы"}, "popup": true}, {"name": "species", "type": "text", "title": {"en": "Species", "ru": "Вид", "kk": "Түрі"}, "popup": true}, {"name": "genus", "type": "text", "title": {"en": "Genus", "ru": "Род", "kk": "Туысы"}, "popup": true}, {"name": "leaf_type", "type": "text", "title": {"en": "Leaf type", "ru": "Тип листвы", "kk": "Жапырақ түрі"}, "popup": true}, {"name": "height_m", "type": "double", "title": {"en": "Height, m", "ru": "Высота, м", "kk": "Биіктігі, м"}, "popup": true}], "style": {"type": "circle", "paint": {"circle-color": "#2e7d32", "circle-radius": ["interpolate", ["linear"], ["zoom"], 12, 1.5, 16, 4], "circle-stroke-color": "#ffffff", "circle-stroke-width": 0.5}}, "min_zoom": 13, "max_zoom": 22, "sort_order": 250, "attribution": "© OpenStreetMap contributors, ODbL 1.0", "description_en": "Trees of the city's greening programme.", "description_ru": "Деревья городской программы озеленения.", "description_kk": "Қаланы көгалдандыру бағдарламасының ағаштары."}$def$);

SELECT geoportal.add_attribute('bus_routes', $a${"name": "stops", "type": "text", "title": {"en": "Stops", "ru": "Остановки", "kk": "Аялдамалар"}, "popup": true}$a$);

-- Names in three languages where a layer has a name.
SELECT geoportal.add_attribute(l.slug, jsonb_build_object('name', 'name_' || lang.code, 'type', 'text',
    'title', lang.title, 'popup', false))
FROM geoportal.layers l
CROSS JOIN (VALUES
    ('kk', '{"en": "Name (Kazakh)", "ru": "Название (каз.)", "kk": "Атауы (қаз.)"}'::jsonb),
    ('ru', '{"en": "Name (Russian)", "ru": "Название (рус.)", "kk": "Атауы (орыс.)"}'::jsonb),
    ('en', '{"en": "Name (English)", "ru": "Название (англ.)", "kk": "Атауы (ағыл.)"}'::jsonb)) AS lang(code, title)
WHERE l.slug IN ('places', 'streets', 'cameras', 'smart_crossings', 'overpasses', 'interchanges', 'schools',
    'bus_stops', 'bus_routes', 'waste_sites', 'clinics', 'pharmacies', 'sports_grounds', 'playgrounds',
    'biotoilets', 'parks', 'yards', 'leisure_places', 'trees')
ORDER BY l.slug, lang.code;

-- The OSM object and its tags, on every layer the default mapping fills.
SELECT geoportal.add_attribute(l.slug, a.def)
FROM geoportal.layers l
CROSS JOIN (VALUES
    (1, '{"name": "osm_id", "type": "text", "title": {"en": "OpenStreetMap object", "ru": "Объект OpenStreetMap", "kk": "OpenStreetMap нысаны"}, "popup": false}'::jsonb),
    (2, '{"name": "tags", "type": "jsonb", "title": {"en": "OpenStreetMap tags", "ru": "Теги OpenStreetMap", "kk": "OpenStreetMap тегтері"}, "popup": false}'::jsonb)) AS a(n, def)
WHERE l.slug IN ('city_boundary', 'districts', 'places', 'streets', 'buildings', 'cameras', 'smart_crossings',
    'overpasses', 'interchanges', 'schools', 'bus_stops', 'bus_routes', 'utility_networks', 'street_lights',
    'waste_sites', 'clinics', 'pharmacies', 'ramps', 'sports_grounds', 'playgrounds', 'biotoilets', 'parks',
    'yards', 'leisure_places', 'trees')
ORDER BY l.slug, a.n;

-- One feature per OSM object and layer; updates find theirs by it.
DO $$
DECLARE
    s text;
BEGIN
    FOR s IN SELECT l.slug FROM geoportal.layers l, jsonb_array_elements(l.attributes) x
             WHERE x->>'name' = 'osm_id' ORDER BY l.slug LOOP
        EXECUTE format('CREATE UNIQUE INDEX %I ON layer.%I (osm_id) WHERE osm_id IS NOT NULL', s || '_osm_id_idx', s);
        PERFORM geoportal.create_search_indexes(s);
    END LOOP;
END
$$;
