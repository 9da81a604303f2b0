// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { VoterSession, retryDelay, type Screen } from '../../voter-ui/src/lib/session.svelte.ts';
import { DraftStore, newNonce } from '../../voter-ui/src/lib/draft-store.ts';
import { FakeApi, MemoryStorage, UNREACHABLE, refusal, status } from './fake-api.ts';
import { makeForm, ratingPart, recommendPart } from '../factories/forms.ts';
import { ABSTAIN, type Form } from '../../server/forms/form.schemas.ts';
import type { Ballot } from '../../voter-ui/src/lib/ballot.svelte.ts';

const TOKEN = 'AbCdEfGhIjKlMnOpQrStUv';
const form: Form = makeForm({ members: 4, candidates: 3 });

function setup(api: FakeApi, local = new MemoryStorage(), tab = new MemoryStorage()) {
  const session = new VoterSession({ api, drafts: new DraftStore(local), tab, newNonce: () => newNonce(), pollMs: 3000 });
  return { session, local, tab };
}

/** Let pending promises run (the fake API answers asynchronously). */
const settle = () => vi.advanceTimersByTimeAsync(0);

function fillAll(ballot: Ballot) {
  for (const part of ballot.form.parts) {
    if (part.kind === 'rating') for (const s of part.subjects) expect(ballot.choose(part, s.key, part.grades[1]!.key).ok).toBe(true);
  }
}

/** Open the ballot for TOKEN, fill every rating part, send it, and let the first reply come in. */
async function fillAndSubmit(session: VoterSession) {
  session.start(`#${TOKEN}`);
  await settle();
  fillAll(session.ballot!);
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

describe('VoterSession', () => {
  it('opens the ballot for a ready credential and keeps every choice on the phone under a hash of it', async () => {
    const api = new FakeApi([status(form)]);
    const { session, local, tab } = setup(api);
    session.start(`#${TOKEN}`);
    expect(screenName(session)).toBe('connecting');
    await settle();
    expect(session.screen).toMatchObject({ name: 'ballot', part: 0 });
    expect(api.statusCalls).toEqual([TOKEN]);
    const ballot = session.ballot!;
    ballot.choose(ratingPart(form, 'A'), 's1', 'good');
    const keys = [...local.items.keys()];
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^ceping\.draft\.[0-9a-f]{64}$/);
    expect(keys[0]).not.toContain(TOKEN);
    const stored = local.items.get(keys[0]!)!;
    expect(stored).not.toContain(TOKEN);
    expect(JSON.parse(stored)).toMatchObject({ answers: { A: { grades: { s1: 'good' } } }, sent: null });
    // The tab remembers the credential for a reload only.
    expect(tab.getItem('ceping.credential')).toBe(TOKEN);
  });

  it('waits calmly while voting is not open and shows the ballot by itself when it opens', async () => {
    const api = new FakeApi([status(form, 'not_open'), status(form, 'not_open'), UNREACHABLE, status(form, 'ready')]);
    const { session } = setup(api);
    session.start(`#${TOKEN}`);
    await settle();
    expect(session.screen).toEqual({ name: 'waiting', trouble: false });
    await vi.advanceTimersByTimeAsync(3000);
    expect(session.screen).toEqual({ name: 'waiting', trouble: false });
    await vi.advanceTimersByTimeAsync(3000);
    expect(session.screen).toEqual({ name: 'waiting', trouble: true });
    await vi.advanceTimersByTimeAsync(3000);
    expect(session.screen).toMatchObject({ name: 'ballot', part: 0 });
    expect(api.statusCalls).toHaveLength(4);
  });

  it('goes part by part and stops at the first unanswered subject', async () => {
    const { session } = setup(new FakeApi([status(form)]));
    session.start(`#${TOKEN}`);
    await settle();
    const ballot = session.ballot!;
    session.nextPart();
    expect(session.screen).toMatchObject({ name: 'ballot', part: 0, focus: { part: 'A', subject: 's1' } });
    for (const s of ratingPart(form, 'A').subjects) ballot.choose(ratingPart(form, 'A'), s.key, ABSTAIN);
    session.nextPart();
    expect(session.screen).toMatchObject({ name: 'ballot', part: 1, focus: null });
    // Review from anywhere jumps to the first problem of the whole package.
    session.toReview();
    expect(session.screen).toMatchObject({ name: 'ballot', part: 1, focus: { part: 'B', subject: 'team' } });
    fillAll(ballot);
    session.toReview();
    expect(screenName(session)).toBe('review');
  });

  it('submits, wipes the choices, keeps only the receipt, and shows it again on a rescan', async () => {
    const api = new FakeApi([status(form)]);
    const { session, local, tab } = setup(api);
    session.start(`#${TOKEN}`);
    await settle();
    fillAll(session.ballot!);
    session.ballot!.addWriteIn(recommendPart(form), ' 田 野 ');
    session.ballot!.setText(form.parts[4]!, '  希望多开会  ');
    session.submit();
    expect(screenName(session)).toBe('submitting');
    await settle();
    expect(session.screen).toMatchObject({ name: 'done', alreadyRecorded: false });
    expect(api.castCalls).toHaveLength(1);
    const sent = api.castCalls[0]!;
    expect(sent.credential).toBe(TOKEN);
    expect(sent.nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(sent.package.D).toEqual({ picks: [], writeIns: ['田野'] });
    expect(sent.package.E).toEqual({ text: '希望多开会' });
    const left = [...local.items.entries()];
    expect(left).toHaveLength(1);
    expect(left[0]![0]).toMatch(/^ceping\.receipt\./);
    expect(left[0]![1]).not.toMatch(/田野|希望|good|excellent/);
    expect(tab.items.size).toBe(0);
    expect(session.ballot).toBeNull();

    // Scanning the same code again: already voted, with the receipt the phone kept.
    const again = setup(api, local).session;
    again.start(`#${TOKEN}`);
    await settle();
    expect(again.screen).toEqual({ name: 'used', receipt: (session.screen as { receipt: string }).receipt });
  });

  it('retries through a lost reply with the same nonce and package and lands on the receipt', async () => {
    const api = new FakeApi([status(form)], ['lost', UNREACHABLE, { ok: false, kind: 'unreachable', status: 503 }, 'server']);
    const { session } = setup(api);
    await fillAndSubmit(session);
    expect(session.screen).toEqual({ name: 'submitting', attempt: 1, trouble: '网络不稳定，正在重试…' });
    await vi.advanceTimersByTimeAsync(retryDelay(1, () => 1));
    await vi.advanceTimersByTimeAsync(retryDelay(2, () => 1));
    expect(session.screen).toMatchObject({ name: 'submitting', attempt: 3 });
    // The network comes back: no need to wait out the back-off.
    session.wake();
    await settle();
    expect(session.screen).toMatchObject({ name: 'done', alreadyRecorded: true });
    expect(api.castCalls).toHaveLength(4);
    for (const c of api.castCalls) {
      expect(c.nonce).toBe(api.castCalls[0]!.nonce);
      expect(c.package).toEqual(api.castCalls[0]!.package);
    }
  });

  it('after a reload mid-submit, sends the same package again instead of asking twice', async () => {
    const api = new FakeApi([status(form)], ['lost', 'server']);
    const local = new MemoryStorage();
    const tab = new MemoryStorage();
    const first = setup(api, local, tab).session;
    await fillAndSubmit(first);
    expect(screenName(first)).toBe('submitting');

    // The tab is reloaded: the address bar no longer has the fragment, the tab still has the credential.
    first.retype();
    tab.setItem('ceping.credential', TOKEN);
    const second = setup(api, local, tab).session;
    second.start('');
    await settle();
    expect(second.screen).toMatchObject({ name: 'done', alreadyRecorded: true });
    expect(api.castCalls[1]!.nonce).toBe(api.castCalls[0]!.nonce);
  });

  it('keeps the nonce for the credential across visits', async () => {
    const api = new FakeApi([status(form)], [UNREACHABLE]);
    const local = new MemoryStorage();
    const a = setup(api, local).session;
    await fillAndSubmit(a);
    a.retype();
    const b = setup(new FakeApi([status(form)], [UNREACHABLE]), local).session;
    b.start(`#${TOKEN}`);
    await settle();
    const nonce = api.castCalls[0]!.nonce;
    expect(JSON.parse([...local.items.values()][0]!).nonce).toBe(nonce);
  });

  it.each([
    ['TOKEN_USED', { name: 'used', receipt: null }],
    ['VOTING_CLOSED', { name: 'closed' }],
    ['REHEARSAL_EXPIRED', { name: 'refused', title: '演练已结束', action: 'retype' }],
    ['BALLOT_LIMIT', { name: 'refused', action: 'review' }],
    ['VALIDATION', { name: 'refused', action: 'review' }],
  ] as const)('shows a clear screen when the server refuses with %s', async (code, expected) => {
    const api = new FakeApi([status(form)], [refusal(code)]);
    const { session, local } = setup(api);
    await fillAndSubmit(session);
    expect(session.screen).toMatchObject(expected);
    if (session.screen.name === 'refused') expect(session.screen.message).toBe((refusal(code) as { message: string }).message);
    // Closed and used: nothing of the choices stays on the phone.
    if (code === 'TOKEN_USED' || code === 'VOTING_CLOSED' || code === 'REHEARSAL_EXPIRED') {
      expect([...local.items.keys()].filter((k) => k.startsWith('ceping.draft'))).toEqual([]);
    }
  });

  it('jumps to the subject a BALLOT_INVALID refusal names', async () => {
    const msg = '第二部分「班子集体和成员年度考核民主测评表」：「优秀」最多可选 1 人，现已选 2 人';
    const api = new FakeApi([status(form)], [refusal('BALLOT_INVALID', { part: 'B', subject: 'm2' }, msg), 'server']);
    const { session } = setup(api);
    await fillAndSubmit(session);
    expect(session.screen).toMatchObject({ name: 'ballot', part: 1, focus: { part: 'B', subject: 'm2', message: msg } });
    // Not recorded, so the voter may change it and send again.
    session.toReview();
    session.submit();
    await settle();
    expect(screenName(session)).toBe('done');
  });

  it('goes back to waiting when voting is not open at submit, and to the review once it opens', async () => {
    const api = new FakeApi([status(form), status(form, 'not_open'), status(form)], [refusal('VOTING_NOT_OPEN'), 'server']);
    const { session } = setup(api);
    await fillAndSubmit(session);
    expect(screenName(session)).toBe('waiting');
    await vi.advanceTimersByTimeAsync(3000);
    expect(screenName(session)).toBe('waiting');
    await vi.advanceTimersByTimeAsync(3000);
    // Everything was filled in before: straight back to the review.
    expect(session.screen).toEqual({ name: 'review' });
    expect(session.ballot!.problems).toEqual([]);
  });

  it('comes back to the part the voter was on after the tab is closed', async () => {
    const local = new MemoryStorage();
    const a = setup(new FakeApi([status(form)]), local).session;
    a.start(`#${TOKEN}`);
    await settle();
    const partA = ratingPart(form, 'A');
    for (const s of partA.subjects) a.ballot!.choose(partA, s.key, 'good');
    a.nextPart();
    a.ballot!.choose(ratingPart(form, 'B'), 'team', 'competent');

    const b = setup(new FakeApi([status(form)]), local).session;
    b.start(`#${TOKEN}`);
    await settle();
    expect(b.screen).toMatchObject({ name: 'ballot', part: 1 });
    expect(b.ballot!.gradeOf(ratingPart(form, 'B'), 'team')).toBe('competent');
    expect(b.ballot!.progress(partA)).toEqual({ done: 6, total: 6 });
  });

  it('handles unknown codes, closed meetings and lost connections on the first look-up', async () => {
    const invalid = setup(new FakeApi([refusal('TOKEN_INVALID')]));
    invalid.session.start(`#${TOKEN}`);
    await settle();
    expect(invalid.session.screen).toMatchObject({ name: 'refused', title: '测评码无效', action: 'retype' });
    expect(invalid.tab.items.size).toBe(0);
    invalid.session.retype();
    expect(invalid.session.screen).toEqual({ name: 'code', message: null });

    const closed = setup(new FakeApi([status(form, 'closed')]));
    closed.session.start(`#${TOKEN}`);
    await settle();
    expect(closed.session.screen).toEqual({ name: 'closed' });

    const offline = setup(new FakeApi([UNREACHABLE, UNREACHABLE, status(form)]));
    offline.session.start(`#${TOKEN}`);
    await settle();
    expect(offline.session.screen).toEqual({ name: 'connecting', attempt: 1 });
    await vi.advanceTimersByTimeAsync(20000);
    expect(offline.session.screen).toMatchObject({ name: 'ballot' });
  });

  it('asks for the code when the address has none, and checks what is typed before asking the server', async () => {
    const api = new FakeApi([status(form)]);
    const { session } = setup(api);
    session.start('');
    expect(session.screen).toEqual({ name: 'code', message: null });
    session.enterCode('K7QM-3XP');
    expect(session.screen).toMatchObject({ name: 'code', message: expect.stringContaining('共 8 位') });
    expect(api.statusCalls).toEqual([]);
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
  it('sweeps choices older than two days and receipts older than ninety, and leaves other keys alone', () => {
    const storage = new MemoryStorage() as MemoryStorage & { key(i: number): string | null; length: number };
    Object.defineProperty(storage, 'length', { get: () => storage.items.size });
    storage.key = (i: number) => [...storage.items.keys()][i] ?? null;
    let now = 1_000_000_000_000;
    const store = new DraftStore(storage, () => now);
    store.saveDraft('old', { nonce: newNonce(), answers: { A: { grades: { s1: 'good' } } }, part: 0, sent: null });
    store.saveReceipt('old', { receipt: 'AAAAA-BBBBB', rehearsal: false });
    storage.setItem('someone-else', 'x');
    now += 3 * 24 * 3600 * 1000;
    store.saveDraft('new', { nonce: newNonce(), answers: null, part: 0, sent: null });
    new DraftStore(storage, () => now).sweep();
    expect(new DraftStore(storage).loadDraft('old')).toBeNull();
    expect(new DraftStore(storage).loadDraft('new')).not.toBeNull();
    expect(new DraftStore(storage).loadReceipt('old')).toEqual({ receipt: 'AAAAA-BBBBB', rehearsal: false });
    expect(storage.getItem('someone-else')).toBe('x');
    now += 90 * 24 * 3600 * 1000;
    new DraftStore(storage, () => now).sweep();
    expect(new DraftStore(storage).loadReceipt('old')).toBeNull();
  });

  it('still keeps this visit\'s draft when the browser refuses storage', () => {
    const refusing = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('full'); }, removeItem: () => { throw new Error('denied'); } };
    const store = new DraftStore(refusing);
    const nonce = newNonce();
    store.saveDraft(TOKEN, { nonce, answers: null, part: 2, sent: null });
    expect(store.loadDraft(TOKEN)).toEqual({ nonce, answers: null, part: 2, sent: null });
    store.wipeDraft(TOKEN);
    expect(store.loadDraft(TOKEN)).toBeNull();
  });
});
