import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

/**
 * The township office's and the inspection team's pages. Served by the server from dist/admin at
 * /admin/. Runs on a township laptop's current Chromium, 360 browser or Edge; no request leaves the origin.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/admin/',
  plugins: [svelte({ configFile: false })],
  build: {
    outDir: fileURLToPath(new URL('../dist/admin', import.meta.url)),
    emptyOutDir: true,
    // The 360 browser's "极速模式" is a Chromium some versions behind.
    target: ['chrome87', 'edge88', 'firefox78', 'safari14'],
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    // `npx vite --config admin-ui/vite.config.ts` against a server on :8080 while working on the pages.
    proxy: { '/api': { target: 'http://127.0.0.1:8080', ws: true } },
  },
});
