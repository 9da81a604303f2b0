// Mutation testing of the modules that carry Ceping's promises: `npm run mutate` (see MUTATION.md).
// One module at a time: `npm run mutate -- --mutate server/live/gate.ts`.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts', related: false },
  coverageAnalysis: 'perTest',
  mutate: [
    'server/counting/*.ts',
    'server/live/gate.ts',
    'server/ballots/validate-package.ts',
    'server/ballots/write-queue.ts',
    'server/ballots/casting.ts',
    'server/ballots/suspects.ts',
    'server/ballots/ballot-box.ts',
    'server/credentials/secrets.ts',
    'server/credentials/voprf.ts',
    'server/credentials/token-output.mjs',
    'server/credentials/blind-evaluate.mjs',
    'server/credentials/tickets.service.ts',
    'server/archive/archive.verify.ts',
    'server/reports/sheets.ts',
    'server/reports/reports.service.ts',
  ],
  ignorePatterns: ['/data', '/data-demo', '/dist', 'tests/artifacts', '/reports', '.stryker-tmp', 'voter-ui/node_modules', 'admin-ui/node_modules'],
  concurrency: 2,
  timeoutMS: 60_000,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 85, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
