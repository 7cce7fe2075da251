// Live vehicles and bus-stop arrivals (layers/transit, docs/transit.md).
//
// While the "vehicles" layer is on and the tab is visible, the map subscribes to the server's
// Server-Sent Events stream (GET /api/vehicles/live) and draws the vehicles from a GeoJSON source
// of its own, moving each one smoothly from where it is drawn to its newest fix over about the
// time between its fixes. Each vehicle shows its route number, a heading arrow and, in its popup,
// the plate, speed, low-floor/wheelchair-lift flag and how long ago it was seen. The catalog's
// tile layer of the same vehicles is hidden while the stream works (so no bus is drawn twice) and
// comes back when the stream is lost for good. A bus stop's popup lists the next arrivals per
// route (GET /api/stops/{code}/arrivals): a live prediction or the timetable, refreshed while open.
import * as maplibregl from 'maplibre-gl';
import { h, clear } from '../dom.js';
import { register, whenStyleReady } from '../extensions.js';
import { formatNumber, has, pick, t } from '../i18n.js';
import { cityDay, formatTime, formatWeekdayTime } from '../format.js';
import './live.css';

const SLUG = 'vehicles';
const SRC = 'live-vehicles';
const LAYERS = ['live-vehicles-dot', 'live-vehicles-arrow', 'live-vehicles-route'];
const TILE_LAYERS = [`lyr-${SLUG}`, `cl-${SLUG}`, `hl-${SLUG}`];
const LIVE_WINDOW_S = 15 * 60; // as the server's transit.LiveWindow
const STALE_S = 120; // drawn faded when silent longer than this
const MAX_GLIDE_MS = 3000; // longest glide between two fixes
const TELEPORT_M = 2000; // a jump longer than this is drawn at once, not glided
const ARRIVALS_REFRESH_MS = 20000;

// ---------------------------------------------------------------- geometry helpers

const RAD = Math.PI / 180;

/** distanceM is the great-circle distance between two [lon, lat] points in metres. */
export function distanceM(a, b) {
  const dLat = (b[1] - a[1]) * RAD;
  const dLon = (b[0] - a[0]) * RAD;
  const x = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * RAD) * Math.cos(b[1] * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(x)));
}

/** bearing is the initial bearing from a to b, degrees clockwise from north. */
export function bearing(a, b) {
  const y = Math.sin((b[0] - a[0]) * RAD) * Math.cos(b[1] * RAD);
  const x = Math.cos(a[1] * RAD) * Math.sin(b[1] * RAD) - Math.sin(a[1] * RAD) * Math.cos(b[1] * RAD) * Math.cos((b[0] - a[0]) * RAD);
  return (Math.atan2(y, x) / RAD + 360) % 360;
}

/**
 * glide returns where a vehicle is drawn at time now (ms): from its previous drawn point towards
 * its newest fix, eased over the glide's duration.
 */
export function glide(e, now) {
  if (!e.dur || now >= e.t0 + e.dur) return e.to;
  const k = Math.max(0, (now - e.t0) / e.dur);
  return [e.from[0] + (e.to[0] - e.from[0]) * k, e.from[1] + (e.to[1] - e.from[1]) * k];
}

// ---------------------------------------------------------------- state

const live = {
  ctx: null,
  es: null,
  vehicles: new Map(), // id -> { v, from, to, t0, dur, got, heading }
  status: 'off', // off | connecting | live | lost | failed
  failures: 0,
  retryTimer: 0,
  frame: 0,
  nextChange: Infinity, // wall-clock ms when a vehicle turns stale or leaves the map
  drawnCount: 0,
  lastDraw: 0,
  dirty: false,
  tilesHidden: false,
  popup: null,
  popupID: null,
  popupTimer: 0,
  focusID: null, // #vehicle=ID from the address: fly there when it appears
  focusMissing: null,
  panel: null,
  panelText: null,
  layersAdded: false,
  feedCount: null, // vehicles live now by GET /api/vehicles, while the stream is not live
  panelService: null,
  service: null, // GET /api/transit/service: the network's hours and next trip starts, when none is live
  serviceAt: 0,
  serviceLoading: false,
};

const reducedMotion = () => window.matchMedia?.('(prefers-reduced-motion: reduce)').matches;

function wanted() {
  return Boolean(live.ctx?.map) && live.ctx.visible(SLUG) && document.visibilityState !== 'hidden';
}

/** sync subscribes or unsubscribes to match the layer's switch and the tab's visibility. */
function sync() {
  if (wanted()) {
    connect();
  } else {
    disconnect(live.ctx?.visible(SLUG) ? 'paused' : 'off');
  }
  renderPanel();
}

// ---------------------------------------------------------------- the stream

function connect() {
  if (live.es || live.retryTimer) return;
  ensureLayers();
  setStatus(live.failures ? 'lost' : 'connecting');
  const es = new EventSource('/api/vehicles/live');
  live.es = es;
  es.addEventListener('snapshot', (ev) => {
    live.failures = 0;
    const list = parse(ev.data);
    const ids = new Set(list.map((v) => v.id));
    for (const id of [...live.vehicles.keys()]) if (!ids.has(id)) live.vehicles.delete(id);
    upsert(list);
    setStatus('live');
    hideTiles(true);
    if (live.focusID !== null) focusVehicle();
  });
  es.addEventListener('vehicles', (ev) => upsert(parse(ev.data)));
  es.onerror = () => {
    // EventSource retries by itself after a dropped connection (readyState CONNECTING); after a
    // refused one (an error status, a wrong type) it gives up (CLOSED): retry with a back-off.
    if (es.readyState === EventSource.CLOSED) {
      closeStream();
      live.failures++;
      const delay = Math.min(30000, 1000 * 2 ** Math.min(live.failures - 1, 5));
      live.retryTimer = setTimeout(() => { live.retryTimer = 0; if (wanted()) connect(); }, delay);
    } else {
      live.failures++;
    }
    // Lost for a while: bring the (slower) tile layer back rather than show frozen buses.
    setStatus(live.failures >= 4 ? 'failed' : 'lost');
    if (live.failures >= 4) hideTiles(false);
  };
  startFrames();
}

function closeStream() {
  if (live.es) {
    live.es.close();
    live.es = null;
  }
}

function disconnect(status) {
  closeStream();
  clearTimeout(live.retryTimer);
  live.retryTimer = 0;
  live.failures = 0;
  cancelAnimationFrame(live.frame);
  live.frame = 0;
  live.vehicles.clear();
  closeVehiclePopup();
  if (live.layersAdded) {
    for (const id of LAYERS) if (live.ctx.map.getLayer(id)) live.ctx.map.setLayoutProperty(id, 'visibility', 'none');
    live.ctx.map.getSource(SRC)?.setData(emptyFC());
  }
  hideTiles(false);
  setStatus(status);
  pollCount();
}

function parse(data) {
  try {
    const v = JSON.parse(data);
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

/** upsert takes vehicles from the stream: each glides from where it is drawn to its new fix. */
function upsert(list) {
  const now = performance.now();
  for (const v of list) {
    if (!Number.isFinite(v.lon) || !Number.isFinite(v.lat)) continue;
    const to = [v.lon, v.lat];
    const old = live.vehicles.get(v.id);
    let e;
    if (!old) {
      e = { v, from: to, to, t0: now, dur: 0, got: now, heading: v.heading };
    } else {
      const from = glide(old, now);
      const far = distanceM(from, to) > TELEPORT_M;
      // Glide over about the time this vehicle takes between fixes, so that it keeps moving.
      const dur = far || reducedMotion() ? 0 : Math.min(MAX_GLIDE_MS, Math.max(250, now - old.got));
      let heading = v.heading;
      if (heading === null || heading === undefined) {
        heading = distanceM(old.to, to) > 5 ? bearing(old.to, to) : old.heading;
      }
      e = { v, from, to, t0: now, dur, got: now, heading };
    }
    live.vehicles.set(v.id, e);
  }
  live.dirty = true;
  if (live.status !== 'live' && live.es) setStatus('live');
  else renderPanel();
  startFrames();
}

// ---------------------------------------------------------------- drawing

const emptyFC = () => ({ type: 'FeatureCollection', features: [] });

function ensureLayers() {
  const map = live.ctx.map;
  if (!(map.style && map.style._loaded)) { // see whenStyleReady in extensions.js
    whenStyleReady(map, () => { if (wanted()) { ensureLayers(); live.dirty = true; startFrames(); } });
    return;
  }
  if (!live.layersAdded) {
    live.layersAdded = true;
    map.addSource(SRC, { type: 'geojson', data: emptyFC(), promoteId: 'id' });
    map.addLayer({ id: LAYERS[0], type: 'circle', source: SRC, paint: {
      'circle-color': ['case', ['get', 'low_floor'], '#1565c0', '#d84315'],
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 4, 16, 8],
      'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1.5,
      'circle-opacity': ['case', ['get', 'stale'], 0.45, 1],
      'circle-stroke-opacity': ['case', ['get', 'stale'], 0.45, 1],
    } });
    map.addLayer({ id: LAYERS[1], type: 'symbol', source: SRC, filter: ['has', 'heading'],
      layout: { 'icon-image': 'live-arrow', 'icon-rotate': ['get', 'heading'], 'icon-rotation-alignment': 'map',
        'icon-allow-overlap': true, 'icon-ignore-placement': true, 'icon-size': ['interpolate', ['linear'], ['zoom'], 10, 0.7, 16, 1] },
      paint: { 'icon-opacity': ['case', ['get', 'stale'], 0.45, 1] } });
    map.addLayer({ id: LAYERS[2], type: 'symbol', source: SRC, minzoom: 12, filter: ['!=', ['get', 'route'], ''],
      layout: { 'icon-image': ['concat', 'live-route:', ['case', ['get', 'low_floor'], '1', '0'], ':', ['get', 'route']],
        'icon-anchor': 'bottom', 'icon-offset': [0, -9], 'icon-padding': 1 },
      paint: { 'icon-opacity': ['case', ['get', 'stale'], 0.55, 1] } });
    map.on('styleimagemissing', (e) => drawImage(map, e.id));
  }
  for (const id of LAYERS) map.setLayoutProperty(id, 'visibility', 'visible');
}

/** drawImage makes the heading arrow and the route badges (the map has no fonts of its own). */
function drawImage(map, id) {
  if (map.hasImage(id)) return;
  const ratio = Math.min(2, window.devicePixelRatio || 1);
  const canvas = document.createElement('canvas');
  const c = canvas.getContext('2d');
  if (id === 'live-arrow') {
    // An arrowhead ahead of the dot, pointing north; the layer turns it to the heading.
    const size = 44;
    canvas.width = canvas.height = size * ratio;
    c.scale(ratio, ratio);
    c.beginPath();
    c.moveTo(22, 1.5); c.lineTo(29, 12); c.lineTo(22, 9.5); c.lineTo(15, 12); c.closePath();
    c.fillStyle = '#1d2327'; c.strokeStyle = '#ffffff'; c.lineWidth = 1.5; c.lineJoin = 'round';
    c.stroke(); c.fill();
    map.addImage(id, c.getImageData(0, 0, canvas.width, canvas.height), { pixelRatio: ratio });
    return;
  }
  const m = /^live-route:([01]):(.+)$/.exec(id);
  if (!m) return;
  const text = m[2].slice(0, 8);
  const font = 'bold 11px system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", Arial, sans-serif';
  c.font = font;
  const w = Math.ceil(c.measureText(text).width) + 10;
  const hgt = 16;
  canvas.width = w * ratio; canvas.height = hgt * ratio;
  c.scale(ratio, ratio);
  c.fillStyle = m[1] === '1' ? '#0d47a1' : '#bf360c';
  c.strokeStyle = '#ffffff'; c.lineWidth = 1.5;
  c.beginPath();
  c.roundRect(0.75, 0.75, w - 1.5, hgt - 1.5, 4);
  c.fill(); c.stroke();
  c.font = font; c.fillStyle = '#ffffff'; c.textAlign = 'center'; c.textBaseline = 'middle';
  c.fillText(text, w / 2, hgt / 2 + 0.5);
  map.addImage(id, c.getImageData(0, 0, canvas.width, canvas.height), { pixelRatio: ratio });
}

function startFrames() {
  if (!live.frame && live.es) live.frame = requestAnimationFrame(frame);
}

/**
 * frame draws the vehicles where they are now. Nothing is redrawn while nothing moves, except
 * when a vehicle turns stale or leaves the map, so that an idle map stays idle.
 */
function frame() {
  live.frame = 0;
  const map = live.ctx.map;
  const src = map.getSource(SRC);
  if (!src || !live.es) return;
  const now = performance.now();
  const wall = Date.now();
  let moving = false;
  for (const e of live.vehicles.values()) if (e.dur && now < e.t0 + e.dur) { moving = true; break; }
  // Many vehicles: redraw at most 10-20 times a second (each redraw re-tiles the source).
  const every = live.vehicles.size > 500 ? 100 : live.vehicles.size > 150 ? 50 : 0;
  if ((moving || live.dirty || wall >= live.nextChange) && now - live.lastDraw >= every) {
    live.lastDraw = now;
    live.dirty = false;
    live.nextChange = Infinity;
    const features = [];
    for (const [id, e] of live.vehicles) {
      const seen = Date.parse(e.v.seen_at);
      const ageS = (wall - seen) / 1000;
      if (ageS > LIVE_WINDOW_S) { live.vehicles.delete(id); continue; }
      const stale = ageS > STALE_S;
      live.nextChange = Math.min(live.nextChange, seen + 1000 * (stale ? LIVE_WINDOW_S : STALE_S) + 1);
      const props = { id, route: e.v.route || '', low_floor: Boolean(e.v.low_floor), stale };
      if (Number.isFinite(e.heading)) props.heading = e.heading;
      features.push({ type: 'Feature', id, geometry: { type: 'Point', coordinates: glide(e, now) }, properties: props });
    }
    src.setData({ type: 'FeatureCollection', features });
    if (live.popup && live.popupID !== null) {
      const e = live.vehicles.get(live.popupID);
      if (e) live.popup.setLngLat(glide(e, now));
    }
    if (features.length !== live.drawnCount) {
      live.drawnCount = features.length;
      renderPanel();
    }
  }
  live.frame = requestAnimationFrame(frame);
}

/** hideTiles hides the catalog's tile layer of the vehicles while the stream draws them. */
function hideTiles(hide) {
  const map = live.ctx?.map;
  if (!map) return;
  live.tilesHidden = hide;
  const vis = hide || !live.ctx.visible(SLUG) ? 'none' : 'visible';
  for (const id of TILE_LAYERS) if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', vis);
}

// ---------------------------------------------------------------- the panel line

function setStatus(status) {
  live.status = status;
  renderPanel();
}

// The layer list's count of this layer is the number of vehicles live now: the vehicles the
// stream draws while it is live, else the length of GET /api/vehicles, asked again every
// COUNT_REFRESH_MS while the tab is visible (main.js shows "none live now" for 0).
const COUNT_REFRESH_MS = 30000;

function publishCount() {
  const n = live.status === 'live' ? live.vehicles.size : live.feedCount;
  if (Number.isInteger(n)) live.ctx?.setLiveCount?.(SLUG, n);
}

async function pollCount() {
  if (document.visibilityState === 'hidden' || live.status === 'live') return;
  try {
    const r = await fetch('/api/vehicles', { cache: 'no-store' });
    if (!r.ok) return;
    const body = await r.json();
    if (Array.isArray(body.vehicles)) live.feedCount = body.vehicles.length;
  } catch { return; }
  publishCount();
}

function renderPanel() {
  publishCount();
  if (!live.panel) return;
  const L = live.ctx.lang();
  const on = live.ctx.visible(SLUG);
  live.panel.hidden = !on;
  live.panel.dataset.status = live.status;
  if (!on) return;
  live.panelTitle.textContent = t('live.title');
  let text;
  switch (live.status) {
    case 'live': text = live.vehicles.size ? t('live.count', { n: formatNumber(live.vehicles.size, L) }) : t('live.none'); break;
    case 'lost': text = t('live.lost'); break;
    case 'failed': text = t('live.failed'); break;
    default: text = t('live.connecting');
  }
  if (live.focusMissing) text += ` · ${t('live.missing', { id: live.focusMissing })}`;
  // Only real changes reach screen readers (the count, the connection).
  if (live.panelText.textContent !== text) live.panelText.textContent = text;
  renderService(L);
}

// With no bus live (at night, or no tracker reporting) the panel says when buses run by the
// timetable and lists the next trip starts, so that an empty map does not look broken.
const SERVICE_REFRESH_MS = 60000;

function renderService(L) {
  const none = live.status === 'live' && live.vehicles.size === 0;
  live.panelService.hidden = !none;
  if (!none) return;
  if ((!live.service || Date.now() - live.serviceAt > SERVICE_REFRESH_MS) && !live.serviceLoading) loadService();
  const sv = live.service;
  clear(live.panelService);
  if (!sv) return;
  const hrs = sv.hours || {};
  if (hrs.first && hrs.last) {
    live.panelService.append(h('p', { class: 'live-muted live-service-hours' }, t(sv.in_service ? 'live.noneReporting' : 'live.serviceHours',
      { from: clock(L, hrs.first), to: clock(L, hrs.last) })));
  } else if (!(sv.departures || []).length) {
    live.panelService.append(h('p', { class: 'live-muted live-service-hours' }, t('live.noTimetable')));
  }
  if (!(sv.departures || []).length) return;
  live.panelService.append(h('h3', { class: 'live-next-title' }, t('live.nextTimetable')),
    h('ul', { class: 'live-arrivals-list live-departures' }, sv.departures.map((d) => h('li', { dataset: { route: d.route, trip: d.trip_id, realtime: 'false' } },
      routeBadge(d),
      h('span', { class: 'live-headsign' }, d.headsign ? t('live.towards', { x: d.headsign }) : ''),
      h('span', { class: 'live-times' }, h('span', { class: 'live-when' }, dayClock(L, d.departure, sv.now),
        h('span', { class: 'live-kind' }, d.from_stop ? ` · ${t('live.fromStop', { x: d.from_stop })}` : '')))))));
}

/** routeBadge is a route's number, marked with the route's colour (GTFS route_color) when it has one. */
function routeBadge(d) {
  const b = h('span', { class: 'live-route-badge' }, d.route);
  // Through the CSSOM: the page's Content-Security-Policy refuses style attributes.
  if (/^[0-9A-Fa-f]{6}$/.test(d.color || '')) b.style.borderLeft = `5px solid #${d.color}`;
  return b;
}

async function loadService() {
  live.serviceLoading = true;
  try {
    const r = await fetch('/api/transit/service?limit=4', { cache: 'no-store' });
    live.service = r.ok ? await r.json() : null;
  } catch {
    live.service = null;
  }
  live.serviceAt = Date.now();
  live.serviceLoading = false;
  if (live.panel && !live.panel.hidden) renderService(live.ctx.lang());
}

// ---------------------------------------------------------------- the vehicle popup

function ageText(L, seconds) {
  const s = Math.max(0, Math.round(seconds));
  return s < 90 ? t('live.secondsAgo', { n: formatNumber(s, L) }) : t('live.minutesAgo', { n: formatNumber(Math.round(s / 60), L) });
}

function compass(L, deg) {
  return t(`live.compass.${Math.round((((deg % 360) + 360) % 360) / 45) % 8}`);
}

function delayText(L, s) {
  const m = Math.round(s / 60);
  if (m === 0) return t('live.onTime');
  return m > 0 ? t('live.late', { n: formatNumber(m, L) }) : t('live.early', { n: formatNumber(-m, L) });
}

function vehicleContent(e) {
  const L = live.ctx.lang();
  const v = e.v;
  const kind = has(`live.kinds.${v.kind}`) ? t(`live.kinds.${v.kind}`) : v.kind || t('live.vehicle');
  const rows = [];
  const row = (k, val, key) => rows.push(h('tr', { dataset: { key } }, h('th', { scope: 'row' }, t(k)), h('td', {}, val)));
  if (v.route) row('live.route', v.route, 'route');
  if (v.plate) row('live.plate', v.plate, 'plate');
  if (Number.isFinite(v.speed_kmh)) row('live.speed', t('live.kmh', { n: formatNumber(Math.round(v.speed_kmh), L) }), 'speed');
  if (Number.isFinite(e.heading)) {
    row('live.heading', h('span', {}, h('span', { class: 'live-heading', 'aria-hidden': 'true', dataset: { deg: String(Math.round(e.heading)) } }, '↑'),
      ` ${compass(L, e.heading)} (${Math.round(e.heading)}°)`), 'heading');
  }
  row('live.lowFloor', v.low_floor ? h('span', {}, h('span', { 'aria-hidden': 'true' }, '♿ '), t('live.yes')) : t('live.no'), 'low_floor');
  if (Number.isFinite(v.delay_s)) row('live.delay', delayText(L, v.delay_s), 'delay');
  row('live.seen', ageText(L, (Date.now() - Date.parse(v.seen_at)) / 1000), 'seen');
  const layer = live.ctx.layer(SLUG);
  const title = v.route ? `${kind} ${v.route}` : kind;
  const node = h('div', { class: 'popup live-vehicle', dataset: { layer: SLUG, vehicle: String(v.id) } },
    h('p', { class: 'popup-layer' }, h('span', { class: `live-dot${v.low_floor ? ' low-floor' : ''}`, 'aria-hidden': 'true' }), pick(layer?.title, L) || t('live.title')),
    h('h2', { class: 'popup-title' }, title),
    h('table', { class: 'popup-table' }, h('tbody', {}, rows)));
  // The arrow shows the heading without an inline style (the page's CSP forbids them).
  node.querySelector('.live-heading')?.style?.setProperty('--deg', `${Math.round(e.heading)}deg`);
  return node;
}

function renderVehiclePopup() {
  const e = live.vehicles.get(live.popupID);
  if (!live.popup || !e) return;
  live.popup.setDOMContent(vehicleContent(e));
  const btn = live.popup.getElement()?.querySelector('.maplibregl-popup-close-button');
  if (btn) { btn.setAttribute('aria-label', t('live.close')); btn.title = t('live.close'); }
}

function openVehiclePopup(id) {
  const e = live.vehicles.get(id);
  if (!e) return;
  live.ctx.closePopup?.();
  if (!live.popup) {
    live.popup = new maplibregl.Popup({ maxWidth: '320px', focusAfterOpen: true, className: 'feature-popup live-popup' });
    live.popup.on('close', () => { live.popupID = null; clearInterval(live.popupTimer); live.ctx.updatePermalink?.(); });
  }
  live.popupID = id;
  live.ctx.updatePermalink?.(); // the link names the vehicle while its popup is open
  live.popup.setLngLat(glide(e, performance.now()));
  renderVehiclePopup();
  if (!live.popup.isOpen()) live.popup.addTo(live.ctx.map);
  renderVehiclePopup();
  clearInterval(live.popupTimer);
  // Last-seen age and the newest fix's details, once a second while open.
  live.popupTimer = setInterval(() => {
    if (!live.vehicles.has(live.popupID)) { closeVehiclePopup(); return; }
    const focusInside = live.popup.getElement()?.contains(document.activeElement);
    const node = live.popup.getElement()?.querySelector('.live-vehicle');
    if (node && !focusInside) node.replaceWith(vehicleContent(live.vehicles.get(live.popupID)));
    else if (node) {
      const seen = node.querySelector('tr[data-key="seen"] td');
      if (seen) seen.textContent = ageText(live.ctx.lang(), (Date.now() - Date.parse(live.vehicles.get(live.popupID).v.seen_at)) / 1000);
    }
  }, 1000);
}

function closeVehiclePopup() {
  clearInterval(live.popupTimer);
  live.popupID = null;
  if (live.popup?.isOpen()) live.popup.remove();
}

/** focusVehicle flies to the vehicle named in the address (#…&vehicle=ID) and opens its popup. */
function focusVehicle() {
  const id = live.focusID;
  const e = live.vehicles.get(id);
  live.focusID = null;
  if (!e) {
    live.focusMissing = id;
    renderPanel();
    return;
  }
  live.focusMissing = null;
  const map = live.ctx.map;
  map.jumpTo({ center: e.to, zoom: Math.max(map.getZoom(), 15) });
  openVehiclePopup(id);
}

// ---------------------------------------------------------------- bus-stop arrivals

const arrivalsCache = new Map(); // stop code -> { at, body, status }

function clock(L, iso) {
  return formatTime(iso, L);
}

/** dayClock is a time of day, with the weekday when it is not on the day of now. */
function dayClock(L, iso, now) {
  if (cityDay(iso) === cityDay(now)) return clock(L, iso);
  return formatWeekdayTime(iso, L);
}

/**
 * noArrivals says why no bus is listed: with the stop's service hours by the timetable (the API's
 * hours: the day's first and last departure) "no buses in service now — service runs 06:00–23:00",
 * and the next scheduled departure (the timetable's, not a prediction).
 */
function noArrivals(L, body) {
  const hrs = body.hours || {};
  const out = [h('p', { class: 'live-muted live-service-hours' }, hrs.first && hrs.last
    ? t('live.serviceHours', { from: clock(L, hrs.first), to: clock(L, hrs.last) })
    : t('live.noArrivals'))];
  if (hrs.next) {
    out.push(h('p', { class: 'live-next-scheduled', dataset: { realtime: 'false' } },
      t('live.nextScheduled', { t: dayClock(L, hrs.next, body.now) })));
  }
  return out;
}

function renderArrivals(node, code, res) {
  const L = live.ctx.lang();
  const list = node.querySelector('.live-arrivals-body');
  clear(list);
  node.dataset.state = res.status;
  if (res.status === 'loading') { list.append(h('p', { class: 'live-muted' }, t('live.loading'))); return; }
  if (res.status === 'notfound') { list.append(h('p', { class: 'live-muted' }, t('live.noTimetable'))); return; }
  if (res.status !== 'ok') { list.append(h('p', { class: 'live-muted' }, t('live.loadError'))); return; }
  const arrivals = res.body.arrivals || [];
  if (!arrivals.length) { list.append(...noArrivals(L, res.body)); return; }
  // One line per route and direction, soonest first (the server sorts by predicted time).
  const groups = new Map();
  for (const a of arrivals) {
    const key = `${a.route_id}\u0000${a.headsign}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(a);
  }
  const ul = h('ul', { class: 'live-arrivals-list' });
  for (const all of [...groups.values()].slice(0, 8)) {
    const as = all.slice(0, 2);
    const a0 = as[0];
    ul.append(h('li', { dataset: { route: a0.route || a0.route_id } },
      h('span', { class: 'live-route-badge' }, a0.route || a0.route_id),
      h('span', { class: 'live-headsign' }, a0.headsign ? t('live.towards', { x: a0.headsign }) : ''),
      h('span', { class: 'live-times' }, as.map((a) => {
        const when = a.minutes <= 0 ? t('live.arriving') : t('live.inMin', { n: formatNumber(a.minutes, L) });
        const delay = a.realtime && Math.abs(a.delay_s) >= 60 ? ` (${delayText(L, a.delay_s)})` : '';
        return h('span', { class: `live-when${a.realtime ? ' realtime' : ''}`, dataset: { realtime: String(a.realtime), trip: a.trip_id },
          title: a.realtime ? t('live.liveHint') : `${t('live.timetable')} ${clock(L, a.scheduled)}` },
        a.realtime ? h('span', { class: 'live-mark', 'aria-hidden': 'true' }) : null,
        `${when} · ${clock(L, a.predicted)}`,
        h('span', { class: 'live-kind' }, ` ${a.realtime ? t('live.live') : t('live.timetable')}`), delay);
      }))));
  }
  list.append(ul, h('p', { class: 'live-muted live-updated' }, t('live.updated', { t: clock(L, res.body.now) })));
}

async function loadArrivals(node, code) {
  try {
    const r = await fetch(`/api/stops/${encodeURIComponent(code)}/arrivals?per_route=4`, { cache: 'no-store' });
    const res = r.status === 404 ? { status: 'notfound' } : r.ok ? { status: 'ok', body: await r.json() } : { status: 'error' };
    res.at = Date.now();
    arrivalsCache.set(code, res);
    if (node.isConnected) renderArrivals(node, code, res);
  } catch {
    if (node.isConnected) renderArrivals(node, code, { status: 'error' });
  }
}

function arrivalsSection(code) {
  const id = `live-arrivals-${Math.random().toString(36).slice(2, 8)}`;
  const node = h('section', { class: 'live-arrivals', 'aria-labelledby': id, dataset: { stop: code } },
    h('h3', { id }, t('live.arrivals')),
    h('div', { class: 'live-arrivals-body', 'aria-live': 'polite' }));
  const cached = arrivalsCache.get(code);
  renderArrivals(node, code, cached && Date.now() - cached.at < ARRIVALS_REFRESH_MS ? cached : { status: 'loading' });
  if (!cached || Date.now() - cached.at >= ARRIVALS_REFRESH_MS) loadArrivals(node, code);
  // Refresh while the popup shows this node; a re-rendered popup makes a new one.
  const timer = setInterval(() => {
    if (!node.isConnected) { clearInterval(timer); return; }
    if (document.visibilityState !== 'hidden') loadArrivals(node, code);
  }, ARRIVALS_REFRESH_MS);
  return node;
}

// ---------------------------------------------------------------- registration

register({
  name: 'live',
  init(ctx) {
    live.ctx = ctx;
    const params = new URLSearchParams(window.location.hash.replace(/^#/, ''));
    const focus = Number(params.get('vehicle'));
    if (Number.isSafeInteger(focus) && focus > 0) {
      live.focusID = focus;
      if (!ctx.visible(SLUG) && ctx.layer(SLUG)) ctx.setLayerVisible(SLUG, true);
    }
    document.addEventListener('visibilitychange', sync);
    // A link followed inside the page may switch the layer without telling the extensions.
    window.addEventListener('hashchange', () => setTimeout(() => { sync(); if (live.tilesHidden) hideTiles(true); }, 0));
    document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && live.popup?.isOpen()) closeVehiclePopup(); });
    if (ctx.visible(SLUG)) sync();
    if (ctx.layer(SLUG)) {
      pollCount();
      setInterval(pollCount, COUNT_REFRESH_MS);
    }
  },
  panel(ctx) {
    live.panelTitle = h('h2', { id: 'live-title' });
    live.panelText = h('p', { class: 'live-status', role: 'status' });
    live.panelService = h('div', { class: 'live-service', hidden: true });
    live.panel = h('section', { class: 'card live-card', 'aria-labelledby': 'live-title', hidden: true }, live.panelTitle, live.panelText, live.panelService);
    live.ctx = ctx;
    renderPanel();
    return live.panel;
  },
  // The vehicle whose popup is open (or that the link asked for and has not appeared yet) stays
  // in the link, so that it can be shared.
  hash() {
    const id = live.popupID ?? live.focusID ?? live.focusMissing;
    return id ? { vehicle: id } : null;
  },
  layerVisible(ctx, slug) {
    if (slug !== SLUG) return;
    sync();
    // main.js has just shown the tile layer: hide it again while the stream draws the vehicles.
    if (live.tilesHidden && ctx.visible(SLUG)) hideTiles(true);
  },
  mapClick(ctx, e) {
    if (!live.layersAdded || !live.es) return false;
    const pad = window.matchMedia('(pointer: coarse)').matches ? 12 : 6;
    const box = [[e.point.x - pad, e.point.y - pad], [e.point.x + pad, e.point.y + pad]];
    const hits = ctx.map.queryRenderedFeatures(box, { layers: LAYERS.filter((id) => ctx.map.getLayer(id)) });
    if (!hits.length) {
      closeVehiclePopup();
      return false;
    }
    // The nearest vehicle to the click.
    const click = [e.lngLat.lng, e.lngLat.lat];
    let best = null;
    for (const f of hits) {
      const d = distanceM(click, f.geometry.coordinates);
      if (!best || d < best.d) best = { id: Number(f.properties.id), d };
    }
    openVehiclePopup(best.id);
    return true;
  },
  popup(ctx, f) {
    if (f.layer !== 'bus_stops') return null;
    const code = String(f.properties?.code ?? '').trim();
    if (!code) return null;
    return arrivalsSection(code);
  },
  lang() {
    renderPanel();
    if (live.popup?.isOpen()) renderVehiclePopup();
  },
});

// For the browser tests: where each vehicle is drawn now.
window.__geoportalLive = {
  drawn: () => [...live.vehicles.entries()].map(([id, e]) => ({ id, at: glide(e, performance.now()), to: e.to, route: e.v.route })),
  status: () => live.status,
  count: () => (live.status === 'live' ? live.vehicles.size : live.feedCount),
  tilesHidden: () => live.tilesHidden,
};
