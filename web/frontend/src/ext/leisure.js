// Social and leisure: popups of parks, sports grounds, playgrounds, leisure places, bio-toilets
// and pharmacies say whether the place is open now (city time) and name its kind and facilities
// in the chosen language; a planners' gap map shows where no leisure place is within reach
// (the coverage analysis, /api/analysis/coverage?layer=leisure_places).
import { h, clear } from '../dom.js';
import { formatNumber, has, t } from '../i18n.js';
import { register } from '../extensions.js';
import { getJSON, section, overlay } from './modkit.js';
import { formatPercent, timeZone } from '../format.js';
import { parseHours, openState, cityClock } from './hours.js';

export const HOURS_LAYERS = ['parks', 'sports_grounds', 'leisure_places', 'biotoilets', 'pharmacies', 'playgrounds'];
const KINDS = ['summer_cinema', 'music', 'dance', 'game'];
const DISTANCES = [500, 1000, 2000];

// Codes of the kind attributes and the facility words of the parks layer: leisure.word.* in the catalog.
const wordKey = (w) => `leisure.word.${String(w).trim().toLowerCase()}`;
const word = (w) => (has(wordKey(w)) ? t(wordKey(w)) : String(w).trim());

let ctx = null;
let ui = null;
let last = null;
let drawHexes = null;

/** hoursLine renders "Open now · until 22:00" for an opening-hours text. */
function hoursLine(text, L) {
  const parsed = parseHours(text);
  const st = openState(parsed, cityClock(new Date(), timeZone()));
  if (!st) return h('p', { class: 'mod-meta', dataset: { open: 'unknown' } }, t('leisure.hours', { h: text }));
  let detail;
  if (st.always) detail = t('leisure.always');
  else if (st.open) detail = `${t('leisure.openNow')} · ${t('leisure.until', { t: st.until })}`;
  else detail = `${t('leisure.closedNow')} · ${st.opens ? t('leisure.opens', { t: st.opens }) : t('leisure.notToday')}`;
  return h('p', { class: `mod-hours ${st.open ? 'mod-good' : 'mod-closed'}`, dataset: { open: String(st.open) } }, detail);
}

function placePopup(f, L) {
  const p = f.properties || {};
  const parts = [];
  if (p.kind && has(wordKey(p.kind))) parts.push(h('p', { class: 'mod-kind' }, word(p.kind) + (p.surface && has(wordKey(p.surface)) ? ` · ${word(p.surface)}` : '')));
  if (p.hours) parts.push(hoursLine(p.hours, L));
  if (p.facilities) {
    const items = String(p.facilities).split(/\s*[,;]\s*/).filter(Boolean);
    parts.push(h('div', { class: 'mod-facilities' }, h('span', { class: 'mod-meta' }, `${t('leisure.facilities')}:`),
      h('ul', { class: 'mod-chips' }, items.map((w) => h('li', {}, word(w))))));
  }
  return parts.length ? h('div', { class: 'mod-popup', dataset: { module: 'leisure' } }, parts) : null;
}

// ---------------------------------------------------------------- gap map

async function showGaps() {
  const distance = ui.distance.value;
  const kind = ui.kind.value;
  const q = new URLSearchParams({ layer: 'leisure_places', distance });
  if (kind) q.set('filter', `kind:${kind}`);
  ui.status.textContent = t('leisure.loading');
  clear(ui.result);
  try {
    const r = await getJSON(`/api/analysis/coverage?${q}`);
    last = r;
    ui.status.textContent = '';
    drawHexes(r.unserved_hexes);
    renderResult();
  } catch (err) {
    ui.status.textContent = t('leisure.failed', { msg: err.message });
  }
}

function clearGaps() {
  last = null;
  drawHexes(null);
  renderResult();
}

function renderResult() {
  if (!ui) return;
  clear(ui.result);
  if (!last) return;
  const L = ctx.lang();
  const r = last;
  const n = Math.round(r.residents_total - r.residents_covered);
  ui.result.append(
    h('p', { class: 'mod-verdict', dataset: { share: String(r.covered_share) } }, t('leisure.covered', {
      p: formatPercent(r.covered_share, L),
      d: t('leisure.metres', { n: formatNumber(r.distance, L) }),
      n: formatNumber(n, L),
      h: formatNumber(r.unserved_hexes?.features?.length || 0, L),
    })),
    h('p', { class: 'mod-meta mod-legend' }, h('span', { class: 'mod-ramp', 'aria-hidden': 'true' }), t('leisure.legend')),
    h('button', { type: 'button', class: 'link-btn', onclick: clearGaps }, t('leisure.clear')));
}

function renderTexts() {
  const L = ctx.lang();
  ui.sec.title.textContent = t('leisure.title');
  ui.intro.textContent = t('leisure.intro');
  ui.kindLabel.textContent = t('leisure.kind');
  ui.distLabel.textContent = t('leisure.distance');
  const kind = ui.kind.value;
  clear(ui.kind).append(h('option', { value: '' }, t('leisure.anyKind')), ...KINDS.map((k) => h('option', { value: k }, word(k))));
  ui.kind.value = kind;
  const dist = ui.distance.value || '1000';
  clear(ui.distance).append(...DISTANCES.map((d) => h('option', { value: String(d) }, t('leisure.metres', { n: formatNumber(d, L) }))));
  ui.distance.value = dist;
  ui.show.textContent = t('leisure.show');
  renderResult();
}

register({
  name: 'leisure',
  init(c) {
    ctx = c;
    drawHexes = overlay(c.map, 'mod-leisure-gaps', [
      { id: 'fill', type: 'fill', paint: {
        'fill-color': ['interpolate', ['linear'], ['coalesce', ['get', 'residents'], 0], 0, '#fde0dd', 200, '#fa9fb5', 1000, '#c51b8a', 3000, '#7a0177'],
        'fill-opacity': 0.55,
      } },
      { id: 'line', type: 'line', paint: { 'line-color': '#7a0177', 'line-width': 0.5, 'line-opacity': 0.6 } },
    ]);
  },
  panel(c) {
    if (!c.layer('leisure_places')) return null;
    const intro = h('p', { class: 'mod-intro' });
    const kindLabel = h('label', { for: 'leisure-kind' });
    const kind = h('select', { id: 'leisure-kind' });
    const distLabel = h('label', { for: 'leisure-distance' });
    const distance = h('select', { id: 'leisure-distance' });
    const show = h('button', { type: 'button', class: 'btn', onclick: showGaps });
    const status = h('p', { class: 'mod-status', role: 'status', 'aria-live': 'polite' });
    const result = h('div', { class: 'mod-result' });
    const sec = section('mod-leisure', intro,
      h('div', { class: 'mod-grid' }, h('div', { class: 'field' }, kindLabel, kind), h('div', { class: 'field' }, distLabel, distance)),
      h('div', { class: 'btn-row' }, show), status, result);
    ui = { sec, intro, kindLabel, kind, distLabel, distance, show, status, result };
    renderTexts();
    return sec.el;
  },
  popup(c, f) {
    if (!HOURS_LAYERS.includes(f.layer)) return null;
    return placePopup(f, c.lang());
  },
  lang() { if (ui) renderTexts(); },
});
