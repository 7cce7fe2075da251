// The OpenAPI 3.0 document at /ogc/api checked by @apidevtools/swagger-parser (against the
// OpenAPI 3.0 JSON Schema, plus its own semantic checks), then a sample of real answers of /ogc
// checked against what the document says of them: the status is documented for the operation,
// the content type is one it documents for that status, the body validates (ajv) against the
// documented schema, and every query parameter sent is documented and valid for its schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

const version = (p) => JSON.parse(readFileSync(new URL(`./node_modules/${p}/package.json`, import.meta.url))).version;
const BASE = (process.env.GEOPORTAL_BASE || '').replace(/\/$/, '');
if (!BASE) throw new Error('GEOPORTAL_BASE is not set: run scripts/standards-tests.sh');
console.log('swagger-parser', version('@apidevtools/swagger-parser'),
  'ajv', version('ajv'));

async function fetchDoc() {
  const res = await fetch(`${BASE}/ogc/api`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/vnd\.oai\.openapi\+json;\s*version=3\.0/);
  return res.json();
}

test('the OpenAPI document at /ogc/api is valid OpenAPI 3.0', async () => {
  const doc = await fetchDoc();
  assert.match(doc.openapi, /^3\.0\.\d+$/);
  // validate() dereferences in place: give it its own copy.
  await SwaggerParser.validate(structuredClone(doc));
  assert.equal(new URL(doc.servers[0].url).pathname, '/ogc');
});

/** operation finds the documented path template and GET operation that a request path answers. */
function operation(doc, path) {
  for (const [tmpl, item] of Object.entries(doc.paths)) {
    const names = [];
    const re = new RegExp('^' + tmpl.replace(/\{([^}]+)\}/g, (_, n) => { names.push(n); return '([^/]+)'; }) + '$');
    const m = re.exec(path);
    if (m) return { tmpl, op: item.get, params: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1])])) };
  }
  return null;
}

function resolve(doc, schema) {
  while (schema && schema.$ref) {
    schema = schema.$ref.replace(/^#\//, '').split('/').reduce((o, k) => o[k], doc);
  }
  return schema;
}

// Query values as the document's parameter schema sees them (style form, explode false).
function coerce(schema, value) {
  if (schema.type === 'integer' || schema.type === 'number') return value.trim() === '' ? value : Number(value);
  if (schema.type === 'array') return value.split(',').map((v) => coerce(schema.items || {}, v));
  return value;
}

const samples = [
  { path: '/', status: 200 },
  { path: '/conformance', status: 200 },
  { path: '/collections', status: 200 },
  { path: '/collections', query: 'f=html', status: 200 },
  { path: '/collections/cameras', status: 200 },
  { path: '/collections/cameras/queryables', status: 200 },
  { path: '/collections/cameras/items', query: 'limit=2', status: 200 },
  { path: '/collections/cameras/items', query: 'limit=2&bbox=57.1,50.2,57.3,50.4&crs=http://www.opengis.net/def/crs/EPSG/0/3857&sortby=-name', status: 200 },
  { path: '/collections/cameras/items', query: `filter=${encodeURIComponent("status = 'installed'")}&filter-lang=cql2-text&limit=3`, status: 200 },
  { path: '/collections/cameras/items/1', status: 200 },
  { path: '/collections/no_such_layer', status: 404 },
  { path: '/collections/cameras/items/99999999', status: 404 },
  { path: '/collections/cameras/items', query: 'limit=abc', status: 400, undocumentedValue: 'limit' },
  { path: '/collections/cameras/items', query: `filter=${encodeURIComponent('status =')}`, status: 400 },
];

test('answers of /ogc match the responses the document describes', async () => {
  const doc = await fetchDoc();
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // The document's own $refs (#/components/schemas/...) resolve inside it.
  ajv.addSchema(doc, 'oas');
  const bodySchema = (schema) => (schema.$ref?.startsWith('#/') ? { $ref: `oas${schema.$ref}` } : schema);
  for (const s of samples) {
    const where = `GET ${s.path}${s.query ? '?' + s.query : ''}`;
    const found = operation(doc, s.path);
    assert.ok(found?.op, `${where}: no GET operation documented for it`);
    const { op } = found;
    // Path parameters: documented and valid (an unknown collection id is exactly what a 404 is for).
    const params = op.parameters.map((p) => resolve(doc, p));
    for (const [name, value] of Object.entries(found.params)) {
      const p = params.find((q) => q.in === 'path' && q.name === name);
      assert.ok(p, `${where}: path parameter ${name} is not documented`);
      if (s.status === 200) {
        const ok = ajv.validate(p.schema, coerce(p.schema, value));
        assert.ok(ok, `${where}: path parameter ${name}=${value}: ${ajv.errorsText()}`);
      }
    }
    for (const [name, value] of new URLSearchParams(s.query || '')) {
      const p = params.find((q) => q.in === 'query' && q.name === name);
      assert.ok(p, `${where}: query parameter ${name} is not documented for ${op.operationId}`);
      if (name === s.undocumentedValue) continue; // the bad value the 400 is about
      const ok = ajv.validate(p.schema, coerce(p.schema, value));
      assert.ok(ok, `${where}: query parameter ${name}=${value}: ${ajv.errorsText()}`);
    }
    const res = await fetch(`${BASE}/ogc${s.path === '/' ? '' : s.path}${s.query ? '?' + s.query : ''}`,
      { headers: { accept: s.query?.includes('f=html') ? 'text/html' : 'application/json' } });
    assert.equal(res.status, s.status, `${where}: status`);
    const response = resolve(doc, op.responses[String(res.status)] || op.responses.default);
    assert.ok(response, `${where}: status ${res.status} is not documented for ${op.operationId}`);
    const type = (res.headers.get('content-type') || '').split(';')[0].trim();
    const media = response.content?.[type];
    assert.ok(media, `${where}: content type ${type} is not documented for ${res.status} of ${op.operationId} (documented: ${Object.keys(response.content || {}).join(', ')})`);
    const text = await res.text();
    const body = /json$/.test(type) ? JSON.parse(text) : text;
    const ok = ajv.validate(bodySchema(media.schema), body);
    assert.ok(ok, `${where}: body does not match the documented schema of ${res.status} ${type}: ${ajv.errorsText()}`);
  }
});
