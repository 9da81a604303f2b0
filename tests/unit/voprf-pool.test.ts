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
