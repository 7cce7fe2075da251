// The interface's words: one catalog (catalog.json) of dotted keys, each with its text in
// Kazakh, Russian and English (wording from the project's glossary), and t(), the one place
// that picks the current language and fills {name} placeholders. A fourth language is a fourth
// entry in every key of the catalog and its code in LANGS; tests/unit.test.mjs checks that
// every key has every language.
import catalog from './catalog.json' with { type: 'json' };
import { formatDistance as fmtDistance } from './format.js';

export const LANGS = ['kk', 'ru', 'en'];

/** LANG_NAMES are the languages' own names, shown on the language buttons. */
export const LANG_NAMES = { kk: 'Қазақша', ru: 'Русский', en: 'English' };

// BCP 47 tags of the languages. Numbers and dates are formatted by format.js (Chromium has no
// Kazakh locale data: Intl with kk-KZ writes English), not with these.
export const LOCALES = { kk: 'kk-KZ', ru: 'ru-RU', en: 'en-GB' };

// The formatter of numbers, distances and dates lives in format.js; these are re-exported for
// the modules that import them from here.
export { formatNumber } from './format.js';

export const CATALOG = catalog;

let current = 'ru';

/** setLanguage makes lang the language t() answers in (an unknown code is ignored). */
export function setLanguage(lang) {
  if (LANGS.includes(lang)) current = lang;
}

/** language is the current interface language. */
export function language() {
  return current;
}

/** has says whether key is in the catalog (for keys made from data values). */
export function has(key) {
  return Object.hasOwn(catalog, key);
}

const PLACEHOLDER = /\{(\w+)\}/g;

/**
 * t returns the catalog text of key in the current language, with each {name} placeholder
 * filled from params (a placeholder without a param stays as it is). An unknown key is
 * returned as it is, so a missing text shows up on the page instead of vanishing.
 *
 *	t('map.resultsCount', { n: 3 }) // "Найдено: 3"
 */
export function t(key, params) {
  const entry = catalog[key];
  if (!entry) return key;
  const s = entry[current] || entry.ru;
  if (!params) return s;
  return s.replace(PLACEHOLDER, (m, name) => (Object.hasOwn(params, name) ? String(params[name]) : m));
}

/** valueName names a data value (a legend entry) when the catalog knows it, else returns it as it is. */
export function valueName(v) {
  if (v === null || v === undefined) return t('value.other');
  return has(`value.${v}`) ? t(`value.${v}`) : String(v);
}

/** pick returns a text from the database ({kk, ru, en}, e.g. a layer title) in lang, falling back to the other languages. */
export function pick(titles, lang) {
  if (!titles) return '';
  return titles[lang] || titles.ru || titles.kk || titles.en || '';
}

/** formatDistance writes metres as "350 м" or "1,5 км" in the current language. */
export function formatDistance(m) {
  return fmtDistance(m, current);
}
