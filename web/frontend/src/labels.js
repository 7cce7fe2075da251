// The map's text and icons: street names along the streets, district names at low zoom, names
// and icons of places, house numbers from z17, each in the reader's language with a fallback.
// The glyphs come from our own server (package glyphs, /fonts/{fontstack}/{range}.pbf); the icons
// are drawn in the browser (icons.js).
//
// An area's name (district, city) is not read from the vector tiles, where each tile holds only
// its own piece of the polygon and a name would be drawn once per tile: the server gives one
// point per area, well inside it (GET /api/labels/areas, layers.Store.AreaLabels), as a small
// GeoJSON source, AREA_LABELS_SOURCE.
//
// Which label wins a place on the screen: MapLibre places the symbols of the top style layer
// first, so the order of labelLayers' answer is the priority, from the least important (house
// numbers) to the most (district names); within a layer, symbol-sort-key puts main streets first.

import { iconExpr } from './icons.js';

export const FONT = ['DejaVu Sans Book'];
export const FONT_BOLD = ['DejaVu Sans Bold'];

/** glyphsURL is the style's glyphs template on origin. */
export const glyphsURL = (origin) => `${origin}/fonts/{fontstack}/{range}.pbf`;

/**
 * prefetchGlyphs asks for the glyph ranges the first view's labels will need while the page
 * loads its catalog, so that the first tiles do not wait for them after they arrive (MapLibre
 * asks for a range only once it has laid out a tile's text). District and city names (to z13)
 * are bold, in Latin or Cyrillic letters; street and place names (from z14) regular, and street
 * names are Cyrillic in every language, with dashes (U+2013) and the number sign (U+2116).
 */
export function prefetchGlyphs(origin, lang, zoom) {
  const want = zoom >= 13.5
    ? [[FONT[0], ['0-255', '1024-1279', '8192-8447', '8448-8703']]]
    : [[FONT_BOLD[0], lang === 'en' ? ['0-255'] : ['0-255', '1024-1279']]];
  for (const [stack, ranges] of want) {
    for (const r of ranges) fetch(`${origin}/fonts/${encodeURIComponent(stack)}/${r}.pbf`).catch(() => {});
  }
}

// Names in order of preference for each language: a feature without a name in the reader's
// language shows the next one, and "name" (the name as recorded) in the end.
export const NAME_FALLBACK = {
  kk: ['name_kk', 'name_ru', 'name'],
  ru: ['name_ru', 'name', 'name_kk'],
  en: ['name_en', 'name', 'name_ru'],
};

/** nameField is the text-field of a name in lang; with fromZoom, no text below that zoom. */
export function nameField(lang, fromZoom) {
  const name = ['coalesce', ...(NAME_FALLBACK[lang] || NAME_FALLBACK.ru).map((k) => ['get', k]), ''];
  return fromZoom ? ['step', ['zoom'], '', fromZoom, name] : name;
}

// A building's house number: its housenumber, else what follows the street in its address
// ("ул. Абая, 12" → "12", "мкр. Батыс, д. 5" → "5").
const afterComma = ['let', 'a', ['to-string', ['coalesce', ['get', 'address'], '']],
  ['let', 'i', ['index-of', ', ', ['var', 'a']],
    ['case', ['<', ['var', 'i'], 0], '',
      ['let', 'n', ['slice', ['var', 'a'], ['+', ['var', 'i'], 2]],
        ['case', ['==', ['index-of', 'д. ', ['var', 'n']], 0], ['slice', ['var', 'n'], 3], ['var', 'n']]]]]];
export const HOUSE_NUMBER = ['coalesce', ['get', 'housenumber'], afterComma];

const HALO = { 'text-halo-color': 'rgba(255,255,255,0.92)', 'text-halo-width': 1.6, 'text-halo-blur': 0.4 };
const NOT_CLUSTER = ['!', ['has', 'point_count']];

// Thematic layers from the least to the most important: the later wins a contested place.
const PRIORITY = ['street_lights', 'waste_sites', 'cameras', 'smart_crossings', 'overpasses', 'interchanges',
  'yards', 'ramps', 'biotoilets', 'playgrounds', 'sports_grounds', 'leisure_places', 'pharmacies',
  'parks', 'bus_stops', 'schools', 'clinics'];

// Layers that name places but are not worth an icon, and layers drawn by others (live vehicles).
const SKIP = new Set(['vehicles', 'city_boundary', 'districts', 'streets', 'buildings', 'reports']);

const hasAttr = (l, name) => (l.attributes || []).some((a) => a.name === name);

/**
 * labelLayers returns the symbol layers of the map for catalog (visible: the slugs shown,
 * source: the source of a slug), in placement priority order (see above). Each carries in its
 * metadata the zoom from which its text shows, so that a change of language can set text-field
 * again (relabel).
 */
// AREA_SLUGS are the area layers named from AREA_LABELS_SOURCE's points.
export const AREA_LABELS_SOURCE = 'area-labels';
const AREA_SLUGS = ['districts', 'city_boundary'];

/**
 * areaLabelsSource is the GeoJSON source of the areas' label points for the catalog's area
 * layers, or null when it has none; the layers' versions in the URL make a changed layer's
 * points fetched anew.
 */
export function areaLabelsSource(catalog, origin) {
  const ls = AREA_SLUGS.map((slug) => catalog.find((l) => l.slug === slug)).filter(Boolean);
  if (!ls.length) return null;
  const q = new URLSearchParams({ layers: ls.map((l) => l.slug).join(','), v: ls.map((l) => l.version).join('.') });
  return { type: 'geojson', data: `${origin}/api/labels/areas?${q}` };
}

export function labelLayers(catalog, visible, source, lang) {
  const bySlug = new Map(catalog.map((l) => [l.slug, l]));
  const vis = (slug) => (visible.has(slug) ? 'visible' : 'none');
  const out = [];
  const named = (id, zoom) => ({ id, metadata: { 'geoportal:text-zoom': zoom ?? null } });

  if (bySlug.has('buildings')) {
    out.push({
      id: 'lbl-buildings', type: 'symbol', source: source('buildings'), 'source-layer': 'buildings', minzoom: 17,
      metadata: { 'geoportal:house-number': true },
      layout: { visibility: vis('buildings'), 'text-field': HOUSE_NUMBER, 'text-font': FONT, 'text-size': 10.5,
        'text-padding': 1, 'text-max-width': 5 },
      paint: { 'text-color': '#6b6255', 'text-halo-color': 'rgba(242,239,233,0.9)', 'text-halo-width': 1.2 },
    });
  }
  if (bySlug.has('streets')) {
    out.push({
      ...named('lbl-streets'), type: 'symbol', source: source('streets'), 'source-layer': 'streets', minzoom: 14,
      filter: ['has', 'name'],
      layout: {
        visibility: vis('streets'), 'symbol-placement': 'line', 'text-field': nameField(lang), 'text-font': FONT,
        'text-size': ['interpolate', ['linear'], ['zoom'], 14, 10.5, 17, 13.5], 'text-max-angle': 35,
        'symbol-spacing': 320, 'text-padding': 2, 'text-rotation-alignment': 'map', 'text-pitch-alignment': 'viewport',
        'symbol-sort-key': ['match', ['get', 'highway'], 'primary', 1, 'secondary', 2, 'tertiary', 3, 'residential', 4, 5],
      },
      paint: { 'text-color': '#3b3732', ...HALO },
    });
  }
  if (bySlug.has('bus_routes')) {
    // Each route's number along its line, in the route's colour (GTFS route_color, else the
    // layer's green): which bus goes where reads on the map without a click.
    out.push({
      id: 'lbl-bus_routes', type: 'symbol', source: source('bus_routes'), 'source-layer': 'bus_routes', minzoom: 12,
      filter: ['has', 'ref'],
      layout: {
        visibility: vis('bus_routes'), 'symbol-placement': 'line', 'text-field': ['to-string', ['get', 'ref']],
        'text-font': FONT_BOLD, 'text-size': ['interpolate', ['linear'], ['zoom'], 12, 10, 16, 13], 'symbol-spacing': 260,
        'text-padding': 2, 'text-rotation-alignment': 'viewport', 'text-keep-upright': true, 'text-allow-overlap': false,
      },
      paint: { 'text-color': ['to-color', ['get', 'color'], '#2e7d32'], 'text-halo-color': '#ffffff', 'text-halo-width': 2.2 },
    });
  }
  const thematic = catalog.filter((l) => !SKIP.has(l.slug) && source(l.slug))
    .sort((a, b) => PRIORITY.indexOf(a.slug) - PRIORITY.indexOf(b.slug));
  for (const l of thematic) {
    const g = l.geometry_type || '';
    const icon = iconExpr(l.slug);
    const name = hasAttr(l, 'name');
    if (!icon && !name) continue;
    if (g.includes('Line')) continue; // routes and networks: their colour says enough
    const polygon = g.includes('Polygon');
    // Settlements are named from afar; street lights stand every few metres: their icons only
    // where the lamps can be told apart.
    const settlements = l.slug === 'places';
    const minzoom = settlements ? Math.max(l.min_zoom || 0, 8)
      : Math.max(l.min_zoom || 0, polygon ? 13 : 14, l.slug === 'street_lights' ? 17 : 0);
    const textZoom = settlements ? undefined : polygon ? 14 : 15;
    const layout = { visibility: vis(l.slug) };
    if (icon) Object.assign(layout, { 'icon-image': icon, 'icon-size': 1, 'icon-padding': 1 });
    if (name) {
      Object.assign(layout, {
        'text-field': nameField(lang, textZoom), 'text-font': FONT, 'text-size': 11.5, 'text-max-width': 9,
        'text-optional': true,
        ...(icon ? { 'text-anchor': 'top', 'text-offset': [0, 1.05] } : {}),
      });
    }
    out.push({
      ...named(`lbl-${l.slug}`, name ? textZoom : undefined), type: 'symbol', source: source(l.slug), 'source-layer': l.slug,
      minzoom, maxzoom: Math.max((l.max_zoom ?? 22) + 1, 1),
      ...(polygon ? {} : { filter: NOT_CLUSTER }),
      layout,
      paint: name ? { 'text-color': '#24323a', ...HALO } : {},
    });
  }
  if (bySlug.has('districts')) {
    out.push({
      ...named('lbl-districts'), type: 'symbol', source: AREA_LABELS_SOURCE, filter: ['==', ['get', 'layer'], 'districts'], minzoom: 9, maxzoom: 13,
      layout: { visibility: vis('districts'), 'text-field': nameField(lang), 'text-font': FONT_BOLD,
        'text-size': ['interpolate', ['linear'], ['zoom'], 9, 11, 13, 15], 'text-transform': 'uppercase',
        'text-letter-spacing': 0.08, 'text-max-width': 8, 'text-padding': 40 },
      paint: { 'text-color': '#5b4a86', ...HALO, 'text-halo-width': 1.8 },
    });
  }
  if (bySlug.has('city_boundary')) {
    out.push({
      ...named('lbl-city_boundary'), type: 'symbol', source: AREA_LABELS_SOURCE, filter: ['==', ['get', 'layer'], 'city_boundary'], maxzoom: 9,
      layout: { visibility: vis('city_boundary'), 'text-field': nameField(lang), 'text-font': FONT_BOLD, 'text-size': 16,
        'text-padding': 150 },
      paint: { 'text-color': '#3d2f5c', ...HALO, 'text-halo-width': 2 },
    });
  }
  return out;
}

/** relabel sets the text of every label layer of map to lang. */
export function relabel(map, layers, lang) {
  for (const l of layers) {
    if (!l.metadata || !('geoportal:text-zoom' in l.metadata) || !map.getLayer(l.id)) continue;
    if (!l.layout?.['text-field']) continue;
    map.setLayoutProperty(l.id, 'text-field', nameField(lang, l.metadata['geoportal:text-zoom'] ?? undefined));
  }
}
