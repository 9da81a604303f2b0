/**
 * Where the project's files are, for code that runs from its source (tsx, vitest) and from the bundle
 * `npm start` runs (dist/server/main.mjs, see scripts/build.mjs): `import.meta.url` differs between the
 * two, so every file the server reads or starts is named from the folder of package.json above it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** The project folder (package.json, dist/, server/). */
export const ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));

/** A file of the server's sources (a worker's entry, a font) as a file: URL. */
export function serverFile(...parts: string[]): URL {
  return pathToFileURL(path.join(ROOT, 'server', ...parts));
}
