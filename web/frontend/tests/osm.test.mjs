// Browser test of layers imported from OpenStreetMap: scripts/browser-tests.sh imports
// testdata/osm/small.osm (a made-up piece of a city east of the demo) beside the demo city;
// clicking its school shows the school's name in the page's language.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, DESKTOP } from './helpers.mjs';

const T = { timeout: 240000 };
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const school = [57.57, 50.48]; // node 1 of small.osm

async function clickSchool(lang) {
  const page = await open(browser, DESKTOP, `#map=17/${school[1]}/${school[0]}&layers=schools&lang=${lang}`);
  const xy = await page.evaluate((p) => {
    const pt = window.__geoportal.map.project(p);
    const r = window.__geoportal.map.getCanvas().getBoundingClientRect();
    return { x: r.left + pt.x, y: r.top + pt.y };
  }, school);
  await page.mouse.move(xy.x, xy.y);
  await page.waitForFunction(() => !!window.__geoportal.state.hovered); // the tile is drawn
  await page.mouse.click(xy.x, xy.y);
  const popup = page.locator('.maplibregl-popup .popup');
  await popup.waitFor();
  return { page, popup };
}

test('clicking a school imported from OpenStreetMap shows its name in Kazakh and in English', T, async () => {
  for (const [lang, name] of [['kk', '№ 5 мектеп-гимназия'], ['en', 'School-gymnasium No. 5']]) {
    const { page, popup } = await clickSchool(lang);
    assert.equal(await popup.getAttribute('data-layer'), 'schools');
    assert.equal(await popup.locator('.popup-title').textContent(), name);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
});
