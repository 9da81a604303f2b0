// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { retryDelay, type Screen, type VoterSession } from '../../voter-ui/src/lib/session.svelte.ts';
import { DraftStore } from '../../voter-ui/src/lib/draft-store.ts';
import { FakeApi, MemoryStorage, UNREACHABLE, meeting, newSession, refusal } from './fake-api.ts';
import { makeForm, ratingPart, recommendPart } from '../factories/forms.ts';
import { ABSTAIN, type Form } from '../../server/forms/form.schemas.ts';
import type { Ballot } from '../../voter-ui/src/lib/ballot.svelte.ts';
import { newMeetingKey } from '../../server/credentials/voprf.ts';
import { toB64u } from '../../server/credentials/encoding.ts';

const TICKET = 'AbCdEfGhIjKlMnOpQrStUv';
const form: Form = makeForm({ members: 4, candidates: 3 });

/** Let pending promises run (the fake API answers asynchronously; the curve code takes real time). */
const settle = async () => {
  for (let i = 0; i < 6; i++) await vi.advanceTimersByTimeAsync(0);
};

function fillAll(ballot: Ballot) {
  for (const part of ballot.form.parts) {
    if (part.kind === 'rating') for (const s of part.subjects) expect(ballot.choose(part, s.key, part.grades[1]!.key).ok).toBe(true);
  }
}

/** Look at every part, as a voter going through the ballot does, then the review. */
function visitAll(session: VoterSession) {
  for (let i = 0; i < session.ballot!.form.parts.length; i++) session.goToPart(i);
  session.toReview();
}

/** Open the ballot for TICKET, fill every rating part, look at every part, send it, and let the first reply come in. */
async function fillAndSubmit(session: VoterSession) {
  session.start(`#${TICKET}`);
  await settle();
  fillAll(session.ballot!);
  visitAll(session);
  session.submit();
  await settle();
}

function screenName(s: { screen: Screen }) {
  return s.screen.name;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('VoterSession: the ticket becomes a token at once', () => {
  it('redeems the scanned ticket with a blinded element, then asks about the meeting without it', async () => {
    const api = new FakeApi([meeting(form)]);
    const { session, local, tab } = newSession(api);
    session.start(`#${TICKET}`);
    expect(screenName(session)).toBe('connecting');
    await settle();
    expect(session.screen).toMatchObject({ name: 'ballot', part: 0 });
    expect(api.redeemCalls).toHaveLength(1);
    expect(api.redeemCalls[0]!.ticket).toBe(TICKET);
    expect(api.redeemCalls[0]!.blinded).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // After the redemption nothing the phone sends carries the ticket or the blinded element.
    for (const c of api.meetingCalls) expect(JSON.stringify(c)).not.toMatch(new RegExp(`${TICKET}|${api.redeemCalls[0]!.blinded}`));
    expect(api.meetingCalls[0]).toMatchObject({ meetingId: 7, withForm: true });
    // The phone shows the fingerprint of the key it checked the proof against.
    expect(session.fingerprint).toBe(api.fingerprint);
    // Stored: the token, the pinned key, the draft — under hashes; never the ticket.
    session.ballot!.choose(ratingPart(form, 'A'), 's1', 'good');
    const keys = [...local.items.keys()].sort();
    expect(keys.map((k) => k.split('.')[1])).toEqual(['draft', 'key', 'token']);
    for (const [k, v] of local.items) {
      expect(k).toMatch(/^ceping\.(draft|key|token)\.[0-9a-f]{64}$/);
      expect(v).not.toContain(TICKET);
    }
    const draft = [...local.items.entries()].find(([k]) => k.startsWith('ceping.draft.'))![1];
    expect(JSON.parse(draft)).toMatchObject({ answers: { A: { grades: { s1: 'good' } } }, sent: null, part: 0, seen: ['A'] });
    // The tab remembers the token (not the ticket) for a reload.
    expect(tab.getItem('ceping.current')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('a lost redemption reply is sent again with the same blinded element, and the same token results', async () => {
    const api = new FakeApi([meeting(form)], ['server'], ['lost', UNREACHABLE, 'server']);
    const { session } = newSession(api);
    session.start(`#${TICKET}`);
    await settle();
    expect(session.screen).toEqual({ name: 'connecting', attempt: 1 });
    await vi.advanceTimersByTimeAsync(20000);
    await settle();
    expect(session.screen).toMatchObject({ name: 'ballot' });
    expect(api.redeemCalls).toHaveLength(3);
    expect(new Set(api.redeemCalls.map((c) => c.blinded)).size).toBe(1);
  });

  it('after a reload in the middle of redeeming, the blinding kept on the phone is sent again', async () => {
    const local = new MemoryStorage();
    const api = new FakeApi([meeting(form)], ['server'], ['lost', 'server']);
    const first = newSession(api, { local }).session;
    first.start(`#${TICKET}`);
    await settle();
    first.retype();
    const second = newSession(api, { local }).session;
    second.start(`#${TICKET}`);
    await settle();
    expect(second.screen).toMatchObject({ name: 'ballot' });
    expect(api.redeemCalls[1]!.blinded).toBe(api.redeemCalls[0]!.blinded);
    // The blinding is gone once the token is kept.
    expect([...local.items.keys()].some((k) => k.startsWith('ceping.pending.'))).toBe(false);
  });

  it('a reload that lost the answer picks the ticket up from the tab and sends the same blinding', async () => {
    const local = new MemoryStorage();
    const tab = new MemoryStorage();
    const api = new FakeApi([meeting(form)], ['server'], ['lost', 'server']);
    const first = newSession(api, { local, tab }).session;
    first.start(`#${TICKET}`);
    await settle();
    expect(first.screen).toEqual({ name: 'connecting', attempt: 1 });
    // The page reloads: no fragment any more, only what the tab kept.
    const second = newSession(api, { local, tab }).session;
    second.start('');
    await settle();
    expect(second.screen).toMatchObject({ name: 'ballot' });
    expect(api.redeemCalls[1]).toEqual(api.redeemCalls[0]);
    expect(tab.getItem('ceping.ticket')).toBeNull();
  });

  it('refuses to go on when the meeting key changes, or when the proof does not hold', async () => {
    const local = new MemoryStorage();
    const api = new FakeApi([meeting(form)]);
    const a = newSession(api, { local }).session;
    a.start(`#${TICKET}`);
    await settle();
    expect(a.screen).toMatchObject({ name: 'ballot' });
    a.retype();
    // Another ticket of the same meeting on this phone, answered with a key of its own (a tag).
    const tagged = new FakeApi([meeting(form)]);
    const b = newSession(tagged, { local }).session;
    b.start('#ZZZZEfGhIjKlMnOpQrStUv');
    await settle();
    expect(b.screen).toMatchObject({ name: 'refused', title: '测评密钥不一致', action: null });
    expect(b.ballot).toBeNull();

    // A proof made with another key than the one sent.
    const liar = new FakeApi([meeting(form)]);
    const real = liar.redeem.bind(liar);
    liar.redeem = async (body) => {
      const r = await real(body);
      return r.ok ? { ok: true, data: { ...r.data, publicKey: toB64u(newMeetingKey().publicKey) } } : r;
    };
    const c = newSession(liar).session;
    c.start(`#${TICKET}`);
    await settle();
    expect(c.screen).toMatchObject({ name: 'refused', title: '测评凭证校验失败' });
  });

  it('a phone without BigInt redeems without blinding, is told so, and still votes', async () => {
    const api = new FakeApi([meeting(form)]);
    const { session } = newSession(api, { bigint: false });
    await fillAndSubmit(session);
    expect(api.redeemCalls[0]!.blinded).toBeNull();
    expect(session.assisted).toBe(true);
    expect(session.screen).toMatchObject({ name: 'done', alreadyRecorded: false });
  });

  it('shows the server\'s words when a ticket is refused', async () => {
    for (const [code, title] of [['TICKET_INVALID', '测评码无效'], ['TICKET_USED', '此二维码已被领取'], ['TICKET_VOID', '暂时无法测评'], ['TICKET_NOT_HANDED_OUT', '暂时无法测评']] as const) {
      const { session, local } = newSession(new FakeApi([meeting(form)], ['server'], [refusal(code)]));
      session.start(`#${TICKET}`);
      await settle();
      expect(session.screen).toMatchObject({ name: 'refused', title, message: (refusal(code) as { message: string }).message, action: 'retype' });
      expect([...local.items.keys()].filter((k) => k.startsWith('ceping.pending.'))).toEqual([]);
    }
    const closed = newSession(new FakeApi([meeting(form)], ['server'], [refusal('VOTING_CLOSED')])).session;
    closed.start(`#${TICKET}`);
    await settle();
    expect(closed.screen).toEqual({ name: 'closed', unsent: false });
  });
});

describe('VoterSession: filling in and casting', () => {
  it('waits calmly while voting is not open and shows the ballot by itself when it opens', async () => {
    const api = new FakeApi([meeting(form, 'signin'), meeting(form, 'signin'), UNREACHABLE, meeting(form, 'voting')]);
    const { session } = newSession(api);
    session.start(`#${TICKET}`);
    await settle();
    expect(session.screen).toEqual({ name: 'waiting', trouble: false });
    await vi.advanceTimersByTimeAsync(3000);
    expect(session.screen).toEqual({ name: 'waiting', trouble: false });
    await vi.advanceTimersByTimeAsync(3000);
    expect(session.screen).toEqual({ name: 'waiting', trouble: true });
    await vi.advanceTimersByTimeAsync(3000);
    await settle();
    expect(session.screen).toMatchObject({ name: 'ballot', part: 0 });
    // The waiting polls leave the form out; it is asked for once, when needed.
    expect(api.meetingCalls.filter((c) => c.withForm !== false).length).toBeGreaterThanOrEqual(1);
    expect(api.meetingCalls.filter((c) => c.withForm === false).length).toBeGreaterThanOrEqual(2);
  });

  it('goes part by part and stops at the first unanswered subject', async () => {
    const { session } = newSession(new FakeApi([meeting(form)]));
    session.start(`#${TICKET}`);
    await settle();
    const ballot = session.ballot!;
    session.nextPart();
    expect(session.screen).toMatchObject({ name: 'ballot', part: 0, focus: { part: 'A', subject: 's1' } });
    for (const s of ratingPart(form, 'A').subjects) ballot.choose(ratingPart(form, 'A'), s.key, ABSTAIN);
    session.nextPart();
    expect(session.screen).toMatchObject({ name: 'ballot', part: 1, focus: null });
    session.toReview();
    expect(session.screen).toMatchObject({ name: 'ballot', part: 1, focus: { part: 'B', subject: 'team' } });
    fillAll(ballot);
    session.toReview();
    expect(screenName(session)).toBe('review');
  });

  it('will not submit a part the voter never opened: it goes there first', async () => {
    const { session } = newSession(new FakeApi([meeting(form)]));
    session.start(`#${TICKET}`);
    await settle();
    fillAll(session.ballot!);
    session.goToPart(1);
    session.goToPart(2);
    session.toReview();
    expect(screenName(session)).toBe('review');
    expect(session.unseen).toEqual(['D', 'E']);
    session.submit();
    expect(session.screen).toMatchObject({ name: 'ballot', part: 3, focus: { part: 'D', subject: null, message: expect.stringContaining('还没有查看过') } });
    session.goToPart(4);
    session.toReview();
    expect(session.unseen).toEqual([]);
  });

  it('submits with the token, wipes the choices, keeps only the receipt, and shows it again on a rescan', async () => {
    const api = new FakeApi([meeting(form)]);
    const { session, local, tab } = newSession(api);
    session.start(`#${TICKET}`);
    await settle();
    fillAll(session.ballot!);
    session.ballot!.addWriteIn(recommendPart(form), ' 田 野 ');
    session.ballot!.setText(form.parts[4]!, '  希望多开会  ');
    visitAll(session);
    session.submit();
    expect(screenName(session)).toBe('submitting');
    await settle();
    expect(session.screen).toMatchObject({ name: 'done', alreadyRecorded: false });
    expect(api.castCalls).toHaveLength(1);
    const sent = api.castCalls[0]!;
    expect(sent.meetingId).toBe(7);
    expect(JSON.stringify(sent)).not.toContain(TICKET);
    expect(sent.package.D).toEqual({ picks: [], writeIns: ['田野'] });
    expect(sent.package.E).toEqual({ text: '希望多开会' });
    const left = [...local.items.entries()];
    expect(left.map(([k]) => k.split('.')[1]).sort()).toEqual(['key', 'receipt']);
    for (const [, v] of left) expect(v).not.toMatch(/田野|希望|good|excellent/);
    expect(tab.items.size).toBe(0);
    expect(session.ballot).toBeNull();

    // Scanning the same code again on this phone: already voted, with the receipt it kept.
    const again = newSession(api, { local }).session;
    again.start(`#${TICKET}`);
    await settle();
    expect(again.screen).toEqual({ name: 'used', receipt: (session.screen as { receipt: string }).receipt });
    expect(api.redeemCalls).toHaveLength(1);
  });

  it('retries through a lost cast reply with the same token and package and lands on the receipt', async () => {
    const api = new FakeApi([meeting(form)], ['lost', UNREACHABLE, { ok: false, kind: 'unreachable', status: 503 }, 'server']);
    const { session } = newSession(api);
    await fillAndSubmit(session);
    expect(session.screen).toEqual({ name: 'submitting', attempt: 1, trouble: '网络不稳定，正在重试…' });
    await vi.advanceTimersByTimeAsync(retryDelay(1, () => 1));
    await vi.advanceTimersByTimeAsync(retryDelay(2, () => 1));
    expect(session.screen).toMatchObject({ name: 'submitting', attempt: 3 });
    session.wake();
    await settle();
    expect(session.screen).toMatchObject({ name: 'done', alreadyRecorded: true });
    expect(api.castCalls).toHaveLength(4);
    for (const c of api.castCalls) expect(c).toEqual(api.castCalls[0]);
  });

  it('after a reload mid-submit, sends the same package again instead of asking twice', async () => {
    const api = new FakeApi([meeting(form)], ['lost', 'server']);
    const local = new MemoryStorage();
    const tab = new MemoryStorage();
    const first = newSession(api, { local, tab }).session;
    await fillAndSubmit(first);
    expect(screenName(first)).toBe('submitting');
    const current = tab.getItem('ceping.current');
    // The tab is reloaded: no fragment in the address bar; the tab still names the token.
    first.retype();
    tab.setItem('ceping.current', current!);
    const second = newSession(api, { local, tab }).session;
    second.start('');
    await settle();
    expect(second.screen).toMatchObject({ name: 'done', alreadyRecorded: true });
    expect(api.castCalls[1]).toEqual(api.castCalls[0]);
  });

  it('after a reload that lost the tab (WeChat in the background), comes back to the part the voter was on', async () => {
    const local = new MemoryStorage();
    const a = newSession(new FakeApi([meeting(form)]), { local }).session;
    a.start(`#${TICKET}`);
    await settle();
    const partA = ratingPart(form, 'A');
    for (const s of partA.subjects) a.ballot!.choose(partA, s.key, 'good');
    a.nextPart();
    fillAll(a.ballot!);
    a.goToPart(2);
    // Reloaded on the last rating part, everything filled: back on that part, not on the review with D and E unseen.
    const b = newSession(new FakeApi([meeting(form)]), { local }).session;
    b.start('');
    await settle();
    expect(b.screen).toMatchObject({ name: 'ballot', part: 2 });
    expect(b.ballot!.progress(partA)).toEqual({ done: 6, total: 6 });
    expect(b.unseen).toEqual(['D', 'E']);
    // On the review when reloaded: back on the review.
    b.goToPart(3);
    b.goToPart(4);
    b.toReview();
    const c = newSession(new FakeApi([meeting(form)]), { local }).session;
    c.start('');
    await settle();
    expect(c.screen).toEqual({ name: 'review' });
  });

  it.each([
    ['TOKEN_USED', { name: 'used', receipt: null }],
    ['VOTING_CLOSED', { name: 'closed', unsent: true }],
    ['TOKEN_INVALID', { name: 'refused', title: '测评凭证无效', action: 'retype' }],
    ['BALLOT_LIMIT', { name: 'refused', action: 'review' }],
    ['VALIDATION', { name: 'refused', action: 'review' }],
  ] as const)('shows a clear screen when the server refuses a cast with %s', async (code, expected) => {
    const api = new FakeApi([meeting(form)], [refusal(code)]);
    const { session, local } = newSession(api);
    await fillAndSubmit(session);
    expect(session.screen).toMatchObject(expected);
    if (code === 'TOKEN_USED' || code === 'VOTING_CLOSED' || code === 'TOKEN_INVALID') {
      expect([...local.items.keys()].filter((k) => k.startsWith('ceping.draft') || k.startsWith('ceping.token'))).toEqual([]);
    }
  });

  it('jumps to the subject a BALLOT_INVALID refusal names', async () => {
    const msg = '第二部分「班子集体和成员年度考核民主测评表」：「优秀」最多可选 1 人，现已选 2 人';
    const api = new FakeApi([meeting(form)], [refusal('BALLOT_INVALID', { part: 'B', subject: 'm2' }, msg), 'server']);
    const { session } = newSession(api);
    await fillAndSubmit(session);
    expect(session.screen).toMatchObject({ name: 'ballot', part: 1, focus: { part: 'B', subject: 'm2', message: msg } });
    session.toReview();
    session.submit();
    await settle();
    expect(screenName(session)).toBe('done');
  });

  it('goes back to waiting when voting is not open at submit, and to the review once it opens', async () => {
    const api = new FakeApi([meeting(form), meeting(form, 'signin'), meeting(form)], [refusal('VOTING_NOT_OPEN'), 'server']);
    const { session } = newSession(api);
    await fillAndSubmit(session);
    expect(screenName(session)).toBe('waiting');
    await vi.advanceTimersByTimeAsync(3000);
    await vi.advanceTimersByTimeAsync(3000);
    await settle();
    expect(session.screen).toEqual({ name: 'review' });
    expect(session.ballot!.problems).toEqual([]);
  });

  it('a close reaches a phone in the middle of its ballot within seconds, and says its choices did not count', async () => {
    const api = new FakeApi([meeting(form), meeting(form), meeting(form, 'closed')]);
    const { session, local } = newSession(api, { watchMs: 4000 });
    session.start(`#${TICKET}`);
    await settle();
    session.ballot!.choose(ratingPart(form, 'A'), 's1', 'good');
    await vi.advanceTimersByTimeAsync(4000);
    expect(screenName(session)).toBe('ballot');
    await vi.advanceTimersByTimeAsync(4000);
    await settle();
    expect(session.screen).toEqual({ name: 'closed', unsent: true });
    expect([...local.items.keys()].filter((k) => k.startsWith('ceping.draft') || k.startsWith('ceping.token'))).toEqual([]);
  });

  it('handles closed meetings and lost connections on the first look-up', async () => {
    const closed = newSession(new FakeApi([meeting(form, 'closed')]));
    closed.session.start(`#${TICKET}`);
    await settle();
    expect(closed.session.screen).toEqual({ name: 'closed', unsent: false });

    const offline = newSession(new FakeApi([UNREACHABLE, UNREACHABLE, meeting(form)]));
    offline.session.start(`#${TICKET}`);
    await settle();
    expect(offline.session.screen).toEqual({ name: 'connecting', attempt: 1 });
    await vi.advanceTimersByTimeAsync(20000);
    await settle();
    expect(offline.session.screen).toMatchObject({ name: 'ballot' });
  });

  it('a rehearsal ticket walks through without keeping anything, and ends when voting opens', async () => {
    const api = new FakeApi([meeting(form, 'signin'), meeting(form, 'signin'), meeting(form, 'voting')], ['server']);
    api.rehearsal = true;
    const { session, local } = newSession(api, { watchMs: 4000 });
    await fillAndSubmit(session);
    expect(session.screen).toMatchObject({ name: 'done' });
    expect(session.rehearsal).toBe(true);
    expect([...local.items.keys()].some((k) => k.startsWith('ceping.token') || k.startsWith('ceping.draft'))).toBe(false);
    const again = newSession(api, { local, watchMs: 4000 }).session;
    again.start(`#${TICKET}`);
    await settle();
    expect(again.screen).toMatchObject({ name: 'ballot' });
    await vi.advanceTimersByTimeAsync(4000);
    await settle();
    expect(again.screen).toMatchObject({ name: 'refused', title: '演练已结束' });
  });

  it('asks for the code when the address has none, and checks what is typed before asking the server', async () => {
    const api = new FakeApi([meeting(form)]);
    const { session } = newSession(api);
    session.start('');
    expect(session.screen).toEqual({ name: 'code', message: null });
    session.enterCode('K7QM-3XP');
    expect(session.screen).toMatchObject({ name: 'code', message: expect.stringContaining('共 8 位') });
    expect(api.redeemCalls).toEqual([]);
    session.start('#garbled');
    expect(session.screen).toMatchObject({ name: 'code', message: expect.stringContaining('二维码内容不完整') });
  });

  it('spreads retries out and caps them at about ten seconds', () => {
    expect(retryDelay(1, () => 0.5)).toBe(1000);
    expect(retryDelay(4, () => 0.5)).toBe(8000);
    expect(retryDelay(50, () => 1)).toBe(12500);
    expect(retryDelay(50, () => 0)).toBe(7500);
  });
});

describe('DraftStore', () => {
  it('sweeps choices and tokens older than two days and receipts older than ninety, and leaves other keys alone', () => {
    const storage = new MemoryStorage();
    let now = 1_000_000_000_000;
    const store = new DraftStore(storage, () => now);
    store.saveDraft('old', { answers: { A: { grades: { s1: 'good' } } }, part: 0, seen: ['A'], sent: null });
    store.saveReceipt('old', { receipt: 'AAAAA-BBBBB', rehearsal: false });
    storage.setItem('someone-else', 'x');
    now += 3 * 24 * 3600 * 1000;
    store.saveDraft('new', { answers: null, part: 0, seen: [], sent: null });
    new DraftStore(storage, () => now).sweep();
    expect(new DraftStore(storage).loadDraft('old')).toBeNull();
    expect(new DraftStore(storage).loadDraft('new')).not.toBeNull();
    expect(new DraftStore(storage).loadReceipt('old')).toEqual({ receipt: 'AAAAA-BBBBB', rehearsal: false });
    expect(storage.getItem('someone-else')).toBe('x');
    now += 90 * 24 * 3600 * 1000;
    new DraftStore(storage, () => now).sweep();
    expect(new DraftStore(storage).loadReceipt('old')).toBeNull();
  });

  it("still keeps this visit's draft when the browser refuses storage", () => {
    const refusing = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('full'); }, removeItem: () => { throw new Error('denied'); } };
    const store = new DraftStore(refusing);
    store.saveDraft(TICKET, { answers: null, part: 2, seen: ['A'], sent: null });
    expect(store.loadDraft(TICKET)).toEqual({ answers: null, part: 2, seen: ['A'], sent: null });
    store.wipeDraft(TICKET);
    expect(store.loadDraft(TICKET)).toBeNull();
  });
});
