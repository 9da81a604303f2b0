/**
 * npm run bench — what a hall feels, over real sockets, against a baseline measured in the same run.
 *
 * A real Ceping server process (started as `npm start` starts it, on its own data folder) and a Fastify
 * hello-world process (bench/hello-server.ts, same node_modules) run side by side; the same load
 * generator (bench/lib/load.ts) drives both, in alternating rounds, so both see the same machine. The
 * machines here are shared and noisy: read the ratios and the baselines, not the absolute times.
 *
 * Before anything is timed, every measured meeting is made over HTTP as the desk and the phones make it
 * (set-up, campaign, unit, team, meeting, roster, sign-in, every ticket redeemed with a blinded element
 * as the phone page does, voting opened), on a preparation server whose data folder is in memory
 * (/dev/shm): each sign-in and redemption is its own durable commit, and on this disk thousands of them
 * would take many minutes. That folder is then copied to disk and the measured server starts on the
 * copy, with synchronous=FULL as always. The report figures' ballots are written in-process (see
 * bench/lib/report-data.ts) into a folder of their own, at the same time, and measured on a second
 * server process started the same way after the first has stopped.
 *
 * Section 1 also runs a third contestant: the same server built with the cast's token check compiled out
 * (scripts/build-server.mjs, `withoutTokenCheck`; built into dist/bench-without-token-check/ and removed
 * after the run), on its own copy of the same data folder, for the "without the token check" ratio.
 *
 * BENCH_QUICK=1: one round of each, smaller meetings (about a minute or two).
 * BENCH_PROFILE=1: the measured server runs under `node --cpu-prof`; its heaviest functions while the
 * casts of section 1 run are printed after section 5 (the profiler costs the server some speed: read the
 * figures of such a run for where the time goes, not for the ratios).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'undici';
import WebSocket from 'ws';
import { HttpAdmin, type ServerProcess } from '../tests/helpers/server-process.ts';
import { buildServer } from '../scripts/build-server.mjs';
import { burst, closedLoop, probeWhile, type LoadResult } from './lib/load.ts';
import { castBodies, makeCampaign, makeHallMeeting, type HallMeeting } from './lib/meetings.ts';
import { buildPages, cpuMs, loggedErrors, memory, repoRoot, resetPeakMemory, startCeping, startHello } from './lib/processes.ts';
import type { ReportMeetings } from './lib/report-data.ts';
import { fmtSpread, median, ms, spread, type Spread } from './lib/stats.ts';
import { summariseProfile, type CpuProfile } from './lib/cpuprofile.ts';
import { PHONE_BYTES_TARGET, reportPhoneBytes } from './lib/phone-bytes.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const PROFILE = process.env.BENCH_PROFILE === '1';
const ROUNDS = QUICK ? 1 : 3;
// Section 1's rounds: the hello-world's rate moved by up to a third between two rounds of one run
// (3,900–5,900/s on 12-01), and each round's ratio is cast over the hello of that round, so the median of
// five is steadier than of three. Each costs 2,400 more phones to prepare.
const THROUGHPUT_ROUNDS = QUICK ? 1 : 5;
// Section 1's casts per round last about as long as its hello rounds (helloMs): a closed loop pays its
// ramp (100 connections opened at once) and its tail once per round, and 600 casts (half a second)
// measured 700–800 casts/s where 2,000 on the same server measured 1,100–1,350 (bench/README.md, 11-30).
const SIZE = QUICK
  ? { throughput: 1000, helloMs: 1000, burst: 300, accept: 300, steps: 3, bigReport: 1000, summaryMeetings: 5, summaryBallots: 100 }
  : { throughput: 2400, helloMs: 2000, burst: 300, accept: 400, steps: 4, bigReport: 5000, summaryMeetings: 30, summaryBallots: 100 };
const CONNECTIONS = 100;
const ACCEPT_CONNECTIONS = 200;
const SUBSCRIBERS = 200;
const LIVE_K = 5;
/** What the issue asks of this 2-core machine (bench figures, not tests). */
const TARGETS = {
  ratioWithoutTokenCheck: 0.35,
  ratioWithTokenCheck: 0.2,
  burstP99Ms: 300,
  snapshotP99Ms: 50,
  rssMiB: 200,
  reportMs: 100,
  phoneBytes: PHONE_BYTES_TARGET,
};

const say = (s = '') => process.stdout.write(`${s}\n`);
const pooled = (rs: LoadResult[]) => spread(rs.flatMap((r) => r.samples.map((s) => s.ms)));
const pooledFresh = (rs: LoadResult[]) => spread(rs.flatMap((r) => r.samples.filter((s) => s.fresh).map((s) => s.ms)));
function failures(what: string, rs: LoadResult[]): void {
  const n = rs.reduce((a, r) => a + r.failures, 0);
  if (n > 0) say(`  !! ${what}: ${n} requests FAILED (first: ${rs.find((r) => r.firstFailure)?.firstFailure})`);
}

const started = performance.now();
say(`Ceping bench ${new Date().toISOString()} — node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
say(`The machine is shared and noisy: compare each figure with its baseline from the same run.${QUICK ? ' QUICK run: one round each, smaller meetings.' : ''}`);
say();

buildPages();

// ---------------------------------------------------------------------------------------------
// Preparation (nothing timed): meetings over HTTP on a server whose folder is in memory.

const shm = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const prepDir = mkdtempSync(path.join(shm, 'ceping-bench-prep-'));
const dataDir = mkdtempSync(path.join(tmpdir(), 'ceping-bench-'));
const reportPrepDir = mkdtempSync(path.join(shm, 'ceping-bench-reports-prep-'));
const reportDir = mkdtempSync(path.join(tmpdir(), 'ceping-bench-reports-'));
const logDir = mkdtempSync(path.join(tmpdir(), 'ceping-bench-logs-'));
const serverLog = path.join(logDir, 'server.log');
const reportLog = path.join(logDir, 'reports.log');
const load = () => `load average ${loadavg()[0]!.toFixed(1)}`;
const stops: (() => Promise<void>)[] = [];
const children: ChildProcess[] = [];

try {
  let t0 = performance.now();
  const reportData = writeReportData(reportPrepDir);
  // Awaited after the phones are ready; a failure before then must not end the process before `finally`.
  reportData.catch(() => undefined);
  const prep = await startCeping(prepDir, path.join(logDir, 'prep.log'));
  stops.push(() => prep.stop());
  const prepAdmin = new HttpAdmin(prep.base);
  await prepAdmin.setup(prep.setupCode!);
  const hall = await makeCampaign(prepAdmin, 2020);
  const make = (people: number, liveK?: number) => makeHallMeeting(prepAdmin, hall, { people, liveK });
  // As many warm-up casts as the hello-world's second of warm-up is worth (about a second of casts): with
  // 100, V8 was still compiling on its helper threads through the first round (~450 ms of CPU per 2,000
  // casts; bench/README.md, "A fair warm-up").
  const warm = await make(QUICK ? 300 : 1200);
  const throughputMeetings: HallMeeting[] = [];
  const burstMeetings: HallMeeting[] = [];
  const acceptMeetings: HallMeeting[] = [];
  for (let r = 0; r < THROUGHPUT_ROUNDS; r++) throughputMeetings.push(await make(SIZE.throughput));
  for (let r = 0; r < ROUNDS; r++) {
    burstMeetings.push(await make(SIZE.burst));
    acceptMeetings.push(await make(SIZE.accept));
  }
  // Enough tickets still out after the last step for the 2k rule, and the village quorum (70) met.
  const snapPeople = Math.max(80, LIVE_K * SIZE.steps * ROUNDS + 2 * LIVE_K + 10);
  const snapMeeting = await make(snapPeople, LIVE_K);
  await prep.stop();
  stops.pop();
  const tokens = [warm, ...throughputMeetings, ...burstMeetings, ...acceptMeetings, snapMeeting].reduce((a, m) => a + m.tokens.length, 0);
  say(`prepared ${tokens} phones (signed in, tickets redeemed with blinded elements) over HTTP in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

  cpSync(prepDir, dataDir, { recursive: true });
  rmSync(prepDir, { recursive: true, force: true });
  const [bigCampaign, summaryCampaign] = await reportData;
  say(`wrote ${SIZE.bigReport} + ${SIZE.summaryMeetings}×${SIZE.summaryBallots} paper ballots in-process, beside that, in ${((performance.now() - t0) / 1000).toFixed(0)} s from the start`);
  cpSync(reportPrepDir, reportDir, { recursive: true });
  rmSync(reportPrepDir, { recursive: true, force: true });

  // -------------------------------------------------------------------------------------------
  // The measured processes.

  // The contestant without the token check: the same meetings, on a copy of its own, stopped after section 1.
  const noCheckDir = mkdtempSync(path.join(tmpdir(), 'ceping-bench-nocheck-'));
  cpSync(dataDir, noCheckDir, { recursive: true });
  const noCheckBundle = await buildServer({ withoutTokenCheck: true });
  let noCheck: ServerProcess | null = await startCeping(noCheckDir, path.join(logDir, 'nocheck.log'), { bundle: noCheckBundle });
  const stopNoCheck = async () => {
    await noCheck?.stop();
    noCheck = null;
    rmSync(noCheckDir, { recursive: true, force: true });
    rmSync(path.dirname(noCheckBundle), { recursive: true, force: true });
  };
  stops.push(stopNoCheck);

  const server = await startCeping(dataDir, serverLog, PROFILE ? { cpuProfileDir: path.join(logDir, 'profile') } : {});
  /** The cast rounds of section 1 on V8's profile clock (the monotonic clock, µs), for BENCH_PROFILE. */
  const castWindows: { from: number; to: number }[] = [];
  const monoUs = () => Number(process.hrtime.bigint() / 1000n);
  const stopServer = () => server.stop();
  stops.push(stopServer);
  const hello = await startHello();
  const stopHello = () => hello.stop();
  stops.push(stopHello);
  const pid = server.proc.pid!;
  const serverPort = Number(new URL(server.base).port);
  const admin = new HttpAdmin(server.base);
  await admin.login();
  const memAfterLogin = memory(pid);
  // The login's scrypt (N = 2^16, p = 2: 64 MiB for a moment) is paid once before the hall; the peak of the hall is read apart.
  const peakReset = resetPeakMemory(pid);

  // Warm both up (JIT, pools) before anything is timed.
  const warmBodies = castBodies(warm);
  await closedLoop({ origin: hello.base, path: '/hello', connections: CONNECTIONS, body: (i) => warmBodies[i % warmBodies.length]!, durationMs: 1000, freshEvery: 3 });
  failures('warm-up casts', [await closedLoop({ origin: server.base, path: '/api/voter/cast', connections: CONNECTIONS, body: (i) => warmBodies[i]!, total: warmBodies.length, freshEvery: 3 })]);
  failures('warm-up casts without the token check', [await closedLoop({ origin: noCheck.base, path: '/api/voter/cast', connections: CONNECTIONS, body: (i) => warmBodies[i]!, total: warmBodies.length, freshEvery: 3 })]);
  say(`server started on ${dataDir} (as npm start: info log, synchronous=FULL); warmed up`);
  say();

  // --- 1. Throughput at 100 connections, one request in three on a new connection.
  say(`[${load()}]`);
  say(`1. Cast throughput: ${CONNECTIONS} connections, every third request on a new connection; ${SIZE.throughput} casts per round, hello for ${SIZE.helloMs} ms per round`);
  const castRuns: LoadResult[] = [];
  const helloRuns: LoadResult[] = [];
  const noCheckRuns: LoadResult[] = [];
  const ratios: number[] = [];
  const noCheckRatios: number[] = [];
  type CpuPerRequest = { load: number; server: number };
  const cpu = { hello: [] as CpuPerRequest[], cast: [] as CpuPerRequest[], noCheck: [] as CpuPerRequest[] };
  for (let r = 0; r < THROUGHPUT_ROUNDS; r++) {
    const bodies = castBodies(throughputMeetings[r]!);
    const runCast = async () => {
      const from = monoUs();
      const result = await closedLoop({ origin: server.base, path: '/api/voter/cast', connections: CONNECTIONS, body: (i) => bodies[i]!, total: bodies.length, freshEvery: 3 });
      castWindows.push({ from, to: monoUs() });
      return result;
    };
    const runHello = () => closedLoop({ origin: hello.base, path: '/hello', connections: CONNECTIONS, body: (i) => bodies[i % bodies.length]!, durationMs: SIZE.helloMs, freshEvery: 3 });
    const noCheckBase = noCheck.base;
    const noCheckPid = noCheck.proc.pid!;
    const runNoCheck = () => closedLoop({ origin: noCheckBase, path: '/api/voter/cast', connections: CONNECTIONS, body: (i) => bodies[i]!, total: bodies.length, freshEvery: 3 });
    /** The run, and the CPU per request of this process (the load generator) and of the server (all its threads). */
    const measured = async (run: () => Promise<LoadResult>, pid: number, into: CpuPerRequest[]): Promise<LoadResult> => {
      const own = process.cpuUsage();
      const server0 = cpuMs(pid);
      const result = await run();
      const used = process.cpuUsage(own);
      into.push({ load: (used.user + used.system) / result.samples.length, server: ((cpuMs(pid) - server0) * 1000) / result.samples.length });
      return result;
    };
    const runs = { h: () => measured(runHello, hello.proc.pid!, cpu.hello), c: () => measured(runCast, server.proc.pid!, cpu.cast), n: () => measured(runNoCheck, noCheckPid, cpu.noCheck) };
    let c: LoadResult;
    let h: LoadResult;
    let n: LoadResult;
    if (r % 2 === 0) {
      h = await runs.h();
      c = await runs.c();
      n = await runs.n();
    } else {
      n = await runs.n();
      c = await runs.c();
      h = await runs.h();
    }
    castRuns.push(c);
    helloRuns.push(h);
    noCheckRuns.push(n);
    ratios.push(c.rate / h.rate);
    noCheckRatios.push(n.rate / h.rate);
    say(`  round ${r + 1}: hello ${h.rate.toFixed(0)}/s, ${fmtSpread(pooled([h]))} · cast ${c.rate.toFixed(0)}/s, ${fmtSpread(pooled([c]))} · ratio ${(c.rate / h.rate).toFixed(3)} · without the token check ${n.rate.toFixed(0)}/s, ratio ${(n.rate / h.rate).toFixed(3)}`);
  }
  failures('casts', castRuns);
  failures('casts without the token check', noCheckRuns);
  await stopNoCheck();
  stops.splice(stops.indexOf(stopNoCheck), 1);
  const ratio = median(ratios);
  const noCheckRatio = median(noCheckRatios);
  say(`cast/hello throughput ratio: ${ratio.toFixed(3)}`);
  say(`cast/hello throughput ratio without the token check: ${noCheckRatio.toFixed(3)}`);
  const tp = { cast: pooled(castRuns), hello: pooled(helloRuns), castFresh: pooledFresh(castRuns), helloFresh: pooledFresh(helloRuns) };
  say(`  cast  latency ${fmtSpread(tp.cast)}; on a new connection p99 ${ms(tp.castFresh.p99)}`);
  say(`  hello latency ${fmtSpread(tp.hello)}; on a new connection p99 ${ms(tp.helloFresh.p99)}`);
  // Both share two cores: what the load generator spends per request is taken from the server's share too.
  const perRequest = (xs: CpuPerRequest[]) => `load generator ${median(xs.map((x) => x.load)).toFixed(0)} µs, server ${median(xs.map((x) => x.server)).toFixed(0)} µs`;
  say(`  CPU per request (medians of the rounds; the server's in ticks of 10 ms): hello ${perRequest(cpu.hello)} · cast ${perRequest(cpu.cast)} · without the token check ${perRequest(cpu.noCheck)}`);
  say(`  target: ≥ ${TARGETS.ratioWithTokenCheck} with the token check, ≥ ${TARGETS.ratioWithoutTokenCheck} without it (the same server built with the check compiled out, on a copy of the same folder)`);
  say();

  // --- 2. The hall burst: 300 phones within one second, each on a new connection.
  say(`[${load()}]`);
  say(`2. Hall burst: ${SIZE.burst} phones within one second, each on a new connection (connect → reply, on the client)`);
  const castBursts: LoadResult[] = [];
  const helloBursts: LoadResult[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const bodies = castBodies(burstMeetings[r]!);
    const runCast = () => burst(server.base, '/api/voter/cast', bodies, 1000);
    const runHello = () => burst(hello.base, '/hello', bodies, 1000);
    const pair = r % 2 === 0 ? { h: await runHello(), c: await runCast() } : { c: await runCast(), h: await runHello() };
    castBursts.push(pair.c);
    helloBursts.push(pair.h);
    // The starts' real spread: a loaded bench process fires its timers late.
    say(`  round ${r + 1}: hello ${fmtSpread(pooled([pair.h]))} (started over ${pair.h.spreadMs.toFixed(0)} ms) · cast ${fmtSpread(pooled([pair.c]))} (over ${pair.c.spreadMs.toFixed(0)} ms)`);
  }
  failures('burst casts', castBursts);
  const bursts = { cast: pooled(castBursts), hello: pooled(helloBursts) };
  say(`  cast  ${fmtSpread(bursts.cast)}`);
  say(`  hello ${fmtSpread(bursts.hello)}`);
  say(`  target: p99 ≤ ${TARGETS.burstP99Ms} ms including the connection's accept`);
  say();

  // --- 3. The accept wait while a large batch is written.
  say(`[${load()}]`);
  say(`3. Accept wait: a new connection's first byte (GET /healthz, probes every 20 ms) while ${ACCEPT_CONNECTIONS} keep-alive connections cast ${SIZE.accept} ballots; hello under the same load for as long`);
  const acceptCast: number[] = [];
  const acceptHello: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const bodies = castBodies(acceptMeetings[r]!);
    const load = closedLoop({ origin: server.base, path: '/api/voter/cast', connections: ACCEPT_CONNECTIONS, body: (i) => bodies[i]!, total: bodies.length });
    const probes = await probeWhile(serverPort, '/healthz', 20, load);
    const c = await load;
    failures('accept-wait casts', [c]);
    const helloLoad = closedLoop({ origin: hello.base, path: '/hello', connections: ACCEPT_CONNECTIONS, body: (i) => bodies[i % bodies.length]!, durationMs: c.elapsedMs });
    const helloProbes = await probeWhile(hello.port, '/healthz', 20, helloLoad);
    await helloLoad;
    acceptCast.push(...probes);
    acceptHello.push(...helloProbes);
    say(`  round ${r + 1}: cast batch ${c.elapsedMs.toFixed(0)} ms, probes ${fmtSpread(spread(probes))} · hello probes ${fmtSpread(spread(helloProbes))}`);
  }
  const accept = { cast: spread(acceptCast), hello: spread(acceptHello) };
  say(`  cast  ${fmtSpread(accept.cast)}`);
  say(`  hello ${fmtSpread(accept.hello)}`);
  say();

  // --- 4. The k-th ballot's acknowledgment → the snapshot at 200 dashboards.
  say(`[${load()}]`);
  say(`4. Live step: the k-th ballot's acknowledgment (k = ${LIVE_K}) → its snapshot arriving at ${SUBSCRIBERS} dashboard websockets; hello: POST /step → a message of the same size to ${SUBSCRIBERS} sockets`);
  const snapshotSamples = await liveSteps(server.base, admin, snapMeeting, hello.base);
  say(`  cast  ack → snapshot ${fmtSpread(snapshotSamples.cast)}; request sent → snapshot ${fmtSpread(snapshotSamples.castFromSend)}`);
  say(`  hello ack → message  ${fmtSpread(snapshotSamples.hello)}; request sent → message ${fmtSpread(snapshotSamples.helloFromSend)}`);
  say(`  (negative: the dashboards had the snapshot before the phone had its acknowledgment)`);
  say(`  target: p99 ≤ ${TARGETS.snapshotP99Ms} ms`);
  say();

  const memHall = memory(pid);

  // --- 5. The bytes of the phone's first screen and first ballot screen (bench/lib/phone-bytes.ts).
  say("5. What a phone downloads before its first ballot screen, bodies as sent (also alone: npx tsx bench/phone-bytes.ts)");
  const pages = await reportPhoneBytes(server.base, say);
  say();

  // --- 6. Reports after close.
  const errors = loggedErrors(serverLog);
  if (errors.length > 0) say(`  !! the server logged ${errors.length} errors; the first: ${errors[0]!.slice(0, 300)}`);
  await server.stop();
  stops.splice(stops.indexOf(stopServer), 1);
  if (PROFILE) {
    const dir = path.join(logDir, 'profile');
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (file) {
      const kept = path.join(tmpdir(), `ceping-bench-${Date.now()}.cpuprofile`);
      cpSync(path.join(dir, file), kept);
      const profile = JSON.parse(readFileSync(kept, 'utf8')) as CpuProfile;
      say(`Profile of the server while the casts of section 1 ran (the whole run kept in ${kept}):`);
      say(summariseProfile(profile, { top: 25, root: repoRoot, windows: castWindows }));
      say();
    } else say('  !! no profile was written');
  }

  say(`[${load()}]`);
  say(`6. Reports after close, on a second server process started the same way on the report ballots' folder (GET over a kept-alive connection; baseline: GET /healthz on the same server)`);
  const reportServer = await startCeping(reportDir, reportLog);
  const stopReportServer = () => reportServer.stop();
  stops.push(stopReportServer);
  const reportAdmin = new HttpAdmin(reportServer.base);
  await reportAdmin.login();
  const reportPid = reportServer.proc.pid!;
  const reportMemAfterLogin = memory(reportPid);
  const reportPeakReset = resetPeakMemory(reportPid);
  const reports = await reportTimes(reportServer.base, reportAdmin, bigCampaign!.meetingIds[0]!, summaryCampaign!);
  const reportErrors = loggedErrors(reportLog);
  if (reportErrors.length > 0) say(`  !! the report server logged ${reportErrors.length} errors; the first: ${reportErrors[0]!.slice(0, 300)}`);
  say(`  report of the ${SIZE.bigReport}-ballot meeting: first ${ms(reports.reportFirst)}, then median ${ms(reports.reportWarm)} (close took ${ms(reports.closeMs)}; healthz ${ms(reports.healthz)})`);
  say(`  year summary of ${SIZE.summaryMeetings} meetings × ${SIZE.summaryBallots} ballots: first ${ms(reports.summaryFirst)}, then median ${ms(reports.summaryWarm)}`);
  say(`  target: a 5,000-ballot meeting's report ≤ ${TARGETS.reportMs} ms${QUICK ? ' (QUICK: the meeting has fewer ballots)' : ''}`);
  say();

  // --- 7. Memory.
  const reportMem = memory(reportPid);
  const helloMem = memory(hello.proc.pid!);
  const hallPeak = peakReset ? memHall.peakMiB : Number.NaN;
  const reportPeak = reportPeakReset ? reportMem.peakMiB : Number.NaN;
  const withLogin = Math.max(memAfterLogin.peakMiB, memHall.peakMiB, reportMemAfterLogin.peakMiB, reportMem.peakMiB);
  say(`7. Server memory (VmHWM, MiB): peak through the hall phases ${hallPeak.toFixed(0)}, through the reports ${reportPeak.toFixed(0)} (both counted from after the admin login${peakReset && reportPeakReset ? '' : '; NaN: the peak could not be reset here'}); with the login ${withLogin.toFixed(0)} · hello peak ${helloMem.peakMiB.toFixed(0)}`);
  say(`  target: ≤ ${TARGETS.rssMiB} MB. A login hashes with scrypt N = 2^16 (r = 8, p = 2), which alone takes 64 MiB for a moment.`);
  say();

  // --- Summary.
  const row = (what: string, figure: string, baseline: string, target: string) => say(`  ${what.padEnd(34)} ${figure.padEnd(26)} ${baseline.padEnd(26)} ${target}`);
  say(`Summary (${QUICK ? 'QUICK' : 'full'} run, ${((performance.now() - started) / 1000).toFixed(0)} s so far; slips follow)`);
  row('', 'Ceping', 'baseline', 'target');
  row('cast/hello throughput ratio', ratio.toFixed(3), `hello ${median(helloRuns.map((h) => h.rate)).toFixed(0)}/s`, `≥ ${TARGETS.ratioWithTokenCheck} with token check (≥ ${TARGETS.ratioWithoutTokenCheck} without)`);
  row('  … without the token check', noCheckRatio.toFixed(3), '', `≥ ${TARGETS.ratioWithoutTokenCheck}`);
  row('cast throughput', `${median(castRuns.map((c) => c.rate)).toFixed(0)}/s (without the check ${median(noCheckRuns.map((c) => c.rate)).toFixed(0)}/s)`, '', '');
  row('cast latency p50 / p99', `${ms(tp.cast.p50)} / ${ms(tp.cast.p99)}`, `${ms(tp.hello.p50)} / ${ms(tp.hello.p99)}`, '');
  row('hall burst p50 / p99 / max', `${ms(bursts.cast.p50)} / ${ms(bursts.cast.p99)} / ${ms(bursts.cast.max)}`, `${ms(bursts.hello.p50)} / ${ms(bursts.hello.p99)} / ${ms(bursts.hello.max)}`, `p99 ≤ ${TARGETS.burstP99Ms} ms`);
  row('accept wait p50 / p99 / max', `${ms(accept.cast.p50)} / ${ms(accept.cast.p99)} / ${ms(accept.cast.max)}`, `${ms(accept.hello.p50)} / ${ms(accept.hello.p99)} / ${ms(accept.hello.max)}`, '"within milliseconds"');
  row('snapshot at 200 dashboards p99', `${ms(snapshotSamples.cast.p99)} from ack`, `${ms(snapshotSamples.hello.p99)}`, `≤ ${TARGETS.snapshotP99Ms} ms`);
  row('  … from the request sent, p99', ms(snapshotSamples.castFromSend.p99), ms(snapshotSamples.helloFromSend.p99), '');
  row('server RSS peak, hall / reports', `${hallPeak.toFixed(0)} / ${reportPeak.toFixed(0)} MiB`, `hello ${helloMem.peakMiB.toFixed(0)} MiB`, `≤ ${TARGETS.rssMiB} MB`);
  row('server RSS peak with the login', `${withLogin.toFixed(0)} MiB`, '', '');
  row(`report, ${SIZE.bigReport} ballots (first/warm)`, `${ms(reports.reportFirst)} / ${ms(reports.reportWarm)}`, `healthz ${ms(reports.healthz)}`, `≤ ${TARGETS.reportMs} ms`);
  row(`year summary ${SIZE.summaryMeetings}×${SIZE.summaryBallots} (first/warm)`, `${ms(reports.summaryFirst)} / ${ms(reports.summaryWarm)}`, `healthz ${ms(reports.healthz)}`, '');
  row('phone first ballot screen, gzip', `${pages.gzip.ballotScreen.total} bytes`, `uncompressed ${pages.identity.ballotScreen.total}`, `≤ ${TARGETS.phoneBytes} bytes`);
  row('  … br (HTTPS)', `${pages.br.ballotScreen.total} bytes`, '', '');
  row('phone first screen, gzip', `${pages.gzip.firstScreen.total} bytes`, '', '');
} finally {
  for (const child of children) if (child.exitCode === null) child.kill();
  for (const stop of stops.reverse()) {
    // A process that does not stop is named, not waited for in silence.
    const slow = setTimeout(() => process.stderr.write(`!! ${stop.name || 'a process'} has not stopped after 30 s\n`), 30_000);
    await stop().catch((err: unknown) => process.stderr.write(`!! ${stop.name || 'a process'} failed to stop: ${String(err)}\n`));
    clearTimeout(slow);
  }
  rmSync(prepDir, { recursive: true, force: true });
  for (const dir of [dataDir, reportPrepDir, reportDir, logDir]) rmSync(dir, { recursive: true, force: true });
}

/** The report figures' paper ballots, written by a child process (its own core) into `dir`. */
function writeReportData(dir: string): Promise<ReportMeetings[]> {
  const spec = [
    { year: 2021, meetings: 1, ballots: SIZE.bigReport },
    { year: 2022, meetings: SIZE.summaryMeetings, ballots: SIZE.summaryBallots },
  ];
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/lib/report-data.ts', dir, JSON.stringify(spec)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`writing the report ballots failed (exit ${code}): ${out}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1)!) as ReportMeetings[]);
    });
  });
}

// ---------------------------------------------------------------------------------------------

interface Subscriber {
  ws: WebSocket;
  /** Arrival times of the snapshot messages. */
  snapshots: number[];
  lastSize: number;
}

function subscribe(url: string, headers: Record<string, string>): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const sub: Subscriber = { ws, snapshots: [], lastSize: 0 };
    ws.on('message', (data: Buffer) => {
      // Only the type is looked at on arrival; a dashboard's own parsing is not the server's time.
      if (data.includes('"type":"snapshot"')) {
        sub.snapshots.push(performance.now());
        sub.lastSize = data.length;
      }
    });
    ws.once('open', () => resolve(sub));
    ws.once('error', reject);
  });
}

/** Resolves once every subscriber has more than `before[i]` snapshots; the latencies from `ack`. */
async function arrivals(subs: Subscriber[], before: number[], ack: number): Promise<number[]> {
  const deadline = performance.now() + 30_000;
  while (subs.some((s, i) => s.snapshots.length <= before[i]!)) {
    if (performance.now() > deadline) throw new Error('a snapshot did not arrive within 30 s');
    await new Promise((r) => setTimeout(r, 1));
  }
  return subs.map((s, i) => s.snapshots[before[i]!]! - ack);
}

async function liveSteps(base: string, admin: HttpAdmin, meeting: HallMeeting, helloBase: string): Promise<{ cast: Spread; hello: Spread; castFromSend: Spread; helloFromSend: Spread }> {
  const wsBase = base.replace(/^http/, 'ws');
  const castSubs = await Promise.all(
    Array.from({ length: SUBSCRIBERS }, () => subscribe(`${wsBase}/api/meetings/${meeting.meetingId}/live/ws`, { cookie: admin.cookie, origin: base })),
  );
  const helloSubs = await Promise.all(Array.from({ length: SUBSCRIBERS }, () => subscribe(`${helloBase.replace(/^http/, 'ws')}/ws`, {})));
  const phone = new Client(base);
  const desk = new Client(helloBase);
  const bodies = castBodies(meeting);
  let next = 0;
  const castOne = async () => {
    const res = await phone.request({ method: 'POST', path: '/api/voter/cast', headers: { 'content-type': 'application/json' }, body: bodies[next++]! });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`cast → ${res.statusCode} ${text}`);
  };
  const cast: number[] = [];
  const hello: number[] = [];
  const castFromSend: number[] = [];
  const helloFromSend: number[] = [];
  try {
    await new Promise((r) => setTimeout(r, 200));
    for (let r = 0; r < ROUNDS; r++) {
      for (let s = 0; s < SIZE.steps; s++) {
        for (let i = 0; i < LIVE_K - 1; i++) await castOne();
        const before = castSubs.map((x) => x.snapshots.length);
        const sent = performance.now();
        await castOne();
        const ack = performance.now();
        const after = await arrivals(castSubs, before, ack);
        cast.push(...after);
        castFromSend.push(...after.map((x) => x + ack - sent));
      }
      const size = castSubs[0]!.lastSize;
      for (let s = 0; s < SIZE.steps; s++) {
        const before = helloSubs.map((x) => x.snapshots.length);
        const sent = performance.now();
        const res = await desk.request({ method: 'POST', path: '/step', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ size }) });
        await res.body.text();
        const ack = performance.now();
        const after = await arrivals(helloSubs, before, ack);
        hello.push(...after);
        helloFromSend.push(...after.map((x) => x + ack - sent));
      }
      say(`  round ${r + 1}: cast ${fmtSpread(spread(cast.slice(-SIZE.steps * SUBSCRIBERS)))} · hello ${fmtSpread(spread(hello.slice(-SIZE.steps * SUBSCRIBERS)))} (snapshot ${size} bytes)`);
    }
  } finally {
    for (const s of [...castSubs, ...helloSubs]) s.ws.terminate();
    await phone.close();
    await desk.close();
  }
  return { cast: spread(cast), hello: spread(hello), castFromSend: spread(castFromSend), helloFromSend: spread(helloFromSend) };
}

async function reportTimes(base: string, admin: HttpAdmin, bigMeetingId: number, summary: { campaignId: number; meetingIds: number[] }) {
  const client = new Client(base);
  const headers = { cookie: admin.cookie, 'x-csrf-token': admin.csrf, origin: base };
  const timedGet = async (url: string) => {
    const t0 = performance.now();
    const res = await client.request({ method: 'GET', path: url, headers });
    const body = await res.body.arrayBuffer();
    const elapsed = performance.now() - t0;
    if (res.statusCode !== 200) throw new Error(`${url} → ${res.statusCode} ${Buffer.from(body).toString().slice(0, 200)}`);
    return elapsed;
  };
  const waitCompacted = async (ids: number[]) => {
    const deadline = performance.now() + 120_000;
    for (const id of ids) {
      while (!(await admin.call<{ compacted: boolean }>('GET', `/api/meetings/${id}`)).compacted) {
        if (performance.now() > deadline) throw new Error(`meeting ${id} was not rebuilt after close`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  try {
    const healthz: number[] = [];
    for (let i = 0; i < 5; i++) healthz.push(await timedGet('/healthz'));
    const c0 = performance.now();
    await admin.call('POST', `/api/meetings/${bigMeetingId}/close-voting`);
    const closeMs = performance.now() - c0;
    await waitCompacted([bigMeetingId]);
    const reportFirst = await timedGet(`/api/meetings/${bigMeetingId}/report`);
    const warm: number[] = [];
    for (let i = 0; i < 5; i++) warm.push(await timedGet(`/api/meetings/${bigMeetingId}/report`));
    for (const id of summary.meetingIds) await admin.call('POST', `/api/meetings/${id}/close-voting`);
    await waitCompacted(summary.meetingIds);
    const summaryFirst = await timedGet(`/api/campaigns/${summary.campaignId}/summary`);
    const summaryWarm: number[] = [];
    for (let i = 0; i < 5; i++) summaryWarm.push(await timedGet(`/api/campaigns/${summary.campaignId}/summary`));
    return { healthz: median(healthz), closeMs, reportFirst, reportWarm: median(warm), summaryFirst, summaryWarm: median(summaryWarm) };
  } finally {
    await client.close();
  }
}
