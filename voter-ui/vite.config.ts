import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

/**
 * The voter's phone page. Served by the server from dist/voter at /v/. The target is what WeChat's
 * built-in browser on an old Android phone and iOS 12 Safari run; tests/browser/voter-bundle.test.ts checks
 * the output's syntax and size (60 KB gzipped, JS and CSS together), tests/api/static-pages.test.ts the
 * bytes of the first ballot screen (≤ 45,000 as gzip sends them).
 */
export const VOTER_TARGET = ['chrome64', 'safari12'];

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/v/',
  plugins: [svelte({ configFile: false })],
  build: {
    outDir: fileURLToPath(new URL('../dist/voter', import.meta.url)),
    emptyOutDir: true,
    target: VOTER_TARGET,
    cssTarget: VOTER_TARGET,
    // No modulepreload links: each lazy chunk (the curve code, the ballot steps, the receipt check) needs
    // nothing but the entry, already loaded.
    modulePreload: false,
    // One stylesheet for every screen (1.7 KB gzipped): a lazy chunk then never waits on, or fails on, a
    // stylesheet of its own.
    cssCodeSplit: false,
    reportCompressedSize: false,
  },
  server: {
    // `npx vite --config voter-ui/vite.config.ts` against a server on :8080 while working on the page.
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
