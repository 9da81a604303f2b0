/**
 * The voter's visit from scan to receipt, as one state machine: which screen shows, what is kept on the
 * phone, and how requests are retried. Components only read `screen` and call the methods.
 *
 * Two phases (see server/credentials/): the scanned ticket is redeemed at once for a token — the phone
 * blinds a random input, the server evaluates it with the meeting key and proves it, the phone checks
 * the proof against the key it pinned for the meeting and unblinds. From then on the phone asks about
 * its meeting with the meeting's shared access word, and casts with the token: no request after the
 * redemption carries anything of the ticket.
 */
import type { ApiResult, VoterApi } from './api.ts';
import { Ballot } from './ballot.svelte.ts';
import type { Problem } from './ballot-rules.ts';
import { checkTypedCode, credentialFromHash } from './credential.ts';
import { DraftStore, type Draft, type KeyValueStorage, type StoredToken } from './draft-store.ts';
import { isCheckHash } from './receipt.ts';
import { ReceiptChecker } from './receipt-check.svelte.ts';
import { sha256 } from './sha256.ts';
import { fromB64u, keyFingerprint } from '../../../server/credentials/encoding.ts';
import type { Blinding, TokenCrypto } from './token-crypto.ts';
import type { CastResponse, Form, MeetingStatusResponse, PartKey, RedeemResponse } from './types.ts';

export type Screen =
  | { name: 'code'; message: string | null }
  | { name: 'connecting'; attempt: number }
  | { name: 'waiting'; trouble: boolean }
  | { name: 'ballot'; part: number; focus: Problem | null; seq: number }
  | { name: 'review' }
  | { name: 'submitting'; attempt: number; trouble: string | null }
  | { name: 'done'; receipt: string; alreadyRecorded: boolean }
  | { name: 'used'; receipt: string | null }
  /** `unsent`: the voter had choices on this phone that were never submitted (they are not counted). */
  | { name: 'closed'; unsent: boolean }
  | { name: 'refused'; title: string; message: string; action: 'retype' | 'review' | null }
  /** Checking a receipt after the meeting (#check); the state of the check is in `receipts`. */
  | { name: 'check' };

export interface SessionDeps {
  api: VoterApi;
  drafts: DraftStore;
  /** Keeps the current token's id for a reload of this tab (the address bar no longer has the ticket). */
  tab: KeyValueStorage | null;
  /** The curve code, loaded on demand; null where the browser has no BigInt (the assisted path). */
  crypto: () => Promise<TokenCrypto | null>;
  /** How often the waiting screen asks whether voting has opened. */
  pollMs?: number;
  /** How often an open ballot asks whether voting is still open (so a close reaches every phone). */
  watchMs?: number;
}

const TAB_KEY = 'ceping.current';
/** The ticket being redeemed, for a reload before the answer came (the address bar no longer has it). */
const TAB_TICKET = 'ceping.ticket';
const RETRY_MS = [1000, 2000, 4000, 8000];
const MAX_RETRY_MS = 10000;

/** Wait before try number `attempt` (1-based): doubling to 10 s, spread so a room of phones does not retry at once. */
export function retryDelay(attempt: number, random: () => number = Math.random): number {
  const base = RETRY_MS[attempt - 1] ?? MAX_RETRY_MS;
  return Math.round(base * (0.75 + random() * 0.5));
}

/** The fingerprint of a meeting key as the projector shows it, computed on the phone from the key itself. */
export function fingerprintOf(publicKey: string): string {
  const bytes = fromB64u(publicKey, 32);
  return bytes ? keyFingerprint(sha256(bytes)) : '';
}

export class VoterSession {
  screen: Screen = $state({ name: 'code', message: null });
  ballot: Ballot | null = $state.raw(null);
  unitName = $state('');
  rehearsal = $state(false);
  /** The server made this phone's token (no BigInt here): the page says what that means. */
  assisted = $state(false);
  /** The meeting key's fingerprint this phone checked its token against. */
  fingerprint = $state('');
  /** Parts the voter has opened; the review marks the others 未查看. */
  seen: string[] = $state([]);
  readonly receipts: ReceiptChecker;

  readonly #deps: SessionDeps;
  #token: StoredToken | null = null;
  #form: Form | null = null;
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
   * Start from the page's address: "#check" opens the receipt check, a fragment with a ticket redeems it,
   * else this tab's token, else the token this phone used last, else the code entry.
   */
  start(hash: string): void {
    if (isCheckHash(hash)) return this.openCheck();
    const fromHash = hash.replace(/^#/, '') === '' ? null : credentialFromHash(hash);
    if (fromHash) return this.#openTicket(fromHash);
    let current: string | null = null;
    let redeeming: string | null = null;
    try {
      current = this.#deps.tab ? this.#deps.tab.getItem(TAB_KEY) : null;
      redeeming = this.#deps.tab ? this.#deps.tab.getItem(TAB_TICKET) : null;
    } catch {
      current = null;
    }
    if (redeeming) return this.#openTicket(redeeming);
    const token = (current && this.#deps.drafts.loadToken(current)) || this.#deps.drafts.latestToken();
    if (token) return this.#useToken(token);
    this.screen = {
      name: 'code',
      message: hash.replace(/^#/, '') === '' ? null : '二维码内容不完整，请重新扫码，或在下面输入测评码',
    };
  }

  enterCode(typed: string): void {
    const check = checkTypedCode(typed);
    if (!check.ok) this.screen = { name: 'code', message: check.message };
    else this.#openTicket(check.credential);
  }

  retype(): void {
    this.#forgetCurrent();
    this.#tabSet(TAB_TICKET, null);
    this.#generation++;
    this.ballot = null;
    this.#token = null;
    this.screen = { name: 'code', message: null };
  }

  /** Back from a refusal to the review, or to the server's word on this token when nothing is held. */
  resume(): void {
    if (this.ballot) this.toReview();
    else if (this.#token) this.#useToken(this.#token);
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
    const key = this.ballot.form.parts[part]!.key;
    if (this.seen.indexOf(key) < 0) this.seen = [...this.seen, key];
    if (this.#draft) {
      this.#draft.part = part;
      this.#draft.seen = this.seen.slice();
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
    if (this.#jumpToFirstProblem()) return;
    this.screen = { name: 'review' };
    if (this.#draft) {
      this.#draft.part = -1;
      this.#save();
    }
  }

  editPart(key: PartKey): void {
    if (!this.ballot) return;
    this.goToPart(this.ballot.form.parts.findIndex((p) => p.key === key));
  }

  /** Parts not opened yet: a blank one could be submitted without the voter ever seeing it. */
  get unseen(): PartKey[] {
    return this.ballot ? this.ballot.form.parts.filter((p) => this.seen.indexOf(p.key) < 0).map((p) => p.key) : [];
  }

  /** The voter confirmed the review: lock the package and send it until the server answers. */
  submit(): void {
    if (!this.ballot || !this.#draft || this.#jumpToFirstProblem()) return;
    const unseen = this.unseen[0];
    if (unseen) {
      const i = this.ballot.form.parts.findIndex((p) => p.key === unseen);
      return this.goToPart(i, { part: unseen, subject: null, message: '这一部分您还没有查看过，请看过后再提交' });
    }
    this.#draft.sent = this.ballot.toPackage();
    this.#save();
    void this.#cast(++this.#generation);
  }

  // ---------------------------------------------------------------- phase one: the ticket

  #openTicket(ticket: string): void {
    this.#generation++;
    this.ballot = null;
    this.#form = null;
    // Scanned again on the phone that already redeemed it: carry on with that token, or show its receipt.
    const mine = this.#deps.drafts.tokenForTicket(ticket);
    if (mine) return this.#useToken(mine);
    const cast = this.#deps.drafts.receiptForTicket(ticket);
    if (cast && !cast.rehearsal) {
      this.screen = { name: 'used', receipt: cast.receipt };
      return;
    }
    this.#tabSet(TAB_TICKET, ticket);
    this.screen = { name: 'connecting', attempt: 0 };
    void this.#redeem(ticket, this.#generation);
  }

  #tabSet(key: string, value: string | null): void {
    try {
      if (!this.#deps.tab) return;
      if (value === null) this.#deps.tab.removeItem(key);
      else this.#deps.tab.setItem(key, value);
    } catch {
      // A reload asks for the code again; nothing else is lost.
    }
  }

  async #redeem(ticket: string, gen: number): Promise<void> {
    const crypto = await this.#deps.crypto().catch(() => null);
    if (gen !== this.#generation) return;
    let blinding: Blinding | null = this.#deps.drafts.loadPending(ticket);
    if (!blinding && crypto) {
      blinding = crypto.newBlinding();
      // Kept before it is sent: a lost reply is answered again only for the same blinded element.
      this.#deps.drafts.savePending(ticket, blinding);
    }
    for (let attempt = 1; ; attempt++) {
      const res = await this.#deps.api.redeem({ ticket, blinded: blinding ? blinding.blinded : null });
      if (gen !== this.#generation) return;
      if (res.ok) return this.#redeemed(ticket, blinding, crypto, res.data, gen);
      if (res.kind === 'refused') return this.#redeemRefused(ticket, res);
      this.screen = { name: 'connecting', attempt };
      await this.#sleep(retryDelay(attempt));
      if (gen !== this.#generation) return;
    }
  }

  #redeemed(ticket: string, blinding: Blinding | null, crypto: TokenCrypto | null, r: RedeemResponse, gen: number): void {
    const drafts = this.#deps.drafts;
    this.#tabSet(TAB_TICKET, null);
    const pinned = drafts.pinnedKey(r.meetingId, r.rehearsal);
    if (pinned && pinned !== r.publicKey) {
      this.screen = {
        name: 'refused',
        title: '测评密钥不一致',
        message: '本次收到的测评密钥与这部手机之前收到的不一致，为保护您的投票秘密，本页面不再继续。请告知考察组。',
        action: null,
      };
      return;
    }
    let input: string;
    let output: string | null;
    if (blinding && crypto && r.evaluated && r.proof) {
      input = blinding.input;
      output = crypto.finishToken(blinding, { evaluated: r.evaluated, proof: r.proof, publicKey: r.publicKey });
    } else if (r.token) {
      input = r.token.input;
      output = r.token.output;
    } else {
      output = null;
      input = '';
    }
    if (!output) {
      this.screen = {
        name: 'refused',
        title: '测评凭证校验失败',
        message: '服务器返回的测评凭证没有通过本手机的校验，为保护您的投票秘密，本页面不再继续。请告知考察组。',
        action: null,
      };
      return;
    }
    if (!pinned) drafts.pinKey(r.meetingId, r.rehearsal, r.publicKey);
    const token: StoredToken = {
      meetingId: r.meetingId,
      access: r.access,
      unitName: r.unitName,
      rehearsal: r.rehearsal,
      input,
      output,
      publicKey: r.publicKey,
      fingerprint: fingerprintOf(r.publicKey),
      assisted: !blinding,
      ticketKey: DraftStore.ticketKey(ticket),
    };
    // A rehearsal ticket is redeemed afresh each time; a real one once.
    if (!r.rehearsal) drafts.saveToken(token);
    drafts.wipePending(ticket);
    if (gen === this.#generation) this.#useToken(token);
  }

  #redeemRefused(ticket: string, res: Extract<ApiResult<unknown>, { kind: 'refused' }>): void {
    // Refused means nothing was evaluated for this phone: its blinding is of no further use.
    this.#deps.drafts.wipePending(ticket);
    this.#tabSet(TAB_TICKET, null);
    switch (res.code) {
      case 'VOTING_CLOSED':
        this.screen = { name: 'closed', unsent: false };
        return;
      case 'REHEARSAL_EXPIRED':
        this.screen = { name: 'refused', title: '演练已结束', message: res.message, action: 'retype' };
        return;
      case 'TICKET_USED':
        this.screen = { name: 'refused', title: '此二维码已被领取', message: res.message, action: 'retype' };
        return;
      case 'TICKET_INVALID':
        this.screen = { name: 'refused', title: '测评码无效', message: res.message, action: 'retype' };
        return;
      default:
        this.screen = { name: 'refused', title: '暂时无法测评', message: res.message, action: 'retype' };
    }
  }

  // ---------------------------------------------------------------- phase two: the token

  #useToken(token: StoredToken): void {
    this.#token = token;
    this.ballot = null;
    this.#form = null;
    this.unitName = token.unitName;
    this.rehearsal = token.rehearsal;
    this.assisted = token.assisted;
    this.fingerprint = token.fingerprint;
    try {
      if (this.#deps.tab && !token.rehearsal) this.#deps.tab.setItem(TAB_KEY, token.input);
    } catch {
      // A reload finds the latest token on this phone instead.
    }
    this.#draft = this.#deps.drafts.loadDraft(token.input);
    this.seen = this.#draft ? this.#draft.seen.slice() : [];
    const gen = ++this.#generation;
    // Sent before a reload or a lost connection and not yet answered: send the same package again.
    if (this.#draft && this.#draft.sent) return void this.#cast(gen);
    this.screen = { name: 'connecting', attempt: 0 };
    void this.#checkMeeting(gen);
  }

  async #checkMeeting(gen: number): Promise<void> {
    const token = this.#token!;
    for (let attempt = 1; ; attempt++) {
      const res = await this.#deps.api.meeting({ meetingId: token.meetingId, access: token.access, withForm: this.#form === null });
      if (gen !== this.#generation) return;
      if (res.ok) return this.#applyMeeting(res.data, gen);
      if (res.kind === 'refused') return this.#tokenRefused(res);
      this.screen = { name: 'connecting', attempt };
      await this.#sleep(retryDelay(attempt));
      if (gen !== this.#generation) return;
    }
  }

  #applyMeeting(status: MeetingStatusResponse, gen: number): void {
    this.unitName = status.unitName;
    if (status.form) this.#form = status.form;
    const token = this.#token!;
    if (token.rehearsal && status.state !== 'signin') {
      return this.#end({ name: 'refused', title: '演练已结束', message: '正式测评已经开始，演练用的二维码不能再使用。请使用签到时发给您的二维码。', action: 'retype' });
    }
    if (status.state === 'closed') return this.#end({ name: 'closed', unsent: this.#hasUnsent() });
    if (status.state === 'signin' && !token.rehearsal) return this.#wait(gen);
    if (!this.#form) return void this.#checkMeeting(gen);
    this.#openBallot(this.#form, gen);
  }

  #openBallot(form: Form, gen: number): void {
    const token = this.#token!;
    if (!this.ballot) {
      if (!this.#draft) this.#draft = { answers: null, part: 0, seen: [], sent: null };
      this.ballot = new Ballot(form, this.#draft.answers, (answers) => {
        if (!this.#draft) return;
        this.#draft.answers = answers;
        this.#save();
      });
      this.#draft.answers = this.ballot.snapshot();
      this.#save();
    }
    void this.#watch(gen, token);
    // Back after a break: exactly where the voter was (a part, or the review).
    const part = this.#draft ? this.#draft.part : 0;
    if (part === -1 && this.ballot.problems.length === 0) this.screen = { name: 'review' };
    else this.goToPart(part === -1 ? 0 : part);
  }

  #wait(gen: number): void {
    this.screen = { name: 'waiting', trouble: false };
    void this.#poll(gen);
  }

  async #poll(gen: number): Promise<void> {
    const token = this.#token!;
    for (;;) {
      await this.#sleep(this.#deps.pollMs ?? 3000);
      if (gen !== this.#generation) return;
      const res = await this.#deps.api.meeting({ meetingId: token.meetingId, access: token.access, withForm: false });
      if (gen !== this.#generation) return;
      if (res.ok && res.data.state !== 'signin') return void this.#checkMeeting(gen);
      if (!res.ok && res.kind === 'refused') return this.#tokenRefused(res);
      if (this.screen.name !== 'waiting' || this.screen.trouble !== !res.ok) this.screen = { name: 'waiting', trouble: !res.ok };
    }
  }

  /** While the ballot is open, ask now and then whether voting is still open: a close reaches the phone. */
  async #watch(gen: number, token: StoredToken): Promise<void> {
    for (;;) {
      await this.#sleep(this.#deps.watchMs ?? 5000, false);
      if (gen !== this.#generation || this.#token !== token) return;
      const s = this.screen.name;
      if (s !== 'ballot' && s !== 'review') {
        if (s === 'submitting' || s === 'refused') continue;
        return;
      }
      const res = await this.#deps.api.meeting({ meetingId: token.meetingId, access: token.access, withForm: false });
      if (gen !== this.#generation || this.#token !== token) return;
      const name = this.screen.name;
      if (name !== 'ballot' && name !== 'review') continue;
      if (res.ok && res.data.state === 'closed') return this.#end({ name: 'closed', unsent: true });
      if (res.ok && token.rehearsal && res.data.state !== 'signin') {
        return this.#end({ name: 'refused', title: '演练已结束', message: '正式测评已经开始，演练不再继续。请使用签到时发给您的二维码。', action: 'retype' });
      }
    }
  }

  async #cast(gen: number): Promise<void> {
    const draft = this.#draft;
    const token = this.#token;
    if (!draft || !draft.sent || !token) return;
    this.screen = { name: 'submitting', attempt: 0, trouble: null };
    for (let attempt = 1; ; attempt++) {
      const res = await this.#deps.api.cast({ meetingId: token.meetingId, token: { input: token.input, output: token.output }, package: draft.sent });
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
    // Refused means not recorded: the voter may change the package again.
    if (this.#draft) this.#draft.sent = null;
    this.#save();
    switch (res.code) {
      case 'TOKEN_USED':
        return this.#used();
      case 'TOKEN_INVALID':
        return this.#tokenRefused(res);
      case 'VOTING_NOT_OPEN':
        return this.#wait(gen);
      case 'VOTING_CLOSED':
        return this.#end({ name: 'closed', unsent: true });
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

  #tokenRefused(res: Extract<ApiResult<unknown>, { kind: 'refused' }>): void {
    const rehearsal = this.#token ? this.#token.rehearsal : false;
    this.#end({
      name: 'refused',
      title: rehearsal ? '演练已结束' : '测评凭证无效',
      message: rehearsal ? '正式测评已经开始，演练不再继续。请使用签到时发给您的二维码。' : res.message,
      action: 'retype',
    });
  }

  #problemFrom(details: Record<string, unknown>, message: string): { index: number; problem: Problem } | null {
    if (!this.ballot) return null;
    const index = this.ballot.form.parts.findIndex((p) => p.key === details.part);
    if (index < 0) return null;
    const subject = typeof details.subject === 'string' ? details.subject : null;
    return { index, problem: { part: this.ballot.form.parts[index]!.key, subject, message } };
  }

  #done(result: CastResponse): void {
    const token = this.#token!;
    this.#deps.drafts.saveReceipt(token.input, { receipt: result.receipt, rehearsal: result.rehearsal, ticketKey: token.ticketKey });
    this.#forgetToken();
    this.screen = { name: 'done', receipt: result.receipt, alreadyRecorded: result.alreadyRecorded };
  }

  #used(): void {
    const kept = this.#deps.drafts.loadReceipt(this.#token!.input);
    this.#forgetToken();
    this.screen = { name: 'used', receipt: kept ? kept.receipt : null };
  }

  /** An end screen: the token is of no more use on this phone, and the choices go. */
  #end(screen: Screen): void {
    this.#forgetToken();
    this.screen = screen;
  }

  #hasUnsent(): boolean {
    const d = this.#draft;
    if (!d) return false;
    if (d.sent) return true;
    // Anything chosen or written: a grade, a pick, a name, some text.
    const any = (v: unknown): boolean =>
      typeof v === 'string' ? v.trim() !== '' : Array.isArray(v) ? v.length > 0 : !!v && typeof v === 'object' && Object.values(v).some(any);
    return any(d.answers);
  }

  #forgetToken(): void {
    const token = this.#token;
    if (token) {
      this.#deps.drafts.wipeDraft(token.input);
      this.#deps.drafts.wipeToken(token.input);
    }
    this.#draft = null;
    this.ballot = null;
    this.#forgetCurrent();
  }

  #jumpToFirstProblem(): boolean {
    const problem = this.ballot ? this.ballot.problems[0] : undefined;
    if (!this.ballot || !problem) return false;
    this.goToPart(this.ballot.form.parts.findIndex((p) => p.key === problem.part), problem);
    return true;
  }

  #save(): void {
    if (this.#token && this.#draft && !this.#token.rehearsal) this.#deps.drafts.saveDraft(this.#token.input, this.#draft);
  }

  #forgetCurrent(): void {
    try {
      if (this.#deps.tab) this.#deps.tab.removeItem(TAB_KEY);
    } catch {
      // Nothing more to do.
    }
  }

  /** Sleep; `wakeable: false` for the background watch, which must not turn a wake-up into a burst of requests. */
  #sleep(ms: number, wakeable = true): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (wakeable) this.#wakers.add(done);
    });
  }
}
