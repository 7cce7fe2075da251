// Browser tests of the map's labels and icons (labels.js, icons.js; glyphs from package glyphs):
// street and place names are drawn in each language at phone and desktop size, every letter of a
// drawn Kazakh name is in the glyph ranges our server sends, icons show on the map and in the legend.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, waitIdle, axe, api, shot, PHONE, DESKTOP, BASE } from './helpers.mjs';

const T = { timeout: 240000 };
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const FALLBACK = { kk: ['name_kk', 'name_ru', 'name'], ru: ['name_ru', 'name', 'name_kk'], en: ['name_en', 'name', 'name_ru'] };
const labelOf = (props, lang) => FALLBACK[lang].map((k) => props[k]).find((v) => v != null) ?? '';

/** A feature of a layer through OGC API Features, with the centre of its geometry's box. */
async function feature(slug, cql) {
  const q = new URLSearchParams({ limit: '1', ...(cql ? { filter: cql } : {}) });
  const fc = await api(`/ogc/collections/${slug}/items?${q}`);
  assert.equal(fc.features.length, 1, `${slug}: a feature ${cql || ''}`);
  const f = fc.features[0];
  const pts = JSON.stringify(f.geometry.coordinates).match(/-?\d+\.\d+,-?\d+\.\d+/g).map((p) => p.split(',').map(Number));
  const lon = pts.map((p) => p[0]);
  const lat = pts.map((p) => p[1]);
  f.centre = [(Math.min(...lon) + Math.max(...lon)) / 2, (Math.min(...lat) + Math.max(...lat)) / 2];
  return f;
}

/** rendered lists the features MapLibre placed on the screen for the given style layers. */
const rendered = (page, layers) => page.evaluate((ids) => {
  const m = window.__geoportal.map;
  return m.queryRenderedFeatures({ layers: ids.filter((id) => m.getLayer(id)) })
    .map((f) => ({ layer: f.layer.id, id: f.id, props: f.properties }));
}, layers);

/** setLabels hides every label and icon layer, or shows again those that were shown, then waits for the map to redraw. */
async function setLabels(page, on) {
  await page.evaluate((show) => {
    const m = window.__geoportal.map;
    window.__labelsShown ??= m.getStyle().layers.filter((l) => l.id.startsWith('lbl-') && l.layout?.visibility !== 'none').map((l) => l.id);
    for (const id of window.__labelsShown) m.setLayoutProperty(id, 'visibility', show ? 'visible' : 'none');
  }, on);
  await page.evaluate(() => new Promise((r) => { window.__geoportal.map.once('idle', r); window.__geoportal.map.triggerRepaint(); }));
  await waitIdle(page);
}

/**
 * pixelDiff compares two screenshots (PNG) of the same size in a blank page: how many pixels
 * differ, and how many are much darker in the first (the strokes of dark text on the pale map).
 */
async function pixelDiff(a, b) {
  const page = await browser.newPage();
  try {
    return await page.evaluate(async ([x, y]) => {
      const load = (b64) => new Promise((res, rej) => { const i = new Image(); i.onload = () => res(i); i.onerror = rej; i.src = `data:image/png;base64,${b64}`; });
      const [ia, ib] = await Promise.all([load(x), load(y)]);
      const px = (img) => {
        const c = document.createElement('canvas');
        c.width = img.width; c.height = img.height;
        const g = c.getContext('2d');
        g.drawImage(img, 0, 0);
        return g.getImageData(0, 0, img.width, img.height).data;
      };
      const pa = px(ia);
      const pb = px(ib);
      let diff = 0; let darker = 0;
      const lum = (p, i) => 0.3 * p[i] + 0.59 * p[i + 1] + 0.11 * p[i + 2];
      for (let i = 0; i < pa.length; i += 4) {
        if (Math.abs(pa[i] - pb[i]) + Math.abs(pa[i + 1] - pb[i + 1]) + Math.abs(pa[i + 2] - pb[i + 2]) > 30) diff++;
        if (lum(pb, i) - lum(pa, i) > 60) darker++;
      }
      return { diff, darker, total: pa.length / 4 };
    }, [a.toString('base64'), b.toString('base64')]);
  } finally {
    await page.close();
  }
}

/** glyphIDs reads the glyph ids a served glyph range lists (a glyphs protobuf message). */
function glyphIDs(buf) {
  const ids = new Set();
  const varint = (b, o) => { let v = 0; let s = 0; let c; do { c = b[o++]; v += (c & 0x7f) * 2 ** s; s += 7; } while (c & 0x80); return [v, o]; };
  const each = (b, fn) => {
    let o = 0;
    while (o < b.length) {
      let tag; [tag, o] = varint(b, o);
      const num = Math.floor(tag / 8); const type = tag & 7;
      if (type === 0) { let v; [v, o] = varint(b, o); fn(num, v); } else if (type === 2) { let n; [n, o] = varint(b, o); fn(num, b.subarray(o, o + n)); o += n; } else throw new Error(`wire type ${type}`);
    }
  };
  each(buf, (n, stack) => { if (n === 1) each(stack, (m, g) => { if (m === 3) each(g, (k, v) => { if (k === 1) ids.add(v); }); }); });
  return ids;
}

const fontRequests = (page) => {
  const seen = [];
  page.on('response', (r) => { if (r.url().includes('/fonts/')) seen.push({ url: r.url(), status: r.status() }); });
  return seen;
};

for (const [size, sizeName] of [[PHONE, 'phone'], [DESKTOP, 'desktop']]) {
  for (const lang of ['kk', 'ru', 'en']) {
    test(`${sizeName}, ${lang}: street names and place names with icons are drawn (rendered features and pixels); axe clean`, T, async () => {
      const clinic = await feature('clinics');
      const page = await open(browser, size, `#map=16.5/${clinic.centre[1]}/${clinic.centre[0]}&layers=city_boundary,districts,streets,buildings,clinics,schools,parks,bus_stops&lang=${lang}`, {
        before: (p) => { p.fonts = fontRequests(p); },
      });
      const streets = await rendered(page, ['lbl-streets']);
      assert.ok(streets.length > 0, 'street names are placed');
      for (const s of streets) assert.ok(s.props.name, `a placed street label has a name: ${JSON.stringify(s.props)}`);
      const places = await rendered(page, ['lbl-clinics', 'lbl-schools', 'lbl-parks', 'lbl-bus_stops']);
      assert.ok(places.some((p) => p.layer === 'lbl-clinics' && p.id === clinic.id), `the clinic ${clinic.id} is drawn with its icon: ${places.map((p) => p.layer + ':' + p.id)}`);
      // The clinic's label is in the chosen language, else the next one (here: its only name).
      const c = places.find((p) => p.id === clinic.id && p.layer === 'lbl-clinics');
      const textField = await page.evaluate(() => window.__geoportal.map.getLayoutProperty('lbl-clinics', 'text-field'));
      assert.ok(JSON.stringify(textField).includes(`name_${lang}`), `text-field follows ${lang}: ${JSON.stringify(textField)}`);
      assert.equal(labelOf(c.props, lang), clinic.properties.name);
      assert.ok(await page.evaluate(() => window.__geoportal.map.hasImage('icon-clinic')), 'the clinic icon was added');
      // Pixels: the same view with the labels switched off differs, by dark text pixels.
      const on = await page.screenshot();
      await setLabels(page, false);
      const off = await page.screenshot();
      await setLabels(page, true);
      const d = await pixelDiff(on, off);
      assert.ok(d.diff > d.total * 0.003, `labels change the picture: ${JSON.stringify(d)}`);
      assert.ok(d.darker > 300, `labels add dark text pixels: ${JSON.stringify(d)}`);
      // Glyphs came from our server, every one.
      assert.ok(page.fonts.length > 0, 'glyph ranges were fetched');
      for (const f of page.fonts) {
        assert.ok(f.url.startsWith(`${BASE}/fonts/`), f.url);
        assert.equal(f.status, 200, f.url);
      }
      // The legend shows the same icons (on a phone in the panel, closed until asked for).
      if (sizeName === 'desktop') assert.ok(await page.locator('.layer-item[data-slug="clinics"] label svg[data-icon="clinic"]').isVisible());
      assert.equal(await page.locator('.layer-item[data-slug="clinics"] label svg[data-icon="clinic"]').count(), 1, 'clinics legend icon');
      assert.equal(await page.locator('.layer-item[data-slug="schools"] label svg[data-icon="school"]').count(), 1, 'schools legend icon');
      const violations = await axe(page);
      assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
      assert.deepEqual(page.errors, []);
      await shot(page, `labels-${sizeName}-${lang}.png`);
      await page.context().close();
    });
  }
}

test('district names at low zoom and house numbers from z17', T, async () => {
  const page = await open(browser, DESKTOP, '#map=11.5/50.28/57.17&lang=ru');
  const districts = await rendered(page, ['lbl-districts']);
  assert.ok(districts.length > 0, 'district names are placed at z11.5');
  assert.ok(districts.some((d) => /район/.test(labelOf(d.props, 'ru'))), JSON.stringify(districts.map((d) => d.props)));
  // Once each, from the server's one point per district (not once per tile the polygon reaches),
  // and inside its district's polygon.
  for (const zoom of [9.5, 11.5, 12.5]) {
    await page.evaluate((z) => window.__geoportal.map.jumpTo({ zoom: z }), zoom);
    await waitIdle(page);
    const names = (await rendered(page, ['lbl-districts'])).map((d) => labelOf(d.props, 'ru'));
    assert.equal(new Set(names).size, names.length, `z${zoom}: a district named twice: ${names}`);
  }
  const areas = await api('/api/labels/areas?layers=districts');
  assert.ok(areas.features.length >= 2 && areas.features.every((f) => f.geometry.type === 'Point' && f.properties.layer === 'districts'), JSON.stringify(areas).slice(0, 300));
  await page.evaluate(() => window.__geoportal.map.jumpTo({ zoom: 11.5 }));
  await waitIdle(page);
  assert.equal((await rendered(page, ['lbl-buildings'])).length, 0, 'no house numbers at z11.5');
  const b = await feature('buildings', "address LIKE '%, %'");
  await page.evaluate((c) => window.__geoportal.map.jumpTo({ center: c, zoom: 17.5 }), b.centre);
  await waitIdle(page);
  const numbers = await rendered(page, ['lbl-buildings']);
  assert.ok(numbers.length > 0, 'house numbers are placed at z17.5');
  // Each placed one is the number after the street in the address ("ул. Абая, 12" → 12).
  for (const n of numbers) {
    const after = String(n.props.address || '').split(', ')[1] || '';
    assert.match(after.replace(/^д\. /, ''), /^\d+/, `house number of ${n.props.address}`);
  }
  await page.context().close();
});

test('kk: Kazakh names with ә, ө, ү, қ, ғ, ң, ұ, і are drawn and every letter is in the served glyph ranges', T, async () => {
  const park = await feature('parks', "name LIKE 'Ә%'");
  const yard = await feature('yards', "name LIKE '%ү%'");
  const seen = new Set();
  const labels = [];
  const page = await open(browser, DESKTOP, `#map=15.5/${park.centre[1]}/${park.centre[0]}&layers=city_boundary,districts,streets,buildings,parks,yards,clinics,schools&lang=kk`, {
    before: (p) => { p.fonts = fontRequests(p); },
  });
  const collect = async () => {
    for (const f of await rendered(page, await page.evaluate(() => window.__geoportal.map.getStyle().layers.map((l) => l.id).filter((id) => id.startsWith('lbl-'))))) {
      if (f.layer === 'lbl-buildings') continue; // numbers
      const t = labelOf(f.props, 'kk');
      if (t) { labels.push(t); for (const ch of t) seen.add(ch.codePointAt(0)); }
    }
  };
  await collect();
  assert.ok(labels.includes(park.properties.name), `the park "${park.properties.name}" is drawn: ${labels.slice(0, 20)}`);
  await page.evaluate((c) => window.__geoportal.map.jumpTo({ center: c, zoom: 16 }), yard.centre);
  await waitIdle(page);
  await collect();
  assert.ok(labels.includes(yard.properties.name), `the yard "${yard.properties.name}" is drawn`);
  // The city's name at low zoom.
  await page.evaluate(() => window.__geoportal.map.jumpTo({ zoom: 8.5 }));
  await waitIdle(page);
  await collect();
  assert.ok(labels.includes('Ақтөбе'), `the city's name is drawn at z8.5: ${labels.slice(-5)}`);
  for (const ch of 'әөүқғңұі') {
    assert.ok(seen.has(ch.codePointAt(0)) || seen.has(ch.toUpperCase().codePointAt(0)), `a drawn label has ${ch} or ${ch.toUpperCase()}`);
  }
  // Every code point of every drawn label is in the range our server sent for it.
  const ranges = new Map();
  for (const cp of seen) {
    const start = Math.floor(cp / 256) * 256;
    for (const stack of ['DejaVu Sans Book', 'DejaVu Sans Bold']) {
      const key = `${stack}/${start}`;
      if (!ranges.has(key)) {
        const res = await fetch(`${BASE}/fonts/${encodeURIComponent(stack)}/${start}-${start + 255}.pbf`);
        assert.equal(res.status, 200, key);
        ranges.set(key, glyphIDs(new Uint8Array(await res.arrayBuffer())));
      }
      assert.ok(ranges.get(key).has(cp), `${stack}: U+${cp.toString(16).toUpperCase().padStart(4, '0')} (${String.fromCodePoint(cp)}) is in range ${start}-${start + 255}`);
    }
  }
  for (const f of page.fonts) assert.equal(f.status, 200, f.url);
  assert.ok(page.fonts.some((f) => /\/1024-1279\.pbf$/.test(f.url)), 'the Cyrillic range was fetched');
  assert.deepEqual(page.errors, []);
  await shot(page, 'labels-kk-city.png');
  await page.context().close();
});
