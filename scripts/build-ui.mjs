// Builds the phone page (voter-ui) and, when present, the admin pages (admin-ui) into dist/, and
// precompresses them (brotli and gzip beside each file, see precompress.mjs).
// Called by `npm start`; skipped per app when its build is newer than every source file.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { precompress } from './precompress.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const force = process.argv.includes('--force');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules') continue;
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

// Server code the pages bundle (validation, form resolving, error words); a change there rebuilds them.
const sharedSources = ['server/forms', 'server/ballots', 'server/live', 'server/errors.ts', 'package-lock.json'].map((p) => path.join(root, p));

for (const [app, out] of [['voter-ui', 'dist/voter'], ['admin-ui', 'dist/admin']]) {
  const config = path.join(root, app, 'vite.config.ts');
  if (!existsSync(config)) continue;
  const outDir = path.join(root, out);
  const index = path.join(outDir, 'index.html');
  const sources = Math.max(newest(path.join(root, app)), ...sharedSources.filter(existsSync).map((p) => (statSync(p).isDirectory() ? newest(p) : statSync(p).mtimeMs)));
  if (!force && existsSync(index) && statSync(index).mtimeMs >= sources) {
    // Built before the pages were precompressed: compress what is there, no need to build again.
    if (!existsSync(`${index}.br`)) precompress(outDir);
    continue;
  }
  process.stdout.write(`building ${app} → ${out}\n`);
  await build({ configFile: config, logLevel: 'warn' });
  precompress(outDir);
}
