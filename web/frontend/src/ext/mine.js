// "Find my clinic" / "find my school": an address or a point on the map → the facility whose
// attachment area holds it (/api/modules/{clinics|schools}/mine), with that area highlighted and
// the facility marked. clinic.js and school.js register one each.
import { h, clear } from '../dom.js';
import { register } from '../extensions.js';
import { t } from '../i18n.js';
import { getJSON, finder, section, overlay, bboxOf, fitTo, formatMetres } from './modkit.js';

/**
 * mineExtension registers one "find my …" panel section.
 * opts: name, kind ('clinic' | 'school'), api, areas (layer slug), facilities (layer slug),
 * color and optional extra(ctx, facility) → Node. Its words are the catalog's <name>.title,
 * <name>.intro and <name>.answer.
 */
export function mineExtension(opts) {
  let ctx = null;
  let ui = null;
  let last = null;
  let draw = null;

  function renderAnswer() {
    if (!ui) return;
    clear(ui.f.result);
    if (!last) return;
    const L = ctx.lang();
    const fac = last.facility;
    ui.f.result.append(
      h('p', { class: 'mod-verdict mod-good' }, t(`${opts.name}.answer`)),
      h('p', { class: 'mod-facility', dataset: { id: String(fac.id) } },
        h('strong', { class: 'mod-facility-name' }, fac.name || `#${fac.id}`),
        fac.address ? h('span', { class: 'mod-meta' }, fac.address) : null),
      h('p', { class: 'mod-meta' }, t('mine.distance', { d: formatMetres(fac.distance_m, L) }),
        last.label ? ` · ${t('modules.found', { a: last.label })}` : ''),
      h('p', { class: 'mod-meta' }, t('mine.areaNote')),
      h('button', { type: 'button', class: 'link-btn', onclick: clearAnswer }, t('mine.clear')));
  }

  function clearAnswer() {
    last = null;
    draw(null);
    renderAnswer();
    ui.f.status.textContent = '';
  }

  async function find(p) {
    const q = new URLSearchParams({ lon: p.lon.toFixed(6), lat: p.lat.toFixed(6) });
    let body;
    try {
      body = await getJSON(`${opts.api}?${q}`);
    } catch (err) {
      if (err.status === 404) {
        last = null;
        draw(null);
        renderAnswer();
        ui.f.status.textContent = t('mine.outside');
        return;
      }
      throw err;
    }
    const fac = body[opts.kind];
    last = { facility: fac, label: p.label, from: [p.lon, p.lat] };
    draw({ type: 'FeatureCollection', features: [
      { type: 'Feature', geometry: fac.area, properties: { role: 'area' } },
      { type: 'Feature', geometry: { type: 'Point', coordinates: [fac.lon, fac.lat] }, properties: { role: 'facility' } },
      { type: 'Feature', geometry: { type: 'Point', coordinates: [p.lon, p.lat] }, properties: { role: 'from' } },
    ] });
    if (ctx.layer(opts.facilities) && !ctx.visible(opts.facilities)) ctx.setLayerVisible(opts.facilities, true);
    renderAnswer();
    fitTo(ctx.map, bboxOf(fac.area, [p.lon, p.lat], [fac.lon, fac.lat]));
  }

  function renderTexts() {
    ui.sec.title.textContent = t(`${opts.name}.title`);
    ui.intro.textContent = t(`${opts.name}.intro`);
    ui.f.render();
    renderAnswer();
  }

  const isPoint = ['==', ['geometry-type'], 'Point'];
  register({
    name: opts.name,
    init(c) {
      ctx = c;
      draw = overlay(c.map, `mod-${opts.name}`, [
        { id: 'fill', type: 'fill', filter: ['==', ['get', 'role'], 'area'], paint: { 'fill-color': opts.color, 'fill-opacity': 0.16 } },
        { id: 'line', type: 'line', filter: ['==', ['get', 'role'], 'area'], paint: { 'line-color': opts.color, 'line-width': 3 } },
        { id: 'pt', type: 'circle', filter: ['all', isPoint, ['==', ['get', 'role'], 'facility']],
          paint: { 'circle-radius': 9, 'circle-color': opts.color, 'circle-stroke-color': '#fff', 'circle-stroke-width': 3 } },
        { id: 'from', type: 'circle', filter: ['all', isPoint, ['==', ['get', 'role'], 'from']],
          paint: { 'circle-radius': 6, 'circle-color': '#0b2a33', 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } },
      ]);
    },
    panel(c) {
      const f = finder(c, { id: `${opts.name}-find`, submitKey: 'modules.find', onPoint: find });
      const intro = h('p', { class: 'mod-intro' });
      const sec = section(`mod-${opts.name}`, intro, f.form, f.status, f.result);
      ui = { sec, intro, f };
      renderTexts();
      return sec.el;
    },
    popup(c, f, layer) {
      if (f.layer === opts.facilities && opts.extra) return opts.extra(c, f, layer);
      return null;
    },
    lang() { if (ui) renderTexts(); },
  });
}
