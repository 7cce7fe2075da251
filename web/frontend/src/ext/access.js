// Barrier-free city: an "accessible places only" filter over the catalog layers (ramps within
// the slope norm and not in poor condition, crossings with a sound signal, accessible bio-toilets and overpasses, low-floor
// buses on the live map), kept in the link as &access=1; and the accessibility score per district
// with the worst gaps (/api/modules/access), drawn as a district choropleth and gap points.
import { h, clear } from '../dom.js';
import { formatNumber, t } from '../i18n.js';
import { formatPercent } from '../format.js';
import { layerIds } from '../mapstyle.js';
import { register } from '../extensions.js';
import { getJSON, section, overlay, whenReady, fitTo, bboxOf } from './modkit.js';

// What "accessible" means per catalog layer (MapLibre filter expressions on tile properties).
const yes = (k) => ['any', ['==', ['get', k], true], ['==', ['get', k], 'true']];
// A ramp: no steeper than 1:12 (8 %, SP 59.13330.2020 for existing buildings; the same rule as
// the score's, layers/modules/access.go MaxRampSlopePct; a lowered kerb without a slope counts)
// and not in poor condition.
export const MAX_RAMP_SLOPE_PCT = 8;
export const RULES = {
  ramps: ['all', ['<=', ['to-number', ['get', 'slope_pct'], 0], MAX_RAMP_SLOPE_PCT],
    ['!=', ['to-string', ['get', 'condition']], 'poor']],
  smart_crossings: yes('sound_signal'),
  biotoilets: yes('accessible'),
  overpasses: yes('accessible'),
  vehicles: yes('low_floor'),
};
const SHOW_WHEN_ON = ['ramps', 'smart_crossings', 'biotoilets'];
const NOTHING = ['boolean', false]; // an expression: ['==', 1, 0] is read as a legacy filter and refused
const DISTANCE = 300;

let ctx = null;
let ui = null;
let on = false;
const original = new Map(); // style layer id → its filter before ours
let report = null; // the /api/modules/access answer
let loading = null;
let drawGaps = null;
let showScores = false;

function scoreColor(s) {
  if (s >= 80) return '#1a9850';
  if (s >= 60) return '#91cf60';
  if (s >= 40) return '#fee08b';
  if (s >= 20) return '#fc8d59';
  return '#d73027';
}

/** applyFilter sets (or restores) the accessible-only filters on the catalog's style layers. */
function applyFilter() {
  const map = ctx.map;
  for (const [slug, rule] of Object.entries(RULES)) {
    if (!ctx.layer(slug)) continue;
    for (const id of layerIds(slug)) {
      if (!map.getLayer(id)) continue;
      if (!original.has(id)) original.set(id, map.getFilter(id) ?? null);
      const base = original.get(id);
      let f = base;
      if (on) {
        if (id.startsWith('cl-')) f = NOTHING; // a group's count includes inaccessible places
        else if (id.startsWith('case-')) continue;
        else f = base ? ['all', base, rule] : rule;
      }
      map.setFilter(id, f);
    }
  }
}

function setOn(v, { fromLink = false } = {}) {
  on = v;
  if (ui) ui.check.checked = v;
  // Switched on with none of the filtered layers shown: show the main ones.
  if (on && !fromLink && !Object.keys(RULES).some((sl) => ctx.visible(sl))) {
    for (const sl of SHOW_WHEN_ON) if (ctx.layer(sl)) ctx.setLayerVisible(sl, true);
  }
  whenReady(ctx.map, applyFilter);
  ctx.updatePermalink?.();
}

function fromHash() {
  return new URLSearchParams(window.location.hash.replace(/^#/, '')).get('access') === '1';
}

// ---------------------------------------------------------------- scores

function loadReport() {
  if (!loading) {
    loading = getJSON(`/api/modules/access?distance=${DISTANCE}&limit=20`)
      .then((r) => { report = r; return r; })
      .catch((err) => { loading = null; throw err; });
  }
  return loading;
}

function drawChoropleth() {
  const map = ctx.map;
  whenReady(map, () => {
    const id = 'mod-access-districts';
    if (!report || !showScores) {
      if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', 'none');
      return;
    }
    const match = ['match', ['id']];
    for (const d of report.districts) if (d.id != null) match.push(d.id, scoreColor(d.score));
    match.push('rgba(0,0,0,0)');
    if (!map.getLayer(id)) {
      if (!map.getSource('base')) return;
      const before = map.getLayer('lyr-buildings') ? 'lyr-buildings' : undefined;
      map.addLayer({ id, type: 'fill', source: 'base', 'source-layer': 'districts',
        paint: { 'fill-color': match, 'fill-opacity': 0.45 } }, before);
    } else {
      map.setPaintProperty(id, 'fill-color', match);
      map.setLayoutProperty(id, 'visibility', 'visible');
    }
  });
}

function renderScores() {
  if (!ui) return;
  const L = ctx.lang();
  clear(ui.scores);
  ui.scoresBtn.textContent = t(showScores ? 'access.hideScores' : 'access.scores');
  ui.scoresBtn.setAttribute('aria-expanded', String(showScores));
  if (!showScores || !report) return;
  const r = report;
  const d = t('access.metres', { n: formatNumber(r.distance_m, L) });
  const pct = (v) => formatPercent(v, L, 0);
  const rows = [...r.districts].sort((a, b) => a.score - b.score).map((x) => h('tr', { dataset: { district: String(x.id ?? '') } },
    h('th', { scope: 'row' }, h('span', { class: 'mod-swatch', dataset: { score: String(Math.min(4, Math.floor(x.score / 20))) }, 'aria-hidden': 'true' }),
      x.names[L] || x.names.ru || x.names.en),
    h('td', {}, formatNumber(x.score, L, { maximumFractionDigits: 1 }),
      h('span', { class: 'mod-meta mod-block' }, t('access.shares', { a: pct(x.shares.ramp), b: pct(x.shares.low_floor_stop), c: pct(x.shares.accessible_toilet) })))));
  const gaps = r.worst_gaps.slice(0, 10).map((g) => h('li', {}, h('button', { type: 'button', class: 'result', dataset: { building: String(g.building_id) },
    onclick: () => fitTo(ctx.map, bboxOf([g.lon - 0.002, g.lat - 0.001], [g.lon + 0.002, g.lat + 0.001])) },
  h('span', { class: 'result-text' },
    h('span', { class: 'result-name' }, g.address || t('access.noAddress')),
    h('span', { class: 'result-meta' }, t('access.gapLine', { r: formatNumber(g.residents, L), m: g.missing.map((m) => t(`access.need_${m}`)).join(', ') }))))));
  ui.scores.append(
    h('p', { class: 'mod-verdict', dataset: { score: String(r.score) } }, t('access.cityScore', { s: formatNumber(r.score, L), d })),
    h('table', { class: 'mod-table' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('access.district')), h('th', { scope: 'col' }, t('access.score')))),
      h('tbody', {}, rows)),
    h('h3', { class: 'mod-h3' }, t('access.worstGaps')),
    h('ul', { class: 'results mod-gaps' }, gaps),
    h('p', { class: 'mod-meta' }, t('access.method', { d })));
}

async function toggleScores() {
  showScores = !showScores;
  if (showScores && !report) {
    ui.status.textContent = t('access.loading');
    try {
      await loadReport();
      ui.status.textContent = '';
    } catch (err) {
      ui.status.textContent = t('access.failed', { msg: err.message });
      showScores = false;
    }
  }
  renderScores();
  drawChoropleth();
  drawGaps(showScores && report ? { type: 'FeatureCollection', features: report.worst_gaps.map((g) => ({
    type: 'Feature', geometry: { type: 'Point', coordinates: [g.lon, g.lat] }, properties: { missing: g.missing.length },
  })) } : null);
}

function renderTexts() {
  ui.sec.title.textContent = t('access.title');
  ui.label.textContent = t('access.only');
  ui.hint.textContent = t('access.onlyHint');
  ui.taxiLabel.textContent = t('access.socialTaxi');
  renderScores();
}

register({
  name: 'access',
  init(c) {
    ctx = c;
    drawGaps = overlay(c.map, 'mod-access-gaps', [
      { id: 'pt', type: 'circle', paint: {
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 11, 3, 16, 7],
        'circle-color': ['match', ['get', 'missing'], 3, '#d73027', 2, '#fc8d59', '#fee08b'],
        'circle-stroke-color': '#3b0a0a', 'circle-stroke-width': 1,
      } },
    ]);
    if (fromHash()) setOn(true, { fromLink: true });
    window.addEventListener('hashchange', () => { if (fromHash() !== on) setOn(fromHash(), { fromLink: true }); });
  },
  panel(c) {
    const check = h('input', { type: 'checkbox', id: 'access-only', checked: on, onchange: (e) => setOn(e.target.checked) });
    const label = h('label', { for: 'access-only' });
    const hint = h('p', { class: 'mod-meta', id: 'access-only-hint' });
    check.setAttribute('aria-describedby', 'access-only-hint');
    const scoresBtn = h('button', { type: 'button', class: 'btn btn-secondary', 'aria-expanded': 'false', 'aria-controls': 'access-scores', onclick: toggleScores });
    const status = h('p', { class: 'mod-status', role: 'status', 'aria-live': 'polite' });
    const scores = h('div', { id: 'access-scores', class: 'mod-result' });
    // The social taxi's service area is a catalog layer: a shortcut to switch it on, shown only
    // when the catalog has it.
    const taxiCheck = h('input', { type: 'checkbox', id: 'access-taxi', checked: c.visible('social_taxi_area'),
      onchange: (e) => c.setLayerVisible('social_taxi_area', e.target.checked) });
    const taxiLabel = h('label', { for: 'access-taxi' });
    const taxi = h('div', { class: 'mod-check', hidden: !c.layer('social_taxi_area') }, taxiCheck, taxiLabel);
    const sec = section('mod-access', h('div', { class: 'mod-check' }, check, label), hint,
      h('div', { class: 'btn-row' }, scoresBtn), status, scores, taxi);
    ui = { sec, check, label, hint, scoresBtn, status, scores, taxi, taxiCheck, taxiLabel };
    renderTexts();
    return sec.el;
  },
  popup(c, f) {
    if (f.layer !== 'districts' || f.id === undefined || f.id === null) return null;
    const box = h('p', { class: 'mod-meta', dataset: { module: 'access' } }, t('access.loading'));
    loadReport().then((r) => {
      const d = r.districts.find((x) => x.id === f.id);
      if (!d) { box.remove(); return; }
      const L = c.lang();
      const pct = (v) => formatPercent(v, L, 0);
      clear(box).append(h('strong', {}, t('access.scoreOf', { s: formatNumber(d.score, L) })), h('br', {}),
        t('access.shares', { a: pct(d.shares.ramp), b: pct(d.shares.low_floor_stop), c: pct(d.shares.accessible_toilet) }));
    }).catch((err) => { box.textContent = t('access.failed', { msg: err.message }); });
    return box;
  },
  hash() { return on ? { access: '1' } : null; },
  lang() { if (ui) renderTexts(); },
  layerVisible(c, slug, visible) { if (ui && slug === 'social_taxi_area') ui.taxiCheck.checked = visible; },
});

