// Browser test of values, numbers and dates in people's words (issue 24, points 1 and 2): the
// popups show coded values from the layer's value dictionary in kk/ru/en at phone and desktop
// size; Kazakh numbers have space grouping and a decimal comma on the planner and the lighting
// audit; the follow page dates a report with a Kazakh month; the admin audit log is on the
// city's clock; a year is never grouped. Run by scripts/browser-tests.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, waitIdle, api, axe, shot, PHONE, DESKTOP, BASE } from './helpers.mjs';
import { solve } from '../src/pow.js';

const T = { timeout: 600000 };
const CITY_TZ = 'Asia/Aqtobe'; // as /api/config says; checked below
const KK_MONTHS = ['қаңтар', 'ақпан', 'наурыз', 'сәуір', 'мамыр', 'маусым', 'шілде', 'тамыз', 'қыркүйек', 'қазан', 'қараша', 'желтоқсан'];
const NB = '\u00a0';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// The words each coded value should read as (migration 0220), for the values the demo writes.
const WORDS = {
  parks: { attr: 'kind', title: { kk: 'Түрі', ru: 'Тип', en: 'Kind' }, values: {
    park: { kk: 'саябақ', ru: 'парк', en: 'park' }, square: { kk: 'сквер', ru: 'сквер', en: 'square' },
    boulevard: { kk: 'бульвар', ru: 'бульвар', en: 'boulevard' } } },
  street_lights: { attr: 'control', title: { kk: 'Басқару', ru: 'Управление', en: 'Control' }, values: {
    schedule: { kk: 'кесте бойынша', ru: 'по расписанию', en: 'on a schedule' },
    photocell: { kk: 'фотореле', ru: 'фотореле', en: 'photocell' },
    astronomical: { kk: 'астрономиялық таймер', ru: 'астрономический таймер', en: 'astronomical timer' },
    smart: { kk: 'ақылды басқару', ru: 'умное управление', en: 'smart control' } } },
  clinics: { attr: 'kind', title: { kk: 'Түрі', ru: 'Тип', en: 'Kind' }, values: {
    polyclinic: { kk: 'емхана', ru: 'поликлиника', en: 'polyclinic' },
    children: { kk: 'балалар емханасы', ru: 'детская поликлиника', en: "children's clinic" },
    family_health_centre: { kk: 'отбасылық денсаулық орталығы', ru: 'центр семейного здоровья', en: 'family health centre' } } },
};

/** popupAt opens the popup of layer's feature at point (only that layer shown) and returns its rows and properties. */
async function popupAt(page, layer, point, lang) {
  await page.evaluate(([l, p, lg]) => { location.hash = `map=18/${p[1]}/${p[0]}&layers=${l}&lang=${lg}`; }, [layer, point, lang]);
  await page.waitForFunction(([l, p]) => {
    const m = window.__geoportal.map;
    const c = m.getCenter();
    return window.__geoportal.state.visible.has(l) && Math.abs(c.lng - p[0]) < 1e-5 && Math.abs(c.lat - p[1]) < 1e-5;
  }, [layer, point]);
  await waitIdle(page);
  const xy = await page.evaluate((p) => {
    const pt = window.__geoportal.map.project(p);
    const r = window.__geoportal.map.getCanvas().getBoundingClientRect();
    return { x: r.left + pt.x, y: r.top + pt.y };
  }, point);
  await page.mouse.click(xy.x, xy.y);
  const popup = page.locator(`.maplibregl-popup .popup[data-layer="${layer}"]`);
  await popup.waitFor({ timeout: 15000 });
  const rows = await popup.locator('.popup-table tr').evaluateAll((trs) => Object.fromEntries(trs.map((tr) => [tr.querySelector('th').textContent, tr.querySelector('td').textContent])));
  const props = await page.evaluate(() => window.__geoportal.state.popupFeatures[window.__geoportal.state.popupIndex].properties);
  // Closed, so that it does not cover the next feature (the popups open at the map's centre).
  await page.keyboard.press('Escape');
  await page.locator('.maplibregl-popup').waitFor({ state: 'detached' });
  return { rows, props };
}

test('popups: a park\'s kind, a lamp\'s control, a clinic\'s kind in words, kk/ru/en, phone and desktop', T, async () => {
  const config = await api('/api/config');
  assert.equal(config.city.time_zone, CITY_TZ, '/api/config tells the browser the city\'s time zone');
  const at = {};
  for (const layer of Object.keys(WORDS)) {
    const near = await api(`/api/nearest?layer=${layer}&lon=57.1675&lat=50.2839&limit=1&lang=en`);
    assert.equal(near.results.length, 1, `the demo city has ${layer}`);
    at[layer] = near.results[0].point;
  }
  for (const size of [PHONE, DESKTOP]) {
    for (const lang of ['kk', 'ru', 'en']) {
      const page = await open(browser, size, `#lang=${lang}`);
      for (const [layer, w] of Object.entries(WORDS)) {
        const { rows, props } = await popupAt(page, layer, at[layer], lang);
        const code = props[w.attr];
        assert.ok(w.values[code], `${layer}.${w.attr} = ${code}: a value the demo writes`);
        assert.equal(rows[w.title[lang]], w.values[code][lang], `${size.width} px ${lang}: ${layer} ${w.attr} ${code} in ${JSON.stringify(rows)}`);
      }
      if (lang === 'kk') {
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(width <= size.width, `no horizontal scroll (${width})`);
        const v = await axe(page);
        assert.deepEqual(v, [], JSON.stringify(v, null, 1));
        await shot(page, `locale-popup-${size.width}.png`);
      }
      assert.deepEqual(page.errors, []);
      await page.context().close();
    }
  }
});

test('popups: a year stays "2026", not "2 026" or "2,026"', T, async () => {
  const near = await api('/api/nearest?layer=yards&lon=57.1675&lat=50.2839&limit=1&lang=en');
  assert.equal(near.results.length, 1, 'the demo city has yards');
  for (const [lang, title] of [['kk', 'Байқау маусымы'], ['ru', 'Сезон конкурса'], ['en', 'Contest season']]) {
    const page = await open(browser, PHONE, `#lang=${lang}`);
    const { rows, props } = await popupAt(page, 'yards', near.results[0].point, lang);
    assert.equal(rows[title], String(props.season), `${lang}: ${JSON.stringify(rows)}`);
    assert.match(rows[title], /^20\d\d$/);
    await page.context().close();
  }
});

// numberOf reads a number written in lang back ("4 080,5" in kk, "4,080.5" in en).
function numberOf(s, lang) {
  return Number(lang === 'en' ? s.replaceAll(',', '') : s.replaceAll(NB, '').replace(',', '.'));
}

test('lighting audit: Kazakh numbers with space grouping and a decimal comma, English with commas', T, async () => {
  const audit = await api('/api/modules/lighting/audit');
  assert.ok(audit.total.lamps >= 1000, `enough lamps to group (${audit.total.lamps})`);
  for (const size of [PHONE, DESKTOP]) {
    const ctx = await browser.newContext({ viewport: size, locale: 'en-GB' });
    const page = await ctx.newPage();
    for (const lang of ['kk', 'ru', 'en']) {
      await page.goto(`${BASE}/lighting/audit?lang=${lang}`);
      const foot = await page.locator('table').first().locator('tfoot th, tfoot td').allTextContents();
      const [lamps, power, kwh, share] = [foot[1], foot[2], foot[3], foot[8]];
      if (lang === 'en') {
        assert.match(lamps, /^\d{1,3}(,\d{3})+$/, `en lamps ${lamps}`);
        assert.match(power, /^\d{1,3}(,\d{3})*(\.\d)?$/, `en power ${power}`);
        assert.match(share, /^\d+\.\d%$/, `en share ${share}`);
      } else {
        assert.match(lamps, new RegExp(`^\\d{1,3}(${NB}\\d{3})+$`), `${lang} lamps ${JSON.stringify(lamps)}`);
        assert.match(power, new RegExp(`^\\d{1,3}(${NB}\\d{3})*(,\\d)?$`), `${lang} power ${JSON.stringify(power)}`);
        assert.match(kwh, new RegExp(`^\\d{1,3}(${NB}\\d{3})+$`), `${lang} kWh ${JSON.stringify(kwh)}`);
        assert.match(share, new RegExp(`^\\d+,\\d${NB}%$`), `${lang} share ${JSON.stringify(share)}`);
      }
      assert.equal(numberOf(lamps, lang), audit.total.lamps);
      assert.ok(Math.abs(numberOf(power, lang) - audit.total.power_kw) <= 0.05, `${power} vs ${audit.total.power_kw}`);
      assert.ok(Math.abs(numberOf(share.replace(/\s*%$/, '').replace(NB, ''), lang) - audit.total.saving_share * 100) <= 0.05, `${share} vs ${audit.total.saving_share}`);
    }
    await ctx.close();
  }
});

test('planner in Kazakh: "542 154" and "70,1 %", not "542,154"', T, async () => {
  const want = await api('/api/analysis/coverage?layer=bus_stops&distance=400&method=line&res=9');
  for (const size of [PHONE, DESKTOP]) {
    const ctx = await browser.newContext({ viewport: size, locale: 'en-GB', hasTouch: size.width < 500, isMobile: size.width < 500 });
    const page = await ctx.newPage();
    page.errors = [];
    page.on('pageerror', (e) => page.errors.push(e));
    await page.goto(`${BASE}/planner?lang=kk`);
    await page.waitForFunction(() => document.body.dataset.plannerReady === 'true', null, { timeout: 45000 });
    await page.selectOption('#cov-layer', 'bus_stops');
    await page.check('#method-line');
    await page.fill('#cov-distance', '400');
    await page.selectOption('#cov-res', '9');
    await page.click('#coverage-form button[type=submit]');
    await page.waitForFunction(() => Boolean(document.body.dataset.coverageDone), null, { timeout: 60000 });
    const share = await page.textContent('#covered-share');
    assert.match(share, new RegExp(`^\\d+,\\d${NB}%$`), JSON.stringify(share));
    assert.ok(Math.abs(numberOf(share.replace(`${NB}%`, ''), 'kk') - want.covered_share * 100) <= 0.05, `${share} vs ${want.covered_share}`);
    const rows = await page.$$eval('#coverage-result table.districts tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
    const big = rows.find((r, i) => Math.round(want.districts[i].residents_total) >= 1000);
    assert.ok(big, 'a district with over a thousand residents');
    assert.match(big[1], new RegExp(`^\\d{1,3}(${NB}\\d{3})+$`), JSON.stringify(big[1]));
    assert.deepEqual(page.errors, []);
    await ctx.close();
  }
});

test('follow page: the report\'s date with a Kazakh month on the city\'s clock', T, async () => {
  const ch = await api('/api/reports/challenge');
  const nonce = await solve(ch.challenge, ch.difficulty);
  const res = await fetch(`${BASE}/api/reports/`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ service_code: 'overflowing_bin', lon: 57.1702, lat: 50.2841, description: 'Контейнер толып кетті',
      pow_challenge: ch.challenge, pow_nonce: nonce }) });
  assert.equal(res.status, 201, await res.clone().text());
  const created = await res.json();
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-GB', { timeZone: CITY_TZ, year: 'numeric', month: 'numeric', day: 'numeric' })
    .formatToParts(new Date(created.report.requested_at)).map((x) => [x.type, x.value]));
  const day = `${Number(p.day)} ${KK_MONTHS[Number(p.month) - 1]} ${p.year} ж.`;
  for (const size of [PHONE, DESKTOP]) {
    const page = await open(browser, size, `#report/${created.follow}`, { locale: 'kk-KZ' });
    const history = page.locator('.report-history li');
    await history.first().waitFor();
    const all = `${await page.locator('.report-facts').textContent()} ${(await history.allTextContents()).join(' ')}`;
    assert.ok(all.includes(day), `"${day}" in ${all}`);
    assert.ok(!/M\d{1,2}\b/.test(all), `no "M12" month: ${all}`);
    assert.ok(!/2[\s,\u00a0]026/.test(all), `no grouped year: ${all}`);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
});

test('admin audit log: times on the city\'s clock, as on the report pages', T, async () => {
  const email = process.env.GEOPORTAL_ADMIN_EMAIL;
  const password = process.env.GEOPORTAL_ADMIN_PASSWORD;
  assert.ok(email && password, 'the admin is created by scripts/browser-tests.sh');
  for (const size of [PHONE, DESKTOP]) {
    const ctx = await browser.newContext({ viewport: size, locale: 'en-GB' });
    const page = await ctx.newPage();
    await page.goto(`${BASE}/login?lang=kk`);
    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', password);
    await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('form[action="/login"] button[type=submit]')]);
    await page.goto(`${BASE}/admin?lang=kk`);
    const first = await page.locator('table.audit tbody tr').first().locator('td').first().textContent();
    const recs = await page.evaluate(async () => (await (await fetch('/api/admin/audit')).json()).records);
    const shown = await page.locator('table.audit tbody tr').evaluateAll((trs) => trs.map((tr) => tr.querySelector('td').textContent));
    assert.ok(recs.length > 0 && shown.length > 0);
    const city = (iso) => {
      const q = Object.fromEntries(new Intl.DateTimeFormat('en-GB', { timeZone: CITY_TZ, year: 'numeric', month: '2-digit', day: '2-digit',
        hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
      return `${q.year}-${q.month}-${q.day} ${q.hour}:${q.minute}`;
    };
    assert.equal(first, city(recs[0].at), `the newest entry (${recs[0].at}, ${recs[0].action}) in Aktobe time`);
    assert.ok(!shown.some((s) => s.includes('UTC')), 'no UTC times');
    await ctx.close();
  }
});
