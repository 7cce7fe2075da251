// Browser test of the best-yard contest (issue 11): staff open a season on the staff page; a
// visitor who is not signed in is sent to /login; a resident signs in, draws a yard's outline on
// the map and nominates it with a photo; another resident (on a phone) votes, and a second vote
// from a stale tab is refused; staff close the season on the staff page and the winner shows on
// the public map. Run by scripts/browser-tests.sh (residents and staff are made there).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { launch, open, axe, api, shot, waitIdle, PHONE, DESKTOP, BASE } from './helpers.mjs';

const T = { timeout: 600000 };
const STAFF_EMAIL = process.env.GEOPORTAL_STAFF_EMAIL;
const STAFF_PASSWORD = process.env.GEOPORTAL_STAFF_PASSWORD;
const [RES1, RES2] = (process.env.GEOPORTAL_RESIDENT_EMAILS || '').split(/\s+/).filter(Boolean);
const RES_PASSWORD = process.env.GEOPORTAL_RESIDENT_PASSWORD;
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// yardPNG is a small real PNG (green stripes), so the server's photo pipeline has an image to decode.
function yardPNG(w = 80, hgt = 60) {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc32 = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = table[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const head = Buffer.alloc(13);
  head.writeUInt32BE(w, 0); head.writeUInt32BE(hgt, 4); head[8] = 8; head[9] = 2;
  const rows = Buffer.alloc((w * 3 + 1) * hgt);
  for (let y = 0; y < hgt; y++) {
    for (let x = 0; x < w; x++) {
      const o = y * (w * 3 + 1) + 1 + x * 3;
      const stripe = Math.floor(x / 10) % 2;
      rows[o] = 40; rows[o + 1] = stripe ? 160 : 110; rows[o + 2] = 60;
    }
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', head), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

/** signIn fills the sign-in form the page is on and waits to land on where it was sent. */
async function signIn(page, email, password, landing) {
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForURL(landing), page.click('form[action="/login"] button[type=submit]')]);
}

async function staffPage(lang = 'en') {
  const ctx = await browser.newContext({ viewport: DESKTOP, locale: 'en-GB' });
  const sp = await ctx.newPage();
  await sp.goto(`${BASE}/login?lang=${lang}&next=${encodeURIComponent(`/staff/modules?lang=${lang}`)}`);
  await signIn(sp, STAFF_EMAIL, STAFF_PASSWORD, /\/staff\/modules/);
  return sp;
}

/** openContest opens the contest section of the side panel and waits for its season line. */
async function openContest(page) {
  await page.locator('#yards-toggle').click();
  await page.locator('#yards-body .yards-season, #yards-body .yards-status').first().waitFor();
}

test('best-yard contest: nominate with a photo, vote once, staff publish the winner on the map', T, async () => {
  assert.ok(STAFF_EMAIL && STAFF_PASSWORD && RES1 && RES2 && RES_PASSWORD, 'scripts/browser-tests.sh sets the staff and resident accounts');

  // 1. Staff open this year's season on the staff page.
  const sp = await staffPage('en');
  assert.match(await sp.locator('#h-yards').textContent(), /Best-yard contest/);
  const openForm = sp.locator('form[action="/staff/modules/yards/seasons"]');
  const season = Number(await openForm.locator('input[name=season]').inputValue());
  assert.ok(season >= 2026, `season ${season}`);
  await Promise.all([sp.waitForURL(/msg=saved/), openForm.locator('button[type=submit]').click()]);
  assert.match(await sp.locator('main').textContent(), new RegExp(`Season ${season}: open for nominations and votes`));
  assert.equal((await api('/api/modules/yards/season')).season, season);

  // 2. A visitor who is not signed in sees the season and is sent to /login to take part.
  const anon = await open(browser, DESKTOP, '#lang=en');
  assert.equal(await anon.locator('#yards-title').textContent(), 'Best-yard contest');
  await openContest(anon);
  assert.match(await anon.locator('.yards-season').textContent(), new RegExp(`Season ${season} — open for nominations and votes`));
  assert.equal(await anon.locator('#yards-nominate').count(), 0, 'no nominate button without an account');
  const login = anon.locator('.yards-signin a');
  assert.match(await anon.locator('.yards-signin').textContent(), /Sign in to vote and to nominate yards/);
  const href = await login.getAttribute('href');
  assert.equal(href, `/login?lang=en&next=${encodeURIComponent('/#lang=en&yards=open')}`);
  await anon.context().close();

  // 3. Resident one signs in through that link and lands back in the contest.
  const p1 = await open(browser, DESKTOP, '#lang=en');
  await openContest(p1);
  await Promise.all([p1.waitForURL(/\/login/), p1.locator('.yards-signin a').click()]);
  await signIn(p1, RES1, RES_PASSWORD, /yards=open/);
  await p1.waitForFunction(() => document.body.dataset.mapReady === 'true');
  await p1.locator('#yards-nominate').waitFor();
  assert.match(await p1.locator('#yards-body').textContent(), new RegExp(`Signed in as ${RES1.replace('.', '\\.')}`));
  assert.match(await p1.locator('#yards-body').textContent(), /No yards nominated yet/);

  // …opens the form, and sending with nothing marked says what is missing.
  await p1.locator('#yards-nominate').click();
  const dialog = p1.getByRole('dialog', { name: 'Nominate a yard' });
  await dialog.waitFor();
  await p1.locator('#yards-send').click();
  assert.equal(await p1.locator('.yards-form-panel .yards-error').textContent(), 'First mark the yard on the map.');

  // …draws the yard's outline: four corners clicked on the map, right of the form.
  await p1.locator('#yards-mode-polygon').check();
  await p1.evaluate(async () => {
    const m = window.__geoportal.map;
    m.jumpTo({ center: [57.1675, 50.2839], zoom: 17 });
    await new Promise((r) => (m.isMoving() ? m.once('moveend', r) : r()));
  });
  const box = await p1.locator('#map').boundingBox();
  const corners = [[0.62, 0.3], [0.82, 0.3], [0.82, 0.55], [0.62, 0.55]].map(([fx, fy]) => [box.x + box.width * fx, box.y + box.height * fy]);
  for (const [i, [x, y]] of corners.entries()) {
    await p1.mouse.click(x, y);
    await p1.waitForFunction((n) => document.querySelector('#yards-shape-status')?.textContent.includes(`Corners: ${n}`), i + 1);
  }
  // The outline is drawn on the map as it is made.
  await p1.waitForFunction(() => window.__geoportal.map.queryRenderedFeatures({ layers: ['yards-draw-fill'] }).length > 0);
  const title = `Двор <b>на Абая</b> ${Date.now()}`;
  await p1.fill('#yards-name', title);
  await p1.fill('#yards-description', 'Новая площадка, клумбы и скамейки');
  await p1.setInputFiles('#yards-photos', { name: 'yard.png', mimeType: 'image/png', buffer: yardPNG() });
  await p1.locator('.yards-files li').waitFor();
  let v = await axe(p1);
  assert.deepEqual(v, [], JSON.stringify(v, null, 1));
  await waitIdle(p1);
  await shot(p1, 'yards-nominate.png');
  await p1.locator('#yards-send').click();
  const thanks = p1.locator('.yards-popup .yards-ok');
  await thanks.waitFor({ timeout: 60000 });
  const id = Number(/№(\d+)/.exec(await thanks.textContent())[1]);

  // Stored as drawn: a polygon with the photo; the text is shown as text, not markup.
  let rk = await api(`/api/modules/yards/ranking?season=${season}`);
  const nom = rk.nominations.find((n) => n.id === id);
  assert.ok(nom, `nomination ${id} in ${JSON.stringify(rk)}`);
  assert.equal(nom.title, title);
  assert.equal(nom.geometry.type, 'Polygon');
  assert.equal(nom.geometry.coordinates[0].length, 5);
  assert.equal(nom.photos, 1);
  const popup = p1.locator(`.yards-popup [data-nomination="${id}"]`);
  assert.equal(await popup.locator('.popup-title').textContent(), title);
  assert.equal(await popup.locator('b').count(), 0);
  const img = popup.locator('.yards-photos img');
  await p1.waitForFunction((n) => {
    const i = document.querySelector(`.yards-popup [data-nomination="${n}"] .yards-photos img`);
    return i && i.complete && i.naturalWidth > 0;
  }, id);
  assert.match(await img.getAttribute('alt'), /Photo 1 of/);
  // The numbered marker and the outline are on the map; the panel ranks the yard first.
  assert.equal(await p1.locator(`.yard-marker[data-nomination="${id}"]`).textContent(), '1');
  assert.match(await p1.locator(`.yard-marker[data-nomination="${id}"]`).getAttribute('aria-label'), /^Rank 1: .*0 votes$/);
  assert.equal(await p1.locator(`.yards-ranking li[data-nomination="${id}"] .result-name`).textContent(), title);
  await waitIdle(p1);
  await shot(p1, 'yards-nominated.png');
  assert.deepEqual(p1.errors, []);
  await p1.context().close();

  // 4. Resident two, on a phone in Russian, signs in and votes from the ranking list.
  const ctx2 = await browser.newContext({ viewport: PHONE, locale: 'ru-RU', hasTouch: true, isMobile: true, deviceScaleFactor: 1 });
  const p2 = await ctx2.newPage();
  p2.errors = [];
  p2.on('pageerror', (e) => p2.errors.push(e));
  await p2.goto(`${BASE}/login?lang=ru&next=${encodeURIComponent('/#lang=ru&yards=open')}`);
  await signIn(p2, RES2, RES_PASSWORD, /yards=open/);
  await p2.waitForFunction(() => document.body.dataset.mapReady === 'true');
  // A second tab of the same resident, opened before the vote: it still offers the button.
  const stale = await ctx2.newPage();
  await stale.goto(`${BASE}/#lang=ru&yards=open&yard=${id}`);
  await stale.locator('.yards-popup .yards-vote').waitFor({ timeout: 45000 });

  await p2.locator('.sheet-toggle').click();
  const item = p2.locator(`.yards-ranking li[data-nomination="${id}"] button`);
  await item.waitFor();
  assert.match(await item.textContent(), /Голосов: 0/);
  await item.click();
  const vote = p2.locator('.yards-popup .yards-vote');
  await vote.waitFor();
  assert.equal(await vote.textContent(), 'Голосовать за этот двор');
  await vote.click();
  await p2.locator('.yards-popup .yards-ok').waitFor();
  assert.equal(await p2.locator('.yards-popup .yards-ok').textContent(), 'Спасибо! Ваш голос учтён.');
  assert.match(await p2.locator('.yards-popup .yards-voted').textContent(), /Вы голосовали за этот двор/);
  assert.match(await p2.locator('.yards-popup .yards-votes').textContent(), /Голосов: 1/);
  assert.equal(await p2.locator('.yards-popup .yards-vote').count(), 0, 'no second vote button');
  v = await axe(p2);
  assert.deepEqual(v, [], JSON.stringify(v, null, 1));
  await waitIdle(p2);
  await shot(p2, 'yards-voted-phone.png');

  // The stale tab's vote is refused by the server and says why; the count stays at one.
  await stale.locator('.yards-popup .yards-vote').click();
  await stale.locator('.yards-popup .yards-error').waitFor();
  assert.equal(await stale.locator('.yards-popup .yards-error').textContent(), 'Вы уже голосовали в этом сезоне');
  rk = await api(`/api/modules/yards/ranking?season=${season}`);
  assert.equal(rk.nominations.find((n) => n.id === id).votes, 1);
  // The same resident nominates a yard of their own as a point, keyboard only: "add the map
  // centre", a name, send. The panel remembers the vote.
  await p2.locator('.sheet-toggle').click();
  assert.match(await p2.locator('#yards-body .yards-voted').textContent(), /Вы уже голосовали в этом сезоне/);
  await p2.locator('#yards-nominate').click();
  await p2.getByRole('dialog', { name: 'Предложить двор' }).waitFor();
  assert.ok(await p2.locator('#yards-mode-point').isChecked(), 'a point is the default');
  await p2.locator('#yards-centre').focus();
  await p2.keyboard.press('Enter');
  await p2.waitForFunction(() => /Отмечено: \d+\.\d{5}, \d+\.\d{5}/.test(document.querySelector('#yards-shape-status')?.textContent || ''));
  await p2.locator('#yards-name').focus();
  await p2.keyboard.type('Двор у школы №5');
  await p2.locator('#yards-send').focus();
  await p2.keyboard.press('Enter');
  const thanks2 = p2.locator('.yards-popup .yards-ok', { hasText: /№\d+/ });
  await thanks2.waitFor({ timeout: 60000 });
  const id2 = Number(/№(\d+)/.exec(await thanks2.textContent())[1]);
  rk = await api(`/api/modules/yards/ranking?season=${season}`);
  const nom2 = rk.nominations.find((n) => n.id === id2);
  assert.equal(nom2.geometry.type, 'Point');
  assert.deepEqual([nom2.photos, nom2.votes, nom2.rank], [0, 0, 2]);
  await p2.locator(`.yard-marker[data-nomination="${id2}"]`).waitFor();
  assert.equal(await p2.locator(`.yard-marker[data-nomination="${id2}"]`).textContent(), '2');
  assert.deepEqual(p2.errors, []);
  await ctx2.close();

  // 5. Staff close the season and publish the winners (the page in Kazakh).
  await sp.goto(`${BASE}/staff/modules?lang=kk`);
  assert.match(await sp.locator(`.yard-ranking tr[data-nomination="${id}"]`).textContent(), /1/);
  const closeForm = sp.locator(`form[action="/staff/modules/yards/seasons/${season}/close"]`);
  await closeForm.locator('input[name=winners]').fill('3');
  await Promise.all([sp.waitForURL(/msg=saved/), closeForm.locator('button[type=submit]').click()]);
  assert.match(await sp.locator('#h-yard-winners').textContent(), new RegExp(`${season} маусымы жабылды`));
  assert.match(await sp.locator(`.yard-winners li[data-nomination="${id}"]`).textContent(), /Дауыстар: 1/);
  v = await axe(sp);
  assert.deepEqual(v, [], JSON.stringify(v, null, 1));
  await shot(sp, 'yards-staff-closed.png');
  await sp.context().close();

  // 6. The public map shows the closed season's winner: a starred marker and a gold outline.
  const pub = await open(browser, DESKTOP, '#lang=en');
  await openContest(pub);
  assert.match(await pub.locator('.yards-season').textContent(), new RegExp(`Season ${season} — The season is closed`));
  assert.equal(await pub.locator(`.yards-winners li[data-nomination="${id}"] .result-name`).textContent(), title);
  // A yard nobody voted for does not win, even with three places to give.
  assert.equal(await pub.locator('.yards-winners li').count(), 1);
  assert.equal(await pub.locator(`.yard-marker.winner[data-nomination="${id2}"]`).count(), 0);
  assert.equal(await pub.locator(`.yard-marker[data-nomination="${id2}"]`).textContent(), '2');
  const marker = pub.locator(`.yard-marker.winner[data-nomination="${id}"]`);
  assert.equal(await marker.textContent(), '★1');
  assert.ok(await marker.isVisible());
  await waitIdle(pub);
  const drawn = await pub.evaluate(() => window.__geoportal.map.queryRenderedFeatures({ layers: ['yards-fill'] })
    .map((f) => ({ id: f.properties.id, winner: f.properties.winner })));
  assert.ok(drawn.some((f) => f.id === id && f.winner === true), JSON.stringify(drawn));
  await marker.click();
  await pub.locator('.yards-popup .yards-badge').waitFor();
  assert.equal(await pub.locator('.yards-popup .yards-badge').textContent(), '★ Winner');
  assert.match(await pub.locator('.yards-popup').textContent(), /The season is closed; voting has ended/);
  v = await axe(pub);
  assert.deepEqual(v, [], JSON.stringify(v, null, 1));
  await shot(pub, 'yards-winner.png');
  // The contest reads in Kazakh too.
  await pub.locator('.lang-btn[data-lang="kk"]').click();
  assert.equal(await pub.locator('#yards-title').textContent(), 'Үздік аула байқауы');
  assert.equal(await pub.locator('#yards-winners-title').textContent(), 'Жеңімпаздар');
  assert.equal(await pub.locator('.yards-popup .yards-badge').textContent(), '★ Жеңімпаз');
  assert.deepEqual(pub.errors, []);
  await pub.context().close();
});
