/**
 * npx tsx bench/memory-soak.ts [PREP] — one server process (the npm start bundle) takes the casts of every
 * meeting of a folder prepared by bench/burst.ts (BURST_PEOPLE=2000 BURST_PREP=DIR), one meeting after
 * another at 100 connections, and prints its memory after each: does the peak follow the casts taken (a
 * leak, or a heap that only grows) or level off? `npm run bench` section 7 reads only the peak.
 * SOAK_ENV (JSON) adds to the server's environment; SOAK_NODE_ARGS (a JSON list) adds node flags, e.g.
 * ["--trace-gc"] to print the last full collections after each meeting.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, startServer } from '../tests/helpers/server-process.ts';
import { closedLoop } from './lib/load.ts';
import { memory } from './lib/processes.ts';

const prep = process.argv[2] ?? '/dev/shm/ceping-ab2k';
const meetings = JSON.parse(readFileSync(path.join(prep, 'bodies.json'), 'utf8')) as string[][];
const dir = mkdtempSync(path.join(tmpdir(), 'ceping-soak-'));
cpSync(prep, dir, { recursive: true });
const s = await startServer(dir, await freePort(), { LOG_LEVEL: 'info', SCRYPT_LOG_N: '12', ...JSON.parse(process.env.SOAK_ENV ?? '{}') }, { logFile: path.join(dir, 'server.log'), nodeArgs: JSON.parse(process.env.SOAK_NODE_ARGS ?? '[]') as string[] });
/** With SOAK_NODE_ARGS='["--trace-gc"]': the main thread's full collections, from the server's log. */
const fullGcLines = () => readFileSync(path.join(dir, 'server.log'), 'utf8').split('\n').filter((l) => l.includes('Mark-Compact'));
const status = () => {
  const m = memory(s.proc.pid!);
  return `RSS ${m.nowMiB.toFixed(0)} MiB, peak ${m.peakMiB.toFixed(0)} MiB`;
};
try {
  console.log(`started: ${status()}`);
  for (const [i, bodies] of meetings.entries()) {
    const r = await closedLoop({ origin: s.base, path: '/api/voter/cast', connections: 100, body: (j) => bodies[j]!, total: bodies.length, freshEvery: 3 });
    if (process.env.SOAK_NODE_ARGS) console.log(`  last full collections: ${fullGcLines().slice(-2).join(' | ')}`);
    console.log(`meeting ${i + 1}: ${bodies.length} casts at ${r.rate.toFixed(0)}/s${r.failures ? ` (${r.failures} failed: ${r.firstFailure})` : ''}; ${status()}`);
  }
  await new Promise((r) => setTimeout(r, 3000));
  console.log(`3 s later: ${status()}`);
} finally {
  await s.stop();
  rmSync(dir, { recursive: true, force: true });
}
