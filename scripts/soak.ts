/**
 * npm run soak:fuzz (the first half of npm run soak): the schema-driven fuzz (tests/fuzz) at length — at least 10,000 cases for every
 * operation of /api/openapi.json, each operation on a fresh world, as no session, township and
 * inspector. Prints the status counts per operation and the server's memory; exits non-zero on any
 * 5xx, undeclared status or shape, 2xx for an invalid request, echoed request, or memory growth.
 *
 *   FUZZ_RUNS (default 10000)   cases per operation
 *   FUZZ_SEED (default random)  repeat a run
 *   FUZZ_ONLY                   a substring of the operations to run ("POST /api/voter")
 */
import { makeWorld } from '../tests/helpers/world.ts';
import { operations, SchemaChecker, type ApiDocument } from '../tests/helpers/openapi.ts';
import { fuzzOperation } from '../tests/fuzz/fuzz.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ONLY = process.env.FUZZ_ONLY ?? '';
const RSS_GROWTH_LIMIT_MB = 400;

const mb = () => Math.round(process.memoryUsage().rss / 1024 / 1024);

async function main(): Promise<void> {
  const checker = new SchemaChecker();
  const first = await makeWorld();
  const ops = operations((await first.t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as ApiDocument).filter((o) => o.key.includes(ONLY));
  await first.t.close();
  const baseline = mb();
  let peak = baseline;
  let failed = false;
  const started = Date.now();
  process.stdout.write(`soak: ${ops.length} operations × ${RUNS} cases, seed ${SEED}, rss ${baseline} MB\n`);
  for (const [i, op] of ops.entries()) {
    const w = await makeWorld();
    const t0 = Date.now();
    const r = await fuzzOperation(w, op, RUNS, SEED + i, checker);
    await w.t.close();
    peak = Math.max(peak, mb());
    const counts = Object.entries(r.statuses)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([s, n]) => `${s}×${n}`)
      .join(' ');
    process.stdout.write(`${op.key.padEnd(58)} ${String(r.cases).padStart(6)} cases  ${counts}  (${((Date.now() - t0) / 1000).toFixed(0)} s, rss ${mb()} MB)\n`);
    if (r.cases < RUNS) failed = true;
    for (const p of r.problems) {
      failed = true;
      process.stdout.write(`  PROBLEM ${p}\n`);
    }
  }
  const growth = peak - baseline;
  process.stdout.write(`soak: done in ${((Date.now() - started) / 60000).toFixed(1)} min; rss baseline ${baseline} MB, peak ${peak} MB (growth ${growth} MB, limit ${RSS_GROWTH_LIMIT_MB})\n`);
  if (growth > RSS_GROWTH_LIMIT_MB) failed = true;
  process.stdout.write(failed ? `soak: FAILED (seed ${SEED})\n` : 'soak: passed\n');
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
