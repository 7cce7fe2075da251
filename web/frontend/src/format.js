// The browser's one formatter of numbers, shares, distances, areas, plurals, years, dates and
// times in kk, ru and en. Every page of the web map and the planner formats through it, so that
// Kazakh reads as Kazakh everywhere: space between thousands, decimal comma, Kazakh month names,
// times on the city's clock.
//
// Chromium ships without Kazakh locale data (Intl answers kk-KZ in English: "4,080.5",
// "2026 M12 7"), so Kazakh numbers are written with Russian rules (the same in both languages:
// "4 080,5", "70,1 %") and Kazakh dates are put together here with the month names below.
import { t } from './i18n.js';

// numberLocale is the BCP 47 tag numbers of lang are formatted with: Russian rules for Kazakh.
const numberLocale = (lang) => (lang === 'en' ? 'en-GB' : 'ru-RU');

/** KK_MONTHS are the months in Kazakh, January first. */
export const KK_MONTHS = ['қаңтар', 'ақпан', 'наурыз', 'сәуір', 'мамыр', 'маусым', 'шілде', 'тамыз', 'қыркүйек', 'қазан', 'қараша', 'желтоқсан'];
const KK_WEEKDAYS = ['жексенбі', 'дүйсенбі', 'сейсенбі', 'сәрсенбі', 'бейсенбі', 'жұма', 'сенбі'];
const KK_WEEKDAYS_SHORT = ['жс', 'дс', 'сс', 'ср', 'бс', 'жм', 'сб'];

// The city's time zone (IANA name), from /api/config (city.time_zone): setTimeZone. Until it is
// known, times are shown on the browser's clock.
let cityZone;

/** setTimeZone makes tz (an IANA name, e.g. from /api/config) the zone dates and times are shown in. */
export function setTimeZone(tz) {
  if (!tz) return;
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: tz });
    cityZone = tz;
  } catch { /* an unknown zone: keep the one there is */ }
}

/** timeZone is the city's time zone, undefined until /api/config told it. */
export function timeZone() {
  return cityZone;
}

/** formatNumber writes n in lang ("4 080,5" in kk and ru, "4,080.5" in en); opts as Intl.NumberFormat's. */
export function formatNumber(n, lang, opts) {
  return new Intl.NumberFormat(numberLocale(lang), opts).format(n);
}

/** formatPercent writes a share (0.701) as a percentage with digits decimals: "70,1 %" (kk, ru), "70.1%" (en). */
export function formatPercent(share, lang, digits = 1) {
  return formatNumber(share, lang, { style: 'percent', maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** formatYear writes a year without separators: "2026". */
export function formatYear(y) {
  return String(Math.trunc(Number(y)));
}

/** formatDistance writes metres as "350 м" or "1,5 км" in lang. */
export function formatDistance(m, lang) {
  if (m < 1000) return t('map.metres', { n: formatNumber(Math.round(m / 10) * 10, lang) });
  return t('map.kilometres', { n: formatNumber(m / 1000, lang, { maximumFractionDigits: 1 }) });
}

/** formatArea writes square metres as "850 м²", "3,2 га" or "1,4 км²" in lang. */
export function formatArea(m2, lang) {
  if (m2 < 10000) return t('unit.m2', { n: formatNumber(Math.round(m2), lang) });
  if (m2 < 1e6) return t('unit.ha', { n: formatNumber(m2 / 1e4, lang, { maximumFractionDigits: 1 }) });
  return t('unit.km2', { n: formatNumber(m2 / 1e6, lang, { maximumFractionDigits: 1 }) });
}

/**
 * plural picks the form of forms ({one, few, many, other}) that n takes in lang: Russian has
 * three (1 камера, 2 камеры, 5 камер), English two; Kazakh nouns do not change after a number.
 */
export function plural(n, lang, forms) {
  const rule = lang === 'kk' ? 'other' : new Intl.PluralRules(lang === 'en' ? 'en' : 'ru').select(n);
  return forms[rule] ?? forms.other ?? forms.many ?? '';
}

// parts are the date's fields on the city's clock (numbers), read with an English formatter
// that every Chromium has.
function parts(d) {
  const p = {};
  for (const x of new Intl.DateTimeFormat('en-GB', {
    timeZone: cityZone, year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit',
    second: '2-digit', hourCycle: 'h23', weekday: 'short',
  }).formatToParts(d)) p[x.type] = x.value;
  const wd = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(p.weekday);
  return { year: p.year, month: Number(p.month), day: Number(p.day), hour: p.hour, minute: p.minute, second: p.second, weekday: wd };
}

function toDate(v) {
  const d = v instanceof Date ? v : new Date(typeof v === 'number' && v < 1e11 ? v * 1000 : v);
  return Number.isNaN(d.getTime()) ? null : d;
}

/**
 * formatDate writes a date (a Date, an ISO string or Unix seconds/milliseconds) on the city's
 * clock: "7 желтоқсан 2026 ж." / "7 дек. 2026 г." / "7 Dec 2026"; with opts.time the time of day
 * follows ("…, 01:50"), with opts.seconds its seconds too. An unreadable date is returned as it is.
 */
export function formatDate(v, lang, opts = {}) {
  const d = toDate(v);
  if (!d) return String(v ?? '');
  if (lang === 'kk') {
    const p = parts(d);
    let s = `${p.day} ${KK_MONTHS[p.month - 1]} ${p.year} ж.`;
    if (opts.time) s += `, ${p.hour}:${p.minute}${opts.seconds ? `:${p.second}` : ''}`;
    return s;
  }
  const o = { timeZone: cityZone, dateStyle: 'medium' };
  if (opts.time) o.timeStyle = opts.seconds ? 'medium' : 'short';
  return new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'ru-RU', o).format(d);
}

/** formatTime writes the time of day on the city's clock: "01:50" (opts.seconds: "01:50:07"). */
export function formatTime(v, lang, opts = {}) {
  const d = toDate(v);
  if (!d) return String(v ?? '');
  const p = parts(d);
  return `${p.hour}:${p.minute}${opts.seconds ? `:${p.second}` : ''}`;
}

/** formatWeekdayTime writes the day of the week and the time on the city's clock: "дс 07:30", "пн 07:30", "Mon 07:30". */
export function formatWeekdayTime(v, lang) {
  const d = toDate(v);
  if (!d) return String(v ?? '');
  if (lang === 'kk') {
    const p = parts(d);
    return `${KK_WEEKDAYS_SHORT[p.weekday]} ${p.hour}:${p.minute}`;
  }
  return new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'ru-RU', { timeZone: cityZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
}

/** weekdayName is the day of the week of d on the city's clock in lang, in full. */
export function weekdayName(v, lang) {
  const d = toDate(v);
  if (!d) return '';
  if (lang === 'kk') return KK_WEEKDAYS[parts(d).weekday];
  return new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'ru-RU', { timeZone: cityZone, weekday: 'long' }).format(d);
}

/** cityDay is the calendar day of d on the city's clock, "2026-12-07", for comparing days. */
export function cityDay(v) {
  const d = toDate(v);
  if (!d) return '';
  const p = parts(d);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}
