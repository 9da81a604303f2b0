// @vitest-environment jsdom
/**
 * The receipt check (/v/#check): reading a typed receipt as the server does, the checker's states, the
 * way in and out of it from the voter's other screens, and what the voter sees in jsdom.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { useRenderedPage } from './dom.ts';
import fc from 'fast-check';
import App from '../../voter-ui/src/App.svelte';
import { check, steps } from '../../voter-ui/src/lib/screens.ts';
import { VoterSession } from '../../voter-ui/src/lib/session.svelte.ts';
import { ReceiptChecker } from '../../voter-ui/src/lib/receipt-check.svelte.ts';
import { checkTypedReceipt, isCheckHash, normalizeReceipt } from '../../voter-ui/src/lib/receipt.ts';
import { CODE_ALPHABET, credentialFromHash } from '../../voter-ui/src/lib/credential.ts';
import { DraftStore } from '../../voter-ui/src/lib/draft-store.ts';
import * as serverSecrets from '../../server/credentials/secrets.ts';
import { FakeApi, MemoryStorage, UNREACHABLE, meeting, newSession, refusal } from './fake-api.ts';
import { makeForm } from '../factories/forms.ts';
import type { Form } from '../../server/forms/form.schemas.ts';

const TOKEN = 'AbCdEfGhIjKlMnOpQrStUv';
const RECEIPT = 'DV334-JH9HB';
const form: Form = makeForm({ members: 2, candidates: 0 });

useRenderedPage();

// The ballot steps and the receipt check are chunks of their own on the phone (tests/voter/lazy.test.ts
// covers their loading); here they are there before any screen needs them.
beforeAll(async () => {
  await Promise.all([steps.load(), check.load()]);
});

const settle = async () => {
  for (let i = 0; i < 6; i++) await vi.advanceTimersByTimeAsync(0);
};

function setup(api = new FakeApi([meeting(form)], [{ ok: true, data: { receipt: RECEIPT, alreadyRecorded: false, rehearsal: false } }])) {
  const { session, tab } = newSession(api);
  return { session, api, tab };
}

/** Fill every rating subject and submit: the session ends on the done screen with RECEIPT. */
async function voteThrough(session: VoterSession): Promise<void> {
  session.start(`#${TOKEN}`);
  await settle();
  for (const part of session.ballot!.form.parts) {
    if (part.kind === 'rating') for (const s of part.subjects) session.ballot!.choose(part, s.key, part.grades[1]!.key);
  }
  for (let i = 1; i < session.ballot!.form.parts.length; i++) session.goToPart(i);
  session.toReview();
  session.submit();
  await settle();
  expect(session.screen).toMatchObject({ name: 'done', receipt: RECEIPT });
}

describe('reading a typed receipt', () => {
  it('agrees with the server on anything a keyboard gives: case, spaces, dashes, full-width letters', () => {
    const units = [...CODE_ALPHABET, ...CODE_ALPHABET.toLowerCase(), '0', '1', 'O', 'I', 'l', '-', ' ', '\t', 'Ｄ', '３', '－', '　', '测'];
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...units), maxLength: 14 }), (s) => {
        expect(normalizeReceipt(s)).toBe(serverSecrets.normalizeReceipt(s));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...CODE_ALPHABET), minLength: 10, maxLength: 10 }), (r) => {
        const canonical = `${r.slice(0, 5)}-${r.slice(5)}`;
        expect(normalizeReceipt(r.toLowerCase())).toBe(canonical);
        expect(serverSecrets.normalizeReceipt(canonical)).toBe(canonical);
      }),
    );
  });

  it('also reads the other dashes a Chinese keyboard types, and sends the server its own spelling', () => {
    expect(normalizeReceipt('dv334—jh9hb')).toBe(RECEIPT);
    expect(normalizeReceipt('ＤＶ３３４－ＪＨ９ＨＢ')).toBe(RECEIPT);
    expect(normalizeReceipt(' DV334_JH9HB ')).toBe(RECEIPT);
    expect(serverSecrets.normalizeReceipt(normalizeReceipt('dv334—jh9hb')!)).toBe(RECEIPT);
  });

  it('says what is wrong with a mistyped receipt, so nothing is sent for it', () => {
    expect(checkTypedReceipt('  ')).toEqual({ ok: false, message: '请输入回执码' });
    expect(checkTypedReceipt('DV334')).toEqual({ ok: false, message: '回执码共 10 位，您输入了 5 位，请核对' });
    expect(checkTypedReceipt('DV334-JH9HB7')).toEqual({ ok: false, message: '回执码共 10 位，您输入了 11 位，请核对' });
    expect(checkTypedReceipt('DV33O-JH9HB')).toEqual({ ok: false, message: '回执码中不会出现「O」，请逐位核对' });
    expect(checkTypedReceipt('dv334 jh9hb')).toEqual({ ok: true, receipt: RECEIPT });
  });

  it('knows #check from a credential: it is never read as a token or a short code', () => {
    for (const h of ['#check', '#CHECK', '#/check', 'check', '#check/']) {
      expect(isCheckHash(h)).toBe(true);
      expect(credentialFromHash(h)).toBeNull();
    }
    for (const h of [`#${TOKEN}`, '#K7QM-3XPA', '#checkAbCdEfGhIjKlMnOpQ', '#', '']) expect(isCheckHash(h)).toBe(false);
  });
});

describe('ReceiptChecker', () => {
  it('answers 已计入 with the unit, 未找到, or not yet sealed, and sends only the receipt', async () => {
    const api = new FakeApi([meeting(form)]);
    api.receipts.add(RECEIPT);
    const checker = new ReceiptChecker(api);
    checker.typed = 'dv334 jh9hb';
    await checker.check();
    expect(api.receiptCalls).toEqual([RECEIPT]);
    expect(checker.result).toEqual({ kind: 'not_sealed', receipt: RECEIPT });
    api.sealed = true;
    await checker.check();
    expect(checker.result).toEqual({ kind: 'included', receipt: RECEIPT, unitName: '红旗村' });
    checker.typed = 'ABCDE-FGHJK';
    await checker.check();
    expect(checker.result).toEqual({ kind: 'not_found', receipt: 'ABCDE-FGHJK' });
    expect(checker.busy).toBe(false);
  });

  it('sends nothing for a mistyped receipt and says why', async () => {
    const api = new FakeApi([meeting(form)]);
    const checker = new ReceiptChecker(api);
    checker.typed = 'DV334-JH9H';
    await checker.check();
    expect(checker.problem).toBe('回执码共 10 位，您输入了 9 位，请核对');
    expect(checker.result).toBeNull();
    expect(api.receiptCalls).toEqual([]);
  });

  it('tells "too many checks" and "no network" apart from an answer, and never shows a refusal as 未找到', async () => {
    const api = new FakeApi([meeting(form)]);
    api.receiptScript = [
      { ok: false, kind: 'unreachable', status: 429 },
      refusal('RATE_LIMITED'),
      UNREACHABLE,
      refusal('NOT_FOUND'),
    ];
    const checker = new ReceiptChecker(api);
    checker.typed = RECEIPT;
    const kinds: string[] = [];
    for (let i = 0; i < 4; i++) {
      await checker.check();
      kinds.push(checker.result!.kind);
    }
    expect(kinds).toEqual(['too_many', 'too_many', 'unreachable', 'failed']);
  });

  it('is busy while asking, takes one check at a time, and drops an answer that comes after a reset', async () => {
    const api = new FakeApi([meeting(form)]);
    let open!: () => void;
    api.receiptGate = new Promise((resolve) => (open = resolve));
    const checker = new ReceiptChecker(api);
    checker.typed = RECEIPT;
    const first = checker.check();
    expect(checker.busy).toBe(true);
    await checker.check();
    expect(api.receiptCalls).toHaveLength(1);
    checker.reset('');
    open();
    await first;
    expect(checker.result).toBeNull();
    expect(checker.busy).toBe(false);
  });
});

describe('VoterSession and the receipt check', () => {
  it('opens from #check without asking anything about a credential, and goes back to the code entry', async () => {
    const { session, api, tab } = setup();
    session.start('#check');
    await settle();
    expect(session.screen).toEqual({ name: 'check' });
    expect(session.receipts.typed).toBe('');
    expect(api.redeemCalls).toEqual([]);
    expect(api.meetingCalls).toEqual([]);
    expect(tab.items.size).toBe(0);
    expect(session.checkFromLink).toBe(false);
    session.closeCheck();
    expect(session.screen).toEqual({ name: 'code', message: null });
  });

  it('from the done screen: the receipt is filled in, and back shows the same receipt again', async () => {
    const { session } = setup();
    await voteThrough(session);
    const done = session.screen;
    session.openCheck(true);
    expect(session.screen).toEqual({ name: 'check' });
    expect(session.checkFromLink).toBe(true);
    expect(session.receipts.typed).toBe(RECEIPT);
    session.closeCheck();
    expect(session.screen).toBe(done);
    expect(session.checkFromLink).toBe(false);
  });

  it("does not fill in a rehearsal's receipt (it is never counted)", async () => {
    const api = new FakeApi([meeting(form, 'signin')], [{ ok: true, data: { receipt: RECEIPT, alreadyRecorded: false, rehearsal: true } }]);
    api.rehearsal = true;
    const { session } = setup(api);
    await voteThrough(session);
    session.openCheck(true);
    expect(session.receipts.typed).toBe('');
  });

  it('from the "already voted" screen: its kept receipt is filled in too', async () => {
    const local = new MemoryStorage();
    new DraftStore(local).saveReceipt('some token', { receipt: RECEIPT, rehearsal: false, ticketKey: DraftStore.ticketKey(TOKEN) });
    const { session } = newSession(new FakeApi([meeting(form)]), { local });
    session.start(`#${TOKEN}`);
    await settle();
    expect(session.screen).toEqual({ name: 'used', receipt: RECEIPT });
    render(App, { props: { session } });
    expect(screen.getByRole('link', { name: '查询回执' }).getAttribute('href')).toBe('#check');
    session.openCheck(true);
    expect(session.receipts.typed).toBe(RECEIPT);
  });

  it('opened in the middle of a ballot, back picks the ballot up again from the tab', async () => {
    const { session, api } = setup();
    session.start(`#${TOKEN}`);
    await settle();
    expect(session.screen.name).toBe('ballot');
    session.openCheck(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(session.screen.name).toBe('check');
    session.closeCheck();
    expect(session.screen.name).toBe('connecting');
    await settle();
    expect(session.screen.name).toBe('ballot');
    // One redemption; the meeting asked about again with the token the tab kept.
    expect(api.redeemCalls).toHaveLength(1);
    expect(api.meetingCalls.filter((c) => c.withForm !== false)).toHaveLength(2);
  });
});

describe('the receipt check page', () => {
  function open(api = new FakeApi([meeting(form)])) {
    const { session } = newSession(api);
    session.start('#check');
    render(App, { props: { session } });
    return { session, api };
  }
  const input = () => screen.getByLabelText('回执码') as HTMLInputElement;
  const ask = async (typed: string) => {
    await fireEvent.input(input(), { target: { value: typed } });
    await fireEvent.click(screen.getByRole('button', { name: '查询' }));
    await settle();
  };

  it('explains in one line what a receipt proves, and shows 已计入 with the unit in a green card', async () => {
    const { api } = open();
    api.receipts.add(RECEIPT);
    api.sealed = true;
    expect(screen.getByRole('heading', { level: 1, name: '查询回执' })).toBeTruthy();
    expect(screen.getByText('回执码只能证明测评票已计入，任何人都无法凭它看到您的选择。')).toBeTruthy();
    await ask('dv334 jh9hb');
    expect(api.receiptCalls).toEqual([RECEIPT]);
    const result = screen.getByRole('heading', { level: 2, name: '已计入' });
    expect(result.closest('section')!.className).toContain('included');
    expect(result.closest('section')!.textContent).toContain('红旗村');
    expect(result.closest('section')!.textContent).toContain(RECEIPT);
    // The answer takes the focus (the keyboard closes, a screen reader reads it).
    expect(document.activeElement).toBe(result);
  });

  it('shows 未找到 in a grey card with what to do next', async () => {
    open();
    await ask('ABCDE-FGHJK');
    const result = screen.getByRole('heading', { level: 2, name: '未找到' });
    const card = result.closest('section')!;
    expect(card.className).toContain('not-found');
    expect(card.textContent).toContain('逐位核对');
    expect(card.textContent).toContain('请向考察组反映');
    expect(card.textContent).not.toContain('已计入');
  });

  it('says calmly that checking opens once the results are sealed', async () => {
    const { api } = open();
    api.receipts.add(RECEIPT);
    await ask(RECEIPT);
    const result = screen.getByRole('heading', { level: 2, name: '会议结果封存后才能查询' });
    expect(result.closest('section')!.className).toContain('pending');
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('points at a mistyped receipt without asking the server', async () => {
    const { api } = open();
    await ask('DV334-JH9H');
    expect(screen.getByRole('alert').textContent).toBe('回执码共 10 位，您输入了 9 位，请核对');
    expect(input().getAttribute('aria-invalid')).toBe('true');
    expect(input().getAttribute('aria-describedby')).toBe('receipt-problem');
    expect(api.receiptCalls).toEqual([]);
  });

  it('says 查询太频繁，请稍后再试 when rate-limited, and is busy while it asks', async () => {
    const { api } = open();
    api.receiptScript = [refusal('RATE_LIMITED')];
    let release!: () => void;
    api.receiptGate = new Promise((resolve) => (release = resolve));
    await fireEvent.input(input(), { target: { value: RECEIPT } });
    await fireEvent.click(screen.getByRole('button', { name: '查询' }));
    const busy = screen.getByRole('button', { name: '正在查询…' }) as HTMLButtonElement;
    expect(busy.disabled).toBe(true);
    release();
    await settle();
    expect(screen.getByRole('heading', { level: 2, name: '查询太频繁，请稍后再试' })).toBeTruthy();
    expect((screen.getByRole('button', { name: '查询' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('返回 leads to the code entry, which links back to the check', async () => {
    open();
    await fireEvent.click(screen.getByRole('button', { name: '返回' }));
    await settle();
    expect(screen.getByRole('heading', { level: 1, name: '民主测评' })).toBeTruthy();
    expect(screen.getByRole('link', { name: '查询回执' }).getAttribute('href')).toBe('#check');
  });

  it('is linked from the done screen ("会议结束后可在此查询"), but not after a rehearsal', async () => {
    for (const rehearsal of [false, true]) {
      const api = new FakeApi([meeting(form, rehearsal ? 'signin' : 'voting')], [{ ok: true, data: { receipt: RECEIPT, alreadyRecorded: false, rehearsal } }]);
      api.rehearsal = rehearsal;
      const { session } = setup(api);
      await voteThrough(session);
      render(App, { props: { session } });
      expect(screen.getByRole('heading', { level: 1, name: '提交成功' })).toBeTruthy();
      const link = screen.queryByRole('link', { name: '会议结束后可在此查询' });
      if (rehearsal) expect(link).toBeNull();
      else expect(link!.getAttribute('href')).toBe('#check');
      cleanup();
    }
  });
});
