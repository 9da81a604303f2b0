/** Builds the voter page with its real vite config (as `npm run build` does), for the bundle and browser tests. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Build into `outDir` (default dist/voter, where the server serves /v/ from). */
export async function buildVoterPage(outDir?: string): Promise<string> {
  const vite = path.join(repoRoot, 'node_modules/vite/bin/vite.js');
  const args = [vite, 'build', '--config', 'voter-ui/vite.config.ts', '--logLevel', 'warn'];
  if (outDir) args.push('--outDir', outDir, '--emptyOutDir');
  // Not vitest's NODE_ENV=test: that would give Svelte's development build, as no phone ever gets it.
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production' };
  for (const k of Object.keys(env)) if (k.startsWith('VITEST')) delete env[k];
  await promisify(execFile)(process.execPath, args, { cwd: repoRoot, env });
  return outDir ?? path.join(repoRoot, 'dist/voter');
}
