// The street-lighting energy audit on the map (layers/modules/lighting.go, docs/modules.md §1).
// The lights themselves are the catalog layer street_lights, styled by the catalog (migration
// 0101): colour by lamp type and size by power, both keyed here (the colours read from the
// layer's style, so that a restyled layer keeps its key right).
// This section switches them on, explains the sizes and links the printable audit and its CSV;
// a light's popup adds its own consumption. Nothing is fetched until the resident asks.
import { h, s } from '../dom.js';
import { register } from '../extensions.js';
import { formatNumber, t } from '../i18n.js';
import { legendEntries, swatch } from '../mapstyle.js';
import './lighting.css';

const SLUG = 'street_lights';
const MIN_ZOOM = 13; // the layer's min_zoom in the catalog

const P = { ctx: null, ui: {} };

// The dot sizes of migration 0101 at zoom 18: 50 W → 4 px, 400 W → 10 px radius.
const SIZES = [[50, 4], [150, 5.7], [400, 10]];

/** lampName names a lamp type code of the layer (LED, HPS, MH, MV) in the map's language. */
function lampName(code) {
  const key = `lighting.lamp.${code}`;
  const name = t(key);
  return name === key ? code : name;
}

function render() {
  const { ui } = P;
  const L = P.ctx.lang();
  const on = P.ctx.visible(SLUG);
  ui.title.textContent = t('lighting.title');
  ui.intro.textContent = t('lighting.intro');
  ui.toggle.textContent = t(on ? 'lighting.hide' : 'lighting.show');
  ui.toggle.setAttribute('aria-pressed', String(on));
  ui.sizes.replaceChildren(h('span', { class: 'lighting-sizes-title' }, `${t('lighting.sizes')}:`),
    ...SIZES.map(([w, r]) => h('span', { class: 'lighting-size' },
      s('svg', { width: 24, height: 24, viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false' },
        s('circle', { cx: 12, cy: 12, r, fill: '#9e9e9e', stroke: '#5f5f5f', 'stroke-width': 1 })),
      t('lighting.watt', { n: w }))));
  // The colour key: the lamp types of the style's match expression, named in the map's language.
  const leg = legendEntries(P.ctx.layer(SLUG));
  ui.colours.replaceChildren(h('span', { class: 'lighting-sizes-title' }, `${t('lighting.colours')}:`),
    ...leg.entries.map((e) => h('span', { class: 'lighting-size lighting-colour', dataset: { lamp: e.other ? 'other' : e.label, color: e.color } },
      swatch('circle', leg.paint, e.color), e.other ? t('value.other') : lampName(e.label))));
  ui.report.textContent = t('lighting.report');
  ui.report.href = `/lighting/audit?lang=${L}`;
  ui.csv.textContent = t('lighting.csv');
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
    ui.sizes = h('p', { class: 'lighting-sizes', id: 'lighting-power' });
    ui.colours = h('p', { class: 'lighting-sizes', id: 'lighting-colours' });
    ui.report = h('a', { id: 'lighting-report', class: 'lighting-link' });
    ui.csv = h('a', { id: 'lighting-csv', class: 'lighting-link', download: 'street-lighting-audit.csv' });
    ui.section = h('section', { class: 'card lighting', 'aria-labelledby': 'lighting-title' },
      ui.title, ui.intro, ui.toggle, ui.colours, ui.sizes, h('p', { class: 'lighting-links' }, ui.report, ' · ', ui.csv));
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
        ? [t('lighting.kwh', { n: formatNumber(w * hours / 1000, L, { maximumFractionDigits: 1 }) }), ' · '] : null,
      h('a', { href: `/lighting/audit?lang=${L}` }, t('lighting.audit')));
  },
  lang() { if (P.ui.section) render(); },
  layerVisible(ctx, slug) { if (slug === SLUG && P.ui.section) render(); },
});
