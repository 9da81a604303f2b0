import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { findPostgresBin } from './tests/helpers/pg-cluster.ts';

/**
 * The API tests that also run on PostgreSQL (the `pg` project: the same files, the harness on a fresh
 * PostgreSQL database per test, copied from a migrated template). Chosen for what differs there: casting
 * and its races, the live gate and steps, tickets, the lifecycle and close, timers and the live socket,
 * paper, archives and reports, accounts and the login brake (a taken username is a unique violation,
 * each database reports it its own way; look-ups wait for a pool), the 考察 workspace and its separation
 * from ballots, slips, the tally against a recount of the stored ballots, refused requests (PostgreSQL
 * refuses U+0000 in text), every response against the OpenAPI document (PostgreSQL's types),
 * every operation of the API fuzzed (fuzz: 5 cases per operation here, 20 on SQLite), and the sessions
 * behind a reverse proxy (proxy: its two brake timings run on SQLite only, the brake being in memory).
 *
 * Not here: files about SQLite itself (attacker, cast-faults, cast-statements, compaction, crash: the
 * file, its journal, its locks, better-sqlite3's statements), anonymity (tests/pg/anonymity.test.ts is
 * PostgreSQL's own), and two files that never reach the database beyond signing in: hostile-files (the
 * import parsers and their worker; every upload there is a preview, nothing is written) and static-pages
 * (the built files). Add one with `POSTGRES_API_TESTS` and run it with
 * `npx vitest run --project pg tests/api/<file>`.
 */
export const POSTGRES_API_TESTS = [
  'tests/api/cast.test.ts',
  'tests/api/race.test.ts',
  'tests/api/live.test.ts',
  'tests/api/live-gate.test.ts',
  'tests/api/tickets.test.ts',
  'tests/api/meetings.test.ts',
  'tests/api/timers.test.ts',
  'tests/api/paper-preview.test.ts',
  'tests/api/reports.test.ts',
  'tests/api/archive.test.ts',
  'tests/api/auth.test.ts',
  'tests/api/login-brake.test.ts',
  'tests/api/inspection.test.ts',
  'tests/api/inspection-report.test.ts',
  'tests/api/inspection-separation.test.ts',
  'tests/api/slips.test.ts',
  'tests/api/tally-property.test.ts',
  'tests/api/requests.test.ts',
  'tests/api/openapi-contract.test.ts',
  'tests/api/fuzz.test.ts',
  'tests/api/proxy.test.ts',
];

/**
 * API tests that also run with SQLite's connection on the database thread, as `npm start` runs it (the
 * `thread` project; everywhere else in one process the connection is on the main thread, see
 * tests/helpers/harness.ts): the casts pipelined to the thread and their races, the live steps and the
 * close, the tally against a recount, the cast's steps. tests/api/sqlite-thread.test.ts tests the thread
 * itself, and every test that starts a server process (the bundle) runs it too. Files that reach into the
 * connection (t.sqlite: cast-faults, cast-statements, attacker, the pragma check in cast) cannot run here.
 */
export const SQLITE_THREAD_API_TESTS = ['tests/api/race.test.ts', 'tests/api/live.test.ts', 'tests/api/tally-property.test.ts', 'tests/api/casting.test.ts'];

/**
 * With PostgreSQL's binaries (initdb, pg_ctl) present, `npm test` runs the `pg` project too. Without them
 * it keeps only tests/pg, whose files then report themselves skipped (tests/pg/global-setup.ts says why,
 * and fails instead in CI): the API files above would otherwise fail for want of a database.
 */
const postgresPresent = findPostgresBin() !== null;

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Vitest's default on 2 cores is one worker, which leaves a core idle while a test waits on fsync,
    // a child server process or Chromium; two keep both busy (the suite's wall time: see README).
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['tests/**/*.test.ts'],
          exclude: ['tests/voter/**', 'tests/admin/**', 'tests/pg/**'],
          globalSetup: ['tests/browser/global-setup.ts', 'tests/helpers/sqlite-template.ts'],
        },
      },
      {
        // PostgreSQL: its own tests (tests/pg) and the API tests above again, on a throwaway cluster.
        extends: true,
        test: {
          name: 'pg',
          include: ['tests/pg/**/*.test.ts', ...(postgresPresent ? POSTGRES_API_TESTS : [])],
          globalSetup: ['tests/pg/global-setup.ts', 'tests/helpers/sqlite-template.ts'],
          setupFiles: ['tests/pg/setup.ts'],
          env: { CEPING_TEST_DB: 'postgres' },
        },
      },
      {
        extends: true,
        test: {
          name: 'thread',
          include: SQLITE_THREAD_API_TESTS,
          globalSetup: ['tests/helpers/sqlite-template.ts'],
          env: { CEPING_TEST_SQLITE_THREAD: '1' },
        },
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
