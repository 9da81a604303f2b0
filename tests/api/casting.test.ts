/**
 * Casting (server/ballots/casting.ts) through the cast route on small meetings, fast enough to run under
 * Stryker: what is written for a ballot (the package as checked, the keyed hashes the anonymity scans look
 * for), what the token and the meeting's state make of a request, and the order of the checks. The
 * counts are checked against tests/helpers/recount.ts, which shares no code with server/counting.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BallotPackage } from '../../server/forms/form.schemas.ts';
import { hashSecret, receiptFromToken } from '../../server/credentials/secrets.ts';
import { decodeSlot } from '../../server/ballots/slots.ts';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { call, makeMeeting } from '../helpers/meeting.ts';
import { fullPackage } from '../helpers/packages.ts';
import { cast, redeem, type PhoneToken } from '../helpers/phone.ts';
import { countsOfResults, normalizeSent, recountStored } from '../helpers/recount.ts';

describe('casting', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  const filledBodies = async (meetingId: number) =>
    (await t.db.selectFrom('ballots').select('body').where('meeting_id', '=', meetingId).where('filled', '=', 1).execute()).map((r) => JSON.parse(decodeSlot(r.body)));
  const spentRows = (meetingId: number) => t.db.selectFrom('spent_tokens').select(['nullifier', 'retry_check']).where('meeting_id', '=', meetingId).execute();

  it('writes the package as checked into a slot, the token spent and the receipt kept under their keyed hashes, and counts it live', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 9, signIn: 9, liveK: 3 });
    const form = m.form!;
    const sent: BallotPackage[] = [1, 2, 3].map((g, i) => fullPackage(form, g, i === 0 ? '  食堂的饭菜  ' : ''));
    const replies = [];
    for (const [i, pkg] of sent.entries()) {
      const res = await cast(t, m.tokens[i]!, pkg);
      expect(res.statusCode, res.body).toBe(200);
      replies.push(res.json());
    }
    const tok = m.tokens[0]!;
    // The receipt is the one the phone can work out from its own token, and only its keyed hash is kept.
    expect(replies[0]).toEqual({ receipt: receiptFromToken(t.pepper, tok.input), alreadyRecorded: false, rehearsal: false });
    const receipts = (await t.db.selectFrom('receipts').select('receipt_hash').where('meeting_id', '=', m.meetingId).execute()).map((r) => r.receipt_hash);
    expect(receipts).toContain(hashSecret(t.pepper, 'receipt', replies[0].receipt));
    const spent = await spentRows(m.meetingId);
    expect(spent.map((s) => s.nullifier)).toContain(hashSecret(t.pepper, 'nullifier', tok.input));
    // The slots hold the packages as the form checked them (trimmed text, every part), nothing else.
    const normalized = sent.map((p) => normalizeSent(form, p as Record<string, unknown>));
    expect(recountStored(form, await filledBodies(m.meetingId))).toEqual(recountStored(form, normalized));
    expect(JSON.stringify(await filledBodies(m.meetingId))).toContain('"食堂的饭菜"');
    // Three ballots and six phone tickets out, k = 3: the live step shows them, counted from the increments.
    const live = await call<{ snapshot: { count: number; parts: never } | null }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/live`);
    expect(live.snapshot?.count).toBe(3);
    expect(countsOfResults(live.snapshot!.parts)).toEqual(recountStored(form, normalized));
  });

  it('a lost reply sent again is recognised by token and package together, the package in any key order', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 2 });
    const pkg = fullPackage(m.form!);
    const first = (await cast(t, m.tokens[0]!, pkg)).json();
    const reordered = Object.fromEntries(Object.entries(pkg).reverse()) as BallotPackage;
    const again = await cast(t, m.tokens[0]!, reordered);
    expect(again.json()).toEqual({ ...first, alreadyRecorded: true });
    expect((await cast(t, m.tokens[0]!, fullPackage(m.form!, 2))).json().error.code).toBe('TOKEN_USED');
    // Another token with the same package is a ballot of its own.
    expect((await cast(t, m.tokens[1]!, pkg)).json().alreadyRecorded).toBe(false);
    const spent = await spentRows(m.meetingId);
    expect(spent).toHaveLength(2);
    expect(new Set(spent.map((s) => s.retry_check)).size).toBe(2);
  });

  it('reads the token before anything else: malformed, unknown meeting, a meeting not yet signing in or without a form', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 2 });
    const pkg = fullPackage(m.form!);
    const tok = m.tokens[0]!;
    const codeOf = async (token: PhoneToken) => {
      const res = await cast(t, token, pkg);
      return `${res.statusCode} ${res.json().error?.code}`;
    };
    // Of the right length and alphabet, but with the spare bits of the last character set (no byte string has that text).
    expect(await codeOf({ ...tok, input: `${tok.input.slice(0, -1)}B` })).toBe('400 TOKEN_INVALID');
    expect(await codeOf({ ...tok, output: `${tok.output.slice(0, -1)}B` })).toBe('400 TOKEN_INVALID');
    expect(await codeOf({ ...tok, meetingId: m.meetingId + 99 })).toBe('400 TOKEN_INVALID');
    // A second meeting of the campaign, still a draft: not open (not "invalid").
    const other = await makeMeeting(t, { kind: 'station', roster: 1, signIn: 1, session: m.session, open: false });
    await t.db.updateTable('meetings').set({ state: 'draft' }).where('id', '=', other.meetingId).execute();
    expect(await codeOf({ ...tok, meetingId: other.meetingId })).toBe('409 VOTING_NOT_OPEN');
    // A meeting whose form was never frozen (none in the row): not open either, nothing written.
    await t.db.updateTable('meetings').set({ state: 'voting', form_json: null }).where('id', '=', other.meetingId).execute();
    expect(await codeOf({ ...other.tokens[0]!, meetingId: other.meetingId })).toBe('409 VOTING_NOT_OPEN');
    expect(await spentRows(other.meetingId)).toEqual([]);
    // The form is read once per meeting, when its first ballot comes: later changes to the row do not reach casting.
    expect((await cast(t, tok, pkg)).statusCode).toBe(200);
    await t.db.updateTable('meetings').set({ form_json: null }).where('id', '=', m.meetingId).execute();
    expect((await cast(t, m.tokens[1]!, pkg)).statusCode).toBe(200);
  });

  it('checks the package before the token: a bad package is BALLOT_INVALID whatever the token, and marks no sender', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 2 });
    const forged: PhoneToken = { ...m.tokens[0]!, input: randomBytes(32).toString('base64url') };
    const bad = await cast(t, forged, {} as BallotPackage);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('BALLOT_INVALID');
    expect(bad.json().error.details.part).toBe('A');
  });

  it('before voting only a rehearsal token is good, for nothing counted; after the close only a receipt is given back', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 2, open: false });
    const pkg = fullPackage(m.form!);
    const r = await call<{ secret: string }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/rehearsal`);
    const practice = await redeem(t, r.secret);
    expect(practice.rehearsal).toBe(true);
    const res = await cast(t, practice, pkg);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ receipt: receiptFromToken(t.pepper, practice.input), alreadyRecorded: false, rehearsal: true });
    // Sent again it is still a rehearsal: nothing was spent or written.
    expect((await cast(t, practice, pkg)).json().rehearsal).toBe(true);
    // Its package is checked like a real one.
    const badPractice = await cast(t, practice, {} as BallotPackage);
    expect(badPractice.json().error.code).toBe('BALLOT_INVALID');
    // A real token now is early; a forged one is invalid.
    expect((await cast(t, m.tokens[0]!, pkg)).json().error.code).toBe('VOTING_NOT_OPEN');
    expect((await cast(t, { ...m.tokens[0]!, input: randomBytes(32).toString('base64url') }, pkg)).json().error.code).toBe('TOKEN_INVALID');
    expect(await spentRows(m.meetingId)).toEqual([]);
    expect(await t.db.selectFrom('receipts').selectAll().execute()).toEqual([]);
    expect(await filledBodies(m.meetingId)).toEqual([]);

    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/open-voting`, { overrideReason: '测试投票前后' });
    const first = (await cast(t, m.tokens[0]!, pkg)).json();
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    // Closed, then sealed: the receipt again for a ballot that was cast, with any package; 已结束 otherwise.
    for (const state of ['closed', 'sealed']) {
      await t.db.updateTable('meetings').set({ state: state as never }).where('id', '=', m.meetingId).execute();
      expect((await cast(t, m.tokens[0]!, fullPackage(m.form!, 3))).json()).toEqual({ receipt: first.receipt, alreadyRecorded: true, rehearsal: false });
      const never = await cast(t, m.tokens[1]!, pkg);
      expect(never.statusCode).toBe(409);
      expect(never.json().error.code).toBe('VOTING_CLOSED');
    }
  });
});
