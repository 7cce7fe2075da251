// Utilities for residents: "Is my building affected?" by address, by a point on the map or in a
// building's popup (/api/modules/outages/affected); the outages themselves are the catalog layer
// `outages`, and their popups get the description in the chosen language. Utility-network
// popups read material, diameter and age in words.
import { h, clear } from '../dom.js';
import { formatNumber } from '../i18n.js';
import { register } from '../extensions.js';
import { tr, getJSON, formatTime, finder, section, overlay, bboxOf, fitTo } from './modkit.js';

const S = {
  title: { kk: 'Менің үйім өшірілген бе?', ru: 'Отключён ли мой дом?', en: 'Is my building affected?' },
  intro: {
    kk: 'Жылу, су, кәріз, электр немесе газдың өшірілуін мекенжай немесе картадағы ғимарат бойынша тексеріңіз.',
    ru: 'Проверьте отключение отопления, воды, канализации, электричества или газа по адресу или зданию на карте.',
    en: 'Check for heating, water, sewer, power or gas outages by address or by a building on the map.',
  },
  now: { kk: 'Қазір өшірілулер: {n}', ru: 'Сейчас отключений: {n}', en: 'Outages now: {n}' },
  noneNow: { kk: 'Қазір өшірілу жоқ', ru: 'Сейчас отключений нет', en: 'No outages now' },
  showLayer: { kk: 'Өшірілу аумақтарын көрсету', ru: 'Показать зоны отключений', en: 'Show outage areas' },
  yes: { kk: 'Иә, сіздің үйіңіз өшірілу аумағында', ru: 'Да, ваш дом в зоне отключения', en: 'Yes, your building is in an outage area' },
  no: { kk: 'Жоқ, сіздің үйіңізде өшірілу жоқ', ru: 'Нет, ваш дом не отключён', en: 'No, your building is not affected' },
  pointYes: { kk: 'Иә, бұл нүкте өшірілу аумағында', ru: 'Да, эта точка в зоне отключения', en: 'Yes, this point is in an outage area' },
  pointNo: { kk: 'Бұл нүктеде өшірілу жоқ', ru: 'В этой точке отключений нет', en: 'No outage at this point' },
  building: { kk: 'Ғимарат: {a}', ru: 'Здание: {a}', en: 'Building: {a}' },
  noBuilding: { kk: 'Бұл жерде ғимарат жоқ — нүкте бойынша жауап', ru: 'Здания здесь нет — ответ для точки', en: 'No building here — the answer is for the point' },
  noAddress: { kk: 'мекенжайы жоқ', ru: 'без адреса', en: 'no address' },
  since: { kk: 'Басталуы', ru: 'С', en: 'Since' },
  expectedEnd: { kk: 'Күтілетін қосылу', ru: 'Ожидаемое включение', en: 'Expected end' },
  notAnnounced: { kk: 'хабарланбаған', ru: 'не объявлено', en: 'not announced' },
  overdue: { kk: '(мерзімі өтті)', ru: '(срок прошёл)', en: '(overdue)' },
  checking: { kk: 'Өшірілуді тексеруде…', ru: 'Проверяем отключения…', en: 'Checking outages…' },
  popupNone: { kk: 'Бұл ғимаратта өшірілу жоқ', ru: 'В этом здании отключений нет', en: 'No outages in this building' },
  popupSome: { kk: 'Бұл ғимаратта өшірілу бар', ru: 'В этом здании отключение', en: 'This building has an outage' },
  net_heating: { kk: 'Жылу', ru: 'Отопление', en: 'Heating' },
  net_water: { kk: 'Су', ru: 'Вода', en: 'Water' },
  net_sewer: { kk: 'Кәріз', ru: 'Канализация', en: 'Sewer' },
  net_power: { kk: 'Электр', ru: 'Электричество', en: 'Power' },
  net_gas: { kk: 'Газ', ru: 'Газ', en: 'Gas' },
  laid: { kk: '{y} жылы төселген ({n} жыл бұрын)', ru: 'проложена в {y} году ({n} лет назад)', en: 'laid in {y} ({n} years ago)' },
  diameter: { kk: 'Ø {n} мм', ru: 'Ø {n} мм', en: 'Ø {n} mm' },
  mat_steel: { kk: 'болат', ru: 'сталь', en: 'steel' },
  mat_steel_preinsulated: { kk: 'оқшауланған болат', ru: 'сталь в ППУ-изоляции', en: 'pre-insulated steel' },
  mat_cast_iron: { kk: 'шойын', ru: 'чугун', en: 'cast iron' },
  mat_pe: { kk: 'полиэтилен', ru: 'полиэтилен', en: 'polyethylene' },
  mat_pvc: { kk: 'ПВХ', ru: 'ПВХ', en: 'PVC' },
  mat_ceramic: { kk: 'керамика', ru: 'керамика', en: 'ceramic' },
  mat_asbestos_cement: { kk: 'асбестцемент', ru: 'асбестоцемент', en: 'asbestos cement' },
  mat_aluminium_cable: { kk: 'алюминий кабель', ru: 'алюминиевый кабель', en: 'aluminium cable' },
  mat_copper_cable: { kk: 'мыс кабель', ru: 'медный кабель', en: 'copper cable' },
};

let ctx = null;
let ui = null;
let last = null; // { answer, label }
let drawHere = null;
const popupCache = new Map(); // building id → { at, answer }

const netName = (n, L) => (S[`net_${n}`] ? tr(S, L, `net_${n}`) : n);
const descr = (d, L) => (d ? d[L] || d.ru || d.kk || d.en || '' : '');

function outageItem(o, L) {
  const end = o.expected_end ? new Date(o.expected_end) : null;
  return h('li', { class: 'mod-outage', dataset: { network: o.network, id: String(o.id) } },
    h('span', { class: 'mod-dot', dataset: { network: o.network }, 'aria-hidden': 'true' }),
    h('div', {},
      h('strong', {}, netName(o.network, L)),
      descr(o.description, L) ? h('p', { class: 'mod-descr' }, descr(o.description, L)) : null,
      h('dl', { class: 'mod-dl' },
        h('dt', {}, tr(S, L, 'since')), h('dd', {}, formatTime(o.starts_at, L)),
        h('dt', {}, tr(S, L, 'expectedEnd')),
        h('dd', { dataset: { field: 'expected_end' } }, end ? formatTime(end, L) : tr(S, L, 'notAnnounced'),
          end && end < new Date() ? ` ${tr(S, L, 'overdue')}` : ''))));
}

function renderAnswer() {
  if (!ui || !last) return;
  const L = ctx.lang();
  const a = last.answer;
  clear(ui.finder.result);
  const where = a.building
    ? tr(S, L, 'building', { a: a.building.address || tr(S, L, 'noAddress') })
    : tr(S, L, 'noBuilding');
  const verdict = a.building ? (a.affected ? 'yes' : 'no') : (a.affected ? 'pointYes' : 'pointNo');
  ui.finder.result.append(
    h('p', { class: `mod-verdict ${a.affected ? 'mod-bad' : 'mod-good'}`, dataset: { affected: String(a.affected) } }, tr(S, L, verdict)),
    h('p', { class: 'mod-meta' }, where, last.label && a.building?.address !== last.label ? ` · ${tr(S, L, 'found', { a: last.label })}` : ''),
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
  ui.sec.title.textContent = tr(S, L, 'title');
  ui.intro.textContent = tr(S, L, 'intro');
  const n = ctx.layer('outages')?.feature_count ?? 0;
  ui.now.textContent = n ? tr(S, L, 'now', { n: formatNumber(n, L) }) : tr(S, L, 'noneNow');
  ui.show.textContent = tr(S, L, 'showLayer');
  ui.show.hidden = !ctx.layer('outages');
  ui.show.setAttribute('aria-pressed', String(ctx.visible('outages')));
  ui.finder.render(L);
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
  const box = h('div', { class: 'mod-popup', dataset: { module: 'outages' } }, h('p', { class: 'mod-meta' }, tr(S, L, 'checking')));
  const fill = (a) => {
    clear(box);
    box.append(h('p', { class: `mod-verdict ${a.affected ? 'mod-bad' : 'mod-good'}`, dataset: { affected: String(a.affected) } },
      tr(S, L, a.affected ? 'popupSome' : 'popupNone')));
    if (a.outages.length) box.append(h('ul', { class: 'mod-list' }, a.outages.map((o) => outageItem(o, L))));
  };
  const hit = popupCache.get(f.id);
  if (hit && Date.now() - hit.at < 60000) { fill(hit.answer); return box; }
  getJSON(`/api/modules/outages/affected?building=${encodeURIComponent(f.id)}`)
    .then((a) => { popupCache.set(f.id, { at: Date.now(), answer: a }); fill(a); })
    .catch((err) => { clear(box).append(h('p', { class: 'mod-meta' }, tr(S, L, 'failed', { msg: err.message }))); });
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
    const f = finder(c, { id: 'outage-check', table: S, onPoint: answerFor });
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
      if (p.material) parts.push(S[`mat_${p.material}`] ? tr(S, L, `mat_${p.material}`) : String(p.material));
      if (Number(p.diameter_mm) > 0) parts.push(tr(S, L, 'diameter', { n: formatNumber(Number(p.diameter_mm), L) }));
      const y = Number(p.year);
      if (y > 1800) parts.push(tr(S, L, 'laid', { y, n: Math.max(0, new Date().getFullYear() - y) }));
      if (!parts.length) return null;
      return h('p', { class: 'mod-meta', dataset: { module: 'utility' } }, `${netName(p.network, L)}: ${parts.join(' · ')}`);
    }
    return null;
  },
  lang() { if (ui) renderTexts(); },
  layerVisible(c, slug) { if (ui && slug === 'outages') ui.show.setAttribute('aria-pressed', String(c.visible('outages'))); },
});
