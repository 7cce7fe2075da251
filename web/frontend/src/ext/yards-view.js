// The best-yard contest's view, loaded on demand by yards.js: the season and its ranking (a list
// in the side panel and numbered markers or outlined yards on the map), a popup per nomination
// with its photos and the vote button, the "Nominate a yard" form (a pinned point or a drawn
// outline, title, text, up to three photos), and the winners once staff have closed the season.
//
// API (docs/modules.md §6): GET /api/modules/yards/seasons, …/ranking?season=, …/mine?season=
// (the signed-in resident's vote and nominations), POST …/nominations (multipart) and
// …/nominations/{id}/vote with the session's CSRF token from GET /api/auth/me.
// Everything residents typed goes into the page as text (dom.js h()), never as HTML.
import * as maplibregl from 'maplibre-gl';
import { h, clear } from '../dom.js';
import { formatNumber, t } from '../i18n.js';
import './yards.css';

const MAX_PHOTOS = 3;
const SRC = 'yards-nominations';
const DRAW_SRC = 'yards-draw';
const FILL = 'yards-fill';
const LINE = 'yards-line';
const DRAW_LAYERS = ['yards-draw-fill', 'yards-draw-line', 'yards-draw-points'];

async function apiJSON(url, opts) {
  const res = await fetch(url, { cache: 'no-store', ...opts });
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) {
    const err = new Error(body?.error?.message || `${res.status} ${res.statusText}`);
    err.status = res.status;
    throw err;
  }
  return body;
}

/** centre is where a nomination's marker stands: the point, or the middle of the outline. */
export function centre(g) {
  if (g?.type === 'Point') return g.coordinates;
  const ring = (g?.coordinates?.[0] || []).slice(0, -1);
  if (!ring.length) return null;
  // The area-weighted centroid of the ring (shoelace), the vertex mean for a degenerate one.
  let a = 0; let x = 0; let y = 0;
  for (let i = 0; i < ring.length; i++) {
    const [x0, y0] = ring[i];
    const [x1, y1] = ring[(i + 1) % ring.length];
    const c = x0 * y1 - x1 * y0;
    a += c; x += (x0 + x1) * c; y += (y0 + y1) * c;
  }
  if (Math.abs(a) < 1e-14) return [ring.reduce((s, p) => s + p[0], 0) / ring.length, ring.reduce((s, p) => s + p[1], 0) / ring.length];
  return [x / (3 * a), y / (3 * a)];
}

export function createView(ctx, body) {
  const V = {
    seasons: [], season: null, ranking: [], me: null, mine: null, error: '',
    markers: new Map(), popup: null, popupId: null, popupMsg: null, shown: false,
    form: null, // { mode, points, title, description, files, busy, error, progress, done }
  };
  const L = () => ctx.lang();
  const map = () => ctx.map;
  const isOpen = () => V.season?.status === 'open';
  const byId = (id) => V.ranking.find((n) => n.id === id);
  const loginURL = (id) => {
    const next = `/#lang=${L()}&yards=open${id ? `&yard=${id}` : ''}`;
    return `/login?lang=${L()}&next=${encodeURIComponent(next)}`;
  };

  // ------------------------------------------------------------ data

  async function loadMe() {
    try {
      const me = await apiJSON('/api/auth/me');
      V.me = me?.user ? { email: me.user.email, name: me.user.name, csrf: me.csrf_token || '' } : null;
    } catch {
      V.me = null;
    }
  }

  async function loadMine() {
    V.mine = null;
    if (!V.me || !V.season) return;
    try {
      V.mine = await apiJSON(`/api/modules/yards/mine?season=${V.season.season}`);
    } catch { /* the buttons stay; the server still refuses a second vote */ }
  }

  async function load() {
    V.error = '';
    try {
      const [seasons] = await Promise.all([apiJSON('/api/modules/yards/seasons'), loadMe()]);
      V.seasons = seasons.seasons || [];
      // The open season; when none is open, the latest closed one with its winners.
      V.season = V.seasons.find((s) => s.status === 'open') || V.seasons[0] || null;
      if (V.season) {
        const [rk] = await Promise.all([apiJSON(`/api/modules/yards/ranking?season=${V.season.season}`), loadMine()]);
        V.season = rk.season;
        V.ranking = rk.nominations || [];
      } else {
        V.ranking = [];
      }
    } catch (err) {
      console.warn('yards:', err);
      V.error = t('yards.view.loadError');
    }
  }

  // ------------------------------------------------------------ map

  async function mapReady() {
    if (document.body.dataset.mapReady === 'true') return;
    await new Promise((r) => map().once('load', r));
  }

  function ensureLayers() {
    const m = map();
    const empty = { type: 'FeatureCollection', features: [] };
    if (!m.getSource(SRC)) {
      m.addSource(SRC, { type: 'geojson', data: empty });
      const winner = ['boolean', ['get', 'winner'], false];
      m.addLayer({ id: FILL, type: 'fill', source: SRC, paint: {
        'fill-color': ['case', winner, '#f2c94c', '#0b5d73'], 'fill-opacity': 0.28 } });
      m.addLayer({ id: LINE, type: 'line', source: SRC, paint: {
        'line-color': ['case', winner, '#a87b00', '#0b5d73'], 'line-width': ['case', winner, 3, 2] } });
    }
    if (!m.getSource(DRAW_SRC)) {
      m.addSource(DRAW_SRC, { type: 'geojson', data: empty });
      m.addLayer({ id: DRAW_LAYERS[0], type: 'fill', source: DRAW_SRC, filter: ['==', ['geometry-type'], 'Polygon'],
        paint: { 'fill-color': '#b3261e', 'fill-opacity': 0.2 } });
      m.addLayer({ id: DRAW_LAYERS[1], type: 'line', source: DRAW_SRC, filter: ['!=', ['geometry-type'], 'Point'],
        paint: { 'line-color': '#b3261e', 'line-width': 2.5, 'line-dasharray': [2, 1] } });
      m.addLayer({ id: DRAW_LAYERS[2], type: 'circle', source: DRAW_SRC, filter: ['==', ['geometry-type'], 'Point'],
        paint: { 'circle-color': '#b3261e', 'circle-radius': 6, 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } });
    }
    for (const id of [FILL, LINE, ...DRAW_LAYERS]) m.setLayoutProperty(id, 'visibility', 'visible');
  }

  function drawRanking() {
    const m = map();
    m.getSource(SRC)?.setData({ type: 'FeatureCollection', features: V.ranking.filter((n) => n.geometry?.type === 'Polygon')
      .map((n) => ({ type: 'Feature', id: n.id, geometry: n.geometry, properties: { id: n.id, rank: n.rank, votes: n.votes, winner: n.winner } })) });
    const keep = new Set();
    for (const n of V.ranking) {
      const at = centre(n.geometry);
      if (!at) continue;
      keep.add(n.id);
      let mk = V.markers.get(n.id);
      if (!mk) {
        const el = h('button', { type: 'button', class: 'yard-marker', dataset: { nomination: String(n.id) },
          onclick: (e) => { e.stopPropagation(); openPopup(n.id); } });
        mk = new maplibregl.Marker({ element: el, anchor: 'center' }).setLngLat(at).addTo(m);
        V.markers.set(n.id, mk);
      }
      mk.setLngLat(at);
      const el = mk.getElement();
      el.textContent = n.winner ? `★${n.rank}` : String(n.rank);
      el.classList.toggle('winner', n.winner);
      el.classList.toggle('mine', Boolean(V.mine?.nominations?.includes(n.id)));
      el.setAttribute('aria-label', `${t('yards.view.markerLabel', { r: n.rank, t: n.title, n: n.votes })}${n.winner ? ` — ${t('yards.view.winner')}` : ''}`);
      // Winners and the leaders above the rest where markers overlap.
      el.style.zIndex = String(n.winner ? 1000 : Math.max(1, 500 - n.rank));
    }
    for (const [id, mk] of V.markers) {
      if (!keep.has(id)) { mk.remove(); V.markers.delete(id); }
    }
  }

  function drawShape() {
    const m = map();
    const f = V.form;
    const feats = [];
    if (f) {
      for (const p of f.points) feats.push({ type: 'Feature', geometry: { type: 'Point', coordinates: p }, properties: {} });
      if (f.mode === 'polygon' && f.points.length >= 3) {
        feats.push({ type: 'Feature', geometry: { type: 'Polygon', coordinates: [[...f.points, f.points[0]]] }, properties: {} });
      } else if (f.mode === 'polygon' && f.points.length === 2) {
        feats.push({ type: 'Feature', geometry: { type: 'LineString', coordinates: f.points }, properties: {} });
      }
    }
    m.getSource(DRAW_SRC)?.setData({ type: 'FeatureCollection', features: feats });
  }

  function clearMap() {
    const m = map();
    for (const mk of V.markers.values()) mk.remove();
    V.markers.clear();
    for (const id of [FILL, LINE, ...DRAW_LAYERS]) if (m.getLayer(id)) m.setLayoutProperty(id, 'visibility', 'none');
    V.popup?.remove();
  }

  function fitRanking() {
    const pts = V.ranking.map((n) => centre(n.geometry)).filter(Boolean);
    if (!pts.length) return;
    const b = new maplibregl.LngLatBounds(pts[0], pts[0]);
    for (const p of pts) b.extend(p);
    const narrow = window.matchMedia('(max-width: 720px)').matches;
    map().fitBounds(b, { padding: narrow ? { top: 140, bottom: 90, left: 40, right: 40 } : 90, maxZoom: 16, duration: 0 });
  }

  // ------------------------------------------------------------ popup

  function openPopup(id, { fly = false } = {}) {
    const n = byId(id);
    if (!n) return;
    const at = centre(n.geometry);
    if (fly) {
      // On a phone the buttons over the top of the map would cover a popup opened at the centre:
      // put the yard lower, so the popup above it has room.
      const narrow = window.matchMedia('(max-width: 720px)').matches;
      map().easeTo({ center: at, zoom: Math.max(map().getZoom(), 16), offset: narrow ? [0, 140] : [0, 60], duration: 0 });
    }
    if (!V.popup) {
      V.popup = new maplibregl.Popup({ maxWidth: '320px', focusAfterOpen: true, className: 'feature-popup yards-popup' });
      V.popup.on('close', () => { V.popupId = null; V.popupMsg = null; });
    }
    if (V.popupId !== id) V.popupMsg = null;
    V.popupId = id;
    V.popup.setLngLat(at);
    renderPopup();
    if (!V.popup.isOpen()) V.popup.addTo(map());
    localizePopupClose();
  }

  function localizePopupClose() {
    const btn = V.popup?.getElement()?.querySelector('.maplibregl-popup-close-button');
    if (btn) { btn.setAttribute('aria-label', t('yards.view.close')); btn.title = t('yards.view.close'); }
  }

  function voteArea(n) {
    if (!isOpen() || n.season !== V.season.season) return h('p', { class: 'yards-note' }, t('yards.view.seasonClosed'));
    if (!V.me) {
      return h('p', { class: 'yards-note' }, t('yards.view.signInToVote'), ' ',
        h('a', { href: loginURL(n.id), class: 'yards-login' }, t('yards.view.signIn')));
    }
    if (V.mine?.voted_for === n.id) return h('p', { class: 'yards-voted', dataset: { voted: 'here' } }, `✓ ${t('yards.view.votedHere')}`);
    if (V.mine?.voted_for) return h('p', { class: 'yards-note', dataset: { voted: 'elsewhere' } }, t('yards.view.alreadyVoted'));
    return h('button', { type: 'button', class: 'btn yards-vote', onclick: () => vote(n.id) }, t('yards.view.vote'));
  }

  function renderPopup() {
    const n = byId(V.popupId);
    if (!n || !V.popup) return;
    const photos = [];
    for (let i = 1; i <= n.photos; i++) {
      const base = `/api/modules/yards/nominations/${n.id}/photos/${i}`;
      photos.push(h('li', {}, h('a', { href: `${base}.jpg`, target: '_blank', rel: 'noopener' },
        h('img', { src: `${base}.thumb.jpg`, alt: t('yards.view.photo', { i, t: n.title }), loading: 'lazy', width: 88, height: 66 }))));
    }
    const msg = V.popupMsg;
    V.popup.setDOMContent(h('div', { class: 'popup yards-card', dataset: { nomination: String(n.id) } },
      h('p', { class: 'popup-layer' }, `${t('yards.view.season', { y: n.season })} · ${t('yards.view.rank', { r: n.rank })}`),
      // h2: on a phone the panel's headings are hidden, the page's h1 is the heading before.
      h('h2', { class: 'popup-title yards-popup-title' }, n.title),
      n.winner ? h('p', { class: 'yards-badge' }, `★ ${t('yards.view.winner')}`) : null,
      V.mine?.nominations?.includes(n.id) ? h('p', { class: 'yards-note' }, t('yards.view.mine')) : null,
      h('p', { class: 'yards-votes' }, t('yards.view.votes', { n: formatNumber(n.votes, L()) })),
      n.description ? h('p', { class: 'yards-text' }, n.description) : null,
      photos.length ? h('ul', { class: 'yards-photos', 'aria-label': t('yards.view.photos') }, photos) : null,
      voteArea(n),
      msg ? h('p', { class: msg.error ? 'yards-error' : 'yards-ok', role: msg.error ? 'alert' : 'status' }, msg.text) : null));
    localizePopupClose();
  }

  async function vote(id) {
    const btn = V.popup?.getElement()?.querySelector('.yards-vote');
    if (btn) { btn.disabled = true; btn.textContent = t('yards.view.voting'); }
    try {
      await apiJSON(`/api/modules/yards/nominations/${id}/vote`, { method: 'POST', headers: { 'X-CSRF-Token': V.me?.csrf || '' } });
      V.popupMsg = { text: t('yards.view.voted') };
    } catch (err) {
      if (err.status === 409) V.popupMsg = { text: t(isOpen() ? 'yards.view.alreadyVoted' : 'yards.view.seasonClosed'), error: true, code: 409 };
      else if (err.status === 401) { V.me = null; V.popupMsg = { text: t('yards.view.signInToVote'), error: true }; }
      else V.popupMsg = { text: t('yards.view.failed', { msg: err.message }), error: true };
    }
    const msg = V.popupMsg;
    await refresh();
    V.popupMsg = msg;
    renderPopup();
    V.popup?.getElement()?.querySelector('.yards-ok, .yards-error')?.focus?.();
  }

  // ------------------------------------------------------------ panel

  function renderPanel() {
    clear(body);
    if (V.error) {
      body.append(h('p', { class: 'yards-error', role: 'alert' }, V.error));
      return;
    }
    if (!V.season) {
      body.append(h('p', { class: 'yards-status', role: 'status' }, t('yards.view.noSeason')));
      return;
    }
    const s = V.season;
    body.append(h('p', { class: 'yards-season', dataset: { status: s.status, season: String(s.season) } },
      h('strong', {}, t('yards.view.season', { y: s.season })), ' — ', isOpen() ? t('yards.view.open') : t('yards.view.closed')));
    if (isOpen()) {
      if (V.me) {
        body.append(h('p', { class: 'yards-note' }, t('yards.view.signedInAs', { e: V.me.email })));
        const left = V.mine?.nominations_left ?? 1;
        body.append(h('button', { type: 'button', id: 'yards-nominate', class: 'btn', disabled: left < 1 || Boolean(V.form),
          onclick: () => openForm() }, t('yards.view.nominate')),
        h('p', { class: 'yards-note' }, left < 1 ? t('yards.view.noNominationsLeft') : t('yards.view.nominationsLeft', { n: left })));
        if (V.mine?.voted_for) {
          body.append(h('p', { class: 'yards-voted', dataset: { voted: String(V.mine.voted_for) } }, `✓ ${t('yards.view.alreadyVoted')} `,
            h('button', { type: 'button', class: 'link-btn', onclick: () => openPopup(V.mine.voted_for, { fly: true }) }, t('yards.view.showMyVote'))));
        }
      } else {
        body.append(h('p', { class: 'yards-note yards-signin' }, t('yards.view.signInToVote'), ' ',
          h('a', { href: loginURL(), class: 'yards-login' }, t('yards.view.signIn'))));
      }
    }
    const winners = V.ranking.filter((n) => n.winner);
    if (winners.length) {
      body.append(h('h3', { id: 'yards-winners-title' }, t('yards.view.winners')),
        h('ol', { class: 'yards-list yards-winners', 'aria-labelledby': 'yards-winners-title' }, winners.map(item)));
    }
    body.append(h('h3', { id: 'yards-ranking-title' }, t('yards.view.ranking')));
    if (!V.ranking.length) {
      body.append(h('p', { class: 'yards-note' }, t('yards.view.noNominations')));
      return;
    }
    body.append(h('ol', { class: 'yards-list yards-ranking', 'aria-labelledby': 'yards-ranking-title' }, V.ranking.map(item)));
  }

  function item(n) {
    return h('li', { dataset: { nomination: String(n.id) } },
      h('button', { type: 'button', class: `result yards-item${n.winner ? ' winner' : ''}`, onclick: () => {
        if (window.matchMedia('(max-width: 720px)').matches) closeSheet();
        openPopup(n.id, { fly: true });
      } },
      h('span', { class: 'yards-rank', 'aria-hidden': 'true' }, n.winner ? `★${n.rank}` : String(n.rank)),
      h('span', { class: 'result-text' },
        h('span', { class: 'result-name' }, n.title),
        h('span', { class: 'result-meta' }, [t('yards.view.rank', { r: n.rank }), n.winner ? t('yards.view.winner') : null].filter(Boolean).join(' · '))),
      h('span', { class: 'result-extra' }, t('yards.view.votes', { n: formatNumber(n.votes, L()) }))));
  }

  function closeSheet() {
    if (document.body.classList.contains('sheet-open')) document.querySelector('.sheet-toggle')?.click();
  }

  // ------------------------------------------------------------ nomination form

  const F = { panel: null };

  function openForm() {
    if (!V.me || !isOpen()) return;
    V.form = { mode: 'point', points: [], title: '', description: '', files: [], busy: false, error: '', progress: '', done: null };
    if (!F.panel) {
      F.panel = h('section', { id: 'yards-form', class: 'yards-form-panel', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'yards-form-title' });
      F.panel.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.stopPropagation(); closeForm(); } });
      (document.querySelector('.app') || document.body).append(F.panel);
    }
    F.panel.hidden = false;
    document.body.classList.add('yards-drawing');
    closeSheet();
    renderForm();
    renderPanel();
    F.panel.querySelector('#yards-form-title')?.focus();
  }

  function closeForm() {
    V.form = null;
    if (F.panel) F.panel.hidden = true;
    document.body.classList.remove('yards-drawing');
    drawShape();
    renderPanel();
    body.querySelector('#yards-nominate')?.focus();
  }

  function addPoint(p) {
    const f = V.form;
    const pt = [Number(p[0].toFixed(6)), Number(p[1].toFixed(6))];
    if (f.mode === 'point') f.points = [pt];
    else f.points.push(pt);
    f.error = '';
    drawShape();
    renderForm();
  }

  function geometry() {
    const f = V.form;
    if (f.mode === 'point') return f.points.length ? { type: 'Point', coordinates: f.points[0] } : null;
    return f.points.length >= 3 ? { type: 'Polygon', coordinates: [[...f.points, f.points[0]]] } : null;
  }

  async function submit(e) {
    e.preventDefault();
    const f = V.form;
    if (!f || f.busy) return;
    const g = geometry();
    f.error = !f.points.length ? t('yards.view.needShape') : !g ? t('yards.view.needCorners') : !f.title.trim() ? t('yards.view.needName') : '';
    if (f.error) { renderForm(); F.panel.querySelector('.yards-error')?.focus(); return; }
    f.busy = true;
    f.progress = t('yards.view.sending');
    renderForm();
    try {
      const fd = new FormData();
      fd.set('title', f.title.trim());
      fd.set('description', f.description.trim());
      fd.set('geometry', JSON.stringify(g));
      for (const file of f.files) fd.append('photo', file, file.name);
      const nom = await apiJSON('/api/modules/yards/nominations', { method: 'POST', body: fd, headers: { 'X-CSRF-Token': V.me?.csrf || '' } });
      f.done = nom;
      f.points = [];
      drawShape();
      await refresh();
      closeForm();
      openPopup(nom.id, { fly: true });
      V.popupMsg = { text: t('yards.view.thanks', { id: nom.id }) };
      renderPopup();
      return;
    } catch (err) {
      f.error = t('yards.view.failed', { msg: err.message });
    }
    f.busy = false;
    f.progress = '';
    renderForm();
    F.panel.querySelector('.yards-error')?.focus();
  }

  function field(id, label, control, hint) {
    const hintId = hint ? `${id}-hint` : undefined;
    if (hintId) control.setAttribute('aria-describedby', hintId);
    return h('div', { class: 'yards-field' }, h('label', { for: id }, label), control,
      hint ? h('p', { id: hintId, class: 'yards-hint' }, hint) : null);
  }

  function renderForm() {
    const f = V.form;
    if (!F.panel || !f) return;
    // Re-rendering must not take the keyboard focus away from the control in use.
    const focused = F.panel.contains(document.activeElement) ? document.activeElement.id : '';
    clear(F.panel);
    const mode = (value, label) => h('label', { class: 'yards-radio' },
      h('input', { type: 'radio', id: `yards-mode-${value}`, name: 'yards-mode', value, checked: f.mode === value, onchange: () => {
        f.mode = value; f.points = f.mode === 'point' ? f.points.slice(-1) : f.points; f.error = ''; drawShape(); renderForm();
      } }), label);
    const shapeStatus = !f.points.length ? t('yards.view.notPinned')
      : f.mode === 'point' ? t('yards.view.pinned', { lat: f.points[0][1].toFixed(5), lon: f.points[0][0].toFixed(5) })
        : t('yards.view.corners', { n: f.points.length });
    const title = h('input', { id: 'yards-name', type: 'text', maxlength: 200, required: true, autocomplete: 'off', value: f.title,
      oninput: (e) => { f.title = e.target.value; } });
    const desc = h('textarea', { id: 'yards-description', rows: 3, maxlength: 4000, oninput: (e) => { f.description = e.target.value; } });
    desc.value = f.description;
    const photos = h('input', { id: 'yards-photos', type: 'file', accept: 'image/*', multiple: true, disabled: f.files.length >= MAX_PHOTOS,
      onchange: (e) => {
        const all = [...f.files, ...e.target.files];
        f.files = all.slice(0, MAX_PHOTOS);
        f.error = all.length > MAX_PHOTOS ? t('yards.view.tooManyPhotos') : '';
        renderForm();
      } });
    F.panel.append(
      h('div', { class: 'yards-form-head' },
        h('h2', { id: 'yards-form-title', tabindex: '-1' }, t('yards.view.formTitle')),
        h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('yards.view.close'), title: t('yards.view.close'), onclick: closeForm }, '×')),
      h('form', { class: 'yards-form', novalidate: true, onsubmit: submit },
        h('fieldset', { class: 'yards-set' }, h('legend', {}, t('yards.view.what')),
          h('div', { class: 'yards-modes' }, mode('point', t('yards.view.asPoint')), mode('polygon', t('yards.view.asPolygon'))),
          h('p', { class: 'yards-hint' }, f.mode === 'point' ? t('yards.view.pointHint') : t('yards.view.polygonHint')),
          h('p', { id: 'yards-shape-status', class: 'yards-shape-status', role: 'status', 'aria-live': 'polite' }, shapeStatus),
          h('div', { class: 'btn-row' },
            h('button', { type: 'button', id: 'yards-centre', class: 'btn btn-secondary', onclick: () => {
              const c = map().getCenter(); addPoint([c.lng, c.lat]);
            } }, t('yards.view.centre')),
            f.mode === 'polygon' && f.points.length ? h('button', { type: 'button', id: 'yards-undo', class: 'btn btn-secondary', onclick: () => {
              f.points.pop(); drawShape(); renderForm();
            } }, t('yards.view.undo')) : null,
            f.points.length ? h('button', { type: 'button', id: 'yards-clear', class: 'btn btn-secondary', onclick: () => {
              f.points = []; drawShape(); renderForm();
            } }, t('yards.view.clearShape')) : null)),
        field('yards-name', t('yards.view.name'), title, t('yards.view.nameHint')),
        field('yards-description', t('yards.view.description'), desc, t('yards.view.descriptionHint')),
        h('div', { class: 'yards-field' },
          field('yards-photos', t('yards.view.photosLabel'), photos, t('yards.view.photoHint')),
          f.files.length ? h('ul', { class: 'yards-files' }, f.files.map((file, i) => h('li', {}, h('span', {}, file.name),
            h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('yards.view.removePhoto', { name: file.name }), title: t('yards.view.removePhoto', { name: file.name }),
              onclick: () => { f.files.splice(i, 1); renderForm(); } }, '×')))) : null),
        h('p', { class: 'yards-error', role: 'alert', tabindex: '-1', hidden: !f.error }, f.error),
        h('p', { class: 'yards-progress', role: 'status', 'aria-live': 'polite' }, f.progress),
        h('button', { type: 'submit', id: 'yards-send', class: 'btn yards-send', disabled: f.busy }, t('yards.view.send'))));
    if (focused) (F.panel.querySelector(`#${focused}`) || F.panel.querySelector('#yards-form-title'))?.focus();
  }

  // Escape closes a nomination's popup, as it does the map's own popups.
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !V.form && V.popup?.isOpen()) V.popup.remove();
  });

  // ------------------------------------------------------------ the view's face to yards.js

  async function refresh() {
    await load();
    if (!V.shown) return;
    renderPanel();
    drawRanking();
    if (V.popupId && byId(V.popupId)) renderPopup();
    else V.popup?.remove();
  }

  return {
    async show() {
      V.shown = true;
      await Promise.all([load(), mapReady()]);
      if (!V.shown) return;
      ensureLayers();
      renderPanel();
      drawRanking();
      drawShape();
      if (V.ranking.length) fitRanking();
    },
    hide() {
      V.shown = false;
      if (V.form) closeForm();
      clearMap();
    },
    render() {
      if (!V.shown) return;
      renderPanel();
      drawRanking();
      renderPopup();
      renderForm();
    },
    focusNomination(id) {
      if (byId(id)) openPopup(id, { fly: true });
    },
    mapClick(e) {
      if (!V.shown) return false;
      if (e.originalEvent?.target?.closest?.('.yard-marker')) return true;
      if (V.form && !V.form.busy) { addPoint([e.lngLat.lng, e.lngLat.lat]); return true; }
      if (V.form) return true;
      const m = map();
      const hit = m.getLayer(FILL) ? m.queryRenderedFeatures(e.point, { layers: [FILL] })[0] : null;
      if (hit) { openPopup(Number(hit.properties.id)); return true; }
      return false;
    },
  };
}
