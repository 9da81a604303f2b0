/**
 * The VOPRF worker pool in a process with nothing else open (a script, a CLI command, the bench's slips):
 * idle workers must not keep the process alive, and a worker with work in hand must, or the process
 * ends mid-await (exit code 13, "unsettled top-level await") with no message.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { IN_FLIGHT, LOW_LANE_MAX, PROOF_RANDOM_BYTES, PoolBusyError, VoprfPool } from '../../server/credentials/voprf-pool.ts';
import { randomBytes } from 'node:crypto';
import { evaluateBlinded, newMeetingKey, tokenOutput, voprf } from '../../server/credentials/voprf.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const url = (p: string) => pathToFileURL(path.join(root, p)).href;

describe('VoprfPool in a process with nothing else open', () => {
  it('finishes an evaluation awaited at top level, then lets the process end by itself', () => {
    const script = `
      import { VoprfPool } from ${JSON.stringify(url('server/credentials/voprf-pool.ts'))};
      import { newMeetingKey, tokenOutput } from ${JSON.stringify(url('server/credentials/voprf.ts'))};
      const pool = new VoprfPool(2);
      const key = newMeetingKey();
      const input = new Uint8Array(32).fill(7);
      const out = await pool.evaluate(key.secretKey, input);
      const again = await Promise.all([pool.evaluate(key.secretKey, input), pool.evaluate(key.secretKey, input)]);
      const same = [out, ...again].every((o) => Buffer.from(o).equals(Buffer.from(tokenOutput(key.secretKey, input))));
      console.log(JSON.stringify({ workers: pool.size, same }));
    `;
    // No pool.close(): the idle workers must not hold the process open either (timeout: 60 s).
    // A file, not --input-type with stdin: the workers would inherit that flag and refuse to start.
    const dir = mkdtempSync(path.join(tmpdir(), 'ceping-pool-'));
    const file = path.join(dir, 'script.mjs');
    writeFileSync(file, script);
    let r: SpawnSyncReturns<string>;
    try {
      r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toEqual({ workers: 2, same: true });
  }, 90_000);
});

describe('VoprfPool lanes', () => {
  it('serves the normal lane before the low one, and refuses low work past LOW_LANE_MAX without touching the normal lane', async () => {
    const pool = new VoprfPool(1);
    const key = newMeetingKey();
    const input = (i: number) => new Uint8Array(32).fill(i);
    try {
      const done: string[] = [];
      const low = Array.from({ length: IN_FLIGHT + 30 }, (_, i) => pool.evaluate(key.secretKey, input(i), 'low').then(() => done.push(`low${i}`)));
      const normal = pool.evaluate(key.secretKey, input(99), 'normal').then((out) => (done.push('normal'), out));
      expect(pool.waiting.low).toBeGreaterThan(20);
      const out = await normal;
      await Promise.all(low);
      // Right, and ahead of all but the low work a worker already held (IN_FLIGHT at most).
      expect(Buffer.from(out).equals(Buffer.from(tokenOutput(key.secretKey, input(99))))).toBe(true);
      expect(done.indexOf('normal')).toBeLessThanOrEqual(IN_FLIGHT);
      expect(done).toHaveLength(IN_FLIGHT + 31);

      // IN_FLIGHT go to the worker at once, LOW_LANE_MAX wait, the last two are refused.
      const flood = Array.from({ length: IN_FLIGHT + LOW_LANE_MAX + 2 }, (_, i) => pool.evaluate(key.secretKey, input(i % 200), 'low'));
      const settled = flood.map((p) => p.then(() => 'ok', (e: unknown) => e));
      await expect(flood.at(-1)).rejects.toBeInstanceOf(PoolBusyError);
      // The normal lane is still served first.
      await pool.evaluate(key.secretKey, input(1), 'normal');
      expect(pool.waiting.low).toBeGreaterThan(LOW_LANE_MAX - 100);
      await pool.close();
      const outcomes = await Promise.all(settled);
      expect(outcomes.filter((o) => o instanceof PoolBusyError)).toHaveLength(2);
      // What still waited at close is refused, not left hanging.
      expect(outcomes.filter((o) => o instanceof Error && /closed/.test(o.message)).length).toBeGreaterThan(LOW_LANE_MAX - 100);
    } finally {
      await pool.close();
    }
  }, 60_000);
});

describe('VoprfPool messages', () => {
  it('hands the tasks of one turn to each worker in one message, and answers each task rightly', async () => {
    const pool = new VoprfPool(2);
    const key = newMeetingKey();
    const input = (i: number) => new Uint8Array(32).fill(i);
    try {
      await pool.evaluate(key.secretKey, input(0)); // the workers are up
      const before = pool.posted;
      // 20 in one turn: within IN_FLIGHT for two workers, so one message each (each message wakes a thread).
      const outs = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.evaluate(key.secretKey, input(i))));
      expect(pool.posted - before).toBe(2);
      outs.forEach((out, i) => expect(Buffer.from(out).equals(Buffer.from(tokenOutput(key.secretKey, input(i))))).toBe(true));

      // A task that cannot be copied to a worker fails (with the others of its message), and the pool goes on.
      const bad = pool.evaluate(key.secretKey, (() => 1) as unknown as Uint8Array);
      await expect(bad).rejects.toThrow(/could not be cloned/);
      expect(Buffer.from(await pool.evaluate(key.secretKey, input(3))).equals(Buffer.from(tokenOutput(key.secretKey, input(3))))).toBe(true);
    } finally {
      await pool.close();
    }
  }, 60_000);
});

describe('VoprfPool without workers (VOPRF_WORKERS=0)', () => {
  it('evaluates on this thread, loading libsodium with the first task, and refuses a task it cannot do', async () => {
    const pool = new VoprfPool(0);
    const key = newMeetingKey();
    const input = (i: number) => new Uint8Array(32).fill(i);
    try {
      expect(pool.size).toBe(0);
      // Several at once before the library is loaded: each waits for the one load, none is lost.
      const outs = await Promise.all(Array.from({ length: 5 }, (_, i) => pool.evaluate(key.secretKey, input(i))));
      outs.forEach((out, i) => expect(Buffer.from(out).equals(Buffer.from(tokenOutput(key.secretKey, input(i))))).toBe(true));
      // libsodium refuses a scalar of the wrong length: the task is refused, not left hanging or thrown elsewhere.
      await expect(pool.evaluate(key.secretKey.subarray(0, 31), input(1))).rejects.toThrow();
      expect(Buffer.from(await pool.evaluate(key.secretKey, input(7))).equals(Buffer.from(tokenOutput(key.secretKey, input(7))))).toBe(true);
    } finally {
      await pool.close();
    }
  });
});

describe('VoprfPool blindEvaluate (libsodium, blind-evaluate.mjs)', () => {
  for (const size of [1, 0]) {
    it(`${size ? 'in a worker' : 'on this thread (VOPRF_WORKERS=0)'}: noble's evaluation and proof for the same random bytes, a refusal for a malformed element`, async () => {
      const pool = new VoprfPool(size);
      const key = newMeetingKey();
      const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
      try {
        expect(pool.size).toBe(size);
        // Several at once (inline: before the library is loaded), each with its own random bytes.
        const cases = Array.from({ length: 6 }, () => ({ blinded: voprf.blind(randomBytes(32)).blinded, random: new Uint8Array(randomBytes(PROOF_RANDOM_BYTES)) }));
        const answers = await Promise.all(cases.map((c) => pool.blindEvaluate(key, c.blinded, c.random)));
        answers.forEach((a, i) => {
          const reference = evaluateBlinded(key, cases[i]!.blinded, () => cases[i]!.random);
          expect(toHex(a.evaluated)).toBe(toHex(reference.evaluated));
          expect(toHex(a.proof)).toBe(toHex(reference.proof));
        });
        // The identity and a string that is no element are refused, not left hanging; the pool goes on.
        const random = new Uint8Array(randomBytes(PROOF_RANDOM_BYTES));
        await expect(pool.blindEvaluate(key, new Uint8Array(32), random)).rejects.toThrow();
        await expect(pool.blindEvaluate(key, new Uint8Array(32).fill(0xff), random)).rejects.toThrow();
        const again = await pool.blindEvaluate(key, cases[0]!.blinded, cases[0]!.random);
        expect(toHex(again.proof)).toBe(toHex(answers[0]!.proof));
      } finally {
        await pool.close();
      }
    }, 60_000);
  }
});
