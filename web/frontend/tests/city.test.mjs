// The city is configuration or data, never code (issue 18): the demo server names Aktobe and opens
// on it from its city boundary, and a second server on the same database with the city given by
// serve's -city-* flags opens where they say, named as they say, kept around the bounds given.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { launch, open, api, waitForMap, DESKTOP } from './helpers.mjs';

const T = { timeout: 240000 };
const BIN = process.env.GEOPORTAL_BIN;
if (!BIN) throw new Error('GEOPORTAL_BIN is not set: run scripts/browser-tests.sh');
const DOVER = { center: [-75.5, 39.2], zoom: 12, bounds: [-75.6, 39.1, -75.4, 39.3], name: { kk: 'Довер', ru: 'Довер', en: 'Dover' } };

let browser;
let configured; // { url, child, log }

const freePort = () => new Promise((resolve, reject) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  s.on('error', reject);
});

async function ready(url, child) {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the configured server exited: ${configured.log.join('')}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 500));
  }
}

before(async () => {
  browser = await launch();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(BIN, ['serve', '-addr', `127.0.0.1:${port}`, '-wialon-addr', 'off',
    '-city-center', DOVER.center.join(','), '-city-zoom', String(DOVER.zoom), '-city-bounds', DOVER.bounds.join(','),
    '-city-name-kk', DOVER.name.kk, '-city-name-ru', DOVER.name.ru, '-city-name-en', DOVER.name.en], {
    env: process.env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  configured = { url, child, log: [] };
  child.stdout.on('data', (b) => configured.log.push(String(b)));
  child.stderr.on('data', (b) => configured.log.push(String(b)));
  await ready(url, child);
});

after(async () => {
  await browser?.close();
  if (configured?.child.exitCode === null) {
    const gone = new Promise((r) => configured.child.once('exit', r));
    configured.child.kill('SIGTERM');
    await gone;
  }
});

test('unconfigured, the city comes from the data: its boundary names it, the map opens inside it and is not held', T, async () => {
  const { city } = await api('/api/config');
  assert.deepEqual(city.name, { kk: 'Ақтөбе', ru: 'Актобе', en: 'Aktobe' });
  assert.deepEqual(city.derived, ['name', 'bounds', 'center', 'zoom']);
  const [w, s, e, n] = city.bounds;
  assert.ok(w < 57.17 && 57.17 < e && s < 50.28 && 50.28 < n, `the demo boundary holds Aktobe's centre: ${city.bounds}`);
  const page = await open(browser, DESKTOP);
  const v = await page.evaluate(() => {
    const m = window.__geoportal.map;
    return { c: m.getCenter(), max: m.getMaxBounds()?.toArray(), title: document.title, h1: document.querySelector('h1').textContent };
  });
  assert.ok(v.c.lng > w && v.c.lng < e && v.c.lat > s && v.c.lat < n, `opens inside the city: ${JSON.stringify(v.c)}`);
  assert.equal(v.max, undefined, 'bounds from the data do not hold the map (an imported layer elsewhere stays reachable)');
  assert.equal(v.h1, 'Aktobe');
  assert.match(v.title, /^Aktobe city map — /);
  await page.context().close();
});

test('configured by serve flags, the map opens on the given centre and zoom, named in each language', T, async () => {
  const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-GB' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(`${configured.url}/`);
  await waitForMap(page);
  const view = await page.evaluate(() => {
    const m = window.__geoportal.map;
    return { c: m.getCenter(), z: m.getZoom(), max: m.getMaxBounds()?.toArray() };
  });
  assert.ok(Math.abs(view.c.lng - DOVER.center[0]) < 1e-6 && Math.abs(view.c.lat - DOVER.center[1]) < 1e-6, JSON.stringify(view));
  assert.ok(Math.abs(view.z - DOVER.zoom) < 1e-6, JSON.stringify(view));
  const [w, s, e, n] = DOVER.bounds;
  assert.ok(view.max && view.max[0][0] < w && view.max[0][1] < s && view.max[1][0] > e && view.max[1][1] > n &&
    view.max[0][0] > w - 1 && view.max[1][0] < e + 1, `kept around the configured bounds: ${JSON.stringify(view.max)}`);
  assert.equal(await page.locator('h1').textContent(), 'Dover');
  assert.match(await page.title(), /^Dover city map — /);
  assert.equal(await page.locator('#map').getAttribute('aria-label'), 'Map of Dover');
  await page.getByRole('button', { name: /Қазақша/ }).click();
  assert.equal(await page.locator('h1').textContent(), 'Довер');
  assert.match(await page.title(), /^Довер қаласының картасы — /);
  await page.getByRole('button', { name: /Русский/ }).click();
  assert.equal(await page.locator('h1').textContent(), 'Довер');
  assert.match(await page.title(), /^Карта города Довер — /);
  assert.deepEqual(errors, []);
  await context.close();
});
