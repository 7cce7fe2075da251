// Browser test of live vehicles (issue 9's "Done when"): a simulated bus posts its positions over
// HTTP with its device key and the test watches it glide along its line on the public map, opens
// its popup, reads a stop's arrivals (live prediction and timetable) in the stop's popup, and a
// dispatcher sees a bus put off its route on the dispatch page, follows it to the map and plays
// back a track. Fixtures: scripts/browser-fixtures-transit.sh (run by scripts/browser-tests.sh).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, axe, api, shot, DESKTOP, PHONE, BASE } from './helpers.mjs';

const T = { timeout: 600000 };
const env = (k) => process.env[`GEOPORTAL_TRANSIT_${k}`];
const ROUTE = env('ROUTE');
const BUS = { id: Number(env('BUS_ID')), key: env('BUS_KEY') };
const OFF = { id: Number(env('OFF_ID')), key: env('OFF_KEY') };
const LAYERS = 'city_boundary,districts,streets,buildings,bus_routes,bus_stops,vehicles';
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const RAD = Math.PI / 180;
function dist(a, b) {
  const x = Math.sin((b[1] - a[1]) * RAD / 2) ** 2 + Math.cos(a[1] * RAD) * Math.cos(b[1] * RAD) * Math.sin((b[0] - a[0]) * RAD / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(x));
}
function bearing(a, b) {
  const y = Math.sin((b[0] - a[0]) * RAD) * Math.cos(b[1] * RAD);
  const x = Math.cos(a[1] * RAD) * Math.sin(b[1] * RAD) - Math.sin(a[1] * RAD) * Math.cos(b[1] * RAD) * Math.cos((b[0] - a[0]) * RAD);
  return (Math.atan2(y, x) / RAD + 360) % 360;
}

/** line walks the route's drawn line: the point and heading d metres along it. */
function walker(coords) {
  const cum = [0];
  for (let i = 1; i < coords.length; i++) cum.push(cum[i - 1] + dist(coords[i - 1], coords[i]));
  const at = (d) => {
    let i = 1;
    while (i < coords.length - 1 && cum[i] < d) i++;
    const k = Math.min(1, Math.max(0, (d - cum[i - 1]) / (cum[i] - cum[i - 1] || 1)));
    const a = coords[i - 1]; const b = coords[i];
    return { pt: [a[0] + (b[0] - a[0]) * k, a[1] + (b[1] - a[1]) * k], heading: bearing(a, b) };
  };
  return { length: cum[cum.length - 1], at, coords };
}

async function routeLine() {
  const fc = await api(`/ogc/collections/bus_routes/items?ref=${encodeURIComponent(ROUTE)}&limit=5`);
  assert.ok(fc.features.length >= 1, `route ${ROUTE} is drawn`);
  const g = fc.features[0].geometry;
  const parts = g.type === 'LineString' ? [g.coordinates] : g.coordinates;
  const w = parts.map(walker).sort((a, b) => b.length - a.length)[0];
  assert.ok(w.length > 3000, `route ${ROUTE} is ${Math.round(w.length)} m long`);
  return w;
}

async function post(key, fixes) {
  const res = await fetch(`${BASE}/api/vehicles/positions`, {
    method: 'POST', headers: { 'X-Device-Key': key, 'Content-Type': 'application/json' },
    body: JSON.stringify({ positions: fixes }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

const fix = (w, d) => {
  const { pt, heading } = w.at(d);
  return { time: new Date().toISOString(), lon: pt[0], lat: pt[1], heading: Math.round(heading), speed_kmh: 30, sats: 9 };
};

/** drawnBus is where the page draws the bus now (null when not drawn). */
const drawnBus = (page, id) => page.evaluate((id) => window.__geoportalLive.drawn().find((v) => v.id === id) || null, id);

test('a simulated bus glides along its line; its popup; a stop shows the next arrivals', T, async () => {
  assert.ok(ROUTE && BUS.key && OFF.key, 'GEOPORTAL_TRANSIT_* fixtures are set by scripts/browser-tests.sh');
  const w = await routeLine();
  let d = w.length * 0.3;
  // The bus reports before the page opens: it arrives with the stream's snapshot.
  const first = await post(BUS.key, [fix(w, d)]);
  assert.equal(first.stored, 1);
  const start = w.at(d).pt;
  const page = await open(browser, DESKTOP, `#map=16/${start[1]}/${start[0]}&layers=${LAYERS}&lang=en`);
  await page.waitForFunction(() => window.__geoportalLive?.status() === 'live', null, { timeout: 30000 });
  await page.waitForFunction((id) => window.__geoportalLive.drawn().some((v) => v.id === id), BUS.id, { timeout: 30000 });
  assert.ok(await page.locator('.live-card').isVisible(), 'the panel says the vehicles are live');
  assert.match(await page.locator('.live-card .live-status').textContent(), /vehicles? on the map/);

  // Drive on: a fix every ~1.5 s, 20 m apart (about 50 km/h). After each fix the bus is drawn
  // part-way between the two fixes for a while before it reaches the newer one.
  let glides = 0;
  for (let step = 0; step < 6; step++) {
    await sleep(1500);
    const from = w.at(d).pt;
    d += 20;
    const to = w.at(d).pt;
    await post(BUS.key, [fix(w, d)]);
    const seen = [];
    const t0 = Date.now();
    while (Date.now() - t0 < 8000) {
      const b = await drawnBus(page, BUS.id);
      if (b) seen.push(b.at);
      if (b && dist(b.at, to) < 0.05) break;
      await sleep(40);
    }
    // Progress of each sample from the old fix towards the new one.
    const total = dist(from, to);
    const k = seen.map((p) => 1 - dist(p, to) / total).filter((x) => x > 0.03 && x < 0.97);
    for (let i = 1; i < k.length; i++) assert.ok(k[i] >= k[i - 1] - 0.02, `the bus moves forward (${k.join(', ')})`);
    if (new Set(k.map((x) => x.toFixed(2))).size >= 2) glides++;
    assert.ok(dist(seen.at(-1), to) < 0.5, `the bus ends at its newest fix (${dist(seen.at(-1), to).toFixed(2)} m off)`);
  }
  assert.ok(glides >= 4, `the bus glided between fixes in ${glides} of 6 steps, not jumped`);

  // It is drawn once: by the live layer, the catalog's tile layer being hidden meanwhile.
  const drawnOnce = (id) => {
    const m = window.__geoportal.map;
    const b = window.__geoportalLive.drawn().find((v) => v.id === id);
    const p = m.project(b.at);
    const box = [[p.x - 10, p.y - 10], [p.x + 10, p.y + 10]];
    const ours = (l) => m.queryRenderedFeatures(box, { layers: [l] }).filter((f) => f.id === id || f.properties.id === id).length;
    const tiles = m.getLayer('lyr-vehicles') ? m.queryRenderedFeatures(box, { layers: ['lyr-vehicles'] }).length : 0;
    return { mine: ours('live-vehicles-dot'), arrows: ours('live-vehicles-arrow'), tiles, tileVis: m.getLayoutProperty('lyr-vehicles', 'visibility') };
  };
  // (What is rendered trails the source by a frame or two: wait for it.)
  await page.waitForFunction(`(${drawnOnce})(${BUS.id}).mine === 1`, null, { timeout: 10000 }).catch(() => {});
  assert.deepEqual(await page.evaluate(drawnOnce, BUS.id), { mine: 1, arrows: 1, tiles: 0, tileVis: 'none' });
  await shot(page, 'transit-bus.png');

  // The bus's popup: route, plate, low floor, last seen.
  const xy = await page.evaluate((id) => {
    const m = window.__geoportal.map;
    const p = m.project(window.__geoportalLive.drawn().find((v) => v.id === id).to);
    const r = m.getCanvas().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  }, BUS.id);
  await page.mouse.click(xy.x, xy.y);
  const popup = page.locator(`.live-vehicle[data-vehicle="${BUS.id}"]`);
  await popup.waitFor({ timeout: 10000 });
  assert.equal(await popup.locator('.popup-title').textContent(), `Bus ${ROUTE}`);
  assert.equal(await popup.locator('tr[data-key="plate"] td').textContent(), '101 BUS 04');
  assert.match(await popup.locator('tr[data-key="low_floor"] td').textContent(), /yes/);
  assert.match(await popup.locator('tr[data-key="heading"] td').textContent(), /°/);
  assert.match(await popup.locator('tr[data-key="seen"] td').textContent(), /^\d+ s ago$/);
  assert.deepEqual(await axe(page), []);
  // The link names the vehicle while its popup is open, and no longer once it is shut.
  await page.waitForFunction((id) => new URLSearchParams(location.hash.slice(1)).get('vehicle') === String(id), BUS.id, { timeout: 5000 });
  await page.keyboard.press('Escape');
  await popup.waitFor({ state: 'detached' });
  await page.waitForFunction(() => !new URLSearchParams(location.hash.slice(1)).has('vehicle'), null, { timeout: 5000 });

  // A stop ahead of the bus on its line, whose arrivals include this bus as a live prediction.
  let stop = null;
  for (let ahead = 250; ahead <= 2500 && !stop; ahead += 150) {
    const p = w.at(d + ahead).pt;
    const fc = await api(`/ogc/collections/bus_stops/items?bbox=${p[0] - 0.0012},${p[1] - 0.0008},${p[0] + 0.0012},${p[1] + 0.0008}&limit=10`);
    for (const f of fc.features) {
      const code = f.properties.code;
      if (!code || !String(f.properties.routes || '').split(/,\s*/).includes(ROUTE)) continue;
      const a = await api(`/api/stops/${encodeURIComponent(code)}/arrivals?per_route=4`);
      if (a.arrivals.some((x) => x.realtime && x.vehicle_id === BUS.id)) { stop = { code, point: f.geometry.coordinates, name: f.properties.name }; break; }
    }
  }
  assert.ok(stop, `a stop ahead of the bus on route ${ROUTE} predicts its arrival`);
  const sxy = await page.evaluate(async (pt) => {
    const m = window.__geoportal.map;
    m.jumpTo({ center: pt, zoom: 17 });
    await new Promise((r) => (m.areTilesLoaded() ? r() : m.once('idle', r)));
    await new Promise((r) => setTimeout(r, 500));
    const p = m.project(pt);
    const r = m.getCanvas().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  }, stop.point);
  await page.mouse.click(sxy.x, sxy.y);
  const arr = page.locator('.feature-popup .live-arrivals');
  await arr.waitFor({ timeout: 15000 });
  // Two stops may share the spot (both sides of a street): page through to ours.
  for (let i = 0; i < 5 && (await arr.getAttribute('data-stop')) !== stop.code; i++) {
    await page.locator('.feature-popup .popup-nav button').last().click();
    await arr.waitFor();
  }
  const shownStop = await arr.getAttribute('data-stop');
  assert.equal(shownStop, stop.code, 'the popup shows the stop clicked');
  await page.waitForFunction(() => ['ok', 'notfound', 'error'].includes(document.querySelector('.live-arrivals')?.dataset.state));
  assert.equal(await arr.getAttribute('data-state'), 'ok', `arrivals of stop ${shownStop}`);
  assert.equal(await arr.locator('h3').textContent(), 'Next arrivals');
  // Our bus, marked live, and the timetable's trips without a bus, marked as such.
  const mine = arr.locator(`li[data-route="${ROUTE}"] .live-when[data-realtime="true"]`);
  assert.ok(await mine.count() >= 1, 'the live prediction of our bus is listed');
  assert.match(await mine.first().textContent(), /(in \d+ min|arriving) · \d\d:\d\d live/);
  const kinds = await arr.locator('.live-when').evaluateAll((els) => els.map((e) => e.dataset.realtime));
  assert.ok(kinds.includes('false'), 'timetable arrivals are listed too');
  assert.match(await arr.locator('.live-when[data-realtime="false"]').first().textContent(), /(in \d+ min|arriving) · \d\d:\d\d timetable/);
  // The list agrees with the API for that stop.
  const api2 = await api(`/api/stops/${encodeURIComponent(shownStop)}/arrivals?per_route=4`);
  const liveTrip = await mine.first().getAttribute('data-trip');
  assert.ok(api2.arrivals.some((x) => x.trip_id === liveTrip && x.realtime && x.vehicle_id === BUS.id), `trip ${liveTrip} is our bus's`);
  await shot(page, 'transit-stop-popup.png');
  assert.deepEqual(await axe(page), []);
  // Kazakh, and the list refreshes itself while the popup stays open.
  await page.getByRole('button', { name: /Қазақша/ }).click();
  await page.locator('.feature-popup .live-arrivals h3', { hasText: 'Жақын келетін көлік' }).waitFor();
  const again = await page.waitForRequest((r) => r.url().includes(`/api/stops/${encodeURIComponent(shownStop)}/arrivals`), { timeout: 30000 });
  assert.ok(again);
  await page.waitForFunction(() => document.querySelector('.live-arrivals')?.dataset.state === 'ok');
  assert.match(await page.locator('.live-arrivals .live-when').first().textContent(), /(мин кейін|келе жатыр)/);

  // Switching the layer off unsubscribes; the hidden tab does too; both come back.
  await page.locator('#layer-vehicles').uncheck();
  assert.equal(await page.evaluate(() => window.__geoportalLive.status()), 'off');
  assert.equal(await page.evaluate(() => window.__geoportalLive.drawn().length), 0);
  await page.locator('#layer-vehicles').check();
  await page.waitForFunction(() => window.__geoportalLive.status() === 'live' && window.__geoportalLive.tilesHidden());
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  assert.equal(await page.evaluate(() => window.__geoportalLive.status()), 'paused');
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await page.waitForFunction(() => window.__geoportalLive.status() === 'live');
  // The stream refused (a server restarting): the page retries with a back-off, shows the
  // (slower) tile layer meanwhile, and picks up the moves made while it was away.
  await page.route('**/api/vehicles/live', (r) => r.fulfill({ status: 503, contentType: 'application/json', body: '{"error":{"code":"unavailable"}}' }));
  await page.locator('#layer-vehicles').uncheck();
  await page.locator('#layer-vehicles').check();
  await page.waitForFunction(() => window.__geoportalLive.status() === 'lost', null, { timeout: 20000 });
  await page.waitForFunction(() => window.__geoportalLive.status() === 'failed', null, { timeout: 30000 });
  assert.equal(await page.evaluate(() => window.__geoportal.map.getLayoutProperty('lyr-vehicles', 'visibility')), 'visible');
  assert.match(await page.locator('.live-card .live-status').textContent(), /15 секунд/);
  d += 20;
  await post(BUS.key, [fix(w, d)]);
  await page.unroute('**/api/vehicles/live');
  await page.waitForFunction(() => window.__geoportalLive.status() === 'live', null, { timeout: 60000 });
  assert.equal(await page.evaluate(() => window.__geoportal.map.getLayoutProperty('lyr-vehicles', 'visibility')), 'none');
  const target = w.at(d).pt;
  await page.waitForFunction(([id, p]) => {
    const b = window.__geoportalLive.drawn().find((v) => v.id === id);
    return b && Math.abs(b.to[0] - p[0]) < 1e-7 && Math.abs(b.to[1] - p[1]) < 1e-7;
  }, [BUS.id, target], { timeout: 30000 });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('dispatcher: a bus off its route is listed, followed to the map, and a track is played back', T, async () => {
  const w = await routeLine();
  // A point well away from the route's line.
  let spot = null;
  for (const [dx, dy] of [[0, 0.03], [0, -0.03], [0.04, 0], [-0.04, 0], [0.04, 0.03], [-0.04, -0.03]]) {
    const mid = w.at(w.length / 2).pt;
    const p = [mid[0] + dx, mid[1] + dy];
    let near = Infinity;
    for (let x = 0; x <= w.length; x += 25) near = Math.min(near, dist(p, w.at(x).pt));
    if (near > 800) { spot = p; break; }
  }
  assert.ok(spot, 'a point away from the line');
  await post(OFF.key, [{ time: new Date().toISOString(), lon: spot[0], lat: spot[1], heading: 90, speed_kmh: 20 }]);

  const page = await (await browser.newContext({ viewport: DESKTOP, locale: 'en-GB' })).newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(`${BASE}/login?lang=en&next=${encodeURIComponent('/staff/dispatch?lang=en')}`);
  await page.fill('input[name=email]', env('DISPATCH_EMAIL'));
  await page.fill('input[name=password]', env('DISPATCH_PASSWORD'));
  await Promise.all([page.waitForURL(/\/staff\/dispatch/), page.click('form[action="/login"] button[type=submit]')]);
  // The alert: the live hub may take a moment to see the fix; the page is reloaded until it does.
  const row = page.locator(`#off-route tr[data-vehicle="${OFF.id}"]`);
  for (let i = 0; i < 20 && !(await row.locator('a', { hasText: 'On the map' }).count()); i++) {
    await sleep(500);
    await page.reload();
  }
  assert.equal(await row.locator('td').first().textContent(), ROUTE);
  assert.equal(await row.locator('td').nth(1).textContent(), '202 OFF 04');
  // The distance as the page's formatter writes it ("1,234" in English).
  assert.ok(Number((await row.locator('td.num').textContent()).replace(/[,\u00a0]/g, '')) > 700, 'distance from the route');
  assert.equal(await page.locator('h1').textContent(), 'Dispatcher: on-line control');
  assert.deepEqual(await axe(page), []);
  await shot(page, 'transit-dispatch.png');

  // To the public map: the vehicle's popup opens there.
  await Promise.all([page.waitForURL((u) => u.pathname === '/'), row.locator('a', { hasText: 'On the map' }).click()]);
  const popup = page.locator(`.live-vehicle[data-vehicle="${OFF.id}"]`);
  await popup.waitFor({ timeout: 45000 });
  assert.equal(await popup.locator('tr[data-key="plate"] td').textContent(), '202 OFF 04');

  // The track of the bus the first test drove: drawn on the schematic map and listed.
  await page.goto(`${BASE}/staff/dispatch/track?vehicle=${BUS.id}&lang=ru`);
  const svg = page.locator('#track-svg');
  await svg.waitFor();
  assert.ok(Number(await svg.getAttribute('data-drawn')) >= 7, `${await svg.getAttribute('data-drawn')} fixes drawn`);
  assert.ok(await page.locator('#track-line').count() === 1 && await page.locator('svg .route-line').count() >= 1);
  assert.ok(await page.locator('#fixes tbody tr').count() >= 7);
  assert.equal(await page.locator('h1').textContent(), 'Трек транспорта 101 BUS 04');
  const gj = await page.evaluate(async () => (await fetch(document.querySelector('a[download]').href)).json());
  assert.equal(gj.type, 'FeatureCollection');
  assert.ok(gj.features.length >= 7);
  assert.deepEqual(await axe(page), []);
  await shot(page, 'transit-track.png');
  // Phone size: the page still fits.
  await page.setViewportSize(PHONE);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 1, `no sideways scrolling on a phone (${overflow} px)`);
  assert.deepEqual(errors, []);
  await page.context().close();
});
