/**
 * A phone ballot's way from the request to the disk and back, one step per function:
 *
 *   voter.routes.ts  POST /api/voter/cast
 *   → readToken        the token's bytes, the meeting's state and its frozen form
 *   → checkPackage     the package against the form (pure; the phone's page prevents anything else)
 *   → tokenIsValid     output = F(meeting key, input), in the VOPRF worker pool (a sender whose tokens
 *                      failed lately waits in its low lane, so forged tokens cannot hold up the hall)
 *   → BallotBox.recordPhone   in the write queue: spent? counted within the ballots issued, a random
 *                      empty slot filled, the token spent, the receipt kept (cast-statements.ts: one
 *                      request to the database thread, pipelined with the batch's others) — one shared
 *                      transaction
 *   → the live step, inside the same transaction (ballot-box.ts; for a batch of casts only, decided from
 *                      the row the last batch left and sent with its COMMIT right behind the ballots, which
 *                      the database thread takes only if the row reads as predicted: #commitEarly)
 *   → commit (synchronous=FULL, on the database thread: the event loop goes on meanwhile) → the reply
 *
 * Nothing here reads or writes anything of the ticket the token was made from.
 */
import type { ServiceDeps } from '../deps.ts';
import { DomainError } from '../errors.ts';
import type { Form } from '../forms/form.schemas.ts';
import { hashSecret, receiptFromToken } from '../credentials/secrets.ts';
import { fromB64u, INPUT_BYTES, OUTPUT_BYTES } from '../credentials/voprf.ts';
import type { TicketService } from '../credentials/tickets.service.ts';
import { PoolBusyError, type Lane } from '../credentials/voprf-pool.ts';
import { addressKey } from '../net.ts';
import { SuspectSenders } from './suspects.ts';
import { tallyIncrements } from '../counting/tally.ts';
import { findMeeting } from '../meetings/meetings.repository.ts';
import { formOf } from '../meetings/meeting.view.ts';
import { validatePackage, type NormalizedPackage } from './validate-package.ts';
import { encodeSlot } from './slots.ts';
import { findReceipt } from './ballots.repository.ts';
import type { BallotBox } from './ballot-box.ts';
import type { CastRequest, CastResponse } from './voter.schemas.ts';

/**
 * Replaced by esbuild (scripts/build-server.mjs): false in npm start's bundle, true only in the bundle
 * `npm run bench` builds for its "without the token check" figure. Undeclared under tsx and vitest.
 */
declare const __CEPING_BENCH_WITHOUT_TOKEN_CHECK__: boolean | undefined;
const BENCH_WITHOUT_TOKEN_CHECK = typeof __CEPING_BENCH_WITHOUT_TOKEN_CHECK__ === 'boolean' && __CEPING_BENCH_WITHOUT_TOKEN_CHECK__;

export class Casting {
  readonly #d: ServiceDeps;
  readonly #tickets: TicketService;
  readonly #box: BallotBox;
  /** Forms are frozen when sign-in starts: read and parsed once per meeting. */
  readonly #forms = new Map<number, Promise<Form | null>>();
  /** Senders whose token lately failed its check; never one with a valid token, never beside a ballot. */
  readonly #suspects = new SuspectSenders();

  constructor(deps: ServiceDeps, tickets: TicketService, box: BallotBox) {
    this.#d = deps;
    this.#tickets = tickets;
    this.#box = box;
  }

  /**
   * Cast a phone package. Resolves only after the ballot's transaction is durably committed. `address`
   * (the sender's) only chooses the token check's lane; it goes nowhere else.
   */
  async cast(req: CastRequest, address: () => string = () => ''): Promise<CastResponse> {
    // The address is read as the request comes, before anything is awaited (once the socket is gone it
    // reads as none, and a sender of forged tokens that hangs up at once must still be held). It chooses
    // only the token check's lane: the bench's build without the check does not read it.
    const sender = BENCH_WITHOUT_TOKEN_CHECK ? '' : addressKey(address());
    const { input, output, meeting, form } = await this.#readToken(req);
    const receipt = receiptFromToken(this.#d.pepper, req.token.input);
    if (meeting.state === 'closed' || meeting.state === 'sealed') return this.#afterClose(receipt);
    if (meeting.state === 'signin') return this.#rehearse(req, form, input, output, receipt, sender);
    const pkg = checkPackage(form, req);
    if (!(await this.#tokenIsValid(req.meetingId, 'vote', input, output, sender))) throw this.#forged(sender);
    const packageJson = JSON.stringify(pkg);
    return this.#box.recordPhone({
      meetingId: req.meetingId,
      nullifier: hashSecret(this.#d.pepper, 'nullifier', req.token.input),
      retryCheck: hashSecret(this.#d.pepper, 'retry', `${req.token.input}\u0000${packageJson}`),
      receipt,
      receiptHash: hashSecret(this.#d.pepper, 'receipt', receipt),
      body: encodeSlot(packageJson, meeting.ballot_bytes),
      increments: tallyIncrements(form, pkg),
    });
  }

  async #readToken(req: CastRequest) {
    const input = fromB64u(req.token.input, INPUT_BYTES);
    const output = fromB64u(req.token.output, OUTPUT_BYTES);
    const meeting = await this.#box.meetingState(req.meetingId);
    if (!meeting || !input || !output) throw new DomainError('TOKEN_INVALID');
    if (meeting.state === 'draft') throw new DomainError('VOTING_NOT_OPEN');
    const form = await this.#form(req.meetingId);
    if (!form) throw new DomainError('VOTING_NOT_OPEN');
    return { input, output, meeting, form };
  }

  /** The meeting's form; the casts that find it missing at once share one read (a hall's first casts). */
  #form(meetingId: number): Promise<Form | null> {
    let form = this.#forms.get(meetingId);
    if (!form) {
      form = findMeeting(this.#d.db, meetingId).then((m) => (m && formOf(m)) ?? null);
      this.#forms.set(meetingId, form);
      // Only a form that exists is kept (it is frozen once it does); a missing one or a failed read is read again.
      const read = form;
      read.then(
        (f) => f === null && this.#forms.get(meetingId) === read && this.#forms.delete(meetingId),
        () => this.#forms.get(meetingId) === read && this.#forms.delete(meetingId),
      );
    }
    return form;
  }

  async #tokenIsValid(meetingId: number, purpose: 'vote' | 'rehearsal', input: Uint8Array, output: Uint8Array, sender: string): Promise<boolean> {
    if (BENCH_WITHOUT_TOKEN_CHECK) return true;
    const lane: Lane = this.#suspects.isSuspect(sender, this.#d.now().getTime()) ? 'low' : 'normal';
    try {
      return await this.#tickets.tokenIsValid(meetingId, purpose, input, output, lane);
    } catch (e) {
      if (e instanceof PoolBusyError) throw new DomainError('RATE_LIMITED');
      throw e;
    }
  }

  /** A token that failed its check: its sender's next checks wait in the low lane for a while. */
  #forged(sender: string): DomainError {
    this.#suspects.mark(sender, this.#d.now().getTime());
    return new DomainError('TOKEN_INVALID');
  }

  /** A reply lost just before the close: the key and the retry checks are gone, but a receipt derived from this token's input exists only if its ballot was cast. */
  async #afterClose(receipt: string): Promise<CastResponse> {
    if (await findReceipt(this.#d.db, hashSecret(this.#d.pepper, 'receipt', receipt))) return { receipt, alreadyRecorded: true, rehearsal: false };
    throw new DomainError('VOTING_CLOSED');
  }

  /** Before voting only a rehearsal token is good for anything, and it is counted nowhere. */
  async #rehearse(req: CastRequest, form: Form, input: Uint8Array, output: Uint8Array, receipt: string, sender: string): Promise<CastResponse> {
    if (await this.#tokenIsValid(req.meetingId, 'rehearsal', input, output, sender)) {
      checkPackage(form, req);
      return { receipt, alreadyRecorded: false, rehearsal: true };
    }
    if (await this.#tokenIsValid(req.meetingId, 'vote', input, output, sender)) throw new DomainError('VOTING_NOT_OPEN');
    throw this.#forged(sender);
  }
}

/** The package against the form; a refusal names the part and the subject. */
export function checkPackage(form: Form, req: Pick<CastRequest, 'package'>): NormalizedPackage {
  const check = validatePackage(form, req.package, 'phone');
  if (!check.ok) throw new DomainError('BALLOT_INVALID', check.problem.message, { part: check.problem.part, subject: check.problem.subject });
  return check.pkg;
}
