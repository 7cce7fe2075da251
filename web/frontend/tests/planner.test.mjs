// The planners' coverage page (/planner): a coverage run draws the H3 map of unserved residents
// with the numbers, the per-district table and the chart; siting draws the chosen sites; the
// downloads carry the same data as the API; a long analysis shows progress and can be
// cancelled; a planner saves two scenarios and compares them; kk/ru/en; axe-clean on desktop
// and phone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { spawn, execFileSync } from 'node:child_process';
import { launch, axe, api, shot, PHONE, DESKTOP, BASE } from './helpers.mjs';

const PLANNER_EMAIL = process.env.GEOPORTAL_PLANNER_EMAIL;
const PLANNER_PASSWORD = process.env.GEOPORTAL_PLANNER_PASSWORD;
const DB = process.env.DATABASE_URL;

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function openPlanner(size, { lang = 'en', context } = {}) {
  const ctx = context || await browser.newContext({ viewport: size, locale: 'en-GB', hasTouch: size.width < 500, isMobile: size.width < 500 });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e));
  await page.goto(`${BASE}/planner?lang=${lang}`);
  await page.waitForFunction(() => document.body.dataset.plannerReady === 'true', null, { timeout: 45000 });
  return page;
}

async function waitMapIdle(page) {
  await page.waitForFunction(() => {
    const m = window.__planner?.map;
    return m && m.loaded() && m.areTilesLoaded() && !m.isMoving();
  }, null, { timeout: 45000, polling: 100 });
}

async function runCoverage(page, { layer, distance, method = 'line', res = '9' }) {
  const before = await page.evaluate(() => document.body.dataset.coverageDone || '');
  await page.selectOption('#cov-layer', layer);
  await page.check(method === 'network' ? '#method-network' : '#method-line');
  await page.fill('#cov-distance', String(distance));
  await page.selectOption('#cov-res', res);
  await page.click('#coverage-form button[type=submit]');
  await page.waitForFunction((b) => (document.body.dataset.coverageDone || '') !== b, before, { timeout: 60000 });
}

async function runSiting(page, { layer, candidates, n, distance }) {
  const before = await page.evaluate(() => document.body.dataset.sitingDone || '');
  await page.selectOption('#sit-layer', layer);
  await page.selectOption('#sit-candidates', candidates);
  await page.fill('#sit-n', String(n));
  await page.fill('#sit-distance', String(distance));
  await page.click('#siting-form button[type=submit]');
  await page.waitForFunction((b) => (document.body.dataset.sitingDone || '') !== b, before, { timeout: 60000 });
}

/** csvRow splits one RFC 4180 line (quoted fields may hold commas). */
function csvRow(line) {
  const out = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') quoted = false; else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { out.push(cur); cur = ''; } else cur += c;
  }
  out.push(cur);
  return out;
}

/** downloaded clicks a button and returns the name and text of the file it offers. */
async function downloaded(page, selector) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  const path = await dl.path();
  return { name: dl.suggestedFilename(), text: await readFile(path, 'utf8') };
}

test('coverage: hex map, numbers, districts, chart and downloads match the API', async () => {
  const page = await openPlanner(DESKTOP);
  await runCoverage(page, { layer: 'bus_stops', distance: 400, method: 'network', res: '9' });
  const want = await api('/api/analysis/coverage?layer=bus_stops&distance=400&method=network&res=9&curve=true');
  assert.ok(want.unserved_hexes.features.length > 0, 'the demo city has unserved residents at 400 m');

  // The numbers: share, and one table row per district.
  assert.equal(await page.textContent('#covered-share'), new Intl.NumberFormat('en-GB', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(want.covered_share));
  const rows = await page.$$eval('#coverage-result table.districts tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
  assert.equal(rows.length, want.districts.length);
  assert.equal(rows[0][1], new Intl.NumberFormat('en-GB').format(Math.round(want.districts[0].residents_total)));

  // The hex map: the source holds the API's hexagons and they are drawn on the map.
  await waitMapIdle(page);
  const drawn = await page.evaluate(async () => {
    const m = window.__planner.map;
    return { source: (await m.getSource('unserved').getData()).features.length,
      rendered: m.queryRenderedFeatures({ layers: ['unserved-fill'] }).length };
  });
  assert.equal(drawn.source, want.unserved_hexes.features.length);
  assert.ok(drawn.rendered > 0, 'unserved hexagons are drawn');

  // The chart of coverage by distance: ten points, the data table beside it.
  assert.equal(await page.locator('#coverage-result svg.chart circle.dot').count(), 10);
  assert.equal(await page.locator('#coverage-result .chart-data tbody tr').count(), 10);
  assert.match(await page.getAttribute('#coverage-result svg.chart', 'aria-label'), /Coverage by distance/);

  // Downloads.
  const hexes = await downloaded(page, '#export-hexes');
  assert.match(hexes.name, /^coverage-bus_stops-network-400m-unserved\.geojson$/);
  const fc = JSON.parse(hexes.text);
  assert.equal(fc.type, 'FeatureCollection');
  assert.deepEqual(fc.features.map((f) => f.properties.h3).sort(), want.unserved_hexes.features.map((f) => f.properties.h3).sort());
  const csv = await downloaded(page, '#export-districts');
  const lines = csv.text.trim().split('\r\n');
  assert.equal(lines[0], 'district_id,district,residents_total,residents_covered,covered_share,method,distance_m');
  assert.equal(lines.length, want.districts.length + 1);
  assert.equal(lines[1].split(',')[3], String(want.districts[0].residents_covered));
  assert.deepEqual(lines[1].split(',').slice(-2), ['network', '400'], 'every row says how it was measured');
  assert.equal(fc.method, 'network');
  assert.equal(await page.textContent('#coverage-method'), 'Distances are measured walking along streets, up to 400 m.');

  assert.doesNotMatch(await page.textContent('#coverage-result'), /null|undefined|NaN/);
  await shot(page, 'planner-coverage-desktop.png');
  assert.deepEqual(await axe(page), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('siting: chosen sites on the map and in the table, downloads, language switch', async () => {
  const page = await openPlanner(DESKTOP, { lang: 'ru' });
  assert.equal(await page.getAttribute('html', 'lang'), 'ru');
  assert.equal(await page.textContent('h1'), 'Анализ охвата');
  const params = { layer: 'schools', candidates: 'intersections', n: 6, distance: 500 };
  await runSiting(page, params);
  const res = await fetch(`${BASE}/api/analysis/siting`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(params) });
  const want = await res.json();
  assert.equal(want.sites.length, 6);

  assert.equal(await page.locator('#sites-table tbody tr').count(), 6);
  await waitMapIdle(page);
  const sites = await page.evaluate(() => window.__planner.map.queryRenderedFeatures({ layers: ['sites'] }).map((f) => f.properties.rank));
  assert.deepEqual([...new Set(sites)].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6], 'every chosen site is drawn');
  assert.equal(await page.locator('#siting-result svg.chart rect.bar').count(), 6, 'one bar per site in the gain chart');

  const gj = JSON.parse((await downloaded(page, '#export-sites')).text);
  assert.deepEqual(gj.features.map((f) => f.geometry.coordinates), want.sites.map((p) => [p.lon, p.lat]));
  const csv = (await downloaded(page, '#export-sites-csv')).text.trim().split('\r\n');
  assert.equal(csv[0], 'rank,id,name,address,lon,lat,gain,cumulative,cumulative_share,method,distance_m');
  assert.equal(csv.length, 7);
  assert.deepEqual(csvRow(csv[1]).slice(4, 7), [want.sites[0].lon, want.sites[0].lat, want.sites[0].gain].map(String));
  assert.deepEqual(csvRow(csv[1]).slice(-2), ['line', '500']);

  // The language switch redraws every text, the results included.
  await page.click('button[data-lang="kk"]');
  assert.equal(await page.getAttribute('html', 'lang'), 'kk');
  assert.equal(await page.textContent('h1'), 'Қамтуды талдау');
  assert.equal(await page.textContent('#siting-form button[type=submit]'), 'Орындарды таңдау');
  assert.match(await page.textContent('#siting-result'), /Әр жаңа орынның үлесі/);
  await page.click('button[data-lang="en"]');
  assert.equal(await page.textContent('#siting-share'), `Coverage (in a straight line): ${new Intl.NumberFormat('en-GB', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(want.share_before)} → ${new Intl.NumberFormat('en-GB', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(want.share_after)}`);
  assert.equal(await page.getAttribute('button[data-lang="en"]', 'aria-pressed'), 'true');

  assert.doesNotMatch(await page.textContent('#siting-result'), /null|undefined|NaN/);
  await shot(page, 'planner-siting-desktop.png');
  assert.deepEqual(await axe(page), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// Issue 24, point 5: after walking coverage the sites are chosen by walking too, every figure
// says how it was measured, and the sites are named by their nearest address in the page's
// language, in the table and in both downloads.
for (const [lang, size, walking, line] of [
  ['kk', DESKTOP, 'көшелер бойымен жаяу', 'түзу сызық бойынша'],
  ['ru', PHONE, 'пешком по улицам', 'по прямой'],
  ['en', PHONE, 'walking along streets', 'in a straight line'],
]) {
  test(`siting follows walking coverage and names its sites (${lang}, ${size.width} px)`, async () => {
    const page = await openPlanner(size, { lang });
    await runCoverage(page, { layer: 'schools', distance: 500, method: 'network', res: '9' });
    const covShare = await page.textContent('#covered-share');
    assert.equal(await page.isChecked('#sit-method-network'), true, 'the siting form takes the coverage method');
    await runSiting(page, { layer: 'schools', candidates: 'intersections', n: 3, distance: 500 });
    const params = { layer: 'schools', candidates: 'intersections', n: 3, distance: 500, method: 'network', lang };
    const want = await (await fetch(`${BASE}/api/analysis/siting`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(params) })).json();
    assert.equal(want.method, 'network');
    assert.equal(want.sites.length, 3);

    // The share before the new sites is the walking coverage's share, and the page says walking.
    const share = await page.textContent('#siting-share');
    assert.ok(share.includes(`(${walking})`) && share.includes(`${covShare} →`), share);
    assert.ok((await page.textContent('#siting-result h2')).endsWith(walking));
    assert.ok((await page.textContent('#siting-method')).includes(walking));
    assert.ok(!(await page.textContent('#siting-result')).includes(line), 'no figure is said to be straight-line');
    assert.equal(await page.locator('#method-differs').count(), 0);

    // Sites read as places: the name is the API's address in this language, not coordinates.
    const names = await page.$$eval('#sites-table .site-name', (bs) => bs.map((b) => b.textContent));
    assert.deepEqual(names, want.sites.map((p) => p.name));
    for (const n of names) assert.doesNotMatch(n, /^\d+[.,]\d+, \d+[.,]\d+$/, `site named ${n}`);
    assert.ok(want.sites.every((p) => p.address && p.name === p.address && p.ref.startsWith('intersections/')));

    const csv = (await downloaded(page, '#export-sites-csv')).text.trim().split('\r\n');
    assert.match(csv[0], /^rank,id,name,address,/);
    for (const [i, row] of csv.slice(1).map(csvRow).entries()) {
      assert.equal(row[1], want.sites[i].ref, 'id is filled');
      assert.equal(row[2], want.sites[i].name, 'name is filled');
      assert.equal(row.at(-2), 'network');
    }
    const gj = JSON.parse((await downloaded(page, '#export-sites')).text);
    assert.deepEqual(gj.features.map((f) => [f.properties.ref, f.properties.name, f.properties.method]),
      want.sites.map((p) => [p.ref, p.name, 'network']));

    // Choosing straight-line sites after walking coverage is allowed, and said.
    await page.check('#sit-method-line');
    await runSiting(page, { layer: 'schools', candidates: 'intersections', n: 3, distance: 500 });
    assert.ok((await page.textContent('#method-differs')).includes(walking));
    assert.ok((await page.textContent('#siting-share')).includes(`(${line})`));

    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= size.width, `page is ${wide} px wide at ${size.width} px`);
    await shot(page, `planner-siting-method-${lang}-${size.width}.png`);
    assert.deepEqual(await axe(page), []);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

test('a long analysis shows its progress and can be cancelled', async () => {
  assert.ok(DB, 'DATABASE_URL is set by scripts/browser-tests.sh');
  const sql = (q) => execFileSync('psql', [DB, '-qXAtc', q], { encoding: 'utf8' }).trim();
  const page = await openPlanner(PHONE);
  // Hold an exclusive lock on the bus stops: a coverage job of them waits in its query. The
  // locking session is ended by the test (pg_terminate_backend), whatever happens.
  const locker = spawn('psql', [DB, '-qXc', 'BEGIN; LOCK TABLE layer.bus_stops IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120); COMMIT'],
    { stdio: 'ignore', env: { ...process.env, PGAPPNAME: 'planner-test-lock' } });
  const exited = new Promise((r) => locker.on('exit', r));
  try {
    // (pg_locks covers the whole cluster, where other tests' databases live too.)
    const locked = () => sql(`SELECT count(*) FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_class c ON c.oid = l.relation
      WHERE l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
      AND c.relname = 'bus_stops' AND l.mode = 'AccessExclusiveLock' AND l.granted`) !== '0';
    for (let i = 0; i < 200 && !locked(); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(locked(), 'the bus stops are locked');
    await page.selectOption('#cov-layer', 'bus_stops');
    await page.fill('#cov-distance', '300');
    await page.click('#coverage-form button[type=submit]');
    // The progress bar and the Cancel button appear while the job waits.
    await page.waitForSelector('#job-cancel', { state: 'visible' });
    await page.waitForFunction(() => document.body.dataset.jobId, null, { timeout: 10000 });
    const id = await page.evaluate(() => document.body.dataset.jobId);
    const running = await api(`/api/analysis/jobs/${id}`);
    assert.equal(running.state, 'running');
    assert.match(await page.getAttribute('#job-progress', 'aria-valuetext'), /%/);
    assert.match(await page.textContent('.job .stage'), /reading the layer|loading residents/);
    await shot(page, 'planner-progress-phone.png');
    assert.deepEqual(await axe(page), []);
    await page.click('#job-cancel');
    await page.waitForFunction((jid) => document.body.dataset.lastCancel === jid, id, { timeout: 10000 });
    await page.waitForSelector('#job-cancel', { state: 'hidden' });
    assert.equal(await page.textContent('main .status'), 'The analysis was cancelled.');
    assert.equal((await api(`/api/analysis/jobs/${id}`)).state, 'canceled');
    // The cancel reached the database: no query waits for the lock any more (the lock is still held).
    let waiting = '1';
    for (let i = 0; i < 60 && waiting !== '0'; i++) {
      waiting = sql(`SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE datname = current_database()
        AND wait_event_type = 'Lock' AND query LIKE '%layer.bus_stops%'`);
      if (waiting !== '0') await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(waiting, '0');
    assert.ok(locked(), 'the lock was still held when the query stopped');
    assert.equal(await page.locator('#coverage-result').isHidden(), true);
    assert.deepEqual(page.errors, []);
  } finally {
    sql(`SELECT count(pg_catalog.pg_terminate_backend(pid)) FROM pg_catalog.pg_stat_activity
      WHERE datname = current_database() AND application_name = 'planner-test-lock'`);
    await exited;
    await page.context().close();
  }
});

test('a planner saves two scenarios and compares them (phone)', async () => {
  assert.ok(PLANNER_EMAIL && PLANNER_PASSWORD, 'GEOPORTAL_PLANNER_EMAIL/PASSWORD are set by scripts/browser-tests.sh');
  // Anonymous visitors are told who may save scenarios.
  const anon = await openPlanner(PHONE);
  assert.match(await anon.textContent('#scenarios'), /Planners can save and compare scenarios/);
  assert.equal(await anon.locator('#scenario-name').count(), 0);
  await anon.context().close();

  const ctx = await browser.newContext({ viewport: PHONE, locale: 'en-GB', hasTouch: true, isMobile: true });
  const login = await ctx.newPage();
  await login.goto(`${BASE}/login?lang=en&next=${encodeURIComponent('/planner?lang=en')}`);
  await login.fill('input[name=email]', PLANNER_EMAIL);
  await login.fill('input[name=password]', PLANNER_PASSWORD);
  await Promise.all([login.waitForURL(/\/planner/), login.click('form[action="/login"] button[type=submit]')]);
  await login.close();
  const page = await openPlanner(PHONE, { context: ctx });
  assert.match(await page.textContent('.who'), /City planner/);

  await runCoverage(page, { layer: 'schools', distance: 300 });
  await page.fill('#scenario-name', 'Schools 300 m');
  await page.click('#save-coverage');
  await page.waitForFunction(() => /Schools 300 m/.test(document.querySelector('#scenario-status')?.textContent || ''));
  await runCoverage(page, { layer: 'schools', distance: 800 });
  await page.fill('#scenario-name', 'Schools 800 m');
  await page.click('#save-coverage');
  await page.waitForFunction(() => /Schools 800 m/.test(document.querySelector('#scenario-status')?.textContent || ''));

  // Compare: A is the older, B the newer by default.
  await page.click('#compare');
  await page.waitForSelector('#compare-result table');
  const a = await api('/api/analysis/coverage?layer=schools&distance=300');
  const b = await api('/api/analysis/coverage?layer=schools&distance=800');
  const row = await page.$$eval('#compare-result tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent))
    .find((r) => r[0] === 'Residents served'));
  const fmt = (v) => new Intl.NumberFormat('en-GB').format(Math.round(v * 100) / 100);
  assert.deepEqual(row, ['Residents served', fmt(a.residents_covered), fmt(b.residents_covered), `+${fmt(b.residents_covered - a.residents_covered)}`]);

  await shot(page, 'planner-scenarios-phone.png');
  assert.deepEqual(await axe(page), []);
  assert.deepEqual(page.errors, []);
  await ctx.close();
});
