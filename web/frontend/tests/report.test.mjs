// Browser test of citizen reports (issue 8's "Done when"): at phone size a resident files a report
// with a photo, a second resident nearby is offered "this is my problem too" instead of a
// duplicate, a department's staff member moves the report through the workflow in the staff
// console, and the reporter's private link shows the history. Run by scripts/browser-tests.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { launch, open, axe, api, shot, waitIdle, PHONE, DESKTOP, BASE } from './helpers.mjs';
import { solve } from '../src/pow.js';

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

// The server in these tests has no mail relay or SMS gateway: messages wait in reports.outbox,
// which stands in for the resident's mailbox and phone (scripts/browser-tests.sh exports the
// test database's DATABASE_URL).
function sql(q) {
  assert.ok(process.env.DATABASE_URL, 'DATABASE_URL is exported by scripts/browser-tests.sh');
  return execFileSync('psql', [process.env.DATABASE_URL, '-AtXq', '-v', 'ON_ERROR_STOP=1', '-c', q], { encoding: 'utf8' }).trim();
}

/** inbox returns the newest confirmation sent for a report by channel: its link secret and code. */
function inbox(reportID, channel) {
  const row = sql(`SELECT subject || E'\\x1f' || body FROM reports.outbox WHERE report_id = ${Number(reportID)}
    AND channel = '${channel === 'sms' ? 'sms' : 'email'}' AND sensitive ORDER BY id DESC LIMIT 1`);
  const link = /\/#confirm\/(c[0-9a-f]+)/.exec(row);
  const code = channel === 'sms' ? /^Aktobe geoportal: (\d{6}) /.exec(row.split('\x1f')[1]) : /: (\d{6})\x1f/.exec(row);
  assert.ok(link && code, `a confirmation in the outbox: ${row}`);
  return { link: link[1], code: code[1], url: /(https?:\/\/\S+\/#confirm\/c[0-9a-f]+)/.exec(row)[1] };
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
  await page.getByRole('button', { name: 'Submit' }).click();
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

  // Submit: proof of work in the browser, then the multipart POST.
  const started = Date.now();
  await page.getByRole('button', { name: 'Submit' }).click();
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

  // The e-mail is not confirmed yet: the panel asks for the code sent to it.
  const confirmBox = page.locator('.report-confirm[data-channel="email"]');
  await confirmBox.waitFor();
  assert.match(await confirmBox.textContent(), /We sent a code to a\*\*\*@example\.kz/);
  const mail = inbox(id, 'email');
  assert.ok(mail.url.startsWith(`${BASE}/#confirm/`), `the link points at this site: ${mail.url}`);
  await confirmBox.getByLabel('Code from the e-mail').fill(mail.code === '000000' ? '111111' : '000000');
  await confirmBox.getByRole('button', { name: 'Confirm' }).click();
  await page.waitForFunction(() => /Tries left: 4/.test(document.querySelector('#report-code-email-error')?.textContent || ''));
  let v0 = await axe(page);
  assert.deepEqual(v0, [], JSON.stringify(v0, null, 1));
  // The resident opens the link from the e-mail instead, on a phone set to Kazakh.
  const cp = await open(browser, PHONE, `#confirm/${mail.link}`, { locale: 'kk-KZ' });
  const done = cp.locator('.report-confirmed[data-confirmed-channel="email"]');
  await done.waitFor();
  assert.match(await done.textContent(), /a\*\*\*@example\.kz мекенжайы расталды/);
  assert.match(await done.textContent(), new RegExp(`№${id}`));
  await cp.locator('.lang-btn[data-lang="ru"]').click();
  assert.match(await done.textContent(), /Адрес a\*\*\*@example\.kz подтверждён/);
  await cp.locator('.lang-btn[data-lang="en"]').click();
  assert.match(await done.textContent(), /a\*\*\*@example\.kz is confirmed/);
  v0 = await axe(cp);
  assert.deepEqual(v0, [], JSON.stringify(v0, null, 1));
  await shot(cp, 'phone-report-confirmed.png');
  assert.ok(!(await cp.evaluate(() => location.hash)).startsWith('#confirm/'), 'a reload does not post the link again');
  // A link is single-use.
  await cp.goto(`${BASE}/#confirm/${mail.link}`);
  await cp.locator('.report-error[data-error="linkUsed"]').waitFor();
  assert.deepEqual(cp.errors, []);
  await cp.context().close();
  assert.equal(sql(`SELECT count(*) FROM reports.contacts WHERE report_id = ${id} AND confirmed_at IS NOT NULL`), '1');

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
  assert.equal(await sp.locator('.conf[data-confirmed="true"]').textContent(), '✓ confirmed', 'staff see the e-mail is confirmed');
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
  // The confirmed reporter heard of each of the three changes.
  assert.equal(sql(`SELECT count(*) FROM reports.outbox WHERE report_id = ${id} AND to_addr = 'aigul@example.kz' AND NOT sensitive`), '3');

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
  assert.match(await page3.locator('.report-confirmed').textContent(), /a\*\*\*@example\.kz — confirmed/);
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

test('phone number confirmed with the SMS code on the follow page (Russian), a new code on request', T, async () => {
  // Filed by another client (an app) straight through the API, with a phone and no e-mail.
  const ch = await api('/api/reports/challenge');
  const nonce = await solve(ch.challenge, ch.difficulty);
  const res = await fetch(`${BASE}/api/reports/`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ service_code: 'overflowing_bin', lon: 57.1702, lat: 50.2841, description: 'Контейнер переполнен',
      phone: '+7 701 555 44 33', pow_challenge: ch.challenge, pow_nonce: nonce }) });
  assert.equal(res.status, 201, await res.clone().text());
  const created = await res.json();
  assert.deepEqual(created.contacts, [{ channel: 'sms', address: '+7 *** *** ** 33', confirmed: false }]);

  const page = await open(browser, PHONE, `#report/${created.follow}`, { locale: 'ru-RU' });
  const box = page.locator('.report-confirm[data-channel="sms"]');
  await box.waitFor();
  assert.match(await box.locator('h3').textContent(), /Подтвердите телефон/);
  assert.match(await box.textContent(), /Мы отправили код на \+7 \*\*\* \*\*\* \*\* 33/);
  const first = inbox(created.report.id, 'sms');
  // Not six digits: said in the panel, nothing is sent.
  await box.getByLabel('Код из SMS').fill('12');
  await box.getByRole('button', { name: 'Подтвердить' }).click();
  assert.equal(await page.locator('#report-code-sms-error').textContent(), 'Код — это 6 цифр.');
  // A new code on request; the newest code is the one that confirms.
  await box.getByRole('button', { name: 'Отправить код ещё раз' }).click();
  await page.waitForFunction(() => /Новый код отправлен на \+7/.test(document.querySelector('.report-confirm')?.textContent || ''));
  const second = inbox(created.report.id, 'sms');
  assert.notEqual(second.link, first.link);
  const v = await axe(page);
  assert.deepEqual(v, [], JSON.stringify(v, null, 1));
  await shot(page, 'phone-report-sms-code.png');
  await box.getByLabel('Код из SMS').fill(second.code);
  await page.keyboard.press('Enter');
  const ok = page.locator('.report-confirmed[data-confirmed-channel="sms"]');
  await ok.waitFor();
  assert.match(await ok.textContent(), /\+7 \*\*\* \*\*\* \*\* 33 — подтверждён/);
  // The confirmation survives a reload of the private link.
  await page.reload();
  await page.locator('.report-confirmed[data-confirmed-channel="sms"]').waitFor();
  assert.deepEqual(page.errors, []);
  await page.context().close();
  assert.equal(sql(`SELECT count(*) FROM reports.contacts WHERE report_id = ${created.report.id} AND channel = 'sms' AND confirmed_at IS NOT NULL`), '1');
});
