// Browser test of the staff pages on a phone (issue #24, point 3): at 375×667 no page scrolls
// sideways (document scrollWidth ≤ innerWidth) and axe finds nothing, in kk, ru and en.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, axe, BASE } from './helpers.mjs';

const T = { timeout: 240000 };
const PHONE_SMALL = { width: 375, height: 667 };
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function signedIn(email, password, lang) {
  assert.ok(email && password, 'the staff users are created by scripts/browser-tests.sh');
  const context = await browser.newContext({ viewport: PHONE_SMALL, deviceScaleFactor: 1, hasTouch: true, isMobile: true });
  const page = await context.newPage();
  await page.goto(`${BASE}/login?lang=${lang}`);
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('form[action="/login"] button[type=submit]')]);
  return page;
}

async function fits(page, path, lang) {
  const resp = await page.goto(`${BASE}${path}?lang=${lang}`);
  assert.equal(resp.status(), 200, `${path} (${lang})`);
  const w = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, iw: innerWidth }));
  assert.ok(w.sw <= w.iw, `${path} (${lang}): no horizontal scroll, scrollWidth ${w.sw} > ${w.iw}`);
  const violations = await axe(page);
  assert.deepEqual(violations, [], `${path} (${lang}): ${JSON.stringify(violations, null, 1)}`);
}

test('phone 375×667: the staff pages and the public lighting audit do not scroll sideways, in kk, ru and en', T, async () => {
  for (const lang of ['kk', 'ru', 'en']) {
    const anon = await (await browser.newContext({ viewport: PHONE_SMALL, isMobile: true, hasTouch: true })).newPage();
    await fits(anon, '/lighting/audit', lang);
    await anon.context().close();
    const staff = await signedIn(process.env.GEOPORTAL_STAFF_EMAIL, process.env.GEOPORTAL_STAFF_PASSWORD, lang);
    await fits(staff, '/staff/reports', lang);
    await staff.context().close();
    const disp = await signedIn(process.env.GEOPORTAL_DISPATCH_EMAIL, process.env.GEOPORTAL_DISPATCH_PASSWORD, lang);
    await fits(disp, '/staff/modules', lang);
    await fits(disp, '/staff/dispatch', lang);
    await disp.context().close();
    const gis = await signedIn(process.env.GEOPORTAL_GIS_EMAIL, process.env.GEOPORTAL_GIS_PASSWORD, lang);
    await fits(gis, '/staff/import', lang);
    await gis.context().close();
    const admin = await signedIn(process.env.GEOPORTAL_ADMIN_EMAIL, process.env.GEOPORTAL_ADMIN_PASSWORD, lang);
    await fits(admin, '/admin', lang);
    await admin.context().close();
  }
});
