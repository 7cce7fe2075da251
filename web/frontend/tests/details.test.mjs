// Browser test of issue #24 point 9, the smaller things of the web map, at phone and desktop size
// in kk, ru and en: the layer list starts near the top of the side panel (the tools come after
// it); the lighting card keys the lamp-type colours (read from the layer's style); "accessible
// places only" logs no filter error and keeps only ramps within the slope norm (1:12, 8 %) and
// not in poor condition; a school catchment opens from a click inside it, not only on its
// outline; bus routes are drawn in their own colours with their numbers along the lines;
// "nearest to me" offers the places of public interest and says its distances are straight
// lines, or walks along the streets when asked (/api/nearest?by=walk). Run by scripts/browser-tests.sh (the demo city).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { launch, open, api, shot, waitIdle, axe, PHONE, DESKTOP } from './helpers.mjs';

const T = { timeout: 900000 };
const catalog = JSON.parse(readFileSync(new URL('../src/catalog.json', import.meta.url)));
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

function sql(q) {
  assert.ok(process.env.DATABASE_URL, 'DATABASE_URL is exported by scripts/browser-tests.sh');
  return execFileSync('psql', [process.env.DATABASE_URL, '-AtXq', '-v', 'ON_ERROR_STOP=1', '-c', q], { encoding: 'utf8' }).trim();
}

/** consoleErrors collects the page's console errors (MapLibre reports bad filters there). */
const consoleErrors = (page) => {
  page.consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.consoleErrors.push(m.text()); });
};

const phone = (size) => size.width < 500;
async function openSheet(page, size) {
  if (phone(size) && !(await page.locator('#panel').isVisible())) await page.locator('.sheet-toggle').click();
}
async function closeSheet(page, size) {
  if (phone(size) && (await page.locator('#panel').isVisible())) await page.locator('.sheet-toggle').click();
}

// A place with ramps, streets and bus routes around it: the demo's ramp nearest the city centre.
const [cx, cy] = sql(`SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom)) AS c FROM layer.districts) x`).split('|').map(Number);
const ramp = sql(`SELECT ST_X(geom) || '|' || ST_Y(geom) FROM layer.ramps ORDER BY geom <-> ST_SetSRID(ST_MakePoint(${cx}, ${cy}), 4326) LIMIT 1`).split('|').map(Number);
const LAYERS = 'city_boundary,districts,streets,buildings,ramps,smart_crossings,biotoilets,bus_routes';

for (const size of [PHONE, DESKTOP]) {
  for (const lang of ['kk', 'ru', 'en']) {
    test(`point 9 on the map (${lang}, ${size.width} px)`, T, async () => {
      const page = await open(browser, size, `#map=14/${ramp[1]}/${ramp[0]}&layers=${LAYERS}&lang=${lang}`, { before: consoleErrors });

      // The layer list near the top of the side panel, the tools after it.
      await openSheet(page, size);
      const pos = await page.evaluate(() => {
        const p = document.getElementById('panel');
        p.scrollTop = 0;
        const top = p.getBoundingClientRect().top;
        return { layers: document.getElementById('layers-title').getBoundingClientRect().top - top,
          tools: document.getElementById('tools').getBoundingClientRect().top - top };
      });
      assert.ok(pos.layers < 450, `the layer list starts ${Math.round(pos.layers)} px down the panel`);
      assert.ok(pos.tools > pos.layers, 'the tools come after the layer list');

      // The lighting card's colour key: the lamp types of the layer's style, named.
      const lights = (await api('/api/layers')).layers.find((l) => l.slug === 'street_lights');
      const match = lights.style.paint['circle-color'];
      const want = [];
      for (let i = 2; i + 1 < match.length; i += 2) want.push({ lamp: match[i], color: match[i + 1], name: catalog[`lighting.lamp.${match[i]}`][lang] });
      want.push({ lamp: 'other', color: match[match.length - 1], name: catalog['value.other'][lang] });
      const key = await page.locator('#lighting-colours .lighting-colour').evaluateAll((els) => els.map((e) =>
        ({ lamp: e.dataset.lamp, color: e.dataset.color, fill: e.querySelector('circle').getAttribute('fill'), name: e.textContent.trim() })));
      assert.deepEqual(key.map(({ lamp, color, name }) => ({ lamp, color, name })), want);
      assert.ok(key.every((k) => k.fill === k.color), 'each swatch drawn in its colour');
      assert.match(await page.locator('#lighting-colours').textContent(), new RegExp(`^${catalog['lighting.colours'][lang]}:`));

      // "Accessible places only": no console error, only ramps within 1:12 (8 %) and not poor.
      const drawnRamps = () => page.evaluate(() => [...new Map(window.__geoportal.map.queryRenderedFeatures({ layers: ['lyr-ramps'] })
        .map((f) => [f.id, f.properties])).values()]);
      const fits = (p) => (p.slope_pct == null || p.slope_pct <= 8) && p.condition !== 'poor';
      const all = await drawnRamps();
      assert.ok(all.some((p) => p.slope_pct > 8 && p.condition !== 'poor'), 'a steep ramp (over 8 %) not in poor condition is drawn');
      const btn = page.locator('#mod-access .mod-toggle');
      if ((await btn.getAttribute('aria-expanded')) !== 'true') await btn.click();
      await page.locator('#access-only').check();
      await closeSheet(page, size);
      await waitIdle(page);
      const only = await drawnRamps();
      assert.ok(only.length > 0 && only.every(fits), `ramps drawn with the filter: ${JSON.stringify(only.map((p) => [p.slope_pct, p.condition]))}`);
      assert.equal(only.length, all.filter(fits).length, 'every accessible ramp still drawn');
      assert.deepEqual(page.consoleErrors, [], 'no console errors (MapLibre filter validation)');
      await openSheet(page, size);
      await page.locator('#access-only').uncheck();
      await closeSheet(page, size);

      // Bus routes in their own colours, numbered along the lines.
      const paint = await page.evaluate(() => window.__geoportal.map.getPaintProperty('lyr-bus_routes', 'line-color'));
      assert.ok(JSON.stringify(paint).includes('"color"'), `the routes' colour comes from the data: ${JSON.stringify(paint)}`);
      await page.evaluate(() => window.__geoportal.map.jumpTo({ zoom: 13.5 }));
      await waitIdle(page);
      const routes = await page.evaluate(() => window.__geoportal.map.queryRenderedFeatures({ layers: ['lyr-bus_routes'] })
        .map((f) => [f.properties.ref, f.properties.color]));
      const colours = new Set(routes.map((r) => r[1]));
      assert.ok(routes.length > 0 && routes.every((r) => /^#[0-9a-f]{6}$/.test(r[1])), `routes and colours: ${JSON.stringify(routes.slice(0, 5))}`);
      assert.ok(colours.size >= Math.min(3, new Set(routes.map((r) => r[0])).size), `distinct colours: ${[...colours]}`);
      const numbers = await page.evaluate(() => window.__geoportal.map.queryRenderedFeatures({ layers: ['lbl-bus_routes'] }).map((f) => f.properties.ref));
      assert.ok(numbers.length > 0, 'route numbers drawn along the lines');

      // A school catchment opens from a click inside it (the catchment with a point on its
      // surface farthest from its outline, so that the click is not on the line).
      const inner = sql(`SELECT ST_X(p), ST_Y(p) FROM (SELECT (ST_MaximumInscribedCircle(geom)).center AS p,
        (ST_MaximumInscribedCircle(geom)).radius AS r FROM layer.school_catchments) x ORDER BY r DESC LIMIT 1`).split('|').map(Number);
      await page.evaluate(([lon, lat]) => {
        const g = window.__geoportal;
        g.state.visible.add('school_catchments');
        for (const id of ['hit-school_catchments', 'lyr-school_catchments']) if (g.map.getLayer(id)) g.map.setLayoutProperty(id, 'visibility', 'visible');
        g.map.jumpTo({ center: [lon, lat], zoom: 15 });
      }, inner);
      await waitIdle(page);
      const xy = await page.evaluate((p) => window.__geoportal.map.project(p), inner);
      const box = await page.locator('#map canvas').boundingBox();
      await page.mouse.click(box.x + xy.x, box.y + xy.y);
      await page.locator('.popup').first().waitFor({ timeout: 10000 });
      assert.equal(await page.locator('.popup').first().getAttribute('data-layer'), 'school_catchments', 'the click inside opened the catchment');
      await page.keyboard.press('Escape');

      // Nearest to me: the places of public interest, distances said to be straight lines.
      await openSheet(page, size);
      const kinds = await page.locator('#nearest-layer option').evaluateAll((os) => os.map((o) => o.value));
      for (const k of ['clinics', 'pharmacies', 'schools', 'bus_stops', 'ramps', 'biotoilets', 'playgrounds', 'sports_grounds', 'parks']) {
        assert.ok(kinds.includes(k), `nearest offers ${k}: ${kinds}`);
      }
      await page.locator('#nearest-layer').selectOption('pharmacies');
      await page.locator('.nearest .btn-secondary').click(); // "Point on the map" (closes the sheet on a phone)
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 3);
      await page.locator('.nearest-results button').first().waitFor({ state: 'attached' });
      assert.ok((await page.locator('.nearest-status').textContent()).endsWith(catalog['map.straightLine'][lang]));

      // On foot along the streets: the same point, the list in the API's walking order, each
      // distance written as a walk ("650 m walk", "650 м пешком", "жаяу 650 м").
      const statusEnds = (key) => page.waitForFunction((s) => document.querySelector('.nearest-status').textContent.endsWith(s), catalog[key][lang], { timeout: 30000 });
      // That point (inside the widest, rural catchment) is kilometres from any street: the list
      // stays in a straight line and says there is no walk from there.
      await openSheet(page, size);
      await page.locator('#nearest-by-walk').check();
      await statusEnds('map.walkUnavailable');
      // From the ramp in the city centre, the walk.
      await page.evaluate(([lon, lat]) => window.__geoportal.map.jumpTo({ center: [lon, lat], zoom: 15 }), ramp);
      await waitIdle(page);
      await page.locator('.nearest .btn-secondary').click(); // "Point on the map" (closes the sheet on a phone)
      const rampXY = await page.evaluate((p) => window.__geoportal.map.project(p), ramp);
      await page.mouse.click(box.x + rampXY.x, box.y + rampXY.y);
      await statusEnds('map.walkAlongStreets');
      const from = await page.evaluate(() => window.__geoportal.state.lastNearest.from);
      const walked = await api(`/api/nearest?layer=pharmacies&lon=${from[0].toFixed(6)}&lat=${from[1].toFixed(6)}&limit=5&lang=${lang}&by=walk`);
      assert.equal(walked.by, 'walk');
      assert.ok(walked.results.some((r) => r.walk_m != null), 'the demo city walks to its pharmacies');
      for (const r of walked.results) if (r.walk_m != null) assert.ok(r.walk_m >= r.distance_m, `walk ${r.walk_m} ≥ straight ${r.distance_m}`);
      const listed = await page.locator('.nearest-results button').evaluateAll((bs) => bs.map((b) => b.querySelector('.result-extra')?.textContent || ''));
      assert.equal(listed.length, walked.results.length);
      const walkWord = { kk: /^жаяу \d[\d\u00a0 ,]* к?м$/, ru: /^\d[\d\u00a0 ,]* к?м пешком$/, en: /^\d[\d,.]* k?m walk$/ }[lang];
      walked.results.forEach((r, i) => {
        if (r.walk_m != null) assert.match(listed[i], walkWord, `result ${i}: ${listed[i]}`);
      });
      const ids = await page.locator('.nearest-results button').evaluateAll((bs) => bs.map((b) => Number(b.dataset.id)));
      assert.deepEqual(ids, walked.results.map((r) => r.id), 'the list in walking order');
      await openSheet(page, size);
      await page.locator('#nearest-by-line').check(); // back to the straight line for what follows
      await statusEnds('map.straightLine');

      await openSheet(page, size);
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'no horizontal scroll');
      const violations = await axe(page);
      assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
      await shot(page, `details-${size.width}-${lang}.png`);
      assert.deepEqual(page.consoleErrors, []);
      assert.deepEqual(page.errors, []);
      await page.context().close();
    });
  }
}
