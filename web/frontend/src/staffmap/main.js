// The staff pages' maps (web/pages, docs/staff.md): the reports console shows the listed reports
// as points (click one to open it), and the modules page draws an outage's area — click the map
// to add a corner, drag a corner's handle to move it, Undo and Clear; from the keyboard, move the
// map with the arrow keys and add a corner at the cross in the centre. The area goes into the
// form's geometry field as a GeoJSON polygon. This entry shares no module with the public map.
import * as maplibregl from 'maplibre-gl/dist/maplibre-gl.mjs?staffmap';
import workerURL from 'maplibre-gl/dist/maplibre-gl-worker.mjs?staffmap&url';
import './staffmap.css';

const worker = new URL(workerURL, window.location.href);
worker.search = '';
maplibregl.setWorkerUrl(worker.href);

const BASE = ['districts', 'streets', 'buildings'];
const textEl = document.getElementById('staffmap-text');
const T = textEl ? JSON.parse(textEl.textContent) : {};
const t = (k, n) => (T[k] || k).replace('{n}', n);
window.__staffmap = { maps: [] };

let catalog;
async function baseLayers() {
  if (!catalog) catalog = fetch('/api/layers').then((r) => r.json()).then((b) => b.layers || []).catch(() => []);
  return catalog;
}

/** newMap makes a map of the city's base layers in el. */
async function newMap(el, label) {
  const ls = (await baseLayers()).filter((l) => BASE.includes(l.slug));
  const bbox = ls.map((l) => l.bbox).find((b) => Array.isArray(b) && b.length === 4);
  const has = (s) => ls.some((l) => l.slug === s);
  const map = new maplibregl.Map({
    container: el,
    style: {
      version: 8,
      sources: ls.length ? { base: { type: 'vector', tiles: [`${location.origin}/tiles/${ls.map((l) => l.slug).join(',')}/{z}/{x}/{y}.mvt?v=${ls.map((l) => l.version).join('.')}`], minzoom: 0, maxzoom: 16 } } : {},
      layers: [
        { id: 'background', type: 'background', paint: { 'background-color': '#f2efe9' } },
        ...(has('buildings') ? [{ id: 'buildings', type: 'fill', source: 'base', 'source-layer': 'buildings', paint: { 'fill-color': '#dcd6cb' } }] : []),
        ...(has('streets') ? [{ id: 'streets', type: 'line', source: 'base', 'source-layer': 'streets', paint: { 'line-color': '#ffffff', 'line-width': ['interpolate', ['linear'], ['zoom'], 11, 0.6, 16, 4] } }] : []),
        ...(has('districts') ? [{ id: 'districts', type: 'line', source: 'base', 'source-layer': 'districts', paint: { 'line-color': '#7d6aa6', 'line-width': 1.2 } }] : []),
      ],
    },
    ...(bbox ? { bounds: [[bbox[0], bbox[1]], [bbox[2], bbox[3]]], fitBoundsOptions: { padding: 16 } } : { center: [57.17, 50.28], zoom: 11 }),
    dragRotate: false, pitchWithRotate: false, touchPitch: false, attributionControl: { compact: true }, fadeDuration: 0,
  });
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.getCanvas().setAttribute('aria-label', label);
  await new Promise((ok) => (map.loaded() ? ok() : map.once('load', ok)));
  window.__staffmap.maps.push(map);
  return map;
}

/** The reports console: the listed reports as points; a click opens the report. */
async function reportsMap(el) {
  const points = JSON.parse(document.getElementById(el.dataset.points).textContent || '[]');
  window.__staffmap.reports = points;
  const map = await newMap(el, t('map_reports'));
  map.addSource('reports', { type: 'geojson', data: { type: 'FeatureCollection', features: points.map((p) => ({
    type: 'Feature', id: p.id, properties: { id: p.id, status: p.status, href: p.href }, geometry: { type: 'Point', coordinates: [p.lon, p.lat] } })) } });
  map.addLayer({ id: 'reports', type: 'circle', source: 'reports', paint: {
    'circle-radius': 7, 'circle-stroke-color': '#fff', 'circle-stroke-width': 2,
    'circle-color': ['match', ['get', 'status'], 'new', '#b42318', 'accepted', '#9a4d00', 'in_progress', '#6b5600', 'resolved', '#1f6f3a', '#555e6b'] } });
  if (points.length) {
    const b = new maplibregl.LngLatBounds();
    points.forEach((p) => b.extend([p.lon, p.lat]));
    map.fitBounds(b, { padding: 40, maxZoom: 15, duration: 0 });
  }
  map.on('click', 'reports', (e) => { const f = e.features?.[0]; if (f) window.location.href = f.properties.href; });
  map.on('mouseenter', 'reports', () => { map.getCanvas().style.cursor = 'pointer'; });
  map.on('mouseleave', 'reports', () => { map.getCanvas().style.cursor = ''; });
  el.dataset.ready = 'true';
}

/** An outage's area drawn on the map into the form field named by data-input. */
async function drawArea(box) {
  const input = document.getElementById(box.dataset.input);
  const el = box.querySelector('.staff-map');
  const status = box.querySelector('.draw-status');
  const corners = [];
  try {
    const g = JSON.parse(input.value || 'null');
    const ring = g?.type === 'Polygon' ? g.coordinates[0] : g?.type === 'MultiPolygon' ? g.coordinates[0][0] : null;
    if (ring) corners.push(...ring.slice(0, -1).map(([lon, lat]) => ({ lon, lat })));
  } catch { /* a typed value that is not GeoJSON: drawn afresh */ }
  box.hidden = false;
  input.closest('label')?.classList.add('draw-typed');
  const map = await newMap(el, t('map_draw'));
  const cross = document.createElement('div');
  cross.className = 'crosshair';
  el.appendChild(cross);
  map.addSource('area', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({ id: 'area-fill', type: 'fill', source: 'area', paint: { 'fill-color': '#b42318', 'fill-opacity': 0.2 } });
  map.addLayer({ id: 'area-line', type: 'line', source: 'area', paint: { 'line-color': '#b42318', 'line-width': 2 } });
  let markers = [];
  const redraw = () => {
    const ring = corners.map((c) => [c.lon, c.lat]);
    const closed = ring.length >= 3 ? [...ring, ring[0]] : ring;
    map.getSource('area').setData({ type: 'FeatureCollection', features: ring.length < 2 ? [] : [{ type: 'Feature', properties: {},
      geometry: ring.length >= 3 ? { type: 'Polygon', coordinates: [closed] } : { type: 'LineString', coordinates: ring } }] });
    input.value = ring.length >= 3 ? JSON.stringify({ type: 'Polygon', coordinates: [closed.map(([x, y]) => [+x.toFixed(6), +y.toFixed(6)])] }) : '';
    status.textContent = t('draw_count', corners.length) + (ring.length && ring.length < 3 ? ' ' + t('draw_more') : '');
    markers.forEach((m) => m.remove());
    markers = corners.map((c, i) => {
      const h = document.createElement('button');
      h.type = 'button';
      h.className = 'vertex';
      h.setAttribute('aria-label', t('draw_corner', i + 1));
      const m = new maplibregl.Marker({ element: h, draggable: true }).setLngLat([c.lon, c.lat]).addTo(map);
      m.on('dragend', () => { const p = m.getLngLat(); corners[i] = { lon: p.lng, lat: p.lat }; redraw(); });
      // From the keyboard a focused corner moves with the arrow keys (a few pixels a press).
      h.addEventListener('keydown', (e) => {
        const d = { ArrowLeft: [-8, 0], ArrowRight: [8, 0], ArrowUp: [0, -8], ArrowDown: [0, 8] }[e.key];
        if (!d) return;
        e.preventDefault();
        e.stopPropagation();
        const p = map.project([corners[i].lon, corners[i].lat]);
        const q = map.unproject([p.x + d[0], p.y + d[1]]);
        corners[i] = { lon: q.lng, lat: q.lat };
        redraw();
        markers[i]?.getElement().focus();
      });
      return m;
    });
  };
  map.on('click', (e) => { corners.push({ lon: e.lngLat.lng, lat: e.lngLat.lat }); redraw(); });
  box.querySelector('.draw-add').addEventListener('click', () => { const c = map.getCenter(); corners.push({ lon: c.lng, lat: c.lat }); redraw(); });
  box.querySelector('.draw-undo').addEventListener('click', () => { corners.pop(); redraw(); });
  box.querySelector('.draw-clear').addEventListener('click', () => { corners.length = 0; redraw(); });
  if (corners.length >= 3) {
    const b = new maplibregl.LngLatBounds();
    corners.forEach((c) => b.extend([c.lon, c.lat]));
    map.fitBounds(b, { padding: 40, duration: 0 });
  }
  redraw();
  box.dataset.ready = 'true';
}

document.querySelectorAll('[data-points]').forEach((el) => reportsMap(el).catch((e) => console.error('reports map:', e)));
document.querySelectorAll('.draw[data-input]').forEach((el) => drawArea(el).catch((e) => console.error('outage map:', e)));
