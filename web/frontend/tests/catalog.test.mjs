// The front-end's one translation catalog (src/catalog.json) against the sources that use it:
// every key in every language, the same placeholders in each, every key the code names present,
// and no string table or placeholder filling anywhere but src/i18n.js. Pure node, no browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CATALOG, LANGS } from '../src/i18n.js';

const SRC = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');
const keys = Object.keys(CATALOG);
const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

function sources(dir = SRC) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.js') ? [{ name: path.relative(SRC, p), text: fs.readFileSync(p, 'utf8') }] : [];
  });
}

test('every catalog key has a text in kk, ru and en, and nothing else', () => {
  assert.ok(keys.length > 500, `${keys.length} keys`);
  const bad = [];
  for (const key of keys) {
    if (!/^[a-z][A-Za-z0-9_]*(\.[^.\s][^.]*)+$/.test(key)) bad.push(`${key}: not a dotted key`);
    const entry = CATALOG[key];
    for (const lang of LANGS) {
      const s = entry[lang];
      if (typeof s !== 'string' || s.trim() === '') bad.push(`${key}: no ${lang}`);
    }
    for (const lang of Object.keys(entry)) if (!LANGS.includes(lang)) bad.push(`${key}: ${lang} is not one of ${LANGS}`);
  }
  assert.deepEqual(bad, []);
});

test('every language of a key has the same {name} placeholders', () => {
  const bad = [];
  for (const key of keys) {
    const want = placeholders(CATALOG[key].ru).join(',');
    for (const lang of LANGS) {
      const got = placeholders(CATALOG[key][lang] || '').join(',');
      if (got !== want) bad.push(`${key}: ${lang} has {${got}}, ru has {${want}}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('every key the sources name is in the catalog', () => {
  const spaces = [...new Set(keys.map((k) => k.split('.')[0]))].join('|');
  // A whole key in quotes, wherever it stands: t('map.close'), notice('map.linkCopied'), a ternary's arms.
  const literal = new RegExp(`['"]((?:${spaces})\\.[A-Za-z0-9_.]+)['"]`, 'g');
  // A key made from a value: t(`report.status.${st}`) needs at least one key under that prefix.
  const made = new RegExp(`\`((?:${spaces})\\.[A-Za-z0-9_.]*)\\$\\{`, 'g');
  const missing = [];
  let named = 0;
  for (const { name, text } of sources()) {
    for (const m of text.matchAll(literal)) {
      named++;
      if (!Object.hasOwn(CATALOG, m[1])) missing.push(`${name}: ${m[1]}`);
    }
    for (const m of text.matchAll(made)) {
      named++;
      if (!keys.some((k) => k.startsWith(m[1]))) missing.push(`${name}: ${m[1]}…`);
    }
  }
  assert.ok(named > 400, `${named} keys named in the sources`);
  assert.deepEqual(missing, []);
});

test('t() is called with a key, never a language, and only i18n.js fills placeholders', () => {
  const bad = [];
  for (const { name, text } of sources()) {
    if (/\bt\(\s*(?:L|lang|L\(\)|state\.lang|ctx\.lang\(\))\s*,/.test(text)) bad.push(`${name}: t(lang, …)`);
    if (name === 'i18n.js') continue;
    if (/replaceAll\(`\{/.test(text) || /\{\\w\+\}/.test(text)) bad.push(`${name}: fills placeholders itself`);
    if (/\{\s*kk:\s*['"]/.test(text)) bad.push(`${name}: a {kk, ru, en} table of its own`);
  }
  assert.deepEqual(bad, []);
});
