// Downloads of the analyses' answers: GeoJSON as the API gave it, CSV with a header row.

/**
 * csv turns rows (arrays) into RFC 4180 text; values with commas, quotes or breaks are quoted. A
 * value a spreadsheet would read as a formula (starting with =, +, -, @, tab or carriage return)
 * gets a leading apostrophe unless it is a plain number: the rule of the server's CSV writer
 * (internal/csvsafe), so that a district or site name cannot run in the planner's spreadsheet.
 */
export function csv(header, rows) {
  const cell = (v) => {
    let t = v === null || v === undefined ? '' : String(v);
    if (/^[=+\-@\t\r]/.test(t) && !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) t = `'${t}`;
    return /[",\r\n]/.test(t) ? `"${t.replaceAll('"', '""')}"` : t;
  };
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

/** download offers text as a file named name. */
export function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// Every row says how its distances were measured (method: line or network) and how far.

export function districtsCSV(res) {
  return csv(['district_id', 'district', 'residents_total', 'residents_covered', 'covered_share', 'method', 'distance_m'],
    res.districts.map((d) => [d.id ?? '', d.name, d.residents_total, d.residents_covered, d.covered_share.toFixed(5), res.method, res.distance]));
}

/** sitesCSV: id is the candidate feature's id, else the candidate's ref (midpoints/17); name its name, else its address. */
export function sitesCSV(res) {
  return csv(['rank', 'id', 'name', 'address', 'lon', 'lat', 'gain', 'cumulative', 'cumulative_share', 'method', 'distance_m'],
    res.sites.map((p) => [p.rank, p.id ?? p.ref, p.name ?? '', p.address ?? '', p.lon, p.lat, p.gain, p.cumulative,
      p.cumulative_share.toFixed(5), res.method, res.distance]));
}

/** cameraFiguresCSV: the camera coverage's figures, by the city cameras and with private ones too. */
export function cameraFiguresCSV(res) {
  const w = res.with_private;
  const row = (k, city, priv) => [k, city, w ? priv : ''];
  return csv(['measure', 'city_cameras', 'with_private_cameras'], [
    row('cameras', res.cameras, res.cameras + (w?.private_cameras ?? 0)),
    row('street_length_m', res.street_length_m, res.street_length_m),
    row('seen_length_m', res.seen_length_m, w?.seen_length_m),
    row('seen_share', res.seen_share.toFixed(5), w?.seen_share.toFixed(5)),
    row('crossings_total', res.crossings_total, res.crossings_total),
    row('crossings_seen', res.crossings_seen, w?.crossings_seen),
    row('crossings_share', res.crossings_share.toFixed(5), w?.crossings_share.toFixed(5)),
  ]);
}

/** cameraStreetsGeoJSON: the streets the city cameras do not see (group unseen_by_city) and the
 * pieces of them the private cameras see (group seen_with_private), one collection. */
export function cameraStreetsGeoJSON(res) {
  const tag = (fc, group) => (fc?.features || []).map((f) => ({ ...f, properties: { ...f.properties, group } }));
  return { type: 'FeatureCollection', features: [...tag(res.unseen_streets, 'unseen_by_city'), ...tag(res.with_private?.streets, 'seen_with_private')],
    summary: { seen_share: res.seen_share, with_private_seen_share: res.with_private?.seen_share ?? null } };
}

/** sitingFiguresCSV: a camera siting's figures by the city cameras and with private ones too. */
export function sitingFiguresCSV(res) {
  const w = res.with_private;
  return csv(['measure', 'city_cameras', 'with_private_cameras'], [
    ['covered_before', w.city_covered_before, w.covered_before],
    ['share_before', w.city_share_before.toFixed(5), w.share_before.toFixed(5)],
    ['covered_after', w.city_covered_after, w.covered_after],
    ['share_after', w.city_share_after.toFixed(5), w.share_after.toFixed(5)],
    ['private_cameras', 0, w.private_cameras],
  ]);
}
