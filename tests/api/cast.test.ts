import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { call, makeMeeting } from '../helpers/meeting.ts';
import { loginAs, TEST_PASSWORD } from '../helpers/auth.ts';
import type { Form } from '../../server/forms/form.schemas.ts';
import { fullPackage, nonce } from '../helpers/packages.ts';
import { newShortCode } from '../../server/credentials/secrets.ts';

describe('casting a ballot', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  const cast = (credential: string, pkg: unknown, n = nonce()) =>
    t.app.inject({ method: 'POST', url: '/api/voter/cast', payload: { credential, nonce: n, package: pkg } });

  it('runs the database with WAL, synchronous=FULL and secure_delete', () => {
    expect(t.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(t.sqlite.pragma('synchronous', { simple: true })).toBe(2);
    expect(t.sqlite.pragma('secure_delete', { simple: true })).toBe(1);
  });

  it('accepts a package once, counts it, and answers a lost-reply retry with the same receipt', async () => {
    const m = await makeMeeting(t, { roster: 72, signIn: 72 });
    const pkg = fullPackage(m.form!);
    const n = nonce();
    const first = await cast(m.tokens[0]!, pkg, n);
    expect(first.statusCode).toBe(200);
    const body = first.json();
    expect(body.alreadyRecorded).toBe(false);
    expect(body.receipt).toMatch(/^[2-9A-Z]{5}-[2-9A-Z]{5}$/);

    const again = await cast(m.tokens[0]!, pkg, n);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ ...body, alreadyRecorded: true });

    const other = await cast(m.tokens[0]!, fullPackage(m.form!, 2), n);
    expect(other.statusCode).toBe(409);
    expect(other.json().error).toEqual({ code: 'TOKEN_USED', message: '您已完成测评，此二维码不能再次使用' });
    const otherNonce = await cast(m.tokens[0]!, pkg);
    expect(otherNonce.json().error.code).toBe('TOKEN_USED');

    const status = await t.app.inject({ method: 'POST', url: '/api/voter/status', payload: { credential: m.tokens[0] } });
    expect(status.json().state).toBe('used');
    const live = await call<{ turnout: { returned: number } }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/live`);
    expect(live.turnout.returned).toBe(1);
    expect(Number((await t.db.selectFrom('ballots').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)).toBe(1);
  });

  it('accepts the typed short code in any case and with spaces', async () => {
    const m = await makeMeeting(t, { roster: 72, signIn: 72 });
    const typed = ` ${m.shortCodes[3]!.toLowerCase().replace('-', ' ')} `;
    const res = await cast(typed, fullPackage(m.form!));
    expect(res.statusCode).toBe(200);
    const byToken = await cast(m.tokens[3]!, fullPackage(m.form!));
    expect(byToken.json().error.code).toBe('TOKEN_USED');
  });

  it('refuses an incomplete package naming the part and the subject, and stores nothing', async () => {
    const m = await makeMeeting(t, { roster: 72, signIn: 72 });
    const pkg = fullPackage(m.form!) as Record<string, { grades: Record<string, string> }>;
    const b = m.form!.parts.find((p) => p.key === 'B')!;
    if (b.kind !== 'rating') throw new Error('B must be a rating part');
    delete pkg.B!.grades[b.subjects[2]!.key];
    const res = await cast(m.tokens[0]!, pkg);
    expect(res.statusCode).toBe(400);
    const err = res.json().error;
    expect(err.code).toBe('BALLOT_INVALID');
    expect(err.message).toContain('第二部分「班子集体和成员年度考核民主测评表」');
    expect(err.message).toContain(b.subjects[2]!.label);
    expect(err.details).toEqual({ part: 'B', subject: b.subjects[2]!.key });
    // Nothing half-written: the credential is still unused and nothing was counted.
    const status = await t.app.inject({ method: 'POST', url: '/api/voter/status', payload: { credential: m.tokens[0] } });
    expect(status.json().state).toBe('ready');
    expect((await t.db.selectFrom('ballots').selectAll().execute()).length).toBe(0);
    expect((await t.db.selectFrom('tally').selectAll().execute()).length).toBe(0);
  });

  it('refuses over the 优秀 quota on the phone', async () => {
    const m = await makeMeeting(t, { roster: 72, signIn: 72, members: 6 });
    const res = await cast(m.tokens[0]!, fullPackage(m.form!, 0));
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toMatch(/「优秀」最多可选 1 人，现已选 6 人/);
  });

  it('says clearly when voting is not open, closed, or the code is unknown', async () => {
    const m = await makeMeeting(t, { roster: 72, signIn: 72, open: false });
    const st = await t.app.inject({ method: 'POST', url: '/api/voter/status', payload: { credential: m.tokens[0] } });
    expect(st.json()).toMatchObject({ state: 'not_open', form: null });
    const early = await cast(m.tokens[0]!, {});
    expect(early.json().error.code).toBe('VOTING_NOT_OPEN');

    const unknown = await t.app.inject({ method: 'POST', url: '/api/voter/status', payload: { credential: randomBytes(16).toString('base64url') } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.message).toContain('二维码或测评码无效');

    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/open-voting`, {});
    const form = (await t.app.inject({ method: 'POST', url: '/api/voter/status', payload: { credential: m.tokens[0] } })).json().form as Form;
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    const late = await cast(m.tokens[1]!, fullPackage(form));
    expect(late.json().error.code).toBe('VOTING_CLOSED');
    const st2 = await t.app.inject({ method: 'POST', url: '/api/voter/status', payload: { credential: m.tokens[1] } });
    expect(st2.json().state).toBe('closed');
  });

  it('rehearsal credentials walk through without counting, any number of times, and expire when voting opens', async () => {
    const m = await makeMeeting(t, { roster: 72, signIn: 72, open: false });
    const r = await call<{ token: string; url: string }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/rehearsal`);
    expect(r.url).toBe(`http://192.0.2.10:8080/v/#${r.token}`);
    const st = (await t.app.inject({ method: 'POST', url: '/api/voter/status', payload: { credential: r.token } })).json();
    expect(st).toMatchObject({ state: 'ready', rehearsal: true });
    for (let i = 0; i < 3; i++) {
      const res = await cast(r.token, fullPackage(st.form));
      expect(res.json()).toMatchObject({ rehearsal: true, alreadyRecorded: false });
    }
    expect((await t.db.selectFrom('ballots').selectAll().execute()).length).toBe(0);
    expect((await t.db.selectFrom('tally').selectAll().execute()).length).toBe(0);
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/open-voting`, {});
    const after = await cast(r.token, fullPackage(st.form));
    expect(after.json().error.code).toBe('REHEARSAL_EXPIRED');
  });

  it('a spare printed slip cannot add a vote beyond the sign-ins', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 0, open: false });
    const roster = await call<{ entries: { id: number }[] }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/roster`);
    for (const e of roster.entries.slice(0, 2)) {
      await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/roster/${e.id}/sign-in`, { handout: 'slip' });
    }
    const { slips } = await call<{ slips: { token: string }[] }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/slips`, { count: 3 });
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/open-voting`, { overrideReason: '一名职工病假' });
    const form = (await t.app.inject({ method: 'POST', url: '/api/voter/status', payload: { credential: slips[0]!.token } })).json().form as Form;
    expect((await cast(slips[0]!.token, fullPackage(form))).statusCode).toBe(200);
    expect((await cast(slips[1]!.token, fullPackage(form))).statusCode).toBe(200);
    const third = await cast(slips[2]!.token, fullPackage(form));
    expect(third.statusCode).toBe(409);
    expect(third.json().error.code).toBe('BALLOT_LIMIT');
    const live = await call<{ turnout: { present: number; issued: number; returned: number } }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/live`);
    expect(live.turnout).toMatchObject({ present: 2, issued: 2, returned: 2 });
  });

  it('paper ballots count only after a second person confirms them, use a slot, and void over-quota parts', async () => {
    const m = await makeMeeting(t, { roster: 72, signIn: 70, paperSignIns: 2, members: 6 });
    const second = await loginAs(t, { role: 'inspector', username: 'jianpiao' });
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/assignments`, { adminId: second.adminId });
    const enter = (pkg: object) => call<{ pendingId: string }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/paper-ballots`, { package: pkg });
    const overQuota = await enter(fullPackage(m.form!, 0));
    const blank = await enter({});
    expect((await t.db.selectFrom('ballots').selectAll().execute()).length).toBe(0);
    const pending = await call<{ pending: { id: string; enteredBy: { id: number } }[] }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/paper-ballots/pending`);
    expect(pending.pending.map((p) => p.id).sort()).toEqual([overQuota.pendingId, blank.pendingId].sort());

    const self = await t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/paper-ballots/${blank.pendingId}/confirm`, headers: m.session.headers, payload: {} });
    expect(self.json().error.code).toBe('PAPER_SAME_PERSON');
    // Closing is refused while a typed paper ballot waits for its second person.
    const close = await t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/close-voting`, headers: m.session.headers });
    expect(close.json().error.code).toBe('PAPER_PENDING');

    // The second person confirms on their own session, or by typing their account on the same laptop.
    const a = await t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/paper-ballots/${overQuota.pendingId}/confirm`, headers: second.headers, payload: {} });
    expect(a.statusCode).toBe(204);
    const b = await t.app.inject({
      method: 'POST', url: `/api/meetings/${m.meetingId}/paper-ballots/${blank.pendingId}/confirm`, headers: m.session.headers,
      payload: { username: 'jianpiao', password: TEST_PASSWORD },
    });
    expect(b.statusCode).toBe(204);
    expect((await t.db.selectFrom('paper_pending').selectAll().execute()).length).toBe(0);
    const rows = await t.db.selectFrom('tally').selectAll().where('part', '=', 'B').where('subject', '=', '#').execute();
    expect(Object.fromEntries(rows.map((r) => [r.grade, r.n]))).toEqual({ void: 1, valid: 1 });
    const live = await call<{ turnout: { returned: number; paper: number } }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/live`);
    expect(live.turnout).toMatchObject({ returned: 2, paper: 2 });
    const events = (await call<{ entries: { event: string; detail: object }[] }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/audit`)).entries;
    const paperEvents = events.filter((e) => e.event.startsWith('ballot.'));
    expect(paperEvents.map((e) => e.event)).toEqual(['ballot.paper_entered', 'ballot.paper_entered', 'ballot.paper_confirmed', 'ballot.paper_confirmed']);
    for (const e of paperEvents) expect(e.detail).toEqual({});
  });

  it('never answers 5xx to malformed voter bodies', async () => {
    const bodies = [null, 'x', 1, [], {}, { credential: 5 }, { credential: 'A'.repeat(22), nonce: 'x', package: [] }, { credential: 'ABCD-EFGH', nonce: nonce(), package: { Z: 1 } }];
    for (const b of bodies) {
      for (const url of ['/api/voter/status', '/api/voter/cast']) {
        const res = await t.app.inject({ method: 'POST', url, payload: JSON.stringify(b), headers: { 'content-type': 'application/json' } });
        expect(res.statusCode, `${url} ${JSON.stringify(b)}`).toBeLessThan(500);
        expect(res.json().error.message).toMatch(/[\u4e00-\u9fa5]/);
      }
    }
  });
  it('rate-limits a voter route per credential, not per address (a hall shares one NAT address)', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 2 });
    const status = (credential: string) => t.app.inject({ method: 'POST', url: '/api/voter/status', payload: { credential }, remoteAddress: '10.0.0.7' });
    let limited = 0;
    for (let i = 0; i < 125; i++) if ((await status(m.tokens[0]!)).statusCode === 429) limited++;
    expect(limited).toBeGreaterThan(0);
    const res = await status(m.tokens[0]!);
    expect(res.json().error).toEqual({ code: 'RATE_LIMITED', message: '操作太频繁，请稍等片刻再试' });
    // Another phone behind the same address is unaffected.
    expect((await status(m.tokens[1]!)).statusCode).toBe(200);
  });
  it('a nonce reused on another credential still casts, with a receipt of its own', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 2 });
    const n = nonce();
    const a = await cast(m.tokens[0]!, fullPackage(m.form!), n);
    const b = await cast(m.tokens[1]!, fullPackage(m.form!), n);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    expect(a.json().receipt).not.toBe(b.json().receipt);
  });

  it('discards a pending paper ballot only through its own meeting', async () => {
    const a = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 1, paperSignIns: 1 });
    const b = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 1, paperSignIns: 1, session: a.session });
    const { pendingId } = await call<{ pendingId: string }>(t, b.session, 'POST', `/api/meetings/${b.meetingId}/paper-ballots`, { package: {} });
    const wrong = await t.app.inject({ method: 'DELETE', url: `/api/meetings/${a.meetingId}/paper-ballots/${pendingId}`, headers: a.session.headers });
    expect(wrong.statusCode).toBe(404);
    expect((await call<{ pending: unknown[] }>(t, b.session, 'GET', `/api/meetings/${b.meetingId}/paper-ballots/pending`)).pending).toHaveLength(1);
  });
  it('brakes short-code guessing server-wide, while QR secrets keep working', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 2 });
    const status = (credential: string) => t.app.inject({ method: 'POST', url: '/api/voter/status', payload: { credential } });
    const codes = new Set<string>();
    while (codes.size < 61) codes.add(newShortCode(randomBytes));
    const answers: number[] = [];
    for (const c of codes) answers.push((await status(c)).statusCode);
    expect(answers.slice(0, 60).every((s) => s === 404)).toBe(true);
    expect(answers[60]).toBe(429);
    // Now even a real short code waits; the QR secret does not.
    const real = await status(m.shortCodes[0]!);
    expect(real.json().error.message).toContain('测评码查询过于频繁');
    expect((await status(m.tokens[0]!)).statusCode).toBe(200);
  });
});
