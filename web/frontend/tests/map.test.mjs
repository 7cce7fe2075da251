// Browser tests of the public web map (run by scripts/browser-tests.sh against the demo city).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { launch, open, waitIdle, waitForMap, axe, api, shot, PHONE, DESKTOP, OUT, BASE, CHROMIUM } from './helpers.mjs';

// Each test gets four minutes: the machine may be shared and slow; nothing here is timed.
const T = { timeout: 240000 };
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const layerVisible = (page, slug) => page.evaluate((s) => window.__geoportal.map.getLayoutProperty(`lyr-${s}`, 'visibility'), slug);
const hashParams = (page) => page.evaluate(() => Object.fromEntries(new URLSearchParams(location.hash.slice(1))));

/** A clinic of the demo city, for the click, popup and search tests. */
async function someClinic() {
  const r = await api('/api/nearest?layer=clinics&lon=57.1675&lat=50.2839&limit=1&lang=en');
  assert.equal(r.results.length, 1, 'the demo city has clinics');
  return r.results[0];
}

test('desktop: the map renders our base map and the default layers; screenshot', T, async () => {
  const page = await open(browser, DESKTOP);
  assert.equal(await layerVisible(page, 'streets'), 'visible');
  assert.equal(await layerVisible(page, 'clinics'), 'visible');
  // Tiles were requested from our own server only and drawn.
  const stats = await page.evaluate(() => {
    const m = window.__geoportal.map;
    const src = m.getStyle().sources;
    return { sources: Object.keys(src), urls: Object.values(src).flatMap((s) => s.tiles || []) };
  });
  assert.ok(stats.urls.length > 0);
  for (const u of stats.urls) assert.ok(u.startsWith(BASE + '/tiles/'), `tile URL ${u} is ours`);
  // The base map and the layers shown at start come in one composite tile per position; a layer
  // switched on later has a source of its own.
  const base = await page.evaluate(() => window.__geoportal.map.getSource('base').tiles[0]);
  assert.match(base, /\/tiles\/[a-z_,]*\bclinics\b[a-z_,]*\/\{z\}/);
  assert.ok(!stats.sources.includes('src-clinics'), stats.sources.join(','));
  assert.ok(stats.sources.includes('src-bus_stops'), stats.sources.join(','));
  const drawn = await page.evaluate(() => window.__geoportal.map.queryRenderedFeatures().length);
  assert.ok(drawn > 0, 'features are drawn');
  // Layer panel: six directions' groups with legend symbols and counts.
  const groups = await page.locator('.group summary .group-title').allTextContents();
  assert.ok(groups.includes('Safe city') && groups.includes('Digital medicine') && groups.includes('Base map'), groups.join('|'));
  assert.ok(await page.locator('.layer-item .swatch').count() >= 20);
  const count = await page.locator('[data-count="clinics"]').textContent();
  assert.match(count, /^[1-9]/);
  // OSM/ODbL attribution is present.
  const attrib = await page.locator('.maplibregl-ctrl-attrib-inner').textContent();
  assert.match(attrib, /OpenStreetMap/);
  assert.deepEqual(page.errors, []);
  await shot(page, 'desktop.png');
  await page.context().close();
});

// The browser's own interface: Debian's Chromium runs in the new headless mode, a full browser, and
// every new context opens a window whose omnibox pop-up (a WebUI page) is pre-rendered in a
// renderer of its own while our page loads: about 0.7 s of CPU on this 2-core machine that has
// nothing to do with the page. The "page only" figure switches that pre-rendering off; the other
// --disable-features values are Playwright's own (a second --disable-features replaces the first).
const PAGE_ONLY_ARGS = ['--disable-features=' + [
  'AvoidUnnecessaryBeforeUnloadCheckSync', 'DestroyProfileOnBrowserClose', 'HttpsUpgrades', 'HttpsFirstBalancedModeAutoEnable',
  'LensOverlay', 'MediaRouter', 'PaintHolding', 'ThirdPartyStoragePartitioning', 'AvoidCorsURLLoaderRestartOnRedirect',
  'TcpPortRandomizationWin', 'OptimizationHints', 'NetworkTimeServiceQuerying', 'AimEnabled', 'PreconnectToSearch',
  'PreloadTopChromeWebUI', 'WebUIOmniboxPopup', 'WebUIOmniboxFullPopup', 'WebUIOmniboxAimPopup'].join(',')];

/** firstRender loads the map in a fresh context (empty cache) and returns its timings. */
async function firstRender(b) {
  const context = await b.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  const tiles = [];
  page.on('request', (r) => { if (r.url().includes('/tiles/')) tiles.push(r.url()); });
  await page.goto(`${BASE}/`);
  await waitForMap(page);
  // MapLibre's load event: style and every visible tile loaded and drawn once.
  const r = await page.evaluate(() => ({
    ms: performance.getEntriesByName('geoportal:map-load')[0].startTime,
    assets: performance.getEntriesByType('resource').filter((e) => e.name.includes('/assets/'))
      .map((e) => ({ name: e.name.split('/').pop(), transfer: e.transferSize, body: e.decodedBodySize })),
  }));
  r.tiles = tiles.length;
  await context.close();
  return r;
}

test('first render time (benchmark figure, not a pass/fail bar)', T, async () => {
  // helpers.mjs's launch() with PAGE_ONLY_ARGS added.
  const pageOnly = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-angle=swiftshader', '--enable-unsafe-swiftshader', ...PAGE_ONLY_ARGS],
  });
  const runs = [];
  const quiet = [];
  const loads = [];
  let tiles = 0;
  try {
    // Alternated, so that both figures see the same load on the shared machine.
    for (let i = 0; i < 5; i++) {
      const r = await firstRender(browser);
      runs.push(r.ms);
      tiles = r.tiles;
      if (i === 0) writeFileSync(path.join(OUT, 'bundle-sizes.json'), JSON.stringify(r.assets, null, 2));
      quiet.push((await firstRender(pageOnly)).ms);
      loads.push(os.loadavg()[0]);
    }
  } finally {
    await pageOnly.close();
  }
  const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const ms = (a) => [...a].sort((x, y) => x - y).map(Math.round);
  const out = {
    runs_ms: ms(runs), median_ms: Math.round(median(runs)),
    page_only: { runs_ms: ms(quiet), median_ms: Math.round(median(quiet)) },
    tile_requests_first_view: tiles,
    load_avg_1min: { min: Math.min(...loads), max: Math.max(...loads) },
  };
  writeFileSync(path.join(OUT, 'first-render.json'), JSON.stringify(out, null, 2));
  console.log(`first render (navigation start to the map's load event: style + visible tiles drawn): median ${out.median_ms} ms of ${out.runs_ms.join(', ')}; ` +
    `page only (browser UI pre-rendering off): median ${out.page_only.median_ms} ms of ${out.page_only.runs_ms.join(', ')}; load ${loads.map((l) => l.toFixed(1)).join(' ')}`);
});

test('language switch changes every UI string and layer title and is remembered', T, async () => {
  const page = await open(browser, DESKTOP);
  assert.equal(await page.locator('h1').textContent(), 'Aktobe');
  await page.getByRole('button', { name: /Қазақша/ }).click();
  assert.equal(await page.locator('h1').textContent(), 'Ақтөбе');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'kk');
  assert.equal(await page.locator('#search-input').getAttribute('placeholder'), 'Мекенжай, мектеп, емхана…');
  assert.equal(await page.locator('#layers-title').textContent(), 'Қабаттар');
  assert.equal(await page.locator('#nearest-title').textContent(), 'Маған ең жақын');
  assert.equal((await page.locator('label[for="layer-clinics"] .layer-title').textContent()).trim(), 'Емханалар');
  assert.ok((await page.locator('.group-title').allTextContents()).includes('Қауіпсіз қала'));
  // The links to the other pages carry the language; the planner page opens in it.
  const planner = page.locator('.page-links a[href^="/planner"]');
  assert.equal(await planner.textContent(), 'Жоспарлаушыларға: қамту талдауы');
  assert.equal(await planner.getAttribute('href'), '/planner?lang=kk');
  const plannerPage = await page.context().newPage();
  await plannerPage.goto(`${BASE}/planner?lang=kk`);
  await plannerPage.waitForFunction(() => document.documentElement.lang === 'kk');
  await plannerPage.close();
  await page.waitForFunction(() => new URLSearchParams(location.hash.slice(1)).get('lang') === 'kk');
  // Russian too.
  await page.getByRole('button', { name: /Русский/ }).click();
  assert.equal((await page.locator('label[for="layer-clinics"] .layer-title').textContent()).trim(), 'Поликлиники');
  await page.getByRole('button', { name: /Қазақша/ }).click();
  // Opening the map afresh without a language in the link keeps Kazakh.
  await page.goto(`${BASE}/`);
  await waitForMap(page);
  assert.equal(await page.locator('h1').textContent(), 'Ақтөбе');
  assert.equal(await page.evaluate(() => localStorage.getItem('geoportal.lang')), 'kk');
  await page.context().close();
});

test('toggling a layer shows and hides it and keeps the state in the URL', T, async () => {
  const page = await open(browser, DESKTOP);
  await page.locator('#layer-clinics').uncheck();
  assert.equal(await layerVisible(page, 'clinics'), 'none');
  await page.waitForFunction(() => !new URLSearchParams(location.hash.slice(1)).get('layers').split(',').includes('clinics'));
  // Keyboard: focus the bus stops box and press space.
  await page.locator('#layer-bus_stops').focus();
  await page.keyboard.press('Space');
  assert.equal(await layerVisible(page, 'bus_stops'), 'visible');
  assert.ok(await page.locator('#layer-bus_stops').isChecked());
  assert.equal(await page.evaluate(() => document.activeElement.id), 'layer-bus_stops', 'focus stays on the checkbox');
  await page.waitForFunction(() => new URLSearchParams(location.hash.slice(1)).get('layers').split(',').includes('bus_stops'));
  await page.context().close();
});

test('clicking a feature opens a popup with its attributes in the chosen language', T, async () => {
  const clinic = await someClinic();
  const page = await open(browser, DESKTOP, `#map=16/${clinic.point[1]}/${clinic.point[0]}&layers=city_boundary,districts,streets,buildings,clinics,bus_stops&lang=kk`);
  const xy = await page.evaluate((p) => {
    const pt = window.__geoportal.map.project(p);
    const r = window.__geoportal.map.getCanvas().getBoundingClientRect();
    return { x: r.left + pt.x, y: r.top + pt.y };
  }, clinic.point);
  // Hover highlights via feature-state.
  await page.mouse.move(xy.x, xy.y);
  await page.waitForFunction((id) => window.__geoportal.state.hovered?.id === id, clinic.id);
  // The layers shown when the page opens come in the one composite source with the base map.
  const hover = await page.evaluate((id) => window.__geoportal.map.getFeatureState({ source: window.__geoportal.state.hovered.source, sourceLayer: 'clinics', id }), clinic.id);
  assert.equal(await page.evaluate(() => window.__geoportal.state.hovered.source), 'base');
  assert.equal(hover.hover, true);
  await page.mouse.click(xy.x, xy.y);
  const popup = page.locator('.maplibregl-popup .popup');
  await popup.waitFor();
  assert.equal(await popup.getAttribute('data-layer'), 'clinics');
  assert.equal(await popup.getAttribute('data-id'), String(clinic.id));
  assert.equal(await popup.locator('.popup-title').textContent(), clinic.name);
  const headers = await popup.locator('th').allTextContents();
  assert.ok(headers.includes('Мекенжай'), `Kazakh attribute titles: ${headers}`);
  // Switching language re-titles the open popup.
  await page.getByRole('button', { name: /English/ }).click();
  assert.ok((await popup.locator('th').allTextContents()).includes('Address'));
  assert.equal(await page.locator('.maplibregl-popup .popup-layer').textContent(), 'Clinics');
  const violations = await axe(page);
  assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
  await shot(page, 'desktop-popup.png');
  await page.keyboard.press('Escape');
  await page.context().close();
});

test('search finds a feature despite a typo and jumps to it', T, async () => {
  const clinic = await someClinic();
  const page = await open(browser, DESKTOP, '#map=11/50.28/57.17&layers=streets&lang=en');
  // A typo: drop one letter from the middle of the clinic's name.
  const name = clinic.name;
  const words = name.split(/\s+/).filter((w) => w.length >= 6);
  const word = words[0] || name;
  const typo = word.slice(0, 3) + word.slice(4);
  await page.locator('#search-input').fill(typo);
  const result = page.locator(`#search-results [role="option"][data-layer="clinics"]`).first();
  await result.waitFor({ timeout: 10000 });
  // Exact name: this clinic comes first.
  await page.locator('#search-input').fill(name);
  const first = page.locator('#search-results [role="option"]').first();
  await page.waitForFunction((id) => document.querySelector('#search-results [role="option"]')?.dataset.id === String(id), clinic.id, { timeout: 10000 });
  assert.equal(await first.locator('.result-name').textContent(), name);
  // Keyboard: arrow down into the list, Enter to choose.
  await page.locator('#search-input').press('ArrowDown');
  await page.keyboard.press('Enter');
  const popup = page.locator('.maplibregl-popup .popup');
  await popup.waitFor({ timeout: 15000 });
  assert.equal(await popup.getAttribute('data-id'), String(clinic.id));
  assert.equal(await layerVisible(page, 'clinics'), 'visible', 'the result layer is turned on');
  const view = await page.evaluate(() => ({ c: window.__geoportal.map.getCenter(), z: window.__geoportal.map.getZoom() }));
  assert.ok(Math.abs(view.c.lng - clinic.point[0]) < 1e-3 && Math.abs(view.c.lat - clinic.point[1]) < 1e-3, JSON.stringify(view));
  assert.ok(view.z >= 15.9);
  await page.context().close();
});

test('search with HTML and SQL shows text, never markup', T, async () => {
  const page = await open(browser, DESKTOP, '#lang=en');
  await page.locator('#search-input').fill(`<img src=x onerror="window.__xss=1">'; DROP TABLE layer.clinics; --`);
  await page.waitForFunction(() => document.querySelector('#search-status').textContent && !/…/.test(document.querySelector('#search-status').textContent));
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.equal(await page.locator('#search-results img').count(), 0);
  const r = await api('/api/nearest?layer=clinics&lon=57.17&lat=50.28&limit=1');
  assert.equal(r.results.length, 1, 'clinics still there');
  await page.context().close();
});

test('a permalink restores centre, zoom, layers and language; an unknown layer gets a notice', T, async () => {
  const page = await open(browser, DESKTOP, '#map=14.50/50.29000/57.18000&layers=schools,no_such_layer,streets&lang=ru');
  const v = await page.evaluate(() => ({ c: window.__geoportal.map.getCenter(), z: window.__geoportal.map.getZoom() }));
  assert.ok(Math.abs(v.z - 14.5) < 0.01 && Math.abs(v.c.lat - 50.29) < 1e-4 && Math.abs(v.c.lng - 57.18) < 1e-4, JSON.stringify(v));
  assert.equal(await page.locator('h1').textContent(), 'Актобе');
  assert.ok(await page.locator('#layer-schools').isChecked());
  assert.ok(!(await page.locator('#layer-clinics').isChecked()));
  assert.equal(await layerVisible(page, 'clinics'), 'none');
  assert.equal(await layerVisible(page, 'schools'), 'visible');
  const note = page.locator('.notice[data-notice="unknown-layers"]');
  assert.match(await note.textContent(), /no_such_layer/);
  assert.ok(await note.isVisible());
  // The link the page writes back leaves the unknown layer out.
  await page.waitForFunction(() => new URLSearchParams(location.hash.slice(1)).get('layers') === 'streets,schools');
  // Following another permalink in the same page (hashchange) applies it too.
  await page.evaluate(() => { location.hash = '#map=13/50.28/57.16&layers=parks&lang=en'; });
  await page.waitForFunction(() => document.querySelector('h1').textContent === 'Aktobe');
  assert.equal(await layerVisible(page, 'parks'), 'visible');
  assert.equal(await layerVisible(page, 'schools'), 'none');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('nearest to a clicked point lists the closest clinics with distances', T, async () => {
  const page = await open(browser, DESKTOP, '#map=13/50.2839/57.1675&layers=streets&lang=en');
  await page.locator('#nearest-layer').selectOption('clinics');
  await page.getByRole('button', { name: 'Point on the map' }).click();
  const box = await page.locator('#map canvas').boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  const items = page.locator('.nearest-results button');
  await items.first().waitFor();
  assert.equal(await items.count(), 5);
  const dists = await page.locator('.nearest-results .result-extra').allTextContents();
  assert.ok(dists.every((d) => /\d.*(m|km)$/.test(d)), dists.join('|'));
  assert.equal(await layerVisible(page, 'clinics'), 'visible');
  // And from the geolocation.
  await page.context().grantPermissions(['geolocation']);
  await page.context().setGeolocation({ longitude: 57.2, latitude: 50.3 });
  await page.getByRole('button', { name: 'My location' }).click();
  await page.waitForFunction(() => window.__geoportal.state.lastNearest?.from?.[0] === 57.2);
  await page.context().close();
});

test('live layers refresh without reloading the page', T, async () => {
  const page = await open(browser, DESKTOP, '#layers=vehicles,streets&lang=en');
  const before = await page.evaluate(() => window.__geoportal.map.getSource('src-vehicles').tiles[0]);
  // Pretend the vehicles moved: the catalog answers a newer version.
  await page.route('**/api/layers/vehicles', async (route) => {
    const res = await route.fetch();
    const body = await res.json();
    body.version += 1000;
    await route.fulfill({ response: res, json: body });
  });
  await page.evaluate(() => window.__geoportal.refreshLive());
  const after = await page.evaluate(() => window.__geoportal.map.getSource('src-vehicles').tiles[0]);
  assert.notEqual(after, before);
  assert.match(after, /\?v=\d+$/);
  await waitIdle(page);
  await page.context().close();
});

test('an unreachable external basemap does not break the page', T, async () => {
  const page = await open(browser, DESKTOP, '#lang=en', {
    before: (p) => p.route('**/api/config', (route) => route.fulfill({ json: { basemap_url: 'http://127.0.0.1:9/{z}/{x}/{y}.png', basemap_attribution: 'Nowhere' } })),
  });
  await page.locator('.notice[data-notice="basemap"]').waitFor({ timeout: 15000 });
  assert.ok(await page.evaluate(() => window.__geoportal.map.queryRenderedFeatures().length) > 0);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a layer with a broken style from the catalog is left out; the rest of the map works', T, async () => {
  const page = await open(browser, DESKTOP, '#layers=streets,schools,clinics&lang=en', {
    before: (p) => p.route('**/api/layers', async (route) => {
      const res = await route.fetch();
      const body = await res.json();
      for (const l of body.layers) {
        if (l.slug === 'schools') l.style = { type: 'circle', paint: { 'circle-color': 12345, 'circle-radius': 'big' } };
      }
      await route.fulfill({ response: res, json: body });
    }),
  });
  assert.equal(await page.evaluate(() => Boolean(window.__geoportal.map.getLayer('lyr-schools'))), false);
  assert.equal(await layerVisible(page, 'clinics'), 'visible');
  assert.equal(await layerVisible(page, 'streets'), 'visible');
  assert.ok(await page.evaluate(() => window.__geoportal.map.queryRenderedFeatures().length) > 0);
  await page.locator('#layer-schools').uncheck();
  await page.locator('#layer-schools').check();
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('phone: 375 px wide, panel as a sheet, keyboard and axe clean; screenshots', T, async () => {
  const page = await open(browser, PHONE, '#lang=en');
  assert.ok(await page.locator('#search-input').isVisible());
  assert.ok(!(await page.locator('#panel').isVisible()), 'panel hidden until asked for');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `no horizontal scroll (${width})`);
  let violations = await axe(page);
  assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
  await shot(page, 'phone.png');
  await page.getByRole('button', { name: 'Layers and search' }).click();
  assert.ok(await page.locator('#panel').isVisible());
  assert.ok(await page.locator('#layer-parks').isVisible());
  violations = await axe(page);
  assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
  await shot(page, 'phone-panel.png');
  await page.keyboard.press('Escape');
  assert.ok(!(await page.locator('#panel').isVisible()));
  await page.context().close();
});

test('desktop: axe-core finds no violations, with search results open', T, async () => {
  for (const lang of ['kk', 'ru', 'en']) {
    const page = await open(browser, DESKTOP, `#lang=${lang}`);
    await page.locator('#search-input').fill('школа');
    await page.locator('#search-status').filter({ hasText: /\d/ }).waitFor({ timeout: 10000 }).catch(() => {});
    const violations = await axe(page);
    assert.deepEqual(violations, [], `${lang}: ${JSON.stringify(violations, null, 1)}`);
    if (lang === 'ru') await shot(page, 'desktop-search.png');
    await page.context().close();
  }
});
