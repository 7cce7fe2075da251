// Benchmark (not a test; not in scripts/browser-tests.sh's default set): the map's cold first
// render — a `geoportal serve` just started (its tile cache, prepared statements and catalog
// empty) and a browser context with an empty cache — beside the warm figure of the same run (the
// same server's second load, again with an empty browser cache). Each round starts its own fresh
// server on the demo database, so the rounds alternate cold and warm loads under the same load
// of the shared machine. For the cold loads it also records each request's start and end
// (resource timing) to show any waterfall. Writes test-output/cold-render.json and prints it.
//
//   BROWSER_TESTS=tests/coldload-bench.mjs scripts/browser-tests.sh     (ROUNDS=5 by default)
import { test, before, after } from 'node:test';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { launch, waitForMap, DESKTOP, OUT } from './helpers.mjs';

const BIN = process.env.GEOPORTAL_BIN;
if (!BIN) throw new Error('GEOPORTAL_BIN is not set: run scripts/browser-tests.sh');
const ROUNDS = Number(process.env.ROUNDS || 5);
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const freePort = () => new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});

async function serve() {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(BIN, ['serve', '-addr', `127.0.0.1:${port}`, '-wialon-addr', 'off'], { env: process.env, stdio: ['ignore', 'ignore', 'ignore'] });
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) throw new Error('the server exited');
    try { if ((await fetch(`${url}/readyz`)).ok) return { url, child }; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('the server is not ready');
}

async function stop(child) {
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await gone;
}

/** load opens the map in a fresh context (empty cache): navigation start to MapLibre's load. */
async function load(url) {
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  await page.goto(`${url}/`);
  await waitForMap(page, 90000);
  const r = await page.evaluate(() => ({
    ms: performance.getEntriesByName('geoportal:map-load')[0].startTime,
    requests: performance.getEntriesByType('resource').map((e) => ({
      name: e.name.replace(location.origin, '').replace(/\?.*/, '').slice(0, 90),
      start: Math.round(e.startTime), end: Math.round(e.responseEnd), wait: Math.round(e.responseStart - e.requestStart),
    })),
  }));
  await context.close();
  return r;
}

test('cold and warm first render (benchmark figure, not a pass/fail bar)', { timeout: 1800000 }, async () => {
  const cold = [];
  const warm = [];
  const loads = [];
  let coldRequests = null;
  for (let i = 0; i < ROUNDS; i++) {
    const srv = await serve();
    try {
      const c = await load(srv.url);
      cold.push(c.ms);
      if (!coldRequests || c.ms > coldRequests.ms) coldRequests = c; // the slowest cold load's requests
      warm.push((await load(srv.url)).ms);
      loads.push(os.loadavg()[0]);
    } finally {
      await stop(srv.child);
    }
  }
  const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const ms = (a) => [...a].sort((x, y) => x - y).map(Math.round);
  const out = {
    cold: { runs_ms: ms(cold), median_ms: Math.round(median(cold)) },
    warm: { runs_ms: ms(warm), median_ms: Math.round(median(warm)) },
    load_avg_1min: { min: Math.min(...loads), max: Math.max(...loads) },
    slowest_cold_load: { ms: Math.round(coldRequests.ms), requests: coldRequests.requests.sort((a, b) => a.start - b.start) },
  };
  writeFileSync(path.join(OUT, 'cold-render.json'), JSON.stringify(out, null, 2));
  console.log(JSON.stringify({ cold: out.cold, warm: out.warm, load_avg_1min: out.load_avg_1min }));
});
