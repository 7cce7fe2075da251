// Benchmark (not a test; not run by scripts/browser-tests.sh): what labels and icons cost the
// first render. Loads the map in fresh browser contexts (empty cache), alternating the map with
// labels (/) and without (/?labels=off) so that both see the same load on a shared machine, and
// records for each load the time from navigation start to MapLibre's load event (the
// geoportal:map-load mark: style and every visible tile loaded and drawn) and the bytes of the
// glyph ranges fetched. Prints JSON.
//
//   GEOPORTAL_URL=http://127.0.0.1:PORT node tests/labels-bench.mjs [ROUNDS] [HASH] > labels-bench.json
import { launch, waitForMap, DESKTOP, BASE } from './helpers.mjs';

const rounds = Number(process.argv[2] || 7);
if (!(rounds > 0 && rounds <= 50)) throw new Error('rounds: 1 to 50');
const hash = process.argv[3] || '';

async function load(browser, query) {
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  await page.goto(`${BASE}/${query}${hash}`);
  await waitForMap(page);
  const r = await page.evaluate(() => {
    const fonts = performance.getEntriesByType('resource').filter((e) => e.name.includes('/fonts/'));
    return {
      ms: performance.getEntriesByName('geoportal:map-load')[0].startTime,
      glyph_ranges: fonts.map((e) => decodeURIComponent(e.name.split('/fonts/')[1])),
      glyph_bytes_transferred: fonts.reduce((n, e) => n + e.transferSize, 0),
      glyph_bytes_decoded: fonts.reduce((n, e) => n + e.decodedBodySize, 0),
      symbols: window.__geoportal.map.queryRenderedFeatures().filter((f) => f.layer.type === 'symbol').length,
    };
  });
  await context.close();
  return r;
}

const browser = await launch();
const on = [];
const off = [];
try {
  for (let i = 0; i < rounds; i++) {
    on.push(await load(browser, ''));
    off.push(await load(browser, '?labels=off'));
  }
} finally {
  await browser.close();
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const ms = (rs) => rs.map((r) => Math.round(r.ms));
const out = {
  rounds,
  view: hash || '(the city view)',
  labels: { runs_ms: ms(on), median_ms: Math.round(median(ms(on))), symbols_drawn: on[0].symbols,
    glyph_ranges: on[0].glyph_ranges, glyph_bytes_transferred: on[0].glyph_bytes_transferred, glyph_bytes_decoded: on[0].glyph_bytes_decoded },
  no_labels: { runs_ms: ms(off), median_ms: Math.round(median(ms(off))), glyph_ranges: off[0].glyph_ranges },
};
out.ratio_of_medians = Number((out.labels.median_ms / out.no_labels.median_ms).toFixed(2));
// Per round, the loads right next to each other.
out.ratio_per_round = on.map((r, i) => Number((r.ms / off[i].ms).toFixed(2)));
console.log(JSON.stringify(out, null, 2));
