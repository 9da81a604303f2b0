/**
 * Faults in the durable path of a phone ballot, in process on a real SQLite file, through the real
 * cast route: a disk that refuses writes (SQLite's own I/O error), a write that fails half-way through a
 * ballot, a failure after the ballots of a batch are written, a COMMIT that throws, and a BEGIN that fails
 * with the ballots already sent behind it. Each time:
 *   - no ballot of the failed batch is acknowledged (no 200, no receipt in any answer);
 *   - nothing is half-written: another connection sees filled slots = spent tokens = receipts = the
 *     meeting's cast count, unchanged by the failed batch, and `integrity_check` ok;
 *   - the same token and package sent again once the fault is gone are recorded as new (the token was not
 *     spent), and the live tally counts each ballot once.
 * The disk fault also on a real server process, killed (SIGKILL) while the disk refuses and restarted.
 * And a reply waits for its commit: a batch held open after its ballots are written answers no phone
 * until it commits.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BallotPackage } from '../../server/forms/form.schemas.ts';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { call, makeMeeting, type TestMeeting } from '../helpers/meeting.ts';
import { fullPackage } from '../helpers/packages.ts';
import { cast, type PhoneToken } from '../helpers/phone.ts';
import { readCounts } from '../helpers/crash-cycles.ts';
import { holdQueue } from '../helpers/write-queue.ts';
import { castOver, freePort, HttpAdmin, startServer, votingMeetingOver, type ServerProcess } from '../helpers/server-process.ts';

let t: TestApp;
let m: TestMeeting;
let next = 0;
/** Every ballot recorded so far, by grade (1–3, so part B's 优秀 quota never refuses one). */
const recordedGrades: number[] = [];

beforeAll(async () => {
  t = await makeTestApp({ seed: 10 });
  m = await makeMeeting(t, { kind: 'station', roster: 40, signIn: 40, liveK: 3 });
}, 120_000);
afterAll(async () => {
  await t.close();
});

interface Ballot {
  token: PhoneToken;
  grade: number;
  pkg: BallotPackage;
}

/** The next n unused tokens, each with a package of its own. */
function ballots(n: number): Ballot[] {
  const first = next;
  next += n;
  return Array.from({ length: n }, (_, i) => {
    const grade = 1 + ((first + i) % 3);
    return { token: m.tokens[first + i]!, grade, pkg: fullPackage(m.form!, grade, `第${first + i}张`) };
  });
}

const counts = () => readCounts(t.file, m.meetingId);
const box = () => t.app.services.box;

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Sends the ballots so they all land in one batch: the queue is held by a job until all have reached
 * it. `last`, when given, is queued after them in the same batch (it runs after they are written).
 */
async function castInOneBatch(bs: Ballot[], last?: () => Promise<void>): Promise<{ replies: Promise<LightMyRequestResponse[]>; releaseFirst: () => void }> {
  const first = await holdQueue(box());
  const replies = Promise.all(bs.map((b) => cast(t, b.token, b.pkg)));
  await until('the casts to reach the queue', () => box().waiting === bs.length);
  if (last) void box().run(last).catch(() => undefined);
  return { replies, releaseFirst: () => first.release() };
}

function expectNoneAcknowledged(replies: LightMyRequestResponse[], status: number): void {
  for (const r of replies) {
    expect(r.statusCode).toBe(status);
    expect(r.body).not.toMatch(/receipt/);
    expect(r.json().error.message).toMatch(/没有保存|稍后再试/);
  }
}

function expectWhole(before: ReturnType<typeof counts>, added: number): void {
  const c = counts();
  expect(c.integrity).toBe('ok');
  expect(c.filled).toBe(before.filled + added);
  expect(c.spent).toBe(c.filled);
  expect(c.receipts).toBe(c.filled);
  expect(c.castCount).toBe(c.filled);
}

/** The same tokens and packages again: each recorded now as a new ballot, so none had been spent. */
async function resendRecordsEach(bs: Ballot[]): Promise<void> {
  const again = await Promise.all(bs.map((b) => cast(t, b.token, b.pkg)));
  for (const r of again) {
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().alreadyRecorded).toBe(false);
  }
  recordedGrades.push(...bs.map((b) => b.grade));
}

describe('a fault in the durable path acknowledges nothing and leaves nothing half-written', () => {
  it('a disk that refuses writes (the journal cannot be written): every ballot refused with 503, none spent; the server keeps answering', async () => {
    const bs = ballots(6);
    const before = counts();
    // SQLite opens the rollback journal anew for each write transaction; a folder in its place is a disk
    // that refuses the write (SQLITE_IOERR from SQLite itself).
    rmSync(`${t.file}-journal`, { force: true });
    mkdirSync(`${t.file}-journal`);
    try {
      const replies = await Promise.all(bs.map((b) => cast(t, b.token, b.pkg)));
      expectNoneAcknowledged(replies, 503);
      expect(replies[0]!.json().error.code).toBe('STORAGE_FAILED');
      // The server stays up. (Reads fail too with this fault: SQLite looks for a hot journal before reading.)
      expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      rmSync(`${t.file}-journal`, { recursive: true, force: true });
    }
    expectWhole(before, 0);
    expect(t.logs.join('')).toMatch(/the disk refused a write/);
    await resendRecordsEach(bs);
    expectWhole(before, bs.length);
  }, 60_000);

  it('a write that fails half-way through a ballot, after others of its batch were written: the whole batch refused, nothing kept', async () => {
    const bs = ballots(6);
    const before = counts();
    // The fourth receipt of the batch cannot be written: by then three ballots are whole and the fourth
    // has its slot filled, its count and its token spent — all in the batch's one transaction.
    t.sqlite.exec(`create temp trigger refuse_fourth before insert on receipts
      when (select count(*) from receipts where meeting_id = new.meeting_id) >= ${before.receipts + 3}
      begin select raise(abort, 'the disk refused the write'); end`);
    try {
      const { replies, releaseFirst } = await castInOneBatch(bs);
      releaseFirst();
      const answered = await replies;
      for (const r of answered) {
        expect(r.statusCode).toBeGreaterThanOrEqual(500);
        expect(r.body).not.toMatch(/receipt/);
      }
    } finally {
      t.sqlite.exec('drop trigger refuse_fourth');
    }
    expectWhole(before, 0);
    await resendRecordsEach(bs);
    expectWhole(before, bs.length);
  }, 60_000);

  it('a failure after every ballot of the batch is written, before the commit: none acknowledged, nothing kept', async () => {
    const bs = ballots(5);
    const before = counts();
    const { replies, releaseFirst } = await castInOneBatch(bs, async () => {
      throw new Error('the disk went away before the commit');
    });
    releaseFirst();
    for (const r of await replies) {
      expect(r.statusCode).toBe(500);
      expect(r.body).not.toMatch(/receipt/);
    }
    expectWhole(before, 0);
    await resendRecordsEach(bs);
    expectWhole(before, bs.length);
  }, 60_000);

  it('a COMMIT that throws (an fsync error): none acknowledged, nothing kept, the queue goes on', async () => {
    const bs = ballots(6);
    const before = counts();
    // The COMMIT of the batch fails as SQLite's would on an fsync error; the queue then rolls back. Every
    // batch of the write queue ends in CastStatements.commit, which runs its COMMIT through exec.
    const exec = t.sqlite.exec.bind(t.sqlite);
    let commits = 0;
    t.sqlite.exec = ((source: string) => {
      if (/^\s*commit\s*$/i.test(source)) {
        commits++;
        throw new Database.SqliteError('disk I/O error', 'SQLITE_IOERR_FSYNC');
      }
      return exec(source);
    }) as typeof t.sqlite.exec;
    try {
      const { replies, releaseFirst } = await castInOneBatch(bs);
      releaseFirst();
      expectNoneAcknowledged(await replies, 503);
    } finally {
      t.sqlite.exec = exec;
    }
    expect(commits).toBeGreaterThanOrEqual(1);
    expectWhole(before, 0);
    await resendRecordsEach(bs);
    expectWhole(before, bs.length);
  }, 60_000);

  it('a BEGIN that fails while the file stays writable: the ballots sent behind it (without waiting for its answer) are written nowhere, none acknowledged', async () => {
    const bs = ballots(5);
    const before = counts();
    // The batch after the held one: its BEGIN fails (as after a busy wait that ran out), but nothing else
    // holds the file, so a ballot that ran on its own, outside the transaction, would be committed by itself.
    const first = await holdQueue(box());
    const exec = t.sqlite.exec.bind(t.sqlite);
    let begins = 0;
    t.sqlite.exec = ((source: string) => {
      if (/^\s*begin immediate\s*$/i.test(source)) {
        begins++;
        throw new Database.SqliteError('database is locked', 'SQLITE_BUSY');
      }
      return exec(source);
    }) as typeof t.sqlite.exec;
    let answered: LightMyRequestResponse[];
    try {
      const replies = Promise.all(bs.map((b) => cast(t, b.token, b.pkg)));
      await until('the casts to reach the queue', () => box().waiting === bs.length);
      first.release();
      answered = await replies;
    } finally {
      t.sqlite.exec = exec;
    }
    expect(begins).toBeGreaterThanOrEqual(1);
    for (const r of answered) {
      expect(r.statusCode, r.body).toBeGreaterThanOrEqual(500);
      expect(r.body).not.toMatch(/receipt/);
    }
    expectWhole(before, 0);
    await resendRecordsEach(bs);
    expectWhole(before, bs.length);
  }, 60_000);
});

describe('a reply waits for its commit', () => {
  it('a batch held open after its ballots are written answers no phone; the commit releases every reply, each ballot already visible to another connection', async () => {
    const bs = ballots(5);
    const before = counts();
    const second = { release: (): void => undefined };
    const held = new Promise<void>((resolve) => (second.release = resolve));
    let written = false;
    const { replies, releaseFirst } = await castInOneBatch(bs, async () => {
      written = true;
      await held;
    });
    const settled: number[] = [];
    void replies.then((rs) => settled.push(...rs.map((r) => r.statusCode)));
    releaseFirst();
    await until('the ballots to be written', () => written);
    await new Promise((r) => setTimeout(r, 300));
    // Written inside the open transaction, not committed: no phone has an answer, no other connection sees them.
    expect(settled).toEqual([]);
    expect(counts().filled).toBe(before.filled);
    second.release();
    const answered = await replies;
    expect(answered.map((r) => r.statusCode)).toEqual(bs.map(() => 200));
    expectWhole(before, bs.length);
    recordedGrades.push(...bs.map((b) => b.grade));
  }, 60_000);
});

describe('after the faults', () => {
  it('the live tally and the count at close hold each ballot once, as counted here by hand', async () => {
    const byGrade = (g: number) => recordedGrades.filter((x) => x === g).length;
    type Parts = { kind: string; key: string; rows?: { counts: number[] }[] }[];
    const live = await call<{ snapshot: { count: number; parts: Parts } | null }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/live`);
    expect(live.snapshot).not.toBeNull();
    // The last snapshot may be a step behind; whatever it counted, it counted each ballot once.
    const snapCount = live.snapshot!.count;
    for (const part of live.snapshot!.parts.filter((p) => p.kind === 'rating')) {
      for (const row of part.rows ?? []) expect(row.counts.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(snapCount);
    }
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    const results = await call<{ parts: Parts }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/results`);
    expect(recordedGrades).toHaveLength(33);
    for (const part of results.parts.filter((p) => p.kind === 'rating')) {
      for (const row of part.rows ?? []) {
        row.counts.forEach((c, g) => expect(c, `part ${part.key}, grade ${g}`).toBe(byGrade(g)));
      }
    }
  }, 60_000);
});

describe('a real server process whose disk refuses writes', () => {
  let server: ServerProcess | null = null;
  let dir = '';
  afterAll(async () => {
    await server?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses the ballots with 503 while the disk refuses, is killed, restarts whole, and records them once the disk takes writes', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ceping-disk-'));
    const file = path.join(dir, 'ceping.db');
    const port = await freePort();
    server = await startServer(dir, port);
    const admin = new HttpAdmin(server.base);
    await admin.setup(server.setupCode!);
    const meeting = await votingMeetingOver(admin, 6);
    const pkg = (i: number) => fullPackage(meeting.form, 1 + (i % 3), `第${i}张`);
    const [a, b, ...refused] = meeting.tokens;
    for (const [i, token] of [a!, b!].entries()) expect((await castOver(server.base, token, pkg(i))).status).toBe(200);

    rmSync(`${file}-journal`, { recursive: true, force: true });
    mkdirSync(`${file}-journal`);
    const answers = await Promise.all(refused.map((token, i) => castOver(server!.base, token, pkg(i + 2))));
    for (const r of answers) {
      expect(r.status).toBe(503);
      expect((r.body as { error: { code: string } }).error.code).toBe('STORAGE_FAILED');
    }
    await server.kill();
    server = null;
    rmSync(`${file}-journal`, { recursive: true, force: true });

    server = await startServer(dir, port);
    const c = readCounts(file, meeting.meetingId);
    expect(c).toEqual({ integrity: 'ok', filled: 2, spent: 2, receipts: 2, castCount: 2 });
    // The two acknowledged are there; the refused ones were never spent.
    for (const [i, token] of [a!, b!].entries()) expect((await castOver(server.base, token, pkg(i))).body).toMatchObject({ alreadyRecorded: true });
    for (const [i, token] of refused.entries()) {
      const r = await castOver(server.base, token, pkg(i + 2));
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ alreadyRecorded: false });
    }
    expect(readCounts(file, meeting.meetingId)).toEqual({ integrity: 'ok', filled: 6, spent: 6, receipts: 6, castCount: 6 });
  }, 180_000);
});
