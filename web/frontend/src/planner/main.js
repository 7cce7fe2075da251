// The planners' coverage page (/planner): who is served by a kind of facility, the H3 map of
// unserved residents, where the next sites should go, downloads, and saved scenarios. Long
// analyses run as server jobs (/api/analysis/jobs) with a progress bar and a Cancel button.
// This entry shares no module with the public map (src/main.js), so the map's bundle is unchanged.
import * as maplibregl from 'maplibre-gl/dist/maplibre-gl.mjs?planner';
import workerURL from 'maplibre-gl/dist/maplibre-gl-worker.mjs?planner&url';
import './planner.css';

import { h, clear } from './dom.js';
import { LANGS, LANG_NAMES, t, setLanguage, pick, num, pct, metres, measureName } from './strings.js';
import { coverageChart, gainChart } from './charts.js';
import { download, districtsCSV, sitesCSV, cameraFiguresCSV, sitingFiguresCSV, cameraStreetsGeoJSON } from './exports.js';
import { setTimeZone } from '../format.js';
import { staffBar } from './nav.js';

// The worker is the same file as the map's (the ?planner only keeps the two pages' modules apart);
// without the query the page's preload of it is used.
const worker = new URL(workerURL, window.location.href);
worker.search = '';
maplibregl.setWorkerUrl(worker.href);

const LANG_KEY = 'geoportal.lang';
const PLANNER_ROLES = ['planner', 'gis_staff', 'admin'];
const BASE = ['districts', 'streets', 'buildings'];
const HEX_COLORS = ['#fde9c9', '#f7b267', '#e4572e', '#8c1c13'];
const POLL_MS = 250;
const CAM_COLORS = { city: '#c62828', private: '#6a1b9a', unseen: '#e4572e' };

const state = {
  lang: 'ru',
  catalog: [],
  user: null,
  csrf: '',
  coverage: null, // {params, result}
  siting: null,
  job: null, // {id, kind, cancelled}
  scenarios: [],
  city: null, // {name: {kk, ru, en}, …} from /api/config
};
const ui = {};

// ------------------------------------------------------------------ helpers

const L = () => state.lang;

async function api(path, opts = {}) {
  const headers = { Accept: 'application/json', ...(opts.headers || {}) };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  if (opts.method && opts.method !== 'GET' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
  let res;
  try {
    res = await fetch(path, { method: opts.method || 'GET', headers, credentials: 'same-origin',
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  } catch {
    throw new Error(t('planner.networkError'));
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data?.error?.message || `HTTP ${res.status}`);
  return data;
}

function layerTitle(slug) {
  const l = state.catalog.find((x) => x.slug === slug);
  return l ? pick(l.title, L()) : slug;
}

function districtName(d) {
  if (d.id === null || d.id === undefined) return t('planner.outside');
  return ({ kk: d.name_kk, ru: d.name_ru, en: d.name_en })[L()] || d.name;
}

function say(el, text, kind = '') {
  el.textContent = text;
  el.className = `status ${kind}`;
}

// ------------------------------------------------------------------ language

function initialLang() {
  const q = new URLSearchParams(window.location.search).get('lang');
  if (LANGS.includes(q)) return q;
  try {
    const saved = localStorage.getItem(LANG_KEY);
    if (LANGS.includes(saved)) return saved;
  } catch { /* private mode */ }
  for (const l of navigator.languages || []) {
    const base = String(l).slice(0, 2).toLowerCase();
    if (LANGS.includes(base)) return base;
  }
  return 'ru';
}

function setLang(lang) {
  state.lang = lang;
  setLanguage(lang);
  try { localStorage.setItem(LANG_KEY, lang); } catch { /* ignore */ }
  document.documentElement.lang = lang;
  document.title = pageTitle();
  render();
}

// pageTitle names the city when /api/config does.
function pageTitle() {
  const city = pick(state.city?.name, L());
  return city ? t('planner.documentTitle', { city }) : t('planner.title');
}

// ------------------------------------------------------------------ page

function build() {
  const app = document.getElementById('planner');
  ui.langGroup = h('div', { class: 'lang', role: 'group' }, LANGS.map((l) =>
    h('button', { type: 'button', class: 'lang-btn', lang: l, dataset: { lang: l }, onclick: () => setLang(l) }, LANG_NAMES[l])));
  ui.title = h('h1', {});
  ui.subtitle = h('p', { class: 'subtitle' });
  ui.back = h('a', { href: '/', class: 'link' });
  ui.who = h('span', { class: 'who' });
  ui.brand = h('div', { class: 'brand' }, ui.title, ui.subtitle);
  ui.topLinks = h('nav', { class: 'top-links' }, ui.back, ui.who);
  const header = ui.header = h('header', { class: 'top' }, ui.brand, ui.topLinks, ui.langGroup);

  // Coverage form.
  ui.covLayer = h('select', { id: 'cov-layer', name: 'layer' });
  ui.covMethodLine = h('input', { type: 'radio', name: 'method', id: 'method-line', value: 'line', checked: true });
  ui.covMethodNet = h('input', { type: 'radio', name: 'method', id: 'method-network', value: 'network' });
  ui.covDistance = h('input', { id: 'cov-distance', name: 'distance', type: 'number', min: 1, max: 10000, step: 1, value: 500, required: true, inputmode: 'numeric' });
  ui.covRes = h('select', { id: 'cov-res', name: 'res' }, h('option', { value: '9' }), h('option', { value: '10' }));
  ui.covRun = h('button', { type: 'submit', class: 'primary' });
  ui.covForm = h('form', { class: 'card', id: 'coverage-form', onsubmit: onCoverageSubmit },
    ui.covH = h('h2', {}), ui.covHint = h('p', { class: 'hint' }),
    ui.covLayerLabel = h('label', { for: 'cov-layer' }), ui.covLayer,
    h('fieldset', { class: 'radios' }, ui.covMethodLegend = h('legend', {}),
      h('label', { class: 'radio' }, ui.covMethodLine, ui.covMethodLineText = h('span', {})),
      h('label', { class: 'radio' }, ui.covMethodNet, ui.covMethodNetText = h('span', {}))),
    h('div', { class: 'row' },
      h('div', {}, ui.covDistanceLabel = h('label', { for: 'cov-distance' }), ui.covDistance),
      h('div', {}, ui.covResLabel = h('label', { for: 'cov-res' }), ui.covRes)),
    ui.covRun);

  // Siting form.
  ui.sitLayer = h('select', { id: 'sit-layer', name: 'layer' });
  ui.sitCand = h('select', { id: 'sit-candidates', name: 'candidates' });
  ui.sitN = h('input', { id: 'sit-n', name: 'n', type: 'number', min: 1, max: 5000, step: 1, value: 10, required: true, inputmode: 'numeric' });
  ui.sitDistance = h('input', { id: 'sit-distance', name: 'distance', type: 'number', min: 1, max: 10000, step: 1, value: 500, required: true, inputmode: 'numeric' });
  ui.sitMethodLine = h('input', { type: 'radio', name: 'sit-method', id: 'sit-method-line', value: 'line', checked: true });
  ui.sitMethodNet = h('input', { type: 'radio', name: 'sit-method', id: 'sit-method-network', value: 'network' });
  ui.sitRun = h('button', { type: 'submit', class: 'primary' });
  ui.sitForm = h('form', { class: 'card', id: 'siting-form', onsubmit: onSitingSubmit },
    ui.sitH = h('h2', {}), ui.sitHint = h('p', { class: 'hint' }),
    ui.sitLayerLabel = h('label', { for: 'sit-layer' }), ui.sitLayer,
    ui.sitCandLabel = h('label', { for: 'sit-candidates' }), ui.sitCand,
    h('fieldset', { class: 'radios' }, ui.sitMethodLegend = h('legend', {}),
      h('label', { class: 'radio' }, ui.sitMethodLine, ui.sitMethodLineText = h('span', {})),
      h('label', { class: 'radio' }, ui.sitMethodNet, ui.sitMethodNetText = h('span', {}))),
    h('div', { class: 'row' },
      h('div', {}, ui.sitNLabel = h('label', { for: 'sit-n' }), ui.sitN),
      h('div', {}, ui.sitDistanceLabel = h('label', { for: 'sit-distance' }), ui.sitDistance)),
    ui.sitPrivateRow = h('label', { class: 'radio', hidden: true },
      ui.sitPrivate = h('input', { type: 'checkbox', id: 'sit-private', name: 'private', checked: true }), ui.sitPrivateText = h('span', {})),
    ui.sitRun);

  // Camera coverage of the streets, with the private cameras as a group of their own (issue 19).
  ui.camPrivate = h('input', { type: 'checkbox', id: 'cam-private', name: 'private', checked: true });
  ui.camRun = h('button', { type: 'submit', class: 'primary' });
  ui.camForm = h('form', { class: 'card', id: 'cameras-form', onsubmit: onCamerasSubmit },
    ui.camH = h('h2', {}), ui.camHint = h('p', { class: 'hint' }),
    h('label', { class: 'radio' }, ui.camPrivate, ui.camPrivateText = h('span', {})),
    ui.camRun);
  ui.camResult = h('section', { class: 'card result', id: 'cameras-result', hidden: true, 'aria-live': 'polite' });

  // Progress of the running job.
  ui.progress = h('progress', { id: 'job-progress', max: 1, value: 0 });
  ui.progressLabel = h('label', { for: 'job-progress' });
  ui.progressStage = h('span', { class: 'stage' });
  ui.cancel = h('button', { type: 'button', class: 'secondary', id: 'job-cancel', onclick: cancelJob });
  ui.jobBox = h('div', { class: 'card job', hidden: true }, ui.progressLabel, ui.progress, h('div', { class: 'job-row' }, ui.progressStage, ui.cancel));
  ui.status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });

  ui.covResult = h('section', { class: 'card result', id: 'coverage-result', hidden: true, 'aria-live': 'polite' });
  ui.sitResult = h('section', { class: 'card result', id: 'siting-result', hidden: true, 'aria-live': 'polite' });
  ui.scenarios = h('section', { class: 'card', id: 'scenarios' });

  ui.mapEl = h('div', { class: 'map', id: 'map' });
  ui.legend = h('div', { class: 'legend', hidden: true });
  const side = h('main', { class: 'side', id: 'content' }, ui.covForm, ui.sitForm, ui.camForm, ui.jobBox, ui.status,
    ui.covResult, ui.sitResult, ui.camResult, ui.scenarios);
  clear(app).append(header, h('div', { class: 'body' }, ui.mapWrap = h('section', { class: 'map-wrap' }, ui.mapEl, ui.legend), side));
}

function fillLayerSelect(sel, keep) {
  const cur = sel.value || keep;
  clear(sel);
  const usable = state.catalog.filter((l) => /Point|Polygon/.test(l.geometry_type || '') && !BASE.includes(l.slug) &&
    !['city_boundary', 'citizen_reports', 'vehicles', 'outages', 'clinic_areas', 'school_catchments'].includes(l.slug));
  for (const l of usable) sel.append(h('option', { value: l.slug, selected: l.slug === cur }, pick(l.title, L())));
}

function fillCandidates() {
  const cur = ui.sitCand.value || 'intersections';
  clear(ui.sitCand);
  ui.sitCand.append(h('option', { value: 'intersections' }, t('planner.candIntersections')),
    h('option', { value: 'midpoints' }, t('planner.candMidpoints')));
  for (const l of state.catalog.filter((x) => /Point/.test(x.geometry_type || '') && !['vehicles', 'citizen_reports'].includes(x.slug))) {
    ui.sitCand.append(h('option', { value: `layer:${l.slug}` }, t('planner.candLayer', { name: pick(l.title, L()) })));
  }
  ui.sitCand.value = cur;
}

/** render sets every text in the current language and redraws the results. */
function render() {
  ui.title.textContent = t('planner.title');
  ui.subtitle.textContent = t('planner.subtitle');
  ui.back.textContent = t('planner.backToMap');
  ui.bar?.render(L());
  ui.langGroup.setAttribute('aria-label', t('planner.language'));
  for (const b of ui.langGroup.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.lang === L()));
  ui.mapWrap.setAttribute('aria-label', t('planner.mapLabel'));
  ui.covH.textContent = t('planner.coverage');
  ui.covHint.textContent = t('planner.coverageHint');
  ui.covLayerLabel.textContent = t('planner.layer');
  ui.covMethodLegend.textContent = t('planner.method');
  ui.covMethodLineText.textContent = t('planner.methodLine');
  ui.covMethodNetText.textContent = t('planner.methodNetwork');
  ui.covDistanceLabel.textContent = t('planner.distance');
  ui.covResLabel.textContent = t('planner.resolution');
  ui.covRes.options[0].textContent = t('planner.res9');
  ui.covRes.options[1].textContent = t('planner.res10');
  ui.covRun.textContent = t('planner.run');
  ui.sitH.textContent = t('planner.siting');
  ui.sitHint.textContent = t('planner.sitingHint');
  ui.sitLayerLabel.textContent = t('planner.layer');
  ui.sitCandLabel.textContent = t('planner.candidates');
  ui.sitNLabel.textContent = t('planner.howMany');
  ui.sitDistanceLabel.textContent = t('planner.distance');
  ui.sitMethodLegend.textContent = t('planner.method');
  ui.sitMethodLineText.textContent = t('planner.methodLine');
  ui.sitMethodNetText.textContent = t('planner.methodNetwork');
  ui.sitRun.textContent = t('planner.choose');
  ui.sitPrivateText.textContent = t('planner.sitPrivate');
  ui.camH.textContent = t('planner.cameras');
  ui.camHint.textContent = t('planner.camerasHint');
  ui.camPrivateText.textContent = t('planner.camPrivate');
  ui.camRun.textContent = t('planner.run');
  ui.progressLabel.textContent = t('planner.progress');
  ui.cancel.textContent = t('planner.cancel');
  fillLayerSelect(ui.covLayer, 'bus_stops');
  fillLayerSelect(ui.sitLayer, 'schools');
  ui.sitLayer.onchange = showSitPrivate;
  fillCandidates();
  showSitPrivate();
  renderWho();
  renderCoverage();
  renderSiting();
  renderCameras();
  renderScenarios();
  renderLegend();
}

function renderWho() {
  clear(ui.who);
  if (state.user) ui.who.append(t('planner.signedInAs', { name: state.user.name || state.user.email }));
  else ui.who.append(h('a', { href: '/login?next=/planner', class: 'link' }, t('planner.signIn')));
}

// ------------------------------------------------------------------ map

function initMap() {
  const bbox = ['buildings', 'streets', 'districts'].map((sl) => state.catalog.find((l) => l.slug === sl)?.bbox)
    .find((b) => Array.isArray(b) && b.length === 4);
  const base = state.catalog.filter((l) => BASE.includes(l.slug));
  const version = base.map((l) => l.version).join('.');
  const map = new maplibregl.Map({
    container: ui.mapEl,
    style: {
      version: 8,
      sources: base.length ? { base: { type: 'vector', tiles: [`${window.location.origin}/tiles/${base.map((l) => l.slug).join(',')}/{z}/{x}/{y}.mvt?v=${version}`], minzoom: 0, maxzoom: 16 } } : {},
      layers: [
        { id: 'background', type: 'background', paint: { 'background-color': '#f2efe9' } },
        ...(base.some((l) => l.slug === 'buildings') ? [{ id: 'buildings', type: 'fill', source: 'base', 'source-layer': 'buildings', paint: { 'fill-color': '#dcd6cb' } }] : []),
        ...(base.some((l) => l.slug === 'streets') ? [{ id: 'streets', type: 'line', source: 'base', 'source-layer': 'streets', paint: { 'line-color': '#ffffff', 'line-width': ['interpolate', ['linear'], ['zoom'], 11, 0.6, 16, 4] } }] : []),
        ...(base.some((l) => l.slug === 'districts') ? [{ id: 'districts', type: 'line', source: 'base', 'source-layer': 'districts', paint: { 'line-color': '#7d6aa6', 'line-width': 1.2 } }] : []),
      ],
    },
    ...(bbox ? { bounds: [[bbox[0], bbox[1]], [bbox[2], bbox[3]]], fitBoundsOptions: { padding: 16 } } : { center: [57.17, 50.28], zoom: 11 }),
    dragRotate: false, pitchWithRotate: false, touchPitch: false, attributionControl: false, fadeDuration: 0,
  });
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  map.on('load', () => {
    map.addSource('unserved', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
    map.addLayer({ id: 'unserved-fill', type: 'fill', source: 'unserved', paint: {
      'fill-color': ['interpolate', ['linear'], ['get', 'residents'], 0, HEX_COLORS[0], 50, HEX_COLORS[1], 300, HEX_COLORS[2], 1500, HEX_COLORS[3]],
      'fill-opacity': 0.7 } });
    map.addLayer({ id: 'unserved-line', type: 'line', source: 'unserved', paint: { 'line-color': '#8c1c13', 'line-width': 0.4, 'line-opacity': 0.5 } });
    map.addSource('sites', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
    map.addLayer({ id: 'sites', type: 'circle', source: 'sites', paint: {
      'circle-radius': 7, 'circle-color': '#0b5d73', 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2 } });
    map.addSource('cam-sectors', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
    map.addLayer({ id: 'cam-sectors', type: 'fill', source: 'cam-sectors', paint: {
      'fill-color': ['match', ['get', 'group'], 'private', CAM_COLORS.private, CAM_COLORS.city], 'fill-opacity': 0.3 } }, 'sites');
    map.addSource('cam-unseen', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
    map.addLayer({ id: 'cam-unseen', type: 'line', source: 'cam-unseen', paint: { 'line-color': CAM_COLORS.unseen, 'line-width': 2 } }, 'sites');
    map.addSource('cam-private', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
    map.addLayer({ id: 'cam-private', type: 'line', source: 'cam-private', paint: { 'line-color': CAM_COLORS.private, 'line-width': 3 } }, 'sites');
    document.body.dataset.plannerReady = 'true';
    drawCoverage();
    drawSiting();
    drawCameras();
  });
  map.on('error', (e) => console.warn('map:', e.error?.message || e));
  state.map = map;
  window.__planner = { map, state };
}

function drawCoverage() {
  const map = state.map;
  const src = map?.getSource('unserved');
  if (!src) return;
  src.setData(state.coverage?.result.unserved_hexes || { type: 'FeatureCollection', features: [] });
  // The analysed layer's own features, small and dark, over the hexagons.
  const slug = state.coverage?.result.layer;
  if (!slug || state.facilitySlug === slug) return;
  if (map.getLayer('facilities')) map.removeLayer('facilities');
  if (map.getSource('facilities')) map.removeSource('facilities');
  const l = state.catalog.find((x) => x.slug === slug);
  map.addSource('facilities', { type: 'vector', tiles: [`${window.location.origin}/tiles/${slug}/{z}/{x}/{y}.mvt?v=${l?.version ?? ''}`], minzoom: 0, maxzoom: 16 });
  map.addLayer({ id: 'facilities', type: 'circle', source: 'facilities', 'source-layer': slug, paint: {
    'circle-radius': ['interpolate', ['linear'], ['zoom'], 11, 2, 16, 5], 'circle-color': '#1d2327', 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 } }, 'sites');
  state.facilitySlug = slug;
}

function drawSiting() {
  const src = state.map?.getSource('sites');
  if (!src) return;
  src.setData(state.siting?.result.sites_geojson || { type: 'FeatureCollection', features: [] });
  const feats = state.siting?.result.sites_geojson.features || [];
  if (feats.length) {
    const b = new maplibregl.LngLatBounds();
    for (const f of feats) b.extend(f.geometry.coordinates);
    state.map.fitBounds(b, { padding: 60, maxZoom: 14, duration: 0 });
  }
}

function renderLegend() {
  clear(ui.legend);
  const items = [];
  if (state.coverage) {
    items.push(h('p', { class: 'legend-title' }, t('planner.legendTitle')),
      h('div', { class: 'ramp' }, HEX_COLORS.map((c, i) => h('span', { class: `sw sw-${i}` }))),
      h('div', { class: 'ramp-labels' }, h('span', {}, num(0, L())), h('span', {}, num(1500, L()) + '+')),
      h('p', { class: 'legend-row' }, h('span', { class: 'dot-facility', 'aria-hidden': 'true' }), layerTitle(state.coverage.result.layer)));
  }
  if (state.siting) items.push(h('p', { class: 'legend-row' }, h('span', { class: 'dot-site', 'aria-hidden': 'true' }), t('planner.sitesLegend')));
  if (state.cameras) {
    items.push(h('p', { class: 'legend-row' }, h('span', { class: 'line-unseen', 'aria-hidden': 'true' }), t('planner.unseenLegend')));
    if (state.cameras.result.with_private) items.push(h('p', { class: 'legend-row' }, h('span', { class: 'line-private', 'aria-hidden': 'true' }), t('planner.privateLegend')));
  }
  ui.legend.append(...items);
  ui.legend.hidden = items.length === 0;
}

// ------------------------------------------------------------------ jobs

function setBusy(busy) {
  ui.covRun.disabled = busy;
  ui.sitRun.disabled = busy;
  ui.jobBox.hidden = !busy;
  document.body.dataset.busy = String(busy);
}

function showProgress(st) {
  ui.progress.value = st.progress || 0;
  const stage = t(`planner.stage_${st.stage}`);
  ui.progress.setAttribute('aria-valuetext', `${pct(st.progress || 0, L(), 0)} — ${stage}`);
  ui.progressStage.textContent = `${pct(st.progress || 0, L(), 0)} · ${stage}`;
}

/** runJob starts an analysis on the server and follows it until it ends; null when cancelled. */
async function runJob(kind, params) {
  setBusy(true);
  say(ui.status, '');
  try {
    let st = await api('/api/analysis/jobs', { method: 'POST', body: { kind, params } });
    state.job = { id: st.id, kind, cancelled: false };
    document.body.dataset.jobId = st.id;
    while (st.state === 'running') {
      showProgress(st);
      await new Promise((r) => setTimeout(r, POLL_MS));
      if (state.job?.cancelled) return null;
      st = await api(`/api/analysis/jobs/${encodeURIComponent(st.id)}`);
    }
    showProgress(st);
    if (st.state === 'canceled') { say(ui.status, t('planner.canceled')); return null; }
    if (st.state === 'failed') throw new Error(st.error?.message || st.state);
    return st.result;
  } catch (e) {
    say(ui.status, t('planner.failed', { msg: e.message }), 'error');
    ui.status.setAttribute('role', 'alert');
    return null;
  } finally {
    state.job = null;
    setBusy(false);
  }
}

async function cancelJob() {
  const job = state.job;
  if (!job) return;
  job.cancelled = true;
  ui.cancel.disabled = true;
  try {
    await api(`/api/analysis/jobs/${encodeURIComponent(job.id)}`, { method: 'DELETE' });
    say(ui.status, t('planner.canceled'));
    document.body.dataset.lastCancel = job.id;
  } catch (e) {
    say(ui.status, t('planner.failed', { msg: e.message }), 'error');
  } finally {
    ui.cancel.disabled = false;
  }
}

// ------------------------------------------------------------------ coverage

function coverageParams() {
  return {
    layer: ui.covLayer.value,
    method: ui.covMethodNet.checked ? 'network' : 'line',
    distance: Number(ui.covDistance.value),
    res: Number(ui.covRes.value),
    curve: true,
  };
}

async function onCoverageSubmit(e) {
  e.preventDefault();
  if (!ui.covForm.reportValidity()) return;
  const params = coverageParams();
  const result = await runJob('coverage', params);
  if (!result) return;
  state.coverage = { params, result };
  // Sites are chosen by the distance the coverage was measured with, unless the planner changes it.
  ui.sitMethodNet.checked = result.method === 'network';
  ui.sitMethodLine.checked = result.method !== 'network';
  document.body.dataset.coverageDone = String(Date.now());
  renderCoverage();
  renderLegend();
  drawCoverage();
  ui.status.setAttribute('role', 'status');
}

/** methodName is how a result's distances were measured, in words. */
const methodName = (m) => t(m === 'network' ? 'planner.methodNetwork' : 'planner.methodLine');

function renderCoverage() {
  const c = state.coverage;
  clear(ui.covResult);
  ui.covResult.hidden = !c;
  if (!c) return;
  const r = c.result;
  const unserved = r.residents_total - r.residents_covered;
  const headers = [t('planner.district'), t('planner.residents'), t('planner.covered'), t('planner.share')];
  ui.covResult.append(
    h('h2', {}, `${layerTitle(r.layer)} · ${metres(r.distance, L())} · ${methodName(r.method)}`),
    h('p', { class: 'big' }, h('span', { class: 'big-num', id: 'covered-share' }, pct(r.covered_share, L())), ' ', t('planner.sharecovered')),
    h('p', { class: 'hint method-note', id: 'coverage-method' }, t('planner.methodNote', { method: methodName(r.method), d: metres(r.distance, L()) })),
    h('p', {}, t('planner.residentsOf', { covered: num(Math.round(r.residents_covered), L()), total: num(Math.round(r.residents_total), L()) }),
      ' · ', t('planner.unserved', { n: num(Math.round(unserved), L()) }), ' · ', t('planner.facilitiesN', { n: num(r.facilities, L()) })),
    h('h3', {}, t('planner.byDistrict')),
    h('div', { class: 'table-wrap' }, h('table', { class: 'districts' },
      h('thead', {}, h('tr', {}, headers.map((x, i) => h('th', { scope: 'col', class: i ? 'n' : '' }, x)))),
      h('tbody', {}, r.districts.map((d) => h('tr', {},
        h('th', { scope: 'row' }, districtName(d)),
        h('td', { class: 'n' }, num(Math.round(d.residents_total), L())),
        h('td', { class: 'n' }, num(Math.round(d.residents_covered), L())),
        h('td', { class: 'n' }, pct(d.covered_share, L()))))))),
  );
  if (r.curve?.length) {
    const first = r.curve[0];
    const last = r.curve[r.curve.length - 1];
    ui.covResult.append(coverageChart(r.curve, r.distance, {
      label: t('planner.curveTitle'),
      desc: t('planner.curveDesc', { d1: metres(first.distance, L()), d2: metres(last.distance, L()), s1: pct(first.covered_share, L()), s2: pct(last.covered_share, L()) }),
      fmtShare: (v) => pct(v, L(), 0), fmtDist: (d) => num(Math.round(d), L()),
      headers: { summary: t('planner.showData'), cols: [t('planner.distance'), t('planner.share')] },
    }));
  }
  const base = `coverage-${r.layer}-${r.method}-${r.distance}m`;
  ui.covResult.append(h('div', { class: 'exports', role: 'group', 'aria-label': t('planner.export') },
    h('button', { type: 'button', class: 'secondary', id: 'export-hexes', onclick: () => download(`${base}-unserved.geojson`, JSON.stringify(hexesGeoJSON(r)), 'application/geo+json') }, t('planner.exportHexes')),
    h('button', { type: 'button', class: 'secondary', id: 'export-districts', onclick: () => download(`${base}-districts.csv`, districtsCSV(r), 'text/csv') }, t('planner.exportDistricts'))));
}

// ------------------------------------------------------------------ siting

// isCameraLayer: a layer with numeric heading, fov and range_m, whose siting counts streets seen.
function isCameraLayer(slug) {
  const l = state.catalog.find((x) => x.slug === slug);
  return ['heading', 'fov', 'range_m'].every((n) => l?.attributes?.some((a) => a.name === n && ['double', 'integer', 'bigint'].includes(a.type)));
}

function showSitPrivate() {
  ui.sitPrivateRow.hidden = !isCameraLayer(ui.sitLayer.value);
}

const coords = (p) => `${num(p.lat, L(), { minimumFractionDigits: 5, maximumFractionDigits: 5 })}, ${num(p.lon, L(), { minimumFractionDigits: 5, maximumFractionDigits: 5 })}`;

/** hexesGeoJSON is the unserved hexagons with how they were measured, as foreign members. */
function hexesGeoJSON(r) {
  return { ...r.unserved_hexes, layer: r.layer, method: r.method, distance_m: r.distance };
}

function sitingParams() {
  const p = { layer: ui.sitLayer.value, candidates: ui.sitCand.value, n: Number(ui.sitN.value), distance: Number(ui.sitDistance.value),
    method: ui.sitMethodNet.checked ? 'network' : 'line', lang: L() };
  if (isCameraLayer(p.layer) && ui.sitPrivate.checked) p.private = true;
  return p;
}

async function onSitingSubmit(e) {
  e.preventDefault();
  if (!ui.sitForm.reportValidity()) return;
  const params = sitingParams();
  const result = await runJob('siting', params);
  if (!result) return;
  state.siting = { params, result };
  document.body.dataset.sitingDone = String(Date.now());
  renderSiting();
  renderLegend();
  drawSiting();
  ui.status.setAttribute('role', 'status');
}

function renderSiting() {
  const c = state.siting;
  clear(ui.sitResult);
  ui.sitResult.hidden = !c;
  if (!c) return;
  const r = c.result;
  const unit = t(r.unit === 'metres' ? 'planner.unitMetres' : 'planner.unitResidents');
  const fmtGain = (v) => num(Math.round(v), L());
  ui.sitResult.append(
    h('h2', {}, `${layerTitle(r.layer)} · +${num(r.sites.length, L())} · ${metres(r.distance, L())} · ${methodName(r.method)}`),
    h('p', { class: 'big' }, h('span', { class: 'big-num' }, `+${num(Math.round(r.covered_after - r.covered_before), L())}`), ' ', unit),
    h('p', { id: 'siting-share' }, t('planner.shareBeforeAfterMethod', { a: pct(r.share_before, L()), b: pct(r.share_after, L()), method: methodName(r.method) })),
    h('p', { class: 'hint method-note', id: 'siting-method' }, t('planner.methodNote', { method: methodName(r.method), d: metres(r.distance, L()) })),
    h('p', { class: 'hint' }, t('planner.bound', { g: pct(r.bound.guarantee, L(), 0), c: pct(r.bound.certified, L()) })),
  );
  if (r.with_private) {
    const w = r.with_private;
    ui.sitResult.append(h('dl', { class: 'figures', id: 'siting-private' },
      h('dt', {}, t('planner.seenByCity')), h('dd', {}, t('planner.shareBeforeAfter', { a: pct(w.city_share_before, L()), b: pct(w.city_share_after, L()) })),
      h('dt', {}, t('planner.seenWithPrivate', { n: num(w.private_cameras, L()) })), h('dd', {}, t('planner.shareBeforeAfter', { a: pct(w.share_before, L()), b: pct(w.share_after, L()) }))));
  }
  const cov = state.coverage?.result;
  if (cov && cov.method !== r.method) {
    ui.sitResult.append(h('p', { class: 'hint warn', id: 'method-differs' }, t('planner.methodDiffers', { a: methodName(cov.method), b: methodName(r.method) })));
  }
  if (r.exhausted) ui.sitResult.append(h('p', { class: 'hint' }, t('planner.exhausted', { n: num(r.sites.length, L()) })));
  if (r.sites.length) {
    const first = r.sites[0];
    const last = r.sites[r.sites.length - 1];
    ui.sitResult.append(gainChart(r.sites, {
      label: t('planner.gainTitle'),
      desc: t('planner.gainDesc', { n: num(r.sites.length, L()), g1: fmtGain(first.gain), gn: fmtGain(last.gain), s: pct(last.cumulative_share, L()) }),
      fmtGain, fmtShare: (v) => pct(v, L(), 0),
      headers: { summary: t('planner.showData'), cols: [t('planner.rank'), `${t('planner.gain')}, ${unit}`, t('planner.share')] },
    }));
    ui.sitResult.append(h('div', { class: 'table-wrap' }, h('table', { class: 'sites', id: 'sites-table' },
      h('thead', {}, h('tr', {}, [t('planner.rank'), t('planner.place'), t('planner.gain'), t('planner.cumulative')].map((x, i) => h('th', { scope: 'col', class: i > 1 ? 'n' : '' }, x)))),
      h('tbody', {}, r.sites.map((p) => h('tr', {},
        h('th', { scope: 'row' }, String(p.rank)),
        h('td', {}, h('button', { type: 'button', class: 'link-btn site-name', onclick: () => state.map?.flyTo({ center: [p.lon, p.lat], zoom: 15 }) },
          p.name || coords(p)),
        p.address && p.address !== p.name ? h('span', { class: 'site-address' }, ` · ${p.address}`) : null,
        h('span', { class: 'coords' }, ` ${coords(p)}`)),
        h('td', { class: 'n' }, `+${fmtGain(p.gain)}`),
        h('td', { class: 'n' }, pct(p.cumulative_share, L()))))))));
  }
  const base = `siting-${r.layer}-${r.method}-${r.n}-${r.distance}m`;
  ui.sitResult.append(h('div', { class: 'exports', role: 'group', 'aria-label': t('planner.export') },
    h('button', { type: 'button', class: 'secondary', id: 'export-sites', onclick: () => download(`${base}.geojson`, JSON.stringify(sitesGeoJSON(r)), 'application/geo+json') }, t('planner.exportSites')),
    h('button', { type: 'button', class: 'secondary', id: 'export-sites-csv', onclick: () => download(`${base}.csv`, sitesCSV(r), 'text/csv') }, t('planner.exportSitesCSV')),
    r.with_private ? h('button', { type: 'button', class: 'secondary', id: 'export-siting-figures', onclick: () => download(`${base}-figures.csv`, sitingFiguresCSV(r), 'text/csv') }, t('planner.exportFigures')) : null));
}

// sitesGeoJSON is the sites with the figures as a foreign member (both groups' when counted).
function sitesGeoJSON(r) {
  const summary = { share_before: r.share_before, share_after: r.share_after };
  if (r.with_private) summary.with_private = r.with_private;
  return { ...r.sites_geojson, summary };
}

// ------------------------------------------------------------------ cameras

async function onCamerasSubmit(e) {
  e.preventDefault();
  const params = { private: ui.camPrivate.checked, geometry: true };
  const result = await runJob('cameras', params);
  if (!result) return;
  state.cameras = { params, result };
  document.body.dataset.camerasDone = String(Date.now());
  renderCameras();
  renderLegend();
  drawCameras();
  ui.status.setAttribute('role', 'status');
}

function renderCameras() {
  const c = state.cameras;
  clear(ui.camResult);
  ui.camResult.hidden = !c;
  if (!c) return;
  const r = c.result;
  const w = r.with_private;
  ui.camResult.append(
    h('h2', {}, t('planner.cameras')),
    h('p', { class: 'big' }, h('span', { class: 'big-num', id: 'cam-city-share' }, pct(r.seen_share, L())), ' ', t('planner.seenByCity')),
    w ? h('p', { class: 'big' }, h('span', { class: 'big-num', id: 'cam-private-share' }, pct(w.seen_share, L())), ' ', t('planner.seenWithPrivate', { n: num(w.private_cameras, L()) })) : null,
    h('div', { class: 'table-wrap' }, h('table', { class: 'districts', id: 'camera-figures' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('planner.measureCol')), h('th', { scope: 'col', class: 'n' }, t('planner.cityCameras')),
        w ? h('th', { scope: 'col', class: 'n' }, t('planner.withPrivate')) : null)),
      h('tbody', {},
        h('tr', {}, h('th', { scope: 'row' }, t('planner.camerasN')), h('td', { class: 'n' }, num(r.cameras, L())), w ? h('td', { class: 'n', dataset: { measure: 'private_cameras' } }, `+${num(w.private_cameras, L())}`) : null),
        h('tr', {}, h('th', { scope: 'row' }, t('planner.streetsSeen')), h('td', { class: 'n' }, pct(r.seen_share, L())), w ? h('td', { class: 'n' }, pct(w.seen_share, L())) : null),
        h('tr', {}, h('th', { scope: 'row' }, t('planner.crossingsSeen')), h('td', { class: 'n' }, pct(r.crossings_share, L())), w ? h('td', { class: 'n' }, pct(w.crossings_share, L())) : null)))),
  );
  ui.camResult.append(h('div', { class: 'exports', role: 'group', 'aria-label': t('planner.export') },
    h('button', { type: 'button', class: 'secondary', id: 'export-camera-streets', onclick: () => download('camera-coverage-streets.geojson', JSON.stringify(cameraStreetsGeoJSON(r)), 'application/geo+json') }, t('planner.exportCameraStreets')),
    h('button', { type: 'button', class: 'secondary', id: 'export-camera-figures', onclick: () => download('camera-coverage-figures.csv', cameraFiguresCSV(r), 'text/csv') }, t('planner.exportFigures'))));
}

function drawCameras() {
  const map = state.map;
  if (!map?.getSource('cam-unseen')) return;
  const r = state.cameras?.result;
  const none = { type: 'FeatureCollection', features: [] };
  map.getSource('cam-unseen').setData(r?.unseen_streets || none);
  map.getSource('cam-private').setData(r?.with_private?.streets || none);
  map.getSource('cam-sectors').setData({ type: 'FeatureCollection', features: [
    ...(r?.sectors?.features || []).map((f) => ({ ...f, properties: { ...f.properties, group: 'city' } })),
    ...(r?.with_private?.sectors?.features || []).map((f) => ({ ...f, properties: { ...f.properties, group: 'private' } }))] });
}

// ------------------------------------------------------------------ scenarios

const isPlanner = () => !!state.user && PLANNER_ROLES.includes(state.user.role);

async function loadScenarios() {
  if (!isPlanner()) return;
  try {
    state.scenarios = (await api('/api/analysis/scenarios')).scenarios || [];
  } catch (e) {
    state.scenarios = [];
    say(ui.status, t('planner.failed', { msg: e.message }), 'error');
  }
  renderScenarios();
}

function scenarioLabel(sc) {
  return `${sc.name} (${t(`planner.kind_${sc.kind}`)})`;
}

function renderScenarios() {
  clear(ui.scenarios);
  ui.scenarios.append(h('h2', {}, t('planner.scenarios')));
  if (!isPlanner()) {
    ui.scenarios.append(h('p', { class: 'hint' }, t('planner.scenariosNeedPlanner'), ' ',
      state.user ? null : h('a', { href: '/login?next=/planner', class: 'link' }, t('planner.signIn'))));
    return;
  }
  ui.scName = ui.scName || h('input', { id: 'scenario-name', type: 'text', maxlength: 200, autocomplete: 'off' });
  ui.scStatus = h('p', { class: 'status', role: 'status', id: 'scenario-status' });
  ui.scenarios.append(
    h('label', { for: 'scenario-name' }, t('planner.scenarioName')), ui.scName,
    h('div', { class: 'exports' },
      h('button', { type: 'button', class: 'secondary', id: 'save-coverage', onclick: () => saveScenario('coverage') }, t('planner.saveCoverage')),
      h('button', { type: 'button', class: 'secondary', id: 'save-siting', onclick: () => saveScenario('siting') }, t('planner.saveSiting'))),
    ui.scStatus);
  if (!state.scenarios.length) {
    ui.scenarios.append(h('p', { class: 'hint' }, t('planner.noScenarios')));
    return;
  }
  const opts = (sel) => state.scenarios.map((sc) => h('option', { value: String(sc.id), selected: sc.id === sel }, scenarioLabel(sc)));
  ui.cmpA = h('select', { id: 'compare-a' }, opts(state.scenarios[1]?.id ?? state.scenarios[0].id));
  ui.cmpB = h('select', { id: 'compare-b' }, opts(state.scenarios[0].id));
  ui.cmpOut = h('div', { id: 'compare-result', 'aria-live': 'polite' });
  ui.scenarios.append(h('div', { class: 'row' },
    h('div', {}, h('label', { for: 'compare-a' }, t('planner.compareA')), ui.cmpA),
    h('div', {}, h('label', { for: 'compare-b' }, t('planner.compareB')), ui.cmpB)),
  h('button', { type: 'button', class: 'primary', id: 'compare', onclick: compareScenarios }, t('planner.compare')), ui.cmpOut);
  if (state.comparison) renderComparison();
}

async function saveScenario(kind) {
  const name = ui.scName.value.trim();
  const cur = kind === 'coverage' ? state.coverage : state.siting;
  if (!name) { say(ui.scStatus, t('planner.needName'), 'error'); ui.scName.focus(); return; }
  if (!cur) { say(ui.scStatus, t('planner.runFirst'), 'error'); return; }
  try {
    const sc = await api('/api/analysis/scenarios', { method: 'POST', body: { name, kind, params: cur.params } });
    ui.scName.value = '';
    await loadScenarios();
    say(ui.scStatus, t('planner.saved', { name: sc.name }));
  } catch (e) {
    say(ui.scStatus, t('planner.failed', { msg: e.message }), 'error');
  }
}

async function compareScenarios() {
  try {
    state.comparison = await api(`/api/analysis/compare?a=${encodeURIComponent(ui.cmpA.value)}&b=${encodeURIComponent(ui.cmpB.value)}`);
    renderComparison();
  } catch (e) {
    say(ui.status, t('planner.failed', { msg: e.message }), 'error');
  }
}

function fmtValue(key, v) {
  if (typeof v !== 'number') return v === undefined || v === null ? '—' : String(v);
  if (/share/.test(key)) return pct(v, L());
  return num(Math.round(v * 100) / 100, L());
}

function renderComparison() {
  const c = state.comparison;
  if (!c || !ui.cmpOut) return;
  const keys = [...new Set([...Object.keys(c.a.summary), ...Object.keys(c.b.summary)])];
  clear(ui.cmpOut).append(h('div', { class: 'table-wrap' }, h('table', { class: 'compare' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('planner.measure')), h('th', { scope: 'col', class: 'n' }, c.a.name),
      h('th', { scope: 'col', class: 'n' }, c.b.name), h('th', { scope: 'col', class: 'n' }, t('planner.difference')))),
    h('tbody', {}, keys.map((k) => {
      const d = c.difference[k];
      return h('tr', {}, h('th', { scope: 'row' }, measureName(k)),
        h('td', { class: 'n' }, fmtValue(k, c.a.summary[k])), h('td', { class: 'n' }, fmtValue(k, c.b.summary[k])),
        h('td', { class: 'n' }, d === undefined ? '' : (d > 0 ? '+' : '') + fmtValue(k, d)));
    })))));
}

// mountStaffBar puts the staff navigation bar (nav.js) into the header for signed-in staff: the
// role's sections, back to the map and Sign out in place of the page's own links.
function mountStaffBar(bar) {
  ui.bar = staffBar(bar);
  if (!ui.bar) return;
  // The page's own links leave: back to the map is in the bar, and the planner's "Signed in:
  // name" stands in the bar's account, beside Sign out.
  ui.topLinks.remove();
  ui.bar.signedIn.replaceWith(ui.who);
  ui.brand.after(ui.bar.toggle, ui.bar.nav);
  ui.langGroup.before(ui.bar.account);
}

// ------------------------------------------------------------------ start

async function start() {
  state.lang = initialLang();
  setLanguage(state.lang);
  document.documentElement.lang = state.lang;
  document.title = pageTitle();
  build();
  try {
    const [cat, me, config, bar] = await Promise.all([api('/api/layers'), api('/api/auth/me').catch(() => ({})), api('/api/config').catch(() => ({})),
      api('/staff/nav.json?path=/planner').catch(() => null)]);
    mountStaffBar(bar);
    state.city = config.city || null;
    setTimeZone(config.city?.time_zone);
    document.title = pageTitle();
    state.catalog = cat.layers || [];
    state.user = me.user || null;
    state.csrf = me.csrf_token || '';
  } catch (e) {
    say(ui.status, t('planner.failed', { msg: e.message }), 'error');
  }
  render();
  initMap();
  await loadScenarios();
}

start();
