// The MapLibre style the web map builds from /api/layers, checked by
// @maplibre/maplibre-gl-style-spec's validator, twice: (1) the style the running page holds
// (map.getStyle() in Debian's Chromium, with every catalog layer switched on), and (2) the full
// style the page's own module (web/frontend/src/mapstyle.js) builds, since the page adds the
// catalog's layers one by one and leaves out, with a warning, any that MapLibre refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { validateStyleMin } from '@maplibre/maplibre-gl-style-spec';
import { buildStyle } from '../web/frontend/src/mapstyle.js';

const BASE = (process.env.GEOPORTAL_BASE || '').replace(/\/$/, '');
if (!BASE) throw new Error('GEOPORTAL_BASE is not set: run scripts/standards-tests.sh');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const version = (p) => JSON.parse(readFileSync(new URL(`./node_modules/${p}/package.json`, import.meta.url))).version;
console.log('@maplibre/maplibre-gl-style-spec', version('@maplibre/maplibre-gl-style-spec'),
  'playwright-core', version('playwright-core'));

async function catalog() {
  const res = await fetch(`${BASE}/api/layers`);
  assert.equal(res.status, 200);
  return (await res.json()).layers;
}

function errorsOf(style) {
  return validateStyleMin(style).map((e) => e.message);
}

test('the style the page builds from /api/layers is a valid MapLibre style', async () => {
  const layers = await catalog();
  const slugs = layers.map((l) => l.slug);
  const style = buildStyle(layers, new Set(slugs), BASE, null);
  assert.deepEqual(errorsOf(style), []);
  for (const s of slugs) assert.ok(style.layers.some((l) => l.id === `lyr-${s}`), `no style layer for ${s}`);
});

test('the style the running map holds is valid and has every catalog layer', async () => {
  const slugs = (await catalog()).map((l) => l.slug);
  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1024, height: 768 }, locale: 'en-GB' });
    const problems = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error' || (m.type() === 'warning' && /^map:/.test(m.text()))) problems.push(`console: ${m.text()}`); });
    await page.goto(`${BASE}/#map=13/50.283/57.167&layers=${slugs.join(',')}`);
    await page.waitForFunction(() => document.body.dataset.mapReady === 'true', null, { timeout: 60000 });
    await page.waitForFunction(() => {
      const m = window.__geoportal?.map;
      return m && m.loaded() && m.isStyleLoaded();
    }, null, { timeout: 60000, polling: 100 });
    const style = await page.evaluate(() => window.__geoportal.map.getStyle());
    assert.deepEqual(errorsOf(style), []);
    const missing = slugs.filter((s) => !style.layers.some((l) => l.id === `lyr-${s}`));
    assert.deepEqual(missing, [], 'catalog layers the map left out of its style');
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
});
