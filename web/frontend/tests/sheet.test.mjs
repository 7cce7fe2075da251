// Browser test of the phone sheet (issue #24, point 9): the floating "Back to the map" button
// must not cover the panel's last rows — the page links and the staff sign-in link at its end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, axe, shot } from './helpers.mjs';

const T = { timeout: 240000 };
const PHONE_SMALL = { width: 375, height: 667 };
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const TOGGLE = { kk: 'Картаға оралу', ru: 'Вернуться к карте', en: 'Back to the map' };

test('phone 375×667: with the sheet open and scrolled to its end, the toggle covers nothing in it', T, async () => {
  for (const lang of ['kk', 'ru', 'en']) {
    const page = await open(browser, PHONE_SMALL, `#lang=${lang}`);
    await page.locator('.sheet-toggle').click();
    const panel = page.locator('#panel');
    assert.ok(await panel.isVisible(), `${lang}: panel open`);
    assert.equal((await page.locator('.sheet-toggle').textContent()).trim(), TOGGLE[lang]);
    // At every scroll position, not only at the end: nothing in the sheet lies under the toggle.
    for (const where of ['top', 'middle', 'end']) {
      await panel.evaluate((el, w) => {
        const max = el.scrollHeight - el.clientHeight;
        el.scrollTop = w === 'top' ? 0 : w === 'middle' ? Math.round(max / 2) : max;
      }, where);
      const covered = await page.evaluate(() => {
        const tg = document.querySelector('.sheet-toggle').getBoundingClientRect();
        const p = document.querySelector('#panel').getBoundingClientRect();
        // The part of an element that shows: its box clipped to the sheet's own box.
        const over = (r) => {
          const top = Math.max(r.top, p.top); const bottom = Math.min(r.bottom, p.bottom);
          return r.width > 0 && bottom > top && r.left < tg.right && r.right > tg.left && top < tg.bottom && bottom > tg.top;
        };
        return [...document.querySelectorAll('#panel a, #panel button, #panel input, #panel label, #panel p, #panel li, #panel summary, #panel h2')]
          .filter((el) => over(el.getBoundingClientRect())).map((el) => `${el.tagName} ${el.textContent.trim().slice(0, 40)}`);
      });
      assert.deepEqual(covered, [], `${lang}, scrolled to ${where}: covered by the toggle: ${JSON.stringify(covered)}`);
    }
    const res = await page.evaluate(() => {
      const login = document.querySelector('#panel .panel-foot a[href^="/login"]');
      const r = login.getBoundingClientRect();
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return { loginReachable: hit === login || login.contains(hit), loginBottom: r.bottom, vh: innerHeight,
        width: document.documentElement.scrollWidth };
    });
    await shot(page, `sheet-end-${lang}.png`);
    assert.ok(res.loginReachable, `${lang}: the sign-in link is the element at its own centre`);
    assert.ok(res.loginBottom <= res.vh, `${lang}: sign-in link within the viewport`);
    assert.ok(res.width <= PHONE_SMALL.width, `${lang}: no horizontal scroll (${res.width})`);
    const violations = await axe(page);
    assert.deepEqual(violations, [], `${lang}: ${JSON.stringify(violations, null, 1)}`);
    await page.locator('.sheet-toggle').click();
    assert.ok(!(await panel.isVisible()), `${lang}: the toggle closes the sheet`);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
});
