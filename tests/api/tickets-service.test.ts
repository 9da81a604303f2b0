/**
 * TicketService at its edges, on a real SQLite file with the app's own services: the meeting keys in
 * memory, the access word, a short code drawn twice, what a redemption answers in each meeting state,
 * and the token check. Each asserts what a phone or the desk would see.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { call, makeMeeting } from '../helpers/meeting.ts';
import { fullPackage } from '../helpers/packages.ts';
import { cast, finishRedemption, newBlinding, redeemRequest } from '../helpers/phone.ts';
import { TicketService } from '../../server/credentials/tickets.service.ts';
import { CODE_ALPHABET, checkSymbol, formatShortCode, hashSecret, newShortCode } from '../../server/credentials/secrets.ts';
import { fromB64u, toB64u } from '../../server/credentials/voprf.ts';
import type { ServiceDeps } from '../../server/deps.ts';

describe('TicketService', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  const tickets = () => t.app.services.tickets;

  it('holds a meeting\'s two keys from sign-in, and forgets each from memory when it is destroyed', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 1, open: false });
    const vote = await tickets().meetingKey(m.meetingId, 'vote');
    const rehearsal = await tickets().meetingKey(m.meetingId, 'rehearsal');
    expect(vote).not.toBeNull();
    expect(rehearsal).not.toBeNull();
    expect(toB64u(rehearsal!.publicKey)).not.toBe(toB64u(vote!.publicKey));
    // The fingerprint the desk and the projector show is the voting key's.
    const shown = await call<{ keyFingerprint: string }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}`);
    expect(tickets().fingerprint(vote!.publicKey)).toBe(shown.keyFingerprint);
    expect(tickets().fingerprint(rehearsal!.publicKey)).not.toBe(shown.keyFingerprint);
    // No key for a meeting that has none (and nothing remembered for it).
    expect(await tickets().meetingKey(m.meetingId + 1, 'vote')).toBeNull();

    // Both keys were read into memory above; opening voting destroys the rehearsal key there too.
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/open-voting`, { overrideReason: '测试密钥的销毁' });
    expect(await tickets().meetingKey(m.meetingId, 'rehearsal')).toBeNull();
    expect(toB64u((await tickets().meetingKey(m.meetingId, 'vote'))!.secretKey)).toBe(toB64u(vote!.secretKey));
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    expect(await tickets().meetingKey(m.meetingId, 'vote')).toBeNull();
  });

  it('forgets from memory only the key named, both when none is', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 1, signIn: 1, open: false });
    const vote = await tickets().meetingKey(m.meetingId, 'vote');
    await tickets().meetingKey(m.meetingId, 'rehearsal');
    // Gone from the file, still in memory until forgotten (another server process destroyed them).
    await t.db.deleteFrom('meeting_keys').where('meeting_id', '=', m.meetingId).execute();
    tickets().forgetMeetingKeys(m.meetingId, 'rehearsal');
    expect(await tickets().meetingKey(m.meetingId, 'rehearsal')).toBeNull();
    expect(toB64u((await tickets().meetingKey(m.meetingId, 'vote'))!.publicKey)).toBe(toB64u(vote!.publicKey));
    tickets().forgetMeetingKeys(m.meetingId);
    expect(await tickets().meetingKey(m.meetingId, 'vote')).toBeNull();
  });

  it('the access word: the same for every phone of a meeting, another for another meeting; a wrong one of any length is refused', () => {
    const a = tickets().meetingAccess(1);
    expect(a).toBe(hashSecret(t.pepper, 'access', 'meeting:1'));
    expect(tickets().meetingAccess(2)).not.toBe(a);
    expect(tickets().checkAccess(1, a)).toBe(true);
    expect(tickets().checkAccess(2, a)).toBe(false);
    const flipped = (a[0] === 'A' ? 'B' : 'A') + a.slice(1);
    expect(tickets().checkAccess(1, flipped)).toBe(false);
    expect(tickets().checkAccess(1, a.slice(1))).toBe(false);
    expect(tickets().checkAccess(1, `${a}A`)).toBe(false);
    expect(tickets().checkAccess(1, '')).toBe(false);
  });

  /** A TicketService on the app's file whose short codes are drawn from `codes` in turn (other draws random). */
  function withCodes(codes: string[]): { service: TicketService; left: () => number } {
    const queue = codes.map((c) => Buffer.from([...c.slice(0, 7)].map((s) => CODE_ALPHABET.indexOf(s)).concat(Array(7).fill(0))));
    const deps = {
      config: t.config, db: t.db, store: t.store, pepper: t.pepper, signingKey: t.signingKey, log: t.app.log,
      now: () => new Date(), files: undefined as never,
      random: (n: number) => (n === 14 ? queue.shift()! : randomBytes(n)),
    } satisfies ServiceDeps;
    return { service: new TicketService(deps, 'http://192.0.2.10:8080', t.app.services.voprf), left: () => queue.length };
  }
  const code = (body: string) => body + checkSymbol(body);

  it('draws a short code again when it was taken, up to five times in a row, then refuses', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 1, signIn: 0, open: false });
    const A = code('AAAAAAA');
    const B = code('BBBBBBB');
    const first = withCodes([A]);
    const a = await first.service.makeTicket(t.db, m.meetingId, 'slip', { entryId: null, serial: 1, state: 'dormant' });
    expect(a.shortCode).toBe(formatShortCode(A));
    expect(a.url).toBe(`http://192.0.2.10:8080/v/#${a.secret}`);
    expect(a.secret).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(a.serial).toBe(1);

    // Taken once: drawn again.
    const second = withCodes([A, B]);
    const b = await second.service.makeTicket(t.db, m.meetingId, 'slip', { entryId: null, serial: 2, state: 'dormant' });
    expect(b.shortCode).toBe(formatShortCode(B));
    expect(second.left()).toBe(0);

    // Taken five times in a row: refused after the fifth, without drawing a sixth.
    const unlucky = withCodes([A, B, A, B, A, code('CCCCCCC')]);
    await expect(unlucky.service.makeTicket(t.db, m.meetingId, 'slip', { entryId: null, serial: 3, state: 'dormant' })).rejects.toThrow('five short codes in a row were taken');
    expect(unlucky.left()).toBe(1);
    const rows = await t.db.selectFrom('tickets').select(['code_hash', 'serial']).where('meeting_id', '=', m.meetingId).where('kind', '=', 'slip').execute();
    expect(rows.map((r) => r.serial).sort()).toEqual([1, 2]);
    expect(rows.find((r) => r.serial === 2)!.code_hash).toBe(hashSecret(t.pepper, 'code', B));
  });

  it('the desk\'s memory of a ticket not yet redeemed: shown again until forgotten, one ticket at a time or a meeting\'s at once', () => {
    const issued = (id: string) => ({ id, secret: `s-${id}`, shortCode: 'AAAA-AAAA', url: `u-${id}`, serial: null });
    tickets().remember(1, issued('a'));
    tickets().remember(1, issued('b'));
    tickets().remember(2, issued('c'));
    expect(tickets().shownAgain('a')).toEqual(issued('a'));
    tickets().forget('a');
    expect(tickets().shownAgain('a')).toBeNull();
    expect(tickets().shownAgain('b')).toEqual(issued('b'));
    tickets().forgetMeeting(1);
    expect(tickets().shownAgain('b')).toBeNull();
    expect(tickets().shownAgain('c')).toEqual(issued('c'));
  });

  it('once voting closes the desk can no longer show a ticket never redeemed: its secret has left memory', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 0, open: false });
    const entries = (await call<{ entries: { id: number }[] }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/roster`)).entries;
    const other = await makeMeeting(t, { kind: 'station', roster: 1, signIn: 0, open: false, session: m.session });
    const otherEntry = (await call<{ entries: { id: number }[] }>(t, m.session, 'GET', `/api/meetings/${other.meetingId}/roster`)).entries[0]!;
    for (const [mid, e] of [[m.meetingId, entries[0]!.id], [m.meetingId, entries[1]!.id], [other.meetingId, otherEntry.id]] as const) {
      await call(t, m.session, 'POST', `/api/meetings/${mid}/roster/${e}/sign-in`, { handout: 'qr' });
    }
    const status = (mid: number, e: number) => call<{ canShowAgain: boolean }>(t, m.session, 'GET', `/api/meetings/${mid}/roster/${e}/ticket`);
    const show = (mid: number, e: number) => t.app.inject({ method: 'POST', url: `/api/meetings/${mid}/roster/${e}/ticket/show`, headers: m.session.headers, payload: {} });
    expect((await status(m.meetingId, entries[0]!.id)).canShowAgain).toBe(true);
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/open-voting`, { overrideReason: '测试结束后的票' });
    expect((await show(m.meetingId, entries[0]!.id)).statusCode).toBe(200);
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    for (const e of [entries[0]!.id, entries[1]!.id]) {
      expect((await status(m.meetingId, e)).canShowAgain).toBe(false);
      expect((await show(m.meetingId, e)).json().error.code).toBe('TICKET_NOT_SHOWN');
    }
    // Another meeting's desk is untouched.
    expect((await status(other.meetingId, otherEntry.id)).canShowAgain).toBe(true);
  });

  it('a redemption answers with the meeting, its unit, its key and the same access word every phone of it gets', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 2, redeem: false });
    const b = newBlinding();
    const res = await redeemRequest(t, m.tickets[0]!, toB64u(b.blinded));
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const key = (await tickets().meetingKey(m.meetingId, 'vote'))!;
    expect(body).toMatchObject({
      meetingId: m.meetingId, unitName: '红旗村', rehearsal: false, access: tickets().meetingAccess(m.meetingId),
      publicKey: toB64u(key.publicKey), keyFingerprint: tickets().fingerprint(key.publicKey), token: null,
    });
    expect(fromB64u(body.evaluated, 32)).not.toBeNull();
    expect(fromB64u(body.proof, 64)).not.toBeNull();
    // The ticket is burnt with a keyed hash of the element it was spent on.
    const row = await t.db.selectFrom('tickets').select(['state', 'blinded_hash']).where('secret_hash', '=', hashSecret(t.pepper, 'ticket', m.tickets[0]!)).executeTakeFirstOrThrow();
    expect(row).toEqual({ state: 'redeemed', blinded_hash: hashSecret(t.pepper, 'blinded', toB64u(b.blinded)) });
    // An assisted phone's answer: a token and no evaluation.
    const assisted = (await redeemRequest(t, m.tickets[1]!, null)).json();
    expect(assisted).toMatchObject({ meetingId: m.meetingId, evaluated: null, proof: null, access: body.access });
    expect(assisted.token.input).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await tickets().tokenIsValid(m.meetingId, 'vote', fromB64u(assisted.token.input, 32)!, fromB64u(assisted.token.output, 64)!)).toBe(true);
    // The phone's own check of the proof passes.
    expect(finishRedemption(b, body).meetingId).toBe(m.meetingId);
  });

  it('a redemption in each state: 未开始 is an unknown ticket, after the close 已结束, a rehearsal ticket only during sign-in, a missing key never evaluates', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 3, redeem: false, open: false });
    // A rehearsal ticket redeems during sign-in only.
    const rehearsal = await call<{ secret: string }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/rehearsal`);
    const practice = (await redeemRequest(t, rehearsal.secret, toB64u(newBlinding().blinded))).json();
    expect(practice.rehearsal).toBe(true);
    expect(practice.publicKey).toBe(toB64u((await tickets().meetingKey(m.meetingId, 'rehearsal'))!.publicKey));
    // The voting key gone while the meeting still says voting (another process closing it): nothing is evaluated, the ticket not burnt.
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/open-voting`, { overrideReason: '测试各状态的领取' });
    expect((await redeemRequest(t, rehearsal.secret, toB64u(newBlinding().blinded))).json().error.code).toBe('REHEARSAL_EXPIRED');
    await t.db.deleteFrom('meeting_keys').where('meeting_id', '=', m.meetingId).execute();
    tickets().forgetMeetingKeys(m.meetingId);
    const noKey = await redeemRequest(t, m.tickets[0]!, toB64u(newBlinding().blinded));
    expect(noKey.json().error.code).toBe('VOTING_CLOSED');
    const row = await t.db.selectFrom('tickets').select('state').where('secret_hash', '=', hashSecret(t.pepper, 'ticket', m.tickets[0]!)).executeTakeFirstOrThrow();
    expect(row.state).toBe('issued');
    // Closed: said so, for a QR and a typed code alike.
    await t.db.updateTable('meetings').set({ state: 'closed' }).where('id', '=', m.meetingId).execute();
    expect((await redeemRequest(t, m.tickets[1]!, null)).json().error.code).toBe('VOTING_CLOSED');
    expect((await redeemRequest(t, m.shortCodes[1]!, null)).json().error.code).toBe('VOTING_CLOSED');
    await t.db.updateTable('meetings').set({ state: 'sealed' }).where('id', '=', m.meetingId).execute();
    expect((await redeemRequest(t, m.tickets[1]!, null)).json().error.code).toBe('VOTING_CLOSED');
    // A draft meeting's ticket is unknown to the phone.
    await t.db.updateTable('meetings').set({ state: 'draft' }).where('id', '=', m.meetingId).execute();
    expect((await redeemRequest(t, m.tickets[2]!, null)).json().error.code).toBe('TICKET_INVALID');
  });

  it('the token check: false for a meeting without the key, for an output of another length or value; never throws', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 1, signIn: 1 });
    const tok = m.tokens[0]!;
    const input = fromB64u(tok.input, 32)!;
    const output = fromB64u(tok.output, 64)!;
    expect(await tickets().tokenIsValid(m.meetingId, 'vote', input, output)).toBe(true);
    expect(await tickets().tokenIsValid(m.meetingId, 'vote', input, output, 'low')).toBe(true);
    expect(await tickets().tokenIsValid(m.meetingId, 'rehearsal', input, output)).toBe(false);
    expect(await tickets().tokenIsValid(m.meetingId + 1, 'vote', input, output)).toBe(false);
    expect(await tickets().tokenIsValid(m.meetingId, 'vote', input, output.subarray(0, 63))).toBe(false);
    const other = Uint8Array.from(output);
    other[63]! ^= 1;
    expect(await tickets().tokenIsValid(m.meetingId, 'vote', input, other)).toBe(false);
    expect((await cast(t, tok, fullPackage(m.form!))).statusCode).toBe(200);
  });
  const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code);

  it('a redemption is refused by the meeting\'s state even while its keys still exist (another process closing or opening it)', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 3, redeem: false, open: false });
    const rehearsal = await call<{ secret: string }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/rehearsal`);
    // Sign-in, but the rehearsal key gone (destroyed by another process opening voting): expired.
    const key = await t.db.selectFrom('meeting_keys').selectAll().where('meeting_id', '=', m.meetingId).where('purpose', '=', 'rehearsal').executeTakeFirstOrThrow();
    await t.db.deleteFrom('meeting_keys').where('meeting_id', '=', m.meetingId).where('purpose', '=', 'rehearsal').execute();
    tickets().forgetMeetingKeys(m.meetingId, 'rehearsal');
    expect(await codeOf(tickets().redeem(rehearsal.secret, null))).toBe('REHEARSAL_EXPIRED');
    await t.db.insertInto('meeting_keys').values(key).execute();
    // Voting, with the rehearsal key not yet gone: the rehearsal ticket is expired all the same.
    await t.db.updateTable('meetings').set({ state: 'voting' }).where('id', '=', m.meetingId).execute();
    expect(await codeOf(tickets().redeem(rehearsal.secret, null))).toBe('REHEARSAL_EXPIRED');
    // Closed or sealed, with the voting key still there: 已结束, and the ticket is not burnt.
    for (const state of ['closed', 'sealed'] as const) {
      await t.db.updateTable('meetings').set({ state }).where('id', '=', m.meetingId).execute();
      expect(await codeOf(tickets().redeem(m.tickets[0]!, null))).toBe('VOTING_CLOSED');
    }
    const row = await t.db.selectFrom('tickets').select('state').where('secret_hash', '=', hashSecret(t.pepper, 'ticket', m.tickets[0]!)).executeTakeFirstOrThrow();
    expect(row.state).toBe('issued');
  });

  it('a rehearsal ticket redeems again and again, burning nothing; a voting ticket once, a lost reply for the same element only', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 3, redeem: false, open: false });
    const rehearsal = await call<{ secret: string }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/rehearsal`);
    for (let i = 0; i < 2; i++) expect((await redeemRequest(t, rehearsal.secret, toB64u(newBlinding().blinded))).statusCode).toBe(200);
    const r = await t.db.selectFrom('tickets').select(['state', 'blinded_hash']).where('secret_hash', '=', hashSecret(t.pepper, 'ticket', rehearsal.secret)).executeTakeFirstOrThrow();
    expect(r).toEqual({ state: 'issued', blinded_hash: null });

    const b = newBlinding();
    const first = (await redeemRequest(t, m.tickets[0]!, toB64u(b.blinded))).json();
    const again = (await redeemRequest(t, m.tickets[0]!, toB64u(b.blinded))).json();
    expect(again.evaluated).toBe(first.evaluated);
    expect((await redeemRequest(t, m.tickets[0]!, toB64u(newBlinding().blinded))).json().error.code).toBe('TICKET_USED');
    expect((await redeemRequest(t, m.tickets[0]!, null)).json().error.code).toBe('TICKET_USED');
    // An assisted phone's lost reply cannot be told from a stolen ticket: refused.
    expect((await redeemRequest(t, m.tickets[1]!, null)).statusCode).toBe(200);
    expect((await redeemRequest(t, m.tickets[1]!, null)).json().error.code).toBe('TICKET_USED');

    // Three phones with the same ticket at once, each its own element: exactly one gets an evaluation.
    const racing = await Promise.all([0, 1, 2].map(() => redeemRequest(t, m.tickets[2]!, toB64u(newBlinding().blinded))));
    expect(racing.map((x) => x.statusCode).sort()).toEqual([200, 409, 409]);
    for (const x of racing.filter((y) => y.statusCode === 409)) expect(x.json().error.code).toBe('TICKET_USED');
    // The same element sent twice at once (a retry racing its original): both answered.
    const m2 = await makeMeeting(t, { kind: 'station', roster: 1, signIn: 1, redeem: false, session: m.session });
    const same = toB64u(newBlinding().blinded);
    const twice = await Promise.all([0, 1].map(() => redeemRequest(t, m2.tickets[0]!, same)));
    expect(twice.map((x) => x.statusCode)).toEqual([200, 200]);
  });

  it('a ticket not handed out, voided, or sent with an element that is not a point: refused without burning anything', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 0, redeem: false, open: false });
    const entries = (await call<{ entries: { id: number }[] }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/roster`)).entries;
    const { slips } = await call<{ slips: { secret: string }[] }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/slips`, { count: 1 });
    expect(await codeOf(tickets().redeem(slips[0]!.secret, null))).toBe('TICKET_NOT_HANDED_OUT');
    const first = await call<{ ticket: { secret: string } }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/roster/${entries[0]!.id}/sign-in`, { handout: 'qr' });
    const replaced = await call<{ secret: string }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/roster/${entries[0]!.id}/ticket/replace`, {});
    expect(await codeOf(tickets().redeem(first.ticket.secret, null))).toBe('TICKET_VOID');
    // Not base64url of 32 bytes (the spare bits of the last character set), then 32 bytes that are no point.
    const bad = toB64u(newBlinding().blinded).slice(0, -1) + 'B';
    const message = '领取测评凭证的请求格式不正确，请刷新页面重试';
    await expect(tickets().redeem(replaced.secret, bad)).rejects.toMatchObject({ code: 'VALIDATION', message });
    await expect(tickets().redeem(replaced.secret, 'A'.repeat(42) + 'E')).rejects.toMatchObject({ code: 'VALIDATION', message });
    expect(await codeOf(tickets().redeem(replaced.secret, toB64u(newBlinding().blinded)))).toBe('ok');
    // A QR secret with spaces around it, given to the service as it came.
    const second = await call<{ ticket: { secret: string } }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/roster/${entries[1]!.id}/sign-in`, { handout: 'qr' });
    expect(await codeOf(tickets().redeem(`  ${second.ticket.secret} `, null))).toBe('ok');
  });

  it('a ticket the desk replaces while its phone is redeeming it: the phone is told it was voided, and the new QR works', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 0, redeem: false, open: false });
    const entries = (await call<{ entries: { id: number }[] }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/roster`)).entries;
    const first = await call<{ ticket: { secret: string } }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/roster/${entries[0]!.id}/sign-in`, { handout: 'qr' });
    // Keep the curve workers busy, so the redemption reads its ticket, then waits for its evaluation
    // while the desk replaces the ticket: the race the redemption re-reads the ticket for.
    const key = (await tickets().meetingKey(m.meetingId, 'vote'))!;
    const busy = Array.from({ length: 200 }, () => t.app.services.voprf.blindEvaluate(key, newBlinding().blinded, randomBytes(48)));
    const redeeming = codeOf(tickets().redeem(first.ticket.secret, toB64u(newBlinding().blinded)));
    await new Promise((r) => setImmediate(r));
    const replaced = await call<{ secret: string }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/roster/${entries[0]!.id}/ticket/replace`, {});
    expect(await redeeming).toBe('TICKET_VOID');
    await Promise.all(busy);
    expect(await codeOf(tickets().redeem(replaced.secret, toB64u(newBlinding().blinded)))).toBe('ok');
    // The voided ticket stays void: a second try is refused the same way.
    expect(await codeOf(tickets().redeem(first.ticket.secret, toB64u(newBlinding().blinded)))).toBe('TICKET_VOID');
  });

  it('typed codes that miss are counted against their address: past the brake\'s queue the next is told to wait (429); a QR secret never is', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 2, redeem: false });
    const wrong = () => { let c = newShortCode(randomBytes); while (m.shortCodes.includes(formatShortCode(c))) c = newShortCode(randomBytes); return c; };
    // Unknown QR-shaped secrets are not typed codes: never counted against the address.
    for (let i = 0; i < 10; i++) expect(await codeOf(tickets().redeem(randomBytes(16).toString('base64url'), null, '10.0.0.66'))).toBe('TICKET_INVALID');
    // So its first typed codes are answered at once, 21 at a time included (none waits on a timer: the fake
    // ones are never run), and each miss counts: 21 misses, past the 10 a minute (DEFAULT_BRAKE.perAddress).
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    let free: Promise<string | undefined>[];
    try {
      free = Array.from({ length: 21 }, () => codeOf(tickets().redeem(wrong(), null, '10.0.0.66')));
    } finally {
      vi.useRealTimers();
    }
    expect(await Promise.all(free)).toEqual(Array(21).fill('TICKET_INVALID'));
    // From now on its typed codes wait their turn, at most 20 at once; the 21st is refused at once. (The
    // waits are on fake timers that are never run: nothing of them is left behind.)
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    let refused: Promise<string | undefined>;
    try {
      for (let i = 0; i < 20; i++) void tickets().redeem(wrong(), null, '10.0.0.66').catch(() => undefined);
      refused = codeOf(tickets().redeem(wrong(), null, '10.0.0.66'));
    } finally {
      vi.useRealTimers();
    }
    await expect(tickets().redeem(wrong(), null, '10.0.0.66')).rejects.toMatchObject({ code: 'RATE_LIMITED', message: '测评码输错太多次，请稍等一分钟再试，或直接扫描二维码' });
    expect(await refused).toBe('RATE_LIMITED');
    // Another address is not slowed, and the guessing address's QR secret goes straight through.
    expect((await tickets().redeem(m.shortCodes[0]!, null, '10.0.0.5')).meetingId).toBe(m.meetingId);
    expect((await tickets().redeem(m.tickets[1]!, null, '10.0.0.66')).meetingId).toBe(m.meetingId);
  });
});
