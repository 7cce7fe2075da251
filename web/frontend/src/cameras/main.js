// The map of the private cameras' pages (server-rendered, web/pages/templates/cameras): on the
// owners' page, a camera's position and view sector drawn on the map with drag handles that
// keep the form's number inputs in step (and the inputs move the handles); on the moderators'
// page, a small map per registration with its duplicates nearby; on the incident lookup, the
// place picked on the map and the sectors of the cameras that see it. The texts come from the
// page (#cameras-text, web/pages/catalog.json cameras.js_*). Like the planner's entry, it shares
// no module with the public map, so the map's bundle is unchanged.
import * as maplibregl from 'maplibre-gl/dist/maplibre-gl.mjs?cameras';
import workerURL from 'maplibre-gl/dist/maplibre-gl-worker.mjs?cameras&url';
import './cameras.css';
import { sector, bearing, distance, offset, angleBetween } from './sector.js';

const worker = new URL(workerURL, window.location.href);
worker.search = '';
maplibregl.setWorkerUrl(worker.href);

const text = (() => {
  try { return JSON.parse(document.getElementById('cameras-text')?.textContent || '{}'); } catch { return {}; }
})();
const BASE = ['districts', 'streets', 'buildings'];
const COLORS = { registration: '#6a1b9a', private: '#1565c0', city: '#c62828', place: '#f0b400' };
const maps = [];
window.__cameras = { maps };

async function getJSON(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json();
}

// baseStyle is the city's own streets, buildings and districts from our tiles, as the planner
// draws them, with the installed city cameras.
function baseStyle(layers) {
  const base = layers.filter((l) => BASE.includes(l.slug));
  const cams = layers.find((l) => l.slug === 'cameras');
  const sources = {};
  const out = [{ id: 'background', type: 'background', paint: { 'background-color': '#f2efe9' } }];
  if (base.length) {
    sources.base = { type: 'vector', tiles: [`${location.origin}/tiles/${base.map((l) => l.slug).join(',')}/{z}/{x}/{y}.mvt?v=${base.map((l) => l.version).join('.')}`], minzoom: 0, maxzoom: 16 };
    if (base.some((l) => l.slug === 'buildings')) out.push({ id: 'buildings', type: 'fill', source: 'base', 'source-layer': 'buildings', paint: { 'fill-color': '#dcd6cb', 'fill-outline-color': '#c4bcae' } });
    if (base.some((l) => l.slug === 'streets')) out.push({ id: 'streets', type: 'line', source: 'base', 'source-layer': 'streets', paint: { 'line-color': '#ffffff', 'line-width': ['interpolate', ['linear'], ['zoom'], 11, 0.6, 16, 4, 19, 14] } });
    if (base.some((l) => l.slug === 'districts')) out.push({ id: 'districts', type: 'line', source: 'base', 'source-layer': 'districts', paint: { 'line-color': '#7d6aa6', 'line-width': 1.2 } });
  }
  if (cams) {
    sources.citycams = { type: 'vector', tiles: [`${location.origin}/tiles/cameras/{z}/{x}/{y}.mvt?v=${cams.version}`], minzoom: 0, maxzoom: 16 };
    out.push({ id: 'city-cameras', type: 'circle', source: 'citycams', 'source-layer': 'cameras', minzoom: 14,
      filter: ['==', ['get', 'status'], 'installed'],
      paint: { 'circle-radius': 4, 'circle-color': COLORS.city, 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 } });
  }
  return { version: 8, sources, layers: out };
}

let setup;
function loadSetup() {
  setup ??= Promise.all([getJSON('/api/layers'), getJSON('/api/config').catch(() => ({}))])
    .then(([l, c]) => ({ layers: l.layers || [], city: c.city || {} }));
  return setup;
}

function newMap(el, s, opts = {}) {
  const c = s.city;
  const view = c.center ? { center: c.center, zoom: c.zoom || 12 } : c.bounds ? { bounds: [[c.bounds[0], c.bounds[1]], [c.bounds[2], c.bounds[3]]] } : { center: [57.17, 50.28], zoom: 12 };
  const map = new maplibregl.Map({ container: el, style: baseStyle(s.layers), ...view, ...opts,
    dragRotate: false, pitchWithRotate: false, touchPitch: false, attributionControl: false, fadeDuration: 0 });
  map.touchZoomRotate.disableRotation();
  if (opts.interactive !== false) map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.on('error', (e) => console.warn('map:', e.error?.message || e));
  maps.push(map);
  return map;
}

const empty = () => ({ type: 'FeatureCollection', features: [] });

function addSectorLayers(map) {
  map.addSource('sectors', { type: 'geojson', data: empty() });
  map.addLayer({ id: 'sectors-fill', type: 'fill', source: 'sectors', paint: { 'fill-color': ['get', 'color'], 'fill-opacity': 0.25 } });
  map.addLayer({ id: 'sectors-line', type: 'line', source: 'sectors', paint: { 'line-color': ['get', 'color'], 'line-width': 2 } });
  map.addSource('points', { type: 'geojson', data: empty() });
  map.addLayer({ id: 'points', type: 'circle', source: 'points', paint: { 'circle-radius': 6, 'circle-color': ['get', 'color'], 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } });
}

function drawCameras(map, cams, place) {
  const sectors = empty();
  const points = empty();
  for (const c of cams) {
    const color = COLORS[c.kind] || COLORS.private;
    if (c.range_m > 0) sectors.features.push({ type: 'Feature', properties: { color, id: c.id, kind: c.kind }, geometry: { type: 'Polygon', coordinates: [sector(c.lon, c.lat, c.heading, c.fov, c.range_m)] } });
    points.features.push({ type: 'Feature', properties: { color, id: c.id, kind: c.kind }, geometry: { type: 'Point', coordinates: [c.lon, c.lat] } });
  }
  if (place) points.features.push({ type: 'Feature', properties: { color: COLORS.place, kind: 'place' }, geometry: { type: 'Point', coordinates: place } });
  map.getSource('sectors').setData(sectors);
  map.getSource('points').setData(points);
  const all = [...sectors.features.flatMap((f) => f.geometry.coordinates[0]), ...points.features.map((f) => f.geometry.coordinates)];
  if (all.length) {
    const b = new maplibregl.LngLatBounds(all[0], all[0]);
    for (const p of all) b.extend(p);
    map.fitBounds(b, { padding: 30, maxZoom: 18, duration: 0 });
  }
}

function handle(kind, label) {
  const el = document.createElement('div');
  el.className = `cam-handle ${kind}`;
  el.setAttribute('role', 'img');
  el.setAttribute('aria-label', label || kind);
  el.title = label || kind;
  el.append(document.createElement('span'));
  return el;
}

const round = (v, d) => Math.round(v * 10 ** d) / 10 ** d;

// The owners' form: the map and the inputs keep each other in step.
async function registerMap(el) {
  const form = el.closest('form');
  const input = (n) => form.elements.namedItem(n);
  const num = (n) => { const v = parseFloat(String(input(n).value).replace(',', '.')); return Number.isFinite(v) ? v : NaN; };
  const s = await loadSetup();
  const map = newMap(el, s);
  const markers = {};
  const cam = () => ({ lon: num('lon'), lat: num('lat'), heading: num('heading') || 0, fov: Math.min(360, Math.max(1, num('fov') || 90)), range: Math.min(300, Math.max(1, num('range_m') || 30)) });
  const placed = () => Number.isFinite(num('lon')) && Number.isFinite(num('lat'));
  function place(skip) {
    const c = cam();
    if (!placed()) return;
    const tip = offset(c.lon, c.lat, c.heading, c.range);
    const edge = offset(c.lon, c.lat, c.heading - Math.min(c.fov, 359) / 2, c.range * 0.75);
    const at = { position: [c.lon, c.lat], heading: tip, fov: edge };
    for (const [k, m] of Object.entries(markers)) {
      if (k !== skip) m.setLngLat(at[k]);
      if (!m._map) m.addTo(map);
    }
    map.getSource('sectors')?.setData({ type: 'FeatureCollection', features: [{ type: 'Feature', properties: { color: COLORS.registration },
      geometry: { type: 'Polygon', coordinates: [sector(c.lon, c.lat, c.heading, c.fov, c.range)] } }] });
    el.dataset.heading = String(c.heading);
    el.dataset.fov = String(c.fov);
    el.dataset.range = String(c.range);
  }
  const set = (n, v) => { input(n).value = String(v); };
  // fit shows the camera with room around its sector for the handles to be dragged further out.
  const fit = () => {
    const c = cam();
    if (!placed()) return;
    const r = Math.max(c.range, 30) * 1.8;
    const b = new maplibregl.LngLatBounds(offset(c.lon, c.lat, 225, r * Math.SQRT2), offset(c.lon, c.lat, 45, r * Math.SQRT2));
    map.fitBounds(b, { padding: 10, maxZoom: 19.5, duration: 0 });
  };
  for (const [k, label] of [['position', text.handle_position], ['heading', text.handle_heading], ['fov', text.handle_fov]]) {
    markers[k] = new maplibregl.Marker({ element: handle(k, label), draggable: true });
  }
  markers.position.on('drag', () => {
    const p = markers.position.getLngLat();
    set('lon', round(p.lng, 6));
    set('lat', round(p.lat, 6));
    place('position');
  });
  markers.heading.on('drag', () => {
    const c = cam();
    const p = markers.heading.getLngLat();
    set('heading', round(((bearing(c.lon, c.lat, p.lng, p.lat) % 360) + 360) % 360, 0) % 360);
    set('range_m', Math.min(300, Math.max(1, round(distance(c.lon, c.lat, p.lng, p.lat), 0))));
    place('heading');
  });
  markers.fov.on('drag', () => {
    const c = cam();
    const p = markers.fov.getLngLat();
    set('fov', Math.min(360, Math.max(1, round(2 * angleBetween(c.heading, bearing(c.lon, c.lat, p.lng, p.lat)), 0))));
    place('fov');
  });
  for (const m of Object.values(markers)) m.on('dragend', () => place());
  map.on('click', (e) => {
    const first = !placed();
    set('lon', round(e.lngLat.lng, 6));
    set('lat', round(e.lngLat.lat, 6));
    if (first) fit();
    place();
  });
  for (const n of ['lon', 'lat', 'heading', 'fov', 'range_m']) input(n).addEventListener('input', () => place());
  // Typed coordinates: the map follows once the value is complete.
  for (const n of ['lon', 'lat']) input(n).addEventListener('change', () => { fit(); place(); });
  map.on('load', () => {
    addSectorLayers(map);
    if (placed()) {
      fit();
      place();
    }
    document.body.dataset.camerasReady = 'true';
  });
  window.__cameras.register = { map, markers };
}

async function miniMap(el) {
  const data = JSON.parse(el.dataset.map || '{}');
  const s = await loadSetup();
  const map = newMap(el, s, { interactive: false, center: data.center, zoom: 18 });
  map.on('load', () => { addSectorLayers(map); drawCameras(map, data.cameras || []); el.dataset.ready = 'true'; });
}

async function incidentMap(el) {
  const data = JSON.parse(el.dataset.map || '{}');
  const form = el.closest('form');
  const s = await loadSetup();
  const map = newMap(el, s);
  map.on('click', (e) => {
    form.elements.namedItem('lon').value = String(round(e.lngLat.lng, 6));
    form.elements.namedItem('lat').value = String(round(e.lngLat.lat, 6));
    drawCameras(map, [], [e.lngLat.lng, e.lngLat.lat]);
  });
  map.on('load', () => {
    addSectorLayers(map);
    if (data.place) drawCameras(map, data.cameras || [], data.place);
    document.body.dataset.camerasReady = 'true';
  });
}

const reg = document.getElementById('camera-map');
if (reg) registerMap(reg);
const inc = document.getElementById('incident-map');
if (inc) incidentMap(inc);
// A browser gives a page a few WebGL contexts: the first registrations of the queue get a map.
for (const el of [...document.querySelectorAll('.mini-map')].slice(0, 8)) miniMap(el);
if (!reg && !inc) document.body.dataset.camerasReady = 'true';
