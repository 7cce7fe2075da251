// The street-lighting energy audit on the map (layers/modules/lighting.go, docs/modules.md §1).
// The lights themselves are the catalog layer street_lights, styled by the catalog (migration
// 0101): colour by lamp type (in the layer list's legend) and size by power (the legend here).
// This section switches them on, explains the sizes and links the printable audit and its CSV;
// a light's popup adds its own consumption. Nothing is fetched until the resident asks.
import { h, s } from '../dom.js';
import { register } from '../extensions.js';
import { formatNumber } from '../i18n.js';
import './lighting.css';

const SLUG = 'street_lights';
const MIN_ZOOM = 13; // the layer's min_zoom in the catalog

const TEXT = {
  title: { kk: 'Көше жарығының энергоаудиті', ru: 'Энергоаудит уличного освещения', en: 'Street-lighting energy audit' },
  intro: {
    kk: 'Шамдар қуаты бойынша: неғұрлым үлкен болса, соғұрлым қуатты. Түсі — шам түрі.',
    ru: 'Светильники по мощности: чем крупнее кружок, тем мощнее лампа. Цвет — тип лампы.',
    en: 'Lights by power: the bigger the dot, the more powerful the lamp. The colour is the lamp type.',
  },
  show: { kk: 'Шамдарды картада көрсету', ru: 'Показать светильники на карте', en: 'Show the lights on the map' },
  hide: { kk: 'Шамдарды жасыру', ru: 'Скрыть светильники', en: 'Hide the lights' },
  sizes: { kk: 'Қуаты', ru: 'Мощность', en: 'Power' },
  watt: { kk: '{n} Вт', ru: '{n} Вт', en: '{n} W' },
  report: { kk: 'Аудандар бойынша есеп (басып шығаруға)', ru: 'Отчёт по районам (для печати)', en: 'Report by district (printable)' },
  csv: { kk: 'CSV жүктеу', ru: 'Скачать CSV', en: 'Download CSV' },
  kwh: { kk: 'Жылына {n} кВт·сағ', ru: '{n} кВт·ч в год', en: '{n} kWh a year' },
  audit: { kk: 'Энергоаудит', ru: 'Энергоаудит', en: 'Energy audit' },
};

const P = { ctx: null, ui: {} };
const tx = (key, vars) => {
  let out = TEXT[key][P.ctx?.lang() || 'ru'] ?? TEXT[key].ru;
  for (const [k, v] of Object.entries(vars || {})) out = out.replaceAll(`{${k}}`, String(v));
  return out;
};

// The dot sizes of migration 0101 at zoom 18: 50 W → 4 px, 400 W → 10 px radius.
const SIZES = [[50, 4], [150, 5.7], [400, 10]];

function render() {
  const { ui } = P;
  const L = P.ctx.lang();
  const on = P.ctx.visible(SLUG);
  ui.title.textContent = tx('title');
  ui.intro.textContent = tx('intro');
  ui.toggle.textContent = tx(on ? 'hide' : 'show');
  ui.toggle.setAttribute('aria-pressed', String(on));
  ui.sizes.replaceChildren(h('span', { class: 'lighting-sizes-title' }, `${tx('sizes')}:`),
    ...SIZES.map(([w, r]) => h('span', { class: 'lighting-size' },
      s('svg', { width: 24, height: 24, viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false' },
        s('circle', { cx: 12, cy: 12, r, fill: '#9e9e9e', stroke: '#5f5f5f', 'stroke-width': 1 })),
      tx('watt', { n: w }))));
  ui.report.textContent = tx('report');
  ui.report.href = `/lighting/audit?lang=${L}`;
  ui.csv.textContent = tx('csv');
  ui.csv.href = `/api/modules/lighting/audit.csv?lang=${L}`;
}

register({
  name: 'lighting',
  panel(ctx) {
    P.ctx = ctx;
    const ui = P.ui;
    if (!ctx.layer(SLUG)) return null;
    ui.title = h('h2', { id: 'lighting-title' });
    ui.intro = h('p', { class: 'lighting-intro' });
    ui.toggle = h('button', { type: 'button', id: 'lighting-toggle', class: 'btn btn-secondary', onclick: () => {
      const on = !ctx.visible(SLUG);
      ctx.setLayerVisible(SLUG, on);
      if (on && ctx.map && ctx.map.getZoom() < MIN_ZOOM) ctx.map.easeTo({ zoom: MIN_ZOOM + 0.5, duration: 0 });
    } });
    ui.sizes = h('p', { class: 'lighting-sizes' });
    ui.report = h('a', { id: 'lighting-report', class: 'lighting-link' });
    ui.csv = h('a', { id: 'lighting-csv', class: 'lighting-link', download: 'street-lighting-audit.csv' });
    ui.section = h('section', { class: 'card lighting', 'aria-labelledby': 'lighting-title' },
      ui.title, ui.intro, ui.toggle, ui.sizes, h('p', { class: 'lighting-links' }, ui.report, ' · ', ui.csv));
    render();
    return ui.section;
  },
  popup(ctx, f) {
    if (f.layer !== SLUG) return null;
    const w = Number(f.properties.power_w);
    const hours = Number(f.properties.hours_per_year);
    const L = ctx.lang();
    return h('p', { class: 'lighting-popup' },
      Number.isFinite(w) && Number.isFinite(hours) && w > 0 && hours > 0
        ? [tx('kwh', { n: formatNumber(w * hours / 1000, L, { maximumFractionDigits: 1 }) }), ' · '] : null,
      h('a', { href: `/lighting/audit?lang=${L}` }, tx('audit')));
  },
  lang() { if (P.ui.section) render(); },
  layerVisible(ctx, slug) { if (slug === SLUG && P.ui.section) render(); },
});
