// Shared pieces of the city modules' map extensions (outages, access, clinic, school, leisure):
// JSON requests with the API's error message, the city's time
// zone, an address box that goes through the portal's search, one "pick a point on the map" at a
// time, and GeoJSON overlays drawn above the catalog layers.
import { h, clear } from '../dom.js';
import { t } from '../i18n.js';
import { formatDate, formatDistance } from '../format.js';
import { register, whenStyleReady } from '../extensions.js';
import './modules.css';


/** getJSON fetches url; a refusal throws an Error with the API's message and .status. */
export async function getJSON(url, opts) {
  const res = await fetch(url, opts);
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) {
    const err = new Error(body?.error?.message || `${res.status} ${res.statusText}`);
    err.status = res.status;
    throw err;
  }
  return body;
}

/** formatTime shows a timestamp on the city's clock (format.js). */
export function formatTime(v, lang) {
  if (Number.isNaN(new Date(v).getTime())) return '';
  return formatDate(v, lang, { time: true });
}

export function formatMetres(m, lang) {
  return formatDistance(m, lang);
}

const narrow = () => window.matchMedia('(max-width: 720px)').matches;

/** closeSheet folds the phone's panel away so the map can be clicked. */
export function closeSheet() {
  if (narrow() && document.body.classList.contains('sheet-open')) document.querySelector('.sheet-toggle')?.click();
}

/** reveal brings an answer into view: on a phone it opens the panel again. */
export function reveal(el) {
  if (narrow() && !document.body.classList.contains('sheet-open')) document.querySelector('.sheet-toggle')?.click();
  el.scrollIntoView?.({ block: 'nearest' });
}

/**
 * locate turns a typed address into a point through the portal's search (/api/search),
 * preferring a building; throws with .notFound when nothing matches.
 */
export async function locate(q, lang) {
  const body = await getJSON(`/api/search?${new URLSearchParams({ q, lang, limit: '10' })}`);
  const hits = body.results || [];
  const hit = hits.find((x) => x.layer === 'buildings') || hits[0];
  if (!hit) {
    const err = new Error('not found');
    err.notFound = true;
    throw err;
  }
  return { lon: hit.point[0], lat: hit.point[1], label: hit.address || hit.name || '' };
}

// ---------------------------------------------------------------- picking a point

let picking = null; // { owner, onPick, button }
let banner = null;
let bannerText = null;
let ctxRef = null;

function renderBanner() {
  if (!banner || !ctxRef) return;
  bannerText.textContent = t('modules.pickHint');
  banner.querySelector('button').textContent = t('modules.cancel');
}

/** cancelPick stops a pending pick (Escape, the banner's button, or another pick starting). */
export function cancelPick() {
  if (!picking) return;
  picking.button?.setAttribute('aria-pressed', 'false');
  picking = null;
  if (banner) banner.hidden = true;
  ctxRef?.map?.getContainer().classList.remove('mod-picking');
}

/** startPick makes the next map click a point for owner: onPick({lon, lat}, e). */
export function startPick(ctx, owner, button, onPick) {
  const again = picking?.owner === owner;
  cancelPick();
  if (again) return; // the same button pressed twice: stop picking
  picking = { owner, onPick, button };
  button?.setAttribute('aria-pressed', 'true');
  if (!banner) {
    bannerText = h('span', {});
    banner = h('div', { class: 'mod-pick-banner', role: 'status' }, bannerText,
      h('button', { type: 'button', class: 'btn btn-secondary', onclick: cancelPick }));
    document.querySelector('.mapwrap')?.append(banner);
  }
  renderBanner();
  banner.hidden = false;
  ctx.map.getContainer().classList.add('mod-picking');
  closeSheet();
}

document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && picking) cancelPick(); });

// The picking runs as an extension of its own, registered before the modules that use it.
register({
  name: 'modules-pick',
  init(ctx) { ctxRef = ctx; },
  mapClick(ctx, e) {
    if (!picking) return false;
    const p = picking;
    cancelPick();
    p.onPick({ lon: e.lngLat.lng, lat: e.lngLat.lat }, e);
    return true;
  },
  lang() { renderBanner(); },
});

// ---------------------------------------------------------------- the address box

/**
 * finder builds the shared "address or point on the map" form of a panel section. onPoint gets
 * {lon, lat, label} (label: the address found, or '' for a clicked point). Returns
 * {form, status, result, render(lang)}; status is the live region, result holds the answer.
 */
export function finder(ctx, { id, submitKey = 'modules.check', onPoint }) {
  const label = h('label', { for: `${id}-address` });
  const input = h('input', { id: `${id}-address`, type: 'search', autocomplete: 'street-address', maxlength: 100, spellcheck: 'false' });
  const submit = h('button', { type: 'submit', class: 'btn' });
  const pick = h('button', { type: 'button', class: 'btn btn-secondary', 'aria-pressed': 'false', dataset: { pick: id } });
  const status = h('p', { class: 'mod-status', role: 'status', 'aria-live': 'polite' });
  const result = h('div', { class: 'mod-result' });
  let busy = 0;
  const run = async (fn) => {
    const n = ++busy;
    status.textContent = t('modules.searching');
    clear(result);
    try {
      const p = await fn();
      if (n !== busy) return;
      status.textContent = '';
      await onPoint(p, { status, result });
    } catch (err) {
      if (n !== busy) return;
      status.textContent = err.notFound ? t('modules.notFound', { q: input.value.trim() }) : t('modules.failed', { msg: err.message });
    }
    reveal(status);
  };
  const form = h('form', { class: 'mod-form', onsubmit: (e) => {
    e.preventDefault();
    const q = input.value.trim();
    if (!q) { status.textContent = t('modules.emptyAddress'); input.focus(); return; }
    run(async () => ({ ...(await locate(q, ctx.lang())) }));
  } },
  h('div', { class: 'field' }, label, h('div', { class: 'mod-inline' }, input, submit)),
  h('div', { class: 'btn-row' }, pick));
  pick.addEventListener('click', () => startPick(ctx, id, pick, (p) => run(async () => ({ ...p, label: '' }))));
  const render = () => {
    label.textContent = t('modules.address');
    input.placeholder = t('modules.addressHint');
    submit.textContent = t(submitKey);
    pick.textContent = t('modules.pick');
  };
  return { form, status, result, input, render, run };
}

// ---------------------------------------------------------------- overlays

/** whenReady runs fn once the map's style (with the catalog layers) is loaded. */
export function whenReady(map, fn) {
  whenStyleReady(map, fn);
}

const EMPTY = { type: 'FeatureCollection', features: [] };

/**
 * overlay adds a GeoJSON source id with the given layers (ids prefixed by the source id) above
 * the catalog layers; returns set(geojson) to change what it draws (null clears it).
 */
export function overlay(map, id, layers) {
  let pending = EMPTY;
  let ready = false;
  whenReady(map, () => {
    if (!map.getSource(id)) {
      map.addSource(id, { type: 'geojson', data: pending });
      for (const l of layers) map.addLayer({ ...l, id: `${id}-${l.id}`, source: id });
    }
    ready = true;
  });
  return (data) => {
    pending = data || EMPTY;
    if (ready) map.getSource(id)?.setData(pending);
  };
}

/** bboxOf returns [[w, s], [e, n]] of GeoJSON geometries and [lon, lat] points. */
export function bboxOf(...things) {
  let w = Infinity; let s = Infinity; let e = -Infinity; let n = -Infinity;
  const add = (c) => {
    if (typeof c[0] === 'number') {
      w = Math.min(w, c[0]); e = Math.max(e, c[0]); s = Math.min(s, c[1]); n = Math.max(n, c[1]);
    } else for (const x of c) add(x);
  };
  for (const t of things) {
    if (!t) continue;
    if (Array.isArray(t)) add(t);
    else if (t.coordinates) add(t.coordinates);
  }
  return Number.isFinite(w) ? [[w, s], [e, n]] : null;
}

export function fitTo(map, box) {
  if (!box) return;
  const pad = narrow() ? { top: 140, bottom: 80, left: 30, right: 30 } : 60;
  const reduce = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  map.fitBounds(box, { padding: pad, maxZoom: 16.5, duration: reduce ? 0 : 600 });
}

/**
 * section builds a folding panel card: a heading whose button opens the body. Returns
 * {el, title (the heading's text span), open(on)}.
 */
export function section(id, ...children) {
  const title = h('span', {});
  const toggle = h('button', { type: 'button', class: 'mod-toggle', 'aria-expanded': 'false', 'aria-controls': `${id}-body` }, title);
  const body = h('div', { id: `${id}-body`, class: 'mod-body', hidden: true }, ...children);
  const open = (on) => {
    body.hidden = !on;
    toggle.setAttribute('aria-expanded', String(on));
  };
  toggle.addEventListener('click', () => open(body.hidden));
  const el = h('section', { class: 'card mod-card', id, 'aria-labelledby': `${id}-title` }, h('h2', { id: `${id}-title` }, toggle), body);
  return { el, title, open };
}
