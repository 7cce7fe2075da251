// Browser test of the street-lighting energy audit (issue 11): the map shows the lights by
// power with a size legend and each light's consumption; the printable audit page reads in
// kk/ru/en with the same per-district numbers as the API, prints (print CSS, a PDF), and its
// CSV downloads with those numbers. Run by scripts/browser-tests.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { launch, open, axe, api, shot, waitIdle, DESKTOP, BASE, OUT } from './helpers.mjs';

const T = { timeout: 300000 };
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// As the page's "num" (Go's strconv 'f', 0: halves to even), thousands set apart by no-break
// spaces in kk and ru, commas in en (web/pages/format.go).
function num(v, lang) {
  let r = Math.round(v);
  if (Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0) r -= Math.sign(v);
  return String(r).replace(/\B(?=(\d{3})+(?!\d))/g, lang === 'en' ? ',' : '\u00a0');
}

// A minimal CSV reader (quoted fields, doubled quotes): enough for the audit's export.
function parseCSV(text) {
  const rows = [];
  let row = []; let field = ''; let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; } else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; } else if (c !== '\r') field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

test('map: lights by power, a light\'s consumption, links to the audit', T, async () => {
  const page = await open(browser, DESKTOP, '#lang=kk');
  assert.equal(await page.locator('#lighting-title').textContent(), 'Көше жарығының энергоаудиті');
  assert.equal(await page.locator('#lighting-report').getAttribute('href'), '/lighting/audit?lang=kk');
  assert.equal(await page.locator('#lighting-csv').getAttribute('href'), '/api/modules/lighting/audit.csv?lang=kk');
  assert.match(await page.locator('#lighting-power').textContent(), /50 Вт.*150 Вт.*400 Вт/);
  // A light near the centre; switch the layer on from the section and go to it.
  const near = await api('/api/nearest?layer=street_lights&lon=57.1675&lat=50.2839&limit=1&lang=kk');
  const light = near.results[0];
  await page.locator('#lighting-toggle').click();
  assert.equal(await page.locator('#lighting-toggle').getAttribute('aria-pressed'), 'true');
  assert.ok(await page.evaluate(() => window.__geoportal.state.visible.has('street_lights')));
  await page.evaluate(async (p) => {
    const m = window.__geoportal.map;
    m.jumpTo({ center: p, zoom: 18 });
  }, light.point);
  await waitIdle(page);
  // Drawn by the catalog's style: the radius grows with power_w, the colour follows lamp_type.
  const drawn = await page.evaluate(() => {
    const m = window.__geoportal.map;
    const fs = m.queryRenderedFeatures({ layers: ['lyr-street_lights'] });
    return { n: fs.length, radius: JSON.stringify(m.getPaintProperty('lyr-street_lights', 'circle-radius')),
      color: JSON.stringify(m.getPaintProperty('lyr-street_lights', 'circle-color')) };
  });
  assert.ok(drawn.n > 0, 'lights drawn');
  assert.match(drawn.radius, /power_w/);
  assert.match(drawn.color, /lamp_type/);
  // Click the light: its popup adds its own kWh a year and a link to the audit.
  const xy = await page.evaluate((p) => window.__geoportal.map.project(p), light.point);
  const box = await page.locator('#map').boundingBox();
  await page.mouse.click(box.x + xy.x, box.y + xy.y);
  const extra = page.locator('.feature-popup .lighting-popup');
  await extra.waitFor();
  const props = await page.evaluate(() => {
    const f = window.__geoportal.state.popupFeatures[window.__geoportal.state.popupIndex];
    return f.layer === 'street_lights' ? f.properties : null;
  });
  assert.ok(props, 'the popup is a street light\'s');
  const kwh = props.power_w * props.hours_per_year / 1000;
  // Kazakh numbers as format.js writes them: Russian rules (Chromium has no kk data).
  const shown = new Intl.NumberFormat('ru-RU', { maximumFractionDigits: 1 }).format(kwh);
  assert.equal(await extra.textContent(), `Жылына ${shown} кВт·сағ · Энергоаудит`);
  const v = await axe(page);
  assert.deepEqual(v, [], JSON.stringify(v, null, 1));
  await shot(page, 'lighting-map.png');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('audit page: kk/ru/en with the per-district numbers, print, CSV download', T, async () => {
  const audit = await api('/api/modules/lighting/audit');
  assert.ok(audit.districts.length >= 2, 'the demo city has districts with lights');
  const ctx = await browser.newContext({ viewport: DESKTOP, locale: 'en-GB', acceptDownloads: true });
  const page = await ctx.newPage();
  for (const [lang, title, total] of [['kk', 'Көше жарығының энергоаудиті', 'Барлығы'], ['ru', 'Энергоаудит уличного освещения', 'Итого'],
    ['en', 'Street-lighting energy audit', 'Total']]) {
    await page.goto(`${BASE}/lighting/audit?lang=${lang}`);
    assert.equal(await page.locator('h1').textContent(), title);
    assert.equal(await page.getAttribute('html', 'lang'), lang);
    // One row per district, each with its name and the API's lamps, kWh, cost and saving.
    const rows = page.locator('table').first().locator('tbody tr');
    assert.equal(await rows.count(), audit.districts.length);
    for (const [i, d] of audit.districts.entries()) {
      const cells = await rows.nth(i).locator('th, td').allTextContents();
      assert.equal(cells[0], d.names[lang]);
      assert.equal(cells[1], num(d.lamps, lang));
      assert.equal(cells[3], num(d.kwh_year, lang), `${d.names.en} kWh`);
      assert.equal(cells[4], num(d.cost_kzt, lang), `${d.names.en} cost`);
      assert.equal(cells[6], num(d.saving_kwh_year, lang), `${d.names.en} saving`);
    }
    const foot = await page.locator('table').first().locator('tfoot th, tfoot td').allTextContents();
    assert.equal(foot[0], total);
    assert.equal(foot[3], num(audit.total.kwh_year, lang));
    const v = await axe(page);
    assert.deepEqual(v, [], `${lang}: ${JSON.stringify(v, null, 1)}`);
  }
  // Another tariff recalculates every cost: the form on the page.
  await page.fill('input[name=tariff]', '27.5');
  await Promise.all([page.waitForURL(/tariff=27\.5/), page.click('form.noprint button[type=submit]')]);
  const at = await api('/api/modules/lighting/audit?tariff=27.5');
  assert.equal((await page.locator('table').first().locator('tfoot td').allTextContents())[3], num(at.total.cost_kzt, 'en'));

  // Printable: the print style hides the form and the language links; the PDF has pages.
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('form.noprint').isVisible(), false);
  assert.equal(await page.locator('nav.langs').isVisible(), false);
  assert.ok(await page.locator('table').first().isVisible());
  const pdf = await page.pdf({ path: path.join(OUT, 'lighting-audit.pdf'), format: 'A4', landscape: true });
  assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
  await page.emulateMedia({ media: 'screen' });
  await shot(page, 'lighting-audit.png');

  // The CSV download: the same numbers at the same tariff, names in the page's language.
  const link = page.locator('a[href^="/api/modules/lighting/audit.csv"]');
  assert.equal(await link.getAttribute('href'), '/api/modules/lighting/audit.csv?tariff=27.5&lang=en');
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  assert.equal(download.suggestedFilename(), 'street-lighting-audit.csv');
  const text = await readFile(await download.path(), 'utf8');
  assert.ok(text.startsWith('\ufeffsection,key,name,lamps,'), text.slice(0, 80));
  const csv = parseCSV(text.replace(/^\ufeff/, ''));
  const head = csv[0];
  const col = (name) => head.indexOf(name);
  const districts = csv.filter((r) => r[0] === 'district');
  assert.equal(districts.length, at.districts.length);
  for (const [i, d] of at.districts.entries()) {
    const r = districts[i];
    assert.equal(r[col('key')], d.key);
    assert.equal(r[col('name')], d.names.en);
    assert.equal(Number(r[col('lamps')]), d.lamps);
    assert.equal(Number(r[col('kwh_year')]), d.kwh_year);
    assert.equal(Number(r[col('cost_kzt')]), d.cost_kzt);
    assert.equal(Number(r[col('saving_kzt')]), d.saving_kzt);
    assert.equal(Number(r[col('tariff_kzt_per_kwh')]), 27.5);
  }
  const total = csv.find((r) => r[0] === 'total');
  assert.equal(Number(total[col('kwh_year')]), at.total.kwh_year);
  // The district rows add up to the total.
  const sum = districts.reduce((s, r) => s + Number(r[col('kwh_year')]), 0);
  assert.ok(Math.abs(sum - at.total.kwh_year) < 0.01, `${sum} vs ${at.total.kwh_year}`);
  await ctx.close();
});
