// Benchmark (not a test; not run by scripts/browser-tests.sh): what the public map adds to the
// ingest-to-push latency of live vehicles. Open the map with the vehicles layer on in headless
// Chromium while `geoportal simulate` drives vehicles, and record per "vehicles" event of the
// stream: the time the page spends on it (parse and glide set-up), the time until the next frame
// has drawn it, the age of each fix on arrival (arrival minus the fix time), and the frame rate.
//
//   GEOPORTAL_URL=http://127.0.0.1:PORT node tests/live-bench.mjs 60 > live-bench.json
import { launch, DESKTOP, BASE } from './helpers.mjs';

const seconds = Number(process.argv[2] || 60);
if (!(seconds > 0 && seconds <= 600)) throw new Error('seconds: 1 to 600');
const browser = await launch();
try {
  const page = await (await browser.newContext({ viewport: DESKTOP })).newPage();
  await page.addInitScript(() => {
    const st = { events: 0, fixes: 0, handleMs: [], drawMs: [], ageMs: [], frames: 0 };
    window.__liveBench = st;
    const add = EventSource.prototype.addEventListener;
    EventSource.prototype.addEventListener = function (type, fn, opts) {
      if (type !== 'vehicles') return add.call(this, type, fn, opts);
      return add.call(this, type, (ev) => {
        const t0 = performance.now();
        const now = Date.now();
        fn(ev);
        const t1 = performance.now();
        st.events++;
        st.handleMs.push(t1 - t0);
        for (const v of JSON.parse(ev.data)) { st.fixes++; st.ageMs.push(now - Date.parse(v.seen_at)); }
        requestAnimationFrame(() => st.drawMs.push(performance.now() - t0));
      }, opts);
    };
    const tick = () => { st.frames++; requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  });
  await page.goto(`${BASE}/#map=12/50.2839/57.1675&layers=city_boundary,districts,streets,buildings,bus_routes,vehicles&lang=en`);
  await page.waitForFunction(() => window.__geoportalLive?.status() === 'live', null, { timeout: 60000 });
  await page.evaluate(() => { const s = window.__liveBench; s.events = 0; s.fixes = 0; s.handleMs = []; s.drawMs = []; s.ageMs = []; s.frames = 0; });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const st = await page.evaluate(() => ({ ...window.__liveBench, drawn: window.__geoportalLive.drawn().length }));
  const pct = (xs, p) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]) : null;
  };
  console.log(JSON.stringify({
    seconds, drawn: st.drawn, events: st.events, fixes: st.fixes, fps: Math.round(st.frames / seconds * 10) / 10,
    handle_ms: { p50: pct(st.handleMs, 0.5), p99: pct(st.handleMs, 0.99) },
    to_frame_ms: { p50: pct(st.drawMs, 0.5), p99: pct(st.drawMs, 0.99) },
    fix_age_on_arrival_ms: { p50: pct(st.ageMs, 0.5), p99: pct(st.ageMs, 0.99), note: 'arrival minus fix time; the simulator truncates fix times to the second' },
  }, null, 2));
} finally {
  await browser.close();
}
