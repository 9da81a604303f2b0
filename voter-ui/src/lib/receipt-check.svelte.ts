/**
 * Checking a receipt after the meeting: what the voter typed, and the server's one-word answer
 * (counted or not found). The answer never carries anything of the ballot, so neither does this.
 */
import type { VoterApi } from './api.ts';
import { checkTypedReceipt } from './receipt.ts';

export type CheckResult =
  /** The ballot with this receipt is in a sealed meeting's count. */
  | { kind: 'included'; receipt: string; unitName: string }
  | { kind: 'not_found'; receipt: string }
  /** The receipt's meeting is not sealed yet: the count is not final, so the server does not answer. */
  | { kind: 'not_sealed'; receipt: string }
  /** Too many checks at once across the township (429). */
  | { kind: 'too_many' }
  | { kind: 'unreachable' }
  /** The server refused the request itself: no word about the receipt. */
  | { kind: 'failed' };

export class ReceiptChecker {
  /** The text in the box, as typed. */
  typed = $state('');
  /** What is wrong with the typed text; nothing is sent while it is set. */
  problem: string | null = $state(null);
  result: CheckResult | null = $state.raw(null);
  busy = $state(false);

  readonly #api: VoterApi;
  /** Bumped by every check and reset, so a late answer to an older one is dropped. */
  #seq = 0;

  constructor(api: VoterApi) {
    this.#api = api;
  }

  reset(prefill = ''): void {
    this.#seq++;
    this.typed = prefill;
    this.problem = null;
    this.result = null;
    this.busy = false;
  }

  async check(): Promise<void> {
    if (this.busy) return;
    const input = checkTypedReceipt(this.typed);
    if (!input.ok) {
      this.problem = input.message;
      this.result = null;
      return;
    }
    const receipt = input.receipt;
    const seq = ++this.#seq;
    this.problem = null;
    this.busy = true;
    const res = await this.#api.checkReceipt({ receipt });
    if (seq !== this.#seq) return;
    this.busy = false;
    if (res.ok) {
      const a = res.data;
      if (a.found && a.status === 'included') this.result = { kind: 'included', receipt, unitName: a.unitName ?? '' };
      else if (a.status === 'not_sealed') this.result = { kind: 'not_sealed', receipt };
      else this.result = { kind: 'not_found', receipt };
    } else if (res.status === 429 || (res.kind === 'refused' && res.code === 'RATE_LIMITED')) {
      this.result = { kind: 'too_many' };
    } else {
      // A refusal here is no answer about the receipt (an old server's 404 would read like 未找到): say
      // only that the check did not go through.
      this.result = { kind: res.kind === 'unreachable' ? 'unreachable' : 'failed' };
    }
  }
}
