// Extensions: the city's modules (live buses, outages, clinics, the yard contest, …) plug into the
// public map through this registry instead of editing main.js. Each one lives in src/ext/<name>.js,
// calls register() once and is imported from src/ext/index.js.
//
// An extension is an object with any of:
//   init(ctx)                 once, after the map's first complete render (map.loaded() is
//                             true; extensions are loaded lazily so they do not delay it);
//   panel(ctx) -> Node        a section shown in the side panel above the layer list;
//   popup(ctx, f, layer) -> Node|null
//                             extra content under a feature's popup (f.layer is the slug,
//                             f.properties its attributes); may fill itself in asynchronously;
//   mapClick(ctx, e) -> bool  a map click; return true when the extension used it (the popup
//                             then stays shut);
//   lang(ctx, lang)           the interface language changed: re-render texts;
//   layerVisible(ctx, slug, on)
//                             a catalog layer was switched on or off.
//   hash(ctx) -> {key: value}|null
//                             extra parameters of the extension's state kept in the map's link
//                             (read them back from location.hash in init); call
//                             ctx.updatePermalink() when they change.
//
// ctx: { map, lang() -> 'kk'|'ru'|'en', catalog() -> [layer], layer(slug), visible(slug) -> bool,
//        setLayerVisible(slug, on), notice(key, vars, opts), popupRefresh(), closePopup(),
//        updatePermalink(), source(slug) -> id of the map source holding that layer's tiles }.

const registered = [];

/**
 * whenStyleReady runs fn once the map accepts new sources and layers. Extensions start after the
 * map's 'load' event, which fires only once, so they must not wait for it; nor test map.loaded()
 * or map.isStyleLoaded(), which are false whenever tiles are loading. What addSource and addLayer
 * need is the style itself, loaded once at start (the page never replaces it).
 */
export function whenStyleReady(map, fn) {
  if (map.style && map.style._loaded) fn(); // MapLibre's own check in addSource/addLayer
  else map.once('style.load', fn);
}

export function register(ext) {
  if (!ext || typeof ext !== 'object') throw new Error('extensions.register: an object is required');
  registered.push(ext);
}

// safely runs one hook of one extension: a broken extension must not break the map.
function safely(ext, hook, fn) {
  try {
    return fn();
  } catch (err) {
    console.warn(`extension ${ext.name || '?'}: ${hook}:`, err);
    return undefined;
  }
}

export function initAll(ctx) {
  const sections = [];
  for (const ext of registered) {
    if (ext.init) safely(ext, 'init', () => ext.init(ctx));
    if (ext.panel) {
      const node = safely(ext, 'panel', () => ext.panel(ctx));
      if (node) sections.push(node);
    }
  }
  return sections;
}

export function popupExtras(ctx, f, layer) {
  const out = [];
  for (const ext of registered) {
    if (!ext.popup) continue;
    const node = safely(ext, 'popup', () => ext.popup(ctx, f, layer));
    if (node) out.push(node);
  }
  return out;
}

export function mapClick(ctx, e) {
  for (const ext of registered) {
    if (ext.mapClick && safely(ext, 'mapClick', () => ext.mapClick(ctx, e))) return true;
  }
  return false;
}

export function langChanged(ctx, lang) {
  for (const ext of registered) if (ext.lang) safely(ext, 'lang', () => ext.lang(ctx, lang));
}

export function layerVisibilityChanged(ctx, slug, on) {
  for (const ext of registered) if (ext.layerVisible) safely(ext, 'layerVisible', () => ext.layerVisible(ctx, slug, on));
}

/** hashParams returns the extensions' link parameters as '&key=value…' ('' when none). */
export function hashParams(ctx) {
  const params = new URLSearchParams();
  for (const ext of registered) {
    if (!ext.hash) continue;
    const kv = safely(ext, 'hash', () => ext.hash(ctx));
    if (kv) for (const [k, v] of Object.entries(kv)) if (v !== undefined && v !== null) params.set(k, String(v));
  }
  const s = params.toString();
  return s ? `&${s}` : '';
}
