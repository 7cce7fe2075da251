// Education: "find my school" by catchment (see mine.js), and in a school's popup the cameras
// within 300 m ("safe environment in schools", /api/modules/schools/{id}/cameras), drawn on the map.
import { h, clear } from '../dom.js';
import { formatNumber, t } from '../i18n.js';
import { mineExtension } from './mine.js';
import { getJSON, overlay, formatMetres } from './modkit.js';

const RADIUS = 300;

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
    h('p', { class: 'mod-popup-head' }, t('school.safety')), h('p', { class: 'mod-meta' }, t('school.loading')));
  getJSON(`/api/modules/schools/${encodeURIComponent(f.id)}/cameras?radius=${RADIUS}`).then((r) => {
    const r2 = formatMetres(r.radius_m, L);
    clear(box).append(
      h('p', { class: 'mod-popup-head' }, t('school.safety')),
      h('p', { dataset: { cameras: String(r.cameras.length) } }, t('school.cameras', { r: r2, n: formatNumber(r.cameras.length, L) }),
        r.cameras.length ? ` (${t('school.split', { i: r.cameras_installed, p: r.cameras_planned })})` : ''),
      h('p', { class: r.nearest_installed_camera_m == null ? 'mod-meta mod-bad' : 'mod-meta' },
        r.nearest_installed_camera_m == null ? t('school.noCamera') : t('school.nearest', { d: formatMetres(r.nearest_installed_camera_m, L) })));
    drawCameras({ type: 'FeatureCollection', features: r.cameras.map((c) => ({
      type: 'Feature', geometry: { type: 'Point', coordinates: [c.lon, c.lat] }, properties: { status: c.status },
    })) });
  }).catch((err) => {
    clear(box).append(h('p', { class: 'mod-meta' }, t('school.failed', { msg: err.message })));
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
  extra: (ctx, f) => (f.id === undefined || f.id === null ? null : schoolCameras(ctx, f)),
});
