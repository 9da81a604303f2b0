/**
 * Where a big meeting's report (or a year summary) spends its time: a real server process (started as
 * `npm start` starts it) run under `node --cpu-prof`, asked 20 times over HTTP for the report of a closed
 * 5,000-ballot meeting (or the summary of a year of 30 meetings × 100 ballots), then stopped so the
 * profile is written; the profile's heaviest functions while those requests ran are printed.
 *
 *   npx tsx bench/profile-report.ts [report|summary] [PREPARED_DIR]
 *
 * The paper ballots are written in-process as bench/lib/report-data.ts writes them (a few minutes).
 * PREPARED_DIR: a data folder written before by report-data.ts (one campaign, voting still open); it is
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

const WHAT = process.argv[2] === 'summary' ? 'summary' : 'report';
const SPEC = WHAT === 'summary' ? { year: 2022, meetings: 30, ballots: 100 } : { year: 2021, meetings: 1, ballots: 5000 };
const LABEL = WHAT === 'summary' ? 'year summary of 30 meetings × 100 ballots' : 'report of the 5000-ballot meeting';
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
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/lib/report-data.ts', dataDir, JSON.stringify([SPEC])], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error('writing the ballots failed');
    say(`wrote ${SPEC.meetings} × ${SPEC.ballots} paper ballots in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  const server = await startServer(dataDir, await freePort(), {
    LOG_LEVEL: 'info',
    SCRYPT_LOG_N: '16',
  }, { logFile: path.join(work, 'server.log'), nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
  let stopped = false;
  try {
    const admin = new HttpAdmin(server.base);
    await admin.login();
    const { meetings } = await admin.call<{ meetings: { id: number; campaignId: number }[] }>('GET', '/api/meetings');
    if (meetings.length !== SPEC.meetings) throw new Error(`expected ${SPEC.meetings} meetings in the folder, found ${meetings.length}`);
    const c0 = performance.now();
    for (const m of meetings) {
      await admin.call('POST', `/api/meetings/${m.id}/close-voting`).catch((e: Error) => {
        if (!/BAD_STATE|409/.test(e.message)) throw e;
      });
    }
    say(`close: ${ms(performance.now() - c0)}`);
    const deadline = performance.now() + 120_000;
    for (const m of meetings) {
      while (!(await admin.call<{ compacted: boolean }>('GET', `/api/meetings/${m.id}`)).compacted) {
        if (performance.now() > deadline) throw new Error('a meeting was not rebuilt after close');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const url = WHAT === 'summary' ? `/api/campaigns/${meetings[0]!.campaignId}/summary` : `/api/meetings/${meetings[0]!.id}/report`;
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
      const r = await timed(url);
      report.push(r.ms);
      bytes = r.bytes;
    }
    window.to = Number(process.hrtime.bigint() / 1000n);
    await client.close();
    const rep = median(report.slice(1));
    const hz = median(healthz.slice(1));
    say(`${LABEL} (${bytes} bytes): first ${ms(report[0]!)}, then median ${ms(rep)} · GET /healthz median ${ms(hz)} · ratio ${(rep / hz).toFixed(1)}× healthz`);
  } finally {
    if (!stopped) await server.stop();
    stopped = true;
  }
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no profile was written');
  const kept = path.join(tmpdir(), `ceping-${WHAT}-${Date.now()}.cpuprofile`);
  cpSync(path.join(profDir, file), kept);
  say(`profile: ${kept} (the whole server run; below: only the ${REPEAT} requests and healthz calls)`);
  say();
  say(summariseProfile(JSON.parse(readFileSync(kept, 'utf8')), { top: 25, root: repoRoot, windows: [window] }));
} finally {
  rmSync(work, { recursive: true, force: true });
}
