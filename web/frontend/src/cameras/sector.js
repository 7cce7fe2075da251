// Pure geometry of a camera's view sector on the sphere (degrees, metres), for the cameras' pages.
const R = 6371008.8;
const rad = (d) => (d * Math.PI) / 180;
const deg = (r) => (r * 180) / Math.PI;

/** offset is the point d metres from (lon, lat) towards bearing b (degrees clockwise from north). */
export function offset(lon, lat, b, d) {
  const f1 = rad(lat);
  const l1 = rad(lon);
  const a = d / R;
  const t = rad(b);
  const f2 = Math.asin(Math.sin(f1) * Math.cos(a) + Math.cos(f1) * Math.sin(a) * Math.cos(t));
  const l2 = l1 + Math.atan2(Math.sin(t) * Math.sin(a) * Math.cos(f1), Math.cos(a) - Math.sin(f1) * Math.sin(f2));
  return [deg(l2), deg(f2)];
}

/** bearing from the first point to the second, degrees clockwise from north, 0 to 360. */
export function bearing(lon1, lat1, lon2, lat2) {
  const f1 = rad(lat1);
  const f2 = rad(lat2);
  const dl = rad(lon2 - lon1);
  const y = Math.sin(dl) * Math.cos(f2);
  const x = Math.cos(f1) * Math.sin(f2) - Math.sin(f1) * Math.cos(f2) * Math.cos(dl);
  return (deg(Math.atan2(y, x)) + 360) % 360;
}

/** distance in metres (haversine). */
export function distance(lon1, lat1, lon2, lat2) {
  const df = rad(lat2 - lat1);
  const dl = rad(lon2 - lon1);
  const a = Math.sin(df / 2) ** 2 + Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * Math.sin(dl / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** angleBetween is the smaller angle between two bearings, 0 to 180. */
export function angleBetween(a, b) {
  const d = Math.abs((((a - b) % 360) + 360) % 360);
  return d > 180 ? 360 - d : d;
}

/** sector is the closed ring of a view sector: the camera, the arc of fov degrees around heading
 * at range metres, back to the camera; a 360° camera is a circle. */
export function sector(lon, lat, heading, fov, range) {
  const ring = [];
  if (fov >= 360) {
    for (let i = 0; i <= 72; i++) ring.push(offset(lon, lat, i * 5, range));
    return ring;
  }
  const n = Math.max(2, Math.ceil(fov / 5));
  ring.push([lon, lat]);
  for (let i = 0; i <= n; i++) ring.push(offset(lon, lat, heading - fov / 2 + (fov * i) / n, range));
  ring.push([lon, lat]);
  return ring;
}
