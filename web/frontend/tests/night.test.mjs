// Browser test of issue #24 point 8 (live buses at night): the layer list's count of the live
// vehicles layer is the number of vehicles live now, the length of the live feed the page reads
// (GET /api/vehicles), not the layer's stored feature count; "none live now" when none, and it
// follows the feed when a bus starts reporting. Fixtures: scripts/browser-fixtures-transit.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { launch, open, api, shot, BASE } from './helpers.mjs';

const T = { timeout: 600000 };
const catalog = JSON.parse(readFileSync(new URL('../src/catalog.json', import.meta.url)));
const ROUTE = process.env.GEOPORTAL_TRANSIT_ROUTE;
const BUS_KEY = process.env.GEOPORTAL_TRANSIT_NIGHT_KEY; // a bus of its own (no route)
const LAYERS = 'city_boundary,districts,streets,bus_routes,bus_stops';
const SIZES = [{ width: 375, height: 667 }, { width: 1366, height: 768 }];
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** feed is the live feed's length as the page reads it. */
const feed = (page) => page.evaluate(async () => {
  const r = await fetch('/api/vehicles', { cache: 'no-store' });
  return (await r.json()).vehicles.length;
});

/** countMatches waits until the vehicles layer's count in the layer list says n in lang. */
async function countMatches(page, lang, n, what) {
  const none = catalog['map.noneLive'][lang];
  const ok = await page.waitForFunction(({ n, none }) => {
    const c = document.querySelector('[data-count="vehicles"]');
    if (!c) return false;
    const text = c.textContent.trim();
    return n === 0 ? text === none : text.replace(/\D/g, '') === String(n);
  }, { n, none }, { timeout: 45000 }).then(() => true, () => false);
  const shown = await page.locator('[data-count="vehicles"]').textContent();
  assert.ok(ok, `${what}: the layer list shows "${shown}" for the vehicles layer, the live feed has ${n} (${lang})`);
}

async function post(fix) {
  const res = await fetch(`${BASE}/api/vehicles/positions`, {
    method: 'POST', headers: { 'X-Device-Key': BUS_KEY, 'Content-Type': 'application/json' },
    body: JSON.stringify({ positions: [fix] }),
  });
  assert.equal(res.status, 200, await res.text());
}

// Issue #24 point 8, the live panel: with no bus live it says when buses run by the timetable
// (GET /api/transit/service: the day's first and last trip start) and lists the next trip starts
// with their routes, in each language and size. Runs before the test below posts a bus.
test('with no bus live, the live panel gives the service hours and the next departures by the timetable', T, async () => {
  const sv = await api('/api/transit/service?limit=4');
  assert.ok(sv.hours.first && sv.hours.last && sv.departures.length === 4, `the fixture's timetable: ${JSON.stringify(sv)}`);
  const fc = await api(`/ogc/collections/bus_routes/items?ref=${encodeURIComponent(ROUTE)}&limit=1`);
  const g = fc.features[0].geometry;
  const at = g.type === 'LineString' ? g.coordinates[0] : g.coordinates[0][0];
  const LOC = { kk: 'kk-KZ', ru: 'ru-RU', en: 'en-GB' };
  for (const size of SIZES) {
    for (const lang of ['kk', 'ru', 'en']) {
      const page = await open(browser, size, `#map=14/${at[1]}/${at[0]}&layers=${LAYERS}&lang=${lang}`);
      await page.evaluate(() => document.getElementById('layer-vehicles').click());
      await page.waitForFunction(() => window.__geoportalLive?.status() === 'live', null, { timeout: 30000 });
      assert.equal(await page.evaluate(() => window.__geoportalLive.count()), 0, 'no vehicle is live');
      const box = page.locator('.live-card .live-service');
      await box.locator('.live-departures li').first().waitFor({ state: 'attached', timeout: 30000 }); // in the closed sheet on a phone
      const api2 = await api('/api/transit/service?limit=4'); // the panel's answer may be a minute newer
      const clock = (iso) => page.evaluate(([l, iso]) => new Intl.DateTimeFormat(l, { hour: '2-digit', minute: '2-digit', timeZone: 'Asia/Aqtobe' })
        .format(new Date(iso)), [LOC[lang], iso]);
      const key = api2.in_service ? 'live.noneReporting' : 'live.serviceHours';
      const want = catalog[key][lang].replace('{from}', await clock(api2.hours.first)).replace('{to}', await clock(api2.hours.last));
      assert.equal((await box.locator('.live-service-hours').textContent()).trim(), want);
      assert.equal((await box.locator('.live-next-title').textContent()).trim(), catalog['live.nextTimetable'][lang]);
      const routes = await box.locator('.live-departures li').evaluateAll((li) => li.map((x) => x.dataset.route));
      assert.ok(routes.length === 4 && routes.every((r) => api2.departures.some((d) => d.route === r) || sv.departures.some((d) => d.route === r)),
        `departures shown ${routes}, by the API ${api2.departures.map((d) => d.route)}`);
      const first = (await box.locator('.live-departures li .live-when').first().textContent()).trim();
      const trip = await box.locator('.live-departures li').first().getAttribute('data-trip');
      const dep = [...api2.departures, ...sv.departures].find((d) => d.trip_id === trip);
      assert.ok(dep && first.includes(catalog['live.fromStop'][lang].replace('{x}', dep.from_stop)), `"${first}" names the first stop of ${trip}`);
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'no horizontal scroll');
      await shot(page, `night-panel-${size.width}-${lang}.png`);
      assert.deepEqual(page.errors, []);
      await page.context().close();
    }
  }
});

test('the live layer counts the vehicles live now, as the feed does', T, async () => {
  assert.ok(ROUTE && BUS_KEY, 'GEOPORTAL_TRANSIT_* fixtures are set by scripts/browser-tests.sh');
  const fc = await api(`/ogc/collections/bus_routes/items?ref=${encodeURIComponent(ROUTE)}&limit=1`);
  const g = fc.features[0].geometry;
  const at = g.type === 'LineString' ? g.coordinates[0] : g.coordinates[0][0];
  let posted = false;
  for (const size of SIZES) {
    for (const lang of ['kk', 'ru', 'en']) {
      const page = await open(browser, size, `#map=14/${at[1]}/${at[0]}&layers=${LAYERS}&lang=${lang}`);
      // The layer off: the count comes from the feed.
      let n = await feed(page);
      await countMatches(page, lang, n, `${size.width}px, layer off`);
      // The layer on: the stream's vehicles.
      await page.evaluate(() => document.getElementById('layer-vehicles').click());
      await page.waitForFunction(() => window.__geoportalLive?.status() === 'live', null, { timeout: 30000 });
      n = await feed(page);
      await countMatches(page, lang, n, `${size.width}px, layer on`);
      if (!posted) {
        // A bus starts reporting: the count follows the feed.
        assert.equal(n, 0, 'no vehicle is live before the test posts one');
        await post({ time: new Date().toISOString(), lon: at[0], lat: at[1], heading: 90, speed_kmh: 20, sats: 9 });
        posted = true;
        // The position is stored by the ingest's batch writer, not inside the POST: wait for it.
        const arrived = await page.waitForFunction(async () => {
          const r = await fetch('/api/vehicles', { cache: 'no-store' });
          return (await r.json()).vehicles.length >= 1;
        }, null, { timeout: 30000, polling: 250 }).then(() => true, () => false);
        n = await feed(page);
        assert.ok(arrived && n >= 1, `the feed has the posted bus (${n})`);
        await countMatches(page, lang, n, `${size.width}px, after a bus reports`);
      }
      await shot(page, `night-${size.width}-${lang}.png`);
      assert.deepEqual(page.errors, []);
      await page.context().close();
    }
  }
});
