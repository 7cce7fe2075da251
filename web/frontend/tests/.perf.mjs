import { launch } from './helpers.mjs';
const [,, url] = process.argv;
const b = await launch();
for (let i = 0; i < 3; i++) {
  const ctx = await b.newContext({ viewport: { width: 1366, height: 850 } });
  const p = await ctx.newPage();
  await p.addInitScript(() => {
    window.__marks = [];
    const iv = setInterval(() => {
      const m = window.__geoportal?.map;
      if (m && !window.__hooked) {
        window.__hooked = true;
        window.__marks.push(['map created', performance.now()]);
        m.once('load', () => window.__marks.push(['load', performance.now()]));
        m.once('style.load', () => window.__marks.push(['style.load', performance.now()]));
        m.once('render', () => window.__marks.push(['first render', performance.now()]));
        m.on('data', (e) => { if (e.dataType === 'source' && e.tile && !window.__ft) { window.__ft = 1; window.__marks.push(['first tile', performance.now()]); } });
        m.once('idle', () => window.__marks.push(['idle', performance.now()]));
        clearInterval(iv);
      }
    }, 5);
  });
  await p.goto(url);
  await p.waitForFunction(() => { const m = window.__geoportal?.map; return m && m.loaded() && m.areTilesLoaded(); }, null, { timeout: 30000, polling: 50 });
  const r = await p.evaluate(() => ({ now: performance.now(), marks: [...performance.getEntriesByType('mark').map((m) => [m.name, Math.round(m.startTime)]), ...window.__marks, ['domContentLoaded', performance.timing.domContentLoadedEventEnd - performance.timing.navigationStart]],
    res: performance.getEntriesByType('resource').map((e) => [e.name.replace(location.origin, '').slice(0, 70), Math.round(e.startTime), Math.round(e.responseEnd), e.transferSize]) }));
  console.log(JSON.stringify(r.marks), Math.round(r.now));
  if (i === 0) for (const x of r.res) console.log(x.join('  '));
  await ctx.close();
}
await b.close();
