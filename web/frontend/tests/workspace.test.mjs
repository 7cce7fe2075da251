// Browser test of the staff workspace (issue #24, points 3 and 4): the navigation bar by role on
// every staff page, at 375×667 (folded behind Menu) and 1366×850, in kk, ru and en, with no page
// scrolling sideways; the outage Close button on screen; and the layer management page: a layer
// retitled, hidden and deleted after the confirmation naming it and its feature count; the same
// bar on the planners' page (built in the browser from /staff/nav.json); and the reports
// console's map: the listed reports drawn, a click opening one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, axe, api, BASE } from './helpers.mjs';
import { solve } from '../src/pow.js';

const T = { timeout: 900000 };
const SIZES = [{ width: 375, height: 667 }, { width: 1366, height: 850 }];
const LANGS = ['kk', 'ru', 'en'];
const env = process.env;
// Each role's sections in the bar's order (web/pages/nav.go).
const ROLES = {
  department_staff: { email: env.GEOPORTAL_STAFF_EMAIL, password: env.GEOPORTAL_STAFF_PASSWORD,
    sections: ['/staff/reports', '/staff/dispatch', '/staff/modules', '/lighting/audit'] },
  dispatcher: { email: env.GEOPORTAL_DISPATCH_EMAIL, password: env.GEOPORTAL_DISPATCH_PASSWORD,
    sections: ['/staff/reports', '/staff/dispatch', '/staff/modules', '/lighting/audit'] },
  planner: { email: env.GEOPORTAL_PLANNER_EMAIL, password: env.GEOPORTAL_PLANNER_PASSWORD,
    sections: ['/staff/modules', '/lighting/audit', '/planner'] },
  gis_staff: { email: env.GEOPORTAL_GIS_EMAIL, password: env.GEOPORTAL_GIS_PASSWORD,
    sections: ['/staff/modules', '/lighting/audit', '/planner', '/staff/import', '/staff/layers'] },
  admin: { email: env.GEOPORTAL_ADMIN_EMAIL, password: env.GEOPORTAL_ADMIN_PASSWORD,
    sections: ['/staff/reports', '/staff/dispatch', '/staff/modules', '/lighting/audit', '/planner', '/staff/import', '/staff/layers', '/admin'] },
};
// The sections whose pages carry the bar (the planners' page is its own application).
const BAR_PAGES = ['/staff/reports', '/staff/dispatch', '/staff/modules', '/staff/import', '/staff/layers', '/admin'];

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function signedIn(role, size, lang) {
  const { email, password } = ROLES[role];
  assert.ok(email && password, `the ${role} user is created by scripts/browser-tests.sh`);
  const phone = size.width < 500;
  const context = await browser.newContext({ viewport: size, deviceScaleFactor: 1, hasTouch: phone, isMobile: phone });
  const page = await context.newPage();
  await page.goto(`${BASE}/login?lang=${lang}`);
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('form[action="/login"] button[type=submit]')]);
  return page;
}

async function noSideScroll(page, what) {
  const w = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, iw: innerWidth }));
  assert.ok(w.sw <= w.iw, `${what}: scrollWidth ${w.sw} > ${w.iw}`);
}

/** barLinks opens the bar when folded and returns its section links and the current one. */
async function barLinks(page, size, what) {
  const toggle = page.locator('.nav-toggle');
  if (size.width < 500) {
    assert.equal(await toggle.isVisible(), true, `${what}: the Menu button shows on a phone`);
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false', `${what}: the bar starts folded on a phone`);
    assert.equal(await page.locator('nav.staff').isVisible(), false, `${what}: folded bar hidden`);
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  } else {
    assert.equal(await toggle.isVisible(), false, `${what}: no Menu button on a desktop`);
  }
  assert.equal(await page.locator('nav.staff').isVisible(), true, `${what}: the bar shows`);
  return page.evaluate(() => {
    const links = [...document.querySelectorAll('nav.staff a')].map((a) => new URL(a.href).pathname).filter((p) => p !== '/');
    const cur = document.querySelector('nav.staff a[aria-current="page"]');
    return { links, current: cur ? new URL(cur.href).pathname : null, map: !!document.querySelector('nav.staff a[href^="/?lang="]'),
      signOut: !!document.querySelector('form[action="/logout"] button'), langs: document.querySelectorAll('nav.langs a').length };
  });
}

test('the staff navigation bar by role, folded on a phone, on every staff page in kk, ru and en; nothing scrolls sideways', T, async () => {
  // One sign-in per role and size, the languages by link: the server allows each address 10
  // sign-ins at once and 20 a minute (each account 5), which 30 sign-ins in a row would exceed.
  for (const size of SIZES) {
    for (const [role, { sections }] of Object.entries(ROLES)) {
      const page = await signedIn(role, size, LANGS[0]);
      for (const lang of LANGS) {
        for (const path of BAR_PAGES.filter((p) => sections.includes(p))) {
          const what = `${role} ${path} ${lang} ${size.width}px`;
          const resp = await page.goto(`${BASE}${path}?lang=${lang}`);
          assert.equal(resp.status(), 200, what);
          await noSideScroll(page, what);
          const bar = await barLinks(page, size, what);
          assert.deepEqual(bar.links, sections, `${what}: the bar lists the role's sections`);
          assert.equal(bar.current, path, `${what}: the current section is marked`);
          assert.ok(bar.map && bar.signOut && bar.langs === 3, `${what}: back to the map, sign-out and the language switch`);
          await noSideScroll(page, `${what} (bar open)`);
        }
        // The public lighting audit fits too.
        await page.goto(`${BASE}/lighting/audit?lang=${lang}`);
        await noSideScroll(page, `${role} /lighting/audit ${lang} ${size.width}px`);
      }
      await page.context().close();
    }
  }
});

test('the outage Close button is on screen on a phone', T, async () => {
  const page = await signedIn('dispatcher', SIZES[0], 'kk');
  await page.goto(`${BASE}/staff/modules?lang=kk`);
  const csrf = await page.locator('form[action="/logout"] input[name=csrf_token]').first().inputValue();
  const res = await page.request.post(`${BASE}/api/modules/outages`, {
    headers: { 'X-CSRF-Token': csrf, Origin: BASE },
    data: { network: 'water', description: { kk: 'Құбыр жөндеу', ru: 'Ремонт трубы', en: 'Pipe repair' },
      geometry: { type: 'Polygon', coordinates: [[[57.16, 50.27], [57.18, 50.27], [57.18, 50.29], [57.16, 50.29], [57.16, 50.27]]] } },
  });
  assert.ok(res.ok(), `create an outage: ${res.status()} ${await res.text()}`);
  const { id } = await res.json();
  await page.goto(`${BASE}/staff/modules?lang=kk`);
  await noSideScroll(page, '/staff/modules with an outage');
  const close = page.locator(`form[action="/staff/modules/outages/${id}/close"] button`);
  await close.scrollIntoViewIfNeeded();
  const box = await close.boundingBox();
  assert.ok(box && box.x >= 0 && box.x + box.width <= 375, `Жабу on screen: ${JSON.stringify(box)}`);
  await Promise.all([page.waitForURL(/msg=saved/), close.click()]);
  await page.context().close();
});

async function catalogTitle(slug, staffPage) {
  const r = await (staffPage ? staffPage.request : { get: (u) => fetch(u) }).get(`${BASE}/api/layers`);
  const body = staffPage ? await r.json() : await r.json();
  return body.layers.find((l) => l.slug === slug);
}

test('layer management: retitle, hide and delete a layer after a confirmation naming it, at 375 and 1366 px', T, async () => {
  const slug = 'staff_trash';
  const steps = [{ size: SIZES[0], lang: 'kk' }, { size: SIZES[1], lang: 'en' }, { size: SIZES[0], lang: 'ru' }];
  for (const [i, { size, lang }] of steps.entries()) {
    const page = await signedIn('gis_staff', size, lang);
    await page.goto(`${BASE}/staff/layers?lang=${lang}`);
    await noSideScroll(page, `/staff/layers ${lang} ${size.width}px`);
    assert.deepEqual(await axe(page), [], `/staff/layers ${lang}: axe`);
    const card = page.locator(`#layer-${slug}`);
    await card.waitFor();
    if (i === 0) {
      // Retitled in the three languages, read back from the catalog.
      await card.locator('input[name=title_kk]').fill('Қате импорт (ескі)');
      await card.locator('input[name=title_ru]').fill('Ошибочный импорт (старый)');
      await card.locator('input[name=title_en]').fill('Wrong import (old)');
      await Promise.all([page.waitForURL(/msg=saved/), card.locator('form.titles button').click()]);
      assert.match(await page.locator('.flash').textContent(), /Сақталды/);
      const l = await catalogTitle(slug);
      assert.deepEqual(l.title, { kk: 'Қате импорт (ескі)', ru: 'Ошибочный импорт (старый)', en: 'Wrong import (old)' });
      // An empty title is refused, naming the field, and nothing changes.
      await card.locator('input[name=title_en]').evaluate((el) => { el.required = false; el.value = ''; });
      await card.locator('form.titles button').click();
      await page.locator('.error').waitFor();
      assert.match(await page.locator('.error').textContent(), /title_en is empty/);
      assert.equal((await catalogTitle(slug)).title.en, 'Wrong import (old)');
    } else if (i === 1) {
      // Hidden: gone from the public catalog, still on the page for staff.
      assert.ok(await catalogTitle(slug), 'public before hiding');
      await card.locator('select[name=visibility]').selectOption('staff');
      await Promise.all([page.waitForURL(/msg=saved/), card.locator('form.visibility button').click()]);
      assert.equal(await catalogTitle(slug), undefined, 'a hidden layer leaves the public catalog');
      assert.ok(await catalogTitle(slug, page), 'staff still see it');
      assert.equal(await page.locator(`#layer-${slug} [data-visibility]`).getAttribute('data-visibility'), 'staff');
    } else {
      // Deleted after the confirmation step, which names the layer and its features.
      const count = (await catalogTitle(slug, page)).feature_count;
      await Promise.all([page.waitForURL(/\/delete/), card.locator('.delete a').click()]);
      await noSideScroll(page, 'delete confirmation');
      assert.deepEqual(await axe(page), [], 'delete confirmation: axe');
      const text = await page.locator('#confirm-text').textContent();
      assert.ok(text.includes('Ошибочный импорт (старый)') && text.includes(slug) && text.includes(String(count)), text);
      await Promise.all([page.waitForURL(/msg=deleted/), page.locator('button.danger').click()]);
      assert.match(await page.locator('.flash').textContent(), new RegExp(`${slug} удалён`));
      assert.equal(await catalogTitle(slug, page), undefined, 'deleted');
      assert.equal(await page.locator(`#layer-${slug}`).count(), 0);
    }
    await page.context().close();
  }
});

/** clickMap clicks the map in box at the fractions fx, fy of its width and height. */
async function clickMap(page, box, fx, fy) {
  await box.locator('.staff-map').scrollIntoViewIfNeeded();
  const b = await box.locator('.staff-map canvas').boundingBox();
  await page.mouse.click(b.x + b.width * fx, b.y + b.height * fy);
}

async function outagesNow() {
  const r = await fetch(`${BASE}/api/modules/outages`);
  assert.equal(r.status, 200);
  const body = await r.json();
  return body.features || body.outages || body;
}

const DRAW = {
  kk: { save: 'Өшірілуді сақтау', count: 'Бұрыштар: ' },
  ru: { save: 'Сохранить отключение', count: 'Углов: ' },
  en: { save: 'Save the outage', count: 'Corners: ' },
};

test('an outage area drawn on the map (mouse or keyboard), saved, read back and redrawn, at 375 and 1366 px in kk, ru and en', T, async () => {
  const runs = [{ size: SIZES[0], lang: 'kk', keyboard: false }, { size: SIZES[1], lang: 'en', keyboard: false }, { size: SIZES[1], lang: 'ru', keyboard: true }];
  for (const { size, lang, keyboard } of runs) {
    const what = `${lang} ${size.width}px${keyboard ? ' keyboard' : ''}`;
    const page = await signedIn('dispatcher', size, lang);
    const errors = [];
    page.on('pageerror', (e) => errors.push(e));
    await page.goto(`${BASE}/staff/modules?lang=${lang}`);
    const box = page.locator('.draw[data-input="geometry-new"]');
    await page.locator('.draw[data-input="geometry-new"][data-ready="true"]').waitFor({ timeout: 45000 });
    await noSideScroll(page, `/staff/modules drawing ${what}`);
    assert.equal(await page.locator('#geometry-new').isVisible(), false, `${what}: no GeoJSON to type`);
    const submit = page.locator('form[action="/staff/modules/outages"] button[type=submit]');
    assert.equal((await submit.textContent()).trim(), DRAW[lang].save);
    const status = box.locator('.draw-status');
    if (keyboard) {
      // Move the map with the arrow keys, then add a corner at the cross, four times.
      const canvas = box.locator('.staff-map canvas');
      for (const key of ['ArrowLeft', 'ArrowUp', 'ArrowRight', 'ArrowDown']) {
        await canvas.focus();
        for (let i = 0; i < 3; i++) await page.keyboard.press(key);
        await page.waitForFunction(() => !window.__staffmap.maps[0].isMoving());
        await box.locator('.draw-add').focus();
        await page.keyboard.press('Enter');
      }
    } else {
      for (const [fx, fy] of [[0.3, 0.3], [0.7, 0.3], [0.7, 0.7], [0.5, 0.9], [0.3, 0.7]]) await clickMap(page, box, fx, fy);
      assert.equal(await status.textContent(), `${DRAW[lang].count}5`);
      await box.locator('.draw-undo').click();
    }
    assert.equal(await status.textContent(), `${DRAW[lang].count}4`, what);
    const drawn = JSON.parse(await page.locator('#geometry-new').inputValue());
    assert.equal(drawn.type, 'Polygon');
    assert.equal(drawn.coordinates[0].length, 5, `${what}: four corners, closed`);
    const note = `Drawn outage ${what} ${Date.now()}`;
    await page.fill('input[name=description_en]', note);
    await Promise.all([page.waitForURL(/msg=saved/), submit.click()]);
    // Read the area back from the public outages.
    const list = await outagesNow();
    const mine = list.find((o) => (o.description?.en || o.properties?.description_en || o.properties?.description?.en) === note);
    assert.ok(mine, `${what}: the outage is listed: ${JSON.stringify(list).slice(0, 400)}`);
    const geom = mine.geometry;
    const ring = geom.type === 'MultiPolygon' ? geom.coordinates[0][0] : geom.coordinates[0];
    assert.equal(ring.length, 5);
    for (const [i, [x, y]] of ring.entries()) {
      assert.ok(Math.abs(x - drawn.coordinates[0][i][0]) < 1e-5 && Math.abs(y - drawn.coordinates[0][i][1]) < 1e-5, `${what}: corner ${i}`);
    }
    // Redraw it: open its edit form, clear, three new corners, save.
    await page.locator(`a.edit-area[href*="edit=${mine.id}"]`).click();
    const edit = page.locator('.draw[data-input="geometry-edit"]');
    await page.locator('.draw[data-input="geometry-edit"][data-ready="true"]').waitFor({ timeout: 45000 });
    assert.equal(await edit.locator('.draw-status').textContent(), `${DRAW[lang].count}4`, `${what}: the stored area is on the edit map`);
    await edit.locator('.draw-clear').click();
    for (const [fx, fy] of [[0.4, 0.4], [0.6, 0.4], [0.5, 0.6]]) await clickMap(page, edit, fx, fy);
    await Promise.all([page.waitForURL(/msg=saved/), page.locator('#edit-area button[type=submit]').click()]);
    const again = (await outagesNow()).find((o) => o.id === mine.id);
    const ring2 = again.geometry.type === 'MultiPolygon' ? again.geometry.coordinates[0][0] : again.geometry.coordinates[0];
    assert.equal(ring2.length, 4, `${what}: redrawn with three corners`);
    // Two corners are not an area: the server's error shows, in a 400 page.
    await page.goto(`${BASE}/staff/modules?lang=${lang}`);
    await page.locator('.draw[data-input="geometry-new"][data-ready="true"]').waitFor({ timeout: 45000 });
    await clickMap(page, box, 0.3, 0.3);
    await clickMap(page, box, 0.6, 0.6);
    await page.fill('input[name=description_en]', 'two corners');
    const [resp] = await Promise.all([page.waitForNavigation(), submit.click()]);
    assert.equal(resp.status(), 400);
    assert.match(await page.locator('.error').textContent(), /geometry is required/);
    assert.deepEqual(errors, [], `${what}: no page errors`);
    // Off the map again, so that other tests' buildings are not in it.
    await Promise.all([page.waitForURL(/msg=saved/), page.locator(`form[action="/staff/modules/outages/${mine.id}/close"] button`).click()]);
    await page.context().close();
  }
});


// The words of the bar in each language (web/pages/catalog.json: nav.menu, nav.to_map, page.sign_out).
const BAR_WORDS = {
  kk: { menu: 'Мәзір', toMap: 'Картаға оралу', signOut: 'Шығу', planner: 'Қамту талдауы' },
  ru: { menu: 'Меню', toMap: 'Вернуться к карте', signOut: 'Выйти', planner: 'Анализ охвата' },
  en: { menu: 'Menu', toMap: 'Back to the map', signOut: 'Sign out', planner: 'Coverage analysis' },
};

test('the planner carries the staff bar by role (folded on a phone), its language switch rewriting it, and signs out', T, async () => {
  for (const size of SIZES) {
    for (const role of ['planner', 'gis_staff', 'admin', 'dispatcher']) {
      const { sections } = ROLES[role];
      const page = await signedIn(role, size, 'kk');
      await page.goto(`${BASE}/planner?lang=kk`);
      await page.waitForFunction(() => document.body.dataset.plannerReady === 'true', null, { timeout: 45000 });
      await page.locator('nav.staff').waitFor({ state: 'attached' });
      for (const lang of LANGS) {
        const what = `${role} /planner ${lang} ${size.width}px`;
        await page.click(`.lang-btn[data-lang="${lang}"]`);
        assert.equal(await page.locator('.nav-toggle').textContent(), BAR_WORDS[lang].menu, `${what}: Menu in the page's language`);
        await noSideScroll(page, what);
        const toggle = page.locator('.nav-toggle');
        if (size.width < 500 && (await toggle.getAttribute('aria-expanded')) === 'true') await toggle.click(); // folded again
        const bar = await barLinks(page, size, what);
        assert.deepEqual(bar.links, sections, `${what}: the bar lists the role's sections`);
        assert.equal(bar.current, sections.includes('/planner') ? '/planner' : null, `${what}: the planner marked current for its roles`);
        assert.ok(bar.map && bar.signOut, `${what}: back to the map and sign-out`);
        const words = await page.evaluate(() => ({
          toMap: document.querySelector('nav.staff a[href^="/?lang="]').textContent,
          toMapHref: document.querySelector('nav.staff a[href^="/?lang="]').getAttribute('href'),
          signOut: document.querySelector('form[action="/logout"] button').textContent,
          planner: document.querySelector('nav.staff a[href^="/planner"]')?.textContent ?? null,
          langs: document.querySelectorAll('.lang-btn').length,
          pressed: document.querySelector('.lang-btn[aria-pressed="true"]')?.dataset.lang,
        }));
        assert.equal(words.toMap, BAR_WORDS[lang].toMap, `${what}: back to the map`);
        assert.equal(words.toMapHref, `/?lang=${lang}#lang=${lang}`);
        assert.equal(words.signOut, BAR_WORDS[lang].signOut, `${what}: sign out`);
        assert.equal(words.planner, sections.includes('/planner') ? BAR_WORDS[lang].planner : null, `${what}: the planner's own section`);
        assert.ok(words.langs === 3 && words.pressed === lang, `${what}: the language switch`);
        assert.equal(await page.locator('header a:visible', { hasText: BAR_WORDS[lang].toMap }).count()
          + await page.locator('.top-links:visible').count(), 1, `${what}: one way back to the map, in the bar`);
        await noSideScroll(page, `${what} (bar open)`);
      }
      if (size.width < 500) {
        // The open bar on a phone passes axe as the server pages' does.
        assert.deepEqual((await axe(page)).filter((v) => v.impact === 'critical' || v.impact === 'serious'), [], `${role} /planner axe`);
      }
      if (role === 'planner') {
        // Sign out from the planner: the session ends.
        await Promise.all([page.waitForURL((u) => u.pathname !== '/planner'), page.click('form[action="/logout"] button')]);
        const me = await page.request.get(`${BASE}/api/auth/me`);
        assert.ok(!(await me.json().catch(() => ({}))).user, 'signed out');
        await page.goto(`${BASE}/planner?lang=en`);
        await page.waitForFunction(() => document.body.dataset.plannerReady === 'true', null, { timeout: 45000 });
        assert.equal(await page.locator('nav.staff').count(), 0, 'no staff bar once signed out');
      }
      await page.context().close();
    }
  }
});

/** fileReport files a report straight through the API (as an app would), with its proof of work. */
async function fileReport(lon, lat, description) {
  const ch = await api('/api/reports/challenge');
  const nonce = await solve(ch.challenge, ch.difficulty);
  const res = await fetch(`${BASE}/api/reports/`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ service_code: 'overflowing_bin', lon, lat, description, email: 'resident.map@example.kz',
      pow_challenge: ch.challenge, pow_nonce: nonce }) });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()).report.id;
}

/** mapIdle waits for the staff page's first map to be drawn and still. */
async function mapIdle(page) {
  await page.waitForFunction(() => {
    const m = window.__staffmap?.maps?.[0];
    return m && m.loaded() && m.areTilesLoaded() && !m.isMoving();
  }, null, { timeout: 45000, polling: 100 });
}

test('the reports console map draws the listed reports and a click opens one, at 375 and 1366 px in kk, ru and en', T, async () => {
  // Three reports well apart in the city (the demo files none).
  const filed = [];
  for (const [lon, lat] of [[57.1602, 50.2795], [57.1831, 50.2903], [57.2005, 50.2702]]) {
    filed.push(await fileReport(lon, lat, `Map test report at ${lon}, ${lat}`));
  }
  for (const size of SIZES) {
    // An administrator sees every department's reports (one sign-in per size: the languages by link).
    const page = await signedIn('admin', size, LANGS[0]);
    for (const lang of LANGS) {
      const what = `/staff/reports map ${lang} ${size.width}px`;
      await page.goto(`${BASE}/staff/reports?lang=${lang}`);
      await page.locator('#reports-map[data-ready="true"]').waitFor({ timeout: 45000 });
      await page.locator('#reports-map').scrollIntoViewIfNeeded();
      await mapIdle(page);
      await noSideScroll(page, what);
      const listed = await page.evaluate(() => [...document.querySelectorAll('#bulk tbody input[name=id]')].map((i) => +i.value).sort((a, b) => a - b));
      for (const id of filed) assert.ok(listed.includes(id), `${what}: report ${id} listed`);
      // What the map draws: the rendered points of its reports layer.
      const drawn = await page.evaluate(() => {
        const m = window.__staffmap.maps[0];
        return [...new Set(m.queryRenderedFeatures({ layers: ['reports'] }).map((f) => +f.properties.id))].sort((a, b) => a - b);
      });
      assert.deepEqual(drawn, listed, `${what}: the map draws exactly the listed reports`);
      // A click on a filed report's point opens that report.
      const target = filed[lang === 'kk' ? 0 : lang === 'ru' ? 1 : 2];
      // A click (a tap on a phone) on the point, at its place on the map's canvas.
      const at = await page.evaluate((id) => {
        const m = window.__staffmap.maps[0];
        const f = window.__staffmap.reports.find((p) => p.id === id);
        const p = m.project([f.lon, f.lat]);
        return { x: p.x, y: p.y, under: m.queryRenderedFeatures([p.x, p.y], { layers: ['reports'] }).map((g) => +g.properties.id) };
      }, target);
      assert.ok(at.under.includes(target), `${what}: report ${target} drawn at ${at.x}, ${at.y}: ${at.under}`);
      const canvas = page.locator('#reports-map canvas');
      const position = { x: at.x, y: at.y };
      await Promise.all([page.waitForURL(/\/staff\/reports\/\d+/),
        size.width < 500 ? canvas.tap({ position }) : canvas.click({ position })]);
      const opened = +new URL(page.url()).pathname.split('/').pop();
      assert.equal(opened, target, `${what}: the clicked report opens`);
      assert.match(await page.textContent('main'), /Map test report at/, `${what}: the report's detail`);
      await noSideScroll(page, `${what}: report ${opened}`);
    }
    await page.context().close();
  }
});
