// Bundles the server (server/main.ts and every module of ours it imports; node_modules stay outside)
// into one ES module, dist/server/main.mjs, which `npm start` runs with plain node. The serving process
// then carries no TypeScript compiler: under tsx the same server held about 33 MiB more memory when idle
// (tsx's loader thread and its compiled-source cache) and compiled every module at each start.
// The database thread (server/db/sqlite.worker.ts) is bundled beside it as dist/server/sqlite.worker.mjs;
// the other worker threads keep their own entry files under server/ (server/paths.ts names them).
// `node scripts/build-server.mjs` alone, or through `npm run build`; about a second.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SERVER_BUNDLE = path.join(root, 'dist/server/main.mjs');
/**
 * What node runs the bundle with (package.json's start and demo say the same; tests/api/bundle.test.ts
 * holds them together; bench/README.md, "Memory under a long stream of casts"):
 * - V8 lets a busy process's young generation grow to 16 MiB semi-spaces; capped at 4 the hall's memory
 *   peak fell from 188 to 171 MiB in a QUICK bench, at no cost the bench could see;
 * - the old generation may grow to 1.5 times what a full collection left alive, not to V8's own factor
 *   (up to 4 under a busy event loop): 12,300 casts in one process peaked at 184–186 MiB instead of
 *   243–265 with about 36 MiB alive after each full collection, at no cost in casts per second;
 * - the garbage collector works on the thread whose heap it is, not on helper threads as well: on two
 *   cores the helpers took 560 ms of the 1,800 ms of CPU 2,000 casts cost (bench/README.md, "Garbage per
 *   cast"), competing with the event loop, the database thread and the curve workers; single-threaded,
 *   the same casts cost 5–15 % less CPU and came 5–18 % faster in alternating rounds, memory unchanged.
 * V8's tiering (`--interrupt-budget`) is set by the server itself (server/tiering.ts): node refuses a V8
 * flag on its command line that its V8 does not know.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=4', '--heap-growing-percent=50', '--single-threaded-gc'];

/**
 * For `npm run bench` only: the same server with the cast's token check compiled out, for the issue's
 * "cast/hello without the token check" figure. Built into a folder of its own, started by the bench, and
 * removed after it; `npm start`'s bundle has the switch compiled to false (tests/api/bundle.test.ts).
 */
export const BENCH_BUNDLE_WITHOUT_TOKEN_CHECK = path.join(root, 'dist/bench-without-token-check/main.mjs');

/** Build the bundle; written beside and renamed into place, so a process starting meanwhile never reads half a file. */
export async function buildServer({ withoutTokenCheck = false } = {}) {
  const out = withoutTokenCheck ? BENCH_BUNDLE_WITHOUT_TOKEN_CHECK : SERVER_BUNDLE;
  const result = await build({
    // The database thread's entry is bundled beside the server (sqlite-thread.ts starts it from there).
    entryPoints: [path.join(root, 'server/main.ts'), path.join(root, 'server/db/sqlite.worker.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outdir: path.dirname(out),
    define: { __CEPING_BENCH_WITHOUT_TOKEN_CHECK__: String(withoutTokenCheck) },
    entryNames: '[name]',
    outExtension: { '.js': '.mjs' },
    sourcemap: 'linked',
    write: false,
    logLevel: 'warning',
  });
  mkdirSync(path.dirname(out), { recursive: true });
  for (const file of result.outputFiles) {
    const tmp = `${file.path}.${process.pid}.tmp`;
    writeFileSync(tmp, file.contents);
    renameSync(tmp, file.path);
  }
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await buildServer();
