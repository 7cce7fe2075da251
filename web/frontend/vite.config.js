// Builds the web map into ../dist, which the Go binary embeds (web/static.go).
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  publicDir: false,
  build: {
    outDir: '../dist',
    emptyOutDir: false, // keeps web/dist/.keep; scripts/frontend.sh clears old assets
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    // `npx vite` for development, talking to a `geoportal serve` on :8080.
    proxy: { '/api': 'http://127.0.0.1:8080', '/tiles': 'http://127.0.0.1:8080' },
  },
});
