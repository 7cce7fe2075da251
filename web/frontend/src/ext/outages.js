// Utilities for residents: "Is my building affected?" by address, by a point on the map or in a
// building's popup (/api/modules/outages/affected); the outages themselves are the catalog layer
// `outages`, and their popups get the description in the chosen language. Utility-network
// popups read material, diameter and age in words.
import { h, clear } from '../dom.js';
import { formatNumber, has, t } from '../i18n.js';
import { register } from '../extensions.js';
import { getJSON, formatTime, finder, section, overlay, bboxOf, fitTo } from './modkit.js';

let ctx = null;
let ui = null;
let last = null; // { answer, label }
let drawHere = null;
const popupCache = new Map(); // building id → { at, answer }

const netName = (n) => (has(`outages.net_${n}`) ? t(`outages.net_${n}`) : n);
const descr = (d, L) => (d ? d[L] || d.ru || d.kk || d.en || '' : '');

function outageItem(o, L) {
  const end = o.expected_end ? new Date(o.expected_end) : null;
  return h('li', { class: 'mod-outage', dataset: { network: o.network, id: String(o.id) } },
    h('span', { class: 'mod-dot', dataset: { network: o.network }, 'aria-hidden': 'true' }),
    h('div', {},
      h('strong', {}, netName(o.network)),
      descr(o.description, L) ? h('p', { class: 'mod-descr' }, descr(o.description, L)) : null,
      h('dl', { class: 'mod-dl' },
        h('dt', {}, t('outages.since')), h('dd', {}, formatTime(o.starts_at, L)),
        h('dt', {}, t('outages.expectedEnd')),
        h('dd', { dataset: { field: 'expected_end' } }, end ? formatTime(end, L) : t('outages.notAnnounced'),
          end && end < new Date() ? ` ${t('outages.overdue')}` : ''))));
}

function renderAnswer() {
  if (!ui || !last) return;
  const L = ctx.lang();
  const a = last.answer;
  clear(ui.finder.result);
  const where = a.building
    ? t('outages.building', { a: a.building.address || t('outages.noAddress') })
    : t('outages.noBuilding');
  const verdict = a.building ? (a.affected ? 'outages.yes' : 'outages.no') : (a.affected ? 'outages.pointYes' : 'outages.pointNo');
  ui.finder.result.append(
    h('p', { class: `mod-verdict ${a.affected ? 'mod-bad' : 'mod-good'}`, dataset: { affected: String(a.affected) } }, t(verdict)),
    h('p', { class: 'mod-meta' }, where, last.label && a.building?.address !== last.label ? ` · ${t('modules.found', { a: last.label })}` : ''),
    h('ul', { class: 'mod-list', hidden: !a.outages.length }, a.outages.map((o) => outageItem(o, L))));
}

async function answerFor(p) {
  const q = new URLSearchParams({ lon: p.lon.toFixed(6), lat: p.lat.toFixed(6), lang: ctx.lang() });
  const a = await getJSON(`/api/modules/outages/affected?${q}`);
  last = { answer: a, label: p.label };
  renderAnswer();
  drawHere({ type: 'FeatureCollection', features: [{ type: 'Feature', geometry: { type: 'Point', coordinates: [a.lon, a.lat] }, properties: {} }] });
  if (a.affected && ctx.layer('outages') && !ctx.visible('outages')) ctx.setLayerVisible('outages', true);
  const map = ctx.map;
  if (map.getZoom() < 15) fitTo(map, bboxOf([a.lon, a.lat]));
  else map.easeTo({ center: [a.lon, a.lat], duration: 300 });
}

function renderTexts() {
  const L = ctx.lang();
  ui.sec.title.textContent = t('outages.title');
  ui.intro.textContent = t('outages.intro');
  const n = ctx.layer('outages')?.feature_count ?? 0;
  ui.now.textContent = n ? t('outages.now', { n: formatNumber(n, L) }) : t('outages.noneNow');
  ui.show.textContent = t('outages.showLayer');
  ui.show.hidden = !ctx.layer('outages');
  ui.show.setAttribute('aria-pressed', String(ctx.visible('outages')));
  ui.finder.render();
  renderAnswer();
}

let listCache = null; // { at, promise }

/** currentOutages is the GeoJSON features of /api/modules/outages, fetched at most every 30 s. */
function currentOutages() {
  if (!listCache || Date.now() - listCache.at > 30000) {
    listCache = { at: Date.now(), promise: getJSON('/api/modules/outages').then((fc) => fc.features || []) };
    listCache.promise.catch(() => { listCache = null; });
  }
  return listCache.promise;
}

function buildingPopup(f) {
  const L = ctx.lang();
  const box = h('div', { class: 'mod-popup', dataset: { module: 'outages' } }, h('p', { class: 'mod-meta' }, t('outages.checking')));
  const fill = (a) => {
    clear(box);
    box.append(h('p', { class: `mod-verdict ${a.affected ? 'mod-bad' : 'mod-good'}`, dataset: { affected: String(a.affected) } },
      t(a.affected ? 'outages.popupSome' : 'outages.popupNone')));
    if (a.outages.length) box.append(h('ul', { class: 'mod-list' }, a.outages.map((o) => outageItem(o, L))));
  };
  const hit = popupCache.get(f.id);
  if (hit && Date.now() - hit.at < 60000) { fill(hit.answer); return box; }
  getJSON(`/api/modules/outages/affected?building=${encodeURIComponent(f.id)}`)
    .then((a) => { popupCache.set(f.id, { at: Date.now(), answer: a }); fill(a); })
    .catch((err) => { clear(box).append(h('p', { class: 'mod-meta' }, t('modules.failed', { msg: err.message }))); });
  return box;
}

register({
  name: 'outages',
  init(c) {
    ctx = c;
    drawHere = overlay(c.map, 'mod-outage-here', [
      { id: 'pt', type: 'circle', paint: { 'circle-radius': 7, 'circle-color': '#0b2a33', 'circle-stroke-color': '#fff', 'circle-stroke-width': 2.5 } },
    ]);
  },
  panel(c) {
    const f = finder(c, { id: 'outage-check', onPoint: answerFor });
    const intro = h('p', { class: 'mod-intro' });
    const now = h('span', { class: 'mod-meta' });
    const show = h('button', { type: 'button', class: 'link-btn', 'aria-pressed': 'false',
      onclick: () => c.setLayerVisible('outages', !c.visible('outages')) });
    const sec = section('mod-outages', intro, h('p', { class: 'mod-row' }, now, show), f.form, f.status, f.result);
    ui = { sec, intro, now, show, finder: f };
    renderTexts();
    return sec.el;
  },
  popup(c, f) {
    const L = c.lang();
    if (f.layer === 'buildings' && f.id !== undefined && f.id !== null) return buildingPopup(f);
    if (f.layer === 'outages' && f.id !== undefined && f.id !== null) {
      // The descriptions are not in the tiles: they come from the outages list.
      const box = h('p', { class: 'mod-descr', dataset: { module: 'outages' } });
      currentOutages().then((list) => {
        const o = list.find((x) => x.id === f.id);
        if (o && descr(o.properties.description, L)) box.textContent = descr(o.properties.description, L);
        else box.remove();
      }).catch(() => box.remove());
      return box;
    }
    if (f.layer === 'utility_networks') {
      const p = f.properties || {};
      const parts = [];
      if (p.material) parts.push(has(`outages.mat_${p.material}`) ? t(`outages.mat_${p.material}`) : String(p.material));
      if (Number(p.diameter_mm) > 0) parts.push(t('outages.diameter', { n: formatNumber(Number(p.diameter_mm), L) }));
      const y = Number(p.year);
      if (y > 1800) parts.push(t('outages.laid', { y, n: Math.max(0, new Date().getFullYear() - y) }));
      if (!parts.length) return null;
      return h('p', { class: 'mod-meta', dataset: { module: 'utility' } }, `${netName(p.network)}: ${parts.join(' · ')}`);
    }
    return null;
  },
  lang() { if (ui) renderTexts(); },
  layerVisible(c, slug) { if (ui && slug === 'outages') ui.show.setAttribute('aria-pressed', String(c.visible('outages'))); },
});
