// Every string of the interface in Kazakh, Russian and English (wording from shared/GLOSSARY.md).

export const LANGS = ['kk', 'ru', 'en'];

export const LANG_NAMES = { kk: 'Қазақша', ru: 'Русский', en: 'English' };

// BCP 47 tags for number and date formatting.
export const LOCALES = { kk: 'kk-KZ', ru: 'ru-RU', en: 'en-GB' };

const strings = {
  appTitle: { kk: 'Ақтөбе', ru: 'Актобе', en: 'Aktobe' },
  appSubtitle: { kk: 'Қала картасы', ru: 'Карта города', en: 'City map' },
  documentTitle: { kk: 'Ақтөбе қаласының картасы', ru: 'Карта города Актобе', en: 'Aktobe city map' },
  programme: { kk: '«Smart City: Ақтөбе-2040»', ru: '«Smart City: Актобе-2040»', en: '“Smart City: Aktobe-2040”' },
  language: { kk: 'Тіл', ru: 'Язык', en: 'Language' },
  map: { kk: 'Карта', ru: 'Карта', en: 'Map' },
  mapLabel: { kk: 'Ақтөбе қаласының картасы', ru: 'Карта города Актобе', en: 'Map of Aktobe' },
  layers: { kk: 'Қабаттар', ru: 'Слои', en: 'Layers' },
  legend: { kk: 'Шартты белгілер', ru: 'Легенда', en: 'Legend' },
  showLayers: { kk: 'Қабаттар мен іздеу', ru: 'Слои и поиск', en: 'Layers and search' },
  hidePanel: { kk: 'Картаға оралу', ru: 'Вернуться к карте', en: 'Back to the map' },
  search: { kk: 'Іздеу', ru: 'Поиск', en: 'Search' },
  searchLabel: { kk: 'Атауы немесе мекенжайы бойынша іздеу', ru: 'Поиск по названию или адресу', en: 'Search by name or address' },
  searchPlaceholder: { kk: 'Мекенжай, мектеп, емхана…', ru: 'Адрес, школа, поликлиника…', en: 'Address, school, clinic…' },
  searching: { kk: 'Іздеуде…', ru: 'Ищем…', en: 'Searching…' },
  noResults: { kk: 'Ештеңе табылмады', ru: 'Ничего не найдено', en: 'Nothing found' },
  results: { kk: 'Нәтижелер', ru: 'Результаты', en: 'Results' },
  resultsCount: { kk: 'Табылды: {n}', ru: 'Найдено: {n}', en: '{n} found' },
  clearSearch: { kk: 'Іздеуді тазарту', ru: 'Очистить поиск', en: 'Clear search' },
  nearest: { kk: 'Маған ең жақын', ru: 'Ближайшие ко мне', en: 'Nearest to me' },
  nearestWhat: { kk: 'Не іздейміз', ru: 'Что ищем', en: 'What to find' },
  myLocation: { kk: 'Менің орным', ru: 'Моё местоположение', en: 'My location' },
  pickOnMap: { kk: 'Картадан нүкте', ru: 'Точка на карте', en: 'Point on the map' },
  pickHint: { kk: 'Картадан нүктені басыңыз', ru: 'Нажмите на карту, чтобы выбрать точку', en: 'Click the map to choose a point' },
  locating: { kk: 'Орныңызды анықтап жатырмыз…', ru: 'Определяем местоположение…', en: 'Finding your location…' },
  geolocationFailed: {
    kk: 'Орныңызды анықтау мүмкін болмады. Картадан нүкте таңдаңыз.',
    ru: 'Не удалось определить местоположение. Выберите точку на карте.',
    en: 'Your location could not be found. Choose a point on the map instead.',
  },
  from: { kk: 'Бастапқы нүкте', ru: 'Исходная точка', en: 'Starting point' },
  metres: { kk: '{n} м', ru: '{n} м', en: '{n} m' },
  kilometres: { kk: '{n} км', ru: '{n} км', en: '{n} km' },
  unknownLayers: {
    kk: 'Сілтемедегі белгісіз қабаттар еленбеді: {list}',
    ru: 'Неизвестные слои в ссылке пропущены: {list}',
    en: 'Unknown layers in the link were ignored: {list}',
  },
  close: { kk: 'Жабу', ru: 'Закрыть', en: 'Close' },
  yes: { kk: 'Иә', ru: 'Да', en: 'Yes' },
  no: { kk: 'Жоқ', ru: 'Нет', en: 'No' },
  zoomInToSee: { kk: 'Көру үшін жақындатыңыз', ru: 'Приблизьте, чтобы увидеть', en: 'Zoom in to see' },
  live: { kk: 'онлайн', ru: 'онлайн', en: 'live' },
  featureCount: { kk: '{n} нысан', ru: 'объектов: {n}', en: '{n} features' },
  basemapUnavailable: {
    kk: 'Сыртқы негізгі карта қолжетімсіз — қала қабаттары көрсетілген.',
    ru: 'Внешняя подложка недоступна — показаны слои города.',
    en: 'The external basemap is unavailable — showing the city layers only.',
  },
  loadError: {
    kk: 'Деректерді жүктеу мүмкін болмады. Қайталап көріңіз.',
    ru: 'Не удалось загрузить данные. Попробуйте ещё раз.',
    en: 'Could not load the data. Please try again.',
  },
  copyLink: { kk: 'Сілтемені көшіру', ru: 'Копировать ссылку', en: 'Copy link' },
  morePages: { kk: 'Басқа беттер', ru: 'Другие страницы', en: 'More pages' },
  plannerPage: { kk: 'Жоспарлаушыларға: қамту талдауы', ru: 'Планировщикам: анализ охвата', en: 'For planners: coverage analysis' },
  reportStats: { kk: 'Өтініштер статистикасы', ru: 'Статистика обращений', en: 'Report statistics' },
  lightingAudit: { kk: 'Көше жарығының энергоаудиті', ru: 'Энергоаудит уличного освещения', en: 'Street-lighting energy audit' },
  staffSignIn: { kk: 'Қызметкерлердің кіруі', ru: 'Вход для сотрудников', en: 'Staff sign-in' },
  linkCopied: { kk: 'Сілтеме көшірілді', ru: 'Ссылка скопирована', en: 'Link copied' },
  noData: { kk: '—', ru: '—', en: '—' },
  featureN: { kk: '{i} / {n}', ru: '{i} из {n}', en: '{i} of {n}' },
  next: { kk: 'Келесі', ru: 'Следующий', en: 'Next' },
  previous: { kk: 'Алдыңғы', ru: 'Предыдущий', en: 'Previous' },
};

// Values that the catalog's styles colour by (legend entries), in the three languages.
const values = {
  installed: { kk: 'орнатылған', ru: 'установлена', en: 'installed' },
  planned: { kk: 'жоспарланған', ru: 'планируется', en: 'planned' },
  heating: { kk: 'жылу', ru: 'теплосеть', en: 'heating' },
  water: { kk: 'су', ru: 'водопровод', en: 'water' },
  sewer: { kk: 'кәріз', ru: 'канализация', en: 'sewer' },
  power: { kk: 'электр', ru: 'электросеть', en: 'power' },
  gas: { kk: 'газ', ru: 'газопровод', en: 'gas' },
  new: { kk: 'жаңа', ru: 'новое', en: 'new' },
  in_progress: { kk: 'орындалуда', ru: 'в работе', en: 'in progress' },
  resolved: { kk: 'шешілді', ru: 'решено', en: 'resolved' },
  rejected: { kk: 'қабылданбады', ru: 'отклонено', en: 'rejected' },
};

const other = { kk: 'басқа', ru: 'прочее', en: 'other' };

/** valueName names a data value in lang when it is a known one, else returns it as it is. */
export function valueName(v, lang) {
  if (v === null || v === undefined) return other[lang];
  return values[String(v)]?.[lang] ?? String(v);
}

/** t returns the interface string key in lang, with {name} placeholders filled from vars. */
export function t(lang, key, vars) {
  const entry = strings[key];
  if (!entry) return key;
  let s = entry[lang] ?? entry.ru;
  if (vars) {
    for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  }
  return s;
}

/** pick returns a catalog text ({kk, ru, en}) in lang, falling back to the other languages. */
export function pick(titles, lang) {
  if (!titles) return '';
  return titles[lang] || titles.ru || titles.kk || titles.en || '';
}

export function formatNumber(n, lang, opts) {
  return new Intl.NumberFormat(LOCALES[lang], opts).format(n);
}

export function formatDistance(m, lang) {
  if (m < 1000) return t(lang, 'metres', { n: formatNumber(Math.round(m / 10) * 10, lang) });
  return t(lang, 'kilometres', { n: formatNumber(m / 1000, lang, { maximumFractionDigits: 1 }) });
}

export const STRING_KEYS = Object.keys(strings);
export const STRINGS = strings;
