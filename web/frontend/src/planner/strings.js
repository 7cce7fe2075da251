// The planner page's number formats; its words are planner.* in the catalog (../catalog.json),
// read through the one t() of ../i18n.js.
import { has, t } from '../i18n.js';
import { formatNumber, formatPercent } from '../format.js';

export { LANGS, LANG_NAMES, LOCALES, pick, setLanguage, t } from '../i18n.js';

/** measureName names a summary number of a comparison (planner.measure.*), an unknown one as it is. */
export function measureName(key) {
  return has(`planner.measure.${key}`) ? t(`planner.measure.${key}`) : key;
}

// num and pct are format.js's formatNumber and formatPercent.
export function num(n, lang, opts) {
  return formatNumber(n, lang, opts);
}

export function pct(share, lang, digits = 1) {
  return formatPercent(share, lang, digits);
}

export function metres(m, lang) {
  return t('map.metres', { n: num(Math.round(m), lang) });
}
