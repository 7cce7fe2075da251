// Citizen reports as a heatmap (issue 8, docs/reports-web.md): a resident or staff member switches
// the citizen_reports layer between its points and a heatmap of where problems gather. The
// heatmap is a MapLibre heatmap layer over the layer's own vector tiles (no extra download): a
// lone report weighs as many residents as it affects (support_count), a cluster the tile server
// made at low zoom as many reports as it holds (point_count). Filtering by category, status or
// period asks the server for just those reports (OGC API Features with a CQL2 filter, fetched
// on demand) and draws the heatmap from them. The mode is kept in the map's link (reports=heat).
import { h } from '../dom.js';
import { register, whenStyleReady } from '../extensions.js';
import { formatNumber, pick, t } from '../i18n.js';
import { statusName } from '../report.js';
import './reportsheat.css';

const SLUG = 'citizen_reports';
const HEAT = 'reportsheat-heat';
const FILTERED = 'reportsheat-filtered';
const POINT_LAYERS = [`lyr-${SLUG}`, `cl-${SLUG}`, `hl-${SLUG}`];
const OPEN = ['new', 'accepted', 'in_progress'];
const STATUSES = ['new', 'accepted', 'in_progress', 'resolved', 'rejected', 'duplicate'];
const MAX_FEATURES = 10000; // the OGC API's largest page

const P = {
  ctx: null,
  ui: {},
  mode: 'points', // 'points' | 'heat'
  filter: { service: '', status: '', period: '' },
  services: null,
  count: null, // reports drawn from the filtered source, or null (all, from the tiles)
  capped: false,
  loading: false,
  error: false,
  seq: 0,
};

const filtered = () => Boolean(P.filter.service || P.filter.status || P.filter.period);

// heatPaint: a sequential yellow–orange–red ramp, transparent where there is nothing, readable
// on the light base map; the radius grows with the zoom so that a street's reports merge.
function heatLayer(source, sourceLayer, weight) {
  const layer = {
    id: HEAT, type: 'heatmap', source,
    layout: { visibility: 'visible' },
    paint: {
      'heatmap-weight': weight,
      // A lone report alone reads orange; red means several reports (or much support) together.
      'heatmap-intensity': ['interpolate', ['linear'], ['zoom'], 9, 0.3, 13, 0.5, 17, 0.8],
      'heatmap-radius': ['interpolate', ['linear'], ['zoom'], 9, 8, 13, 22, 17, 45],
      'heatmap-opacity': 0.85,
      'heatmap-color': ['interpolate', ['linear'], ['heatmap-density'],
        0, 'rgba(255,255,178,0)', 0.1, 'rgba(254,217,118,0.55)', 0.3, '#feb24c', 0.5, '#fd8d3c',
        0.7, '#f03b20', 1, '#9e0026'],
    },
  };
  if (sourceLayer) layer['source-layer'] = sourceLayer;
  return layer;
}

// Weight of a feature: a cluster counts its reports, a report the residents it affects, with
// diminishing returns so that one much-supported report does not drown a whole district.
const TILE_WEIGHT = ['case', ['has', 'point_count'],
  ['interpolate', ['linear'], ['to-number', ['get', 'point_count'], 2], 2, 2, 20, 8, 200, 25],
  ['interpolate', ['linear'], ['to-number', ['get', 'support_count'], 1], 1, 1, 10, 3, 100, 6]];
const GEOJSON_WEIGHT = ['interpolate', ['linear'], ['to-number', ['get', 'support_count'], 1], 1, 1, 10, 3, 100, 6];

function tileSource() {
  const map = P.ctx.map;
  const id = `src-${SLUG}`;
  return map?.getSource(id) ? id : null;
}

/** apply draws the current mode: the heat layer over the right source, the points hidden or shown. */
function apply() {
  const map = P.ctx?.map;
  if (!map || !map.getStyle()) return;
  const shown = P.ctx.visible(SLUG);
  const heatOn = P.mode === 'heat' && shown;
  if (map.getLayer(HEAT)) map.removeLayer(HEAT);
  if (heatOn) {
    const before = map.getLayer(`lyr-${SLUG}`) ? `lyr-${SLUG}` : undefined;
    if (filtered()) {
      if (map.getSource(FILTERED)) map.addLayer(heatLayer(FILTERED, null, GEOJSON_WEIGHT), before);
    } else if (tileSource()) {
      map.addLayer(heatLayer(tileSource(), SLUG, TILE_WEIGHT), before);
    }
  }
  for (const id of POINT_LAYERS) {
    if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', shown && !heatOn ? 'visible' : 'none');
  }
}

function cql(f) {
  const q = (v) => `'${String(v).replaceAll("'", "''")}'`;
  const parts = [];
  if (f.service) parts.push(`service_code = ${q(f.service)}`);
  if (f.status === 'open') parts.push(`status IN (${OPEN.map(q).join(', ')})`);
  else if (f.status) parts.push(`status = ${q(f.status)}`);
  return parts.join(' AND ');
}

function since(period) {
  const d = new Date();
  if (period === '30') d.setUTCDate(d.getUTCDate() - 30);
  else if (period === '365') d.setUTCFullYear(d.getUTCFullYear() - 1);
  else return '';
  return `${d.toISOString().replace(/\.\d+Z$/, 'Z')}/..`;
}

/** loadFiltered fetches just the chosen reports and puts them in the heatmap's GeoJSON source. */
async function loadFiltered() {
  const map = P.ctx.map;
  const seq = ++P.seq;
  if (!filtered()) {
    P.count = null;
    P.loading = false;
    P.error = false;
    apply();
    render();
    return;
  }
  P.loading = true;
  P.error = false;
  render();
  const params = new URLSearchParams({ limit: String(MAX_FEATURES), properties: 'support_count' });
  const filter = cql(P.filter);
  if (filter) { params.set('filter', filter); params.set('filter-lang', 'cql2-text'); }
  const dt = since(P.filter.period);
  if (dt) params.set('datetime', dt);
  try {
    const res = await fetch(`/ogc/collections/${SLUG}/items?${params}`, { headers: { Accept: 'application/geo+json' } });
    if (!res.ok) throw new Error(String(res.status));
    const fc = await res.json();
    if (seq !== P.seq) return; // a newer choice is on its way
    const data = { type: 'FeatureCollection', features: fc.features || [] };
    const src = map.getSource(FILTERED);
    if (src) src.setData(data);
    else map.addSource(FILTERED, { type: 'geojson', data });
    P.count = data.features.length;
    P.capped = P.count >= MAX_FEATURES;
  } catch {
    if (seq !== P.seq) return;
    P.error = true;
    P.count = null;
  }
  P.loading = false;
  apply();
  render();
}

async function loadServices() {
  if (P.services) return;
  try {
    const res = await fetch('/api/reports/services');
    if (res.ok) P.services = (await res.json()).services || [];
  } catch { /* the list stays "all categories" */ }
  render();
}

function setMode(mode) {
  P.mode = mode;
  if (mode === 'heat') {
    if (!P.ctx.visible(SLUG)) P.ctx.setLayerVisible(SLUG, true); // calls layerVisible → apply
    loadServices();
  }
  apply();
  render();
  P.ctx.updatePermalink?.();
}

function radio(value, key) {
  const id = `reportsheat-mode-${value}`;
  return h('label', { class: 'reportsheat-radio', for: id },
    h('input', { type: 'radio', id, name: 'reportsheat-mode', value, checked: P.mode === value,
      onchange: () => setMode(value) }),
    ' ', t(key));
}

function select(id, label, value, options, onchange) {
  const el = h('select', { id, onchange: (e) => onchange(e.target.value) },
    options.map(([v, text]) => h('option', { value: v }, text)));
  el.value = value;
  return h('div', { class: 'reportsheat-field' }, h('label', { for: id }, label), el);
}

function render() {
  const { ui } = P;
  if (!ui.section) return;
  const L = P.ctx.lang();
  const active = document.activeElement;
  const focusID = active && ui.section.contains(active) ? active.id : '';
  ui.title.textContent = t('reportsheat.title');
  const parts = [
    h('fieldset', { class: 'reportsheat-modes' }, h('legend', {}, t('reportsheat.view')), radio('points', 'reportsheat.points'), radio('heat', 'reportsheat.heat')),
  ];
  if (P.mode === 'heat') {
    parts.push(h('p', { class: 'reportsheat-intro' }, t('reportsheat.intro')));
    parts.push(h('div', { class: 'reportsheat-legend', role: 'img', 'aria-label': `${t('reportsheat.legend')}: ${t('reportsheat.fewer')} → ${t('reportsheat.more')}` },
      h('span', { 'aria-hidden': 'true' }, t('reportsheat.fewer')), h('span', { class: 'reportsheat-ramp', 'aria-hidden': 'true' }),
      h('span', { 'aria-hidden': 'true' }, t('reportsheat.more'))));
    const f = P.filter;
    const set = (k) => (v) => { f[k] = v; P.ctx.updatePermalink?.(); loadFiltered(); };
    parts.push(h('fieldset', { class: 'reportsheat-filter' }, h('legend', {}, t('reportsheat.filter')),
      select('reportsheat-service', t('reportsheat.category'), f.service,
        [['', t('reportsheat.allCategories')], ...(P.services || []).map((s) => [s.code, pick(s.name, L)])], set('service')),
      select('reportsheat-status', t('reportsheat.status'), f.status,
        [['', t('reportsheat.allStatuses')], ['open', t('reportsheat.open')], ...STATUSES.map((st) => [st, statusName(st)])], set('status')),
      select('reportsheat-period', t('reportsheat.period'), f.period,
        [['', t('reportsheat.allTime')], ['30', t('reportsheat.days30')], ['365', t('reportsheat.year')]], set('period'))));
    let status = '';
    if (P.loading) status = t('reportsheat.loading');
    else if (P.error) status = t('reportsheat.loadError');
    else if (P.count !== null) status = `${t('reportsheat.count', { n: formatNumber(P.count, L) })}${P.capped ? ` ${t('reportsheat.capped', { n: formatNumber(MAX_FEATURES, L) })}` : ''}`;
    else status = t('reportsheat.countAll');
    parts.push(h('p', { class: 'reportsheat-count', role: 'status', dataset: { count: P.count ?? '' } }, status));
  }
  ui.body.replaceChildren(...parts);
  if (focusID) document.getElementById(focusID)?.focus();
}

function readHash() {
  const params = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  if (params.get('reports') === 'heat') {
    P.mode = 'heat';
    const cat = params.get('reports_category') || '';
    if (/^[a-z][a-z0-9_]{0,39}$/.test(cat)) P.filter.service = cat;
    const st = params.get('reports_status') || '';
    if (st === 'open' || STATUSES.includes(st)) P.filter.status = st;
    const per = params.get('reports_period') || '';
    if (per === '30' || per === '365') P.filter.period = per;
  }
}

register({
  name: 'reportsheat',
  init(ctx) {
    P.ctx = ctx;
    readHash();
    if (P.mode !== 'heat' || !ctx.map) return;
    const start = () => { loadServices(); if (filtered()) loadFiltered(); else apply(); render(); };
    // The catalog's layers are added when the base style has loaded (main.js), before 'load'.
    whenStyleReady(ctx.map, start);
  },
  panel(ctx) {
    P.ctx = ctx;
    if (!ctx.layer(SLUG)) return null;
    const ui = P.ui;
    ui.title = h('h2', { id: 'reportsheat-title' });
    ui.body = h('div', { class: 'reportsheat-body' });
    ui.section = h('section', { class: 'card reportsheat', 'aria-labelledby': 'reportsheat-title' }, ui.title, ui.body);
    render();
    return ui.section;
  },
  lang() { render(); },
  layerVisible(ctx, slug) { if (slug === SLUG) apply(); },
  hash() {
    if (P.mode !== 'heat') return null;
    return { reports: 'heat', reports_category: P.filter.service || null, reports_status: P.filter.status || null,
      reports_period: P.filter.period || null };
  },
});
