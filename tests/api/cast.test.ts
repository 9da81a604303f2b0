import { sql } from 'kysely';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { call, makeMeeting } from '../helpers/meeting.ts';
import { loginAs, TEST_PASSWORD } from '../helpers/auth.ts';
import { fullPackage } from '../helpers/packages.ts';
import { cast, castPayload, meetingStatus, redeem, type PhoneToken } from '../helpers/phone.ts';
import { newShortCode } from '../../server/credentials/secrets.ts';
import { testBackend } from '../helpers/pg.ts';

describe('casting a ballot with a token', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  const count = async (table: 'ballots' | 'spent_tokens' | 'receipts', where?: { filled: number }) => {
    let q = t.db.selectFrom(table).select((e) => e.fn.countAll<number>().as('n'));
    if (where && table === 'ballots') q = (q as ReturnType<typeof t.db.selectFrom<'ballots'>>).where('filled', '=', where.filled) as typeof q;
    return Number((await q.executeTakeFirstOrThrow()).n);
  };

  it('runs the database so that an acknowledged ballot is on disk: SQLite with a truncated rollback journal, synchronous=FULL and secure_delete; PostgreSQL with fsync and synchronous_commit on', async () => {
    if (t.backend === 'sqlite') {
      expect(t.sqlite.pragma('journal_mode', { simple: true })).toBe('truncate');
      expect(t.sqlite.pragma('synchronous', { simple: true })).toBe(2);
      expect(t.sqlite.pragma('secure_delete', { simple: true })).toBe(1);
    } else {
      const show = async (name: string) => (await sql<{ setting: string }>`select setting from pg_settings where name = ${name}`.execute(t.db)).rows[0]!.setting;
      expect(await show('fsync')).toBe('on');
      expect(await show('synchronous_commit')).toBe('on');
    }
  });

  it('accepts a token once, counts it, and answers a lost-reply retry with the same receipt', async () => {
    const m = await makeMeeting(t, { roster: 72, signIn: 72 });
    const pkg = fullPackage(m.form!);
    const first = await cast(t, m.tokens[0]!, pkg);
    expect(first.statusCode).toBe(200);
    const body = first.json();
    expect(body).toMatchObject({ alreadyRecorded: false, rehearsal: false });
    expect(body.receipt).toMatch(/^[2-9A-Z]{5}-[2-9A-Z]{5}$/);

    const again = await cast(t, m.tokens[0]!, pkg);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ ...body, alreadyRecorded: true });

    const other = await cast(t, m.tokens[0]!, fullPackage(m.form!, 2));
    expect(other.statusCode).toBe(409);
    expect(other.json().error).toEqual({ code: 'TOKEN_USED', message: '您已完成测评，不能再次提交' });

    const live = await call<{ turnout: { returned: number } }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/live`);
    expect(live.turnout.returned).toBe(1);
    expect(await count('ballots', { filled: 1 })).toBe(1);
    expect(await count('spent_tokens')).toBe(1);
    expect(await count('receipts')).toBe(1);
  });

  it('refuses a token the meeting key did not make, and one of another meeting, writing nothing', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 3 });
    const other = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 2, session: m.session });
    const pkg = fullPackage(m.form!);
    const forged: PhoneToken = { ...m.tokens[0]!, output: randomBytes(64).toString('base64url') };
    const swapped: PhoneToken = { ...m.tokens[0]!, input: m.tokens[1]!.input };
    const foreign: PhoneToken = { ...other.tokens[0]!, meetingId: m.meetingId };
    for (const tok of [forged, swapped, foreign]) {
      const res = await cast(t, tok, pkg);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('TOKEN_INVALID');
      expect(res.json().error.message).toContain('测评凭证无效');
    }
    expect(await count('ballots', { filled: 1 })).toBe(0);
    expect(await count('spent_tokens')).toBe(0);
    // The real tokens still work.
    expect((await cast(t, m.tokens[0]!, pkg)).statusCode).toBe(200);
    expect((await cast(t, other.tokens[0]!, fullPackage(other.form!))).statusCode).toBe(200);
  });

  it('refuses an incomplete package naming the part and the subject, and stores nothing', async () => {
    const m = await makeMeeting(t, { roster: 72, signIn: 72 });
    const pkg = fullPackage(m.form!) as Record<string, { grades: Record<string, string> }>;
    const b = m.form!.parts.find((p) => p.key === 'B')!;
    if (b.kind !== 'rating') throw new Error('B must be a rating part');
    delete pkg.B!.grades[b.subjects[2]!.key];
    const res = await cast(t, m.tokens[0]!, pkg);
    expect(res.statusCode).toBe(400);
    const err = res.json().error;
    expect(err.code).toBe('BALLOT_INVALID');
    expect(err.message).toContain('第二部分「班子集体和成员年度考核民主测评表」');
    expect(err.message).toContain(b.subjects[2]!.label);
    expect(err.details).toEqual({ part: 'B', subject: b.subjects[2]!.key });
    // Nothing half-written: the token is unspent and nothing was counted.
    expect(await count('ballots', { filled: 1 })).toBe(0);
    expect(await count('spent_tokens')).toBe(0);
    expect((await cast(t, m.tokens[0]!, fullPackage(m.form!))).statusCode).toBe(200);
  });

  it('refuses over the 优秀 quota on the phone', async () => {
    const m = await makeMeeting(t, { roster: 72, signIn: 72, members: 6 });
    const res = await cast(t, m.tokens[0]!, fullPackage(m.form!, 0));
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toMatch(/「优秀」最多可选 1 人，现已选 6 人/);
  });

  it('says clearly when voting is not open or closed; the meeting status follows, naming no voter', async () => {
    const m = await makeMeeting(t, { roster: 72, signIn: 72, open: false });
    const st = await meetingStatus(t, m.tokens[0]!);
    expect(st.json()).toMatchObject({ state: 'signin', unitName: '红旗村' });
    expect(st.json().form.parts).toHaveLength(5);
    const early = await cast(t, m.tokens[0]!, fullPackage(m.form!));
    expect(early.json().error.code).toBe('VOTING_NOT_OPEN');
    // The access word is the meeting's, not the phone's: any phone of the meeting sends the same.
    expect(m.tokens[0]!.access).toBe(m.tokens[1]!.access);
    const wrong = await meetingStatus(t, { meetingId: m.meetingId, access: 'x'.repeat(43) });
    expect(wrong.statusCode).toBe(404);

    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/open-voting`, {});
    expect((await meetingStatus(t, m.tokens[0]!)).json().state).toBe('voting');
    expect((await cast(t, m.tokens[0]!, fullPackage(m.form!))).statusCode).toBe(200);
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    const late = await cast(t, m.tokens[1]!, fullPackage(m.form!));
    expect(late.json().error.code).toBe('VOTING_CLOSED');
    expect((await meetingStatus(t, m.tokens[1]!)).json()).toMatchObject({ state: 'closed', form: null });
  });

  it('a reply lost just before the close: the same token after the close gets its receipt back; a forged token before voting is invalid, not early', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 3, open: false });
    const forged: PhoneToken = { ...m.tokens[0]!, output: randomBytes(64).toString('base64url') };
    const early = await cast(t, forged, fullPackage(m.form!));
    expect(early.statusCode).toBe(400);
    expect(early.json().error.code).toBe('TOKEN_INVALID');
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/open-voting`, {});
    const first = await cast(t, m.tokens[0]!, fullPackage(m.form!));
    expect(first.statusCode).toBe(200);
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    const retry = await cast(t, m.tokens[0]!, fullPackage(m.form!));
    expect(retry.statusCode).toBe(200);
    expect(retry.json()).toEqual({ receipt: first.json().receipt, alreadyRecorded: true, rehearsal: false });
    // A token whose ballot never came: closed, with no receipt.
    const never = await cast(t, m.tokens[1]!, fullPackage(m.form!));
    expect(never.json().error.code).toBe('VOTING_CLOSED');
    expect(never.body).not.toMatch(/receipt/);
  });

  it('rehearsal tickets redeem any number of times with a key of their own, count nowhere, and expire when voting opens', async () => {
    const m = await makeMeeting(t, { roster: 72, signIn: 72, open: false });
    const r = await call<{ secret: string; url: string }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/rehearsal`);
    expect(r.url).toBe(`http://192.0.2.10:8080/v/#${r.secret}`);
    const meeting = await call<{ keyFingerprint: string }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}`);
    for (let i = 0; i < 3; i++) {
      const tok = await redeem(t, r.secret);
      expect(tok.rehearsal).toBe(true);
      expect(tok.keyFingerprint).not.toBe(meeting.keyFingerprint);
      const res = await cast(t, tok, fullPackage(m.form!));
      expect(res.json()).toMatchObject({ rehearsal: true, alreadyRecorded: false });
    }
    expect(await count('ballots', { filled: 1 })).toBe(0);
    expect(await count('spent_tokens')).toBe(0);
    const rehearsalToken = await redeem(t, r.secret);
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/open-voting`, {});
    const after = await t.app.inject({ method: 'POST', url: '/api/voter/redeem', payload: { ticket: r.secret, blinded: null } });
    expect(after.json().error.code).toBe('REHEARSAL_EXPIRED');
    // A rehearsal token can never become a vote: its key is gone.
    const res = await cast(t, rehearsalToken, fullPackage(m.form!));
    expect(res.json().error.code).toBe('TOKEN_INVALID');
    expect(await count('ballots', { filled: 1 })).toBe(0);
  });

  it('paper ballots count only after a second person confirms them, never beyond the paper forms handed out', async () => {
    const m = await makeMeeting(t, { roster: 72, signIn: 70, paperSignIns: 2, members: 6 });
    const second = await loginAs(t, { role: 'inspector', username: 'jianpiao' });
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/assignments`, { adminId: second.adminId });
    const enter = (pkg: object) => call<{ pendingId: string }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/paper-ballots`, { package: pkg });
    const overQuota = await enter(fullPackage(m.form!, 0));
    const blank = await enter({});
    const third = await enter({});
    expect(await count('ballots', { filled: 1 })).toBe(0);

    const self = await t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/paper-ballots/${blank.pendingId}/confirm`, headers: m.session.headers, payload: {} });
    expect(self.json().error.code).toBe('PAPER_SAME_PERSON');
    const close = await t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/close-voting`, headers: m.session.headers });
    expect(close.json().error.code).toBe('PAPER_PENDING');

    const a = await t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/paper-ballots/${overQuota.pendingId}/confirm`, headers: second.headers, payload: {} });
    expect(a.statusCode).toBe(204);
    const b = await t.app.inject({
      method: 'POST', url: `/api/meetings/${m.meetingId}/paper-ballots/${blank.pendingId}/confirm`, headers: m.session.headers,
      payload: { username: 'jianpiao', password: TEST_PASSWORD },
    });
    expect(b.statusCode).toBe(204);
    // Two paper forms were handed out: a third paper ballot cannot take the place of a phone voter.
    const c = await t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/paper-ballots/${third.pendingId}/confirm`, headers: second.headers, payload: {} });
    expect(c.statusCode).toBe(409);
    expect(c.json().error.code).toBe('PAPER_LIMIT');
    await call(t, m.session, 'DELETE', `/api/meetings/${m.meetingId}/paper-ballots/${third.pendingId}`);

    const live = await call<{ turnout: { returned: number; paper: number; paperIssued: number } }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/live`);
    expect(live.turnout).toMatchObject({ returned: 2, paper: 2, paperIssued: 2 });
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    const results = await call<{ parts: { key: string; valid: number; void: number }[] }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/results`);
    expect(results.parts.find((p) => p.key === 'B')).toMatchObject({ valid: 1, void: 1 });
    const events = (await call<{ entries: { event: string; detail: object }[] }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/audit`)).entries;
    const paperEvents = events.filter((e) => e.event.startsWith('ballot.'));
    expect(paperEvents.map((e) => e.event)).toEqual([
      'ballot.paper_entered', 'ballot.paper_entered', 'ballot.paper_entered', 'ballot.paper_confirmed', 'ballot.paper_confirmed', 'ballot.paper_discarded',
    ]);
    for (const e of paperEvents) expect(e.detail).toEqual({});
  });

  it('a paper confirmation is refused in SQL once 收回 has reached 发出, even with paper forms still out', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 1, paperSignIns: 2 });
    const second = await loginAs(t, { role: 'inspector', username: 'jianpiao' });
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/assignments`, { adminId: second.adminId });
    const { pendingId } = await call<{ pendingId: string }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/paper-ballots`, { package: {} });
    expect((await cast(t, m.tokens[0]!, fullPackage(m.form!))).statusCode).toBe(200);
    // No request reaches this state (every ballot needs a ticket or a form handed out); it stands for a
    // counter that went wrong elsewhere. Paper forms are still out (0 of 2 counted), but 收回 = 发出 = 1.
    await sql`update meetings set issued_count = cast_count where id = ${m.meetingId}`.execute(t.db);
    const counters = async () => {
      const { rows } = await sql<Record<string, unknown>>`select cast_count, paper_count, issued_count, paper_issued from meetings where id = ${m.meetingId}`.execute(t.db);
      return Object.fromEntries(Object.entries(rows[0]!).map(([k, v]) => [k, Number(v)]));
    };
    const before = await counters();
    expect(before).toEqual({ cast_count: 1, paper_count: 0, issued_count: 1, paper_issued: 2 });
    const res = await t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/paper-ballots/${pendingId}/confirm`, headers: second.headers, payload: {} });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('BALLOT_LIMIT');
    // Nothing of the refused confirmation was written: counters, slots and the pending entry are as they were.
    expect(await counters()).toEqual(before);
    expect(await count('ballots', { filled: 1 })).toBe(1);
    const { pending } = await call<{ pending: { id: string }[] }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/paper-ballots/pending`);
    expect(pending.map((p) => p.id)).toEqual([pendingId]);
  });

  it('never answers 5xx to malformed voter bodies, and always in Chinese', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 2 });
    const tok = m.tokens[0]!;
    const bodies = [
      null, 'x', 1, [], {}, { ticket: 5 }, { ticket: 'A'.repeat(22), blinded: 'x' }, { ticket: 'A'.repeat(22), blinded: 'A'.repeat(43) },
      { meetingId: m.meetingId, token: { input: 'x', output: 'y' }, package: {} },
      { meetingId: m.meetingId, token: { input: tok.input, output: tok.output }, package: { Z: 1 } },
      { meetingId: 0, access: '' }, { meetingId: 2 ** 40, access: tok.access },
      castPayload({ ...tok, meetingId: 999 }, {}),
    ];
    for (const b of bodies) {
      for (const url of ['/api/voter/redeem', '/api/voter/meeting', '/api/voter/cast']) {
        const res = await t.app.inject({ method: 'POST', url, payload: JSON.stringify(b), headers: { 'content-type': 'application/json' } });
        expect(res.statusCode, `${url} ${JSON.stringify(b)}`).toBeLessThan(500);
        expect(res.statusCode, `${url} ${JSON.stringify(b)}`).toBeGreaterThanOrEqual(400);
        expect(res.json().error.message).toMatch(/[\u4e00-\u9fa5]/);
      }
    }
  });

  it('rate-limits redemption per ticket, not per address (a hall may share one NAT address)', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 2, redeem: false });
    const redeemAt = (ticket: string) => t.app.inject({ method: 'POST', url: '/api/voter/redeem', payload: { ticket, blinded: null }, remoteAddress: '10.0.0.7' });
    let limited = 0;
    for (let i = 0; i < 65; i++) if ((await redeemAt(m.tickets[0]!)).statusCode === 429) limited++;
    expect(limited).toBeGreaterThan(0);
    expect((await redeemAt(m.tickets[0]!)).json().error).toEqual({ code: 'RATE_LIMITED', message: '操作太频繁，请稍等片刻再试' });
    // Another phone behind the same address is unaffected.
    expect((await redeemAt(m.tickets[1]!)).statusCode).toBe(200);
  });

  it('slows an address that keeps typing wrong short codes, never another phone, and never a QR secret', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 3, redeem: false });
    const redeemFrom = (ticket: string, remoteAddress: string) => t.app.inject({ method: 'POST', url: '/api/voter/redeem', payload: { ticket, blinded: null }, remoteAddress });
    const codes = new Set<string>();
    while (codes.size < 10) codes.add(newShortCode(randomBytes));
    for (const c of codes) expect((await redeemFrom(c, '10.0.0.66')).statusCode).toBe(404);
    // The guesser is slowed: its next code waits (the unit test checks the spacing); a phone next to it is not.
    const started = Date.now();
    const other = await redeemFrom(m.shortCodes[0]!, '10.0.0.5');
    expect(other.statusCode).toBe(200);
    expect(Date.now() - started).toBeLessThan(3000);
    // A QR secret never waits for the brake, even from the guessing address.
    expect((await redeemFrom(m.tickets[1]!, '10.0.0.66')).statusCode).toBe(200);
  });

  // Not on PostgreSQL: there the honest cast's commit (a few round trips) outlasts the whole flood's checks
  // (400 × 0.12 ms since libsodium), so it replies last with or without the lanes and the order of replies
  // says nothing; the lanes are the pool's and the same on both (tests/unit/voprf-pool.test.ts).
  it.skipIf(testBackend === 'postgres')('a sender of forged tokens waits behind the hall: its flood cannot hold up another phone\'s cast', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 3 });
    const pkg = fullPackage(m.form!);
    const forged = (i: number) => ({ ...m.tokens[0]!, input: randomBytes(32).toString('base64url'), output: randomBytes(64).toString('base64url').slice(0, m.tokens[0]!.output.length) });
    const castFrom = (token: PhoneToken, remoteAddress: string) => t.app.inject({ method: 'POST', url: '/api/voter/cast', payload: castPayload(token, pkg), remoteAddress });
    // One forged token marks its sender.
    const first = await castFrom(forged(0), '10.0.0.66');
    expect(first.json().error.code).toBe('TOKEN_INVALID');
    // Then a flood from it, and an honest phone's cast right behind the flood.
    const FLOOD = 400;
    const done: string[] = [];
    const flood = Array.from({ length: FLOOD }, (_, i) => castFrom(forged(i + 1), '10.0.0.66').then((r) => (done.push('forged'), r)));
    const honest = castFrom(m.tokens[1]!, '10.0.0.5').then((r) => (done.push('honest'), r));
    const results = await Promise.all([...flood, honest]);
    expect(results.slice(0, FLOOD).every((r) => r.statusCode === 400 && r.json().error.code === 'TOKEN_INVALID')).toBe(true);
    expect(results[FLOOD]!.statusCode).toBe(200);
    // Without the lanes the honest cast's check would wait behind all the flood's evaluations and finish
    // last; with them it waits for at most IN_FLIGHT (16) evaluations, then for its commit while the flood's
    // refusals go on. The flood is large (400) so that a slow commit on a busy disk cannot push the honest
    // reply into its second half: with 120 it came 86th once in CI (a commit of tens of milliseconds).
    expect(done.indexOf('honest')).toBeLessThan(FLOOD / 2);
    // The forged sender's own valid token still counts (later, never refused).
    expect((await castFrom(m.tokens[2]!, '10.0.0.66')).statusCode).toBe(200);
  });
});
