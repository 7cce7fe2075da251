// Residents' side of citizen reports: "Report a problem" (pin, category, answers, photos, proof of
// work), "this is my problem too" instead of a duplicate, and the private follow link (#report/<secret>).
// Every piece of data goes into the page as text (dom.js h()), never as HTML.
import * as maplibregl from 'maplibre-gl';
import './report.css';

import { h, clear } from './dom.js';
import { LOCALES, t, has, pick, formatDistance } from './i18n.js';
import { formatDate } from './format.js';
import { solve } from './pow.js';

const MAX_PHOTOS = 3;
const DEVICE_KEY = 'geoportal.device';
const LAYER = 'citizen_reports';

/** statusName names a report status in the current language (an unknown one as it is). */
export function statusName(st) {
  return has(`report.status.${st}`) ? t(`report.status.${st}`) : st;
}

function deviceID() {
  try {
    let id = localStorage.getItem(DEVICE_KEY);
    if (!id) {
      id = crypto.randomUUID();
      localStorage.setItem(DEVICE_KEY, id);
    }
    return id;
  } catch {
    return '';
  }
}

async function apiJSON(url, opts) {
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

// ---------------------------------------------------------------- state

const R = {
  map: null,
  view: null, // 'form' | 'done' | 'follow' | null (closed)
  services: null,
  values: { service: '', description: '', address: '', first_name: '', last_name: '', email: '', phone: '', attrs: {} },
  files: [],
  pin: null,
  place: null, // the pin's address from /api/reverse: { pin, lang, text, distance, kind } or { pin, lang, loading } or { pin, lang, none }
  marker: null,
  nearby: [],
  supported: new Map(), // report id → support count after our +1
  supporting: new Set(), // report ids whose support is being sent (proof of work first)
  busy: false,
  progress: '',
  error: '',
  locStatus: '',
  created: null,
  follow: null, // { secret, data, error }
  confirm: {}, // channel → { code, msg, error, busy } of the "confirm your contact" blocks
  confirmLink: null, // { secret, result, error } of a #confirm/<secret> link
};

const ui = {};
// The address as the page opened, before the map writes its own view into it.
const START_HASH = window.location.hash;
const lang = () => document.documentElement.lang || 'ru';

function mapWrap() {
  return document.querySelector('.mapwrap') || document.body;
}

/**
 * initReports adds the "Report a problem" button and panel to the map page and opens a follow link
 * (#report/<secret>) given as the page's address or later.
 */
export function initReports(map, initialHash = START_HASH) {
  R.map = map;
  ui.open = h('button', { type: 'button', class: 'report-open', onclick: () => openForm() });
  ui.panel = h('section', { class: 'report-panel', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'report-title', hidden: true });
  ui.panel.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.stopPropagation(); closePanel(); } });
  mapWrap().append(ui.open);
  document.querySelector('.app')?.append(ui.panel) ?? document.body.append(ui.panel);
  renderButton();
  new MutationObserver(() => { renderButton(); render(); }).observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
  const fromHash = (hash) => {
    const m = /^#report\/([A-Za-z0-9_-]{8,200})$/.exec(hash || '');
    if (m) openFollow(m[1]);
    const c = /^#confirm\/([A-Za-z0-9_-]{8,200})$/.exec(hash || '');
    if (c) openConfirmLink(c[1]);
  };
  fromHash(initialHash);
  window.addEventListener('hashchange', () => fromHash(window.location.hash));
}

/** reportMapClick takes a map click while the report form is open: it sets the pin. */
export function reportMapClick(e) {
  if (R.view !== 'form' || R.busy) return false;
  setPin([e.lngLat.lng, e.lngLat.lat]);
  return true;
}

function renderButton() {
  ui.open.textContent = t('report.reportProblem');
  ui.open.hidden = R.view !== null;
}

async function loadServices() {
  if (R.services) return;
  try {
    R.services = (await apiJSON('/api/reports/services')).services || [];
  } catch {
    R.error = t('report.loadError');
  }
}

async function openForm() {
  R.view = 'form';
  R.error = '';
  renderButton();
  render();
  focusTitle();
  await loadServices();
  render();
}

// followingReport tells the map not to overwrite a #report/<secret> address with its view while
// the reporter's "My report" panel is open, so that the private link survives a reload.
export function followingReport() {
  return R.view === 'follow' && window.location.hash.startsWith('#report/');
}

function closePanel() {
  if (window.location.hash.startsWith('#report/') || window.location.hash.startsWith('#confirm/')) {
    history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  R.view = null;
  ui.panel.hidden = true;
  document.body.classList.remove('report-active');
  if (R.marker) R.marker.remove();
  renderButton();
  ui.open.focus();
}

function focusTitle() {
  ui.panel.querySelector('#report-title')?.focus();
}

function setPin(p, opts = {}) {
  R.pin = [Number(p[0].toFixed(6)), Number(p[1].toFixed(6))];
  if (!R.marker) {
    const el = h('div', { class: 'report-pin', role: 'img' });
    R.marker = new maplibregl.Marker({ element: el, draggable: true, anchor: 'bottom' });
    R.marker.on('dragend', () => { const ll = R.marker.getLngLat(); setPin([ll.lng, ll.lat]); });
  }
  R.marker.getElement().setAttribute('aria-label', t('report.place'));
  R.marker.setLngLat(R.pin).addTo(R.map);
  R.error = '';
  lookupPlace();
  render();
  revealPin(opts);
  loadNearby();
}

// lookupPlace asks for the address of the pin in the page's language: a place reads as a place,
// its coordinates as a secondary detail. The answer for an older pin or language is dropped.
let placeSeq = 0;
async function lookupPlace() {
  const seq = ++placeSeq;
  const pin = R.pin;
  const L = lang();
  if (!pin) { R.place = null; return; }
  R.place = { pin, lang: L, loading: true };
  const q = new URLSearchParams({ lon: String(pin[0]), lat: String(pin[1]), lang: L });
  let place = { pin, lang: L, none: true };
  try {
    const body = await apiJSON(`/api/reverse?${q}`);
    const p = body.place;
    place = { pin, lang: L, text: p.address, distance: p.distance_m, kind: p.kind };
  } catch { /* nothing named near, or the lookup failed: the coordinates stay */ }
  if (seq !== placeSeq) return;
  R.place = place;
  render();
}

/** placeShown is the pin's address for the form, in the page's language ("" while unknown). */
function placeShown(L) {
  const p = R.place;
  if (!R.pin || !p || p.pin !== R.pin) return '';
  if (p.lang !== L && !p.loading) { lookupPlace(); return ''; }
  if (!p.text) return '';
  if (p.kind === 'place' && p.distance >= 50) {
    return t('report.pinnedNear', { place: p.text, distance: formatDistance(p.distance) });
  }
  return t('report.pinnedAt', { place: p.text });
}

// revealPin moves the map so that the pin stands in the part of the map the panel leaves free: on
// a phone the panel is a bottom sheet over the lower 60 % of the screen, where "My location" and
// "Map centre" would otherwise put the pin. The pin (anchored at its foot, 40 px tall) is eased to
// the middle of the strip above the sheet; a pin already in view stays where it is.
const PIN_H = 40;
function revealPin({ zoom } = {}) {
  if (!R.map || !R.pin || ui.panel.hidden) return;
  const box = R.map.getContainer().getBoundingClientRect();
  const sheet = ui.panel.getBoundingClientRect();
  const bottomSheet = sheet.width >= box.width - 2 && sheet.top > box.top;
  const free = bottomSheet ? sheet.top - box.top : box.height;
  const p = R.map.project(R.pin);
  const px = p.x + box.left;
  const py = p.y + box.top;
  const underPanel = !bottomSheet && px + 15 > sheet.left && px - 15 < sheet.right && py > sheet.top && py - PIN_H < sheet.bottom;
  const visible = p.y - PIN_H >= 8 && p.y <= free - 8 && p.x >= 0 && p.x <= box.width && !underPanel;
  if (visible && zoom === undefined) return;
  const y = Math.max(PIN_H + 8, free / 2 + PIN_H / 2);
  // beside a side panel: the middle of the map to its right
  const x = !bottomSheet && sheet.right < box.right - 60 ? (sheet.right - box.left + box.width) / 2 : box.width / 2;
  const opts = { center: R.pin, offset: [x - box.width / 2, y - box.height / 2] };
  if (zoom !== undefined) opts.zoom = zoom;
  R.map.easeTo(opts);
}

function useMyLocation() {
  if (!navigator.geolocation) { R.locStatus = t('report.geolocationFailed'); render(); return; }
  R.locStatus = t('report.locating');
  render();
  navigator.geolocation.getCurrentPosition((pos) => {
    R.locStatus = '';
    setPin([pos.coords.longitude, pos.coords.latitude], { zoom: Math.max(R.map.getZoom(), 16) });
  }, () => { R.locStatus = t('report.geolocationFailed'); render(); },
  { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
}

let nearbySeq = 0;
async function loadNearby() {
  const seq = ++nearbySeq;
  if (!R.pin || !R.values.service) { R.nearby = []; render(); return; }
  const q = new URLSearchParams({ service_code: R.values.service, lon: String(R.pin[0]), lat: String(R.pin[1]), radius: '150' });
  try {
    const body = await apiJSON(`/api/reports/nearby?${q}`);
    if (seq !== nearbySeq) return;
    R.nearby = body.reports || [];
  } catch {
    if (seq !== nearbySeq) return;
    R.nearby = [];
  }
  render();
}

// support adds "this is my problem too": like a report, it pays with a proof of work (the
// server refuses support without one, so rotating device ids costs work).
async function support(rep) {
  if (R.supporting.has(rep.id)) return;
  R.supporting.add(rep.id);
  render();
  try {
    const ch = await apiJSON('/api/reports/challenge', { cache: 'no-store' });
    const nonce = await solve(ch.challenge, ch.difficulty);
    const body = await apiJSON(`/api/reports/${rep.id}/support`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ device_id: deviceID(), pow_challenge: ch.challenge, pow_nonce: nonce }),
    });
    R.supported.set(rep.id, body.support_count);
    R.error = '';
  } catch (err) {
    R.error = t('report.failed', { msg: err.message });
  } finally {
    R.supporting.delete(rep.id);
  }
  render();
  ui.panel.querySelector(`[data-nearby="${rep.id}"] .report-metoo-done`)?.focus();
}

function service() {
  return R.services?.find((s) => s.code === R.values.service) || null;
}

// ---------------------------------------------------------------- submit

async function submit(e) {
  e.preventDefault();
  if (R.busy) return;
  const sv = service();
  R.error = !R.pin ? t('report.needPin') : !sv ? t('report.needCategory')
    : !R.values.description.trim() && !R.files.length ? t('report.needText') : '';
  if (R.error) { render(); ui.panel.querySelector('.report-error')?.focus(); return; }
  R.busy = true;
  R.progress = t('report.checking', { n: '' });
  render();
  try {
    const ch = await apiJSON('/api/reports/challenge', { cache: 'no-store' });
    const nonce = await solve(ch.challenge, ch.difficulty, (n) => {
      R.progress = t('report.checking', { n: `${Math.min(99, Math.round(100 * n / 2 ** ch.difficulty))}%` });
      if (ui.progress) ui.progress.textContent = R.progress;
    });
    R.progress = t('report.sending');
    if (ui.progress) ui.progress.textContent = R.progress;
    const fd = new FormData();
    fd.set('service_code', sv.code);
    fd.set('lon', String(R.pin[0]));
    fd.set('lat', String(R.pin[1]));
    for (const k of ['description', 'address', 'first_name', 'last_name', 'email', 'phone']) {
      if (R.values[k].trim()) fd.set(k, R.values[k].trim());
    }
    for (const a of sv.attributes || []) {
      let v = R.values.attrs[a.code];
      if (Array.isArray(v)) v = v.join(',');
      if (v === undefined || v === '') continue;
      if (a.datatype === 'datetime') {
        const d = new Date(v);
        if (!Number.isNaN(d.getTime())) v = d.toISOString();
      }
      fd.set(`attribute[${a.code}]`, v);
    }
    for (const f of R.files) fd.append('photo', f, f.name);
    fd.set('device_id', deviceID());
    fd.set('pow_challenge', ch.challenge);
    fd.set('pow_nonce', nonce);
    const body = await apiJSON('/api/reports/', { method: 'POST', body: fd });
    R.created = body;
    R.confirm = {};
    R.view = 'done';
    R.values = { service: '', description: '', address: '', first_name: '', last_name: '', email: '', phone: '', attrs: {} };
    R.files = [];
    R.nearby = [];
    if (R.marker) R.marker.remove();
    R.pin = null;
    R.place = null;
    showNewReport();
  } catch (err) {
    R.error = t('report.failed', { msg: err.message });
  } finally {
    R.busy = false;
    R.progress = '';
  }
  render();
  if (R.view === 'done') focusTitle();
  else ui.panel.querySelector('.report-error')?.focus();
}

// showLayer switches the reports layer on (through its own checkbox, so the panel and link agree).
function showLayer() {
  const box = document.querySelector(`input[data-slug="${LAYER}"]`);
  if (box && !box.checked) box.click();
}

// showNewReport switches the reports layer on and refreshes it so the new point appears.
function showNewReport() {
  showLayer();
  const g = window.__geoportal;
  if (g?.refreshLive) g.refreshLive();
}

function followURL(secret) {
  return `${window.location.origin}/#report/${secret}`;
}

async function openFollow(secret) {
  R.view = 'follow';
  R.follow = { secret, data: null, error: '' };
  R.confirm = {};
  renderButton();
  render();
  try {
    R.follow.data = await apiJSON(`/api/reports/follow/${encodeURIComponent(secret)}`, { cache: 'no-store' });
    await loadServices();
    const rep = R.follow.data.report;
    if (R.map && rep) {
      showLayer();
      R.map.jumpTo({ center: [rep.lon, rep.lat], zoom: Math.max(R.map.getZoom(), 15) });
    }
  } catch (err) {
    R.follow.error = err.status === 404 ? t('report.notFound') : t('report.loadError');
  }
  render();
  focusTitle();
}

// ---------------------------------------------------------------- confirming a contact

// openConfirmLink confirms the contact a #confirm/<secret> link was sent to. The page posts the
// secret (a mail scanner that only fetches the link confirms nothing), then forgets the address
// so that a reload does not try again.
async function openConfirmLink(secret) {
  R.view = 'confirm';
  R.confirmLink = { secret, result: null, error: '' };
  renderButton();
  render();
  focusTitle();
  try {
    const body = await apiJSON('/api/reports/confirm', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ link: secret }),
    });
    R.confirmLink.result = body.confirmed;
  } catch (err) {
    R.confirmLink.error = err.status === 404 ? 'linkInvalid' : err.status === 409 ? 'linkUsed'
      : err.status === 429 ? 'tooMany' : err.status === 400 ? 'linkDead' : 'loadError';
  }
  if (window.location.hash.startsWith('#confirm/')) {
    history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  render();
  focusTitle();
}

// contactsShown is the reporter's contacts in the open view ("done" or "My report").
function contactsShown() {
  if (R.view === 'done') return { follow: R.created?.follow, list: R.created?.contacts || [] };
  if (R.view === 'follow') return { follow: R.follow?.secret, list: R.follow?.data?.contacts || [] };
  return { follow: '', list: [] };
}

function confirmState(channel) {
  if (!R.confirm[channel]) R.confirm[channel] = { code: '', msg: '', error: '', busy: false };
  return R.confirm[channel];
}

function confirmError(err) {
  const m = /(\d+) tries left/.exec(err.message || '');
  if (m) return t('report.codeWrong', { n: m[1] });
  if (err.status === 429) return t('report.tooMany');
  return t('report.failed', { msg: err.message });
}

async function confirmCode(e, channel) {
  e.preventDefault();
  const st = confirmState(channel);
  const { follow, list } = contactsShown();
  if (st.busy) return;
  st.msg = '';
  st.error = /^\d{6}$/.test(st.code.trim()) ? '' : t('report.codeFormat');
  if (!st.error) {
    st.busy = true;
    render();
    try {
      await apiJSON('/api/reports/confirm', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ follow, channel, code: st.code.trim() }),
      });
      const c = list.find((x) => x.channel === channel);
      if (c) c.confirmed = true;
    } catch (err) {
      st.error = confirmError(err);
    } finally {
      st.busy = false;
    }
  }
  render();
  const target = ui.panel.querySelector(st.error ? `#report-code-${channel}-error` : `[data-confirmed-channel="${channel}"]`);
  target?.focus();
}

async function resendCode(channel) {
  const st = confirmState(channel);
  const { follow } = contactsShown();
  if (st.busy) return;
  st.busy = true;
  st.error = '';
  st.msg = '';
  render();
  try {
    const body = await apiJSON('/api/reports/confirm/resend', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ follow, channel }),
    });
    st.msg = t('report.resent', { addr: body.sent.address });
  } catch (err) {
    st.error = confirmError(err);
  } finally {
    st.busy = false;
  }
  render();
}

// confirmBlocks shows, for each of the reporter's contacts, "confirmed" or a code form.
function confirmBlocks(L) {
  const { list } = contactsShown();
  return list.map((c) => {
    if (c.confirmed) {
      return h('p', { class: 'report-confirmed', tabindex: '-1', dataset: { confirmedChannel: c.channel } },
        '✓ ', t('report.contactConfirmed', { addr: c.address }));
    }
    const st = confirmState(c.channel);
    const id = `report-code-${c.channel}`;
    const input = h('input', { id, value: st.code, inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 6,
      pattern: '[0-9]{6}', 'aria-describedby': `${id}-hint`, oninput: (e) => { st.code = e.target.value; } });
    if (st.error) input.setAttribute('aria-invalid', 'true');
    return h('section', { class: 'report-confirm', 'aria-labelledby': `${id}-title`, dataset: { channel: c.channel } },
      h('h3', { id: `${id}-title` }, t(c.channel === 'sms' ? 'report.confirmSMSTitle' : 'report.confirmEmailTitle')),
      h('p', { class: 'report-hint', id: `${id}-hint` }, t('report.codeSent', { addr: c.address })),
      h('form', { class: 'report-code-row', novalidate: true, onsubmit: (e) => confirmCode(e, c.channel) },
        h('label', { for: id }, t(c.channel === 'sms' ? 'report.codeSMS' : 'report.codeEmail')),
        input,
        h('button', { type: 'submit', class: 'btn', disabled: st.busy }, t('report.confirmBtn'))),
      h('p', { class: 'report-error', id: `${id}-error`, role: 'alert', tabindex: '-1', hidden: !st.error }, st.error),
      h('p', { role: 'status', class: 'report-hint' }, st.msg),
      h('button', { type: 'button', class: 'link-btn', disabled: st.busy, onclick: () => resendCode(c.channel) }, t('report.resend')));
  });
}

function renderConfirm() {
  const c = R.confirmLink;
  const parts = [head(t('report.confirmTitle'))];
  if (c.result) {
    parts.push(h('p', { class: 'report-confirmed', role: 'status', dataset: { confirmedChannel: c.result.channel } }, '✓ ',
      t(c.result.channel === 'sms' ? 'report.confirmedSMS' : 'report.confirmedEmail', { addr: c.result.address, id: c.result.report_id })));
  } else if (c.error) {
    parts.push(h('p', { class: 'report-error', role: 'alert', dataset: { error: c.error } }, t(`report.${c.error}`)));
  } else {
    parts.push(h('p', { role: 'status' }, t('report.confirming')));
  }
  ui.panel.append(...parts);
}

// ---------------------------------------------------------------- rendering

function fmtDate(iso, L, time = true) {
  if (Number.isNaN(new Date(iso).getTime())) return '';
  return formatDate(iso, L, { time });
}

function head(title) {
  return h('div', { class: 'report-head' },
    h('h2', { id: 'report-title', tabindex: '-1' }, title),
    h('button', { type: 'button', class: 'icon-btn report-close', 'aria-label': t('report.close'), title: t('report.close'), onclick: closePanel }, '×'));
}

function render() {
  if (!ui.panel) return;
  if (!R.view) { ui.panel.hidden = true; return; }
  ui.panel.hidden = false;
  document.body.classList.add('report-active');
  const active = document.activeElement;
  const focusID = active && ui.panel.contains(active) ? active.id : '';
  clear(ui.panel);
  ui.progress = null;
  if (R.view === 'form') renderForm();
  else if (R.view === 'done') renderDone();
  else if (R.view === 'confirm') renderConfirm();
  else renderFollow();
  if (focusID) document.getElementById(focusID)?.focus();
}

function field(id, label, input, hint) {
  if (hint) input.setAttribute('aria-describedby', `${id}-hint`);
  return h('div', { class: 'report-field' }, h('label', { for: id }, label), input,
    hint ? h('p', { class: 'report-hint', id: `${id}-hint` }, hint) : null);
}

function textInput(id, key, attrs = {}) {
  return h('input', { id, value: R.values[key], ...attrs, oninput: (e) => { R.values[key] = e.target.value; } });
}

function renderForm() {
  const L = lang();
  const sv = service();
  const parts = [head(t('report.reportProblem'))];

  // place
  parts.push(h('fieldset', { class: 'report-set' }, h('legend', {}, t('report.place')),
    h('p', { class: 'report-pin-status', id: 'report-pin-status', 'aria-live': 'polite' },
      !R.pin ? t('report.pinHint') : placeShown(L)
        ? [h('span', { class: 'report-pin-place', id: 'report-pin-place' }, placeShown(L)), ' ',
          h('span', { class: 'report-pin-coords' }, `(${R.pin[1].toFixed(5)}, ${R.pin[0].toFixed(5)})`)]
        : t('report.pinned', { lat: R.pin[1].toFixed(5), lon: R.pin[0].toFixed(5) })),
    R.pin ? h('p', { class: 'report-hint' }, t('report.pinAgain')) : null,
    h('div', { class: 'btn-row' },
      h('button', { type: 'button', id: 'report-locate', class: 'btn btn-secondary', onclick: useMyLocation }, t('report.myLocation')),
      // For the keyboard: move the map with the arrow keys, then pin its centre.
      h('button', { type: 'button', id: 'report-centre', class: 'btn btn-secondary', onclick: () => { const c = R.map.getCenter(); setPin([c.lng, c.lat]); } }, t('report.pinCentre'))),
    R.locStatus ? h('p', { class: 'report-hint', role: 'status' }, R.locStatus) : null));

  // category
  const select = h('select', { id: 'report-service', required: true, onchange: (e) => {
    R.values.service = e.target.value; R.values.attrs = {}; render(); loadNearby();
  } }, h('option', { value: '' }, t('report.chooseCategory')),
  (R.services || []).map((s) => h('option', { value: s.code }, pick(s.name, L))));
  select.value = R.values.service;
  parts.push(field('report-service', t('report.category'), select, sv ? pick(sv.description, L) : null));

  // duplicates nearby
  if (R.nearby.length) {
    parts.push(h('section', { class: 'report-nearby', 'aria-labelledby': 'report-nearby-title' },
      h('h3', { id: 'report-nearby-title' }, t('report.nearbyTitle')),
      h('p', { class: 'report-hint' }, t('report.nearbyHint')),
      h('ul', {}, R.nearby.map((r) => {
        const done = R.supported.get(r.id);
        return h('li', { dataset: { nearby: String(r.id) } },
          h('p', { class: 'report-nearby-text' }, r.description || pick(sv?.name, L)),
          h('p', { class: 'report-hint' }, [`№${r.id}`, statusName(r.status), fmtDate(r.requested_at, L, false),
            t('report.supporters', { n: done ?? r.support_count })].join(' · ')),
          done !== undefined
            ? h('p', { class: 'report-metoo-done', tabindex: '-1', role: 'status' }, t('report.metooDone', { n: done }))
            : h('button', { type: 'button', id: `report-metoo-${r.id}`, class: 'btn report-metoo', onclick: () => support(r),
              disabled: R.supporting.has(r.id), 'aria-busy': R.supporting.has(r.id) ? 'true' : 'false' }, t('report.metoo')));
      }))));
  }

  // extra questions
  if (sv?.attributes?.length) {
    parts.push(h('fieldset', { class: 'report-set' }, h('legend', {}, t('report.questions')),
      [...sv.attributes].sort((a, b) => a.order - b.order).map((a) => attributeField(a, L))));
  }

  const desc = h('textarea', { id: 'report-description', rows: 4, maxlength: 4000,
    oninput: (e) => { R.values.description = e.target.value; } });
  desc.value = R.values.description;
  parts.push(field('report-description', t('report.description'), desc, t('report.descriptionHint')));
  parts.push(field('report-address', t('report.address'), textInput('report-address', 'address', { maxlength: 300, autocomplete: 'street-address' })));

  // photos
  const photoInput = h('input', { id: 'report-photos', type: 'file', accept: 'image/*', multiple: true,
    disabled: R.files.length >= MAX_PHOTOS, onchange: (e) => {
      const add = [...e.target.files];
      R.files = [...R.files, ...add].slice(0, MAX_PHOTOS);
      R.error = R.files.length < [...R.files, ...add].length ? t('report.tooManyPhotos') : '';
      render();
    } });
  parts.push(h('div', { class: 'report-field' },
    field('report-photos', t('report.photos'), photoInput, t('report.photoHint')),
    R.files.length ? h('ul', { class: 'report-files' }, R.files.map((f, i) => h('li', {},
      h('span', {}, f.name),
      h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('report.removePhoto', { name: f.name }), title: t('report.removePhoto', { name: f.name }),
        onclick: () => { R.files.splice(i, 1); render(); } }, '×')))) : null));

  // contact
  parts.push(h('fieldset', { class: 'report-set' }, h('legend', {}, t('report.contact')),
    h('p', { class: 'report-private', id: 'report-private' }, t('report.contactNote')),
    field('report-first', t('report.firstName'), textInput('report-first', 'first_name', { maxlength: 100, autocomplete: 'given-name' })),
    field('report-last', t('report.lastName'), textInput('report-last', 'last_name', { maxlength: 100, autocomplete: 'family-name' })),
    field('report-email', t('report.email'), textInput('report-email', 'email', { type: 'email', maxlength: 254, autocomplete: 'email' }), t('report.emailHint')),
    field('report-phone', t('report.phone'), textInput('report-phone', 'phone', { type: 'tel', maxlength: 20, autocomplete: 'tel' }), t('report.phoneHint'))));

  parts.push(h('p', { class: 'report-error', role: 'alert', tabindex: '-1', hidden: !R.error }, R.error));
  ui.progress = h('p', { class: 'report-progress', role: 'status', 'aria-live': 'polite' }, R.progress);
  parts.push(ui.progress);
  parts.push(h('button', { type: 'submit', id: 'report-submit', class: 'btn report-submit', disabled: R.busy }, t('report.submit')));
  ui.panel.append(h('form', { class: 'report-form', novalidate: true, onsubmit: submit }, parts));
}

function attributeField(a, L) {
  const id = `report-attr-${a.code}`;
  const label = a.required ? `${pick(a.description, L)} (${t('report.required')})` : pick(a.description, L);
  const cur = R.values.attrs[a.code];
  const set = (v) => { R.values.attrs[a.code] = v; };
  switch (a.datatype) {
    case 'singlevaluelist': {
      const sel = h('select', { id, required: a.required, onchange: (e) => set(e.target.value) },
        h('option', { value: '' }, '—'), (a.values || []).map((v) => h('option', { value: v.key }, pick(v.name, L))));
      sel.value = cur || '';
      return field(id, label, sel);
    }
    case 'multivaluelist': {
      const chosen = new Set(Array.isArray(cur) ? cur : []);
      return h('fieldset', { class: 'report-subset' }, h('legend', {}, label),
        (a.values || []).map((v) => h('label', { class: 'report-check' },
          h('input', { type: 'checkbox', value: v.key, checked: chosen.has(v.key), onchange: (e) => {
            if (e.target.checked) chosen.add(v.key); else chosen.delete(v.key);
            set([...chosen]);
          } }), pick(v.name, L))));
    }
    case 'text': {
      const ta = h('textarea', { id, rows: 2, maxlength: 500, required: a.required, oninput: (e) => set(e.target.value) });
      ta.value = cur || '';
      return field(id, label, ta);
    }
    case 'number':
      return field(id, label, h('input', { id, type: 'number', step: 'any', inputmode: 'decimal', value: cur || '', required: a.required, oninput: (e) => set(e.target.value) }));
    case 'datetime':
      return field(id, label, h('input', { id, type: 'datetime-local', value: cur || '', required: a.required, oninput: (e) => set(e.target.value) }));
    default:
      return field(id, label, h('input', { id, type: 'text', maxlength: 500, value: cur || '', required: a.required, oninput: (e) => set(e.target.value) }));
  }
}

function renderDone() {
  const L = lang();
  const c = R.created;
  const url = followURL(c.follow);
  const copyBtn = h('button', { type: 'button', class: 'btn btn-secondary', onclick: async () => {
    try { await navigator.clipboard.writeText(url); } catch { /* the link is on screen */ }
    copyBtn.textContent = t('report.copied');
  } }, t('report.copy'));
  ui.panel.append(head(t('report.thanks', { id: c.report.id })),
    h('p', {}, t('report.followNote')),
    h('p', { class: 'report-link' }, h('a', { href: `/#report/${c.follow}`, id: 'report-follow-link' }, url)),
    ...confirmBlocks(L),
    h('div', { class: 'btn-row' }, copyBtn,
      h('button', { type: 'button', class: 'btn', onclick: () => openFollow(c.follow) }, t('report.openMine'))),
    h('p', {}, h('button', { type: 'button', class: 'link-btn', onclick: () => { R.view = 'form'; R.error = ''; render(); focusTitle(); } }, t('report.another'))));
}

/** reportAddress is where a report is: the reporter's address, else its point's in L (ru when none). */
function reportAddress(rep, L) {
  return rep.address || rep.place?.[L] || rep.place?.ru || '';
}

function renderFollow() {
  const L = lang();
  const f = R.follow;
  if (!f.data) {
    ui.panel.append(head(t('report.openMine')), h('p', { role: f.error ? 'alert' : 'status', class: f.error ? 'report-error' : '' }, f.error || t('report.loading')));
    return;
  }
  const rep = f.data.report;
  const sv = R.services?.find((s) => s.code === rep.service_code);
  ui.panel.append(head(t('report.myReport', { id: rep.id })),
    h('p', { class: 'report-service-name' }, sv ? pick(sv.name, L) : rep.service_code),
    h('p', {}, h('span', { class: `report-status st-${rep.status}`, dataset: { status: rep.status } }, statusName(rep.status))),
    rep.description ? h('p', { class: 'report-nearby-text' }, rep.description) : null,
    h('dl', { class: 'report-facts' },
      h('dt', {}, t('report.filed')), h('dd', {}, fmtDate(rep.requested_at, L)),
      reportAddress(rep, L) ? [h('dt', {}, t('report.addressPlain')), h('dd', { id: 'report-follow-address' }, reportAddress(rep, L))] : null,
      rep.expected_at ? [h('dt', {}, t('report.expected')), h('dd', {}, fmtDate(rep.expected_at, L, false))] : null,
      h('dt', {}, t('report.supporters', { n: '' }).replace(/[:\s]+$/, '')), h('dd', {}, String(rep.support_count))),
    ...confirmBlocks(L),
    h('h3', {}, t('report.history')),
    h('ol', { class: 'report-history' }, (f.data.history || []).map((s) => h('li', { dataset: { status: s.status } },
      h('time', { datetime: s.at }, fmtDate(s.at, L)), ' ',
      h('strong', {}, statusName(s.status)),
      s.comment ? h('p', {}, s.comment) : null))));
}
