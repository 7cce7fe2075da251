// Browser test of the GIS staff upload page /staff/import (issue 5): a GIS staff member signs in,
// uploads a real projected shapefile (.zip) from the shared corpus, checks the preview (fields,
// coordinate system, count), imports it and finds the new layer in the public catalog and on the
// map; a Czech CP1250 shapefile is previewed in Kazakh at phone size with its text decoded; bad
// files are refused with a clear error and nothing is stored. Every expected value comes from
// GDAL's reading of the same file. Run by scripts/browser-tests.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, axe, api, shot, waitForMap, waitIdle, DESKTOP, PHONE, BASE } from './helpers.mjs';

const T = { timeout: 300000 };
const GIS_EMAIL = process.env.GEOPORTAL_GIS_EMAIL;
const GIS_PASSWORD = process.env.GEOPORTAL_GIS_PASSWORD;
const CORPUS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../testdata/shapefiles');
const NYBB = path.join(CORPUS, 'debian-geopandas/nybb_16a.zip'); // NAD83 / New York Long Island (ftUS)
const CODEPAGE = path.join(CORPUS, 'shapefile-js/codepage.zip'); // .cpg "ANSI 1250", Czech text
const BADZIP = path.join(CORPUS, 'shapefile-js/badzip.zip'); // not a zip archive
// Nine points at 0–8° E, 5° S–3° N, about 8,000 km from Aktobe (made with ogr2ogr, testdata/README.md).
const OUTSIDE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../testdata/import/outside_city.geojson');

let browser;
let tmp;
before(async () => {
  browser = await launch();
  tmp = mkdtempSync(path.join(tmpdir(), 'import-test-'));
});
after(async () => {
  await browser?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function sql(q) {
  assert.ok(process.env.DATABASE_URL, 'DATABASE_URL is exported by scripts/browser-tests.sh');
  return execFileSync('psql', [process.env.DATABASE_URL, '-AtXq', '-v', 'ON_ERROR_STOP=1', '-c', q], { encoding: 'utf8' }).trim();
}

/** gdal reads a file with ogrinfo: feature count, EPSG code, field names and the features' values. */
function gdal(file, ...config) {
  const src = file.endsWith('.zip') ? `/vsizip/${file}` : file;
  const out = execFileSync('ogrinfo', [...config, '-ro', '-al', '-geom=NO', src], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const count = Number(/Feature Count: (\d+)/.exec(out)[1]);
  const epsg = [...out.matchAll(/ID\["EPSG",(\d+)\]\]/g)].map((m) => m[1]).pop();
  const fields = [...out.matchAll(/^(\w+): (String|Integer|Real|Integer64|Date)/gm)].map((m) => m[1]);
  const values = {};
  for (const m of out.matchAll(/^ {2}(\w+) \(\w+\) = (.*)$/gm)) (values[m[1]] ||= []).push(m[2]);
  return { count, epsg, fields, values };
}

/** signIn opens the upload page, is sent to the sign-in page, signs in and comes back. */
async function signIn(size, lang) {
  assert.ok(GIS_EMAIL && GIS_PASSWORD, 'GEOPORTAL_GIS_EMAIL/PASSWORD are set by scripts/browser-tests.sh');
  const context = await browser.newContext({ viewport: size, locale: 'en-GB', isMobile: size.width < 500, hasTouch: size.width < 500 });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e));
  await page.goto(`${BASE}/staff/import?lang=${lang}`);
  assert.match(page.url(), /\/login\?/, 'not signed in: sent to the sign-in page');
  await page.fill('input[name=email]', GIS_EMAIL);
  await page.fill('input[name=password]', GIS_PASSWORD);
  await Promise.all([page.waitForURL(/\/staff\/import/), page.click('form[action="/login"] button[type=submit]')]);
  assert.equal(await page.getAttribute('html', 'lang'), lang);
  return page;
}

async function cell(page, table, header) {
  return (await page.locator(`#${table} tr`).filter({ has: page.locator('th', { hasText: header }) }).locator('td').textContent()).trim();
}

test('GIS staff import a projected shapefile: preview, import, the layer in the catalog and on the map', T, async () => {
  const want = gdal(NYBB);
  assert.equal(want.epsg, '2263', 'GDAL reads the .prj as NAD83 / New York Long Island (ftUS)');
  const page = await signIn(DESKTOP, 'en');
  assert.equal(await page.locator('h1').textContent(), 'Import a layer');
  assert.match(await page.locator('#who').textContent(), new RegExp(GIS_EMAIL.replace('.', '\\.')));

  await page.setInputFiles('#file', NYBB);
  await page.fill('#layer', 'nyc_boroughs');
  await page.fill('#title_kk', 'Нью-Йорк аудандары');
  await page.fill('#title_ru', 'Районы Нью-Йорка');
  await page.fill('#title_en', 'New York boroughs');
  await page.selectOption('#direction', '2');
  await page.getByRole('button', { name: 'Preview' }).click();
  await page.locator('#preview-summary').waitFor();

  // What GDAL sees: the count, the coordinate system from the .prj, the fields and their values.
  assert.equal(await cell(page, 'preview-summary', 'Records'), String(want.count));
  // GDAL calls shapefile polygons Polygon; boroughs of several islands make a MultiPolygon layer.
  assert.match(await cell(page, 'preview-summary', 'Geometry'), /^(Multi)?Polygon$/);
  assert.match(await cell(page, 'preview-summary', 'Coordinate system'), new RegExp(`^EPSG:${want.epsg} .*\\(from the \\.prj file\\)$`));
  const fields = await page.locator('#preview-fields tr td:first-child').allTextContents();
  assert.deepEqual(fields, want.fields);
  const shown = await page.locator('#preview-features').textContent();
  for (const name of want.values.BoroName) assert.ok(shown.includes(name), `${name} in the preview`);
  assert.equal(await page.locator('#minimap path:not(.city)').count(), want.count, 'every borough drawn on the small map');
  assert.equal(await page.locator('#minimap path.city').count(), 1, 'the city (Aktobe) drawn under them');
  assert.deepEqual(await axe(page), [], 'preview: no accessibility violations');
  await shot(page, 'import-preview-desktop.png');

  // Nothing is written by a preview.
  assert.equal(sql(`SELECT count(*) FROM geoportal.layers WHERE slug = 'nyc_boroughs'`), '0');

  // New York is not Aktobe: the import asks to confirm, and nothing is written until it is.
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await page.locator('#outside-warning').waitFor({ timeout: 120000 });
  assert.equal(sql(`SELECT count(*) FROM geoportal.layers WHERE slug = 'nyc_boroughs'`), '0');
  await page.getByRole('button', { name: 'Import anyway' }).click();
  await page.locator('#report').waitFor({ timeout: 120000 });
  assert.equal(await cell(page, 'report', 'Status'), 'done');
  assert.equal(await cell(page, 'report', 'Read'), String(want.count));
  assert.equal(await cell(page, 'report', 'Written'), String(want.count));
  assert.equal(await cell(page, 'report', 'Rejected'), '0');
  assert.equal(await page.locator('#progress').evaluate((p) => p.value), 1);
  assert.equal(sql(`SELECT status || ' ' || written || ' ' || username FROM geoportal.imports WHERE layer = 'nyc_boroughs'`), `ok ${want.count} ${GIS_EMAIL}`);

  // The public catalog (no session) lists it, reprojected to longitude/latitude in New York.
  const catalog = await api('/api/layers');
  const layer = catalog.layers.find((l) => l.slug === 'nyc_boroughs');
  assert.ok(layer, 'the new layer is in the public catalog');
  assert.deepEqual(layer.title, { kk: 'Нью-Йорк аудандары', ru: 'Районы Нью-Йорка', en: 'New York boroughs' });
  assert.equal(layer.feature_count, want.count);
  assert.equal(layer.direction, 2);
  const [w, s, e, n] = layer.bbox;
  assert.ok(w > -74.3 && e < -73.6 && s > 40.4 && n < 41.0, `bbox ${layer.bbox} is New York City`);
  await shot(page, 'import-report-desktop.png');
  assert.deepEqual(await axe(page), [], 'report: no accessibility violations');

  // The report links to the map, centred on the new layer and showing it.
  await page.locator('#open-map').waitFor();
  await Promise.all([page.waitForURL(/\/#map=/), page.locator('#open-map').click()]);
  await waitForMap(page);
  await page.waitForFunction(() => {
    const m = window.__geoportal.map;
    return m.getLayer('lyr-nyc_boroughs') && m.queryRenderedFeatures({ layers: ['lyr-nyc_boroughs'] }).length > 0;
  }, null, { timeout: 60000 });
  await waitIdle(page);
  const drawn = await page.evaluate(() => [...new Set(window.__geoportal.map.queryRenderedFeatures({ layers: ['lyr-nyc_boroughs'] })
    .map((f) => f.properties.boroname))].sort());
  assert.deepEqual(drawn, [...want.values.BoroName].sort(), 'all boroughs drawn on the map');
  const item = page.locator('li.layer-item[data-slug="nyc_boroughs"]');
  assert.equal(await item.locator('.layer-title').textContent(), 'New York boroughs');
  assert.ok(await item.locator('input[type=checkbox]').isChecked());
  await shot(page, 'import-layer-on-map.png');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a CP1250 shapefile is previewed in Kazakh at phone size, its text decoded', T, async () => {
  const want = gdal(CODEPAGE, '--config', 'SHAPE_ENCODING', 'CP1250');
  const czech = want.values.field.find((v) => /[^\x00-\x7f]/.test(v));
  assert.ok(czech, 'GDAL decodes a non-ASCII value');
  const page = await signIn(PHONE, 'kk');
  assert.equal(await page.locator('h1').textContent(), 'Қабатты импорттау');
  await page.setInputFiles('#file', CODEPAGE);
  await page.getByRole('button', { name: 'Алдын ала қарау' }).click();
  await page.locator('#preview-summary').waitFor();
  assert.equal(await cell(page, 'preview-summary', 'Кодтау'), 'CP1250 (.cpg файлынан)');
  assert.equal(await cell(page, 'preview-summary', 'Жазбалар'), String(want.count));
  assert.match(await cell(page, 'preview-summary', 'Координаттар жүйесі'), /^EPSG:4326 /);
  assert.ok((await page.locator('#preview-features').textContent()).includes(czech), `${czech} decoded in the preview`);
  // Nothing sticks out of a phone screen.
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'no horizontal scroll');
  assert.deepEqual(await axe(page), [], 'phone preview: no accessibility violations');
  await shot(page, 'import-preview-phone-kk.png');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('bad files are refused with a clear error (in Russian) and nothing is stored', T, async () => {
  const before = sql(`SELECT count(*) || ' ' || (SELECT count(*) FROM geoportal.imports) FROM geoportal.layers`);
  const html = path.join(tmp, 'roads.zip');
  writeFileSync(html, '<!doctype html><html><body>Not Found</body></html>\n');
  const page = await signIn(DESKTOP, 'ru');
  // Uploads are rate-limited (the test server allows 60 a minute, bursts of 30, previews included).
  for (const [file, button, reason] of [[BADZIP, 'Импортировать', /badzip\.zip is not a zip archive/],
    [html, 'Предпросмотр', /roads\.zip is not a zip archive/]]) {
    await page.setInputFiles('#file', file);
    await page.fill('#layer', 'bad_layer');
    for (const k of ['kk', 'ru', 'en']) await page.fill(`#title_${k}`, `bad ${k}`);
    await page.getByRole('button', { name: button }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.equal(await alert.locator('.error-title').textContent(), 'Файл не принят');
    assert.match(await alert.locator('.error-detail').textContent(), reason);
    assert.ok(await page.locator('#progress').isHidden(), 'no progress bar left behind');
    await page.waitForFunction(() => !document.getElementById('preview').disabled);
  }
  // A file without .shx and .dbf next to it.
  await page.setInputFiles('#file', path.join(CORPUS, 'debian-r-cran-sf/nc.shp'));
  await page.getByRole('button', { name: 'Импортировать' }).click();
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').locator('.error-detail').textContent(), /nc\.shp: the index file nc\.shx is missing/);
  assert.deepEqual(await axe(page), [], 'error: no accessibility violations');
  await shot(page, 'import-refused-ru.png');
  assert.equal(sql(`SELECT count(*) || ' ' || (SELECT count(*) FROM geoportal.imports) FROM geoportal.layers`), before, 'no layer and no history written');
  assert.equal(sql(`SELECT to_regclass('layer.bad_layer') IS NULL`), 't');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// Issue #24, point 7: data far from the city are previewed over the city's outline with how many
// lie outside and how far; a new layer without a title in one language is refused naming the
// field; the import is refused until confirmed, and nothing is stored before that.
const PLACE = {
  kk: { preview: 'Алдын ала қарау', import: 'Импорттау', confirm: 'Бәрібір импорттау', outside: /^Қала шекарасынан тыс: 9 \/ 9 нысан \(100 %\), шекарадан 8\s\d{3} км-ге дейін\./,
    field: 'Өрісті толтырыңыз: Қазақша атауы', refused: 'Деректер қаладан тыс жатыр: импорт расталмайынша орындалмайды', done: 'дайын', city: 'Қала шекарасы' },
  ru: { preview: 'Предпросмотр', import: 'Импортировать', confirm: 'Всё равно импортировать', outside: /^За границей города: 9 из 9 объектов \(100 %\), до 8\s\d{3} км от неё\./,
    field: 'Заполните поле: Название на казахском', refused: 'Данные лежат за пределами города: импорт ждёт подтверждения', done: 'готово', city: 'Граница города' },
  en: { preview: 'Preview', import: 'Import', confirm: 'Import anyway', outside: /^Outside the city boundary: 9 of 9 features \(100 %\), up to 8,\d{3} km from it\./,
    field: 'Fill in the field: Title in Kazakh', refused: 'The data lie outside the city: the import waits for your confirmation', done: 'done', city: 'City boundary' },
};
// One sign-in per size (sign-ins are rate-limited), the page then opened in each language.
for (const size of [PHONE, DESKTOP]) {
  test(`data outside the city: warned, shown over the city, confirmed (kk, ru, en; ${size.width} px)`, T, async () => {
    const page = await signIn(size, 'kk');
    for (const lang of ['kk', 'ru', 'en']) {
      const L = PLACE[lang];
      const slug = `far_${lang}_${size.width}`;
      await page.goto(`${BASE}/staff/import?lang=${lang}`);
      assert.equal(await page.getAttribute('html', 'lang'), lang);
      await page.setInputFiles('#file', OUTSIDE);
      await page.fill('#layer', slug);
      await page.getByRole('button', { name: L.preview }).click();
      await page.locator('#preview-summary').waitFor();
      assert.match(await page.locator('#preview-outside').textContent(), L.outside);
      assert.equal(await page.locator('#minimap path.city').count(), 1, 'the city outline under the data');
      assert.equal(await page.locator('#minimap circle:not(.city-mark)').count(), 9);
      assert.equal(await page.locator('#minimap circle.city-mark').count(), 1, 'the city, a dot at this scale, ringed');
      assert.ok(await page.locator('#minimap-legend').isVisible());
      assert.match(await page.locator('#minimap-legend').textContent(), new RegExp(L.city));
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'no horizontal scroll');
      assert.deepEqual(await axe(page), [], 'preview: no accessibility violations');
      await shot(page, `import-outside-preview-${lang}-${size.width}.png`);

      // Titles: the Kazakh one is missing, then the English one is blank.
      await page.fill('#title_ru', 'Далёкие точки');
      await page.fill('#title_en', 'Far points');
      await page.getByRole('button', { name: L.import, exact: true }).click();
      await page.getByRole('alert').waitFor();
      assert.equal(await page.getByRole('alert').locator('.error-detail').textContent(), L.field);
      assert.equal(await page.locator('#title_kk').getAttribute('aria-invalid'), 'true');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'title_kk');
      await page.fill('#title_kk', 'Алыс нүктелер');

      await page.getByRole('button', { name: L.import, exact: true }).click();
      const warning = page.locator('#outside-warning');
      await warning.waitFor();
      assert.equal(await warning.locator('.error-title').textContent(), L.refused);
      assert.match(await warning.locator('.error-detail').first().textContent(), L.outside);
      assert.equal(sql(`SELECT count(*) FROM geoportal.layers WHERE slug = '${slug}'`), '0', 'nothing stored before the confirmation');
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'no horizontal scroll');
      assert.deepEqual(await axe(page), [], 'refusal: no accessibility violations');
      await shot(page, `import-outside-refused-${lang}-${size.width}.png`);

      await page.getByRole('button', { name: L.confirm }).click();
      await page.locator('#report').waitFor();
      assert.equal(await cell(page, 'report', ({ kk: 'Мәртебе', ru: 'Статус', en: 'Status' })[lang]), L.done);
      assert.equal(sql(`SELECT feature_count || ' ' || title_kk FROM geoportal.layers WHERE slug = '${slug}'`), '9 Алыс нүктелер');
    }
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}
