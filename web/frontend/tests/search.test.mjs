// Browser test of the search box (issue #23): addresses, category words and Kazakh in Latin
// letters typed in kk/ru/en, results grouped by kind with icons, the ARIA combobox driven by the
// keyboard, "more" paging, and on a 375 px phone the last result visible and tappable above the
// sheet; axe clean with the list open.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, axe, shot, PHONE, DESKTOP } from './helpers.mjs';

const T = { timeout: 300000 };
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const CLINIC_WORD = { kk: 'емхана', ru: 'поликлиника', en: 'clinic' };
const SCHOOL_WORD = { kk: 'mektep', ru: 'школа', en: 'school' };
const SIZES = { phone: PHONE, desktop: DESKTOP };

async function search(page, q) {
  await page.locator('#search-input').fill(q);
  // the list drawn for this query (the list names the query it shows)
  await page.waitForFunction((want) => document.querySelector('#search-results').dataset.q === want, q, { timeout: 15000 });
}

async function options(page) {
  return page.$$eval('#search-results [role="option"]', (os) => os.map((o) => ({
    id: o.id, layer: o.dataset.layer || '', more: !!o.dataset.more,
    name: o.querySelector('.result-name')?.textContent || o.textContent,
  })));
}

for (const [size, viewport] of Object.entries(SIZES)) {
  for (const lang of ['kk', 'ru', 'en']) {
    test(`${size} ${viewport.width}px, ${lang}: categories, addresses, keyboard, more`, T, async () => {
      const page = await open(browser, viewport, `#map=13/50.28/57.17&lang=${lang}`);
      const input = page.locator('#search-input');
      assert.equal(await input.getAttribute('role'), 'combobox');
      assert.equal(await page.locator('#search-results').getAttribute('role'), 'listbox');

      // A category word of this language: the clinics, in their group, under the clinic icon.
      await search(page, CLINIC_WORD[lang]);
      let opts = await options(page);
      assert.ok(opts.length >= 10, `${lang}: ${JSON.stringify(opts)}`);
      assert.equal(opts[0].layer, 'clinics');
      const group = page.locator('#search-results [role="group"]').first();
      assert.equal(await group.getAttribute('data-layer'), 'clinics');
      assert.equal(await group.locator('svg[data-icon="clinic"]').count(), 1, 'the group shows the clinic icon');
      assert.equal(await input.getAttribute('aria-expanded'), 'true');
      const status = await page.locator('#search-status').textContent();
      const total = Number(status.match(/\d+/)[0]);
      assert.ok(total > opts.filter((o) => !o.more).length, `${lang}: status "${status}" gives the true total`);

      // Keyboard: down, down, up moves the active option; focus stays in the input.
      await input.press('ArrowDown');
      assert.equal(await input.getAttribute('aria-activedescendant'), opts[0].id);
      await input.press('ArrowDown');
      assert.equal(await input.getAttribute('aria-activedescendant'), opts[1].id);
      assert.equal(await page.locator(`#${opts[1].id}`).getAttribute('aria-selected'), 'true');
      await input.press('ArrowUp');
      assert.equal(await input.getAttribute('aria-activedescendant'), opts[0].id);
      assert.equal(await page.evaluate(() => document.activeElement.id), 'search-input');
      // Escape closes the list; ArrowDown opens it again.
      await input.press('Escape');
      assert.ok(await page.locator('#search-results').isHidden());
      assert.equal(await input.getAttribute('aria-expanded'), 'false');
      await input.press('ArrowDown');
      assert.ok(await page.locator('#search-results').isVisible());

      // "More": End goes to it, Enter loads the next page into the list.
      await input.press('End');
      assert.equal(await input.getAttribute('aria-activedescendant'), 'search-opt-more');
      const before = opts.filter((o) => !o.more).length;
      await input.press('Enter');
      await page.waitForFunction((n) => document.querySelectorAll('#search-results [role="option"]:not([data-more])').length > n, before, { timeout: 15000 });
      opts = await options(page);
      assert.ok(opts.filter((o) => !o.more).length > before);
      assert.ok(opts.every((o) => o.more || o.layer === 'clinics' || opts.findIndex((x) => x.layer === o.layer) >= 0));

      // axe with the list open.
      const violations = await axe(page);
      assert.deepEqual(violations, [], `${size} ${lang}: ${JSON.stringify(violations, null, 1)}`);
      if (lang === 'ru') await shot(page, `search-${size}.png`);

      // An address, number first, with the Kazakh street word: the house itself, first.
      await search(page, lang === 'kk' ? '95 Маресьев көшесі' : lang === 'ru' ? 'Маресьева 95' : 'Maresyeva street 95');
      opts = await options(page);
      assert.equal(opts[0].layer, 'buildings');
      assert.equal(opts[0].name, 'пр. Маресьева, 95');

      // Kazakh in Latin letters: the street itself, merged, with the street icon.
      await search(page, 'kurmangazy');
      opts = await options(page);
      assert.ok(opts.some((o) => o.layer === 'streets' && o.name === 'ул. Курмангазы'), JSON.stringify(opts));
      assert.equal(await page.locator('#search-results [role="group"][data-layer="streets"] svg[data-icon="street"]').count(), 1);
      const stopRows = opts.filter((o) => o.layer === 'bus_stops' && o.name === 'Курмангазы');
      assert.equal(stopRows.length, 1, 'the stops of one name are one row');

      // Enter on the active option jumps to it.
      await search(page, SCHOOL_WORD[lang]);
      await input.press('ArrowDown');
      await input.press('Enter');
      await page.locator('.maplibregl-popup .popup').waitFor({ timeout: 20000 });
      assert.equal(await page.locator('.maplibregl-popup .popup').getAttribute('data-layer'), 'schools');
      assert.deepEqual(page.errors, []);
      await page.context().close();
    });
  }
}

test('phone 375px: the last result is visible and tappable above the sheet, in kk/ru/en', T, async () => {
  for (const lang of ['kk', 'ru', 'en']) {
    const page = await open(browser, PHONE, `#lang=${lang}`);
    // Open the sheet first: the list must still lie above it.
    await page.locator('.sheet-toggle').click();
    await search(page, 'Маресьева');
    let opts = await options(page);
    assert.ok(opts.length >= 8, `${lang}: ${opts.length} results`);
    const last = opts[opts.length - 1];
    await page.locator(`#${last.id}`).scrollIntoViewIfNeeded();
    const hit = await page.evaluate((id) => {
      const el = document.getElementById(id);
      const r = el.getBoundingClientRect();
      const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return { inside: el.contains(top), bottom: r.bottom, vh: window.innerHeight, what: top?.className || top?.tagName };
    }, last.id);
    assert.ok(hit.inside && hit.bottom <= hit.vh, `${lang}: the last result is covered by ${hit.what} (${hit.bottom} of ${hit.vh})`);
    if (lang === 'ru') await shot(page, 'search-phone-last.png');
    // Tapping it works: "more" loads more, a place opens its popup.
    await page.locator(`#${last.id}`).click();
    if (last.more) {
      await page.waitForFunction((n) => document.querySelectorAll('#search-results [role="option"]').length > n, opts.length, { timeout: 15000 });
    } else {
      await page.locator('.maplibregl-popup .popup').waitFor({ timeout: 20000 });
    }
    await page.context().close();
  }
});
