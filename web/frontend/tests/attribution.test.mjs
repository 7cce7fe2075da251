// Browser test of the map's attribution in the chosen language: the demo data's attribution and
// the computed layers' ("Computed by the geoportal from the clinics layer"), English only in the
// layers catalog, read in Kazakh and Russian on kk and ru pages, at phone and desktop sizes.
// Run by scripts/browser-tests.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open } from './helpers.mjs';

const T = { timeout: 300000 };
const SIZES = { phone: { width: 375, height: 667 }, desktop: { width: 1366, height: 768 } };
const DEMO_EN = 'Demo data generated for the Aktobe geoportal';
const DEMO = {
  kk: 'Ақтөбе геопорталы үшін жасалған демо деректер',
  ru: 'Демонстрационные данные, созданные для геопортала Актобе',
  en: DEMO_EN,
};
// COMPUTED is the clinic areas' attribution (a layer computed from the clinics layer) in each language.
const COMPUTED_EN = 'Computed by the geoportal from the Clinics layer';
const COMPUTED = {
  kk: 'Геопортал «Емханалар» қабатынан есептеген',
  ru: 'Рассчитано геопорталом по слою «Поликлиники»',
  en: COMPUTED_EN,
};
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

for (const [name, size] of Object.entries(SIZES)) {
  for (const lang of ['kk', 'ru', 'en']) {
    test(`attribution in ${lang} at ${name} size`, T, async () => {
      const page = await open(browser, size, `#map=12.00/50.2839/57.1675&layers=clinics,clinic_areas&lang=${lang}`);
      try {
        const ctrl = page.locator('.maplibregl-ctrl-attrib-inner');
        await ctrl.waitFor({ state: 'attached' });
        const text = await ctrl.textContent();
        assert.ok(text.includes(DEMO[lang]), `${lang} attribution lacks "${DEMO[lang]}": ${text}`);
        assert.ok(text.includes(COMPUTED[lang]), `${lang} attribution lacks "${COMPUTED[lang]}": ${text}`);
        if (lang !== 'en') {
          assert.ok(!text.includes(DEMO_EN), `${lang} attribution shows the English demo sentence: ${text}`);
          assert.ok(!/Computed by/.test(text), `${lang} attribution shows the English computed-layer sentence: ${text}`);
        }
        assert.deepEqual(page.errors, []);
      } finally {
        await page.context().close();
      }
    });
  }
}
