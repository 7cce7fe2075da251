// The map's icons, one per kind of place: a white pictogram on a round badge of the layer's colour,
// drawn on a 24×24 grid from SVG path data written for this project. The same paths draw the
// map's images (canvas Path2D, at the screen's pixel ratio, synchronously when MapLibre first asks
// for one: see addIconOnDemand) and the legend's inline SVG (iconSVG), so both always agree.

import { s } from './dom.js';

// A part of a pictogram: fill (white unless 'bg', the badge colour) or a stroke of width w.
const F = (d, fill = '#fff') => ({ d, fill });
const S = (d, w = 1.8, stroke = '#fff') => ({ d, stroke, w });

/** ICONS: the pictograms by name, each with its badge colour. */
export const ICONS = {
  camera: { color: '#c62828', parts: [F('M4 9h9.5a1 1 0 0 1 1 1v4.5a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V10a1 1 0 0 1 1-1z'), F('M15.5 11.2l5-2.7v7.5l-5-2.7z'), F('M6.2 12.2a1.3 1.3 0 1 0 2.6 0a1.3 1.3 0 1 0-2.6 0z', 'bg')] },
  crossing: { color: '#6a1b9a', parts: [F('M9 3.5h6a1 1 0 0 1 1 1v15a1 1 0 0 1-1 1H9a1 1 0 0 1-1-1v-15a1 1 0 0 1 1-1z'),
    F('M10.4 7a1.6 1.6 0 1 0 3.2 0a1.6 1.6 0 1 0-3.2 0zM10.4 12a1.6 1.6 0 1 0 3.2 0a1.6 1.6 0 1 0-3.2 0zM10.4 17a1.6 1.6 0 1 0 3.2 0a1.6 1.6 0 1 0-3.2 0z', 'bg')] },
  overpass: { color: '#00838f', parts: [S('M3.5 16.5h17'), S('M6 16.5V13a6 6 0 0 1 12 0v3.5'), S('M9 20l1-3.5M15 20l-1-3.5', 1.4)] },
  interchange: { color: '#37474f', parts: [S('M5 20c0-8 14-8 14-16', 2), S('M5 4c0 8 14 8 14 16', 2)] },
  ramp: { color: '#0277bd', parts: [F('M9.6 4.8a1.7 1.7 0 1 0 3.4 0a1.7 1.7 0 1 0-3.4 0z'), S('M11 8v6h5l2.2 4.5', 2), S('M11 10.5h4', 1.6), S('M8.3 11.2a4.6 4.6 0 1 0 6.2 6.3', 1.8)] },
  toilet: { color: '#795548', parts: [F('M7 4h4.5v6.5H18a6 6 0 0 1-4.8 5.9l.8 3.6H8.5l.8-3.8A6 6 0 0 1 6 11V5a1 1 0 0 1 1-1z')] },
  pitch: { color: '#00897b', parts: [S('M4 6.5h16v11H4z', 1.6), S('M12 6.5v11', 1.4), S('M9.8 12a2.2 2.2 0 1 0 4.4 0a2.2 2.2 0 1 0-4.4 0z', 1.4)] },
  playground: { color: '#ec407a', parts: [S('M4.5 20L8.5 4.5h7l4 15.5', 1.8), S('M12 4.5v9', 1.4), F('M9.8 13.5h4.4v1.8H9.8z')] },
  park: { color: '#2e7d32', parts: [F('M12 3a5.5 5.5 0 0 1 4.8 8.2A4.5 4.5 0 0 1 13 16H11a4.5 4.5 0 0 1-3.8-4.8A5.5 5.5 0 0 1 12 3z'), F('M11 14h2v7h-2z')] },
  stop: { color: '#2e7d32', parts: [F('M7 4h10a2 2 0 0 1 2 2v11H5V6a2 2 0 0 1 2-2z'), F('M6.8 6.5h10.4v4.5H6.8z', 'bg'),
    F('M7.5 17h3v2.5h-3zM13.5 17h3v2.5h-3z'), F('M7.2 13.2a1 1 0 1 0 2 0a1 1 0 1 0-2 0zM14.8 13.2a1 1 0 1 0 2 0a1 1 0 1 0-2 0z', 'bg')] },
  school: { color: '#1565c0', parts: [F('M3.5 6.2c3.2-1.2 6-.8 8.5 1 2.5-1.8 5.3-2.2 8.5-1v12c-3.2-1.2-6-.8-8.5 1-2.5-1.8-5.3-2.2-8.5-1z'), S('M12 7.5v11', 1.2, 'bg')] },
  clinic: { color: '#d81b60', parts: [F('M10 4.5h4v5.5h5.5v4H14v5.5h-4V14H4.5v-4H10z')] },
  pharmacy: { color: '#ad1457', parts: [F('M6.4 13.3l6.9-6.9a3.4 3.4 0 0 1 4.8 4.8l-6.9 6.9a3.4 3.4 0 0 1-4.8-4.8z'), S('M9.8 9.9l4.3 4.3', 1.4, 'bg')] },
  lamp: { color: '#f9a825', parts: [S('M9 20.5V8a3.5 3.5 0 0 1 3.5-3.5h3', 1.8), F('M14 3h6l-1.3 3.5h-3.4z'), S('M6.5 20.5h5', 1.8)] },
  waste: { color: '#558b2f', parts: [F('M7 8h10l-1.1 11.2a1 1 0 0 1-1 .8H9.1a1 1 0 0 1-1-.8z'), S('M5.5 6h13', 1.8), S('M10 4h4', 1.8), S('M10.5 10.5v7M13.5 10.5v7', 1.1, 'bg')] },
  cinema: { color: '#8e24aa', parts: [F('M4.5 10h15v9.5h-15z'), F('M4.3 5.8l14.3-2.6.6 3.3-14.3 2.6z'), S('M8 5.4l1.6 2.6M12.2 4.6l1.6 2.6', 1.2, 'bg')] },
  leisure: { color: '#8e24aa', parts: [F('M12 3.5l2.5 5.2 5.6.7-4.1 3.9 1 5.6L12 16.2l-5 2.7 1-5.6-4.1-3.9 5.6-.7z')] },
  yard: { color: '#ef6c00', parts: [F('M12 4l8 6.5V20h-5.5v-5h-5v5H4v-9.5z')] },
  // Search results only (the base map draws streets and buildings without icons).
  street: { color: '#6d6a62', parts: [S('M8 20.5L10 3.5M16 20.5L14 3.5', 1.8), S('M12 5v2.5M12 10.5v3M12 16.5v3', 1.6)] },
  house: { color: '#8d6e63', parts: [F('M12 4l8 7h-2.5v8.5h-11V11H4z'), F('M10 14h4v5.5h-4z', 'bg')] },
};

/**
 * LAYER_ICONS: the icon of each catalog layer, or a match on one of its attributes (the first
 * entry of the array is the attribute, then value → icon pairs, then the icon of any other value).
 */
export const LAYER_ICONS = {
  cameras: 'camera',
  smart_crossings: 'crossing',
  overpasses: 'overpass',
  interchanges: 'interchange',
  ramps: 'ramp',
  biotoilets: 'toilet',
  sports_grounds: 'pitch',
  playgrounds: 'playground',
  parks: 'park',
  bus_stops: 'stop',
  schools: 'school',
  clinics: 'clinic',
  pharmacies: 'pharmacy',
  street_lights: 'lamp',
  waste_sites: 'waste',
  leisure_places: ['kind', 'summer_cinema', 'cinema', 'leisure'],
  yards: 'yard',
};

/** iconNames lists the icons a layer may draw (its legend shows each). */
export function iconNames(slug) {
  const v = LAYER_ICONS[slug];
  if (!v) return [];
  if (typeof v === 'string') return [v];
  return [...new Set(v.slice(1).filter((_, i, a) => i % 2 === 1 || i === a.length - 1))];
}

/** iconExpr is the MapLibre icon-image of a layer: its icon, or a match on an attribute. */
export function iconExpr(slug) {
  const v = LAYER_ICONS[slug];
  if (!v) return null;
  if (typeof v === 'string') return `icon-${v}`;
  const [attr, ...rest] = v;
  const out = ['match', ['get', attr]];
  for (let i = 0; i + 1 < rest.length; i += 2) out.push(rest[i], `icon-${rest[i + 1]}`);
  out.push(`icon-${rest[rest.length - 1]}`);
  return out;
}

// Size of a badge in CSS pixels: legible on a phone, small enough for a dense street.
export const ICON_SIZE = 22;

/** drawIcon renders an icon as RGBA pixels at pixelRatio (for map.addImage). */
export function drawIcon(name, pixelRatio) {
  const icon = ICONS[name];
  const px = Math.round(ICON_SIZE * pixelRatio);
  const canvas = document.createElement('canvas');
  canvas.width = px;
  canvas.height = px;
  const ctx = canvas.getContext('2d');
  ctx.scale(px / 24, px / 24);
  ctx.beginPath();
  ctx.arc(12, 12, 11, 0, Math.PI * 2);
  ctx.fillStyle = icon.color;
  ctx.fill();
  ctx.lineWidth = 1.4;
  ctx.strokeStyle = '#ffffff';
  ctx.stroke();
  // The pictogram is drawn a little smaller than the grid so that it sits inside the badge.
  ctx.translate(12, 12);
  ctx.scale(0.72, 0.72);
  ctx.translate(-12, -12);
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  for (const p of icon.parts) {
    const path = new Path2D(p.d);
    if (p.fill) {
      ctx.fillStyle = p.fill === 'bg' ? icon.color : p.fill;
      ctx.fill(path);
    } else {
      ctx.strokeStyle = p.stroke === 'bg' ? icon.color : p.stroke;
      ctx.lineWidth = p.w;
      ctx.stroke(path);
    }
  }
  return { width: px, height: px, data: new Uint8Array(ctx.getImageData(0, 0, px, px).data.buffer) };
}

/**
 * addIconOnDemand gives the map each icon when it first needs one: MapLibre asks its missing-image
 * resolver while it lays out the symbols of a tile and uses what the resolver added. No icon is
 * drawn before a tile needs it, so icons never hold up the first tiles. (Images of others, such as
 * the live layer's, are left to their styleimagemissing listeners.)
 */
export function addIconOnDemand(map) {
  map.setMissingStyleImageResolver((id) => {
    const name = String(id).replace(/^icon-/, '');
    if (!String(id).startsWith('icon-') || !ICONS[name] || map.hasImage(id)) return;
    const ratio = Math.min(Math.max(window.devicePixelRatio || 1, 1), 4);
    map.addImage(id, drawIcon(name, ratio), { pixelRatio: ratio });
  });
}

/** iconSVG draws an icon as inline SVG for the legend and popups. */
export function iconSVG(name, size = 22) {
  const icon = ICONS[name];
  return s('svg', { width: size, height: size, viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false', class: 'swatch icon', dataset: { icon: name } },
    s('circle', { cx: 12, cy: 12, r: 11, fill: icon.color, stroke: '#ffffff', 'stroke-width': 1.4 }),
    s('g', { transform: 'translate(12 12) scale(0.72) translate(-12 -12)', 'stroke-linecap': 'round', 'stroke-linejoin': 'round' },
      icon.parts.map((p) => (p.fill
        ? s('path', { d: p.d, fill: p.fill === 'bg' ? icon.color : p.fill })
        : s('path', { d: p.d, fill: 'none', stroke: p.stroke === 'bg' ? icon.color : p.stroke, 'stroke-width': p.w })))));
}
