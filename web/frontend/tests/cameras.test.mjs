// Browser test of private cameras in Safe City (issue 19), the whole path: a camera owner signs in
// on a phone, registers a camera by drawing its view sector on the map (touch drags of the
// handles), Safe City staff approve it on the moderation page, it appears on the public map
// (queryRenderedFeatures) and in its tiles, and the coverage figure "seen with private cameras
// too" grows while "seen by city cameras" stays; the owner withdraws it and it is gone from the
// map, the tiles and the figure at once. The same on a desktop, typing the numbers instead of
// dragging, with staff asking for changes first; the incident lookup finds the camera; the
// planner shows both figures; kk/ru/en texts; axe on every page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, axe, BASE, PHONE, DESKTOP, shot, waitForMap, waitIdle } from './helpers.mjs';

const T = { timeout: 900000 };
const SAFECITY_EMAIL = process.env.GEOPORTAL_SAFECITY_EMAIL;
const SAFECITY_PASSWORD = process.env.GEOPORTAL_SAFECITY_PASSWORD;
const [OWNER_PHONE, OWNER_DESK] = (process.env.GEOPORTAL_OWNER_EMAILS || '').split(' ');
const OWNER_PASSWORD = process.env.GEOPORTAL_RESIDENT_PASSWORD;
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const R = 6371008.8;
const rad = (d) => (d * Math.PI) / 180;
const deg = (r) => (r * 180) / Math.PI;
function offset(lon, lat, b, d) {
  const f1 = rad(lat); const a = d / R; const t = rad(b);
  const f2 = Math.asin(Math.sin(f1) * Math.cos(a) + Math.cos(f1) * Math.sin(a) * Math.cos(t));
  const l2 = rad(lon) + Math.atan2(Math.sin(t) * Math.sin(a) * Math.cos(f1), Math.cos(a) - Math.sin(f1) * Math.sin(f2));
  return [deg(l2), deg(f2)];
}
function bearing(lon1, lat1, lon2, lat2) {
  const y = Math.sin(rad(lon2 - lon1)) * Math.cos(rad(lat2));
  const x = Math.cos(rad(lat1)) * Math.sin(rad(lat2)) - Math.sin(rad(lat1)) * Math.cos(rad(lat2)) * Math.cos(rad(lon2 - lon1));
  return (deg(Math.atan2(y, x)) + 360) % 360;
}
const angle = (a, b) => { const d = Math.abs((((a - b) % 360) + 360) % 360); return d > 180 ? 360 - d : d; };

async function getJSON(path, cookie) {
  const res = await fetch(BASE + path, { headers: cookie ? { Cookie: cookie } : {} });
  const body = await res.json();
  assert.equal(res.status, 200, `${path}: ${JSON.stringify(body).slice(0, 300)}`);
  return body;
}

/** coverage is the camera coverage with the private group, as anyone asks for it. */
const coverage = () => getJSON('/api/analysis/cameras?private=true&geometry=false');

/** spot picks a place to film: the start of a long street piece no city camera sees, near the
 * middle of the city, and the direction along it. */
async function spot(skip = []) {
  const res = await getJSON('/api/analysis/cameras?private=true&geometry=true');
  const cfg = await getJSON('/api/config');
  const c = cfg.city.center || [57.17, 50.28];
  let best = null;
  for (const f of res.unseen_streets.features) {
    for (const line of f.geometry.coordinates) {
      for (let i = 0; i + 1 < line.length; i++) {
        const [a, b] = [line[i], line[i + 1]];
        const len = Math.hypot((b[0] - a[0]) * 71000, (b[1] - a[1]) * 111000);
        if (len < 70 || skip.some((s) => Math.hypot((s[0] - a[0]) * 71000, (s[1] - a[1]) * 111000) < 200)) continue;
        const d = Math.hypot((a[0] - c[0]) * 71000, (a[1] - c[1]) * 111000);
        if (!best || d < best.d) best = { d, lon: a[0], lat: a[1], heading: bearing(a[0], a[1], b[0], b[1]) };
      }
    }
  }
  assert.ok(best, 'a street piece of 70 m that no city camera sees');
  return best;
}

async function signIn(size, email, password, path, lang) {
  assert.ok(email && password, 'the users are created by scripts/browser-tests.sh');
  const context = await browser.newContext({ viewport: size, deviceScaleFactor: 1, locale: 'en-GB', isMobile: size.width < 500, hasTouch: size.width < 500 });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e));
  await page.goto(`${BASE}${path}${path.includes('?') ? '&' : '?'}lang=${lang}`);
  assert.match(page.url(), /\/login\?/, `${path}: not signed in, sent to sign in`);
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForURL((u) => u.pathname === path.split('?')[0]), page.click('form[action="/login"] button[type=submit]')]);
  return page;
}

async function mapReady(page) {
  await page.waitForFunction(() => document.body.dataset.camerasReady === 'true', null, { timeout: 60000 });
  await page.waitForFunction(() => window.__cameras.maps.every((m) => m.loaded() && m.areTilesLoaded() && !m.isMoving()), null, { timeout: 60000, polling: 100 });
}

async function clean(page, what) {
  const violations = await axe(page);
  assert.deepEqual(violations, [], `${what}: ${JSON.stringify(violations, null, 1)}`);
  const w = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, iw: innerWidth }));
  assert.ok(w.sw <= w.iw, `${what}: no sideways scroll (${w.sw} > ${w.iw})`);
}

/** touchDrag drags with one finger from a to b (DevTools' touch events: what a phone sends). */
async function touchDrag(page, a, b) {
  const cdp = await page.context().newCDPSession(page);
  const pt = (p) => [{ x: p.x, y: p.y, id: 1 }];
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: pt(a) });
  for (let i = 1; i <= 12; i++) {
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: pt({ x: a.x + ((b.x - a.x) * i) / 12, y: a.y + ((b.y - a.y) * i) / 12 }) });
  }
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  await cdp.detach();
}

async function mouseDrag(page, a, b) {
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move(b.x, b.y, { steps: 12 });
  await page.mouse.up();
}

/** at is the page pixel of lon, lat on the registration map. */
async function at(page, lngLat) {
  return page.evaluate(([ll]) => {
    const m = window.__cameras.register.map;
    const p = m.project(ll);
    const r = m.getContainer().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  }, [lngLat]);
}

async function handleAt(page, kind) {
  const box = await page.locator(`.cam-handle.${kind}`).boundingBox();
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

async function fillAbout(page, name, contact) {
  await page.fill('#name', name);
  await page.fill('#height_m', '4');
  await page.selectOption('#films', 'street');
  await page.fill('#retention_days', '20');
  await page.fill('#contact', contact);
  for (const c of ['#consent_police', '#consent_coverage', '#show_public']) await page.check(c);
}

async function submit(page) {
  await Promise.all([page.waitForURL(/\/cameras\?msg=saved/), page.click('#camera-submit')]);
}

/** myCamera is the id of the newest card of the owner's list. */
async function myCamera(page) {
  return Number(await page.locator('#my-cameras li.card').first().getAttribute('data-camera'));
}

async function decide(staff, id, decision, reason = '') {
  await staff.goto(`${BASE}/staff/cameras?lang=ru`);
  const card = staff.locator(`#queue li.card[data-camera="${id}"]`);
  await card.waitFor();
  await card.locator(`input[name=decision][value=${decision}]`).check();
  if (reason) await card.locator('textarea[name=reason]').fill(reason);
  await Promise.all([staff.waitForURL(/msg=saved/), card.locator('button[type=submit]').click()]);
  assert.equal(await staff.locator(`#history tr[data-camera="${id}"][data-action="private_camera.${decision}"]`).count(), 1, 'the decision is in the history');
}

/** onPublicMap opens the public map at the camera with the private cameras' layer and returns
 * the rendered features named name (the tiles carry the popup's attributes only). */
async function onPublicMap(size, c, name) {
  const context = await browser.newContext({ viewport: size, deviceScaleFactor: 1, locale: 'en-GB', isMobile: size.width < 500, hasTouch: size.width < 500 });
  const page = await context.newPage();
  await page.goto(`${BASE}/#map=17.50/${c.lat.toFixed(6)}/${c.lon.toFixed(6)}&layers=private_cameras&lang=kk`);
  await waitForMap(page);
  await waitIdle(page);
  const found = await page.evaluate((n) => window.__geoportal.map.queryRenderedFeatures({ layers: ['lyr-private_cameras'] })
    .filter((f) => f.properties.name === n)
    .map((f) => ({ name: f.properties.name, contact: f.properties.contact })), name);
  await context.close();
  return found;
}

/** tile fetches the private cameras' public tile over the camera at zoom 16 at the layer's
 * current version, as the map would ask for it. */
async function tile(c) {
  const layer = await getJSON('/api/layers/private_cameras');
  const z = 16;
  const n = 2 ** z;
  const x = Math.floor(((c.lon + 180) / 360) * n);
  const y = Math.floor(((1 - Math.log(Math.tan(rad(c.lat)) + 1 / Math.cos(rad(c.lat))) / Math.PI) / 2) * n);
  const res = await fetch(`${BASE}/tiles/private_cameras/${z}/${x}/${y}.mvt?v=${layer.version ?? layer.layer?.version ?? ''}`);
  const body = Buffer.from(await res.arrayBuffer());
  assert.ok(res.status === 200 || res.status === 204, `tile: ${res.status}`);
  return body;
}

test('the public map leads owners to the camera registration, in kk/ru/en', T, async () => {
  const want = { kk: 'Жеке камераңызды «Қауіпсіз қалаға» қосу', ru: 'Подключить свою камеру к «Безопасному городу»', en: 'Join your camera to Safe City' };
  const context = await browser.newContext({ viewport: DESKTOP, deviceScaleFactor: 1, locale: 'en-GB' });
  const page = await context.newPage();
  for (const lang of ['kk', 'ru', 'en']) {
    await page.goto(`${BASE}/#lang=${lang}`);
    await page.reload();
    const link = page.locator(`.page-links a[href="/cameras?lang=${lang}"]`);
    await link.waitFor({ state: 'attached' });
    assert.equal((await link.textContent()).trim(), want[lang], lang);
  }
  // Followed while signed out, it asks the owner to sign in and comes back to the form.
  await page.locator('.page-links a[href="/cameras?lang=en"]').scrollIntoViewIfNeeded();
  await Promise.all([page.waitForURL(/\/login\?/), page.locator('.page-links a[href="/cameras?lang=en"]').click()]);
  assert.equal(new URL(page.url()).searchParams.get('next'), '/cameras?lang=en');
  await context.close();
});

test('phone: an owner draws a camera\'s view sector, staff approve, it is on the public map and in the coverage, withdrawn it is gone', T, async () => {
  const before0 = await coverage();
  const where = await spot();
  const owner = await signIn(PHONE, OWNER_PHONE, OWNER_PASSWORD, '/cameras', 'kk');
  await mapReady(owner);
  assert.equal(await owner.locator('h1').textContent(), 'Менің камераларым «Қауіпсіз қалада»');
  await clean(owner, 'owners\' page, phone, kk');
  // The owner zooms to the street and taps where the camera is.
  await owner.evaluate(([ll]) => window.__cameras.register.map.jumpTo({ center: ll, zoom: 17 }), [[where.lon, where.lat]]);
  await mapReady(owner);
  const tap = await at(owner, [where.lon, where.lat]);
  await owner.touchscreen.tap(tap.x, tap.y);
  await owner.locator('.cam-handle.heading').waitFor();
  const lon = Number(await owner.inputValue('#lon'));
  const lat = Number(await owner.inputValue('#lat'));
  assert.ok(Math.hypot((lon - where.lon) * 71000, (lat - where.lat) * 111000) < 3, `tapped at ${lon}, ${lat}`);
  // Drag the triangle along the street, 50 m out: the heading and range follow.
  await touchDrag(owner, await handleAt(owner, 'heading'), await at(owner, offset(lon, lat, where.heading, 50)));
  const heading = Number(await owner.inputValue('#heading'));
  const range = Number(await owner.inputValue('#range_m'));
  assert.ok(angle(heading, where.heading) <= 3, `heading ${heading}, want ${where.heading}`);
  assert.ok(Math.abs(range - 50) <= 3, `range ${range}`);
  // Drag the diamond to 30° left of the heading: a 60° field of view.
  await touchDrag(owner, await handleAt(owner, 'fov'), await at(owner, offset(lon, lat, heading - 30, 35)));
  const fov = Number(await owner.inputValue('#fov'));
  assert.ok(Math.abs(fov - 60) <= 4, `fov ${fov}`);
  await owner.locator('#camera-map').scrollIntoViewIfNeeded();
  await shot(owner, 'cameras-sector-phone.png');
  const drawn = await owner.evaluate(() => window.__cameras.register.map.queryRenderedFeatures({ layers: ['sectors-fill'] }).length);
  assert.ok(drawn > 0, 'the view sector is drawn on the map');
  const NAME = 'Дүкен «Береке», кіреберіс';
  await fillAbout(owner, NAME, '+7 701 111 2233');
  await shot(owner, 'cameras-register-phone.png');
  await submit(owner);
  const id = await myCamera(owner);
  assert.equal(await owner.locator(`#my-cameras li[data-camera="${id}"] .st`).textContent(), 'Тексерілуде');
  await clean(owner, 'my cameras, phone, kk');
  assert.deepEqual(await onPublicMap(PHONE, { lon, lat }, NAME), [], 'not on the public map before approval');

  const staff = await signIn(DESKTOP, SAFECITY_EMAIL, SAFECITY_PASSWORD, '/staff/cameras', 'ru');
  assert.equal(await staff.locator('h1').textContent(), 'Модерация частных камер');
  await staff.locator(`#queue li.card[data-camera="${id}"] .mini-map[data-ready=true]`).waitFor({ timeout: 60000 });
  await mapReady(staff);
  await clean(staff, 'moderation page, ru');
  await shot(staff, 'cameras-moderation.png');
  await decide(staff, id, 'approve');

  const features = await onPublicMap(PHONE, { lon, lat }, NAME);
  assert.equal(features.length, 1, 'on the public map after approval');
  assert.equal(features[0].name, NAME);
  assert.equal(features[0].contact, undefined, 'never the contact on the public map');
  assert.ok((await tile({ lon, lat })).length > 0, 'the public tile holds the camera');
  const approved = await coverage();
  assert.equal(approved.seen_length_m, before0.seen_length_m, 'seen by city cameras: unchanged');
  assert.equal(approved.with_private.private_cameras, before0.with_private.private_cameras + 1);
  assert.ok(approved.with_private.seen_length_m > before0.with_private.seen_length_m + 20,
    `seen with private cameras too: ${before0.with_private.seen_length_m} → ${approved.with_private.seen_length_m}`);

  // The incident lookup, 20 m along the street from the camera, finds it with its contact.
  const place = offset(lon, lat, heading, 20);
  await staff.goto(`${BASE}/staff/cameras/incident?lang=en&lon=${place[0].toFixed(6)}&lat=${place[1].toFixed(6)}`);
  await mapReady(staff);
  const row = staff.locator(`#incident-cameras tr[data-kind=private][data-camera="${id}"]`);
  assert.equal(await row.count(), 1, 'the incident lookup finds the camera');
  assert.match(await row.textContent(), /\+7 701 111 2233/);
  await clean(staff, 'incident lookup, en');

  // Withdrawn: gone from the map, the tile and the figure at once.
  await owner.goto(`${BASE}/cameras?lang=kk`);
  await Promise.all([owner.waitForURL(/msg=withdrawn/), owner.locator(`#my-cameras li[data-camera="${id}"] form button`).click()]);
  assert.equal(await owner.locator(`#my-cameras li[data-camera="${id}"]`).getAttribute('data-status'), 'withdrawn');
  assert.deepEqual(await onPublicMap(PHONE, { lon, lat }, NAME), [], 'gone from the public map');
  assert.equal((await tile({ lon, lat })).length, 0, 'the public tile is empty');
  const withdrawn = await coverage();
  assert.equal(withdrawn.with_private.private_cameras, before0.with_private.private_cameras);
  assert.equal(withdrawn.with_private.seen_length_m, before0.with_private.seen_length_m);
  assert.deepEqual([...owner.errors, ...staff.errors], []);
  await owner.context().close();
  await staff.context().close();
});

test('desktop: typed numbers draw the sector, staff ask for changes, the owner edits, approved; the planner shows both figures; withdrawn', T, async () => {
  const first = await spot();
  const where = await spot([[first.lon, first.lat]]);
  const owner = await signIn(DESKTOP, OWNER_DESK, OWNER_PASSWORD, '/cameras', 'en');
  await mapReady(owner);
  assert.equal(await owner.locator('h1').textContent(), 'My cameras in Safe City');
  for (const [lang, h1] of [['ru', 'Мои камеры в «Безопасном городе»'], ['kk', 'Менің камераларым «Қауіпсіз қалада»']]) {
    await owner.goto(`${BASE}/cameras?lang=${lang}`);
    assert.equal(await owner.locator('h1').textContent(), h1);
  }
  await owner.goto(`${BASE}/cameras?lang=en`);
  await mapReady(owner);
  await clean(owner, 'owners\' page, desktop, en');
  // The keyboard path: the numbers, and the map draws them.
  await owner.fill('#lat', where.lat.toFixed(6));
  await owner.fill('#heading', String(Math.round(where.heading) % 360));
  await owner.fill('#fov', '70');
  await owner.fill('#range_m', '45');
  await owner.press('#range_m', 'Tab');
  await owner.fill('#lon', where.lon.toFixed(6));
  await owner.press('#lon', 'Tab');
  const sector = await owner.evaluate(() => document.getElementById('camera-map').dataset);
  assert.equal(Number(sector.fov), 70);
  assert.equal(Number(sector.range), 45);
  assert.ok(await owner.locator('.cam-handle.heading').isVisible(), 'the handles follow the numbers');
  // A bad number is refused next to its field, in the page's language, and nothing is stored.
  await fillAbout(owner, 'Condominium 12, yard gate', 'osi12@example.kz');
  await owner.fill('#range_m', '0');
  await Promise.all([owner.waitForLoadState('load'), owner.click('#camera-submit')]);
  assert.equal(await owner.locator('#err-range_m').textContent(), 'The range must be more than 0 and at most 300 m.');
  assert.equal(await owner.getAttribute('#range_m', 'aria-invalid'), 'true');
  assert.equal(await owner.inputValue('#name'), 'Condominium 12, yard gate');
  await mapReady(owner);
  await clean(owner, 'a refused form, en');
  await owner.fill('#range_m', '45');
  await submit(owner);
  const id = await myCamera(owner);

  const staff = await signIn(DESKTOP, SAFECITY_EMAIL, SAFECITY_PASSWORD, '/staff/cameras', 'en');
  await decide(staff, id, 'changes', 'Please lower the mounting height to where the camera really is.');
  await owner.goto(`${BASE}/cameras?lang=en`);
  const card = owner.locator(`#my-cameras li[data-camera="${id}"]`);
  assert.equal(await card.getAttribute('data-status'), 'changes_requested');
  assert.match(await card.locator('.reason').textContent(), /lower the mounting height/);
  await Promise.all([owner.waitForURL(/edit=/), card.locator('a', { hasText: 'Edit' }).click()]);
  await mapReady(owner);
  assert.equal(await owner.inputValue('#name'), 'Condominium 12, yard gate');
  // Editing by dragging with the mouse: the triangle 10 m further out.
  const dragFrom = await handleAt(owner, 'heading');
  await mouseDrag(owner, dragFrom, await at(owner, offset(where.lon, where.lat, Math.round(where.heading) % 360, 55)));
  assert.ok(Math.abs(Number(await owner.inputValue('#range_m')) - 55) <= 3);
  await owner.fill('#height_m', '2.5');
  await owner.check('#consent_police');
  await submit(owner);
  await decide(staff, id, 'approve');
  assert.equal((await onPublicMap(DESKTOP, where, 'Condominium 12, yard gate')).length, 1, 'on the public map (desktop)');

  // The planner's camera coverage: both figures, and the figures' CSV.
  const planner = await browser.newPage({ viewport: DESKTOP });
  await planner.goto(`${BASE}/planner?lang=en`);
  await planner.waitForFunction(() => document.body.dataset.plannerReady === 'true', null, { timeout: 60000 });
  await planner.check('#cam-private');
  await planner.click('#cameras-form button[type=submit]');
  await planner.waitForFunction(() => document.body.dataset.camerasDone, null, { timeout: 300000 });
  const want = await coverage();
  const pct = (s) => new Intl.NumberFormat('en-GB', { style: 'percent', maximumFractionDigits: 1, minimumFractionDigits: 1 }).format(s);
  assert.equal(await planner.textContent('#cam-city-share'), pct(want.seen_share));
  assert.equal(await planner.textContent('#cam-private-share'), pct(want.with_private.seen_share));
  assert.match(await planner.textContent('#cameras-result'), /seen by city cameras/);
  assert.match(await planner.textContent('#cameras-result'), /seen with private cameras too/);
  const [dl] = await Promise.all([planner.waitForEvent('download'), planner.click('#export-camera-figures')]);
  const csvText = await (await dl.createReadStream()).toArray().then((b) => Buffer.concat(b).toString());
  assert.match(csvText, /^measure,city_cameras,with_private_cameras\r\n/);
  assert.match(csvText, new RegExp(`seen_share,${want.seen_share.toFixed(5)},${want.with_private.seen_share.toFixed(5)}`));
  const [gj] = await Promise.all([planner.waitForEvent('download'), planner.click('#export-camera-streets')]);
  const streets = JSON.parse(await (await gj.createReadStream()).toArray().then((b) => Buffer.concat(b).toString()));
  assert.equal(streets.summary.with_private_seen_share, want.with_private.seen_share);
  assert.ok(streets.features.some((f) => f.properties.group === 'unseen_by_city'));
  await clean(planner, 'planner with camera coverage');
  await planner.close();

  await owner.goto(`${BASE}/cameras?lang=en`);
  await Promise.all([owner.waitForURL(/msg=withdrawn/), owner.locator(`#my-cameras li[data-camera="${id}"] form button`).click()]);
  assert.deepEqual(await onPublicMap(DESKTOP, where, 'Condominium 12, yard gate'), [], 'gone from the public map (desktop)');
  // A withdrawn camera cannot be approved: the page says why.
  await staff.goto(`${BASE}/staff/cameras?lang=en`);
  assert.equal(await staff.locator(`#queue li.card[data-camera="${id}"]`).count(), 0, 'not in the queue any more');
  assert.deepEqual([...owner.errors, ...staff.errors], []);
  await owner.context().close();
  await staff.context().close();
});

test('phone: the moderation and incident pages fit 375 px and pass axe in kk, ru and en', T, async () => {
  const staff = await signIn(PHONE, SAFECITY_EMAIL, SAFECITY_PASSWORD, '/staff/cameras', 'kk');
  const titles = { kk: 'Жеке камераларды модерациялау', ru: 'Модерация частных камер', en: 'Private cameras: moderation' };
  for (const lang of ['kk', 'ru', 'en']) {
    await staff.goto(`${BASE}/staff/cameras?lang=${lang}`);
    assert.equal(await staff.locator('h1').textContent(), titles[lang]);
    await mapReady(staff);
    await clean(staff, `moderation page, phone, ${lang}`);
    await staff.goto(`${BASE}/staff/cameras/incident?lang=${lang}`);
    await mapReady(staff);
    await clean(staff, `incident lookup, phone, ${lang}`);
  }
  // The place picked by a tap on the incident map fills the form.
  const box = await staff.locator('#incident-map').boundingBox();
  await staff.touchscreen.tap(box.x + box.width / 2, box.y + box.height / 2);
  await staff.waitForFunction(() => document.getElementById('lon').value !== '');
  assert.ok(Number(await staff.inputValue('#lat')) > 40);
  assert.deepEqual(staff.errors, []);
  await staff.context().close();
});
