// The MapLibre style: our own base map (boundary, districts, streets, buildings) drawn quietly,
// then each catalog layer from its style fragment, each with a highlight layer driven by
// feature-state (hover, selected); above everything the labels and icons (labels.js).

import { s } from './dom.js';
import { glyphsURL, labelLayers, areaLabelsSource, AREA_LABELS_SOURCE } from './labels.js';
import catalogTexts from './catalog.json' with { type: 'json' };

// DEMO_ATTRIBUTION is the demo data's attribution in the layers catalog (English only there);
// the map shows it in the chosen language (catalog key map.attributionDemo).
const DEMO_ATTRIBUTION = 'Demo data generated for the Aktobe geoportal';
// COMPUTED_ATTRIBUTION matches the attribution of the layers the portal computes from another
// one (migration 0100: clinic areas, school catchments); shown as map.attributionComputed with
// the source layer's title in lang.
const COMPUTED_ATTRIBUTION = /^Computed by the geoportal from the ([a-z0-9_]+) layer$/;

/**
 * attributionText is a layer's attribution in lang: the demo data's and the computed layers'
 * translated, others as they are. catalog (optional) gives the source layers' titles.
 */
export function attributionText(a, lang, catalog = []) {
  const text = (a || '').trim();
  if (text === DEMO_ATTRIBUTION) {
    const e = catalogTexts['map.attributionDemo'];
    return e[lang] || e.ru;
  }
  const m = COMPUTED_ATTRIBUTION.exec(text);
  if (m) {
    const e = catalogTexts['map.attributionComputed'];
    const title = catalog.find((l) => l.slug === m[1])?.title;
    const layer = (title && (title[lang] || title.ru)) || m[1];
    return (e[lang] || e.ru).replace('{layer}', layer);
  }
  return a;
}

export const BASE_SLUGS = ['city_boundary', 'districts', 'streets', 'buildings'];
export const BASE_SOURCE = 'base';
// The server refuses a composite tile of more layers (tiles.Options.MaxLayers, 12): a map opened
// with every layer on would otherwise get 400 for every tile of its composite source.
export const MAX_TILE_LAYERS = 12;
const HIGHLIGHT = '#0b2a33';

const esc = (v) => String(v).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

/**
 * compositeSlugs lists the catalog layers fetched together in the composite source: the base map
 * and the thematic layers shown when the page opens (but not live ones, whose tiles are re-asked
 * on their own). One tile request per tile position instead of one per layer makes the first
 * render cheaper: fewer requests, fewer tiles to parse, draw and clip.
 */
export function compositeSlugs(catalog, visible) {
  const chosen = new Set(catalog.filter((l) => BASE_SLUGS.includes(l.slug)).map((l) => l.slug));
  for (const l of catalog) {
    if (chosen.size >= MAX_TILE_LAYERS) break; // the rest get a source each (see buildStyle)
    if (visible.has(l.slug) && !l.live) chosen.add(l.slug);
  }
  return new Set(catalog.filter((l) => chosen.has(l.slug)).map((l) => l.slug));
}

/** sourceId names the MapLibre source holding a layer. */
export function sourceId(slug, composite) {
  return composite.has(slug) ? BASE_SOURCE : `src-${slug}`;
}

export function tileURL(origin, slugs, version) {
  const v = version ? `?v=${encodeURIComponent(version)}` : '';
  return `${origin}/tiles/${slugs.join(',')}/{z}/{x}/{y}.mvt${v}`;
}

// Quiet styles for the base map, whatever the catalog says: it is a backdrop.
const baseStyles = {
  city_boundary: { type: 'line', paint: { 'line-color': '#7d6aa6', 'line-width': 1.6, 'line-dasharray': [3, 2], 'line-opacity': 0.9 } },
  districts: { type: 'line', paint: { 'line-color': '#a99cc4', 'line-width': 1, 'line-opacity': 0.8 } },
  streets: {
    type: 'line',
    layout: { 'line-cap': 'round', 'line-join': 'round' },
    paint: { 'line-color': '#ffffff', 'line-width': ['interpolate', ['exponential', 1.6], ['zoom'], 11, 0.8, 14, 3, 17, 12] },
  },
  buildings: { type: 'fill', paint: { 'fill-color': '#dcd6cb', 'fill-opacity': 0.9, 'fill-outline-color': '#cbc3b5' } },
};

function styleOf(layer) {
  if (baseStyles[layer.slug]) return baseStyles[layer.slug];
  const st = layer.style && typeof layer.style === 'object' ? layer.style : {};
  if (['circle', 'line', 'fill'].includes(st.type)) return st;
  const g = layer.geometry_type || '';
  if (g.includes('Point')) return { type: 'circle', paint: { 'circle-color': '#0b5d73', 'circle-radius': 5, 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 } };
  if (g.includes('Line')) return { type: 'line', paint: { 'line-color': '#0b5d73', 'line-width': 2 } };
  return { type: 'fill', paint: { 'fill-color': '#0b5d73', 'fill-opacity': 0.3, 'fill-outline-color': '#0b5d73' } };
}

// Draw order: polygons, then lines, then points; base map below everything.
const typeRank = { fill: 0, line: 1, circle: 2 };
const NOT_CLUSTER = ['!', ['has', 'point_count']];

/** layerIds lists the style layers drawing one catalog layer. */
export const layerIds = (slug) => [`case-${slug}`, `hit-${slug}`, `lyr-${slug}`, `cl-${slug}`, `hl-${slug}`, `lbl-${slug}`];

const hoverOr = (on, off) => ['case', ['boolean', ['feature-state', 'selected'], false], on,
  ['boolean', ['feature-state', 'hover'], false], on, off];

// highlightLayer draws the hover/selected outline. Where it has the main layer's type it also gets
// its zoom range, filter and layout, so that MapLibre builds one bucket for both (the geometry is
// tessellated once).
function highlightLayer(layer, st, src, main) {
  const base = { id: `hl-${layer.slug}`, source: src, 'source-layer': layer.slug, minzoom: main.minzoom, maxzoom: main.maxzoom };
  if (st.type === 'circle') {
    const r = st.paint?.['circle-radius'] ?? 5;
    return { ...base, type: 'circle', layout: main.layout, paint: {
      'circle-radius': r, 'circle-color': 'rgba(0,0,0,0)',
      'circle-stroke-color': HIGHLIGHT, 'circle-stroke-width': hoverOr(3, 0),
    } };
  }
  // Lines and polygons both get an outline.
  return { ...base, type: 'line', ...(st.type === 'line' ? { layout: main.layout } : {}), paint: { 'line-color': HIGHLIGHT, 'line-width': hoverOr(4, 0), 'line-opacity': hoverOr(0.85, 0) } };
}

/**
 * buildStyle returns a MapLibre style for the catalog; visible is the set of slugs shown.
 * basemap, when set, is {url, attribution} of an optional external raster basemap; lang is the
 * labels' language, labels false leaves labels and icons out.
 */
export function buildStyle(catalog, visible, origin, basemap, lang = 'ru', labels = true) {
  const composite = compositeSlugs(catalog, visible);
  const sources = {};
  const layers = [{ id: 'background', type: 'background', paint: { 'background-color': '#f2efe9' } }];
  if (basemap?.url) {
    const raster = { type: 'raster', tileSize: 256, attribution: esc(basemap.attribution || '') };
    if (basemap.url.includes('{z}')) raster.tiles = [basemap.url];
    else raster.url = basemap.url;
    sources.basemap = raster;
    layers.push({ id: 'basemap', type: 'raster', source: 'basemap', paint: { 'raster-opacity': 0.85 } });
  }
  if (composite.size) {
    const ls = catalog.filter((l) => composite.has(l.slug));
    sources[BASE_SOURCE] = {
      type: 'vector',
      tiles: [tileURL(origin, [...composite], ls.map((l) => l.version).join('.'))],
      minzoom: 0, maxzoom: 16,
      // OpenStreetMap's, then those of the composited layers (the demo data's, in lang).
      attribution: ['© <a href="https://www.openstreetmap.org/copyright" target="_blank" rel="noopener">OpenStreetMap</a> contributors, ODbL',
        ...new Set(ls.map((l) => l.attribution).filter((a) => a && !/OpenStreetMap/i.test(a)).map((a) => esc(attributionText(a, lang, catalog))))].join(' | '),
    };
  }
  const ordered = [...catalog].sort((a, b) => {
    const ab = composite.has(a.slug) ? 0 : 1;
    const bb = composite.has(b.slug) ? 0 : 1;
    if (ab !== bb) return ab - bb;
    if (ab === 0) return BASE_SLUGS.indexOf(b.slug) - BASE_SLUGS.indexOf(a.slug);
    return (typeRank[styleOf(a).type] - typeRank[styleOf(b).type]) || (a.direction - b.direction) || (a.sort_order - b.sort_order);
  });
  const hl = [];
  for (const l of ordered) {
    const st = styleOf(l);
    const src = sourceId(l.slug, composite);
    if (!composite.has(l.slug)) {
      sources[src] = {
        type: 'vector',
        tiles: [tileURL(origin, [l.slug], l.version)],
        minzoom: 0,
        maxzoom: 16,
        attribution: l.attribution && !/OpenStreetMap/i.test(l.attribution) ? esc(attributionText(l.attribution, lang, catalog)) : undefined,
      };
      if (Array.isArray(l.bbox) && l.bbox.length === 4 && l.bbox.every(Number.isFinite)) {
        sources[src].bounds = [Math.max(-180, l.bbox[0] - 0.01), Math.max(-85, l.bbox[1] - 0.01), Math.min(180, l.bbox[2] + 0.01), Math.min(85, l.bbox[3] + 0.01)];
      }
    }
    const vis = visible.has(l.slug) ? 'visible' : 'none';
    const main = {
      id: `lyr-${l.slug}`, type: st.type, source: src, 'source-layer': l.slug,
      minzoom: l.min_zoom || 0, maxzoom: Math.max((l.max_zoom ?? 22) + 1, 1),
      layout: { ...(st.layout || {}), visibility: vis },
      paint: st.paint || {},
    };
    const hlayer = highlightLayer(l, st, src, main);
    if (!hlayer.layout) hlayer.layout = { visibility: vis };
    if (st.type === 'circle') {
      // The tile server groups points into clusters at low zoom (point_count, cluster = true).
      main.filter = NOT_CLUSTER;
      hlayer.filter = NOT_CLUSTER;
      layers.push({
        id: `cl-${l.slug}`, type: 'circle', source: src, 'source-layer': l.slug, filter: ['has', 'point_count'],
        minzoom: main.minzoom, maxzoom: main.maxzoom, layout: { visibility: vis },
        paint: {
          'circle-color': legendEntries(l).entries[0]?.color || '#777777',
          'circle-opacity': 0.85,
          'circle-radius': ['interpolate', ['linear'], ['get', 'point_count'], 2, 5.5, 10, 8, 50, 11, 250, 15],
          'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2,
        },
      });
    }
    if (l.slug === 'streets' && composite.has(l.slug)) {
      // A soft casing under the white streets so that they read on the pale land colour.
      layers.push({
        id: 'case-streets', type: 'line', source: src, 'source-layer': l.slug, minzoom: main.minzoom, maxzoom: main.maxzoom,
        layout: main.layout,
        paint: {
          'line-color': '#d3ccbf',
          'line-width': ['interpolate', ['exponential', 1.6], ['zoom'], 11, 1.6, 14, 4.6, 17, 14.5],
        },
      });
    }
    if (st.type === 'line' && /Polygon/.test(l.geometry_type || '') && !composite.has(l.slug)) {
      // Areas drawn as outlines (school catchments, clinic areas): an invisible fill under the
      // outline, so that a click anywhere inside opens the area, not only on its edge.
      layers.push({
        id: `hit-${l.slug}`, type: 'fill', source: src, 'source-layer': l.slug, minzoom: main.minzoom, maxzoom: main.maxzoom,
        layout: { visibility: vis }, paint: { 'fill-color': '#000000', 'fill-opacity': 0 },
      });
    }
    layers.push(main);
    hl.push(hlayer);
  }
  const text = labels ? labelLayers(catalog, visible, (slug) => sourceId(slug, composite), lang) : [];
  const areas = labels ? areaLabelsSource(catalog, origin) : null;
  if (areas) sources[AREA_LABELS_SOURCE] = areas;
  return { version: 8, glyphs: glyphsURL(origin), sources, layers: [...layers, ...hl, ...text] };
}

/** legendEntries turns a style fragment into swatches: [{color, label?}] (label for match). */
export function legendEntries(layer) {
  const st = styleOf(layer);
  const prop = { circle: 'circle-color', line: 'line-color', fill: 'fill-color' }[st.type];
  const v = st.paint?.[prop];
  if (Array.isArray(v) && v[0] === 'match' && Array.isArray(v[1]) && v[1][0] === 'get') {
    const out = [];
    for (let i = 2; i + 1 < v.length; i += 2) {
      if (typeof v[i + 1] === 'string') out.push({ color: v[i + 1], label: Array.isArray(v[i]) ? v[i].join(', ') : String(v[i]) });
    }
    if (typeof v[v.length - 1] === 'string') out.push({ color: v[v.length - 1], label: null, other: true });
    return { type: st.type, paint: st.paint, entries: out };
  }
  return { type: st.type, paint: st.paint, entries: [{ color: firstColor(v) }] };
}

function firstColor(v) {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    for (const x of v.slice(1)) {
      const c = firstColor(x);
      if (c && /^(#|rgb|hsl)/.test(c)) return c;
    }
  }
  return '#777777';
}

/** swatch draws a legend symbol as SVG. */
export function swatch(type, paint, color) {
  const attrs = { width: 22, height: 22, viewBox: '0 0 22 22', 'aria-hidden': 'true', focusable: 'false', class: 'swatch' };
  if (type === 'circle') {
    const stroke = typeof paint?.['circle-stroke-color'] === 'string' ? paint['circle-stroke-color'] : '#fff';
    return s('svg', attrs, s('circle', { cx: 11, cy: 11, r: 6.5, fill: color, stroke: stroke === '#ffffff' || stroke === '#fff' ? '#5f5f5f' : stroke, 'stroke-width': 1 }));
  }
  if (type === 'line') {
    const dash = Array.isArray(paint?.['line-dasharray']) ? paint['line-dasharray'].map((d) => d * 2).join(' ') : undefined;
    return s('svg', attrs, s('path', { d: 'M2 16 C 8 4, 14 20, 20 6', fill: 'none', stroke: color, 'stroke-width': 3, 'stroke-linecap': 'round', 'stroke-dasharray': dash }));
  }
  const outline = typeof paint?.['fill-outline-color'] === 'string' ? paint['fill-outline-color'] : color;
  const opacity = typeof paint?.['fill-opacity'] === 'number' ? Math.max(paint['fill-opacity'], 0.5) : 0.7;
  return s('svg', attrs, s('rect', { x: 3, y: 4, width: 16, height: 14, rx: 2, fill: color, 'fill-opacity': opacity, stroke: outline, 'stroke-width': 1.5 }));
}
