/**
 * The suites Stryker runs against each mutant (`npm run mutate`): the unit and API tests, in-process.
 * Not the browser tests (they test the pages, not these modules) and not the tests that start real
 * server processes (kill -9, restart): a mutant is compiled into the sandbox Stryker runs, never into
 * a process started from the repository's own files, so those tests would only add minutes.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    include: ['tests/unit/**/*.test.ts', 'tests/api/**/*.test.ts'],
    exclude: ['tests/api/crash.test.ts', 'tests/api/compaction.test.ts', 'tests/unit/config.test.ts'],
  },
});
