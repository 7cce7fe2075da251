// Browser test of reverse geocoding (issue #23): places read as places, not coordinates. A report
// filed without an address shows its point's address on the private follow page, and a popup of
// a point with no address of its own (a bus stop) gives the nearest one — at 375 and 1366 px, in
// kk, ru and en, as /api/reverse answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, axe, api, shot, waitIdle, PHONE, DESKTOP, BASE } from './helpers.mjs';
import { solve } from '../src/pow.js';

const T = { timeout: 600000 };
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const HOME = [57.1669, 50.2839];
const LOCALE = { kk: 'kk-KZ', ru: 'ru-RU', en: 'en-GB' };

for (const [lang, size] of [['kk', PHONE], ['ru', DESKTOP], ['en', PHONE], ['kk', DESKTOP]]) {
  test(`follow page and popups name places (${lang}, ${size.width} px)`, T, async () => {
    // A report filed by an app, with no address of its own.
    const ch = await api('/api/reports/challenge');
    const nonce = await solve(ch.challenge, ch.difficulty);
    const res = await fetch(`${BASE}/api/reports/`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ service_code: 'pothole', lon: HOME[0], lat: HOME[1], description: 'Яма', device_id: `reverse-${lang}-${size.width}`,
        pow_challenge: ch.challenge, pow_nonce: nonce }) });
    assert.equal(res.status, 201, await res.clone().text());
    const created = await res.json();
    const want = (await api(`/api/reverse?lon=${HOME[0]}&lat=${HOME[1]}&lang=${lang}`)).place;
    assert.equal(created.report.address, '');
    assert.equal(created.report.place[lang], want.address, 'the report was filed with its address in each language');

    const page = await open(browser, size, `#report/${created.follow}`, { locale: LOCALE[lang] });
    assert.equal(await page.getAttribute('html', 'lang'), lang);
    await page.waitForSelector('#report-follow-address');
    assert.equal(await page.textContent('#report-follow-address'), want.address);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= size.width, `follow page ${wide} px wide at ${size.width} px`);
    let v = await axe(page);
    assert.deepEqual(v, [], JSON.stringify(v, null, 1));
    await shot(page, `reverse-follow-${lang}-${size.width}.png`);
    await page.context().close();

    // A bus stop has a name and no address: its popup adds the nearest one.
    const stop = (await api(`/api/nearest?layer=bus_stops&lon=${HOME[0]}&lat=${HOME[1]}&limit=1&lang=${lang}`)).results[0];
    const near = (await api(`/api/reverse?lon=${stop.point[0]}&lat=${stop.point[1]}&lang=${lang}`)).place;
    const map = await open(browser, size, `#map=17/${stop.point[1]}/${stop.point[0]}&layers=streets,buildings,bus_stops&lang=${lang}`);
    await waitIdle(map);
    const xy = await map.evaluate((p) => {
      const pt = window.__geoportal.map.project(p);
      const r = window.__geoportal.map.getCanvas().getBoundingClientRect();
      return { x: r.left + pt.x, y: r.top + pt.y };
    }, stop.point);
    if (size.width < 500) await map.touchscreen.tap(xy.x, xy.y); else await map.mouse.click(xy.x, xy.y);
    const popup = map.locator('.maplibregl-popup .popup[data-layer="bus_stops"]');
    await popup.waitFor();
    const place = popup.locator('.popup-place');
    await place.waitFor();
    const text = await place.textContent();
    assert.ok(text.includes(near.address), `popup says ${text}, /api/reverse ${near.address}`);
    assert.doesNotMatch(text, /^\d+[.,]\d+/, 'an address, not coordinates');
    // axe at both sizes: on a phone the panel's h2s are folded away, so the popup's title is an
    // h2 that follows the page's h1 (an h3 there broke the heading order).
    v = await axe(map);
    assert.deepEqual(v, [], JSON.stringify(v, null, 1));
    await shot(map, `reverse-popup-${lang}-${size.width}.png`);
    assert.deepEqual(map.errors.map(String), []);
    await map.context().close();
  });
}
