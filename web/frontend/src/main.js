// The Aktobe geoportal's public web map.
import * as maplibregl from 'maplibre-gl';
import workerURL from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import 'maplibre-gl/dist/maplibre-gl.css';
import './style.css';

import { h, s, clear } from './dom.js';
import { LANGS, LANG_NAMES, t, setLanguage, pick, formatNumber, formatDistance, valueName } from './i18n.js';
import { formatDate, formatYear, setTimeZone } from './format.js';
import { parse as parsePermalink, format as formatPermalink } from './permalink.js';
import { buildStyle, compositeSlugs, legendEntries, swatch, sourceId, tileURL, layerIds, BASE_SLUGS } from './mapstyle.js';
import { followingReport, initReports, reportMapClick } from './report.js';
import * as extensions from './extensions.js';
import { addIconOnDemand, iconNames, iconSVG, ICONS } from './icons.js';
import { prefetchGlyphs, relabel } from './labels.js';
// The extensions are a separate file, fetched while the map starts and initialised once it has
// drawn its first tiles (see start), so that they do not delay the first render.
const extensionsLoaded = import('./ext/index.js').catch((err) => console.warn('extensions:', err));

maplibregl.setWorkerUrl(new URL(workerURL, window.location.href).href);
// Start the tile workers now, while the catalog loads, not when the map is created.
maplibregl.prewarm();

const ORIGIN = window.location.origin;
// Where the map opens when neither the configuration nor the data says (an empty database).
const WORLD = { center: [0, 20], zoom: 3 };
const DEFAULT_LAYERS = [...BASE_SLUGS, 'clinics', 'schools', 'parks'];
// The places of public interest "nearest to me" offers (those the catalog has), in this order.
const NEAREST_LAYERS = ['clinics', 'pharmacies', 'schools', 'bus_stops', 'ramps', 'biotoilets', 'playgrounds',
  'sports_grounds', 'parks', 'leisure_places', 'waste_sites'];
const LIVE_REFRESH_MS = 15000;
const LANG_KEY = 'geoportal.lang';
// /?labels=off opens the map without labels and icons: for a print without text, and for
// measuring what labels cost (web/frontend/tests/labels-bench.mjs).
const LABELS = new URLSearchParams(window.location.search).get('labels') !== 'off';

const state = {
  lang: 'ru',
  catalog: [],
  directions: [],
  bySlug: new Map(),
  liveCount: new Map(), // slug -> vehicles live now, from the live feed (ext/live.js), for a live layer
  visible: new Set(),
  config: {},
  composite: new Set(),
  map: null,
  popup: null,
  popupFeatures: [],
  popupIndex: 0,
  hovered: null,
  selected: null,
  picking: false,
  nearestMarker: null,
  lastNearest: null,
  lastSearch: null,
  here: null, // the user's position, once geolocation gave it
  notices: [],
};

// ---------------------------------------------------------------- language

function initialLang(hashLang) {
  if (hashLang) return hashLang;
  try {
    const saved = localStorage.getItem(LANG_KEY);
    if (LANGS.includes(saved)) return saved;
  } catch { /* storage may be off */ }
  for (const l of navigator.languages || [navigator.language || '']) {
    const code = String(l).slice(0, 2).toLowerCase();
    if (LANGS.includes(code)) return code;
  }
  return 'ru';
}

function setLang(lang, { remember = true } = {}) {
  state.lang = lang;
  setLanguage(lang);
  if (remember) {
    try { localStorage.setItem(LANG_KEY, lang); } catch { /* ignore */ }
  }
  document.documentElement.lang = lang;
  document.title = `${cityText('map.documentTitle')} — ${t('map.programme')}`;
  renderTexts();
  renderLayerPanel();
  renderNearestOptions();
  if (state.lastSearch) submitSearch(); // the names again, in the new language
  if (state.lastNearest) renderNearestResults(state.lastNearest);
  if (state.popup && state.popup.isOpen()) renderPopup();
  renderNotices();
  localizeMapControls();
  updatePermalink();
  if (state.map) {
    relabel(state.map, state.labelLayers, lang);
    extensions.langChanged(extCtx, lang);
  }
}

// ---------------------------------------------------------------- shell

const ui = {};

function buildShell() {
  const app = document.getElementById('app');
  ui.title = h('h1', { class: 'brand-title' });
  ui.subtitle = h('p', { class: 'brand-subtitle' });
  ui.langGroup = h('div', { class: 'lang', role: 'group' },
    LANGS.map((l) => h('button', {
      type: 'button', class: 'lang-btn', lang: l, dataset: { lang: l }, title: LANG_NAMES[l],
      onclick: () => setLang(l),
    }, h('span', {}, l.toUpperCase()), h('span', { class: 'visually-hidden' }, ` ${LANG_NAMES[l]}`))));
  const logo = s('svg', { class: 'logo', viewBox: '0 0 32 32', width: 34, height: 34, 'aria-hidden': 'true', focusable: 'false' },
    s('circle', { cx: 16, cy: 13, r: 9, fill: '#0b5d73' }), s('path', { d: 'M9 18l7 12 7-12z', fill: '#0b5d73' }),
    s('circle', { cx: 16, cy: 13, r: 4, fill: '#fff' }));
  const header = h('header', { class: 'topbar' },
    h('div', { class: 'brand' }, logo, h('div', {}, ui.title, ui.subtitle)), ui.langGroup);

  // Search
  ui.searchLabel = h('label', { for: 'search-input', class: 'visually-hidden' });
  // The search box is an ARIA combobox: focus stays in the input, the arrow keys move the active
  // option of the listbox (aria-activedescendant), Enter chooses it, Escape closes the list.
  ui.searchInput = h('input', {
    id: 'search-input', type: 'search', autocomplete: 'off', spellcheck: 'false', maxlength: 100,
    role: 'combobox', 'aria-autocomplete': 'list', 'aria-expanded': 'false',
    'aria-controls': 'search-results', 'aria-describedby': 'search-status',
  });
  ui.searchClear = h('button', { type: 'button', class: 'icon-btn search-clear', hidden: true, onclick: clearSearch }, '×');
  ui.searchStatus = h('p', { id: 'search-status', class: 'search-status', role: 'status', 'aria-live': 'polite' });
  ui.searchResults = h('div', { id: 'search-results', class: 'results', role: 'listbox', hidden: true });
  const searchIcon = s('svg', { class: 'search-icon', viewBox: '0 0 24 24', width: 20, height: 20, 'aria-hidden': 'true', focusable: 'false' },
    s('circle', { cx: 10.5, cy: 10.5, r: 6.5, fill: 'none', stroke: 'currentColor', 'stroke-width': 2.2 }),
    s('path', { d: 'M15.5 15.5L21 21', stroke: 'currentColor', 'stroke-width': 2.4, 'stroke-linecap': 'round' }));
  ui.searchForm = h('form', { class: 'searchbox', role: 'search', onsubmit: async (e) => {
    // Enter chooses the active option, else goes straight to the best match, as residents
    // expect from a map's search box.
    e.preventDefault();
    const active = activeOption();
    if (active) { chooseOption(active); return; }
    await submitSearch();
    if (state.lastSearch?.results.length) selectHit(state.lastSearch.results[0]);
  } },
    ui.searchLabel, h('div', { class: 'search-field' }, searchIcon, ui.searchInput, ui.searchClear),
    ui.searchStatus, ui.searchResults);
  ui.searchInput.addEventListener('input', onSearchInput);
  ui.searchInput.addEventListener('keydown', (e) => {
    const opts = [...ui.searchResults.querySelectorAll('[role="option"]')];
    const i = opts.indexOf(activeOption());
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      if (!opts.length) return;
      e.preventDefault();
      if (ui.searchResults.hidden) showResults(true);
      const next = e.key === 'ArrowDown' ? Math.min(i + 1, opts.length - 1) : i - 1;
      setActiveOption(next >= 0 ? opts[next] : null);
    } else if (e.key === 'Home' && i >= 0) {
      e.preventDefault(); setActiveOption(opts[0]);
    } else if (e.key === 'End' && i >= 0) {
      e.preventDefault(); setActiveOption(opts[opts.length - 1]);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      if (!ui.searchResults.hidden) showResults(false); else clearSearch();
    }
  });

  // Nearest
  ui.nearestTitle = h('h2', { id: 'nearest-title' });
  ui.nearestLabel = h('label', { for: 'nearest-layer' });
  ui.nearestSelect = h('select', { id: 'nearest-layer', onchange: () => { if (state.lastNearest) runNearest(state.lastNearest.from); } });
  ui.myLocation = h('button', { type: 'button', class: 'btn', onclick: nearestFromGeolocation });
  ui.pickPoint = h('button', { type: 'button', class: 'btn btn-secondary', 'aria-pressed': 'false', onclick: togglePicking });
  // Straight line (the default) or walking along the streets (/api/nearest?by=walk).
  const rerun = () => { if (state.lastNearest) runNearest(state.lastNearest.from); };
  ui.byLine = h('input', { type: 'radio', name: 'nearest-by', id: 'nearest-by-line', value: 'line', checked: true, onchange: rerun });
  ui.byWalk = h('input', { type: 'radio', name: 'nearest-by', id: 'nearest-by-walk', value: 'walk', onchange: rerun });
  ui.nearestBy = h('fieldset', { class: 'nearest-by' }, ui.nearestByLegend = h('legend', {}),
    h('label', { class: 'radio' }, ui.byLine, ui.byLineText = h('span', {})),
    h('label', { class: 'radio' }, ui.byWalk, ui.byWalkText = h('span', {})));
  ui.nearestStatus = h('p', { class: 'nearest-status', role: 'status', 'aria-live': 'polite' });
  ui.nearestResults = h('ul', { class: 'results nearest-results', hidden: true });
  ui.nearestResults.addEventListener('keydown', (e) => listKeys(e, ui.nearestResults, null));
  const nearest = h('section', { class: 'card nearest', 'aria-labelledby': 'nearest-title' },
    ui.nearestTitle,
    h('div', { class: 'field' }, ui.nearestLabel, ui.nearestSelect),
    ui.nearestBy,
    h('div', { class: 'btn-row' }, ui.myLocation, ui.pickPoint),
    ui.nearestStatus, ui.nearestResults);

  // Layers
  ui.layersTitle = h('h2', { id: 'layers-title' });
  ui.layerGroups = h('div', { class: 'layer-groups' });
  const layersSec = h('section', { class: 'card layers', 'aria-labelledby': 'layers-title' }, ui.layersTitle, ui.layerGroups);

  ui.copyLink = h('button', { type: 'button', class: 'link-btn', onclick: copyLink });
  ui.footNote = h('p', { class: 'foot-note' });
  // The portal's other pages, each in the chosen language (?lang=).
  ui.pageLinks = h('nav', { class: 'page-links' });
  const foot = h('footer', { class: 'panel-foot' }, ui.copyLink, ui.pageLinks, ui.footNote);

  // The city's tools (the extensions' cards) come after the layer list: eight cards above it
  // pushed the layers 1,200 px down the side panel (issue #24, point 9).
  ui.extPanel = h('div', { class: 'ext-panel', id: 'tools' });
  ui.panel = h('div', { id: 'panel', class: 'panel' }, nearest, layersSec, ui.extPanel, foot);
  ui.side = h('aside', { class: 'side' }, header, ui.searchForm, ui.panel);

  ui.mapEl = h('div', { id: 'map', class: 'map' });
  ui.main = h('main', { class: 'mapwrap' }, ui.mapEl);
  ui.notices = h('div', { class: 'notices', role: 'status', 'aria-live': 'polite' });
  ui.sheetToggle = h('button', { type: 'button', class: 'sheet-toggle', 'aria-controls': 'panel', 'aria-expanded': 'false', onclick: () => toggleSheet() });
  ui.pickBanner = h('div', { class: 'pick-banner', hidden: true });

  app.append(h('div', { class: 'app' }, ui.side, ui.main, ui.notices, ui.pickBanner, ui.sheetToggle));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && state.popup?.isOpen()) state.popup.remove();
    else if (e.key === 'Escape' && state.picking) togglePicking(false);
    else if (e.key === 'Escape' && document.body.classList.contains('sheet-open')) toggleSheet(false);
  });
}

function listKeys(e, list, back) {
  const items = [...list.querySelectorAll('button')];
  const i = items.indexOf(document.activeElement);
  if (i < 0) return;
  if (e.key === 'ArrowDown' && i < items.length - 1) { e.preventDefault(); items[i + 1].focus(); }
  if (e.key === 'ArrowUp') {
    e.preventDefault();
    if (i > 0) items[i - 1].focus();
    else if (back) back.focus();
  }
}

function toggleSheet(open) {
  const o = open ?? !document.body.classList.contains('sheet-open');
  document.body.classList.toggle('sheet-open', o);
  ui.sheetToggle.setAttribute('aria-expanded', String(o));
  ui.sheetToggle.textContent = t(o ? 'map.hidePanel' : 'map.showLayers');
}

/** cityName is the city's name (/api/config: the configuration, else the city boundary) in the current language, '' when unknown. */
function cityName() {
  return pick(state.config.city?.name, state.lang);
}

/** cityText is the catalog text key with the city's name as {city}; just "City map" when the name is unknown. */
function cityText(key) {
  const city = cityName();
  return city ? t(key, { city }) : t('map.appSubtitle');
}

function renderTexts() {
  const L = state.lang;
  ui.title.textContent = cityName() || t('map.appTitle');
  ui.subtitle.textContent = t('map.appSubtitle');
  ui.langGroup.setAttribute('aria-label', t('map.language'));
  for (const b of ui.langGroup.querySelectorAll('button')) {
    b.setAttribute('aria-pressed', String(b.dataset.lang === L));
  }
  ui.searchLabel.textContent = t('map.searchLabel');
  ui.searchInput.placeholder = t('map.searchPlaceholder');
  ui.searchClear.setAttribute('aria-label', t('map.clearSearch'));
  ui.searchClear.title = t('map.clearSearch');
  ui.searchResults.setAttribute('aria-label', t('map.results'));
  ui.nearestTitle.textContent = t('map.nearest');
  ui.nearestLabel.textContent = t('map.nearestWhat');
  ui.nearestByLegend.textContent = t('map.nearestBy');
  ui.byLineText.textContent = t('map.byLine');
  ui.byWalkText.textContent = t('map.byWalk');
  ui.myLocation.textContent = t('map.myLocation');
  ui.pickPoint.textContent = t('map.pickOnMap');
  ui.nearestResults.setAttribute('aria-label', t('map.nearest'));
  ui.layersTitle.textContent = t('map.layers');
  ui.copyLink.textContent = t('map.copyLink');
  ui.pageLinks.setAttribute('aria-label', t('map.morePages'));
  clear(ui.pageLinks).append(...[['/planner', 'map.plannerPage'], ['/reports/stats', 'map.reportStats'],
    ['/lighting/audit', 'map.lightingAudit'], ['/cameras', 'map.camerasPage'], ['/login', 'map.staffSignIn']]
    .map(([href, key]) => h('a', { href: `${href}?lang=${L}` }, t(key))));
  ui.footNote.textContent = `${t('map.programme')} · © OpenStreetMap contributors, ODbL`;
  ui.mapEl.setAttribute('aria-label', cityText('map.mapLabel'));
  ui.main.setAttribute('aria-label', t('map.map'));
  ui.side.setAttribute('aria-label', `${t('map.search')}, ${t('map.layers')}`);
  ui.pickBanner.textContent = t('map.pickHint');
  ui.sheetToggle.textContent = t(document.body.classList.contains('sheet-open') ? 'map.hidePanel' : 'map.showLayers');
}

// ---------------------------------------------------------------- notices

function notice(key, vars, { timeout = 0, id = key } = {}) {
  state.notices = state.notices.filter((n) => n.id !== id);
  state.notices.push({ id, key, vars });
  renderNotices();
  if (timeout) setTimeout(() => dismiss(id), timeout);
}

function dismiss(id) {
  state.notices = state.notices.filter((n) => n.id !== id);
  renderNotices();
}

function renderNotices() {
  clear(ui.notices);
  for (const n of state.notices) {
    ui.notices.append(h('div', { class: 'notice', dataset: { notice: n.id } },
      h('span', {}, t(n.key, n.vars)),
      h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('map.close'), title: t('map.close'), onclick: () => dismiss(n.id) }, '×')));
  }
}

// ---------------------------------------------------------------- layer panel

function renderLayerPanel() {
  const L = state.lang;
  const zoom = state.map ? state.map.getZoom() : (state.config.city?.zoom || WORLD.zoom);
  const open = new Set([...ui.layerGroups.querySelectorAll('details[open]')].map((d) => d.dataset.direction));
  const firstRender = !ui.layerGroups.hasChildNodes();
  // Re-rendering must not take the keyboard focus away from the control in use.
  const active = document.activeElement;
  const focusKey = active && ui.layerGroups.contains(active)
    ? (active.id ? `#${active.id}` : active.tagName === 'SUMMARY' ? `details[data-direction="${active.parentElement.dataset.direction}"] > summary` : null)
    : null;
  clear(ui.layerGroups);
  const order = [1, 2, 3, 4, 5, 6, 0];
  for (const dirID of order) {
    const layers = state.catalog.filter((l) => l.direction === dirID);
    if (!layers.length) continue;
    const dir = state.directions.find((d) => d.id === dirID);
    const on = layers.filter((l) => state.visible.has(l.slug)).length;
    const details = h('details', { class: 'group', dataset: { direction: String(dirID) } },
      h('summary', {},
        h('span', { class: 'group-title' }, pick(dir?.title, L)),
        h('span', { class: 'group-count', 'aria-hidden': 'true' }, `${on}/${layers.length}`)),
      h('ul', { class: 'layer-list' }, layers.map((l) => layerItem(l, zoom))));
    if (firstRender ? dirID !== 0 : open.has(String(dirID))) details.open = true;
    ui.layerGroups.append(details);
  }
  if (focusKey) ui.layerGroups.querySelector(focusKey)?.focus();
}

function layerItem(l, zoom) {
  const L = state.lang;
  const id = `layer-${l.slug}`;
  const leg = legendEntries(l);
  const hidden = zoom < (l.min_zoom || 0);
  const count = h('span', { class: 'count', dataset: { count: l.slug } });
  setCount(count, l);
  const input = h('input', { type: 'checkbox', id, checked: state.visible.has(l.slug), dataset: { slug: l.slug },
    onchange: (e) => setLayerVisible(l.slug, e.target.checked) });
  const label = h('label', { for: id },
    layerSymbol(l, leg),
    h('span', { class: 'layer-title' }, pick(l.title, L),
      l.live ? h('span', { class: 'badge-live' }, t('map.live')) : null,
      hidden && state.visible.has(l.slug) ? h('span', { class: 'hint' }, t('map.zoomInToSee')) : null),
    count);
  const sub = leg.entries.length > 1 && state.visible.has(l.slug)
    ? h('ul', { class: 'legend-sub', 'aria-label': `${t('map.legend')}: ${pick(l.title, L)}` },
      leg.entries.map((e) => h('li', {}, swatch(leg.type, leg.paint, e.color), valueName(e.label))))
    : null;
  return h('li', { class: `layer-item${hidden ? ' out-of-zoom' : ''}`, dataset: { slug: l.slug } }, input, label, sub);
}

// setCount writes a layer's count: its stored features, or for a live layer the vehicles live now
// (the live feed's length, told by ext/live.js through setLiveCount), "none live now" when none.
function setCount(node, l) {
  const L = state.lang;
  if (!state.liveCount.has(l.slug)) {
    node.textContent = formatNumber(l.feature_count || 0, L);
    node.title = t('map.featureCount', { n: formatNumber(l.feature_count || 0, L) });
    delete node.dataset.live;
    return;
  }
  const n = state.liveCount.get(l.slug);
  node.dataset.live = String(n);
  node.textContent = n ? formatNumber(n, L) : t('map.noneLive');
  node.title = n ? t('map.liveNow', { n: formatNumber(n, L) }) : t('map.noneLive');
}

function setLiveCount(slug, n) {
  if (state.liveCount.get(slug) === n) return;
  state.liveCount.set(slug, n);
  const l = state.bySlug.get(slug);
  const c = ui.layerGroups?.querySelector(`[data-count="${slug}"]`);
  if (l && c) setCount(c, l);
}

// layerSymbol is a layer's mark in the legend and popups: the icons the map draws for it (icons.js),
// else a swatch of its colour.
function layerSymbol(l, leg) {
  const icons = iconNames(l.slug);
  if (icons.length) return h('span', { class: 'layer-icons' }, icons.map((n) => iconSVG(n)));
  return swatch(leg.type, leg.paint, leg.entries[0]?.color || '#777');
}

function setLayerVisible(slug, on) {
  if (on) state.visible.add(slug); else state.visible.delete(slug);
  if (state.map) {
    for (const id of layerIds(slug)) {
      if (state.map.getLayer(id)) state.map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
    }
  }
  if (!on && state.popup?.isOpen() && state.popupFeatures.some((f) => f.layer === slug)) state.popup.remove();
  renderLayerPanel();
  updatePermalink();
  if (state.map) extensions.layerVisibilityChanged(extCtx, slug, on);
}

// ---------------------------------------------------------------- permalink

let permalinkTimer = 0;
let lastHash = '';

// The link is written only once the extensions have started (see start): until then the address
// keeps the parameters they read from it.
function updatePermalink() {
  if (!state.map || !state.extensionsReady) return;
  clearTimeout(permalinkTimer);
  permalinkTimer = setTimeout(writePermalink, 150);
}

function writePermalink() {
  clearTimeout(permalinkTimer);
  if (followingReport()) return;
  const c = state.map.getCenter();
  const order = state.catalog.map((l) => l.slug).filter((sl) => state.visible.has(sl));
  const hash = formatPermalink({ center: [c.lng, c.lat], zoom: state.map.getZoom(), layers: order, lang: state.lang }) +
    extensions.hashParams(extCtx);
  if (hash !== window.location.hash) {
    lastHash = hash;
    history.replaceState(null, '', hash);
  }
}

function applyPermalink(hash, { initial = false } = {}) {
  const p = parsePermalink(hash, new Set(state.bySlug.keys()), LANGS);
  if (p.unknown.length) notice('map.unknownLayers', { list: p.unknown.join(', ') }, { id: 'unknown-layers' });
  if (p.layers) {
    state.visible = new Set(p.layers);
  }
  if (!initial) {
    if (state.map) {
      for (const l of state.catalog) {
        for (const id of layerIds(l.slug)) {
          if (state.map.getLayer(id)) state.map.setLayoutProperty(id, 'visibility', state.visible.has(l.slug) ? 'visible' : 'none');
        }
      }
      if (p.center) state.map.jumpTo({ center: p.center, zoom: p.zoom });
    }
    if (p.lang && p.lang !== state.lang) setLang(p.lang);
    else renderLayerPanel();
  }
  return p;
}

async function copyLink() {
  updatePermalink();
  await new Promise((r) => setTimeout(r, 200));
  try {
    await navigator.clipboard.writeText(window.location.href);
  } catch { /* clipboard may be refused; the address bar holds the link anyway */ }
  notice('map.linkCopied', null, { timeout: 2500, id: 'link-copied' });
}

// ---------------------------------------------------------------- map

function createMap(p) {
  const visible = state.visible;
  const basemap = state.config.basemap_url ? { url: state.config.basemap_url, attribution: state.config.basemap_attribution } : null;
  const full = buildStyle(state.catalog, visible, ORIGIN, basemap, state.lang, LABELS);
  state.labelLayers = full.layers.filter((l) => l.id.startsWith('lbl-'));
  state.composite = compositeSlugs(state.catalog, visible);
  // Styles of the thematic layers come from the catalog, edited by GIS staff. MapLibre refuses a
  // whole style when one layer in it is invalid, so those layers are added one by one once the
  // base style has loaded: a bad one is reported and left out, and the map still works.
  const ours = (l) => l.id === 'background' || l.source === 'basemap' || BASE_SLUGS.includes(l['source-layer']);
  const style = { ...full, layers: full.layers.filter(ours) };
  const deferred = full.layers.filter((l) => !ours(l));
  const narrow = window.matchMedia('(max-width: 720px)').matches;
  const map = new maplibregl.Map({
    container: ui.mapEl,
    style,
    ...initialView(p),
    maxBounds: maxBounds(),
    minZoom: 3,
    maxZoom: 20,
    dragRotate: false,
    pitchWithRotate: false,
    touchPitch: false,
    attributionControl: false,
    fadeDuration: 0,
  });
  map.touchZoomRotate.disableRotation();
  map.keyboard.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), narrow ? 'bottom-right' : 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  map.addControl(new maplibregl.AttributionControl({ compact: true }), 'bottom-right');
  state.map = map;
  window.__geoportal = { map, state, refreshLive };
  holdPartialFrames(map);

  // Icons are drawn when a tile first needs one (icons.js), so they never hold up the first tiles.
  addIconOnDemand(map);
  // The deferred layers go under the labels, their labels under the district names (labels.js:
  // the upper layer wins a contested place).
  const firstLabel = style.layers.find((l) => l.id.startsWith('lbl-'))?.id;
  const placeLabel = style.layers.find((l) => l.id === 'lbl-districts' || l.id === 'lbl-city_boundary')?.id;
  map.once('style.load', () => {
    for (const l of deferred) map.addLayer(l, l.id.startsWith('lbl-') ? placeLabel : firstLabel);
  });
  map.on('error', (e) => {
    if (e.sourceId === 'basemap' || (e.error && String(e.error.url || e.error.message || '').includes(state.config.basemap_url || '\u0000'))) {
      if (!state.basemapFailed) {
        state.basemapFailed = true;
        notice('map.basemapUnavailable', null, { id: 'basemap' });
        if (map.getLayer('basemap')) map.setLayoutProperty('basemap', 'visibility', 'none');
      }
      return;
    }
    // A missing tile or a refused request must not break the page; keep a trace for debugging.
    console.warn('map:', e.error?.message || e.error || e);
  });
  map.on('moveend', () => { updatePermalink(); updateZoomHints(); });
  map.on('click', onMapClick);
  map.on('mousemove', onMouseMove);
  map.on('mouseout', () => setHover(null));
  map.once('load', () => {
    performance.mark('geoportal:map-load');
    // On a phone the attribution starts folded (the (i) button opens it).
    if (narrow) ui.mapEl.querySelector('.maplibregl-ctrl-attrib')?.classList.remove('maplibregl-compact-show');
    localizeMapControls();
  });
  map.on('idle', () => { document.body.dataset.mapIdle = String(Date.now()); });
  return map;
}

// holdPartialFrames: while the first view's tiles load, MapLibre draws a frame each time one of
// them arrives. Where WebGL is drawn in software (and on slow phones) each of those frames costs
// more than parsing the tiles, so the map skips them: it draws the frame that asks for the tiles,
// then the next one once every tile in view is in. The wait ends at the first complete frame, on
// the first user move, or HOLD_MS after the first tile was asked for (a tile that never answers
// must not keep the map blank), whichever comes first.
const HOLD_MS = 4000;
function holdPartialFrames(map) {
  const pending = new Set(); // tiles asked for and not in yet, as "source/tile key"
  let held = false;
  let on = true;
  const key = (e) => `${e.sourceId}/${e.tile.tileID.key}`;
  const repaint = () => Object.getPrototypeOf(map).triggerRepaint.call(map);
  const release = () => {
    if (!on) return;
    on = false;
    delete map.triggerRepaint; // back to MapLibre's own
    if (held) repaint();
  };
  const done = (e) => {
    if (!on || !e.tile) return;
    pending.delete(key(e));
    if (held && pending.size === 0) { held = false; repaint(); }
  };
  // MapLibre asks for a frame while it is still drawing the one that asks for the tiles, so the
  // check is made when the frame is due.
  let due = 0;
  map.triggerRepaint = () => {
    if (due) return;
    due = requestAnimationFrame(() => {
      due = 0;
      if (!on || !pending.size) repaint();
      else held = true;
    });
  };
  let timer = 0;
  map.on('dataloading', (e) => {
    if (!on || !e.tile) return;
    pending.add(key(e));
    timer ||= setTimeout(release, HOLD_MS);
  });
  map.on('data', done);
  map.on('dataabort', done);
  map.on('error', done);
  map.once('load', release);
  map.once('movestart', release);
}

// initialView is the permalink's view, else the configured one, else the whole built-up city,
// else the city's view derived from its data by the server (/api/config).
function initialView(p) {
  if (p.center) return { center: p.center, zoom: p.zoom };
  const city = state.config.city || {};
  if (validCenter(city.center) && !city.derived?.includes('center')) return { center: city.center, zoom: city.zoom || 12 };
  // The built-up city (buildings, else streets) rather than the whole administrative area,
  // which reaches far into the steppe.
  const bbox = ['buildings', 'streets', 'districts', 'city_boundary'].map((sl) => state.bySlug.get(sl)?.bbox)
    .find((b) => Array.isArray(b) && b.length === 4 && b.every(Number.isFinite));
  if (bbox) {
    const narrow = window.matchMedia('(max-width: 720px)').matches;
    // A phone shows the centre at street level rather than the whole city as dots.
    if (narrow) return { center: [(bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2], zoom: 11.6 };
    return {
      bounds: [[bbox[0], bbox[1]], [bbox[2], bbox[3]]],
      fitBoundsOptions: { padding: narrow ? { top: 130, bottom: 80, left: 12, right: 12 } : 24 },
    };
  }
  if (validCenter(city.center)) return { center: city.center, zoom: city.zoom || 12 };
  return WORLD;
}

const validCenter = (c) => Array.isArray(c) && c.length === 2 && c.every(Number.isFinite);

// maxBounds keeps the map around the city when its bounds are configured (serve -city-bounds),
// with a margin of their own size and at least a quarter of a degree on every side. Bounds
// derived from the data do not hold the map: a layer imported elsewhere must stay reachable.
function maxBounds() {
  const city = state.config.city;
  const b = city?.bounds;
  if (!Array.isArray(b) || b.length !== 4 || !b.every(Number.isFinite) || city.derived?.includes('bounds')) return null;
  const mx = Math.max(b[2] - b[0], 0.25);
  const my = Math.max(b[3] - b[1], 0.25);
  return [[Math.max(b[0] - mx, -180), Math.max(b[1] - my, -85)], [Math.min(b[2] + mx, 180), Math.min(b[3] + my, 85)]];
}

let lastZoomBand = null;
function updateZoomHints() {
  const z = Math.floor(state.map.getZoom());
  if (z === lastZoomBand) return;
  lastZoomBand = z;
  renderLayerPanel();
}

function localizeMapControls() {
  const labels = {
    '.maplibregl-ctrl-zoom-in': 'map.zoomIn',
    '.maplibregl-ctrl-zoom-out': 'map.zoomOut',
    '.maplibregl-ctrl-attrib-button': 'map.dataSources',
  };
  for (const [sel, key] of Object.entries(labels)) {
    for (const el of ui.mapEl.querySelectorAll(sel)) {
      el.title = t(key);
      el.setAttribute('aria-label', t(key));
    }
  }
  const canvas = ui.mapEl.querySelector('canvas');
  if (canvas) canvas.setAttribute('aria-label', cityText('map.mapLabel'));
}

function interactiveLayerIds() {
  const ids = [];
  for (const l of state.catalog) {
    if (!state.visible.has(l.slug)) continue;
    for (const id of [`lyr-${l.slug}`, `cl-${l.slug}`, `hit-${l.slug}`]) if (state.map.getLayer(id)) ids.push(id);
  }
  return ids;
}

function featuresAt(point, pad) {
  const box = [[point.x - pad, point.y - pad], [point.x + pad, point.y + pad]];
  const seen = new Set();
  const out = [];
  for (const f of state.map.queryRenderedFeatures(box, { layers: interactiveLayerIds() })) {
    const slug = f.sourceLayer;
    const cluster = f.layer.id.startsWith('cl-');
    const key = `${slug}/${cluster ? 'c' : ''}${f.id ?? JSON.stringify(f.properties)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const point = !cluster && f.geometry?.type === 'Point' ? f.geometry.coordinates : null;
    out.push({ layer: slug, id: f.id, properties: f.properties, source: f.source, sourceLayer: f.sourceLayer, cluster, point });
  }
  // Points and lines before the polygons they sit on; the base map last.
  const rank = (x) => (state.composite.has(x.layer) ? 2 : 0) + (/Polygon/.test(state.bySlug.get(x.layer)?.geometry_type) ? 1 : 0);
  return out.sort((a, b) => rank(a) - rank(b));
}

let moveFrame = 0;
function onMouseMove(e) {
  if (moveFrame) return;
  moveFrame = requestAnimationFrame(() => {
    moveFrame = 0;
    if (state.picking) { state.map.getCanvas().style.cursor = 'crosshair'; return; }
    const f = featuresAt(e.point, 3)[0] || null;
    setHover(f && !f.cluster && f.id !== undefined ? f : null);
    state.map.getCanvas().style.cursor = f ? 'pointer' : '';
  });
}

function featureRef(f) {
  return { source: f.source, sourceLayer: f.sourceLayer, id: f.id };
}

function setHover(f) {
  const map = state.map;
  if (state.hovered && (!f || state.hovered.id !== f.id || state.hovered.sourceLayer !== f.sourceLayer)) {
    map.setFeatureState(featureRef(state.hovered), { hover: false });
    state.hovered = null;
  }
  if (f && !state.hovered) {
    map.setFeatureState(featureRef(f), { hover: true });
    state.hovered = f;
  }
}

function setSelected(f) {
  const map = state.map;
  if (state.selected) {
    try { map.setFeatureState(featureRef(state.selected), { selected: false }); } catch { /* source gone */ }
    state.selected = null;
  }
  if (f && f.id !== undefined && f.id !== null) {
    map.setFeatureState(featureRef(f), { selected: true });
    state.selected = f;
  }
}

function onMapClick(e) {
  if (reportMapClick(e)) return; // pinning a problem for a report
  if (extensions.mapClick(extCtx, e)) return;
  if (state.picking) {
    togglePicking(false);
    runNearest([e.lngLat.lng, e.lngLat.lat]);
    return;
  }
  const fs = featuresAt(e.point, window.matchMedia('(pointer: coarse)').matches ? 10 : 4);
  if (!fs.length) {
    if (state.popup) state.popup.remove();
    return;
  }
  if (fs[0].cluster) {
    // A group of points drawn as one: zoom in to see them apart.
    if (state.popup) state.popup.remove();
    state.map.easeTo({ center: e.lngLat, zoom: Math.min(state.map.getZoom() + 2, 16) });
    return;
  }
  openPopup(fs.filter((f) => !f.cluster), e.lngLat);
}

// ---------------------------------------------------------------- popup

function openPopup(features, lngLat) {
  state.popupFeatures = features;
  state.popupIndex = 0;
  if (!state.popup) {
    state.popup = new maplibregl.Popup({ maxWidth: '340px', focusAfterOpen: true, className: 'feature-popup' });
    state.popup.on('close', () => setSelected(null));
  }
  state.popup.setLngLat(lngLat);
  renderPopup();
  if (!state.popup.isOpen()) state.popup.addTo(state.map);
  localizePopup();
}

function localizePopup() {
  const btn = state.popup?.getElement()?.querySelector('.maplibregl-popup-close-button');
  if (btn) { btn.setAttribute('aria-label', t('map.close')); btn.title = t('map.close'); }
}

// YEAR_ATTRIBUTE names the whole-number attributes that hold a year ("year", "season",
// "built_year"): written as "2026", never "2 026".
const YEAR_ATTRIBUTE = /(^|_)(year|season)(_|$)/;

/**
 * valueLabel is a coded value in people's words in L from the attribute's value dictionary
 * (the catalog's attributes[].values); a list ("пластик, бумага") whose every item is in the
 * dictionary reads item by item. Without an entry it is null.
 */
function valueLabel(a, v, L) {
  const dict = a?.values;
  if (!dict || v === undefined || v === null || v === '') return null;
  const s = String(v);
  if (Object.hasOwn(dict, s)) return pick(dict[s], L);
  if (!s.includes(',')) return null;
  const items = s.split(',').map((x) => x.trim());
  return items.every((x) => Object.hasOwn(dict, x)) ? items.map((x) => pick(dict[x], L)).join(', ') : null;
}

function formatValue(v, a, L) {
  const type = a?.type;
  if (v === undefined || v === null || v === '') return t('map.noData');
  const label = valueLabel(a, v, L);
  if (label !== null) return label;
  if (type === 'boolean') return (v === true || v === 'true' || v === 't' || v === 1) ? t('map.yes') : t('map.no');
  if (['integer', 'bigint'].includes(type) && YEAR_ATTRIBUTE.test(a.name) && Number.isFinite(Number(v))) return formatYear(v);
  if (['integer', 'bigint', 'double'].includes(type) && Number.isFinite(Number(v))) {
    return formatNumber(Number(v), L, { maximumFractionDigits: 2 });
  }
  if (type === 'timestamptz' || type === 'date') {
    const s = formatDate(v, L, { time: type !== 'date' });
    if (s !== String(v)) return s;
  }
  return String(v);
}

function featureName(layer, props, L) {
  return props[`name_${L}`] || props.name || props.address || props.ref || '';
}

// Points with no address of their own (a camera, a stop, a report pinned without one) are
// described by the nearest address (/api/reverse), asked once per point and language.
const NO_REVERSE = new Set(['buildings', 'streets', 'districts', 'city_boundary', 'places']);
const placeCache = new Map(); // "lon,lat,lang" → text, '' (nothing near) or null (asked)

function popupPlace(f, L) {
  if (!f.point || NO_REVERSE.has(f.layer) || f.properties.address) return '';
  const [lon, lat] = f.point.map((x) => Number(x.toFixed(6)));
  const key = `${lon},${lat},${L}`;
  if (placeCache.has(key)) return placeCache.get(key) || '';
  placeCache.set(key, null);
  fetch(`/api/reverse?${new URLSearchParams({ lon: String(lon), lat: String(lat), lang: L })}`)
    .then((r) => (r.ok ? r.json() : null))
    .then((b) => {
      const p = b?.place;
      const text = !p ? '' : p.kind === 'place' && p.distance_m >= 50
        ? t('map.addressNear', { place: p.address, distance: formatDistance(p.distance_m) })
        : p.address;
      placeCache.set(key, text);
      if (text && state.popup?.isOpen() && state.popupFeatures[state.popupIndex] === f && state.lang === L) renderPopup();
    })
    .catch(() => placeCache.set(key, ''));
  return '';
}

function renderPopup() {
  const L = state.lang;
  const f = state.popupFeatures[state.popupIndex];
  if (!f) return;
  const layer = state.bySlug.get(f.layer);
  setSelected(f);
  const name = featureName(layer, f.properties, L);
  const place = popupPlace(f, L);
  const rows = (layer?.attributes || []).filter((a) => a.popup && !(a.name === 'name' && name === f.properties.name))
    .map((a) => {
      const v = f.properties[a.name];
      // Coded values read in the chosen language (the attribute's dictionary, else the
      // catalog's value.* for status-like codes); other text is shown as it was entered.
      let shown = valueLabel(a, v, L) ?? (['status', 'network'].includes(a.name) && v ? valueName(v) : formatValue(v, a, L));
      if (a.name === 'address' && !v && place) shown = h('span', { class: 'popup-place' }, place);
      return h('tr', {}, h('th', { scope: 'row' }, pick(a.title, L)), h('td', {}, shown));
    });
  if (place && !(layer?.attributes || []).some((a) => a.popup && a.name === 'address')) {
    rows.push(h('tr', {}, h('th', { scope: 'row' }, t('map.address')), h('td', {}, h('span', { class: 'popup-place' }, place))));
  }
  const leg = layer ? legendEntries(layer) : null;
  const nav = state.popupFeatures.length > 1
    ? h('div', { class: 'popup-nav' },
      h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('map.previous'), title: t('map.previous'), disabled: state.popupIndex === 0,
        onclick: () => { state.popupIndex--; renderPopup(); } }, '‹'),
      h('span', {}, t('map.featureN', { i: state.popupIndex + 1, n: state.popupFeatures.length })),
      h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('map.next'), title: t('map.next'), disabled: state.popupIndex === state.popupFeatures.length - 1,
        onclick: () => { state.popupIndex++; renderPopup(); } }, '›'))
    : null;
  const content = h('div', { class: 'popup', dataset: { layer: f.layer, id: String(f.id ?? '') } },
    h('p', { class: 'popup-layer' }, leg ? layerSymbol(layer, leg) : null, pick(layer?.title, L)),
    // h2: on a phone the panel's h2s are folded away and the popup's title follows the page's h1.
    name ? h('h2', { class: 'popup-title' }, name) : null,
    rows.length ? h('table', { class: 'popup-table' }, h('tbody', {}, rows)) : null,
    extensions.popupExtras(extCtx, f, layer),
    nav);
  state.popup.setDOMContent(content);
  localizePopup();
}

// ---------------------------------------------------------------- search

let searchTimer = 0;
let searchAbort = null;
const SEARCH_PAGE = 10;

function onSearchInput() {
  ui.searchClear.hidden = !ui.searchInput.value;
  clearTimeout(searchTimer);
  searchTimer = setTimeout(submitSearch, 250);
}

function clearSearch() {
  ui.searchInput.value = '';
  ui.searchClear.hidden = true;
  state.lastSearch = null;
  ui.searchStatus.textContent = '';
  clear(ui.searchResults);
  showResults(false);
  ui.searchInput.focus();
}

function showResults(on) {
  ui.searchResults.hidden = !on;
  ui.searchInput.setAttribute('aria-expanded', String(on));
  if (!on) setActiveOption(null);
}

function activeOption() {
  const id = ui.searchInput.getAttribute('aria-activedescendant');
  return id ? document.getElementById(id) : null;
}

function setActiveOption(opt) {
  for (const o of ui.searchResults.querySelectorAll('[aria-selected="true"]')) o.setAttribute('aria-selected', 'false');
  if (!opt) { ui.searchInput.removeAttribute('aria-activedescendant'); return; }
  opt.setAttribute('aria-selected', 'true');
  ui.searchInput.setAttribute('aria-activedescendant', opt.id);
  opt.scrollIntoView({ block: 'nearest' });
}

function chooseOption(opt) {
  if (opt.dataset.more) { searchMore(); return; }
  const hit = state.lastSearch?.results[Number(opt.dataset.index)];
  if (hit) selectHit(hit);
}

/** searchPosition is where the results are measured from: the user's position when known, else the map's centre. */
function searchPosition() {
  if (state.here) return { lon: state.here[0], lat: state.here[1], mine: true };
  const c = state.map?.getCenter();
  return c ? { lon: c.lng, lat: c.lat, mine: false } : null;
}

async function fetchSearch(q, offset) {
  if (searchAbort) searchAbort.abort();
  searchAbort = new AbortController();
  const params = { q, lang: state.lang, limit: String(SEARCH_PAGE), offset: String(offset) };
  const pos = searchPosition();
  if (pos) { params.lon = pos.lon.toFixed(6); params.lat = pos.lat.toFixed(6); }
  const res = await fetch(`/api/search?${new URLSearchParams(params)}`, { signal: searchAbort.signal });
  const body = await res.json();
  if (!res.ok) throw new Error(body?.error?.message || res.statusText);
  return { ...body, mine: !!pos?.mine };
}

async function submitSearch() {
  clearTimeout(searchTimer);
  const q = ui.searchInput.value.trim();
  if (!q) { if (searchAbort) searchAbort.abort(); state.lastSearch = null; ui.searchStatus.textContent = ''; clear(ui.searchResults); showResults(false); return; }
  ui.searchStatus.textContent = t('map.searching');
  try {
    const body = await fetchSearch(q, 0);
    state.lastSearch = { q, total: body.total, mine: body.mine, results: body.results || [] };
    renderSearchResults(state.lastSearch);
  } catch (err) {
    if (err.name === 'AbortError') return;
    ui.searchStatus.textContent = t('map.loadError');
  }
}

/** searchMore loads the next page of the same query and keeps the keyboard on the first new result. */
async function searchMore() {
  const last = state.lastSearch;
  if (!last) return;
  const from = last.results.length;
  try {
    const body = await fetchSearch(last.q, from);
    last.results = last.results.concat(body.results || []);
    last.total = body.total;
    renderSearchResults(last);
    const opt = ui.searchResults.querySelector(`[role="option"][data-index="${from}"]`);
    if (opt) setActiveOption(opt);
  } catch (err) {
    if (err.name !== 'AbortError') ui.searchStatus.textContent = t('map.loadError');
  }
}

function hitButton(hit, extra) {
  const L = state.lang;
  const layer = state.bySlug.get(hit.layer);
  const leg = layer ? legendEntries(layer) : null;
  return h('li', {}, h('button', { type: 'button', class: 'result', dataset: { layer: hit.layer, id: String(hit.id) }, onclick: () => selectHit(hit) },
    leg ? swatch(leg.type, leg.paint, leg.entries[0].color) : null,
    h('span', { class: 'result-text' },
      h('span', { class: 'result-name' }, hit.name || hit.address || `#${hit.id}`),
      h('span', { class: 'result-meta' }, [pick(hit.layer_title, L), hit.address && hit.address !== hit.name ? hit.address : null].filter(Boolean).join(' · '))),
    extra ? h('span', { class: 'result-extra' }, extra) : null));
}

/** resultIcon is the icon of a result's kind: the layer's map icon, a street or house pictogram, else its legend swatch. */
function resultIcon(slug) {
  const names = iconNames(slug);
  if (names.length) return iconSVG(names[0], 26);
  const layer = state.bySlug.get(slug);
  if (layer?.geometry_type?.endsWith('LineString') && ICONS.street) return iconSVG('street', 26);
  if (slug === 'buildings' && ICONS.house) return iconSVG('house', 26);
  const leg = layer ? legendEntries(layer) : null;
  return leg ? swatch(leg.type, leg.paint, leg.entries[0].color) : null;
}

/** renderSearchResults draws the loaded results grouped by kind (in the order of each kind's best result), then "more". */
function renderSearchResults(r) {
  const L = state.lang;
  clear(ui.searchResults);
  setActiveOption(null);
  const hits = r.results;
  ui.searchResults.dataset.q = r.q;
  ui.searchStatus.textContent = !r.total ? t('map.noResults')
    : r.total > hits.length ? t('map.resultsShown', { n: r.total, shown: hits.length }) : t('map.resultsCount', { n: r.total });
  const groups = new Map();
  hits.forEach((hit, i) => {
    if (!groups.has(hit.layer)) groups.set(hit.layer, []);
    groups.get(hit.layer).push([hit, i]);
  });
  for (const [slug, items] of groups) {
    const labelId = `search-group-${slug}`;
    const title = pick(items[0][0].layer_title, L);
    ui.searchResults.append(h('div', { role: 'group', class: 'result-group', 'aria-labelledby': labelId, dataset: { layer: slug } },
      h('div', { class: 'result-group-title', id: labelId }, resultIcon(slug), h('span', {}, title)),
      h('div', { class: 'result-group-list' }, items.map(([hit, i]) => {
        const meta = [];
        if (hit.address && hit.address !== hit.name) meta.push(hit.address);
        if (hit.count > 1) meta.push(t('map.searchMerged', { n: formatNumber(hit.count, L) }));
        if (hit.code && hit.count <= 1) meta.push(t('map.searchCode', { code: hit.code }));
        return h('div', {
          role: 'option', id: `search-opt-${i}`, class: 'result', 'aria-selected': 'false',
          dataset: { layer: hit.layer, id: String(hit.id), index: String(i) },
          onclick: () => selectHit(hit), onmousemove: (e) => setActiveOption(e.currentTarget),
        },
        h('span', { class: 'result-text' },
          h('span', { class: 'result-name' }, hit.name || hit.address || `#${hit.id}`),
          meta.length ? h('span', { class: 'result-meta' }, meta.join(' · ')) : null),
        r.mine && hit.distance_m != null ? h('span', { class: 'result-extra' }, formatDistance(hit.distance_m)) : null);
      }))));
  }
  if (r.total > hits.length) {
    ui.searchResults.append(h('div', {
      role: 'option', id: 'search-opt-more', class: 'result result-more', 'aria-selected': 'false', dataset: { more: '1' },
      onclick: searchMore,
    }, t('map.searchMore', { n: formatNumber(r.total - hits.length, L) })));
  }
  showResults(hits.length > 0);
}

function selectHit(hit) {
  const map = state.map;
  const layer = state.bySlug.get(hit.layer);
  if (!state.visible.has(hit.layer)) setLayerVisible(hit.layer, true);
  if (window.matchMedia('(max-width: 720px)').matches) toggleSheet(false);
  showResults(false);
  const zoom = Math.max(map.getZoom(), (layer?.min_zoom || 0) + 0.5, 16);
  const src = sourceId(hit.layer, state.composite);
  const show = () => {
    const fs = map.querySourceFeatures(src, { sourceLayer: hit.layer, filter: ['==', ['id'], hit.id] });
    const f = fs[0]
      ? { layer: hit.layer, id: fs[0].id, properties: fs[0].properties, source: src, sourceLayer: hit.layer }
      : { layer: hit.layer, id: hit.id, properties: { name: hit.name, address: hit.address }, source: src, sourceLayer: hit.layer };
    openPopup([f], hit.point);
  };
  const duration = window.matchMedia('(prefers-reduced-motion: reduce)').matches ? 0 : 900;
  if (hit.bbox && hit.count > 1) {
    // A street or several places of one name: show them all.
    map.fitBounds([[hit.bbox[0], hit.bbox[1]], [hit.bbox[2], hit.bbox[3]]], { padding: 60, maxZoom: 17, duration });
  } else {
    map.flyTo({ center: hit.point, zoom, duration });
  }
  map.once('idle', show);
}

// ---------------------------------------------------------------- nearest

function renderNearestOptions() {
  const cur = ui.nearestSelect.value;
  clear(ui.nearestSelect);
  for (const slug of NEAREST_LAYERS) {
    const l = state.bySlug.get(slug);
    if (l) ui.nearestSelect.append(h('option', { value: slug }, pick(l.title, state.lang)));
  }
  if (cur) ui.nearestSelect.value = cur;
}

function togglePicking(on) {
  state.picking = typeof on === 'boolean' ? on : !state.picking;
  ui.pickPoint.setAttribute('aria-pressed', String(state.picking));
  ui.pickBanner.hidden = !state.picking;
  if (state.map) state.map.getCanvas().style.cursor = state.picking ? 'crosshair' : '';
  if (state.picking && window.matchMedia('(max-width: 720px)').matches) toggleSheet(false);
}

function nearestFromGeolocation() {
  if (!navigator.geolocation) { ui.nearestStatus.textContent = t('map.geolocationFailed'); return; }
  ui.nearestStatus.textContent = t('map.locating');
  navigator.geolocation.getCurrentPosition(
    (pos) => { state.here = [pos.coords.longitude, pos.coords.latitude]; runNearest(state.here); },
    () => { ui.nearestStatus.textContent = t('map.geolocationFailed'); },
    { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
}

async function runNearest(from) {
  const layer = ui.nearestSelect.value;
  if (!layer) return;
  ui.nearestStatus.textContent = t('map.searching');
  try {
    const asked = ui.byWalk.checked ? 'walk' : 'line';
    const q = new URLSearchParams({ layer, lon: from[0].toFixed(6), lat: from[1].toFixed(6), limit: '5', lang: state.lang, by: asked });
    const res = await fetch(`/api/nearest?${q}`);
    const body = await res.json();
    if (!res.ok) throw new Error(body?.error?.message || res.statusText);
    // Asked on foot from far off the streets (or in a city without them), the server answers in
    // a straight line with walk_unavailable: the list says so.
    const by = body.by === 'walk' ? 'walk' : 'line';
    state.lastNearest = { from, layer, by, walkUnavailable: asked === 'walk' && by !== 'walk', results: body.results || [] };
    if (!state.visible.has(layer)) setLayerVisible(layer, true);
    renderNearestResults(state.lastNearest);
    showNearestOnMap(state.lastNearest);
  } catch {
    ui.nearestStatus.textContent = t('map.loadError');
  }
}

function renderNearestResults(r) {
  const L = state.lang;
  clear(ui.nearestResults);
  // Which distance the list gives is said, so that nobody reads a straight line as a walk.
  const walk = r.by === 'walk';
  const how = walk ? t('map.walkAlongStreets') : r.walkUnavailable ? t('map.walkUnavailable') : t('map.straightLine');
  ui.nearestStatus.textContent = r.results.length
    ? `${pick(state.bySlug.get(r.layer)?.title, L)}: ${r.results.length} · ${how}` : t('map.noResults');
  for (const hit of r.results) {
    const d = formatDistance(hit.distance_m);
    const label = !walk ? d : hit.walk_m != null ? t('map.walkDistance', { d: formatDistance(hit.walk_m) }) : t('map.walkNone', { d });
    ui.nearestResults.append(hitButton(hit, label));
  }
  ui.nearestResults.hidden = r.results.length === 0;
}

function showNearestOnMap(r) {
  const map = state.map;
  if (!state.nearestMarker) {
    const el = h('div', { class: 'here-marker', role: 'img' });
    state.nearestMarker = new maplibregl.Marker({ element: el });
  }
  state.nearestMarker.getElement().setAttribute('aria-label', t('map.from'));
  state.nearestMarker.setLngLat(r.from).addTo(map);
  const b = new maplibregl.LngLatBounds(r.from, r.from);
  for (const hit of r.results) b.extend(hit.point);
  const narrow = window.matchMedia('(max-width: 720px)').matches;
  map.fitBounds(b, { padding: narrow ? { top: 150, bottom: 80, left: 40, right: 40 } : 80, maxZoom: 16, duration: 600 });
}

// ---------------------------------------------------------------- live layers

async function refreshLive() {
  if (document.visibilityState === 'hidden' || !state.map) return;
  for (const l of state.catalog) {
    if (!l.live || !state.visible.has(l.slug)) continue;
    try {
      const res = await fetch(`/api/layers/${encodeURIComponent(l.slug)}`, { cache: 'no-store' });
      if (!res.ok) continue;
      const fresh = await res.json();
      if (fresh.version !== l.version) {
        l.version = fresh.version;
        l.feature_count = fresh.feature_count;
        const src = state.map.getSource(sourceId(l.slug, state.composite));
        if (src && src.setTiles) src.setTiles([tileURL(ORIGIN, [l.slug], l.version)]);
        const c = ui.layerGroups.querySelector(`[data-count="${l.slug}"]`);
        if (c) setCount(c, l);
      }
    } catch { /* try again next round */ }
  }
}

// ---------------------------------------------------------------- extensions

// extCtx is what the map's extensions (src/ext/) see of the page; see extensions.js.
const extCtx = {
  get map() { return state.map; },
  lang: () => state.lang,
  catalog: () => state.catalog,
  layer: (slug) => state.bySlug.get(slug),
  source: (slug) => sourceId(slug, state.composite), // the MapLibre source holding a catalog layer
  visible: (slug) => state.visible.has(slug),
  setLayerVisible,
  setLiveCount,
  notice,
  popupRefresh: () => { if (state.popup?.isOpen()) renderPopup(); },
  closePopup: () => { if (state.popup?.isOpen()) state.popup.remove(); },
  updatePermalink: () => updatePermalink(),
};

// ---------------------------------------------------------------- start

async function getJSON(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return res.json();
}

async function start() {
  performance.mark('geoportal:start');
  const hashLang = new URLSearchParams(window.location.hash.replace(/^#/, '')).get('lang');
  state.lang = initialLang(LANGS.includes(hashLang) ? hashLang : null);
  setLanguage(state.lang);
  document.documentElement.lang = state.lang;
  if (LABELS) prefetchGlyphs(ORIGIN, state.lang, parsePermalink(window.location.hash, new Set(), LANGS).zoom ?? 12);
  buildShell();
  renderTexts();
  document.title = `${cityText('map.documentTitle')} — ${t('map.programme')}`;
  let catalog;
  try {
    const [layers, config] = await Promise.all([getJSON('/api/layers'), getJSON('/api/config').catch(() => ({}))]);
    catalog = layers;
    state.config = config || {};
    setTimeZone(state.config.city?.time_zone);
  } catch {
    notice('map.loadError', null, { id: 'load' });
    return;
  }
  performance.mark('geoportal:catalog');
  state.catalog = catalog.layers || [];
  state.directions = catalog.directions || [];
  state.bySlug = new Map(state.catalog.map((l) => [l.slug, l]));
  state.visible = new Set(DEFAULT_LAYERS.filter((sl) => state.bySlug.has(sl)));
  const p = applyPermalink(window.location.hash, { initial: true });
  performance.mark('geoportal:map-create');
  createMap(p);
  performance.mark('geoportal:map-created');
  initReports(state.map);
  setLang(state.lang, { remember: Boolean(hashLang) });
  // The extensions start once the map has drawn its first tiles; the link is not rewritten
  // before, so that they still find their own parameters in it.
  state.map.once('load', async () => {
    try {
      await extensionsLoaded;
      if (!state.map.loaded()) await new Promise((r) => state.map.once('idle', r));
      ui.extPanel.append(...extensions.initAll(extCtx));
      extensions.langChanged(extCtx, state.lang);
    } catch (err) {
      console.warn('extensions:', err);
    }
    state.extensionsReady = true;
    writePermalink();
    document.body.dataset.mapReady = 'true';
  });
  window.addEventListener('hashchange', () => {
    if (window.location.hash !== lastHash) applyPermalink(window.location.hash);
  });
  setInterval(refreshLive, LIVE_REFRESH_MS);
}

start();
