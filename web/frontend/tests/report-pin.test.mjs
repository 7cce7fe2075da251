// Browser test of issue #24 point 6: the report pin stays visible above the phone's bottom sheet
// after "My location", "Map centre" and a tap (375×667 and 1366×768, kk, ru and en), and the
// category list offers the winter and utility categories in each language. Issue #23: the pin is
// described by its nearest address in the page's language, its coordinates as a detail.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, waitIdle, shot } from './helpers.mjs';

const T = { timeout: 600000 };
const SIZES = { phone: { width: 375, height: 667 }, desktop: { width: 1366, height: 768 } };
const WINTER = {
  kk: ['Жолда қар мен мұз тазаланбаған', 'Жаяу жүргінші жолы тайғақ', 'Жылу жоқ немесе нашар', 'Су жоқ', 'Су ағып жатыр, құбыр жарылған', 'Иесіз жануарлар'],
  ru: ['Дорога не очищена от снега и льда', 'Скользкий тротуар', 'Нет отопления или плохо греет', 'Нет воды', 'Утечка воды, прорыв трубы', 'Бездомные животные'],
  en: ['Snow or ice on a road', 'Icy pavement', 'No heating or too little', 'No water supply', 'Water leak or burst pipe', 'Stray animals'],
};
const HOME = { latitude: 50.2839, longitude: 57.1669 };
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// pinBox is the pin's and the panel's bounding boxes once the map has stopped.
async function pinBox(page) {
  await page.waitForFunction(() => document.querySelector('.report-pin'));
  await waitIdle(page);
  return page.evaluate(() => {
    const r = (el) => { const b = el.getBoundingClientRect(); return { top: b.top, bottom: b.bottom, left: b.left, right: b.right, width: b.width }; };
    return { pin: r(document.querySelector('.report-pin')), panel: r(document.querySelector('.report-panel')), vw: innerWidth, vh: innerHeight };
  });
}

function assertAbove(b, what) {
  assert.ok(b.pin.bottom > 0 && b.pin.top >= 0 && b.pin.left >= 0 && b.pin.right <= b.vw, `${what}: pin on screen ${JSON.stringify(b)}`);
  const sheet = b.panel.width >= b.vw - 2; // a bottom sheet across the screen (phone)
  if (sheet) assert.ok(b.pin.bottom <= b.panel.top, `${what}: pin bottom ${b.pin.bottom} above the sheet's top ${b.panel.top}`);
  else {
    const overlap = b.pin.right > b.panel.left && b.pin.left < b.panel.right && b.pin.bottom > b.panel.top && b.pin.top < b.panel.bottom;
    assert.ok(!overlap, `${what}: pin not under the panel ${JSON.stringify(b)}`);
  }
}

for (const [size, vp] of Object.entries(SIZES)) {
  for (const lang of ['kk', 'ru', 'en']) {
    test(`report pin above the sheet, ${size} ${lang}`, T, async () => {
      const page = await open(browser, vp, `#map=15/50.2839/57.1669&lang=${lang}`, {
        context: { geolocation: HOME, permissions: ['geolocation'] },
      });
      await page.click('.report-open');
      await page.waitForSelector('#report-service option:nth-child(10)', { state: 'attached' });

      // winter and utility categories in this language
      const names = await page.$$eval('#report-service option', (os) => os.map((o) => o.textContent));
      for (const n of WINTER[lang]) assert.ok(names.includes(n), `${lang}: category ${n} in ${names.join(' | ')}`);

      // "Map centre": the map's centre is under the sheet on a phone
      await page.click('#report-centre');
      const c = await pinBox(page);
      assertAbove(c, `${size} ${lang} map centre`);

      // "My location" (the context's geolocation), from a map moved away
      await page.evaluate(() => window.__geoportal.map.jumpTo({ center: [57.2, 50.3], zoom: 14 }));
      await page.click('#report-locate');
      // (the centre pin before it may already be at these coordinates: wait for the zoom too)
      await page.waitForFunction(() => /50\.2839/.test(document.querySelector('#report-pin-status')?.textContent || '') &&
        window.__geoportal.map.getZoom() >= 16, null, { timeout: 15000 }).catch(() => {});
      const l = await pinBox(page);
      assertAbove(l, `${size} ${lang} my location`);
      const ll = await page.evaluate(() => window.__geoportal.map.getZoom());
      assert.ok(ll >= 16, `zoomed in to the location: ${ll}`);

      // The pin reads as a place: the nearest address in this language (issue #23, reverse
      // geocoding), the coordinates kept beside it.
      await page.waitForSelector('#report-pin-place');
      const want = await page.evaluate(async (l) => (await (await fetch(`/api/reverse?lon=57.1669&lat=50.2839&lang=${l}`)).json()).place, lang);
      assert.ok(want.address && !/^\d/.test(want.address), `an address near home: ${JSON.stringify(want)}`);
      const placeText = await page.textContent('#report-pin-place');
      assert.ok(placeText.includes(want.address), `${placeText} names ${want.address}`);
      assert.match(await page.textContent('#report-pin-status'), /\(50\.28390, 57\.16690\)/);
      const statusBox = await page.evaluate(() => { const b = document.querySelector('#report-pin-status').getBoundingClientRect(); return { right: b.right, vw: innerWidth, sw: document.documentElement.scrollWidth }; });
      assert.ok(statusBox.sw <= vp.width, `page ${statusBox.sw} px wide at ${vp.width}`);

      // a tap just above the sheet's top (the pin's foot there, its head above)
      const at = { x: Math.round(vp.width / 2 + (size === 'desktop' ? 300 : 0)), y: Math.round((size === 'phone' ? l.panel.top : vp.height) - 12) };
      if (size === 'phone') await page.touchscreen.tap(at.x, at.y); else await page.mouse.click(at.x, at.y);
      const tp = await pinBox(page);
      assertAbove(tp, `${size} ${lang} tap`);
      await shot(page, `report-pin-${size}-${lang}.png`);
      assert.deepEqual(page.errors.map(String), []);
      await page.context().close();
    });
  }
}

// On a phone the floating "Report a problem" button sits where the search writes its status
// ("Found: 468, shown: 10") and opens its list: it steps aside while a search is shown.
for (const lang of ['kk', 'ru', 'en']) {
  test(`phone, ${lang}: the report button never covers the search status or results`, T, async () => {
    const page = await open(browser, SIZES.phone, `#lang=${lang}`);
    try {
      const button = page.locator('.report-open');
      assert.ok(await button.isVisible(), 'the button shows on the map');
      await page.locator('#search-input').fill('Маресьева');
      await page.waitForFunction(() => document.querySelector('#search-status')?.textContent.trim() !== '' &&
        document.querySelector('#search-results [role="option"]'), null, { timeout: 20000 });
      const overlap = await page.evaluate(() => {
        const b = document.querySelector('.report-open').getBoundingClientRect();
        if (!b.width || !b.height) return null;
        const hit = (el) => { const r = el.getBoundingClientRect(); return r.left < b.right && b.left < r.right && r.top < b.bottom && b.top < r.bottom; };
        return ['#search-status', '#search-results'].filter((s) => hit(document.querySelector(s)));
      });
      assert.ok(overlap === null || overlap.length === 0, `the button covers ${overlap}`);
      await page.locator('.search-clear, #search-clear').first().click();
      await button.waitFor({ state: 'visible' });
      assert.deepEqual(page.errors, []);
    } finally {
      await page.context().close();
    }
  });
}
