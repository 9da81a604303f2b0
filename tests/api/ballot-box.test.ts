/**
 * The ballot box (server/ballots/ballot-box.ts) on a real SQLite file, driven directly with checked,
 * encoded ballots as Casting hands them over: the refusals and what they leave behind, a lost reply,
 * the slots (made at issue, each filled once, at random), and the live step each commit takes, read by a
 * subscriber of the app's live hub and checked against tests/helpers/recount.ts (no server counting code).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BallotPackage, Form } from '../../server/forms/form.schemas.ts';
import type { PhoneBallot } from '../../server/ballots/ballot-box.ts';
import { CastStatements } from '../../server/ballots/cast-statements.ts';
import { validatePackage } from '../../server/ballots/validate-package.ts';
import { decodeSlot, encodeSlot, SLOT_BATCH } from '../../server/ballots/slots.ts';
import { tallyIncrements } from '../../server/counting/tally.ts';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { call, makeMeeting } from '../helpers/meeting.ts';
import { loginAs } from '../helpers/auth.ts';
import { fullPackage } from '../helpers/packages.ts';
import { countsOfResults, normalizeSent, recountStored } from '../helpers/recount.ts';

describe('the ballot box', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp({ seed: 7 });
  });
  afterEach(async () => {
    await t.close();
  });

  const box = () => t.app.services.box;
  const bytesOf = async (meetingId: number) => (await t.db.selectFrom('meetings').select('ballot_bytes').where('id', '=', meetingId).executeTakeFirstOrThrow()).ballot_bytes;
  /** A ballot as Casting hands it over: `pkg` checked against the form, encoded into the meeting's slot size. */
  async function ballot(meetingId: number, form: Form, pkg: BallotPackage, o: Partial<PhoneBallot> = {}): Promise<PhoneBallot> {
    const check = validatePackage(form, pkg, 'phone');
    if (!check.ok) throw new Error(check.problem.message);
    return {
      meetingId,
      nullifier: randomBytes(16).toString('hex'),
      retryCheck: randomBytes(16).toString('hex'),
      receipt: randomBytes(8).toString('hex'),
      receiptHash: randomBytes(16).toString('hex'),
      body: encodeSlot(JSON.stringify(check.pkg), await bytesOf(meetingId)),
      increments: tallyIncrements(form, check.pkg),
      ...o,
    };
  }
  const rows = async (meetingId: number) => ({
    spent: Number((await t.db.selectFrom('spent_tokens').select((e) => e.fn.countAll<number>().as('n')).where('meeting_id', '=', meetingId).executeTakeFirstOrThrow()).n),
    receipts: Number((await t.db.selectFrom('receipts').select((e) => e.fn.countAll<number>().as('n')).where('meeting_id', '=', meetingId).executeTakeFirstOrThrow()).n),
    filled: Number((await t.db.selectFrom('ballots').select((e) => e.fn.countAll<number>().as('n')).where('meeting_id', '=', meetingId).where('filled', '=', 1).executeTakeFirstOrThrow()).n),
    free: Number((await t.db.selectFrom('ballots').select((e) => e.fn.countAll<number>().as('n')).where('meeting_id', '=', meetingId).where('filled', '=', 0).executeTakeFirstOrThrow()).n),
    castCount: (await t.db.selectFrom('meetings').select('cast_count').where('id', '=', meetingId).executeTakeFirstOrThrow()).cast_count,
  });
  const setState = (meetingId: number, state: string) => t.db.updateTable('meetings').set({ state: state as never }).where('id', '=', meetingId).execute();
  const refusal = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      return (e as { code?: string }).code;
    }
    return 'accepted';
  };

  it('refuses a ballot it cannot count, naming why, and writes nothing of it', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 2, redeem: false, open: false });
    const form = m.form!;
    const pkg = fullPackage(form);
    const before = await rows(m.meetingId);
    expect(await refusal(box().recordPhone(await ballot(m.meetingId, form, pkg, { meetingId: m.meetingId + 99 })))).toBe('TOKEN_INVALID');
    expect(await refusal(box().recordPhone(await ballot(m.meetingId, form, pkg)))).toBe('VOTING_NOT_OPEN');
    await setState(m.meetingId, 'draft');
    expect(await refusal(box().recordPhone(await ballot(m.meetingId, form, pkg)))).toBe('VOTING_NOT_OPEN');
    await setState(m.meetingId, 'closed');
    expect(await refusal(box().recordPhone(await ballot(m.meetingId, form, pkg)))).toBe('VOTING_CLOSED');
    await setState(m.meetingId, 'sealed');
    expect(await refusal(box().recordPhone(await ballot(m.meetingId, form, pkg)))).toBe('VOTING_CLOSED');
    expect(await rows(m.meetingId)).toEqual(before);

    // Voting: two ballots issued, two counted, the third refused as beyond the ballots issued.
    await setState(m.meetingId, 'voting');
    expect(await box().recordPhone(await ballot(m.meetingId, form, pkg, { receipt: 'r1' }))).toEqual({ receipt: 'r1', alreadyRecorded: false, rehearsal: false });
    expect(await refusal(box().recordPhone(await ballot(m.meetingId, form, pkg)))).toBe('accepted');
    const two = await rows(m.meetingId);
    expect(two).toMatchObject({ spent: 2, receipts: 2, filled: 2, castCount: 2 });
    expect(await refusal(box().recordPhone(await ballot(m.meetingId, form, pkg)))).toBe('BALLOT_LIMIT');
    expect(await rows(m.meetingId)).toEqual(two);
  });

  it('answers a lost reply again with its receipt, once; the same token with another package is used', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 3, redeem: false });
    const form = m.form!;
    const b = await ballot(m.meetingId, form, fullPackage(form));
    expect(await box().recordPhone(b)).toEqual({ receipt: b.receipt, alreadyRecorded: false, rehearsal: false });
    expect(await box().recordPhone({ ...b })).toEqual({ receipt: b.receipt, alreadyRecorded: true, rehearsal: false });
    expect(await refusal(box().recordPhone({ ...b, retryCheck: randomBytes(16).toString('hex') }))).toBe('TOKEN_USED');
    expect(await rows(m.meetingId)).toMatchObject({ spent: 1, receipts: 1, filled: 1, castCount: 1 });
    const stored = await t.db.selectFrom('spent_tokens').select(['nullifier', 'retry_check']).where('meeting_id', '=', m.meetingId).execute();
    expect(stored).toEqual([{ nullifier: b.nullifier, retry_check: b.retryCheck }]);
    expect((await t.db.selectFrom('receipts').select('receipt_hash').where('meeting_id', '=', m.meetingId).execute()).map((r) => r.receipt_hash)).toEqual([b.receiptHash]);
  });

  it('makes slots at issue in batches of at least 16, enough for every ballot out, and fills each once, at random', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 40, signIn: 3, redeem: false, overrideReason: '测试投票箱' });
    const form = m.form!;
    expect(await rows(m.meetingId)).toMatchObject({ free: SLOT_BATCH, filled: 0 });
    // More ballots out than empty slots: made up to exactly what is missing (here more than a batch).
    await t.db.updateTable('meetings').set({ issued_count: 40 }).where('id', '=', m.meetingId).execute();
    await box().provisionSlots(t.db, m.meetingId);
    expect((await rows(m.meetingId)).free).toBe(40);
    // Enough already: none made.
    await box().provisionSlots(t.db, m.meetingId);
    expect((await rows(m.meetingId)).free).toBe(40);
    // One short: a whole batch.
    await t.db.updateTable('meetings').set({ issued_count: 41 }).where('id', '=', m.meetingId).execute();
    await box().provisionSlots(t.db, m.meetingId);
    expect((await rows(m.meetingId)).free).toBe(40 + SLOT_BATCH);
    // No meeting, or a meeting whose slot size is not fixed yet: nothing.
    await box().provisionSlots(t.db, m.meetingId + 99);
    const size = await bytesOf(m.meetingId);
    await t.db.updateTable('meetings').set({ ballot_bytes: 0, issued_count: 100 }).where('id', '=', m.meetingId).execute();
    await box().provisionSlots(t.db, m.meetingId);
    expect((await rows(m.meetingId)).free).toBe(40 + SLOT_BATCH);
    // (41 out: 3 at the desk and, for the counts' checks, 38 补发.)
    await t.db.updateTable('meetings').set({ ballot_bytes: size, issued_count: 41, reissued_count: 38 }).where('id', '=', m.meetingId).execute();

    // 41 ballots (sent at once, so they share batches) into the 56 slots: each in a slot of its own (none refused as "not empty"), holding its own body.
    const ids = (await t.db.selectFrom('ballots').select('id').where('meeting_id', '=', m.meetingId).execute()).map((r) => r.id);
    const all = await Promise.all(Array.from({ length: 41 }, (_, i) => ballot(m.meetingId, form, fullPackage(form, 1, `第${i}张`))));
    await Promise.all(all.map((b) => box().recordPhone(b)));
    const filled = await t.db.selectFrom('ballots').select(['id', 'body']).where('meeting_id', '=', m.meetingId).where('filled', '=', 1).execute();
    expect(filled).toHaveLength(41);
    expect(new Set(filled.map((r) => JSON.parse(decodeSlot(r.body)).E?.text ?? JSON.stringify(JSON.parse(decodeSlot(r.body))))).size).toBe(41);
    // Not the first 41 slots made, nor the 41 lowest ids: chosen at random among all.
    const firstMade = new Set(ids.slice(0, 41));
    expect(filled.every((r) => firstMade.has(r.id))).toBe(false);
    const lowest = new Set([...ids].sort((a, b) => a - b).slice(0, 41));
    expect(filled.every((r) => lowest.has(r.id))).toBe(false);
    // With ballots already cast, only the ballots still out need a slot: 60 out − 41 cast − 15 empty = 4, so one batch.
    expect((await rows(m.meetingId)).free).toBe(15);
    await t.db.updateTable('meetings').set({ issued_count: 60 }).where('id', '=', m.meetingId).execute();
    await box().provisionSlots(t.db, m.meetingId);
    expect((await rows(m.meetingId)).free).toBe(15 + SLOT_BATCH);
  });

  it('takes the live step in the batch that counted: turnout after every commit, a snapshot only past the k-rule, the final one at close', async () => {
    // 9 QR tickets and two paper forms out, k = 3: a step needs 3 new phone ballots and 6 phone tickets still out.
    const m = await makeMeeting(t, { kind: 'station', roster: 11, signIn: 9, paperSignIns: 2, redeem: false, liveK: 3 });
    const form = m.form!;
    const heard: { type: string; count?: number; final?: boolean; state?: string; returned?: number; parts?: unknown }[] = [];
    t.app.services.live.subscribe(m.meetingId, {
      send: (text) => {
        const msg = JSON.parse(text);
        heard.push(msg.type === 'snapshot' ? { type: 'snapshot', count: msg.snapshot.count, final: msg.snapshot.final, parts: msg.snapshot.parts } : { type: msg.type, state: msg.state, returned: msg.turnout.returned });
      },
      close: () => undefined,
    });
    const sent: BallotPackage[] = [];
    const castOne = async (grade: number) => {
      const pkg = fullPackage(form, grade, `意见${sent.length}`);
      await box().recordPhone(await ballot(m.meetingId, form, pkg));
      sent.push(pkg);
    };
    const expected = () => recountStored(form, sent.map((p) => normalizeSent(form, p as Record<string, unknown>)));
    const snapshotRow = async () => (await t.db.selectFrom('meetings').select(['snapshot_count', 'snapshot_json', 'results_json']).where('id', '=', m.meetingId).executeTakeFirstOrThrow());

    await castOne(1);
    expect(heard).toEqual([{ type: 'turnout', state: 'voting', returned: 1 }]);
    await castOne(2);
    expect((await snapshotRow()).snapshot_json).toBeNull();
    await castOne(3);
    expect(heard.slice(2).map((h) => h.type)).toEqual(['snapshot', 'turnout']);
    expect(heard[2]).toMatchObject({ count: 3, final: false });
    expect(countsOfResults(heard[2]!.parts as never)).toEqual(expected());
    expect(await snapshotRow()).toMatchObject({ snapshot_count: 3, results_json: null });
    expect(JSON.parse((await snapshotRow()).snapshot_json!)).toMatchObject({ count: 3, final: false });
    expect(heard[3]).toEqual({ type: 'turnout', state: 'voting', returned: 3 });
    await castOne(1);
    await castOne(2);
    // 6 phone ballots, 3 new since the step, but only 3 phone tickets still out (the paper forms are not
    // phone tickets): no step.
    await castOne(1);
    expect(heard.slice(4)).toEqual([4, 5, 6].map((returned) => ({ type: 'turnout', state: 'voting', returned })));
    expect((await snapshotRow()).snapshot_count).toBe(3);

    heard.length = 0;
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    const snaps = heard.filter((h) => h.type === 'snapshot');
    expect(snaps).toHaveLength(1);
    expect(snaps[0]).toMatchObject({ count: 6, final: true });
    expect(countsOfResults(snaps[0]!.parts as never)).toEqual(expected());
    expect(heard.filter((h) => h.type === 'turnout').map((h) => h.state)).toContain('closed');
    const row = await snapshotRow();
    expect(row.snapshot_count).toBe(6);
    expect(JSON.parse(row.snapshot_json!)).toMatchObject({ count: 6, final: true });
    expect(countsOfResults(JSON.parse(row.results_json!).parts)).toEqual(expected());
  });

  it('ends a batch with its snapshots and its COMMIT: a snapshot decided against a step no longer the last is not written, the rest is committed; none outside a transaction', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 2, redeem: false });
    const statements = new CastStatements(t.sqlite);
    const snapshot = () => t.sqlite.prepare('select snapshot_count as n, snapshot_json as json from meetings where id = ?').get(m.meetingId) as { n: number; json: string | null };
    const before = snapshot();
    expect(() => statements.commit([{ meetingId: m.meetingId, lastPhone: before.n, phone: before.n + 5, json: '{"count":5}' }])).toThrow(/outside a transaction/);
    expect(snapshot()).toEqual(before);
    t.sqlite.exec('begin immediate');
    t.sqlite.prepare('update meetings set live_k = live_k where id = ?').run(m.meetingId);
    expect(statements.commit([{ meetingId: m.meetingId, lastPhone: before.n + 1, phone: before.n + 6, json: '{"count":6}' }])).toEqual([false]);
    expect(t.sqlite.inTransaction).toBe(false);
    expect(snapshot()).toEqual(before);
    t.sqlite.exec('begin immediate');
    expect(statements.commit([{ meetingId: m.meetingId, lastPhone: before.n, phone: before.n + 5, json: '{"count":5}' }])).toEqual([true]);
    expect(t.sqlite.inTransaction).toBe(false);
    expect(snapshot()).toEqual({ n: before.n + 5, json: '{"count":5}' });
  });

  it('counts commits and waiting writes, and flush waits for the writes queued', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 2, redeem: false });
    const form = m.form!;
    const commits = box().commits;
    const a = box().recordPhone(await ballot(m.meetingId, form, fullPackage(form)));
    const b = box().recordPhone(await ballot(m.meetingId, form, fullPackage(form)));
    expect(box().waiting).toBeGreaterThanOrEqual(1);
    await box().flush();
    expect(box().waiting).toBe(0);
    expect((await rows(m.meetingId)).castCount).toBe(2);
    await Promise.all([a, b]);
    expect(box().commits).toBeGreaterThan(commits);
    expect(box().meetingState(m.meetingId)).toEqual({ state: 'voting', ballot_bytes: await bytesOf(m.meetingId) });
    expect(box().meetingState(m.meetingId + 99)).toBeUndefined();
  });
  it('a confirmed paper ballot fills a slot and counts in the next step, but never steps the gate itself', async () => {
    // 15 QR tickets and two paper forms out, k = 3.
    const m = await makeMeeting(t, { kind: 'station', roster: 17, signIn: 15, paperSignIns: 2, redeem: false, liveK: 3 });
    const form = m.form!;
    const second = await loginAs(t, { role: 'inspector', username: 'jianpiao' });
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/assignments`, { adminId: second.adminId });
    const snapshots: { count: number; parts: never }[] = [];
    t.app.services.live.subscribe(m.meetingId, {
      send: (text) => {
        const msg = JSON.parse(text);
        if (msg.type === 'snapshot') snapshots.push(msg.snapshot);
      },
      close: () => undefined,
    });
    const phone = async (n: number) => {
      for (let i = 0; i < n; i++) await box().recordPhone(await ballot(m.meetingId, form, fullPackage(form, 1 + (i % 3))));
    };
    const stored = async () => recountStored(form, (await t.db.selectFrom('ballots').select('body').where('meeting_id', '=', m.meetingId).where('filled', '=', 1).execute()).map((r) => JSON.parse(decodeSlot(r.body))));
    await phone(3);
    expect(snapshots.map((x) => x.count)).toEqual([3]);
    // Two paper ballots typed and confirmed by a second person: 5 ballots, still 3 phone ballots since the step.
    for (let i = 0; i < 2; i++) {
      const { pendingId } = await call<{ pendingId: string }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/paper-ballots`, { package: fullPackage(form, 2) });
      await call(t, second, 'POST', `/api/meetings/${m.meetingId}/paper-ballots/${pendingId}/confirm`, {});
    }
    expect((await rows(m.meetingId)).filled).toBe(5);
    expect(snapshots.map((x) => x.count)).toEqual([3]);
    // Three more phone ballots: the step shows all 8, the paper ones included.
    await phone(3);
    expect(snapshots.map((x) => x.count)).toEqual([3, 8]);
    expect(countsOfResults(snapshots[1]!.parts)).toEqual(await stored());
  });
});
