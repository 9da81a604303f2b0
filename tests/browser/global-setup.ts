import { buildAdminPages, buildVoterPage, markPagesBuilt } from './ui-build.ts';

/** Build dist/ once before any test file runs, so no browser test serves a page another is rebuilding. */
export default async function setup(): Promise<void> {
  await Promise.all([buildVoterPage(), buildAdminPages()]);
  markPagesBuilt();
}
