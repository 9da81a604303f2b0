/**
 * npx tsx bench/burst.ts '[{…env}, {…env}]' — section 2 of `npm run bench` (300 phones within one second,
 * each on a new connection) alone, for comparing server variants in alternating rounds: each variant is
 * the environment of the server process (for example `{"VOPRF_WORKERS":"0"}`), every round starts a fresh
 * server process on a copy of the same prepared folder, warms it up with 50 casts one at a time, and
 * bursts 300 more of a meeting no round has used.
 *
 * Per burst it prints the client's p50/p99 (connect → reply), the server's own p50/p99 of the same requests
 * (its request log, from the request's arrival), and the CPU the server process used (all its threads,
 * from /proc): the CPU varies far less than the latencies on a shared machine. At the end, each variant's
 * medians. A variant's "BUNDLE" is not an environment variable but the server bundle to start (another
 * build of the sources, for comparing two versions). BURST_LOAD=closed sends the same casts as section 1
 * of run.ts does instead (100 connections kept busy, every third request on a new connection) and prints
 * the rate. BURST_THREADS=1 prints the server's CPU per thread. ROUNDS=3 (default 2); BURST_PROFILE=1
 * prints each thread's profile within each burst (BURST_PROFILE_US: the sampling interval in µs, default
 * 1000; BURST_PROFILE_SAVE=DIR keeps the profiles there);
 * BURST_LOG_SAVE=DIR keeps each server's log there. A variant's NODE_ARGS (space-separated) are flags for
 * node, after npm start's own (SERVER_NODE_FLAGS), so they override them: `{"NODE_ARGS":"--trace-gc"}`.
 * A variant's WARM_CLOSED=N casts the burst's first N ballots in a closed loop before it, untimed, so the
 * JIT has settled (V8 compiles on its helper threads for the first thousand or so casts).
 * Each closed-loop round also prints the share of the machine's CPU left idle (/proc/stat, all cores): near 0,
 * the round was bound by CPU, not by waiting.
 * BURST_THREADS=tid prints each thread apart (V8's four helpers are all "node"; under --single-threaded-gc
 * they only compile optimised code: perf showed TurboFan's passes on them).
 * BURST_PEOPLE=N bursts N phones instead of 300 (the prepared folder is made for one number).
 * BURST_PREP=DIR keeps the prepared folder there and reuses it when it exists (prepare again after a
 * migration).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, HttpAdmin, startServer } from '../tests/helpers/server-process.ts';
import { summariseProfile } from './lib/cpuprofile.ts';
import { burst, closedLoop } from './lib/load.ts';
import { cpuMs, memory } from './lib/processes.ts';
import { castBodies, makeCampaign, makeHallMeeting } from './lib/meetings.ts';
import { spread } from './lib/stats.ts';

const variants = JSON.parse(process.argv[2] ?? '[{}]') as Record<string, string>[];
const rounds = Number(process.env.ROUNDS ?? 2);
const profile = process.env.BURST_PROFILE === '1';
const closed = process.env.BURST_LOAD === 'closed';
/** Phones per burst (BURST_PEOPLE; more make the closed loop's rate steadier). */
const PEOPLE = Number(process.env.BURST_PEOPLE ?? 300);
/** Casts sent one at a time before each burst, untimed, so the burst meets a warmed-up process as in section 2 of run.ts. */
const WARM = 50;
/** The machine's idle and total CPU time so far (/proc/stat, all cores, in ticks): how much CPU a round left unused. */
const machineIdle = () => {
  const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { idle: ticks[3]! + ticks[4]!, total: ticks.reduce((a, b) => a + b, 0) };
};
const threadOf = (file: string) => Number(file.split('.').at(-3));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const shm = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const prep = process.env.BURST_PREP ?? mkdtempSync(path.join(shm, 'ceping-burst-prep-'));
const bodiesFile = path.join(prep, 'bodies.json');
if (!existsSync(bodiesFile)) {
  mkdirSync(prep, { recursive: true });
  const t0 = performance.now();
  const s = await startServer(prep, await freePort(), { SCRYPT_LOG_N: '12' });
  const admin = new HttpAdmin(s.base);
  await admin.setup(s.setupCode!);
  const campaign = await makeCampaign(admin, 2020);
  const meetings: string[][] = [];
  for (let i = 0; i < variants.length * rounds; i++) meetings.push(castBodies(await makeHallMeeting(admin, campaign, { people: WARM + PEOPLE })));
  await s.stop();
  writeFileSync(bodiesFile, JSON.stringify(meetings));
  console.log(`prepared ${meetings.length} meetings of ${PEOPLE} phones in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
const meetings = JSON.parse(readFileSync(bodiesFile, 'utf8')) as string[][];
// More runs than prepared meetings: the folder is copied afresh before each run, and the meetings used again in turn.
const reuse = meetings.length < variants.length * rounds;

const dir = mkdtempSync(path.join(tmpdir(), 'ceping-burst-'));
cpSync(prep, dir, { recursive: true });
const seen = new Map<string, { cpu: number[]; p50: number[]; p99: number[]; server99: number[]; rate: number[] }>();
let n = 0;
try {
  for (let round = 0; round < rounds; round++) {
    for (const env of variants) {
      const i = n++;
      const log = path.join(dir, `server-${i}.log`);
      const profDir = path.join(dir, `profile-${i}`);
      const { BUNDLE, NODE_ARGS, WARM_CLOSED, ...vars } = env;
      if (reuse) {
        rmSync(dir, { recursive: true, force: true });
        cpSync(prep, dir, { recursive: true });
      }
      const s = await startServer(dir, await freePort(), { LOG_LEVEL: 'info', SCRYPT_LOG_N: '12', ...vars }, { logFile: log, bundle: BUNDLE, nodeArgs: [...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-interval=${process.env.BURST_PROFILE_US ?? 1000}`] : []), ...(NODE_ARGS ? NODE_ARGS.split(' ') : [])] });
      for (const body of meetings[i % meetings.length]!.slice(0, WARM)) {
        const res = await fetch(`${s.base}/api/voter/cast`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        if (!res.ok) throw new Error(`warm-up cast → ${res.status} ${await res.text()}`);
      }
      /** CPU per thread name (/proc/<pid>/task/<tid>/comm), user and system apart, summed: main thread, workers, V8's and libuv's helpers. */
      const threadMs = () => {
        const out = new Map<string, number>();
        for (const tid of readdirSync(`/proc/${s.proc.pid}/task`)) {
          try {
            const name = readFileSync(`/proc/${s.proc.pid}/task/${tid}/comm`, 'utf8').trim();
            const f = readFileSync(`/proc/${s.proc.pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
            const key = `${name}${tid === String(s.proc.pid) ? ' (main)' : process.env.BURST_THREADS === 'tid' ? `#${tid}` : ''}`;
            out.set(`${key} user`, (out.get(`${key} user`) ?? 0) + Number(f[11]) * 10);
            out.set(`${key} sys`, (out.get(`${key} sys`) ?? 0) + Number(f[12]) * 10);
          } catch {
            // the thread ended meanwhile
          }
        }
        return out;
      };
      // WARM_CLOSED=N: the first N casts of the burst go in a closed loop first, untimed (the JIT settles), and the rest are measured.
      const warmClosed = Number(WARM_CLOSED ?? 0);
      if (warmClosed > 0) {
        const warmBodies = meetings[i % meetings.length]!.slice(WARM, WARM + warmClosed);
        await closedLoop({ origin: s.base, path: '/api/voter/cast', connections: 100, body: (j) => warmBodies[j]!, total: warmBodies.length, freshEvery: 3 });
      }
      const threads0 = threadMs();
      const machine0 = machineIdle();
      const cpu0 = cpuMs(s.proc.pid!);
      const from = Number(process.hrtime.bigint() / 1000n);
      const bodies = meetings[i % meetings.length]!.slice(WARM + warmClosed);
      const r = closed
        ? await closedLoop({ origin: s.base, path: '/api/voter/cast', connections: 100, body: (j) => bodies[j]!, total: bodies.length, freshEvery: 3 })
        : await burst(s.base, '/api/voter/cast', bodies, 1000);
      const to = Number(process.hrtime.bigint() / 1000n);
      const cpu = cpuMs(s.proc.pid!) - cpu0;
      const machine = machineIdle();
      const idleShare = (machine.idle - machine0.idle) / (machine.total - machine0.total);
      const threads = [...threadMs()].map(([k, v]) => [k, v - (threads0.get(k) ?? 0)] as const).filter(([, v]) => v > 0);
      if (process.env.BURST_THREADS) console.log(`  CPU by thread: ${threads.map(([k, v]) => `${k} ${v} ms`).join(', ')}`);
      const { peakMiB } = memory(s.proc.pid!);
      await s.stop();
      const client = spread(r.samples.map((x) => x.ms));
      if (process.env.BURST_LOG_SAVE) cpSync(log, path.join(process.env.BURST_LOG_SAVE, `burst-${i}.log`));
      const serverMs = readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('"route":"/api/voter/cast"')).slice(WARM + warmClosed).map((l) => (JSON.parse(l) as { ms: number }).ms);
      const server = spread(serverMs);
      const key = JSON.stringify(env);
      const rate = (bodies.length / (to - from)) * 1e6;
      const v = seen.get(key) ?? { cpu: [], p50: [], p99: [], server99: [], rate: [] };
      v.cpu.push(cpu), v.p50.push(client.p50), v.p99.push(client.p99), v.server99.push(server.p99), v.rate.push(rate);
      seen.set(key, v);
      console.log(`${key}: ${closed ? `${rate.toFixed(0)} casts/s (load generator busy ${((r.busy ?? 0) * 100).toFixed(0)} %, machine idle ${(idleShare * 100).toFixed(0)} %); ` : ''}client p50 ${client.p50.toFixed(0)} · p99 ${client.p99.toFixed(0)} ms; server p50 ${server.p50.toFixed(0)} · p99 ${server.p99.toFixed(0)} ms; server CPU ${cpu} ms; memory peak ${peakMiB.toFixed(0)} MiB${r.failures ? `; ${r.failures} FAILED (${r.firstFailure})` : ''}`);
      if (profile) {
        // One file per thread: CPU.<date>.<time>.<pid>.<thread id>.<n>.cpuprofile, the main thread's id 0.
        const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')).sort((a, b) => threadOf(a) - threadOf(b));
        for (const file of files) {
          console.log(`thread ${threadOf(file)}${threadOf(file) === 0 ? ' (main)' : ''}:`);
          if (process.env.BURST_PROFILE_SAVE) cpSync(path.join(profDir, file), path.join(process.env.BURST_PROFILE_SAVE, `burst-${i}-thread-${threadOf(file)}.cpuprofile`));
          console.log(summariseProfile(JSON.parse(readFileSync(path.join(profDir, file), 'utf8')), { top: threadOf(file) === 0 ? 30 : 15, root: process.cwd(), windows: [{ from, to }] }));
        }
      }
    }
  }
  console.log('medians:');
  for (const [key, v] of seen) console.log(`  ${key}: ${closed ? `${median(v.rate).toFixed(0)} casts/s; ` : ''}client p50 ${median(v.p50).toFixed(0)} · p99 ${median(v.p99).toFixed(0)} ms; server p99 ${median(v.server99).toFixed(0)} ms; server CPU ${median(v.cpu)} ms`);
} finally {
  rmSync(dir, { recursive: true, force: true });
  if (!process.env.BURST_PREP) rmSync(prep, { recursive: true, force: true });
}
