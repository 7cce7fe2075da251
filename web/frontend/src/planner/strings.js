// The planner page's words in Kazakh, Russian and English (terms from shared/GLOSSARY.md).

export const LANGS = ['kk', 'ru', 'en'];
export const LANG_NAMES = { kk: 'Қазақша', ru: 'Русский', en: 'English' };
export const LOCALES = { kk: 'kk-KZ', ru: 'ru-RU', en: 'en-GB' };

const S = {
  title: { kk: 'Қамтуды талдау', ru: 'Анализ охвата', en: 'Coverage analysis' },
  documentTitle: { kk: 'Ақтөбе — қамтуды талдау', ru: 'Актобе — анализ охвата', en: 'Aktobe — coverage analysis' },
  subtitle: { kk: 'Жоспарлаушыларға', ru: 'Для планировщиков', en: 'For planners' },
  language: { kk: 'Тіл', ru: 'Язык', en: 'Language' },
  backToMap: { kk: 'Картаға', ru: 'К карте', en: 'To the map' },
  signIn: { kk: 'Кіру', ru: 'Войти', en: 'Sign in' },
  signedInAs: { kk: 'Кірген: {name}', ru: 'Вы вошли: {name}', en: 'Signed in: {name}' },
  mapLabel: { kk: 'Қызмет көрсетілмейтін тұрғындар картасы', ru: 'Карта необслуживаемых жителей', en: 'Map of unserved residents' },

  coverage: { kk: 'Кім қамтылған?', ru: 'Кто обслужен?', en: 'Who is served?' },
  coverageHint: {
    kk: 'Нысандардан берілген қашықтықта тұратын тұрғындардың үлесі.',
    ru: 'Доля жителей, живущих не дальше заданного расстояния от объектов.',
    en: 'The share of residents living within a distance of the facilities.',
  },
  layer: { kk: 'Қабат', ru: 'Слой', en: 'Layer' },
  method: { kk: 'Қашықтық', ru: 'Расстояние', en: 'Distance measured' },
  methodLine: { kk: 'түзу сызық бойынша', ru: 'по прямой', en: 'in a straight line' },
  methodNetwork: { kk: 'көшелер бойымен жаяу', ru: 'пешком по улицам', en: 'walking along streets' },
  distance: { kk: 'Қашықтық, м', ru: 'Расстояние, м', en: 'Distance, m' },
  resolution: { kk: 'Алтыбұрыштар (H3)', ru: 'Шестиугольники (H3)', en: 'Hexagons (H3)' },
  res9: { kk: '9 — шамамен 0,1 км²', ru: '9 — около 0,1 км²', en: '9 — about 0.1 km²' },
  res10: { kk: '10 — шамамен 0,015 км²', ru: '10 — около 0,015 км²', en: '10 — about 0.015 km²' },
  run: { kk: 'Есептеу', ru: 'Рассчитать', en: 'Calculate' },
  cancel: { kk: 'Тоқтату', ru: 'Отменить', en: 'Cancel' },
  canceled: { kk: 'Есептеу тоқтатылды.', ru: 'Расчёт отменён.', en: 'The analysis was cancelled.' },
  progress: { kk: 'Орындалуы', ru: 'Ход расчёта', en: 'Progress' },
  failed: { kk: 'Есептеу мүмкін болмады: {msg}', ru: 'Не удалось рассчитать: {msg}', en: 'The analysis failed: {msg}' },
  networkError: { kk: 'Серверге қосылу мүмкін болмады.', ru: 'Не удалось связаться с сервером.', en: 'Could not reach the server.' },

  stage_layers: { kk: 'қабат оқылуда', ru: 'чтение слоя', en: 'reading the layer' },
  stage_residents: { kk: 'тұрғындар жүктелуде', ru: 'загрузка жителей', en: 'loading residents' },
  stage_streets: { kk: 'көше желісі жүктелуде', ru: 'загрузка улиц', en: 'loading the streets' },
  stage_snapping: { kk: 'үйлер көшелерге байланыстырылуда', ru: 'привязка домов к улицам', en: 'placing buildings on streets' },
  stage_distances: { kk: 'қашықтықтар өлшенуде', ru: 'измерение расстояний', en: 'measuring distances' },
  stage_candidates: { kk: 'орындар бағалануда', ru: 'оценка мест', en: 'assessing candidate sites' },
  stage_greedy: { kk: 'орындар таңдалуда', ru: 'выбор мест', en: 'choosing sites' },
  stage_summary: { kk: 'қорытынды', ru: 'итоги', en: 'summing up' },

  sharecovered: { kk: 'Қамтылған тұрғындар', ru: 'Обслуженные жители', en: 'Residents served' },
  residentsOf: { kk: '{total} тұрғынның {covered}', ru: '{covered} из {total} жителей', en: '{covered} of {total} residents' },
  unserved: { kk: 'Қамтылмағандар: {n}', ru: 'Без обслуживания: {n}', en: 'Not served: {n}' },
  facilitiesN: { kk: 'Нысандар: {n}', ru: 'Объектов: {n}', en: 'Facilities: {n}' },
  byDistrict: { kk: 'Аудандар бойынша', ru: 'По районам', en: 'By district' },
  district: { kk: 'Аудан', ru: 'Район', en: 'District' },
  residents: { kk: 'Тұрғындар', ru: 'Жители', en: 'Residents' },
  covered: { kk: 'Қамтылған', ru: 'Обслужены', en: 'Served' },
  share: { kk: 'Үлес', ru: 'Доля', en: 'Share' },
  outside: { kk: 'Аудандардан тыс', ru: 'Вне районов', en: 'Outside districts' },
  curveTitle: { kk: 'Қамту мен қашықтық', ru: 'Охват и расстояние', en: 'Coverage by distance' },
  curveDesc: {
    kk: '{d1}-ден {d2}-ге дейін қамту {s1}-ден {s2}-ге дейін өседі.',
    ru: 'Охват растёт с {s1} при {d1} до {s2} при {d2}.',
    en: 'Coverage rises from {s1} at {d1} to {s2} at {d2}.',
  },
  legendTitle: { kk: 'Қамтылмаған тұрғындар (алтыбұрышқа)', ru: 'Жители без обслуживания (на шестиугольник)', en: 'Unserved residents per hexagon' },
  showData: { kk: 'Деректер кестесі', ru: 'Таблица данных', en: 'Data table' },

  siting: { kk: 'Келесі орындар қайда?', ru: 'Где разместить новые?', en: 'Where should the next sites go?' },
  sitingHint: {
    kk: 'Бар нысандар орнында қалады; жаңалары ең көп тұрғынды қамтиды.',
    ru: 'Существующие объекты остаются; новые выбираются так, чтобы охватить больше всего жителей.',
    en: 'Existing facilities stay; the new ones are chosen to serve the most residents not yet served.',
  },
  candidates: { kk: 'Үміткер орындар', ru: 'Возможные места', en: 'Candidate sites' },
  candIntersections: { kk: 'көше қиылыстары', ru: 'перекрёстки улиц', en: 'street crossings' },
  candMidpoints: { kk: 'көшелердің ортасы', ru: 'середины улиц', en: 'street midpoints' },
  candLayer: { kk: 'қабат: {name}', ru: 'слой: {name}', en: 'layer: {name}' },
  howMany: { kk: 'Неше орын', ru: 'Сколько мест', en: 'How many sites' },
  choose: { kk: 'Орындарды таңдау', ru: 'Подобрать места', en: 'Choose sites' },
  shareBeforeAfter: { kk: 'Қамту: {a} → {b}', ru: 'Охват: {a} → {b}', en: 'Coverage: {a} → {b}' },
  bound: {
    kk: 'Кепілдік: ең жақсы шешімнің кемінде {g}; деректер бойынша кемінде {c}.',
    ru: 'Гарантия: не меньше {g} лучшего возможного; по данным — не меньше {c}.',
    en: 'Guaranteed at least {g} of the best possible choice; by the data, at least {c}.',
  },
  exhausted: { kk: 'Басқа орын ештеңе қоспайды: {n} орын табылды.', ru: 'Больше ничего не добавить: найдено мест — {n}.', en: 'No further site adds anything: {n} sites found.' },
  rank: { kk: '№', ru: '№', en: '#' },
  gain: { kk: 'Қосады', ru: 'Прирост', en: 'Adds' },
  cumulative: { kk: 'Жиыны', ru: 'Итого', en: 'Total' },
  place: { kk: 'Орны', ru: 'Место', en: 'Location' },
  gainTitle: { kk: 'Әр жаңа орынның үлесі', ru: 'Прирост от каждого нового места', en: 'Gain from each added site' },
  gainDesc: {
    kk: '{n} орын: бірінші {g1} қосады, соңғысы {gn}; қамту {s}.',
    ru: '{n} мест: первое добавляет {g1}, последнее {gn}; охват {s}.',
    en: '{n} sites: the first adds {g1}, the last {gn}; coverage reaches {s}.',
  },
  sitesLegend: { kk: 'Ұсынылған орындар', ru: 'Предложенные места', en: 'Proposed sites' },
  unitResidents: { kk: 'тұрғын', ru: 'жителей', en: 'residents' },
  unitMetres: { kk: 'м көше', ru: 'м улиц', en: 'm of street' },

  export: { kk: 'Жүктеп алу', ru: 'Скачать', en: 'Download' },
  exportGeoJSON: { kk: 'GeoJSON', ru: 'GeoJSON', en: 'GeoJSON' },
  exportCSV: { kk: 'CSV', ru: 'CSV', en: 'CSV' },
  exportHexes: { kk: 'Алтыбұрыштар, GeoJSON', ru: 'Шестиугольники, GeoJSON', en: 'Hexagons, GeoJSON' },
  exportDistricts: { kk: 'Аудандар, CSV', ru: 'Районы, CSV', en: 'Districts, CSV' },
  exportSites: { kk: 'Орындар, GeoJSON', ru: 'Места, GeoJSON', en: 'Sites, GeoJSON' },
  exportSitesCSV: { kk: 'Орындар, CSV', ru: 'Места, CSV', en: 'Sites, CSV' },

  scenarios: { kk: 'Сценарийлер', ru: 'Сценарии', en: 'Scenarios' },
  scenariosNeedPlanner: {
    kk: 'Сценарийлерді сақтау және салыстыру жоспарлаушыларға қолжетімді.',
    ru: 'Сохранять и сравнивать сценарии могут планировщики.',
    en: 'Planners can save and compare scenarios.',
  },
  scenarioName: { kk: 'Сценарий атауы', ru: 'Название сценария', en: 'Scenario name' },
  saveCoverage: { kk: 'Қамтуды сақтау', ru: 'Сохранить охват', en: 'Save the coverage' },
  saveSiting: { kk: 'Орындарды сақтау', ru: 'Сохранить размещение', en: 'Save the siting' },
  saved: { kk: '«{name}» сақталды.', ru: 'Сценарий «{name}» сохранён.', en: 'Saved “{name}”.' },
  needName: { kk: 'Сценарийге атау беріңіз.', ru: 'Дайте сценарию название.', en: 'Give the scenario a name.' },
  runFirst: { kk: 'Алдымен есептеңіз.', ru: 'Сначала выполните расчёт.', en: 'Run the analysis first.' },
  compareA: { kk: 'Сценарий A', ru: 'Сценарий A', en: 'Scenario A' },
  compareB: { kk: 'Сценарий B', ru: 'Сценарий B', en: 'Scenario B' },
  compare: { kk: 'Салыстыру', ru: 'Сравнить', en: 'Compare' },
  noScenarios: { kk: 'Әзірге сақталған сценарий жоқ.', ru: 'Сохранённых сценариев пока нет.', en: 'No saved scenarios yet.' },
  measure: { kk: 'Көрсеткіш', ru: 'Показатель', en: 'Measure' },
  difference: { kk: 'Айырма (B − A)', ru: 'Разница (B − A)', en: 'Difference (B − A)' },
  kind_coverage: { kk: 'қамту', ru: 'охват', en: 'coverage' },
  kind_siting: { kk: 'орналастыру', ru: 'размещение', en: 'siting' },
  kind_cameras: { kk: 'камералар', ru: 'камеры', en: 'cameras' },
  kind_access: { kk: 'қолжетімділік', ru: 'доступность', en: 'access' },
};

// Names of the summary numbers a comparison shows.
const MEASURES = {
  layer: { kk: 'Қабат', ru: 'Слой', en: 'Layer' },
  filter: { kk: 'Сүзгі', ru: 'Фильтр', en: 'Filter' },
  method: { kk: 'Әдіс', ru: 'Метод', en: 'Method' },
  distance: { kk: 'Қашықтық, м', ru: 'Расстояние, м', en: 'Distance, m' },
  res: { kk: 'H3 деңгейі', ru: 'Уровень H3', en: 'H3 resolution' },
  facilities: { kk: 'Нысандар', ru: 'Объекты', en: 'Facilities' },
  residents_total: { kk: 'Тұрғындар', ru: 'Жители', en: 'Residents' },
  residents_covered: { kk: 'Қамтылған тұрғындар', ru: 'Обслуженные жители', en: 'Residents served' },
  covered_share: { kk: 'Қамту үлесі', ru: 'Доля охвата', en: 'Share served' },
  candidates: { kk: 'Үміткерлер', ru: 'Кандидаты', en: 'Candidates' },
  n: { kk: 'Орындар', ru: 'Мест', en: 'Sites' },
  demand: { kk: 'Сұраныс', ru: 'Спрос', en: 'Demand' },
  unit: { kk: 'Өлшем', ru: 'Единица', en: 'Unit' },
  candidates_count: { kk: 'Үміткерлер саны', ru: 'Число кандидатов', en: 'Candidate count' },
  existing: { kk: 'Бар нысандар', ru: 'Существующие объекты', en: 'Existing facilities' },
  demand_total: { kk: 'Барлық сұраныс', ru: 'Весь спрос', en: 'Total demand' },
  covered_before: { kk: 'Бұрын қамтылған', ru: 'Охвачено до', en: 'Served before' },
  covered_after: { kk: 'Кейін қамтылған', ru: 'Охвачено после', en: 'Served after' },
  share_before: { kk: 'Үлес бұрын', ru: 'Доля до', en: 'Share before' },
  share_after: { kk: 'Үлес кейін', ru: 'Доля после', en: 'Share after' },
};

/** t returns the string key in lang, with {name} placeholders filled from vars. */
export function t(lang, key, vars) {
  const e = S[key];
  let s = e ? (e[lang] ?? e.ru) : key;
  for (const [k, v] of Object.entries(vars || {})) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

export function measureName(key, lang) {
  return MEASURES[key]?.[lang] ?? key;
}

export function pick(titles, lang) {
  if (!titles) return '';
  return titles[lang] || titles.ru || titles.kk || titles.en || '';
}

export function num(n, lang, opts) {
  return new Intl.NumberFormat(LOCALES[lang], opts).format(n);
}

export function pct(share, lang, digits = 1) {
  return new Intl.NumberFormat(LOCALES[lang], { style: 'percent', maximumFractionDigits: digits, minimumFractionDigits: digits }).format(share);
}

export function metres(m, lang) {
  return `${num(Math.round(m), lang)} ${lang === 'en' ? 'm' : 'м'}`;
}

export const STRINGS = S;
