/**
 * Where a big meeting's report spends its time: a real server process (started as `npm start` starts
 * it) run under `node --cpu-prof`, asked for the report of a closed 5,000-ballot meeting over HTTP, then
 * stopped so the profile is written; the profile's heaviest functions are printed.
 *
 *   npx tsx bench/profile-report.ts [BALLOTS] [PREPARED_DIR]
 *
 * BALLOTS (default 5000) paper ballots are written in-process as bench/lib/report-data.ts writes them
 * (a minute or two). PREPARED_DIR: a data folder written before by report-data.ts with one meeting; it is
 * copied, never changed, so before/after runs can share it. The .cpuprofile is kept (its path is printed)
 * for Chrome DevTools.
 *
 * The figures are those of a shared, noisy machine: each report time is printed beside GET /healthz on
 * the same connection in the same run.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'undici';
import { freePort, HttpAdmin, startServer } from '../tests/helpers/server-process.ts';
import { repoRoot } from './lib/processes.ts';
import { summariseProfile } from './lib/cpuprofile.ts';
import { median, ms } from './lib/stats.ts';

const BALLOTS = Number(process.argv[2] ?? 5000);
const prepared = process.argv[3];
const REPEAT = 20;
const say = (s = '') => process.stdout.write(`${s}\n`);

const window = { from: 0, to: Number.POSITIVE_INFINITY };
const work = mkdtempSync(path.join(tmpdir(), 'ceping-profile-'));
const dataDir = path.join(work, 'data');
const profDir = path.join(work, 'profile');
try {
  if (prepared) {
    cpSync(prepared, dataDir, { recursive: true });
  } else {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/lib/report-data.ts', dataDir, JSON.stringify([{ year: 2021, meetings: 1, ballots: BALLOTS }])], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error('writing the ballots failed');
    say(`wrote ${BALLOTS} paper ballots in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  const server = await startServer(dataDir, await freePort(), {
    LOG_LEVEL: 'info',
    SCRYPT_LOG_N: '17',
  }, { logFile: path.join(work, 'server.log'), nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
  let stopped = false;
  try {
    const admin = new HttpAdmin(server.base);
    await admin.login();
    const { meetings } = await admin.call<{ meetings: { id: number }[] }>('GET', '/api/meetings');
    if (meetings.length !== 1) throw new Error(`expected one meeting in the folder, found ${meetings.length}`);
    const meetingId = meetings[0]!.id;
    const c0 = performance.now();
    await admin.call('POST', `/api/meetings/${meetingId}/close-voting`).catch((e: Error) => {
      if (!/BAD_STATE|409/.test(e.message)) throw e;
    });
    say(`close: ${ms(performance.now() - c0)}`);
    const deadline = performance.now() + 120_000;
    while (!(await admin.call<{ compacted: boolean }>('GET', `/api/meetings/${meetingId}`)).compacted) {
      if (performance.now() > deadline) throw new Error('the meeting was not rebuilt after close');
      await new Promise((r) => setTimeout(r, 100));
    }
    const client = new Client(server.base);
    const headers = { cookie: admin.cookie, 'x-csrf-token': admin.csrf, origin: server.base };
    const timed = async (url: string) => {
      const t0 = performance.now();
      const res = await client.request({ method: 'GET', path: url, headers });
      const body = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`${url} → ${res.statusCode} ${body.slice(0, 200)}`);
      return { ms: performance.now() - t0, bytes: Buffer.byteLength(body) };
    };
    const report: number[] = [];
    const healthz: number[] = [];
    let bytes = 0;
    // V8's profile clock and process.hrtime are both the monotonic clock (µs there, ns here), so the
    // profile can be cut to the stretch of the reports alone.
    window.from = Number(process.hrtime.bigint() / 1000n);
    for (let i = 0; i < REPEAT; i++) {
      healthz.push((await timed('/healthz')).ms);
      const r = await timed(`/api/meetings/${meetingId}/report`);
      report.push(r.ms);
      bytes = r.bytes;
    }
    window.to = Number(process.hrtime.bigint() / 1000n);
    await client.close();
    const rep = median(report.slice(1));
    const hz = median(healthz.slice(1));
    say(`report of the ${BALLOTS}-ballot meeting (${bytes} bytes): first ${ms(report[0]!)}, then median ${ms(rep)} · GET /healthz median ${ms(hz)} · ratio ${(rep / hz).toFixed(1)}× healthz`);
  } finally {
    if (!stopped) await server.stop();
    stopped = true;
  }
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no profile was written');
  const kept = path.join(tmpdir(), `ceping-report-${BALLOTS}-${Date.now()}.cpuprofile`);
  cpSync(path.join(profDir, file), kept);
  say(`profile: ${kept} (the whole server run; below: only the ${REPEAT} reports and healthz calls)`);
  say();
  say(summariseProfile(JSON.parse(readFileSync(kept, 'utf8')), { top: 25, root: repoRoot, from: window.from, to: window.to }));
} finally {
  rmSync(work, { recursive: true, force: true });
}
