// Social and leisure: popups of parks, sports grounds, playgrounds, leisure places, bio-toilets
// and pharmacies say whether the place is open now (city time) and name its kind and facilities
// in the chosen language; a planners' gap map shows where no leisure place is within reach
// (the coverage analysis, /api/analysis/coverage?layer=leisure_places).
import { h, clear } from '../dom.js';
import { formatNumber } from '../i18n.js';
import { register } from '../extensions.js';
import { tr, getJSON, section, overlay, CITY_TZ } from './modkit.js';
import { parseHours, openState, cityClock } from './hours.js';

const S = {
  title: { kk: 'Демалыс орындарына дейінгі қашықтық', ru: 'Доступность мест досуга', en: 'Leisure within reach' },
  intro: {
    kk: 'Жоспарлаушылар үшін: таңдалған қашықтықта демалыс орны жоқ тұрғындар тұратын аймақтар.',
    ru: 'Для планировщиков: где живут люди, у которых нет места досуга в пределах выбранного расстояния.',
    en: 'For planners: where people live with no leisure place within the chosen distance.',
  },
  kind: { kk: 'Түрі', ru: 'Тип', en: 'Kind' },
  anyKind: { kk: 'Кез келген', ru: 'Любой', en: 'Any' },
  distance: { kk: 'Қашықтық', ru: 'Расстояние', en: 'Distance' },
  metres: { kk: '{n} м', ru: '{n} м', en: '{n} m' },
  show: { kk: 'Олқылықтарды көрсету', ru: 'Показать пробелы', en: 'Show gaps' },
  clear: { kk: 'Тазарту', ru: 'Очистить', en: 'Clear' },
  loading: { kk: 'Есептеуде…', ru: 'Считаем…', en: 'Calculating…' },
  failed: { kk: 'Жауап алу мүмкін болмады: {msg}', ru: 'Не удалось получить ответ: {msg}', en: 'Could not get an answer: {msg}' },
  covered: {
    kk: 'Тұрғындардың {p} — {d} ішінде демалыс орны бар; {n} тұрғын одан алыс тұрады ({h} алтыбұрыш картада).',
    ru: 'У {p} жителей есть место досуга в пределах {d}; {n} жителей живут дальше ({h} шестиугольников на карте).',
    en: '{p} of residents have a leisure place within {d}; {n} residents live further away ({h} hexagons on the map).',
  },
  legend: { kk: 'Түсі: алыс тұратын тұрғындар саны', ru: 'Цвет: сколько жителей живут дальше', en: 'Colour: residents living further away' },
  openNow: { kk: 'Қазір ашық', ru: 'Сейчас открыто', en: 'Open now' },
  closedNow: { kk: 'Қазір жабық', ru: 'Сейчас закрыто', en: 'Closed now' },
  always: { kk: 'Тәулік бойы ашық', ru: 'Открыто круглосуточно', en: 'Open 24 hours' },
  until: { kk: '{t} дейін', ru: 'до {t}', en: 'until {t}' },
  opens: { kk: '{t} ашылады', ru: 'откроется в {t}', en: 'opens at {t}' },
  notToday: { kk: 'бүгін ашылмайды', ru: 'сегодня больше не откроется', en: 'not open again today' },
  hours: { kk: 'Жұмыс уақыты: {h}', ru: 'Часы работы: {h}', en: 'Opening hours: {h}' },
  facilities: { kk: 'Инфрақұрылым', ru: 'Инфраструктура', en: 'Facilities' },
};

// Codes of the kind attributes and the facility words of the parks layer, in three languages.
const WORDS = {
  summer_cinema: { kk: 'жазғы кинотеатр', ru: 'летний кинотеатр', en: 'summer cinema' },
  music: { kk: 'музыкалық алаң', ru: 'музыкальная площадка', en: 'music stage' },
  dance: { kk: 'би алаңы', ru: 'танцевальная площадка', en: 'dance floor' },
  game: { kk: 'ойын алаңы', ru: 'игровая площадка', en: 'game ground' },
  football: { kk: 'футбол', ru: 'футбол', en: 'football' },
  basketball: { kk: 'баскетбол', ru: 'баскетбол', en: 'basketball' },
  workout: { kk: 'воркаут', ru: 'воркаут', en: 'workout' },
  multi_sport: { kk: 'көпфункционалды алаң', ru: 'многофункциональная площадка', en: 'multi-sport ground' },
  hockey: { kk: 'хоккей', ru: 'хоккей', en: 'hockey' },
  volleyball: { kk: 'волейбол', ru: 'волейбол', en: 'volleyball' },
  artificial_turf: { kk: 'жасанды шөп', ru: 'искусственный газон', en: 'artificial turf' },
  rubber: { kk: 'резеңке жабын', ru: 'резиновое покрытие', en: 'rubber surface' },
  asphalt: { kk: 'асфальт', ru: 'асфальт', en: 'asphalt' },
  sand: { kk: 'құм', ru: 'песок', en: 'sand' },
  park: { kk: 'саябақ', ru: 'парк', en: 'park' },
  square: { kk: 'сквер', ru: 'сквер', en: 'square' },
  boulevard: { kk: 'бульвар', ru: 'бульвар', en: 'boulevard' },
  аллеи: { kk: 'аллеялар', ru: 'аллеи', en: 'alleys' },
  аллея: { kk: 'аллея', ru: 'аллея', en: 'alley' },
  фонтан: { kk: 'субұрқақ', ru: 'фонтан', en: 'fountain' },
  скамейки: { kk: 'орындықтар', ru: 'скамейки', en: 'benches' },
  'летний кинотеатр': { kk: 'жазғы кинотеатр', ru: 'летний кинотеатр', en: 'summer cinema' },
  'детский городок': { kk: 'балалар қалашығы', ru: 'детский городок', en: 'children’s play area' },
  велодорожки: { kk: 'велосипед жолдары', ru: 'велодорожки', en: 'cycle paths' },
  спортплощадки: { kk: 'спорт алаңдары', ru: 'спортплощадки', en: 'sports grounds' },
  кафе: { kk: 'кафе', ru: 'кафе', en: 'café' },
  пруд: { kk: 'тоған', ru: 'пруд', en: 'pond' },
  сцена: { kk: 'сахна', ru: 'сцена', en: 'stage' },
  тренажёры: { kk: 'тренажерлер', ru: 'тренажёры', en: 'outdoor gym' },
  'беговые дорожки': { kk: 'жүгіру жолдары', ru: 'беговые дорожки', en: 'running tracks' },
  'колесо обозрения': { kk: 'шолу дөңгелегі', ru: 'колесо обозрения', en: 'Ferris wheel' },
  аттракционы: { kk: 'аттракциондар', ru: 'аттракционы', en: 'rides' },
  клумбы: { kk: 'гүлзарлар', ru: 'клумбы', en: 'flower beds' },
  освещение: { kk: 'жарықтандыру', ru: 'освещение', en: 'lighting' },
};

export const HOURS_LAYERS = ['parks', 'sports_grounds', 'leisure_places', 'biotoilets', 'pharmacies', 'playgrounds'];
const KINDS = ['summer_cinema', 'music', 'dance', 'game'];
const DISTANCES = [500, 1000, 2000];

const word = (w, L) => WORDS[String(w).trim().toLowerCase()]?.[L] ?? String(w).trim();

let ctx = null;
let ui = null;
let last = null;
let drawHexes = null;

/** hoursLine renders "Open now · until 22:00" for an opening-hours text. */
function hoursLine(text, L) {
  const parsed = parseHours(text);
  const st = openState(parsed, cityClock(new Date(), CITY_TZ));
  if (!st) return h('p', { class: 'mod-meta', dataset: { open: 'unknown' } }, tr(S, L, 'hours', { h: text }));
  let detail;
  if (st.always) detail = tr(S, L, 'always');
  else if (st.open) detail = `${tr(S, L, 'openNow')} · ${tr(S, L, 'until', { t: st.until })}`;
  else detail = `${tr(S, L, 'closedNow')} · ${st.opens ? tr(S, L, 'opens', { t: st.opens }) : tr(S, L, 'notToday')}`;
  return h('p', { class: `mod-hours ${st.open ? 'mod-good' : 'mod-closed'}`, dataset: { open: String(st.open) } }, detail);
}

function placePopup(f, L) {
  const p = f.properties || {};
  const parts = [];
  if (p.kind && WORDS[p.kind]) parts.push(h('p', { class: 'mod-kind' }, word(p.kind, L) + (p.surface && WORDS[p.surface] ? ` · ${word(p.surface, L)}` : '')));
  if (p.hours) parts.push(hoursLine(p.hours, L));
  if (p.facilities) {
    const items = String(p.facilities).split(/\s*[,;]\s*/).filter(Boolean);
    parts.push(h('div', { class: 'mod-facilities' }, h('span', { class: 'mod-meta' }, `${tr(S, L, 'facilities')}:`),
      h('ul', { class: 'mod-chips' }, items.map((w) => h('li', {}, word(w, L))))));
  }
  return parts.length ? h('div', { class: 'mod-popup', dataset: { module: 'leisure' } }, parts) : null;
}

// ---------------------------------------------------------------- gap map

async function showGaps() {
  const L = ctx.lang();
  const distance = ui.distance.value;
  const kind = ui.kind.value;
  const q = new URLSearchParams({ layer: 'leisure_places', distance });
  if (kind) q.set('filter', `kind:${kind}`);
  ui.status.textContent = tr(S, L, 'loading');
  clear(ui.result);
  try {
    const r = await getJSON(`/api/analysis/coverage?${q}`);
    last = r;
    ui.status.textContent = '';
    drawHexes(r.unserved_hexes);
    renderResult();
  } catch (err) {
    ui.status.textContent = tr(S, L, 'failed', { msg: err.message });
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
    h('p', { class: 'mod-verdict', dataset: { share: String(r.covered_share) } }, tr(S, L, 'covered', {
      p: `${formatNumber(Math.round(r.covered_share * 1000) / 10, L)} %`,
      d: tr(S, L, 'metres', { n: formatNumber(r.distance, L) }),
      n: formatNumber(n, L),
      h: formatNumber(r.unserved_hexes?.features?.length || 0, L),
    })),
    h('p', { class: 'mod-meta mod-legend' }, h('span', { class: 'mod-ramp', 'aria-hidden': 'true' }), tr(S, L, 'legend')),
    h('button', { type: 'button', class: 'link-btn', onclick: clearGaps }, tr(S, L, 'clear')));
}

function renderTexts() {
  const L = ctx.lang();
  ui.sec.title.textContent = tr(S, L, 'title');
  ui.intro.textContent = tr(S, L, 'intro');
  ui.kindLabel.textContent = tr(S, L, 'kind');
  ui.distLabel.textContent = tr(S, L, 'distance');
  const kind = ui.kind.value;
  clear(ui.kind).append(h('option', { value: '' }, tr(S, L, 'anyKind')), ...KINDS.map((k) => h('option', { value: k }, word(k, L))));
  ui.kind.value = kind;
  const dist = ui.distance.value || '1000';
  clear(ui.distance).append(...DISTANCES.map((d) => h('option', { value: String(d) }, tr(S, L, 'metres', { n: formatNumber(d, L) }))));
  ui.distance.value = dist;
  ui.show.textContent = tr(S, L, 'show');
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
