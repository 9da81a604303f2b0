/**
 * npm run bench — casting on PostgreSQL (one and two server processes) against SQLite (one process), in
 * the same run, rounds alternating so all three see the same machine load. Real server processes, as
 * `npm start` starts them, on a fresh data folder (and a fresh PostgreSQL database) each time; N phones
 * cast at once over HTTP, as a hall does when the chair says "please submit now". Only the casting is
 * timed (sign-in and redemption are set-up). With two processes the phones alternate between them, as a
 * reverse proxy spreads them.
 *
 * PostgreSQL is a throwaway cluster of its own (initdb/pg_ctl, as the tests start one); without its
 * binaries this measure says so and is skipped.
 *
 * Printed per round: throughput (ballots per second over the whole burst) and p99 latency of one cast;
 * at the end the medians of PostgreSQL ÷ SQLite for both (throughput above 1 = faster; p99 below 1 = faster).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { adminQuery, databaseUrl, findPostgresBin, startCluster, stopCluster, type PgCluster } from '../tests/helpers/pg-cluster.ts';
import { castOver, freePort, HttpAdmin, startServer, votingMeetingOver, type ServerProcess } from '../tests/helpers/server-process.ts';
import { fullPackage } from '../tests/helpers/packages.ts';

const N = Number(process.env.BENCH_BALLOTS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

type Setup = 'sqlite' | 'pg-1' | 'pg-2';
const SETUPS: Setup[] = ['sqlite', 'pg-1', 'pg-2'];
const LABEL: Record<Setup, string> = { sqlite: 'SQLite, 1 process', 'pg-1': 'PostgreSQL, 1 process', 'pg-2': 'PostgreSQL, 2 processes' };

interface Measure {
  perSecond: number;
  p99: number;
  ms: number;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

let databases = 0;

async function run(setup: Setup, cluster: PgCluster): Promise<Measure> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ceping-bench-'));
  const servers: ServerProcess[] = [];
  try {
    const env: Record<string, string> = { LOG_LEVEL: 'warn' };
    if (setup !== 'sqlite') {
      const name = `bench_${process.pid}_${++databases}`;
      await adminQuery(cluster, `create database ${name} template template0 encoding 'UTF8' locale 'C'`);
      env.DATABASE_URL = databaseUrl(cluster, name);
    }
    // The first process migrates and makes the keys; a second one joins it on the same folder and database.
    servers.push(await startServer(dir, await freePort(), env));
    if (setup === 'pg-2') servers.push(await startServer(dir, await freePort(), env));
    const admin = new HttpAdmin(servers[0]!.base);
    await admin.setup(servers[0]!.setupCode!);
    const meeting = await votingMeetingOver(admin, N);

    const latencies: number[] = [];
    const start = performance.now();
    await Promise.all(
      meeting.tokens.map(async (token, i) => {
        const t0 = performance.now();
        const r = await castOver(servers[i % servers.length]!.base, token, fullPackage(meeting.form, 1 + (i % 3)));
        latencies.push(performance.now() - t0);
        if (r.status !== 200) throw new Error(`${setup}: cast → ${r.status} ${JSON.stringify(r.body)}`);
      }),
    );
    const ms = performance.now() - start;
    const turnout = await admin.call<{ turnout: { returned: number } }>('GET', `/api/meetings/${meeting.meetingId}/live`);
    if (turnout.turnout.returned !== N) throw new Error(`${setup}: ${turnout.turnout.returned} ballots counted of ${N}`);
    latencies.sort((a, b) => a - b);
    return { perSecond: (N * 1000) / ms, p99: quantile(latencies, 0.99), ms };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

const bin = findPostgresBin();
if (!bin) {
  process.stdout.write('PostgreSQL: initdb/pg_ctl not found, so the PostgreSQL measure is skipped (install PostgreSQL 15+, or set CEPING_PG_BIN).\n');
} else {
  const cluster = await startCluster(bin, await freePort());
  try {
    const results: Record<Setup, Measure[]> = { sqlite: [], 'pg-1': [], 'pg-2': [] };
    for (let r = 0; r < ROUNDS; r++) {
      const line: string[] = [];
      // Each round starts with another setup, so none is always first on a machine still settling.
      for (let i = 0; i < SETUPS.length; i++) {
        const s = SETUPS[(i + r) % SETUPS.length]!;
        const m = await run(s, cluster);
        results[s].push(m);
        line.push(`${LABEL[s]} ${m.perSecond.toFixed(0)}/s p99 ${m.p99.toFixed(0)} ms`);
      }
      process.stdout.write(`round ${r + 1}, ${N} phones at once: ${line.join(' · ')}\n`);
    }
    for (const s of ['pg-1', 'pg-2'] as const) {
      const rate = median(results[s].map((m, i) => m.perSecond / results.sqlite[i]!.perSecond));
      const p99 = median(results[s].map((m, i) => m.p99 / results.sqlite[i]!.p99));
      process.stdout.write(`${LABEL[s]} vs SQLite (median of ${ROUNDS} rounds): throughput ×${rate.toFixed(2)}, p99 ×${p99.toFixed(2)}\n`);
    }
  } finally {
    stopCluster(cluster);
  }
}
