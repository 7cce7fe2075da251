// Pure parts of the web map: the permalink and the translations (no browser needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, format } from '../src/permalink.js';
import { t, setLanguage, language, LANGS, formatDistance, valueName } from '../src/i18n.js';
import { buildStyle, compositeSlugs, BASE_SLUGS, MAX_TILE_LAYERS } from '../src/mapstyle.js';

const known = new Set(['streets', 'clinics', 'schools']);

test('permalink round trip', () => {
  const hash = format({ center: [57.1675, 50.2839], zoom: 14.5, layers: ['streets', 'clinics'], lang: 'kk' });
  assert.equal(hash, '#map=14.50/50.28390/57.16750&layers=streets,clinics&lang=kk');
  const p = parse(hash, known, LANGS);
  assert.deepEqual(p, { center: [57.1675, 50.2839], zoom: 14.5, layers: ['streets', 'clinics'], lang: 'kk', unknown: [] });
});

test('permalink: unknown and malformed layers are reported, not applied', () => {
  const p = parse('#layers=clinics,nope,<script>,clinics,,Streets', known, LANGS);
  assert.deepEqual(p.layers, ['clinics']);
  assert.deepEqual(p.unknown, ['nope', '<script>', 'Streets']);
});

test('permalink: bad map, language and empty input leave defaults', () => {
  for (const hash of ['', '#', '#map=abc', '#map=30/50/57', '#map=10/95/57', '#map=10/50/200', '#map=10/50', '#lang=de']) {
    const p = parse(hash, known, LANGS);
    assert.equal(p.center, null, hash);
    assert.equal(p.zoom, null, hash);
    assert.equal(p.lang, null, hash);
    assert.equal(p.layers, null, hash);
  }
  assert.deepEqual(parse('#layers=', known, LANGS).layers, [], 'an empty list turns every layer off');
});

test('t() answers in the current language and fills {name} placeholders', () => {
  setLanguage('kk');
  assert.equal(t('map.layers'), 'Қабаттар');
  setLanguage('ru');
  assert.equal(t('map.nearest'), 'Ближайшие ко мне');
  setLanguage('en');
  assert.equal(t('map.unknownLayers', { list: 'a, b' }), 'Unknown layers in the link were ignored: a, b');
  assert.equal(t('map.featureN', { i: '{n}', n: 3 }), '{n} of 3', 'a value is put in as it is, never filled again');
  assert.equal(t('map.featureN', { i: 1 }), '1 of {n}', 'a placeholder without a value stays');
  assert.equal(t('no.such.key'), 'no.such.key');
  setLanguage('de');
  assert.equal(language(), 'en', 'an unknown language is ignored');
});

test('distances read naturally', () => {
  setLanguage('en');
  assert.equal(formatDistance(347), '350 m');
  assert.equal(formatDistance(1540), '1.5 km');
  setLanguage('ru');
  assert.match(formatDistance(1540), /^1,5 км$/);
});

test('known data values are named in the chosen language, others shown as they are', () => {
  setLanguage('kk');
  assert.equal(valueName('installed'), 'орнатылған');
  setLanguage('ru');
  assert.equal(valueName('planned'), 'планируется');
  setLanguage('en');
  assert.equal(valueName(null), 'other');
  assert.equal(valueName('<b>x</b>'), '<b>x</b>');
});

test('a map opened with every layer on never asks for a tile of more layers than the server allows', () => {
  // Found by scripts/standards-tests.sh (standards/style.test.mjs): with all 27 demo layers on,
  // every composite tile was refused ("27 layers requested in one tile; at most 12 are allowed").
  const catalog = [...BASE_SLUGS, ...Array.from({ length: 26 }, (_, i) => `layer_${i}`)].map((slug, i) => ({
    slug, version: 1, direction: 1, sort_order: i, geometry_type: 'Point', live: slug === 'layer_3',
    style: { type: 'circle', paint: { 'circle-color': '#123456' } },
  }));
  const visible = new Set(catalog.map((l) => l.slug));
  const composite = compositeSlugs(catalog, visible);
  assert.equal(composite.size, MAX_TILE_LAYERS);
  for (const b of BASE_SLUGS) assert.ok(composite.has(b), `${b} is in the composite source`);
  assert.ok(!composite.has('layer_3'), 'a live layer keeps its own source');
  const style = buildStyle(catalog, visible, 'http://x', null);
  for (const l of catalog) {
    const layer = style.layers.find((s) => s.id === `lyr-${l.slug}`);
    assert.ok(layer, `a style layer for ${l.slug}`);
    const url = style.sources[layer.source].tiles[0];
    const slugs = url.match(/\/tiles\/([^/]+)\//)[1].split(',');
    assert.ok(slugs.includes(l.slug) && slugs.length <= MAX_TILE_LAYERS, `${l.slug}: ${url}`);
  }
});

test('planner CSV: formulas in names are defused, numbers stay numbers', async () => {
  const { csv } = await import('../src/planner/exports.js');
  const text = csv(['name', 'gain'], [['=HYPERLINK("http://evil.example")', -12.5], ['@SUM(A1)', '-3'], ['Школа', 4]]);
  assert.equal(text, `name,gain\r\n"'=HYPERLINK(""http://evil.example"")",-12.5\r\n'@SUM(A1),-3\r\nШкола,4\r\n`);
});
