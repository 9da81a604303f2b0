import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorld, type World } from '../helpers/world.ts';
import { operations, SchemaChecker, type ApiDocument, type Operation } from '../helpers/openapi.ts';
import { fuzzOperation } from '../fuzz/fuzz.ts';
import { testBackend } from '../helpers/pg.ts';

/**
 * The short run of the schema-driven fuzz (tests/fuzz): every operation of /api/openapi.json, as no
 * session, township and inspector. `npm run soak` runs the same with ≥ 10,000 cases per operation.
 * FUZZ_RUNS and FUZZ_SEED change the size and the seed; a failure names the seed to repeat it.
 */
// On PostgreSQL (the `pg` project) fewer cases per operation: there it is every operation against
// PostgreSQL's types and errors, not the search for new inputs, and the suite's time is short.
const RUNS = Number(process.env.FUZZ_RUNS ?? (testBackend === 'postgres' ? 5 : 20));
const SEED = Number(process.env.FUZZ_SEED ?? 20201125);

let w: World;
let ops: Operation[];
const checker = new SchemaChecker();

beforeAll(async () => {
  w = await makeWorld();
  ops = operations((await w.t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as ApiDocument);
}, 120_000);
afterAll(async () => {
  await w.t.close();
});

describe(`fuzz (seed ${SEED}, ${RUNS} cases per operation)`, () => {
  it('no 5xx, only declared statuses and shapes, no 2xx for invalid input, no refusal repeating the request, memory bounded', async () => {
    const rssBefore = process.memoryUsage().rss;
    const problems: string[] = [];
    const statuses = new Map<number, number>();
    for (const op of ops) {
      const r = await fuzzOperation(w, op, RUNS, SEED, checker);
      problems.push(...r.problems);
      for (const [s, n] of Object.entries(r.statuses)) statuses.set(Number(s), (statuses.get(Number(s)) ?? 0) + n);
    }
    expect(problems).toEqual([]);
    // The run reached past validation: successes and each kind of refusal were met.
    for (const s of [200, 400, 401, 403, 404, 409]) expect(statuses.get(s) ?? 0, `status ${s}`).toBeGreaterThan(0);
    expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
    expect((process.memoryUsage().rss - rssBefore) / 1024 / 1024).toBeLessThan(300);
  }, 180_000);
});
