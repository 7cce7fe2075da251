// dev only: node tests/.shot.mjs URL out.png WxH
import { launch } from './helpers.mjs';
const [,, url, out, size] = process.argv;
const [w, hgt] = (size || '1366x850').split('x').map(Number);
const b = await launch();
const ctx = await b.newContext({ viewport: { width: w, height: hgt }, isMobile: w < 500, hasTouch: w < 500 });
const p = await ctx.newPage();
p.on('console', (m) => console.log('console:', m.type(), m.text()));
p.on('pageerror', (e) => console.log('pageerror:', e.message));
const t0 = Date.now();
await p.goto(url);
try {
  await p.waitForFunction(() => { const m = window.__geoportal?.map; return m && m.loaded() && m.areTilesLoaded(); }, null, { timeout: 20000 });
} catch (e) { console.log('timeout waiting', e.message); }
console.log('ready after', Date.now() - t0, 'ms');
await p.screenshot({ path: out });
await b.close();
