import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { call, makeMeeting } from '../helpers/meeting.ts';
import { fullPackage } from '../helpers/packages.ts';
import { cast } from '../helpers/phone.ts';
import { holdQueue } from '../helpers/write-queue.ts';

/**
 * The SQLite connection on the database thread (server/db/sqlite-thread.ts), as `npm start` runs it: the
 * in-process tests elsewhere keep it on the main thread; the server-process tests (tests/browser, the
 * bundle test, the crash cycles) run this mode too, through the bundle.
 */
describe('SQLite on the database thread', () => {
  let t: TestApp;
  afterEach(async () => {
    await t?.close();
  });

  const counts = async () => {
    const one = async (q: ReturnType<typeof sql<{ n: number }>>) => Number((await q.execute(t.db)).rows[0]!.n);
    return {
      ballots: await one(sql<{ n: number }>`select count(*) as n from ballots where filled = 1`),
      spent: await one(sql<{ n: number }>`select count(*) as n from spent_tokens`),
      receipts: await one(sql<{ n: number }>`select count(*) as n from receipts`),
      counted: await one(sql<{ n: number }>`select coalesce(sum(cast_count), 0) as n from meetings`),
    };
  };

  it('holds the only connection, with the same pragmas: the main thread has none', async () => {
    t = await makeTestApp({ sqliteThread: true });
    expect(t.store.dialect).toBe('sqlite');
    if (t.store.dialect !== 'sqlite') return;
    expect(t.store.sqlite).toBeNull();
    expect(t.store.thread).not.toBeNull();
    const pragma = async (name: string) => Object.values((await sql.raw(`pragma ${name}`).execute(t.db)).rows[0] as object)[0];
    expect(await pragma('journal_mode')).toBe('truncate');
    expect(await pragma('synchronous')).toBe(2);
    expect(await pragma('secure_delete')).toBe(1);
    expect(await pragma('foreign_keys')).toBe(1);
  });

  it('records a hall of casts sent at once, each exactly once; a lost reply gets its receipt again, a reused token is refused and writes nothing', async () => {
    t = await makeTestApp({ sqliteThread: true });
    const m = await makeMeeting(t, { kind: 'station', roster: 40, signIn: 40, liveK: 5 });
    const pkg = fullPackage(m.form!, 1);
    const thread = t.store.dialect === 'sqlite' ? t.store.thread! : null;
    const before = { ...thread!.sent };
    const postedBefore = thread!.posted;
    const commitsBefore = t.app.services.box.commits;
    const earlyBefore = t.app.services.box.earlyCommits;
    const replies = await Promise.all(m.tokens.slice(0, 36).map((token) => cast(t, token, pkg)));
    expect(replies.map((r) => r.statusCode)).toEqual(replies.map(() => 200));
    const sent = Object.fromEntries(Object.entries(thread!.sent).map(([k, v]) => [k, v - before[k as keyof typeof before]])) as Record<keyof typeof before, number>;
    const posted = thread!.posted - postedBefore;
    console.info(`requests to the database thread for 36 casts at once: ${JSON.stringify(sent)} in ${posted} messages, ${t.app.services.box.commits - commitsBefore} batches`);
    // One request per ballot written, the meeting's state read far less than once per cast (kept between
    // writes), and a few statements per batch: each request wakes the thread (bench/README.md).
    const batches = t.app.services.box.commits - commitsBefore;
    expect(sent.cast).toBe(36);
    expect(sent.meetingState).toBeLessThan(36);
    expect(batches).toBeLessThan(36);
    // Each batch ends in one request: its snapshot (k = 5: most of these batches publish one) and its
    // COMMIT together. The first batch of a meeting after a start-up sends it after its casts' answers; a
    // later one sends it right behind its casts (commitIf: its live step decided from the row the batch
    // before left), unless it was refused. Besides, one BEGIN per batch, and two queries once per meeting
    // (the form's read at the first cast, the first recount of its counters at the first step).
    const early = t.app.services.box.earlyCommits - earlyBefore;
    console.info(`${batches} batches, ${early} ended early`);
    expect(batches).toBeGreaterThanOrEqual(2);
    expect(early).toBeGreaterThanOrEqual(1);
    expect(sent.commit + early, `${batches} batches`).toBe(batches);
    expect(sent.commitIf).toBeGreaterThanOrEqual(early);
    expect(sent.begin).toBe(batches);
    expect(sent.query).toBeLessThanOrEqual(2);
    // Each batch's live step took the live row the thread read after the batch's last casts: no request of its own.
    expect(sent.liveRow).toBe(0);
    // The casts of a batch travel together, in one message (each message wakes the thread): per batch
    // its BEGIN, its casts, what the batch reads after them, its COMMIT; not one message per cast.
    expect(posted, `${batches} batches`).toBeLessThanOrEqual(6 * batches + 2);
    expect(new Set(replies.map((r) => r.json().receipt)).size).toBe(36);
    expect(await counts()).toEqual({ ballots: 36, spent: 36, receipts: 36, counted: 36 });

    const again = await cast(t, m.tokens[0]!, pkg);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ receipt: replies[0]!.json().receipt, alreadyRecorded: true });
    const reused = await cast(t, m.tokens[1]!, fullPackage(m.form!, 2));
    expect(reused.statusCode).toBe(409);
    expect(reused.json().error.code).toBe('TOKEN_USED');
    expect(await counts()).toEqual({ ballots: 36, spent: 36, receipts: 36, counted: 36 });
  });

  it('refuses the whole batch when its snapshot cannot be written with the COMMIT: nothing kept, no step published; the re-sends are recorded and step', async () => {
    t = await makeTestApp({ sqliteThread: true });
    const m = await makeMeeting(t, { kind: 'station', roster: 30, signIn: 30, liveK: 5 });
    const pkg = fullPackage(m.form!, 1);
    const steps: number[] = [];
    const unsubscribe = t.app.services.live.subscribe(m.meetingId, {
      send: (text) => {
        const message = JSON.parse(text) as { type: string; snapshot?: { count: number } };
        if (message.type === 'snapshot') steps.push(message.snapshot!.count);
      },
      close: () => undefined,
    });
    try {
      // On the thread's connection (a temporary trigger lives on the connection that made it).
      await sql`create temp trigger refuse_step before update of snapshot_count on meetings begin select raise(abort, 'the disk refused the step'); end`.execute(t.db);
      // One cast first: the meeting's form is read (through the connection a held batch holds) and kept.
      expect((await cast(t, m.tokens[0]!, pkg)).statusCode).toBe(200);
      // The next twelve in one batch (held behind a job until they are queued), whose step (13 ≥ k, 17 tickets still out) is due.
      const box = t.app.services.box;
      const { release, held } = await holdQueue(t.app.services.box);
      const sent = Promise.all(m.tokens.slice(1, 13).map((token) => cast(t, token, pkg)));
      while (box.waiting < 12) await new Promise((r) => setTimeout(r, 5));
      release();
      await held;
      const refused = await sent;
      for (const r of refused) {
        expect(r.statusCode).toBeGreaterThanOrEqual(500);
        expect(r.body).not.toMatch(/receipt/);
      }
      expect(await counts()).toEqual({ ballots: 1, spent: 1, receipts: 1, counted: 1 });
      expect(steps).toEqual([]);
      await sql`drop trigger refuse_step`.execute(t.db);
      const again = await Promise.all(m.tokens.slice(1, 13).map((token) => cast(t, token, pkg)));
      expect(again.map((r) => r.statusCode)).toEqual(again.map(() => 200));
      expect(again.map((r) => r.json().alreadyRecorded)).toEqual(again.map(() => false));
      expect(await counts()).toEqual({ ballots: 13, spent: 13, receipts: 13, counted: 13 });
      // The step each publishing batch took reached the file with its COMMIT, and only then the dashboards.
      const row = (await sql<{ n: number; json: string }>`select snapshot_count as n, snapshot_json as json from meetings where id = ${m.meetingId}`.execute(t.db)).rows[0]!;
      expect(steps.length).toBeGreaterThanOrEqual(1);
      expect(row.n).toBeGreaterThanOrEqual(5);
      expect(steps.at(-1)).toBe(row.n);
      expect(JSON.parse(row.json).count).toBe(row.n);
    } finally {
      unsubscribe();
    }
  });

  describe('a batch of casts ended right behind its ballots (commitIf)', () => {
    let unsubscribe: (() => void) | undefined;
    afterEach(() => unsubscribe?.());
    /**
     * A meeting with one ballot cast (the first batch after a start takes its step from the real row, and
     * is what the next is decided against), and its live messages from then on, as a dashboard gets them.
     */
    const started = async (o: Parameters<typeof makeMeeting>[1]) => {
      t = await makeTestApp({ sqliteThread: true });
      const m = await makeMeeting(t, { kind: 'station', roster: 30, signIn: 30, liveK: 5, ...o });
      const pkg = fullPackage(m.form!, 1);
      expect((await cast(t, m.tokens[0]!, pkg)).statusCode).toBe(200);
      const messages: { type: string; snapshot?: { count: number }; turnout?: { issued: number; returned: number } }[] = [];
      unsubscribe = t.app.services.live.subscribe(m.meetingId, { send: (text) => void messages.push(JSON.parse(text)), close: () => undefined });
      const steps = () => messages.filter((x) => x.type === 'snapshot').map((x) => x.snapshot!.count);
      const turnouts = () => messages.filter((x) => x.type === 'turnout').map((x) => x.turnout!);
      return { m, pkg, steps, turnouts, messages };
    };
    /** `n` casts of the tokens given, held until all are queued, so they make one batch. */
    const oneBatch = async (tokens: Parameters<typeof cast>[1][], pkg: Parameters<typeof cast>[2]) => {
      const box = t.app.services.box;
      const { release, held } = await holdQueue(box);
      const replies = Promise.all(tokens.map((token) => cast(t, token, pkg)));
      while (box.waiting < tokens.length) await new Promise((r) => setTimeout(r, 5));
      const thread = t.store.dialect === 'sqlite' ? t.store.thread! : null;
      const before = { sent: { ...thread!.sent }, early: box.earlyCommits };
      release();
      await held;
      const result = await replies;
      return {
        replies: result,
        commit: thread!.sent.commit - before.sent.commit,
        commitIf: thread!.sent.commitIf - before.sent.commitIf,
        early: box.earlyCommits - before.early,
      };
    };
    const stored = async (meetingId: number) =>
      (await sql<{ n: number; json: string | null }>`select snapshot_count as n, snapshot_json as json from meetings where id = ${meetingId}`.execute(t.db)).rows[0]!;

    it('decides the step from the row the last batch left: one request ends the batch, and the step is the one the real row gives', async () => {
      const { m, pkg, steps, turnouts, messages } = await started({});
      const b = await oneBatch(m.tokens.slice(1, 7), pkg);
      expect(b.replies.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 200]);
      // (The holding job's batch ends in a COMMIT of its own.)
      expect(b).toMatchObject({ commit: 1, commitIf: 1, early: 1 });
      expect(await counts()).toEqual({ ballots: 7, spent: 7, receipts: 7, counted: 7 });
      // 7 phone ballots, 23 tickets still out, k = 5: a step, written with the COMMIT and then published.
      expect(steps()).toEqual([7]);
      const row = await stored(m.meetingId);
      expect(row.n).toBe(7);
      expect(JSON.parse(row.json!)).toEqual(messages.find((x) => x.type === 'snapshot')!.snapshot);
      expect(turnouts()).toMatchObject([{ issued: 30, returned: 7 }]);

      // The next batch is decided against the row this one left (its step included): 4 more, no step (4 < k).
      const c = await oneBatch(m.tokens.slice(7, 11), pkg);
      expect(c).toMatchObject({ commit: 1, commitIf: 1, early: 1 });
      expect(steps()).toEqual([7]);
      expect(turnouts().at(-1)).toMatchObject({ issued: 30, returned: 11 });
      expect((await stored(m.meetingId)).n).toBe(7);
    });

    it('is refused by the thread when the meeting changed meanwhile (a sign-in): the batch takes its step from the real row', async () => {
      const { m, pkg, steps, turnouts } = await started({ signIn: 20, overrideReason: '部分人员迟到' });
      // A late arrival signs in during voting: one more ballot issued, which the kept row does not know.
      const roster = await call<{ entries: { id: number }[] }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/roster`);
      const late = roster.entries.find((e) => !m.entryIds.includes(e.id))!;
      await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/roster/${late.id}/sign-in`, { handout: 'qr' });
      const b = await oneBatch(m.tokens.slice(1, 7), pkg);
      expect(b.replies.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 200]);
      // Sent, refused (nothing happened), then the step from the real row and the COMMIT after it (and the holding job's).
      expect(b).toMatchObject({ commit: 2, commitIf: 1, early: 0 });
      expect(await counts()).toEqual({ ballots: 7, spent: 7, receipts: 7, counted: 7 });
      expect(turnouts().at(-1)).toMatchObject({ issued: 21, returned: 7 });
      expect(steps()).toEqual([7]);
      expect((await stored(m.meetingId)).n).toBe(7);
      // And the batch after it is decided against the real row again.
      const c = await oneBatch(m.tokens.slice(7, 12), pkg);
      expect(c).toMatchObject({ commit: 1, commitIf: 1, early: 1 });
      // 12 phone ballots, 5 new, but only 9 of the 21 tickets still out (< 2k): no step.
      expect(turnouts().at(-1)).toMatchObject({ issued: 21, returned: 12 });
      expect(steps()).toEqual([7]);
    });

    it('never commits a batch one of whose ballots failed half-written, though its end was already sent behind it', async () => {
      const { m, pkg, steps } = await started({});
      // The third receipt of the next batch fails: its ballot is counted, its slot filled and its token
      // spent by then (CastStatements.write), the receipt not.
      await sql`create temp trigger fail_receipt before insert on receipts when (select count(*) from receipts) >= 3 begin select raise(abort, 'the disk failed'); end`.execute(t.db);
      const b = await oneBatch(m.tokens.slice(1, 6), pkg);
      expect(b.commitIf).toBe(1);
      expect(b.early).toBe(0);
      for (const r of b.replies) {
        expect(r.statusCode).toBeGreaterThanOrEqual(500);
        expect(r.body).not.toMatch(/receipt/);
      }
      expect(await counts()).toEqual({ ballots: 1, spent: 1, receipts: 1, counted: 1 });
      expect(steps()).toEqual([]);
      await sql`drop trigger fail_receipt`.execute(t.db);
      const again = await oneBatch(m.tokens.slice(1, 6), pkg);
      expect(again.replies.map((r) => r.json().alreadyRecorded)).toEqual([false, false, false, false, false]);
      expect(await counts()).toEqual({ ballots: 6, spent: 6, receipts: 6, counted: 6 });
      expect(steps()).toEqual([6]);
    });
  });

  it('the live row the thread read after a batch’s casts is used only while nothing that may change it has been sent since', async () => {
    t = await makeTestApp({ sqliteThread: true });
    const m = await makeMeeting(t, { kind: 'station', roster: 20, signIn: 20, liveK: 5 });
    const thread = t.store.dialect === 'sqlite' ? t.store.thread! : null;
    const box = t.app.services.box;
    const pkg = fullPackage(m.form!, 1);
    // One cast first: the meeting's form is read (through the connection a held batch would hold) and kept.
    expect((await cast(t, m.tokens[0]!, pkg)).statusCode).toBe(200);
    // Hold the queue with a job, so the casts below land together in the next batch, followed by a job that looks.
    const { release, held } = await holdQueue(t.app.services.box);
    const replies = Promise.all(m.tokens.slice(1, 7).map((token) => cast(t, token, pkg)));
    while (box.waiting < 6) await new Promise((r) => setTimeout(r, 5));
    const seen: Record<string, unknown> = {};
    const look = box.run(async (tx) => {
      // After the batch's casts: the row read behind them, with their six ballots and the first counted.
      seen.afterCasts = thread!.keptLiveRow(m.meetingId)?.row?.cast_count;
      // A statement that may change the meeting (here it changes nothing, but the rule cannot know): the kept row is no longer used.
      await sql`update meetings set live_k = live_k where id = ${m.meetingId}`.execute(tx);
      seen.afterUpdate = thread!.keptLiveRow(m.meetingId);
    });
    release();
    await Promise.all([held, look]);
    expect((await replies).map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(seen).toEqual({ afterCasts: 7, afterUpdate: null });
    // After the commit, neither.
    expect(thread!.keptLiveRow(m.meetingId)).toBeNull();
  });

  it('takes exactly one cast per token when each token is sent five times at once with different packages (the casts are pipelined to the thread)', async () => {
    t = await makeTestApp({ sqliteThread: true });
    const m = await makeMeeting(t, { kind: 'station', roster: 30, signIn: 30 });
    const tokens = m.tokens.slice(0, 24);
    const sends = tokens.flatMap((token, person) => [1, 2, 3, 4, 5].map((k) => ({ person, token, k })));
    const replies = await Promise.all(sends.map(async (s) => ({ person: s.person, reply: await cast(t, s.token, fullPackage(m.form!, 1, `第${s.k}次`)) })));
    const accepted = replies.filter((r) => r.reply.statusCode === 200);
    expect(new Set(accepted.map((r) => r.person)).size).toBe(tokens.length);
    expect(accepted.length).toBe(tokens.length);
    const refused = replies.filter((r) => r.reply.statusCode !== 200).map((r) => `${r.reply.statusCode} ${r.reply.json().error.code}`);
    expect(new Set(refused)).toEqual(new Set(['409 TOKEN_USED']));
    expect(refused.length).toBe(tokens.length * 4);
    expect(await counts()).toEqual({ ballots: 24, spent: 24, receipts: 24, counted: 24 });
  });

  for (const sqliteThread of [false, true]) {
    it(`gives every first cast a slot when re-sends of the same tokens draw first and the meeting has no spare slot (${sqliteThread ? 'on the thread' : 'on the main thread'})`, async () => {
      t = await makeTestApp({ sqliteThread });
      const m = await makeMeeting(t, { kind: 'station', roster: 6, signIn: 6 });
      // Exactly one empty slot per ballot out, and none read into memory yet (no cast so far).
      await sql`delete from ballots where meeting_id = ${m.meetingId} and filled = 0
        and id not in (select id from ballots where meeting_id = ${m.meetingId} and filled = 0 order by id limit 6)`.execute(t.db);
      // Each token four times, side by side: the later sends are refused (other packages), but each draws
      // a slot of the one read before it is refused, and the next tokens' first sends must wait for them.
      const sends = m.tokens.flatMap((token, person) => [1, 2, 3, 4].map((k) => ({ person, k, token })));
      const replies = await Promise.all(sends.map(async (x) => ({ ...x, reply: await cast(t, x.token, fullPackage(m.form!, 1, `第${x.k}次`)) })));
      const byCode = new Map<string, number>();
      for (const r of replies) {
        const key = r.reply.statusCode === 200 ? '200' : `${r.reply.statusCode} ${r.reply.json().error.code}`;
        byCode.set(key, (byCode.get(key) ?? 0) + 1);
      }
      expect(Object.fromEntries(byCode)).toEqual({ '200': 6, '409 TOKEN_USED': 18 });
      expect(await counts()).toEqual({ ballots: 6, spent: 6, receipts: 6, counted: 6 });
    });
  }

  it('runs a transaction begun as the first request after the thread stopped on the new thread, and every one after it', async () => {
    t = await makeTestApp({ sqliteThread: true });
    if (t.store.dialect !== 'sqlite') return;
    await sql`create table probe (x integer)`.execute(t.db);
    await t.store.thread!.kill();
    await t.db.transaction().execute(async (trx) => {
      await sql`insert into probe values (1)`.execute(trx);
    });
    await t.db.transaction().execute(async (trx) => {
      await sql`insert into probe values (2)`.execute(trx);
    });
    expect((await sql<{ x: number }>`select x from probe order by x`.execute(t.db)).rows).toEqual([{ x: 1 }, { x: 2 }]);
  });

  it('keeps the event loop free while a commit waits for the file: other requests are answered meanwhile', async () => {
    t = await makeTestApp({ sqliteThread: true });
    const m = await makeMeeting(t, { kind: 'station', roster: 6, signIn: 6 });
    const pkg = fullPackage(m.form!, 1);
    // Another connection reads the file inside a transaction: the thread's COMMIT needs the file to itself
    // and waits (busy_timeout) until that reader ends, as it would for a slow disk.
    const reader = new Database(t.file);
    reader.exec('begin');
    reader.prepare('select count(*) from meetings').get();
    let settled = false;
    const pending = cast(t, m.tokens[0]!, pkg).finally(() => (settled = true));
    try {
      await new Promise((r) => setTimeout(r, 300));
      // With the connection on the main thread, the loop would be held by the waiting COMMIT and neither
      // the timer above nor this request would run until it ended.
      const page = await t.app.inject({ method: 'GET', url: '/api/openapi.json' });
      expect(page.statusCode).toBe(200);
      expect(settled).toBe(false);
    } finally {
      reader.exec('commit');
      reader.close();
    }
    const reply = await pending;
    expect(reply.statusCode).toBe(200);
    expect(await counts()).toEqual({ ballots: 1, spent: 1, receipts: 1, counted: 1 });
  });

  for (const which of ['its first batch (the COMMIT after the step)', 'a later batch (the COMMIT sent behind its ballots)'] as const) {
    it(`loses nothing when the thread stops during a commit of ${which}: the phone is told it may have been saved, its re-send counts once, the next thread goes on`, async () => {
      t = await makeTestApp({ sqliteThread: true });
      if (t.store.dialect !== 'sqlite') return;
      const m = await makeMeeting(t, { kind: 'station', roster: 6, signIn: 6 });
      const pkg = fullPackage(m.form!, 1);
      const later = which.startsWith('a later');
      // A later batch is decided against the row the first one left, and ends with commitIf.
      if (later) expect((await cast(t, m.tokens[5]!, pkg)).statusCode).toBe(200);
      const earlyBefore = t.app.services.box.earlyCommits;
      const commitIfBefore = t.store.thread!.sent.commitIf;
      const reader = new Database(t.file);
      reader.exec('begin');
      reader.prepare('select count(*) from meetings').get();
      const pending = cast(t, m.tokens[0]!, pkg);
      await new Promise((r) => setTimeout(r, 200));
      expect(t.store.thread!.sent.commitIf - commitIfBefore).toBe(later ? 1 : 0);
      // The thread is stopped while its COMMIT waits; the reader lets go after, so whether the commit took
      // before the thread ended is up to the thread's last moments: the reply must not claim either.
      const killed = t.store.thread!.kill();
      reader.exec('commit');
      reader.close();
      await killed;
      const reply = await pending;
      expect(reply.statusCode).toBe(503);
      expect(reply.json().error.code).toBe('DATABASE_UNAVAILABLE');
      expect(reply.json().error.message).toContain('可能已经保存');
      expect(t.app.services.box.earlyCommits).toBe(earlyBefore);

      // The same phone sends again: recorded now, or recognised as recorded — once either way.
      const again = await cast(t, m.tokens[0]!, pkg);
      expect(again.statusCode).toBe(200);
      const next = await cast(t, m.tokens[1]!, pkg);
      expect(next.statusCode).toBe(200);
      expect(next.json().alreadyRecorded).toBe(false);
      const n = later ? 3 : 2;
      expect(await counts()).toEqual({ ballots: n, spent: n, receipts: n, counted: n });
    });
  }

  it('fails every later statement of a transaction whose thread stopped, so none runs outside it on the next thread', async () => {
    t = await makeTestApp({ sqliteThread: true });
    if (t.store.dialect !== 'sqlite') return;
    const store = t.store;
    await sql`create table probe (x integer)`.execute(t.db);
    await t.db.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      await sql`insert into probe values (1)`.execute(conn);
      await store.thread!.kill();
      await expect(sql`insert into probe values (2)`.execute(conn)).rejects.toMatchObject({ code: 'SQLITE_THREAD_EXITED' });
      await sql`rollback`.execute(conn).catch(() => undefined);
    });
    expect((await sql<{ x: number }>`select x from probe`.execute(t.db)).rows).toEqual([]);
  });

  it('lets the rebuild after close fail and retry when the database cannot be read, instead of rejecting with nobody to catch it', async () => {
    t = await makeTestApp({ sqliteThread: true });
    if (t.store.dialect !== 'sqlite') return;
    // Closed, every request is refused (as a database out of reach would be): the rebuild's first
    // question (is any meeting due?) fails, and that must be a failed attempt, not an unhandled rejection.
    await t.store.thread!.close();
    await expect(t.app.services.compactor.runNow()).resolves.toBe(false);
  });

  it('starts a new thread for the next request after the thread stopped', async () => {
    t = await makeTestApp({ sqliteThread: true });
    if (t.store.dialect !== 'sqlite') return;
    const m = await makeMeeting(t, { kind: 'station', roster: 6, signIn: 6 });
    const pkg = fullPackage(m.form!, 1);
    await t.store.thread!.kill();
    const health = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    const reply = await cast(t, m.tokens[2]!, pkg);
    expect(reply.statusCode).toBe(200);
    expect(await counts()).toEqual({ ballots: 1, spent: 1, receipts: 1, counted: 1 });
  });

  it('fails the requests of a message that cannot be copied to the thread, and goes on', async () => {
    t = await makeTestApp({ sqliteThread: true });
    if (t.store.dialect !== 'sqlite') return;
    const thread = t.store.thread!;
    // A function cannot cross to another thread (DataCloneError): posted outside any caller's promise, it
    // must fail these requests, not throw where nobody catches it (the process would end).
    const bad = thread.request({ op: 'query', sql: 'select ? as v', params: [() => 1] });
    const beside = thread.request({ op: 'query', sql: 'select 1 as v', params: [] });
    await expect(bad).rejects.toThrow(/could not be cloned/);
    await expect(beside).rejects.toThrow(/could not be cloned/);
    const after = await thread.request({ op: 'query', sql: 'select 2 as v', params: [] });
    expect(after).toMatchObject({ rows: [{ v: 2 }] });
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});
