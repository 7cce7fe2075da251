// The web map's one formatter (src/format.js), without a browser: Kazakh numbers and dates are
// written by the formatter itself, so they read the same in node and in Chromium (which has no
// Kazakh locale data); the browser side is tests/locale.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatNumber, formatPercent, formatYear, formatArea, formatDate, formatTime, formatWeekdayTime, plural, setTimeZone, timeZone, cityDay } from '../src/format.js';
import { setLanguage } from '../src/i18n.js';

const NB = '\u00a0';

test('numbers: space grouping and decimal comma in kk and ru, commas and a point in en', () => {
  assert.equal(formatNumber(4080, 'kk'), `4${NB}080`);
  assert.equal(formatNumber(336.44, 'kk', { maximumFractionDigits: 1 }), '336,4');
  assert.equal(formatNumber(542154, 'ru'), `542${NB}154`);
  assert.equal(formatNumber(4080, 'en'), '4,080');
  assert.equal(formatNumber(336.44, 'en', { maximumFractionDigits: 1 }), '336.4');
  assert.equal(formatPercent(0.701, 'kk'), `70,1${NB}%`);
  assert.equal(formatPercent(0.701, 'en'), '70.1%');
  assert.equal(formatYear(2026), '2026');
  setLanguage('kk');
  assert.equal(formatArea(850, 'kk'), '850 м²');
  assert.equal(formatArea(32000, 'kk'), '3,2 га');
  assert.equal(formatArea(1.4e6, 'kk'), '1,4 км²');
  setLanguage('en');
  assert.equal(formatArea(1.4e6, 'en'), '1.4 km²');
});

test('plurals: three Russian forms, two English, one Kazakh', () => {
  const ru = { one: 'камера', few: 'камеры', many: 'камер' };
  assert.deepEqual([1, 2, 5, 11, 21, 22, 112].map((n) => plural(n, 'ru', ru)), ['камера', 'камеры', 'камер', 'камер', 'камера', 'камеры', 'камер']);
  assert.deepEqual([1, 2].map((n) => plural(n, 'en', { one: 'camera', other: 'cameras' })), ['camera', 'cameras']);
  assert.equal(plural(2, 'kk', { other: 'камера' }), 'камера');
});

test('dates on the city\'s clock with Kazakh month names', () => {
  setTimeZone('Asia/Aqtobe');
  assert.equal(timeZone(), 'Asia/Aqtobe');
  setTimeZone('Nowhere/Atlantis'); // unknown: kept as it was
  assert.equal(timeZone(), 'Asia/Aqtobe');
  const at = '2026-12-06T20:50:00Z'; // 01:50 on 7 December in Aktobe
  assert.equal(formatDate(at, 'kk'), '7 желтоқсан 2026 ж.');
  assert.equal(formatDate(at, 'kk', { time: true }), '7 желтоқсан 2026 ж., 01:50');
  assert.match(formatDate(at, 'ru', { time: true }), /^7 дек\.? 2026( г\.)?,? 01:50$/);
  assert.match(formatDate(at, 'en'), /^7 Dec 2026$/);
  assert.equal(formatTime(at, 'kk'), '01:50');
  assert.equal(formatWeekdayTime(at, 'kk'), 'дс 01:50');
  assert.equal(cityDay(at), '2026-12-07');
  assert.equal(formatDate('not a date', 'kk'), 'not a date');
});
