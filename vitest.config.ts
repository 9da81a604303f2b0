import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: 'node', include: ['tests/**/*.test.ts'], exclude: ['tests/voter/**', 'tests/admin/**'], globalSetup: ['tests/browser/global-setup.ts'] },
      },
      {
        // The voter page's components and rune modules, compiled for the browser and run in jsdom.
        // Svelte must resolve to its browser build here, or `mount` is the server's no-op.
        extends: true,
        plugins: [svelte({ configFile: false })],
        resolve: { conditions: ['browser'] },
        test: { name: 'voter', include: ['tests/voter/**/*.test.ts'], environment: 'jsdom' },
      },
      {
        // The admin pages' components and rune modules, the same way.
        extends: true,
        plugins: [svelte({ configFile: false })],
        resolve: { conditions: ['browser'] },
        test: { name: 'admin', include: ['tests/admin/**/*.test.ts'], environment: 'jsdom' },
      },
    ],
  },
});
