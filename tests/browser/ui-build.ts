/**
 * Builds the phone page and the admin pages with their real vite configs (as `npm run build` does).
 * The browser tests share one build per run: tests/browser/global-setup.ts builds both before any test
 * file starts and marks it in the environment; a file run on its own builds what it needs itself.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { precompress } from '../../scripts/precompress.mjs';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUILT = 'CEPING_TEST_UI_BUILT';

async function viteBuild(config: string, outDir?: string): Promise<void> {
  const vite = path.join(repoRoot, 'node_modules/vite/bin/vite.js');
  const args = [vite, 'build', '--config', config, '--logLevel', 'warn'];
  if (outDir) args.push('--outDir', outDir, '--emptyOutDir');
  // Not vitest's NODE_ENV=test: that would give Svelte's development build, which no phone ever gets.
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production' };
  for (const k of Object.keys(env)) if (k.startsWith('VITEST')) delete env[k];
  await promisify(execFile)(process.execPath, args, { cwd: repoRoot, env });
}

/** Build the voter page into `outDir` (default dist/voter, where the server serves /v/ from). */
export async function buildVoterPage(outDir?: string): Promise<string> {
  await viteBuild('voter-ui/vite.config.ts', outDir);
  const dir = outDir ?? path.join(repoRoot, 'dist/voter');
  // As scripts/build-ui.mjs does after each build: the server sends these by Accept-Encoding.
  precompress(dir);
  return dir;
}

export async function buildAdminPages(): Promise<void> {
  await viteBuild('admin-ui/vite.config.ts');
  precompress(path.join(repoRoot, 'dist/admin'));
}

/** dist/voter and dist/admin as the current sources make them, built once per test run. */
export async function ensurePagesBuilt(): Promise<void> {
  if (process.env[BUILT] === '1') return;
  await Promise.all([buildVoterPage(), buildAdminPages()]);
  process.env[BUILT] = '1';
}

export function markPagesBuilt(): void {
  process.env[BUILT] = '1';
}
