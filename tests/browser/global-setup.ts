import { buildAdminPages, buildVoterPage, markPagesBuilt } from './ui-build.ts';
import { buildServerForTests } from '../helpers/server-process.ts';

/**
 * Build dist/ once before any test file runs, so no browser test serves a page another is rebuilding,
 * and the server bundle the tests' server processes run (as `npm start` does).
 */
export default async function setup(): Promise<void> {
  await Promise.all([buildVoterPage(), buildAdminPages(), buildServerForTests()]);
  markPagesBuilt();
}
