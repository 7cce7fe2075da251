// Builds the web map into ../dist, which the Go binary embeds (web/static.go).
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

// preloadWorker makes the page fetch MapLibre's tile worker while the main script downloads, not
// after it has run: the worker is the last big file before the first tile can be asked for.
function preloadWorker() {
  return {
    name: 'geoportal-preload-worker',
    transformIndexHtml: {
      order: 'post',
      handler(html, ctx) {
        const worker = Object.keys(ctx.bundle || {}).find((f) => /maplibre-gl-worker-[^/]*\.mjs$/.test(f));
        if (!worker) return html;
        return [{ tag: 'link', attrs: { rel: 'preload', href: `/${worker}`, as: 'fetch', crossorigin: 'anonymous' }, injectTo: 'head' }];
      },
    },
  };
}

export default defineConfig({
  base: '/',
  publicDir: false,
  plugins: [preloadWorker()],
  build: {
    outDir: '../dist',
    emptyOutDir: false, // keeps web/dist/.keep; scripts/frontend.sh clears old assets
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
    // Two pages: the map (index.html) and the planners' page (planner.html, src/planner/), which
    // imports no module of the map's, so the map's files stay as with one entry. The modulepreload
    // polyfill (for browsers without <link rel=modulepreload>) would be the one shared chunk: off.
    modulePreload: { polyfill: false },
    // The private cameras' pages are server-rendered (web/pages); their map is a third entry,
    // a script without a page (src/cameras/main.js, sharing no module with the map either),
    // whose hashed file names the pages read from the manifest (web/static.go).
    manifest: true,
    rolldownOptions: {
      input: { index: fileURLToPath(new URL('./index.html', import.meta.url)), planner: fileURLToPath(new URL('./planner.html', import.meta.url)),
        cameras: fileURLToPath(new URL('./src/cameras/main.js', import.meta.url)),
        // The staff pages' maps (src/staffmap/): a script entry the server-rendered pages name (web/pages.go).
        staffmap: fileURLToPath(new URL('./src/staffmap/main.js', import.meta.url)) },
    },
  },
  server: {
    // `npx vite` for development, talking to a `geoportal serve` on :8080.
    proxy: { '/api': 'http://127.0.0.1:8080', '/tiles': 'http://127.0.0.1:8080' },
  },
});
