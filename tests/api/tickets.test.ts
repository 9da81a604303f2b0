import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { call, makeMeeting, type TestMeeting } from '../helpers/meeting.ts';
import { loginAs } from '../helpers/auth.ts';
import { fullPackage } from '../helpers/packages.ts';
import { cast, finishRedemption, newBlinding, redeem, redeemRequest } from '../helpers/phone.ts';
import { toB64u } from '../../server/credentials/voprf.ts';
import { unwrapMeetingKey } from '../../server/credentials/secrets.ts';

/** Tickets: what the desk hands out, and the one blind evaluation each buys. */
describe('tickets at the desk and their redemption', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  const entries = async (m: TestMeeting) => (await call<{ entries: { id: number; signedIn: boolean }[] }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/roster`)).entries;
  const signIn = (m: TestMeeting, entryId: number, body: object = { handout: 'qr' }) =>
    t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/roster/${entryId}/sign-in`, headers: m.session.headers, payload: body });
  const desk = (m: TestMeeting, entryId: number, action: 'show' | 'replace' | 'reissue', payload: object = {}) =>
    t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/roster/${entryId}/ticket/${action}`, headers: m.session.headers, payload });
  const status = (m: TestMeeting, entryId: number) => call<{ state: string; kind: string | null; canShowAgain: boolean; serial: number | null }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/roster/${entryId}/ticket`);
  const turnout = async (m: TestMeeting) => (await call<{ turnout: Record<string, number> }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/live`)).turnout;

  it('a lost redemption reply is answered again for the same blinded element; another element is refused', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 3, redeem: false });
    const b = newBlinding();
    const first = await redeemRequest(t, m.tickets[0]!, toB64u(b.blinded));
    expect(first.statusCode).toBe(200);
    const again = await redeemRequest(t, m.tickets[0]!, toB64u(b.blinded));
    expect(again.statusCode).toBe(200);
    // The evaluation is the same (the proof is fresh): both finish into the same token.
    expect(again.json().evaluated).toBe(first.json().evaluated);
    expect(finishRedemption(b, again.json())).toEqual(finishRedemption(b, first.json()));

    const other = newBlinding();
    const stolen = await redeemRequest(t, m.tickets[0]!, toB64u(other.blinded));
    expect(stolen.statusCode).toBe(409);
    expect(stolen.json().error.code).toBe('TICKET_USED');
    const assisted = await redeemRequest(t, m.tickets[0]!, null);
    expect(assisted.json().error.code).toBe('TICKET_USED');
  });

  it('a typed short code redeems its ticket like the QR, in any case and with spaces', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 3, redeem: false });
    const typed = ` ${m.shortCodes[1]!.toLowerCase().replace('-', ' ')} `;
    const tok = await redeem(t, typed);
    expect((await cast(t, tok, fullPackage(m.form!))).statusCode).toBe(200);
    expect((await redeemRequest(t, m.tickets[1]!, null)).json().error.code).toBe('TICKET_USED');
  });

  it('a phone without BigInt gets a token made by the server, which casts like any other', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 3, redeem: false });
    const tok = await redeem(t, m.tickets[2]!, { assisted: true });
    expect(tok.input).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await cast(t, tok, fullPackage(m.form!))).statusCode).toBe(200);
    // Its ticket is used up like any other, and a second assisted try is refused (the desk can 补发).
    expect((await redeemRequest(t, m.tickets[2]!, null)).json().error.code).toBe('TICKET_USED');
  });

  it('the proof binds the evaluation to the meeting key whose fingerprint the projector shows', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 2, redeem: false });
    const meeting = await call<{ keyFingerprint: string }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}`);
    expect(meeting.keyFingerprint).toMatch(/^[0-9A-F]{4} [0-9A-F]{4} [0-9A-F]{4} [0-9A-F]{4}$/);
    const b = newBlinding();
    const res = (await redeemRequest(t, m.tickets[0]!, toB64u(b.blinded))).json();
    expect(res.keyFingerprint).toBe(meeting.keyFingerprint);
    // A key of its own for this phone (a tag) fails the phone's check of the proof.
    const other = await makeMeeting(t, { kind: 'station', roster: 1, signIn: 1, redeem: false, session: m.session });
    const foreignKey = (await redeemRequest(t, other.tickets[0]!, toB64u(newBlinding().blinded))).json().publicKey;
    expect(() => finishRedemption(b, { ...res, publicKey: foreignKey })).toThrow();
  });

  it('a malformed blinded element is refused without using the ticket up', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 2, redeem: false });
    const bad = await redeemRequest(t, m.tickets[0]!, 'A'.repeat(43));
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/[\u4e00-\u9fa5]/);
    expect((await redeem(t, m.tickets[0]!)).meetingId).toBe(m.meetingId);
  });

  it('the desk follows the ticket: 已领取 once a phone redeems it; shown again or replaced until then', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 4, signIn: 0, open: false });
    const [e1, e2] = await entries(m);
    const r = (await signIn(m, e1!.id)).json();
    expect(await status(m, e1!.id)).toMatchObject({ state: 'issued', kind: 'qr', canShowAgain: true });
    const shown = (await desk(m, e1!.id, 'show')).json();
    expect(shown.secret).toBe(r.ticket.secret);

    const replaced = (await desk(m, e1!.id, 'replace')).json();
    expect(replaced.secret).not.toBe(r.ticket.secret);
    const old = await redeemRequest(t, r.ticket.secret, null);
    expect(old.json().error.code).toBe('TICKET_VOID');
    expect((await turnout(m)).issued).toBe(1);

    await redeem(t, replaced.secret);
    expect(await status(m, e1!.id)).toMatchObject({ state: 'redeemed', canShowAgain: false });
    expect((await desk(m, e1!.id, 'show')).json().error.code).toBe('TICKET_ALREADY_REDEEMED');
    expect((await desk(m, e1!.id, 'replace')).json().error.code).toBe('TICKET_ALREADY_REDEEMED');

    // A paper form has no ticket.
    await signIn(m, e2!.id, { handout: 'paper' });
    expect(await status(m, e2!.id)).toMatchObject({ state: 'none', kind: null });
  });

  it('补发 only after redemption, with a reason; it counts as one more ballot issued and shows in the checks', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 0, open: false });
    const [e1] = await entries(m);
    const r = (await signIn(m, e1!.id)).json();
    expect((await desk(m, e1!.id, 'reissue', { reason: '手机没电了' })).json().error.code).toBe('TICKET_NOT_REDEEMED');
    await redeem(t, r.ticket.secret);
    expect((await desk(m, e1!.id, 'reissue', { reason: '' })).statusCode).toBe(400);
    const fresh = (await desk(m, e1!.id, 'reissue', { reason: '手机没电了' })).json();
    expect(await status(m, e1!.id)).toMatchObject({ state: 'issued' });
    expect(await turnout(m)).toMatchObject({ present: 1, issued: 2, reissued: 1 });
    const tok = await redeem(t, fresh.secret);
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/open-voting`, { overrideReason: '测试补发流程' });
    expect((await cast(t, tok, fullPackage(m.form!))).statusCode).toBe(200);
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    const results = await call<{ turnout: Record<string, number> }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/results`);
    expect(results.turnout).toMatchObject({ present: 1, issued: 2, returned: 1, reissued: 1 });
    const events = (await call<{ entries: { event: string; detail: Record<string, unknown> }[] }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/audit`)).entries;
    expect(events.find((e) => e.event === 'tickets.reissued')?.detail).toMatchObject({ entryId: e1!.id, reason: '手机没电了' });
  });

  it('printed slips are dead until the desk hands one out by its serial; spares can never vote', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 0, open: false });
    const [e1, e2, e3] = await entries(m);
    const { slips } = await call<{ slips: { secret: string; serial: number }[] }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/slips`, { count: 4 });
    expect(slips.map((s) => s.serial)).toEqual([1, 2, 3, 4]);
    expect((await turnout(m)).issued).toBe(0);
    const dormant = await redeemRequest(t, slips[3]!.secret, null);
    expect(dormant.statusCode).toBe(409);
    expect(dormant.json().error.code).toBe('TICKET_NOT_HANDED_OUT');

    expect((await signIn(m, e1!.id, { handout: 'slip', slipSerial: 9 })).json().error.code).toBe('SLIP_UNKNOWN');
    expect((await entries(m)).find((e) => e.id === e1!.id)!.signedIn).toBe(false);
    expect((await signIn(m, e1!.id, { handout: 'slip', slipSerial: 2 })).statusCode).toBe(200);
    expect((await signIn(m, e2!.id, { handout: 'slip', slipSerial: 2 })).json().error.code).toBe('SLIP_TAKEN');
    expect(await status(m, e1!.id)).toMatchObject({ state: 'issued', kind: 'slip', serial: 2 });
    expect((await turnout(m)).issued).toBe(1);

    const tok = await redeem(t, slips[1]!.secret);
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/open-voting`, { overrideReason: '测试票条流程' });
    expect((await cast(t, tok, fullPackage(m.form!))).statusCode).toBe(200);
    // Spares 1, 3, 4 were never handed out: they redeem nothing, even during voting.
    for (const s of [slips[0]!, slips[2]!, slips[3]!]) expect((await redeemRequest(t, s.secret, null)).json().error.code).toBe('TICKET_NOT_HANDED_OUT');
    // A slip handed out during voting works then.
    expect((await signIn(m, e3!.id, { handout: 'slip', slipSerial: 3 })).statusCode).toBe(200);
    expect((await cast(t, await redeem(t, slips[2]!.secret), fullPackage(m.form!))).statusCode).toBe(200);
    expect(await turnout(m)).toMatchObject({ present: 2, issued: 2, returned: 2 });
  });

  it('撤销 undoes a sign-in while its ballot is unused, and not after', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 4, signIn: 0, open: false });
    const [e1, e2, e3] = await entries(m);
    const undo = (id: number) => t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/roster/${id}/undo-sign-in`, headers: m.session.headers });
    const qr = (await signIn(m, e1!.id)).json();
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/slips`, { count: 1 });
    await signIn(m, e2!.id, { handout: 'slip', slipSerial: 1 });
    await signIn(m, e3!.id, { handout: 'paper' });
    expect(await turnout(m)).toMatchObject({ present: 3, issued: 3, paperIssued: 1 });

    expect((await undo(e1!.id)).json()).toMatchObject({ signedIn: false });
    expect((await redeemRequest(t, qr.ticket.secret, null)).json().error.code).toBe('TICKET_VOID');
    expect((await undo(e2!.id)).statusCode).toBe(200);
    expect((await undo(e3!.id)).statusCode).toBe(200);
    expect(await turnout(m)).toMatchObject({ present: 0, issued: 0, paperIssued: 0 });
    // The slip is a spare again: it can go to the right person.
    expect((await signIn(m, e1!.id, { handout: 'slip', slipSerial: 1 })).statusCode).toBe(200);

    const again = (await signIn(m, e2!.id)).json();
    await redeem(t, again.ticket.secret);
    const late = await undo(e2!.id);
    expect(late.statusCode).toBe(409);
    expect(late.json().error.code).toBe('UNDO_TOO_LATE');
    const events = (await call<{ entries: { event: string }[] }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/audit`)).entries;
    expect(events.filter((e) => e.event === 'roster.signin_undone')).toHaveLength(3);
  });

  it('撤销 of a paper form is refused once as many paper ballots are counted as forms handed out', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 1, paperSignIns: 1, liveK: 3, overrideReason: '测试纸质票撤销' });
    const paperEntry = m.entryIds[1]!;
    const { pendingId } = await call<{ pendingId: string }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/paper-ballots`, { package: {} });
    const checker = await loginAs(t, { role: 'township', username: 'checker' });
    await call(t, checker, 'POST', `/api/meetings/${m.meetingId}/paper-ballots/${pendingId}/confirm`, {});
    const refused = await t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/roster/${paperEntry}/undo-sign-in`, headers: m.session.headers });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json().error.code).toBe('UNDO_TOO_LATE');
    expect(await turnout(m)).toMatchObject({ present: 2, issued: 2, paperIssued: 1, paper: 1 });
  });

  it('撤销 is refused after a 补发: the first token may already have voted', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 6, signIn: 6, liveK: 3, overrideReason: '测试补发后撤销' });
    const undo = (id: number) => t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/roster/${id}/undo-sign-in`, headers: m.session.headers });
    const entryId = m.entryIds[0]!;
    expect((await cast(t, m.tokens[0]!, fullPackage(m.form!, 1))).statusCode).toBe(200);
    expect((await desk(m, entryId, 'reissue', { reason: '手机没电了' })).statusCode).toBe(200);
    expect(await status(m, entryId)).toMatchObject({ state: 'issued' });
    const refused = await undo(entryId);
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json().error.code).toBe('UNDO_TOO_LATE');
    expect(await turnout(m)).toMatchObject({ present: 6, issued: 7, reissued: 1, returned: 1 });
    expect((await entries(m)).find((e) => e.id === entryId)!.signedIn).toBe(true);
  });

  it('撤销 during voting is refused where it would let the result at close single out a ballot against the last live step', async () => {
    // k = 3: ten people signed in and voting; six QR tickets handed out by mistake (never scanned).
    const k = 3;
    const m = await makeMeeting(t, { kind: 'station', roster: 16, signIn: 10, liveK: k, overrideReason: '测试撤销与实时统计' });
    const undo = (id: number) => t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/roster/${id}/undo-sign-in`, headers: m.session.headers });
    const live = () => call<{ turnout: { issued: number; returned: number; paper: number }; snapshot: { count: number; final: boolean } | null }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/live`);
    const spare = (await entries(m)).filter((e) => !e.signedIn).map((e) => e.id);
    expect(spare).toHaveLength(6);
    for (const tok of m.tokens.slice(0, 3)) expect((await cast(t, tok, fullPackage(m.form!, 1))).statusCode).toBe(200);
    expect((await live()).snapshot?.count).toBe(3);
    // Before the next step, undoing is harmless: 13 phone tickets, last step 3, 13 - 3 >= 2k.
    for (const id of spare) expect((await signIn(m, id)).statusCode).toBe(200);
    expect((await undo(spare[0]!)).statusCode).toBe(200);
    expect((await signIn(m, spare[0]!)).statusCode).toBe(200);
    for (const tok of m.tokens.slice(3, 9)) expect((await cast(t, tok, fullPackage(m.form!, 1))).statusCode).toBe(200);
    expect((await live()).snapshot?.count).toBe(9);
    // 16 phone tickets out, 9 in the last step: undoing down to 15 keeps 15 - 9 = 6 = 2k; the next would leave 5.
    expect((await undo(spare[0]!)).statusCode).toBe(200);
    const refused = await undo(spare[1]!);
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json().error.code).toBe('UNDO_LIVE_GATE');
    expect(refused.json().error.message).toMatch(/不能撤销/);
    expect((await entries(m)).find((e) => e.id === spare[1])!.signedIn).toBe(true);
    // The ticket stays good and the desk can still show its QR (as the message says).
    expect(await status(m, spare[1]!)).toMatchObject({ state: 'issued', canShowAgain: true });
    expect((await desk(m, spare[1]!, 'show')).statusCode).toBe(200);
    expect((await live()).turnout.issued).toBe(15);
    // The last real voter, then close: the step at close is the tenth ballot plus the mistaken tickets' absence,
    // and it is no single ballot only because those tickets count as never returned (5 > k), as the README says.
    expect((await cast(t, m.tokens[9]!, fullPackage(m.form!, 2))).statusCode).toBe(200);
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    const end = await live();
    expect(end.snapshot).toMatchObject({ count: 10, final: true });
    expect(end.turnout.issued - end.turnout.returned).toBeGreaterThan(k);
    // Without the refusal the five could have been undone: 0 never returned, and the close would have moved by one ballot.
  });

  it('the database stores a meeting key only encrypted under secret.key: a copy of ceping.db alone makes no token', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 2, open: false });
    const rows = await t.db.selectFrom('meeting_keys').select(['purpose', 'secret_key']).where('meeting_id', '=', m.meetingId).execute();
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      const held = (await t.app.services.tickets.meetingKey(m.meetingId, row.purpose))!.secretKey;
      expect(held).toHaveLength(32);
      const stored = Buffer.from(row.secret_key);
      expect(stored).toHaveLength(60);
      expect(stored.includes(Buffer.from(held))).toBe(false);
      // Bound to its meeting and purpose, and to this secret.key.
      expect(Buffer.from(unwrapMeetingKey(t.pepper, m.meetingId, row.purpose, stored)).equals(Buffer.from(held))).toBe(true);
      expect(() => unwrapMeetingKey(t.pepper, m.meetingId + 1, row.purpose, stored)).toThrow();
      expect(() => unwrapMeetingKey(Buffer.alloc(32, 7), m.meetingId, row.purpose, stored)).toThrow();
    }
    // The votes cast with it check as before.
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/open-voting`, {});
    expect((await cast(t, m.tokens[0]!, fullPackage(m.form!))).statusCode).toBe(200);
  });

  it('a key stored in the clear by an older version (a meeting across the upgrade) still serves', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 2, open: false });
    const held = (await t.app.services.tickets.meetingKey(m.meetingId, 'vote'))!.secretKey;
    await t.db.updateTable('meeting_keys').set({ secret_key: Buffer.from(held) }).where('meeting_id', '=', m.meetingId).where('purpose', '=', 'vote').execute();
    t.app.services.tickets.forgetMeetingKeys(m.meetingId);
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/open-voting`, {});
    expect((await cast(t, m.tokens[1]!, fullPackage(m.form!))).statusCode).toBe(200);
  });

  it('keys live from sign-in to close: the rehearsal key goes when voting opens, the voting key at close', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 2, open: false });
    const keys = async () => (await t.db.selectFrom('meeting_keys').select('purpose').where('meeting_id', '=', m.meetingId).execute()).map((k) => k.purpose).sort();
    expect(await keys()).toEqual(['rehearsal', 'vote']);
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/open-voting`, {});
    expect(await keys()).toEqual(['vote']);
    await cast(t, m.tokens[0]!, fullPackage(m.form!));
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    expect(await keys()).toEqual([]);
    expect(await t.db.selectFrom('spent_tokens').selectAll().execute()).toEqual([]);
    expect(await t.db.selectFrom('tickets').select('blinded_hash').where('blinded_hash', 'is not', null).execute()).toEqual([]);
    expect(await t.db.selectFrom('ballots').select('id').where('filled', '=', 0).execute()).toEqual([]);
    // The fingerprint stays for the record, the projector and the archive.
    expect((await call<{ keyFingerprint: string }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}`)).keyFingerprint).toMatch(/^[0-9A-F]{4} /);
  });
});
