// The map's state in the address bar: #map=zoom/lat/lon&layers=a,b&lang=kk.
// Pure functions, so that a shared link always opens the same view.

const SLUG = /^[a-z][a-z0-9_]{0,47}$/;

/**
 * parse reads a location hash. Layers not in known are returned in unknown (for a notice);
 * anything malformed is left out, so a broken link still opens the map.
 */
export function parse(hash, known, langs) {
  const out = { center: null, zoom: null, layers: null, lang: null, unknown: [] };
  const params = new URLSearchParams(String(hash || '').replace(/^#/, ''));
  const map = params.get('map');
  if (map) {
    const [z, lat, lon] = map.split('/').map(Number);
    if (Number.isFinite(z) && Number.isFinite(lat) && Number.isFinite(lon) &&
        z >= 0 && z <= 22 && lat >= -85 && lat <= 85 && lon >= -180 && lon <= 180) {
      out.zoom = z;
      out.center = [lon, lat];
    }
  }
  if (params.has('layers')) {
    out.layers = [];
    for (const raw of params.get('layers').split(',')) {
      const slug = raw.trim();
      if (!slug) continue;
      if (SLUG.test(slug) && known.has(slug)) {
        if (!out.layers.includes(slug)) out.layers.push(slug);
      } else {
        out.unknown.push(slug.slice(0, 60));
      }
    }
  }
  const lang = params.get('lang');
  if (lang && langs.includes(lang)) out.lang = lang;
  return out;
}

/** format writes the state as a hash; numbers rounded to what the zoom can show. */
export function format({ center, zoom, layers, lang }) {
  const prec = Math.max(0, Math.ceil((zoom * Math.LN2 + Math.log(512 / 360 / 0.5)) / Math.LN10));
  const parts = [
    `map=${zoom.toFixed(2)}/${center[1].toFixed(prec)}/${center[0].toFixed(prec)}`,
    `layers=${layers.join(',')}`,
    `lang=${lang}`,
  ];
  return '#' + parts.join('&');
}
