// Browser test of the citizen-reports heatmap (src/ext/reportsheat.js): the layer switches from
// points to a MapLibre heatmap over the same vector tiles and the map's pixels show it; the
// category/status/period filter draws just the matching reports; the mode survives in the link;
// kk/ru/en and axe-core. Run by scripts/browser-tests.sh (which exports DATABASE_URL).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { launch, open, axe, api, shot, waitIdle, PHONE, DESKTOP, BASE } from './helpers.mjs';

const T = { timeout: 600000 };
let browser;
let centre;
const SEEDED = 40;

function sql(q) {
  assert.ok(process.env.DATABASE_URL, 'DATABASE_URL is exported by scripts/browser-tests.sh');
  return execFileSync('psql', [process.env.DATABASE_URL, '-AtXq', '-v', 'ON_ERROR_STOP=1', '-c', q], { encoding: 'utf8' }).trim();
}

before(async () => {
  browser = await launch();
  // A block of the built-up city with 40 reports of four categories, five statuses and dates from
  // this week to half a year ago (as the reports module stores them: public row + private row).
  const b = (await api('/api/layers/buildings')).bbox;
  centre = [b[0] + (b[2] - b[0]) * 0.62, b[1] + (b[3] - b[1]) * 0.58];
  sql(`WITH s AS (
      SELECT i, (ARRAY['pothole', 'street_light', 'overflowing_bin', 'missing_ramp'])[1 + i % 4] AS sc,
             (ARRAY['new', 'accepted', 'in_progress', 'resolved', 'rejected'])[1 + i % 5] AS st
      FROM generate_series(1, ${SEEDED}) i
    ), ins AS (
      INSERT INTO layer.citizen_reports (geom, service_code, status, description, department, requested_at, support_count)
      SELECT ST_SetSRID(ST_MakePoint(${centre[0]} + (i % 8 - 4) * 0.0006, ${centre[1]} + (i / 8 - 2) * 0.0005), 4326),
             sc, st, 'heatmap test ' || i, (SELECT department FROM reports.services WHERE code = sc),
             now() - make_interval(days => CASE WHEN i % 3 = 0 THEN 200 ELSE i % 20 END), 1 + i % 7
      FROM s RETURNING id
    )
    INSERT INTO reports.private (report_id, follow_hash, token)
    SELECT id, sha256(convert_to('heatmap test ' || id || random(), 'UTF8')), 'heat-' || id FROM ins`);
});
after(async () => { await browser?.close(); });

/** colouredPixels counts strongly coloured pixels of the map (what the reports draw) in a screenshot. */
async function colouredPixels(page) {
  const el = await page.$('.maplibregl-canvas');
  const png = (await el.screenshot()).toString('base64');
  return page.evaluate(async (data) => {
    const img = new Image();
    img.src = `data:image/png;base64,${data}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width; c.height = img.height;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const px = g.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < px.length; i += 4) {
      const hi = Math.max(px[i], px[i + 1], px[i + 2]);
      const lo = Math.min(px[i], px[i + 1], px[i + 2]);
      if (hi - lo > 80) n++;
    }
    return n;
  }, png);
}

const heatState = (page) => page.evaluate(() => {
  const m = window.__geoportal.map;
  const l = m.getLayer('reportsheat-heat');
  return {
    type: l?.type, source: l?.source,
    points: m.getLayoutProperty('lyr-citizen_reports', 'visibility'),
    clusters: m.getLayoutProperty('cl-citizen_reports', 'visibility'),
  };
});

test('desktop: reports switch from points to a heatmap, filtered by category, status and period', T, async () => {
  const hash = `#map=15.2/${centre[1].toFixed(5)}/${centre[0].toFixed(5)}&layers=citizen_reports&lang=en`;
  const page = await open(browser, DESKTOP, hash);
  const section = page.getByRole('region', { name: 'Reports on the map' });
  await section.waitFor();
  // Points: the seeded reports are drawn as dots.
  await page.waitForFunction(() => window.__geoportal.map.queryRenderedFeatures({ layers: ['lyr-citizen_reports'] })
    .filter((f) => String(f.properties.description || '').startsWith('heatmap test')).length >= 30);
  const points = await colouredPixels(page);
  await shot(page, 'desktop-reports-points.png');

  await section.getByLabel('Heatmap').check();
  await waitIdle(page);
  let st = await heatState(page);
  assert.deepEqual(st, { type: 'heatmap', source: 'src-citizen_reports', points: 'none', clusters: 'none' });
  // The heatmap reads the same vector tiles the points came from.
  const inSource = await page.evaluate(() => window.__geoportal.map.querySourceFeatures('src-citizen_reports', { sourceLayer: 'citizen_reports' })
    .filter((f) => String(f.properties.description || '').startsWith('heatmap test')).length);
  assert.ok(inSource >= 30, `${inSource} seeded reports in the source`);
  const heat = await colouredPixels(page);
  assert.ok(heat > points * 1.5 && heat - points > 5000, `the heatmap colours the map: ${heat} coloured pixels vs ${points} for the dots`);
  assert.match(await section.textContent(), /Density of reports|fewer.*more/);
  await page.waitForFunction(() => /reports=heat/.test(location.hash)); // the mode is in the link
  await shot(page, 'desktop-reports-heatmap.png');
  // City-wide, where the tile server sends clusters, the heatmap still draws them.
  await page.evaluate(() => window.__geoportal.map.jumpTo({ zoom: 12 }));
  await waitIdle(page);
  assert.ok(await colouredPixels(page) > 0, 'clusters are drawn in the heatmap');
  await shot(page, 'desktop-reports-heatmap-z12.png');
  await page.evaluate(() => window.__geoportal.map.jumpTo({ zoom: 15.2 }));
  await waitIdle(page);

  // Filter: one category → just its reports, from the server.
  await page.waitForSelector('#reportsheat-service option[value="pothole"]', { state: 'attached' });
  await page.selectOption('#reportsheat-service', 'pothole');
  const potholes = Number(sql(`SELECT count(*) FROM layer.citizen_reports WHERE service_code = 'pothole'`));
  assert.ok(potholes >= SEEDED / 4);
  await page.waitForFunction((n) => document.querySelector('.reportsheat-count')?.dataset.count === String(n), potholes);
  assert.equal(await page.locator('.reportsheat-count').textContent(), `${potholes} reports in the heatmap`);
  await waitIdle(page);
  st = await heatState(page);
  assert.equal(st.source, 'reportsheat-filtered');
  assert.equal(await page.evaluate(() => window.__geoportal.map.getSource('reportsheat-filtered').serialize().data.features.length), potholes);
  const fewer = await colouredPixels(page);
  assert.ok(fewer < heat && fewer > 0, `a quarter of the reports colours less of the map: ${fewer} < ${heat}`);
  // …open ones of the last 30 days.
  await page.selectOption('#reportsheat-status', 'open');
  await page.selectOption('#reportsheat-period', '30');
  const recentOpen = Number(sql(`SELECT count(*) FROM layer.citizen_reports WHERE service_code = 'pothole'
    AND status IN ('new', 'accepted', 'in_progress') AND requested_at >= now() - interval '30 days'`));
  await page.waitForFunction((n) => document.querySelector('.reportsheat-count')?.dataset.count === String(n), recentOpen);
  await page.waitForFunction(() => /reports_category=pothole/.test(location.hash) && /reports_status=open/.test(location.hash));
  let v = await axe(page);
  assert.deepEqual(v, [], JSON.stringify(v, null, 1));
  await shot(page, 'desktop-reports-heatmap-filtered.png');

  // The section reads in Kazakh and Russian.
  await page.locator('.lang-btn[data-lang="kk"]').click();
  assert.equal(await page.locator('#reportsheat-title').textContent(), 'Өтініштер картасы');
  assert.equal(await page.locator('label[for="reportsheat-mode-heat"]').textContent(), ' Жылу картасы');
  assert.match(await page.locator('.reportsheat-count').textContent(), /Жылу картасында \d+ өтініш/);
  await page.locator('.lang-btn[data-lang="ru"]').click();
  assert.equal(await page.locator('label[for="reportsheat-mode-heat"]').textContent(), ' Тепловая карта');
  assert.ok((await page.locator('#reportsheat-status option').allTextContents()).includes('Открытые (не решены)'));

  // Back to points: the dots return, the heatmap is gone.
  await page.locator('#reportsheat-mode-points').check();
  await waitIdle(page);
  st = await heatState(page);
  assert.deepEqual(st, { type: undefined, source: undefined, points: 'visible', clusters: 'visible' });
  await page.waitForFunction(() => !/reports=heat/.test(location.hash));
  // Switching the layer off in heatmap mode hides the heatmap too.
  await page.locator('#reportsheat-mode-heat').check();
  await page.locator('input[data-slug="citizen_reports"]').uncheck();
  assert.equal((await heatState(page)).type, undefined);
  await page.locator('input[data-slug="citizen_reports"]').check();
  assert.equal((await heatState(page)).type, 'heatmap');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('phone: a link with reports=heat opens the heatmap, keyboard only', T, async () => {
  const hash = `#map=14.5/${centre[1].toFixed(5)}/${centre[0].toFixed(5)}&layers=citizen_reports&lang=en&reports=heat`;
  const page = await open(browser, PHONE, hash);
  await page.waitForFunction(() => window.__geoportal.map.getLayer('reportsheat-heat')?.type === 'heatmap');
  assert.equal((await heatState(page)).points, 'none');
  // The side panel is a sheet on a phone: open it, then the radio group works with the arrow keys.
  await page.locator('.sheet-toggle').click();
  await page.locator('#reportsheat-mode-heat').scrollIntoViewIfNeeded();
  assert.ok(await page.locator('#reportsheat-mode-heat').isChecked());
  await page.locator('#reportsheat-mode-heat').focus();
  await page.keyboard.press('ArrowLeft');
  await page.waitForFunction(() => !window.__geoportal.map.getLayer('reportsheat-heat'));
  assert.equal((await heatState(page)).points, 'visible');
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => window.__geoportal.map.getLayer('reportsheat-heat')?.type === 'heatmap');
  const v = await axe(page);
  assert.deepEqual(v, [], JSON.stringify(v, null, 1));
  await waitIdle(page);
  await shot(page, 'phone-reports-heatmap.png');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
