// Education: "find my school" by catchment (see mine.js), and in a school's popup the cameras
// within 300 m ("safe environment in schools", /api/modules/schools/{id}/cameras), drawn on the map.
import { h, clear } from '../dom.js';
import { formatNumber } from '../i18n.js';
import { mineExtension } from './mine.js';
import { tr, getJSON, overlay, formatMetres } from './modkit.js';

const RADIUS = 300;

const S = {
  title: { kk: 'Менің мектебім', ru: 'Моя школа', en: 'Find my school' },
  intro: {
    kk: 'Мекенжайыңызды енгізіңіз немесе картадан нүктені таңдаңыз: шағын учаскесі бойынша мектеп көрсетіледі.',
    ru: 'Введите адрес или выберите точку на карте: покажем школу вашего микроучастка.',
    en: 'Enter your address or pick a point on the map to see the school whose catchment you live in.',
  },
  answer: { kk: 'Сіздің мектебіңіз:', ru: 'Ваша школа:', en: 'Your school:' },
  safety: { kk: 'Мектептердегі қауіпсіз орта', ru: 'Безопасная среда в школах', en: 'Safe environment in schools' },
  cameras: { kk: '{r} радиустағы камералар: {n}', ru: 'Камер в радиусе {r}: {n}', en: 'Cameras within {r}: {n}' },
  split: { kk: 'орнатылған {i}, жоспарланған {p}', ru: 'установлено {i}, планируется {p}', en: '{i} installed, {p} planned' },
  nearest: { kk: 'Ең жақын орнатылған камера: {d}', ru: 'Ближайшая установленная камера: {d}', en: 'Nearest installed camera: {d}' },
  noCamera: { kk: 'Жақын маңда орнатылған камера жоқ', ru: 'Рядом нет установленных камер', en: 'No installed camera nearby' },
  loading: { kk: 'Камераларды санауда…', ru: 'Считаем камеры…', en: 'Counting cameras…' },
  failed: { kk: 'Жауап алу мүмкін болмады: {msg}', ru: 'Не удалось получить ответ: {msg}', en: 'Could not get an answer: {msg}' },
};

let drawCameras = null;

function schoolCameras(ctx, f) {
  const L = ctx.lang();
  if (!drawCameras) {
    drawCameras = overlay(ctx.map, 'mod-school-cameras', [
      { id: 'pt', type: 'circle', paint: {
        'circle-radius': 6, 'circle-stroke-color': '#1565c0', 'circle-stroke-width': 2.5,
        'circle-color': ['match', ['get', 'status'], 'installed', '#c62828', 'planned', '#ffb300', '#757575'],
      } },
    ]);
  }
  const box = h('div', { class: 'mod-popup', dataset: { module: 'school-safety' } },
    h('p', { class: 'mod-popup-head' }, tr(S, L, 'safety')), h('p', { class: 'mod-meta' }, tr(S, L, 'loading')));
  getJSON(`/api/modules/schools/${encodeURIComponent(f.id)}/cameras?radius=${RADIUS}`).then((r) => {
    const r2 = formatMetres(r.radius_m, L);
    clear(box).append(
      h('p', { class: 'mod-popup-head' }, tr(S, L, 'safety')),
      h('p', { dataset: { cameras: String(r.cameras.length) } }, tr(S, L, 'cameras', { r: r2, n: formatNumber(r.cameras.length, L) }),
        r.cameras.length ? ` (${tr(S, L, 'split', { i: r.cameras_installed, p: r.cameras_planned })})` : ''),
      h('p', { class: r.nearest_installed_camera_m == null ? 'mod-meta mod-bad' : 'mod-meta' },
        r.nearest_installed_camera_m == null ? tr(S, L, 'noCamera') : tr(S, L, 'nearest', { d: formatMetres(r.nearest_installed_camera_m, L) })));
    drawCameras({ type: 'FeatureCollection', features: r.cameras.map((c) => ({
      type: 'Feature', geometry: { type: 'Point', coordinates: [c.lon, c.lat] }, properties: { status: c.status },
    })) });
  }).catch((err) => {
    clear(box).append(h('p', { class: 'mod-meta' }, tr(S, L, 'failed', { msg: err.message })));
  });
  return box;
}

mineExtension({
  name: 'school',
  kind: 'school',
  api: '/api/modules/schools/mine',
  areas: 'school_catchments',
  facilities: 'schools',
  color: '#1565c0',
  strings: S,
  extra: (ctx, f) => (f.id === undefined || f.id === null ? null : schoolCameras(ctx, f)),
});
