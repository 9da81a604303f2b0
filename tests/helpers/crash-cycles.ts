/**
 * Crash durability, as a power cut or `kill -9` meets a meeting: a real server process takes a burst of
 * phone ballots and is killed (SIGKILL) at a random moment inside it, then started again on the same
 * files. After every restart:
 *   - the file passes `pragma integrity_check`;
 *   - filled slots = spent tokens = receipts = the meeting's cast count (nothing half-written);
 *   - every ballot that was acknowledged is there: its token sent again with the same package is
 *     answered "already recorded", and with another package refused (nothing usable twice);
 *   - a ballot whose reply never came is either there or not, never half: sending it again records
 *     it exactly once.
 * At the end the count is closed and each grade's votes equal the packages sent (counted here, by hand).
 *
 * Used by tests/api/crash.test.ts (a few cycles in `npm test`) and scripts/soak-crash.ts (≥ 100).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { BallotPackage } from '../../server/forms/form.schemas.ts';
import type { PhoneToken } from './phone.ts';
import { fullPackage } from './packages.ts';
import { seeded, shuffle } from './stats.ts';
import { castOver, freePort, HttpAdmin, startServer, votingMeetingOver, type ServerProcess } from './server-process.ts';

export interface CrashOptions {
  cycles: number;
  /** Ballots offered in each cycle (the kill comes before the last of them is answered). */
  burst: number;
  seed: number;
  log?: (line: string) => void;
}

export interface CrashReport {
  cycles: number;
  /** Ballots acknowledged before a kill, over all cycles. */
  acknowledged: number;
  /** Ballots in flight at a kill (no reply), and of them how many were found recorded after the restart. */
  inFlight: number;
  inFlightRecorded: number;
  /** Cycles in which the kill came with replies still outstanding. */
  killedMidBurst: number;
  problems: string[];
}

interface Sent {
  token: PhoneToken;
  pkg: BallotPackage;
  grade: number;
}

/** The grades to send: 1–3 (good to fair) so part B's 优秀 quota never makes a package invalid. */
const GRADES = [1, 2, 3];
/** Phones sending at once. */
const CONCURRENCY = 6;

export async function runCrashCycles(o: CrashOptions): Promise<CrashReport> {
  const rand = seeded(o.seed);
  const dir = mkdtempSync(path.join(tmpdir(), 'ceping-crash-'));
  const file = path.join(dir, 'ceping.db');
  const port = await freePort();
  const report: CrashReport = { cycles: 0, acknowledged: 0, inFlight: 0, inFlightRecorded: 0, killedMidBurst: 0, problems: [] };
  const problem = (text: string) => {
    report.problems.push(text);
    o.log?.(`  ✗ ${text}`);
  };
  let server: ServerProcess | null = await startServer(dir, port);
  try {
    const admin = new HttpAdmin(server.base);
    await admin.setup(server.setupCode!);
    const meeting = await votingMeetingOver(admin, o.cycles * o.burst);
    const unused = shuffle([...meeting.tokens], rand);
    /** Every ballot now recorded (acknowledged, or found after a restart). */
    const recorded: Sent[] = [];

    for (let cycle = 0; cycle < o.cycles; cycle++) {
      // A stream of ballots, CONCURRENCY at a time, as a hall of phones sends them; the process is killed
      // at a random reply (1 … burst−1) and a random few milliseconds after it, so replies are outstanding.
      const queue: Sent[] = unused.splice(0, o.burst).map((token) => {
        const grade = GRADES[Math.floor(rand() * GRADES.length)]!;
        return { token, grade, pkg: fullPackage(meeting.form, grade, `第${cycle}轮`) };
      });
      const killAfter = 1 + Math.floor(rand() * (o.burst - 1));
      const extraMs = Math.floor(rand() * 10);
      const acked = new Set<Sent>();
      const sent: Sent[] = [];
      let replies = 0;
      let killing: Promise<void> | null = null;
      const live = server;
      const kill = () => (killing ??= new Promise<void>((r) => setTimeout(r, extraMs)).then(() => live.kill()));
      const sender = async () => {
        for (let b = queue.shift(); b && !killing; b = queue.shift()) {
          sent.push(b);
          try {
            const r = await castOver(live.base, b.token, b.pkg);
            if (r.status === 200) acked.add(b);
            else problem(`cycle ${cycle}: a cast before the kill answered ${r.status} ${JSON.stringify(r.body)}`);
          } catch {
            /* the connection died with the process: no reply */
          }
          if (++replies === killAfter) void kill();
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, sender));
      await kill();
      server = null;
      unused.push(...queue.map((b) => b.token)); // never sent: good for a later cycle
      const lost = sent.filter((b) => !acked.has(b));
      if (lost.length > 0) report.killedMidBurst++;
      report.acknowledged += acked.size;
      report.inFlight += lost.length;

      server = await startServer(dir, port);
      const before = readCounts(file, meeting.meetingId);
      if (before.integrity !== 'ok') problem(`cycle ${cycle}: integrity_check says ${before.integrity}`);
      if (!(before.filled === before.spent && before.spent === before.receipts && before.receipts === before.castCount)) {
        problem(`cycle ${cycle}: filled ${before.filled}, spent ${before.spent}, receipts ${before.receipts}, cast_count ${before.castCount} differ`);
      }
      const floor = recorded.length + acked.size;
      if (before.filled < floor || before.filled > floor + lost.length) problem(`cycle ${cycle}: ${before.filled} ballots after the restart, expected ${floor}…${floor + lost.length}`);

      // Every acknowledged ballot is there, and its token good for nothing more.
      for (const b of acked) {
        const again = await castOver(server.base, b.token, b.pkg);
        if (again.status !== 200 || !(again.body as { alreadyRecorded?: boolean }).alreadyRecorded) problem(`cycle ${cycle}: an acknowledged ballot sent again: ${again.status} ${JSON.stringify(again.body)}`);
        const other = await castOver(server.base, b.token, fullPackage(meeting.form, b.grade === 1 ? 2 : 1, '另一张'));
        if (other.status !== 409) problem(`cycle ${cycle}: an acknowledged token with another package: ${other.status} ${JSON.stringify(other.body)}`);
        recorded.push(b);
      }
      // A ballot with no reply is there whole or not at all: sending it again settles it, once.
      for (const b of lost) {
        const again = await castOver(server.base, b.token, b.pkg);
        if (again.status !== 200) problem(`cycle ${cycle}: a ballot with no reply sent again: ${again.status} ${JSON.stringify(again.body)}`);
        else if ((again.body as { alreadyRecorded: boolean }).alreadyRecorded) report.inFlightRecorded++;
        recorded.push(b);
      }
      const after = readCounts(file, meeting.meetingId);
      if (after.filled !== recorded.length || after.spent !== recorded.length || after.castCount !== recorded.length) {
        problem(`cycle ${cycle}: after the resends ${after.filled} filled / ${after.spent} spent / ${after.castCount} counted, expected ${recorded.length}`);
      }
      report.cycles++;
      o.log?.(`cycle ${cycle + 1}/${o.cycles}: ${acked.size} acknowledged, ${lost.length} without reply (${before.filled - floor} of them recorded before the kill), ${recorded.length} in all`);
    }

    // The count at close is the packages sent, counted here by hand: every rating row's grade column.
    const adminAgain = new HttpAdmin(server.base);
    await adminAgain.login();
    await adminAgain.call('POST', `/api/meetings/${meeting.meetingId}/close-voting`);
    const results = await adminAgain.call<{ parts: { kind: string; key: string; grades?: { key: string }[]; rows?: { counts: number[] }[] }[] }>('GET', `/api/meetings/${meeting.meetingId}/results`);
    const byGrade = new Map<number, number>();
    for (const b of recorded) byGrade.set(b.grade, (byGrade.get(b.grade) ?? 0) + 1);
    for (const part of results.parts.filter((p) => p.kind === 'rating')) {
      for (const row of part.rows ?? []) {
        row.counts.forEach((c, g) => {
          if (c !== (byGrade.get(g) ?? 0)) problem(`part ${part.key}: grade ${g} has ${c} votes, ${byGrade.get(g) ?? 0} were sent`);
        });
      }
    }
    return report;
  } finally {
    await server?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What another connection sees of a meeting's ballots: only what was committed. */
export function readCounts(file: string, meetingId: number) {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  try {
    const one = (q: string) => (db.prepare(q).get(meetingId) as { n: number }).n;
    return {
      integrity: (db.prepare('pragma integrity_check').get() as { integrity_check: string }).integrity_check,
      filled: one('select count(*) as n from ballots where meeting_id = ? and filled = 1'),
      spent: one('select count(*) as n from spent_tokens where meeting_id = ?'),
      receipts: one('select count(*) as n from receipts where meeting_id = ?'),
      castCount: one('select cast_count as n from meetings where id = ?'),
    };
  } finally {
    db.close();
  }
}
