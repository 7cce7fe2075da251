// Browser test of the staff workspace (issue #24, points 3 and 4): the navigation bar by role on
// every staff page, at 375×667 (folded behind Menu) and 1366×850, in kk, ru and en, with no page
// scrolling sideways; the outage Close button on screen; and the layer management page: a layer
// retitled, hidden and deleted after the confirmation naming it and its feature count.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, axe, BASE } from './helpers.mjs';

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
  for (const size of SIZES) {
    for (const lang of LANGS) {
      for (const [role, { sections }] of Object.entries(ROLES)) {
        const page = await signedIn(role, size, lang);
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
        await page.context().close();
      }
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

