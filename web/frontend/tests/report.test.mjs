// Browser test of citizen reports (issue 8's "Done when"): at phone size a resident files a report
// with a photo, a second resident nearby is offered "this is my problem too" instead of a
// duplicate, a department's staff member moves the report through the workflow in the staff
// console, and the reporter's private link shows the history. Run by scripts/browser-tests.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { launch, open, axe, api, shot, waitIdle, PHONE, DESKTOP, BASE } from './helpers.mjs';

const T = { timeout: 600000 };
const STAFF_EMAIL = process.env.GEOPORTAL_STAFF_EMAIL;
const STAFF_PASSWORD = process.env.GEOPORTAL_STAFF_PASSWORD;
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// png makes a small real PNG (a red-green gradient), so the server's decoder has a real image.
function png(w = 64, h = 48) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = y * (w * 3 + 1) + 1 + x * 3;
      raw[o] = (x * 255 / w) | 0; raw[o + 1] = (y * 255 / h) | 0; raw[o + 2] = 90;
    }
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** pinAt moves the map so lonlat sits in the part of the phone screen above the panel and taps it. */
async function pinAt(page, lonlat) {
  const xy = await page.evaluate(async (ll) => {
    const m = window.__geoportal.map;
    m.jumpTo({ center: ll, zoom: 16 });
    const c = m.project(ll);
    m.panBy([0, c.y - 230], { duration: 0 });
    await new Promise((r) => (m.isMoving() ? m.once('moveend', r) : r()));
    return m.project(ll);
  }, lonlat);
  await page.touchscreen.tap(xy.x, xy.y);
  await page.waitForFunction(() => /\d+\.\d{5}, \d+\.\d{5}/.test(document.querySelector('#report-pin-status')?.textContent || ''));
}

test('phone: file a report with a photo, +1 instead of a duplicate, staff workflow, follow link history', T, async () => {
  assert.ok(STAFF_EMAIL && STAFF_PASSWORD, 'GEOPORTAL_STAFF_EMAIL/PASSWORD are set by scripts/browser-tests.sh');
  // A place in the city: a demo clinic, and a point a few metres from it.
  const near = await api('/api/nearest?layer=clinics&lon=57.1675&lat=50.2839&limit=1&lang=en');
  const spot = near.results[0].point;
  const services = (await api('/api/reports/services')).services;
  const ramp = services.find((s) => s.code === 'missing_ramp');
  assert.equal(ramp.department, 'social');
  const before = await api('/api/layers/citizen_reports');

  const page = await open(browser, PHONE, '#lang=en');
  const openBtn = page.getByRole('button', { name: 'Report a problem' });
  await shot(page, 'phone-report-button.png');
  await openBtn.click();
  const panel = page.getByRole('dialog', { name: 'Report a problem' });
  await panel.waitFor();
  await page.waitForSelector('#report-service option[value="missing_ramp"]', { state: 'attached' });
  // Category names are in the chosen language.
  assert.ok((await page.locator('#report-service option').allTextContents()).includes(ramp.name.en));

  // Sending without a pin says what is missing, and sends nothing.
  await page.getByRole('button', { name: 'Send' }).click();
  assert.equal(await page.locator('.report-error').textContent(), 'First pin the place on the map.');

  await pinAt(page, spot);
  await page.selectOption('#report-service', 'missing_ramp');
  await page.waitForSelector('#report-attr-building');
  await page.fill('#report-attr-building', 'Поликлиника №1');
  const text = `<b>No ramp</b> at the entrance ${Date.now()}`;
  await page.fill('#report-description', text);
  await page.setInputFiles('#report-photos', { name: 'ramp.png', mimeType: 'image/png', buffer: png() });
  await page.waitForSelector('.report-files li');
  await page.fill('#report-first', 'Айгүл');
  await page.fill('#report-email', 'aigul@example.kz');
  assert.match(await page.locator('#report-private').textContent(), /seen only by city staff/);

  // The panel at phone width: no accessibility violations; a screenshot.
  const violations = await axe(page);
  assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
  const box = await panel.boundingBox();
  assert.ok(box.width <= PHONE.width && box.x >= 0, `panel fits the phone: ${JSON.stringify(box)}`);
  await panel.evaluate((el) => { el.scrollTop = 0; });
  await waitIdle(page);
  await shot(page, 'phone-report.png');

  // Send: proof of work in the browser, then the multipart POST.
  const started = Date.now();
  await page.getByRole('button', { name: 'Send' }).click();
  const link = page.locator('#report-follow-link');
  await link.waitFor({ timeout: 120000 });
  console.log(`report filed in ${Date.now() - started} ms (proof of work included)`);
  const href = await link.getAttribute('href');
  const secret = href.replace(/^\/#report\//, '');
  assert.match(secret, /^[A-Za-z0-9_-]{8,}$/);
  const title = await page.locator('#report-title').textContent();
  const id = Number(/№(\d+)/.exec(title)[1]);
  const filed = await api(`/api/reports/${id}`);
  assert.equal(filed.report.service_code, 'missing_ramp');
  assert.equal(filed.report.description, text, 'text is stored as typed');
  assert.equal(filed.report.photos, 1);
  assert.ok(Math.abs(filed.report.lon - spot[0]) < 0.001 && Math.abs(filed.report.lat - spot[1]) < 0.001);
  await shot(page, 'phone-report-done.png');

  // The reports layer is switched on and refreshed, so the new point is on the map.
  await page.waitForFunction((v) => {
    const l = window.__geoportal.state.bySlug.get('citizen_reports');
    return window.__geoportal.state.visible.has('citizen_reports') && l.version !== v;
  }, before.version, { timeout: 30000 });
  await page.waitForFunction((rid) => {
    const m = window.__geoportal.map;
    return m.getLayer('lyr-citizen_reports') && m.queryRenderedFeatures({ layers: ['lyr-citizen_reports'] }).some((f) => f.id === rid);
  }, id, { timeout: 30000 });

  // A second resident (another phone) starts a report of the same category next to it.
  const page2 = await open(browser, PHONE, '#lang=en');
  await page2.getByRole('button', { name: 'Report a problem' }).click();
  await page2.waitForSelector('#report-service option[value="missing_ramp"]', { state: 'attached' });
  await pinAt(page2, [spot[0] + 0.0002, spot[1] + 0.0001]);
  await page2.selectOption('#report-service', 'missing_ramp');
  const item = page2.locator(`[data-nearby="${id}"]`);
  await item.waitFor();
  // The earlier resident's text is shown as text, not markup.
  assert.equal(await item.locator('.report-nearby-text').textContent(), text);
  assert.equal(await item.locator('b').count(), 0);
  await item.getByRole('button', { name: 'This is my problem too' }).click();
  await item.locator('.report-metoo-done').waitFor();
  assert.match(await item.locator('.report-metoo-done').textContent(), /\(2\)/);
  await waitIdle(page2);
  await shot(page2, 'phone-report-duplicate.png');
  assert.equal((await api(`/api/reports/${id}`)).report.support_count, 2);
  assert.deepEqual(page2.errors, []);
  await page2.context().close();

  // The social department's staff member signs in and works the report through.
  const staff = await browser.newContext({ viewport: DESKTOP, locale: 'en-GB' });
  const sp = await staff.newPage();
  await sp.goto(`${BASE}/login?lang=en&next=${encodeURIComponent(`/staff/reports/${id}?lang=en`)}`);
  await sp.fill('input[name=email]', STAFF_EMAIL);
  await sp.fill('input[name=password]', STAFF_PASSWORD);
  await Promise.all([sp.waitForURL(new RegExp(`/staff/reports/${id}`)), sp.click('form[action="/login"] button[type=submit]')]);
  assert.match(await sp.locator('main').textContent(), /aigul@example\.kz/, 'staff see the private contact');
  const steps = [['accepted', 'Sent to the contractor'], ['in_progress', 'Work has started'], ['resolved', 'The ramp is installed']];
  for (const [st, comment] of steps) {
    const form = sp.locator(`form[action^="/staff/reports/${id}/status"]`);
    await form.locator('select[name=status]').selectOption(st);
    await form.locator('input[name=comment]').fill(comment);
    await Promise.all([sp.waitForNavigation(), form.locator('button[type=submit]').click()]);
    assert.equal((await api(`/api/reports/${id}`)).report.status, st);
  }
  await shot(sp, 'staff-report-resolved.png');
  await staff.close();

  // The reporter opens the private link: the status and four steps of history with comments.
  const page3 = await open(browser, PHONE, `#report/${secret}`);
  const history = page3.locator('.report-history li');
  await page3.waitForFunction(() => document.querySelectorAll('.report-history li').length === 4);
  assert.deepEqual(await history.evaluateAll((els) => els.map((e) => e.dataset.status)), ['new', 'accepted', 'in_progress', 'resolved']);
  assert.equal(await page3.locator('.report-status').textContent(), 'Resolved');
  assert.ok(await page3.evaluate(() => window.__geoportal.state.visible.has('citizen_reports')), 'the reports layer is shown');
  const all = await history.allTextContents();
  for (const [, comment] of steps) assert.ok(all.some((t) => t.includes(comment)), `${comment} in ${all}`);
  assert.ok(!all.join(' ').includes(STAFF_EMAIL), 'staff names stay private');
  let v = await axe(page3);
  assert.deepEqual(v, [], JSON.stringify(v, null, 1));
  await shot(page3, 'phone-report-follow.png');
  // The statuses read in Kazakh and Russian too.
  await page3.locator('.lang-btn[data-lang="kk"]').click();
  assert.equal(await page3.locator('.report-status').textContent(), 'Шешілді');
  await page3.locator('.lang-btn[data-lang="ru"]').click();
  assert.equal(await page3.locator('.report-status').textContent(), 'Решено');
  // Switching language and moving the map do not overwrite the private link (permalink debounce 150 ms).
  await page3.evaluate(() => window.__geoportal.state.map.panBy([40, 0], { duration: 0 }));
  await page3.waitForTimeout(500);
  assert.ok((await page3.evaluate(() => location.hash)).startsWith('#report/'), 'the private link stays in the address bar');
  v = await axe(page3);
  assert.deepEqual(v, [], JSON.stringify(v, null, 1));
  // Keyboard: Escape closes the panel and gives the focus back to the button.
  await page3.locator('#report-title').focus();
  await page3.keyboard.press('Escape');
  assert.ok(!(await page3.locator('.report-panel').isVisible()));
  assert.ok(!(await page3.evaluate(() => location.hash)).startsWith('#report/'), 'closing the report gives the address back to the map');
  assert.deepEqual(page3.errors, []);
  assert.deepEqual(page.errors, []);
  await page3.context().close();
  await page.context().close();
});

test('desktop: the report panel is keyboard usable and a bad photo is refused with the server\'s message', T, async () => {
  const page = await open(browser, DESKTOP, '#lang=ru');
  // Keyboard only: focus the button, open with Enter; the heading takes the focus.
  await page.getByRole('button', { name: 'Сообщить о проблеме' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.id === 'report-title');
  await page.waitForSelector('#report-service option[value="pothole"]', { state: 'attached' });
  // Pin with the keyboard: the map centre.
  await page.locator('#report-centre').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /\d+\.\d{5}/.test(document.querySelector('#report-pin-status')?.textContent || ''));
  const centre = await page.evaluate(() => window.__geoportal.map.getCenter().toArray());
  const pinned = (await page.locator('#report-pin-status').textContent()).match(/(\d+\.\d+), (\d+\.\d+)/).slice(1).map(Number);
  assert.ok(Math.abs(pinned[0] - centre[1]) < 2e-5 && Math.abs(pinned[1] - centre[0]) < 2e-5, `${pinned} ≈ ${centre}`);
  const first = await page.locator('#report-pin-status').textContent();
  // …and with a click on the map (the panel sits on the left of the map).
  const xy = await page.evaluate(async () => {
    const m = window.__geoportal.map;
    const r = m.getContainer().getBoundingClientRect();
    return { x: r.left + r.width * 0.7, y: r.top + r.height * 0.35 };
  });
  await page.mouse.click(xy.x, xy.y);
  await page.waitForFunction((t) => document.querySelector('#report-pin-status')?.textContent !== t, first);
  await page.locator('#report-service').focus();
  await page.selectOption('#report-service', 'street_light');
  await page.waitForSelector('#report-attr-state');
  // A required list question in Russian.
  assert.match(await page.locator('label[for="report-attr-state"]').textContent(), /обязательно/);
  await page.selectOption('#report-attr-state', { index: 1 });
  await page.fill('#report-description', 'Фонарь не горит');
  await page.setInputFiles('#report-photos', { name: 'not-a-photo.png', mimeType: 'image/png', buffer: Buffer.from('this is text, not an image') });
  const violations = await axe(page);
  assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
  await page.locator('#report-submit').focus();
  await page.keyboard.press('Enter');
  const err = page.locator('.report-error');
  await page.waitForFunction(() => /Не отправлено/.test(document.querySelector('.report-error')?.textContent || ''), null, { timeout: 120000 });
  assert.match(await err.textContent(), /photo|фото|image/i);
  await shot(page, 'desktop-report-error.png');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
