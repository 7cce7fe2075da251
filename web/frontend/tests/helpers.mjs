// Shared set-up for the browser tests: Debian's Chromium driven by playwright-core against a
// running `geoportal serve` (GEOPORTAL_URL), screenshots into OUT_DIR.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export const BASE = (process.env.GEOPORTAL_URL || '').replace(/\/$/, '');
if (!BASE) throw new Error('GEOPORTAL_URL is not set: run scripts/browser-tests.sh');
export const OUT = process.env.OUT_DIR || path.resolve('test-output');
mkdirSync(OUT, { recursive: true });

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const PHONE = { width: 375, height: 812 };
export const DESKTOP = { width: 1366, height: 850 };

const require = createRequire(import.meta.url);
const axeSource = require('axe-core').source;

/**
 * launch starts Debian's Chromium. Playwright gives every launch a fresh, empty profile
 * (its own --user-data-dir in a temporary folder, removed on close) and never downloads a browser.
 */
export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  });
}

/** open loads the map at size and waits until the style and the first tiles are drawn. */
export async function open(browser, size, hash = '', opts = {}) {
  const context = await browser.newContext({
    viewport: size, deviceScaleFactor: 1, locale: opts.locale || 'en-GB', hasTouch: size.width < 500,
    isMobile: size.width < 500, ...opts.context,
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.errors = errors;
  if (opts.before) await opts.before(page);
  await page.goto(`${BASE}/${hash}`);
  await waitForMap(page);
  return page;
}

/** waitForMap waits for the map to be loaded with every visible tile drawn. */
export async function waitForMap(page, timeout = 45000) {
  await page.waitForFunction(() => document.body.dataset.mapReady === 'true', null, { timeout });
  await waitIdle(page, timeout);
}

export async function waitIdle(page, timeout = 45000) {
  await page.waitForFunction(() => {
    const m = window.__geoportal?.map;
    return m && m.loaded() && m.areTilesLoaded() && !m.isMoving();
  }, null, { timeout, polling: 100 });
}

/** axe runs axe-core on the page and returns its violations. */
export async function axe(page) {
  // Evaluated over the DevTools protocol: the page's Content-Security-Policy forbids inline scripts.
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  });
}

export async function api(p) {
  const res = await fetch(BASE + p);
  if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
  return res.json();
}

export function shot(page, name) {
  return page.screenshot({ path: path.join(OUT, name) });
}
