/**
 * The voter's visit from scan to receipt, as one state machine: which screen shows, what is kept on the
 * phone, and how requests are retried. Components only read `screen` and call the methods.
 */
import type { ApiResult, VoterApi } from './api.ts';
import { Ballot } from './ballot.svelte.ts';
import type { Problem } from './ballot-rules.ts';
import { checkTypedCode, credentialFromHash } from './credential.ts';
import type { Draft, DraftStore, KeyValueStorage } from './draft-store.ts';
import { isCheckHash } from './receipt.ts';
import { ReceiptChecker } from './receipt-check.svelte.ts';
import type { CastResponse, PartKey, StatusResponse } from './types.ts';

export type Screen =
  | { name: 'code'; message: string | null }
  | { name: 'connecting'; attempt: number }
  | { name: 'waiting'; trouble: boolean }
  | { name: 'ballot'; part: number; focus: Problem | null; seq: number }
  | { name: 'review' }
  | { name: 'submitting'; attempt: number; trouble: string | null }
  | { name: 'done'; receipt: string; alreadyRecorded: boolean }
  | { name: 'used'; receipt: string | null }
  | { name: 'closed' }
  | { name: 'refused'; title: string; message: string; action: 'retype' | 'review' | null }
  /** Checking a receipt after the meeting (#check); the state of the check is in `receipts`. */
  | { name: 'check' };

export interface SessionDeps {
  api: VoterApi;
  drafts: DraftStore;
  /** Keeps the credential for a reload of this tab only (the address bar no longer has it). */
  tab: KeyValueStorage | null;
  newNonce: () => string;
  /** How often the waiting screen asks whether voting has opened. */
  pollMs?: number;
}

const TAB_KEY = 'ceping.credential';
const RETRY_MS = [1000, 2000, 4000, 8000];
const MAX_RETRY_MS = 10000;

/** Wait before try number `attempt` (1-based): doubling to 10 s, spread so a room of phones does not retry at once. */
export function retryDelay(attempt: number, random: () => number = Math.random): number {
  const base = RETRY_MS[attempt - 1] ?? MAX_RETRY_MS;
  return Math.round(base * (0.75 + random() * 0.5));
}

export class VoterSession {
  screen: Screen = $state({ name: 'code', message: null });
  ballot: Ballot | null = $state.raw(null);
  unitName = $state('');
  rehearsal = $state(false);
  readonly receipts: ReceiptChecker;

  readonly #deps: SessionDeps;
  #credential: string | null = null;
  #draft: Draft | null = null;
  /** Bumped whenever a new flow starts, so a loop from an older one stops at its next await. */
  #generation = 0;
  #seq = 0;
  readonly #wakers = new Set<() => void>();
  /** The screen the receipt check was opened from, to go back to (a receipt on it stays in view). */
  #beforeCheck: Screen | null = null;
  #checkFromLink = false;

  constructor(deps: SessionDeps) {
    this.#deps = deps;
    this.receipts = new ReceiptChecker(deps.api);
  }

  /**
   * Start from the page's address: "#check" opens the receipt check, a fragment with a credential opens
   * that ballot, else this tab's last credential.
   */
  start(hash: string): void {
    if (isCheckHash(hash)) return this.openCheck();
    const fromHash = hash.replace(/^#/, '') === '' ? null : credentialFromHash(hash);
    if (fromHash) return this.#begin(fromHash);
    let remembered: string | null = null;
    try {
      remembered = this.#deps.tab ? this.#deps.tab.getItem(TAB_KEY) : null;
    } catch {
      remembered = null;
    }
    if (remembered) return this.#begin(remembered);
    this.screen = {
      name: 'code',
      message: hash.replace(/^#/, '') === '' ? null : '二维码内容不完整，请重新扫码，或在下面输入测评码',
    };
  }

  enterCode(typed: string): void {
    const check = checkTypedCode(typed);
    if (!check.ok) this.screen = { name: 'code', message: check.message };
    else this.#begin(check.credential);
  }

  retype(): void {
    this.#forgetCredential();
    this.#generation++;
    this.ballot = null;
    this.screen = { name: 'code', message: null };
  }

  /** Back from a refusal to the review, or to the server's word on this credential when nothing is held. */
  resume(): void {
    if (this.ballot) this.toReview();
    else if (this.#credential) this.#begin(this.#credential);
    else this.retype();
  }

  // ---------------------------------------------------------------- the receipt check

  /**
   * Show the receipt check. `fromLink`: the page's own link put "#check" in the history, so going back
   * there returns to the screen before. A receipt on that screen is filled in, unless it is a rehearsal's.
   */
  openCheck(fromLink = false): void {
    const s = this.screen;
    if (s.name === 'check') return;
    const receipt = (s.name === 'done' || s.name === 'used') && s.receipt && !this.rehearsal ? s.receipt : '';
    // Only an end screen is kept (it may show a receipt that is nowhere else); any other is picked up
    // again from the tab's credential, or is the code entry.
    this.#beforeCheck = s.name === 'done' || s.name === 'used' || s.name === 'closed' ? s : null;
    this.#checkFromLink = fromLink;
    this.#generation++;
    this.receipts.reset(receipt);
    this.screen = { name: 'check' };
  }

  /** Whether leaving the check should go back in the browser's history (the page's link opened it). */
  get checkFromLink(): boolean {
    return this.screen.name === 'check' && this.#checkFromLink;
  }

  closeCheck(): void {
    if (this.screen.name !== 'check') return;
    const before = this.#beforeCheck;
    this.#beforeCheck = null;
    this.#checkFromLink = false;
    this.receipts.reset();
    if (before) this.screen = before;
    else this.start('');
  }

  /** Cut short any wait (the network came back, the phone woke up). */
  wake(): void {
    for (const w of Array.from(this.#wakers)) w();
  }

  // ---------------------------------------------------------------- filling in

  goToPart(index: number, focus: Problem | null = null): void {
    if (!this.ballot) return;
    const part = Math.max(0, Math.min(index, this.ballot.form.parts.length - 1));
    this.screen = { name: 'ballot', part, focus, seq: ++this.#seq };
    if (this.#draft && this.#draft.part !== part) {
      this.#draft.part = part;
      this.#save();
    }
  }

  /** Leave the current part forwards, unless something in it is missing: then point at the first problem. */
  nextPart(): void {
    const { ballot, screen } = this;
    if (!ballot || screen.name !== 'ballot') return;
    const part = ballot.form.parts[screen.part]!;
    const problem = ballot.problemsIn(part)[0];
    if (problem) return this.goToPart(screen.part, problem);
    if (screen.part + 1 < ballot.form.parts.length) this.goToPart(screen.part + 1);
    else this.toReview();
  }

  previousPart(): void {
    if (this.screen.name === 'ballot') this.goToPart(this.screen.part - 1);
  }

  toReview(): void {
    if (!this.ballot) return;
    if (!this.#jumpToFirstProblem()) this.screen = { name: 'review' };
  }

  editPart(key: PartKey): void {
    if (!this.ballot) return;
    this.goToPart(this.ballot.form.parts.findIndex((p) => p.key === key));
  }

  /** The voter confirmed the review: lock the package and send it until the server answers. */
  submit(): void {
    if (!this.ballot || !this.#draft || this.#jumpToFirstProblem()) return;
    this.#draft.sent = this.ballot.toPackage();
    this.#save();
    void this.#cast(++this.#generation);
  }

  // ---------------------------------------------------------------- flows

  #begin(credential: string): void {
    this.#credential = credential;
    this.ballot = null;
    try {
      if (this.#deps.tab) this.#deps.tab.setItem(TAB_KEY, credential);
    } catch {
      // A reload will ask for the code again; nothing else is lost.
    }
    this.#draft = this.#deps.drafts.loadDraft(credential);
    this.screen = { name: 'connecting', attempt: 0 };
    void this.#checkStatus(++this.#generation);
  }

  async #checkStatus(gen: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const res = await this.#deps.api.status({ credential: this.#credential! });
      if (gen !== this.#generation) return;
      if (res.ok) return this.#applyStatus(res.data, gen);
      if (res.kind === 'refused') return this.#refusedStatus(res);
      this.screen = { name: 'connecting', attempt };
      await this.#sleep(retryDelay(attempt));
      if (gen !== this.#generation) return;
    }
  }

  #applyStatus(status: StatusResponse, gen: number): void {
    this.unitName = status.unitName;
    this.rehearsal = status.rehearsal;
    const cred = this.#credential!;
    switch (status.state) {
      case 'ready':
        if (!status.form) return this.#wait(gen);
        if (!this.ballot) {
          if (!this.#draft) this.#draft = { nonce: this.#deps.newNonce(), answers: null, part: 0, sent: null };
          this.ballot = new Ballot(status.form, this.#draft.answers, (answers) => {
            if (!this.#draft) return;
            this.#draft.answers = answers;
            this.#save();
          });
          this.#draft.answers = this.ballot.snapshot();
          this.#save();
        }
        // Sent before a reload or a lost connection and not yet recorded: send the same package again.
        if (this.#draft && this.#draft.sent) return void this.#cast(gen);
        // Back after a break: a finished ballot goes to its review, an unfinished one to where the voter was.
        if (this.ballot.problems.length === 0) return this.toReview();
        return this.goToPart(this.#draft ? this.#draft.part : 0);
      case 'used':
        // Our own package may be the one recorded (its reply was lost): the same nonce gets the receipt back.
        if (this.#draft && this.#draft.sent) return void this.#cast(gen);
        return this.#used();
      case 'not_open':
        return this.#wait(gen);
      case 'closed':
        this.#deps.drafts.wipeDraft(cred);
        this.#forgetCredential();
        this.ballot = null;
        this.screen = { name: 'closed' };
    }
  }

  #refusedStatus(res: Extract<ApiResult<unknown>, { kind: 'refused' }>): void {
    if (res.code === 'TOKEN_INVALID') this.#forgetCredential();
    this.screen = {
      name: 'refused',
      title: res.code === 'TOKEN_INVALID' ? '测评码无效' : '暂时无法测评',
      message: res.message,
      action: 'retype',
    };
  }

  #wait(gen: number): void {
    this.screen = { name: 'waiting', trouble: false };
    void this.#poll(gen);
  }

  async #poll(gen: number): Promise<void> {
    for (;;) {
      await this.#sleep(this.#deps.pollMs ?? 3000);
      if (gen !== this.#generation) return;
      const res = await this.#deps.api.status({ credential: this.#credential! });
      if (gen !== this.#generation) return;
      if (res.ok && res.data.state !== 'not_open') return this.#applyStatus(res.data, gen);
      if (!res.ok && res.kind === 'refused') return this.#refusedStatus(res);
      if (res.ok) this.rehearsal = res.data.rehearsal;
      // Only a real change replaces the screen (a new screen object scrolls up and refocuses the heading).
      if (this.screen.name !== 'waiting' || this.screen.trouble !== !res.ok) this.screen = { name: 'waiting', trouble: !res.ok };
    }
  }

  async #cast(gen: number): Promise<void> {
    const draft = this.#draft;
    if (!draft || !draft.sent) return;
    this.screen = { name: 'submitting', attempt: 0, trouble: null };
    for (let attempt = 1; ; attempt++) {
      const res = await this.#deps.api.cast({ credential: this.#credential!, nonce: draft.nonce, package: draft.sent });
      if (gen !== this.#generation) return;
      if (res.ok) return this.#done(res.data);
      if (res.kind === 'refused') return this.#castRefused(res, gen);
      this.screen = {
        name: 'submitting',
        attempt,
        trouble: res.status === 429 ? '提交的人较多，正在排队重试…' : '网络不稳定，正在重试…',
      };
      await this.#sleep(retryDelay(attempt));
      if (gen !== this.#generation) return;
    }
  }

  #castRefused(res: Extract<ApiResult<unknown>, { kind: 'refused' }>, gen: number): void {
    const cred = this.#credential!;
    // Refused means not recorded: the voter may change the package again.
    if (this.#draft) this.#draft.sent = null;
    this.#save();
    switch (res.code) {
      case 'TOKEN_USED':
        return this.#used();
      case 'TOKEN_INVALID':
        return this.#refusedStatus(res);
      case 'VOTING_NOT_OPEN':
        return this.#wait(gen);
      case 'VOTING_CLOSED':
        this.#deps.drafts.wipeDraft(cred);
        this.#forgetCredential();
        this.ballot = null;
        this.screen = { name: 'closed' };
        return;
      case 'REHEARSAL_EXPIRED':
        this.#deps.drafts.wipeDraft(cred);
        this.#forgetCredential();
        this.ballot = null;
        this.screen = { name: 'refused', title: '演练已结束', message: res.message, action: 'retype' };
        return;
      case 'BALLOT_INVALID': {
        const at = this.#problemFrom(res.details, res.message);
        if (at) return this.goToPart(at.index, at.problem);
        this.screen = { name: 'refused', title: '测评表需要修改', message: res.message, action: 'review' };
        return;
      }
      default:
        this.screen = { name: 'refused', title: '提交未成功', message: res.message, action: 'review' };
    }
  }

  #problemFrom(details: Record<string, unknown>, message: string): { index: number; problem: Problem } | null {
    if (!this.ballot) return null;
    const index = this.ballot.form.parts.findIndex((p) => p.key === details.part);
    if (index < 0) return null;
    const subject = typeof details.subject === 'string' ? details.subject : null;
    return { index, problem: { part: this.ballot.form.parts[index]!.key, subject, message } };
  }

  #done(result: CastResponse): void {
    const cred = this.#credential!;
    this.#deps.drafts.saveReceipt(cred, { receipt: result.receipt, rehearsal: result.rehearsal });
    this.#deps.drafts.wipeDraft(cred);
    this.#draft = null;
    this.#forgetCredential();
    this.ballot = null;
    this.rehearsal = result.rehearsal;
    this.screen = { name: 'done', receipt: result.receipt, alreadyRecorded: result.alreadyRecorded };
  }

  #used(): void {
    const cred = this.#credential!;
    const kept = this.#deps.drafts.loadReceipt(cred);
    this.#deps.drafts.wipeDraft(cred);
    this.#draft = null;
    this.#forgetCredential();
    this.ballot = null;
    this.screen = { name: 'used', receipt: kept ? kept.receipt : null };
  }

  #jumpToFirstProblem(): boolean {
    const problem = this.ballot ? this.ballot.problems[0] : undefined;
    if (!this.ballot || !problem) return false;
    this.goToPart(this.ballot.form.parts.findIndex((p) => p.key === problem.part), problem);
    return true;
  }

  #save(): void {
    if (this.#credential && this.#draft) this.#deps.drafts.saveDraft(this.#credential, this.#draft);
  }

  #forgetCredential(): void {
    try {
      if (this.#deps.tab) this.#deps.tab.removeItem(TAB_KEY);
    } catch {
      // Nothing more to do.
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakers.add(done);
    });
  }
}
