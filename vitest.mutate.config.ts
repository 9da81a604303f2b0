/**
 * The suites Stryker runs against each mutant (`npm run mutate`): the unit and API tests, in-process.
 * Not the browser tests (they test the pages, not these modules) and not the tests that start real
 * server processes (kill -9, restart): a mutant is compiled into the sandbox Stryker runs, never into
 * a process started from the repository's own files, so those tests would only add minutes.
 *
 * MUTATE_TESTS (comma-separated globs) narrows the suites for a run over one module, e.g.
 * `MUTATE_TESTS=tests/unit/** npx stryker run --mutate server/counting/tally.ts`: Stryker's first
 * (dry) run executes every included test, so a pure module need not wait for the API suites.
 * A narrower set can only let more mutants survive, never fewer, so a score it gives is a floor.
 */
import { defineConfig } from 'vitest/config';

const only = process.env.MUTATE_TESTS?.split(',').map((s) => s.trim()).filter(Boolean);

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 180_000,
    include: only?.length ? only : ['tests/unit/**/*.test.ts', 'tests/api/**/*.test.ts'],
    exclude: ['tests/api/crash.test.ts', 'tests/api/compaction.test.ts', 'tests/unit/config.test.ts'],
  },
});
