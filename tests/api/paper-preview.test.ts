/**
 * Paper entry says what the rules do: the pending list shows, for the second person, what each part of
 * a typed package will count as (废票 / 弃权) with the rule in one sentence, word for word what the
 * first person saw while typing (previewPaper), and the counted result agrees with it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { loginAs } from '../helpers/auth.ts';
import { call, makeMeeting } from '../helpers/meeting.ts';
import { fullPackage } from '../helpers/packages.ts';
import { previewPaper, type PaperPartPreview } from '../../server/ballots/paper-preview.ts';
import type { BallotPackage } from '../../server/forms/form.schemas.ts';
import type { Results } from '../../server/counting/tally.ts';

interface Pending {
  id: string;
  preview: PaperPartPreview[];
}

describe('paper entry previews', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  it('an over-quota part reads 废票 and a blank part 弃权, to the confirmer as to the typist, and counts so', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 6, signIn: 3, paperSignIns: 3, members: 5, candidates: 3 });
    const form = m.form!;
    const second = await loginAs(t, { role: 'inspector', username: 'jianpiao' });
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/assignments`, { adminId: second.adminId });
    const enter = (pkg: BallotPackage) => call<{ pendingId: string }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/paper-ballots`, { package: pkg });

    // 1. Every member 优秀 (over the 30% quota), and three people recommended where two are allowed.
    const d = form.parts.find((p) => p.key === 'D');
    if (d?.kind !== 'recommend') throw new Error('no part D');
    const over: BallotPackage = { ...fullPackage(form, 0), D: { picks: d.candidates.map((c) => c.key), writeIns: [] } };
    // 2. Nothing marked at all.
    const blank: BallotPackage = {};
    const overId = (await enter(over)).pendingId;
    const blankId = (await enter(blank)).pendingId;

    // The confirmer's list, read on the second person's own session.
    const list = await call<{ pending: Pending[] }>(t, second, 'GET', `/api/meetings/${m.meetingId}/paper-ballots/pending`);
    const byId = new Map(list.pending.map((p) => [p.id, new Map(p.preview.map((x) => [x.part, x]))]));
    const o = byId.get(overId)!;
    expect(o.get('B')).toMatchObject({ outcome: 'void', reason: 'OVER_QUOTA', label: '废票' });
    expect(o.get('B')!.rule).toMatch(/^「优秀」最多可选 1 人，这张票选了 5 人：超过名额的部分整部分按废票计；其余部分照常计入。$/);
    expect(o.get('D')).toMatchObject({ outcome: 'void', reason: 'OVER_PICKS' });
    expect(o.get('D')!.rule).toBe(`最多推荐 ${d.maxPicks} 人，这张票推荐了 3 人：超过限选人数的部分整部分按废票计；其余部分照常计入。`);
    expect(o.get('A')!.outcome).toBe('valid');
    const b = byId.get(blankId)!;
    for (const key of ['A', 'B', 'C']) expect(b.get(key)).toMatchObject({ outcome: 'abstain', label: '弃权', rule: expect.stringContaining('都计为「不了解」（弃权）') });
    expect(b.get('D')).toMatchObject({ outcome: 'abstain', rule: '没有推荐任何人：仍是有效票，计为弃权（不推荐任何人）。' });

    // Word for word what the paper page showed while typing (the same pure function).
    const typed = previewPaper(form, over);
    expect(typed.ok && typed.parts).toEqual(list.pending.find((p) => p.id === overId)!.preview);

    // Confirmed and counted: B and D of the first are void, the blank one is valid with 不了解 everywhere.
    for (const id of [overId, blankId]) {
      const res = await t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/paper-ballots/${id}/confirm`, headers: second.headers, payload: {} });
      expect(res.statusCode, res.body).toBe(204);
    }
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    const results = await call<Results>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/results`);
    const part = (k: string) => results.parts.find((p) => p.key === k)!;
    expect([part('B').valid, part('B').void]).toEqual([1, 1]);
    expect([part('D').valid, part('D').void]).toEqual([1, 1]);
    const a = part('A');
    if (a.kind !== 'rating') throw new Error('A');
    for (const row of a.rows) expect(row.abstain).toBe(1);
  });

  it('a refused package is refused with its reason and leaves nothing pending', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 1, paperSignIns: 1 });
    const res = await t.app.inject({
      method: 'POST', url: `/api/meetings/${m.meetingId}/paper-ballots`, headers: m.session.headers, payload: { package: { D: { picks: ['nobody'], writeIns: [] } } },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain('不在名单中');
    expect((await call<{ pending: Pending[] }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/paper-ballots/pending`)).pending).toEqual([]);
  });
});
