// Browser tests of the city modules' map features (src/ext/{outages,clinic,school,access,leisure}.js),
// run by scripts/browser-tests.sh against the demo city; every expected answer comes from the API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, waitIdle, axe, api, shot, DESKTOP, PHONE, BASE } from './helpers.mjs';
import { parseHours, openState, cityClock } from '../src/ext/hours.js';

const T = { timeout: 240000 };
const DISPATCH_EMAIL = process.env.GEOPORTAL_DISPATCH_EMAIL;
const DISPATCH_PASSWORD = process.env.GEOPORTAL_DISPATCH_PASSWORD;
const CENTRE = [57.1675, 50.2839];

let browser;
let dispatcher = null; // { cookie, csrf }
const outages = [];

before(async () => { browser = await launch(); });
after(async () => {
  for (const id of outages) await dispatcherPost(`/api/modules/outages/${id}/close`, null).catch(() => {});
  await browser?.close();
});

async function signInDispatcher() {
  if (dispatcher) return dispatcher;
  assert.ok(DISPATCH_EMAIL && DISPATCH_PASSWORD, 'GEOPORTAL_DISPATCH_EMAIL/PASSWORD are set by scripts/browser-tests.sh');
  const res = await fetch(`${BASE}/api/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: DISPATCH_EMAIL, password: DISPATCH_PASSWORD }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  dispatcher = { cookie, csrf: body.csrf_token };
  assert.ok(dispatcher.csrf, 'the login answers a CSRF token');
  return dispatcher;
}

async function dispatcherPost(path, body) {
  const d = await signInDispatcher();
  const res = await fetch(BASE + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Cookie: d.cookie, 'X-CSRF-Token': d.csrf },
    body: body ? JSON.stringify(body) : undefined,
  });
  const out = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(out)}`);
  return out;
}

/** expand opens a module's folded panel section. */
async function expand(page, id) {
  const btn = page.locator(`#${id} .mod-toggle`);
  if ((await btn.getAttribute('aria-expanded')) !== 'true') await btn.click();
  await page.locator(`#${id}-body`).waitFor();
}

/** screenXY is where a lon/lat is drawn on the page. */
function screenXY(page, lngLat) {
  return page.evaluate((p) => {
    const m = window.__geoportal.map;
    const pt = m.project(p);
    const r = m.getCanvas().getBoundingClientRect();
    return { x: r.left + pt.x, y: r.top + pt.y };
  }, lngLat);
}

const cityTime = (v) => new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Asia/Aqtobe' }).format(new Date(v));

test('opening hours: parsed and read against the city clock', () => {
  const cinema = parseHours('19:00–23:30');
  assert.deepEqual(openState(cinema, { day: 3, minutes: 20 * 60 }), { open: true, until: '23:30' });
  assert.deepEqual(openState(cinema, { day: 3, minutes: 10 * 60 }), { open: false, opens: '19:00' });
  assert.deepEqual(openState(cinema, { day: 3, minutes: 23 * 60 + 45 }), { open: false, opens: null });
  assert.deepEqual(openState(parseHours('круглосуточно'), { day: 0, minutes: 3 }), { open: true, always: true });
  assert.deepEqual(openState(parseHours('24/7'), { day: 0, minutes: 3 }), { open: true, always: true });
  // Past midnight: open until 02:00 the next morning.
  const bar = parseHours('22:00-02:00');
  assert.deepEqual(openState(bar, { day: 5, minutes: 60 }), { open: true, until: '02:00' });
  assert.deepEqual(openState(bar, { day: 5, minutes: 3 * 60 }), { open: false, opens: '22:00' });
  // Days: weekdays and Saturday; closed on Sunday.
  const office = parseHours('Mo-Fr 09:00-18:00; Sa 10:00-16:00');
  assert.equal(openState(office, { day: 1, minutes: 9 * 60 }).open, true);
  assert.equal(openState(office, { day: 6, minutes: 9 * 60 }).open, false);
  assert.deepEqual(openState(office, { day: 6, minutes: 9 * 60 }), { open: false, opens: '10:00' });
  assert.deepEqual(openState(office, { day: 0, minutes: 12 * 60 }), { open: false, opens: null });
  assert.equal(openState(parseHours('Пн-Пт 08:00–20:00'), { day: 2, minutes: 19 * 60 }).open, true);
  // Unknown text is not guessed at.
  for (const t of ['', 'by appointment', '25:00-26:00', 'Xx 10:00-12:00']) assert.equal(parseHours(t), null, t);
  // The city's clock: Aktobe is UTC+5 all year.
  assert.deepEqual(cityClock(new Date('2026-07-01T15:00:00Z'), 'Asia/Aqtobe'), { day: 3, minutes: 20 * 60 });
});

test('utilities: "is my building affected?" by address, by a point and in the building popup', T, async () => {
  // A building of the demo city near the centre, and an outage drawn over it by a dispatcher.
  const b = (await api(`/api/nearest?layer=buildings&lon=${CENTRE[0]}&lat=${CENTRE[1]}&limit=1&lang=en`)).results[0];
  assert.ok(b?.address, 'the demo city has addressed buildings');
  const [x, y] = b.point;
  const d = 0.0004;
  const starts = new Date(Date.now() - 3600e3).toISOString();
  const end = new Date(Date.now() + 6 * 3600e3);
  const o = await dispatcherPost('/api/modules/outages', {
    network: 'heating', starts_at: starts, expected_end: end.toISOString(),
    description: { kk: 'Жылу трассасын жөндеу', ru: 'Ремонт теплотрассы', en: 'Heating main repair' },
    geometry: { type: 'Polygon', coordinates: [[[x - d, y - d], [x + d, y - d], [x + d, y + d], [x - d, y + d], [x - d, y - d]]] },
  });
  outages.push(o.id);

  const page = await open(browser, DESKTOP, `#map=15/${y}/${x}&layers=city_boundary,districts,streets,buildings&lang=en`);
  await expand(page, 'mod-outages');
  await page.locator('#outage-check-address').fill(b.address);
  await page.locator('#mod-outages-body button[type=submit]').click();
  const verdict = page.locator('#mod-outages .mod-verdict');
  await verdict.waitFor({ timeout: 15000 });
  assert.equal(await verdict.getAttribute('data-affected'), 'true');
  assert.equal(await verdict.textContent(), 'Yes, your building is in an outage area');
  assert.match(await page.locator('#mod-outages .mod-meta').last().textContent(), new RegExp(b.address.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  const item = page.locator(`#mod-outages .mod-outage[data-id="${o.id}"]`);
  assert.match(await item.textContent(), /Heating/);
  assert.match(await item.textContent(), /Heating main repair/);
  assert.equal(await item.locator('[data-field=expected_end]').textContent(), cityTime(end));
  assert.equal(await page.evaluate(() => window.__geoportal.map.getLayoutProperty('lyr-outages', 'visibility')), 'visible', 'the outage areas are shown');

  // The same in Kazakh, without asking again.
  await page.getByRole('button', { name: /Қазақша/ }).click();
  assert.equal(await verdict.textContent(), 'Иә, сіздің үйіңіз өшірілу аумағында');
  assert.match(await item.textContent(), /Жылу трассасын жөндеу/);
  await page.getByRole('button', { name: /English/ }).click();

  // A point far outside the outage: not affected.
  await page.evaluate(() => window.__geoportal.map.jumpTo({ center: [57.10, 50.31], zoom: 15 }));
  await waitIdle(page);
  await page.locator('#mod-outages-body [data-pick]').click();
  assert.equal(await page.locator('#mod-outages-body [data-pick]').getAttribute('aria-pressed'), 'true');
  const box = await page.locator('#map canvas').boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForFunction(() => document.querySelector('#mod-outages .mod-verdict')?.dataset.affected === 'false', null, { timeout: 15000 });
  assert.equal(await page.locator('.maplibregl-popup').count(), 0, 'the pick did not open a popup');

  // Clicking the building opens its popup with the answer.
  await page.evaluate((p) => window.__geoportal.map.jumpTo({ center: p, zoom: 17 }), b.point);
  await waitIdle(page);
  const xy = await screenXY(page, b.point);
  await page.mouse.click(xy.x, xy.y);
  // The outage area lies over the building: its popup comes first, with the description.
  const first = page.locator('.maplibregl-popup .popup');
  await first.waitFor();
  assert.equal(await first.getAttribute('data-layer'), 'outages');
  assert.equal(await page.locator('.maplibregl-popup .mod-descr').textContent(), 'Heating main repair');
  await page.locator('.maplibregl-popup').getByRole('button', { name: 'Next' }).click();
  assert.equal(await first.getAttribute('data-layer'), 'buildings');
  const pop = page.locator('.maplibregl-popup [data-module=outages] .mod-verdict');
  await pop.waitFor({ timeout: 15000 });
  assert.equal(await pop.getAttribute('data-affected'), 'true');
  assert.equal(await pop.textContent(), 'This building has an outage');
  assert.match(await page.locator('.maplibregl-popup .mod-outage').first().textContent(), /Heating main repair/);
  const violations = await axe(page);
  assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
  await shot(page, 'modules-outage.png');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('barrier-free: "accessible places only" filters the drawn features and stays in the link', T, async () => {
  const ramp = (await api(`/api/nearest?layer=ramps&lon=${CENTRE[0]}&lat=${CENTRE[1]}&limit=1`)).results[0];
  const view = `#map=14.5/${ramp.point[1]}/${ramp.point[0]}&layers=city_boundary,districts,streets,buildings,ramps,smart_crossings,biotoilets&lang=en`;
  const page = await open(browser, DESKTOP, view);
  const drawn = () => page.evaluate(() => {
    const m = window.__geoportal.map;
    const out = {};
    for (const slug of ['ramps', 'smart_crossings', 'biotoilets']) {
      const fs = m.queryRenderedFeatures({ layers: [`lyr-${slug}`] });
      const seen = new Map(fs.map((f) => [f.id, f.properties]));
      out[slug] = [...seen.values()];
    }
    return out;
  });
  const all = await drawn();
  assert.ok(all.ramps.length >= 5, `ramps drawn: ${all.ramps.length}`);
  // Accessible: no steeper than 1:12 (8 %) and not in poor condition (layers/modules/access.go).
  const fits = (p) => (p.slope_pct == null || p.slope_pct <= 8) && p.condition !== 'poor';
  assert.ok(all.ramps.some((p) => !fits(p)), 'some drawn ramps are too steep or in poor condition');
  await expand(page, 'mod-access');
  await page.locator('#access-only').check();
  await waitIdle(page);
  const only = await drawn();
  assert.ok(only.ramps.length > 0 && only.ramps.length < all.ramps.length, `ramps ${all.ramps.length} → ${only.ramps.length}`);
  assert.ok(only.ramps.every(fits), 'only ramps within the slope norm and not in poor condition');
  assert.ok(only.smart_crossings.every((p) => p.sound_signal === true), 'only crossings with a sound signal');
  assert.ok(only.biotoilets.every((p) => p.accessible === true), 'only accessible bio-toilets');
  assert.equal(only.ramps.length, all.ramps.filter(fits).length, 'every accessible ramp is still drawn');
  await page.waitForFunction(() => new URLSearchParams(location.hash.slice(1)).get('access') === '1');

  // The link opens the map filtered.
  const hash = await page.evaluate(() => location.hash);
  const again = await open(browser, DESKTOP, hash);
  assert.ok(await again.locator('#access-only').isChecked());
  const linked = await again.evaluate(() => window.__geoportal.map.queryRenderedFeatures({ layers: ['lyr-ramps'] }).map((f) => f.properties));
  assert.ok(linked.length > 0 && linked.every(fits), `linked: ${JSON.stringify(linked)}`);
  await again.context().close();

  // Off again: everything is back.
  await page.locator('#access-only').uncheck();
  await waitIdle(page);
  assert.equal((await drawn()).ramps.length, all.ramps.length);
  await page.waitForFunction(() => !new URLSearchParams(location.hash.slice(1)).has('access'));

  // The score by district, from the API.
  const rep = await api('/api/modules/access?distance=300&limit=20');
  await page.getByRole('button', { name: 'Score by district' }).click();
  const rows = page.locator('#access-scores tbody tr');
  await rows.first().waitFor({ timeout: 30000 });
  assert.equal(await rows.count(), rep.districts.length);
  assert.equal(await page.locator('#access-scores .mod-verdict').getAttribute('data-score'), String(rep.score));
  assert.equal(await page.locator('#access-scores .mod-gaps button').count(), Math.min(10, rep.worst_gaps.length));
  assert.ok(await page.evaluate(() => window.__geoportal.map.getLayoutProperty('mod-access-districts', 'visibility') !== 'none'));

  // The social taxi's service area: the shortcut switches the catalog layer on, in step with the layer list.
  const taxi = await api('/ogc/collections/social_taxi_area/items?f=json&limit=5');
  assert.equal(taxi.features.length, 1, 'the demo city has one social-taxi area');
  await page.getByLabel('Social-taxi service area').check();
  await waitIdle(page);
  assert.ok(await page.locator('#layer-social_taxi_area').isChecked(), 'the layer list follows the shortcut');
  const areas = await page.evaluate(() => window.__geoportal.map.queryRenderedFeatures({ layers: ['lyr-social_taxi_area'] })
    .map((f) => f.properties.operator));
  assert.ok(areas.length > 0 && areas.every((o) => o === taxi.features[0].properties.operator), `drawn areas: ${areas}`);
  await page.locator('#layer-social_taxi_area').uncheck();
  assert.equal(await page.getByLabel('Social-taxi service area').isChecked(), false, 'the shortcut follows the layer list');
  const violations = await axe(page);
  assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
  await shot(page, 'modules-access.png');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('health: "find my clinic" at a clicked point highlights its attachment area', T, async () => {
  const page = await open(browser, DESKTOP, `#map=14/${CENTRE[1]}/${CENTRE[0]}&layers=city_boundary,districts,streets,buildings&lang=ru`);
  await expand(page, 'mod-clinic');
  await page.locator('#mod-clinic-body [data-pick]').click();
  const box = await page.locator('#map canvas').boundingBox();
  const at = await page.evaluate(([x, y]) => window.__geoportal.map.unproject([x, y]).toArray(), [box.width / 2 + 40, box.height / 2 - 30]);
  await page.mouse.click(box.x + box.width / 2 + 40, box.y + box.height / 2 - 30);
  const want = await api(`/api/modules/clinics/mine?lon=${at[0].toFixed(6)}&lat=${at[1].toFixed(6)}`);
  const name = page.locator('#mod-clinic .mod-facility-name');
  await name.waitFor({ timeout: 15000 });
  assert.equal(await name.textContent(), want.clinic.name);
  assert.equal(await page.locator('#mod-clinic .mod-facility').getAttribute('data-id'), String(want.clinic.id));
  await waitIdle(page);
  const area = await page.evaluate(() => window.__geoportal.map.queryRenderedFeatures({ layers: ['mod-clinic-fill'] }).length);
  assert.ok(area > 0, 'the attachment area is drawn');
  // The view holds the clinic and the point.
  const inView = await page.evaluate((pts) => pts.every((p) => window.__geoportal.map.getBounds().contains(p)), [at, [want.clinic.lon, want.clinic.lat]]);
  assert.ok(inView);
  assert.equal(await page.evaluate(() => window.__geoportal.map.getLayoutProperty('lyr-clinics', 'visibility')), 'visible');
  await shot(page, 'modules-clinic.png');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('phone: picking a point folds the panel away, Escape cancels, the answer opens it again', T, async () => {
  const page = await open(browser, PHONE, `#map=14/${CENTRE[1]}/${CENTRE[0]}&layers=streets,buildings&lang=en`);
  await page.getByRole('button', { name: 'Layers and search' }).click();
  await expand(page, 'mod-clinic');
  const pick = page.locator('#mod-clinic-body [data-pick]');
  await pick.click();
  assert.ok(!(await page.locator('#panel').isVisible()), 'the panel folds away to show the map');
  const banner = page.locator('.mod-pick-banner');
  assert.ok(await banner.isVisible());
  assert.equal(await banner.locator('span').textContent(), 'Click a building or a point on the map');
  await page.keyboard.press('Escape');
  assert.ok(!(await banner.isVisible()), 'Escape cancels the pick');
  assert.equal(await pick.getAttribute('aria-pressed'), 'false');
  await page.getByRole('button', { name: 'Layers and search' }).click();
  await pick.click();
  const box = await page.locator('#map canvas').boundingBox();
  const at = await page.evaluate(([x, y]) => window.__geoportal.map.unproject([x, y]).toArray(), [box.width / 2, box.height * 0.6]);
  await page.mouse.click(box.x + box.width / 2, box.y + box.height * 0.6);
  const want = await api(`/api/modules/clinics/mine?lon=${at[0].toFixed(6)}&lat=${at[1].toFixed(6)}`);
  const name = page.locator('#mod-clinic .mod-facility-name');
  await name.waitFor({ timeout: 15000 });
  assert.ok(await page.locator('#panel').isVisible(), 'the answer opens the panel again');
  assert.equal(await name.textContent(), want.clinic.name);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('education: "find my school" by address, and cameras in a school popup', T, async () => {
  const b = (await api(`/api/nearest?layer=buildings&lon=57.19&lat=50.27&limit=1&lang=en`)).results[0];
  const want = await api(`/api/modules/schools/mine?lon=${b.point[0]}&lat=${b.point[1]}`);
  const page = await open(browser, PHONE, '#lang=kk');
  await page.locator('.sheet-toggle').click();
  await expand(page, 'mod-school');
  await page.locator('#school-find-address').fill(b.address);
  await page.locator('#mod-school-body button[type=submit]').click();
  const name = page.locator('#mod-school .mod-facility-name');
  await name.waitFor({ timeout: 15000 });
  assert.equal(await name.textContent(), want.school.name);
  assert.equal(await page.locator('#mod-school .mod-verdict').textContent(), 'Сіздің мектебіңіз:');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `no horizontal scroll (${width})`);
  const violations = await axe(page);
  assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
  await shot(page, 'modules-school-phone.png');
  await page.context().close();

  // The school's popup counts the cameras within 300 m, as the API does.
  const cams = await api(`/api/modules/schools/${want.school.id}/cameras?radius=300`);
  const desk = await open(browser, DESKTOP, `#map=17/${want.school.lat}/${want.school.lon}&layers=streets,schools&lang=en`);
  const xy = await screenXY(desk, [want.school.lon, want.school.lat]);
  await desk.mouse.click(xy.x, xy.y);
  const safety = desk.locator('.maplibregl-popup [data-module=school-safety] [data-cameras]');
  await safety.waitFor({ timeout: 15000 });
  assert.equal(await safety.getAttribute('data-cameras'), String(cams.cameras.length));
  assert.match(await safety.textContent(), new RegExp(`Cameras within 300 m: ${cams.cameras.length}`));
  assert.equal(await desk.locator('.maplibregl-popup .popup').getAttribute('data-id'), String(want.school.id));
  assert.deepEqual(desk.errors, []);
  await desk.context().close();
});

test('leisure: a popup reads the opening hours against the city clock; the gap map', T, async () => {
  const fc = await api("/ogc/collections/leisure_places/items?f=json&limit=1&filter=kind%3D'summer_cinema'");
  const cinema = fc.features[0];
  assert.ok(cinema, 'the demo city has a summer cinema');
  assert.equal(cinema.properties.hours, '19:00–23:30');
  const [lon, lat] = cinema.geometry.coordinates;
  for (const [utc, isOpen, text] of [['2026-07-01T15:00:00Z', 'true', 'Open now · until 23:30'], ['2026-07-01T05:00:00Z', 'false', 'Closed now · opens at 19:00']]) {
    const page = await open(browser, DESKTOP, `#map=17/${lat}/${lon}&layers=streets,leisure_places&lang=en`, {
      before: (p) => p.clock.setFixedTime(new Date(utc)),
    });
    const xy = await screenXY(page, [lon, lat]);
    await page.mouse.click(xy.x, xy.y);
    const hours = page.locator('.maplibregl-popup [data-module=leisure] .mod-hours');
    await hours.waitFor({ timeout: 15000 });
    assert.equal(await hours.getAttribute('data-open'), isOpen, utc);
    assert.equal(await hours.textContent(), text);
    assert.equal(await page.locator('.maplibregl-popup .mod-kind').textContent(), 'summer cinema');
    await page.context().close();
  }

  // A park's facilities, in Kazakh.
  const pr = (await api(`/api/nearest?layer=parks&lon=${CENTRE[0]}&lat=${CENTRE[1]}&limit=1`)).results[0];
  const park = await api(`/ogc/collections/parks/items/${pr.id}?f=json`);
  const items = park.properties.facilities.split(/\s*,\s*/);
  const pp = await open(browser, DESKTOP, `#map=17/${pr.point[1]}/${pr.point[0]}&layers=parks&lang=kk`);
  const pxy = await screenXY(pp, pr.point);
  await pp.mouse.click(pxy.x, pxy.y);
  const chips = pp.locator('.maplibregl-popup [data-module=leisure] .mod-chips li');
  await chips.first().waitFor({ timeout: 15000 });
  assert.equal(await chips.count(), items.length);
  if (items.includes('скамейки')) assert.ok((await chips.allTextContents()).includes('орындықтар'));
  assert.ok(['true', 'false'].includes(await pp.locator('.maplibregl-popup .mod-hours').getAttribute('data-open')));
  await pp.context().close();

  // The planners' gap map: the share matches the coverage analysis; the hexagons are drawn.
  const want = await api('/api/analysis/coverage?layer=leisure_places&distance=1000&filter=kind%3Asummer_cinema');
  const page = await open(browser, DESKTOP, '#map=12/50.2839/57.1675&layers=streets&lang=en');
  await expand(page, 'mod-leisure');
  await page.locator('#leisure-kind').selectOption('summer_cinema');
  await page.locator('#leisure-distance').selectOption('1000');
  await page.getByRole('button', { name: 'Show gaps' }).click();
  const v = page.locator('#mod-leisure .mod-verdict');
  await v.waitFor({ timeout: 60000 });
  assert.equal(await v.getAttribute('data-share'), String(want.covered_share));
  assert.match(await v.textContent(), new RegExp(`${want.unserved_hexes.features.length} hexagons`));
  await waitIdle(page);
  const hexes = await page.evaluate(() => window.__geoportal.map.querySourceFeatures('mod-leisure-gaps').length);
  assert.ok(hexes > 0, 'the unserved hexagons are drawn');
  const violations = await axe(page);
  assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
  await shot(page, 'modules-leisure-gaps.png');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
