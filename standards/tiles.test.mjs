// Vector tiles as other people's code reads them: every TileJSON of /tiles validated (ajv) against
// the TileJSON 3.0.0 specification's published JSON Schema, then a tile of each layer decoded by
// @mapbox/vector-tile: its layers are the TileJSON's vector_layers, every feature has the
// geometry type of its layer, decodable geometry inside the tile (plus buffer) and only the
// fields (with the types) that the TileJSON declares.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader as Pbf } from 'pbf';

const version = (p) => JSON.parse(readFileSync(new URL(`./node_modules/${p}/package.json`, import.meta.url))).version;
const BASE = (process.env.GEOPORTAL_BASE || '').replace(/\/$/, '');
if (!BASE) throw new Error('GEOPORTAL_BASE is not set: run scripts/standards-tests.sh');
console.log('@mapbox/vector-tile', version('@mapbox/vector-tile'),
  'pbf', version('pbf'), 'ajv', version('ajv'));
const schema = JSON.parse(readFileSync(new URL('../testdata/tilejson/3.0.0.schema.json', import.meta.url)));
const ajv = new Ajv({ strict: false, allErrors: true });
const validTileJSON = ajv.compile(schema);

async function json(url) {
  const res = await fetch(url);
  assert.equal(res.status, 200, `${url}: ${res.status}`);
  return res.json();
}

function tileOf(lon, lat, z) {
  const n = 2 ** z;
  const x = Math.floor(((lon + 180) / 360) * n);
  const y = Math.floor(((1 - Math.asinh(Math.tan((lat * Math.PI) / 180)) / Math.PI) / 2) * n);
  return { z, x, y };
}

// MVT geometry types: 1 point, 2 line string, 3 polygon (multi-geometries are the same types).
const family = { Point: 1, MultiPoint: 1, LineString: 2, MultiLineString: 2, Polygon: 3, MultiPolygon: 3 };
const fieldType = { String: 'string', Number: 'number', Boolean: 'boolean' };

async function checkTile(tj, { z, x, y }, types) {
  const url = tj.tiles[0].replace('{z}', z).replace('{x}', x).replace('{y}', y);
  const res = await fetch(url);
  assert.equal(res.status, 200, `${url}: ${res.status}`);
  assert.equal(res.headers.get('content-type'), 'application/vnd.mapbox-vector-tile', url);
  const tile = new VectorTile(new Pbf(new Uint8Array(await res.arrayBuffer())));
  const declared = new Map(tj.vector_layers.map((l) => [l.id, l]));
  let features = 0;
  for (const [name, layer] of Object.entries(tile.layers)) {
    const vl = declared.get(name);
    assert.ok(vl, `${url}: layer ${name} is not among the TileJSON's vector_layers`);
    assert.equal(layer.version, 2, `${url}: layer ${name} is MVT version ${layer.version}`);
    for (let i = 0; i < layer.length; i++) {
      const f = layer.feature(i);
      const where = `${url}: ${name} feature ${i} (id ${f.id})`;
      assert.equal(f.type, types[name], `${where}: geometry type ${f.type}, the layer's is ${types[name]}`);
      const rings = f.loadGeometry();
      assert.ok(rings.length > 0 && rings.every((r) => r.length >= [0, 1, 2, 4][f.type]), `${where}: degenerate geometry`);
      const buf = layer.extent; // generous: a tile's buffer is a fraction of its extent
      for (const r of rings) for (const p of r) {
        assert.ok(p.x >= -buf && p.x <= 2 * buf && p.y >= -buf && p.y <= 2 * buf, `${where}: point ${p.x},${p.y} far outside the tile`);
      }
      for (const [k, v] of Object.entries(f.properties)) {
        assert.ok(k in vl.fields, `${where}: field ${k} is not declared in the TileJSON`);
        assert.equal(typeof v, fieldType[vl.fields[k]] ?? typeof v, `${where}: field ${k} is ${typeof v}, declared ${vl.fields[k]}`);
      }
      f.toGeoJSON(x, y, z); // the projection other clients do must not throw
      features++;
    }
  }
  return features;
}

test('every TileJSON is valid TileJSON 3.0 and each layer\'s tiles decode as declared', async () => {
  const catalog = await json(`${BASE}/tiles`);
  assert.ok(catalog.layers.length > 10);
  let checked = 0;
  for (const l of catalog.layers) {
    const tj = await json(l.tilejson);
    assert.ok(validTileJSON(tj), `${l.tilejson}: not TileJSON 3.0.0: ${ajv.errorsText(validTileJSON.errors)}`);
    assert.equal(tj.tilejson, '3.0.0');
    assert.deepEqual(tj.vector_layers.map((v) => v.id), [l.slug]);
    assert.ok(l.geometry_type in family, `${l.slug}: geometry_type ${l.geometry_type}`);
    // A tile around the layer's first feature, at a zoom the layer is drawn at.
    const items = await json(`${BASE}/ogc/collections/${l.slug}/items?limit=1&f=json`);
    if (items.features.length === 0) continue;
    const g = items.features[0].geometry;
    let c = g.coordinates;
    while (Array.isArray(c[0])) c = c[0];
    const z = Math.max(tj.minzoom, Math.min(14, tj.maxzoom));
    const n = await checkTile(tj, tileOf(c[0], c[1], z), { [l.slug]: family[l.geometry_type] });
    assert.ok(n > 0, `${l.slug}: no feature in the tile around its first feature at z${z}`);
    checked++;
  }
  assert.ok(checked > 10, `only ${checked} layers had a tile checked`);
});

test('a composite tile of every geometry type decodes with one layer per slug', async () => {
  const slugs = ['cameras', 'streets', 'buildings', 'bus_routes', 'parks'];
  const catalog = await json(`${BASE}/tiles`);
  const types = Object.fromEntries(catalog.layers.filter((l) => slugs.includes(l.slug)).map((l) => [l.slug, family[l.geometry_type]]));
  assert.deepEqual(new Set(Object.values(types)), new Set([1, 2, 3]));
  const tj = await json(`${BASE}/tiles/${slugs.join(',')}.json`);
  assert.ok(validTileJSON(tj), `composite TileJSON: ${ajv.errorsText(validTileJSON.errors)}`);
  assert.deepEqual(tj.vector_layers.map((v) => v.id).sort(), [...slugs].sort());
  const n = await checkTile(tj, tileOf(57.167, 50.283, 14), types);
  assert.ok(n > 100, `only ${n} features in the city centre`);
});
