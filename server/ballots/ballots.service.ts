import type { Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { ServiceDeps } from '../services.ts';
import { DomainError } from '../errors.ts';
import { appendAudit } from '../audit/audit.repository.ts';
import { AuditEvent } from '../audit/audit.events.ts';
import { compactAfterClose } from '../db/database.ts';
import type { BallotPackage, Form } from '../forms/form.schemas.ts';
import { findCredential } from '../credentials/credentials.service.ts';
import { burnCredential, wipeRetryChecks, type CredentialRow } from '../credentials/credentials.repository.ts';
import { hashSecret, newRowId, receiptFromNonce, safeEqual, TOKEN_PATTERN } from '../credentials/secrets.ts';
import { ShortCodeGuessLimit } from '../credentials/guess-limit.ts';
import { addToTally, readTally } from '../counting/tally.repository.ts';
import { computeResults, tallyIncrements } from '../counting/tally.ts';
import { assertGuard, canCloseVoting, canEnterPaper } from '../meetings/lifecycle.ts';
import { findMeeting, findMeetingGate, transitionMeeting, updateMeeting, type MeetingGate, type MeetingRow } from '../meetings/meetings.repository.ts';
import { formOf, snapshotOf, turnoutOf } from '../meetings/meeting.view.ts';
import { shouldPublishSnapshot } from '../live/gate.ts';
import type { LiveHub } from '../live/live.hub.ts';
import type { LiveMessage, LiveState, Snapshot } from '../live/live.schemas.ts';
import { validatePackage, type NormalizedPackage } from './validate-package.ts';
import { WriteQueue } from './write-queue.ts';
import * as repo from './ballots.repository.ts';
import type { CastRequest, CastResponse, StatusResponse } from './voter.schemas.ts';

/**
 * Casting and counting. Every write that changes what is counted (a phone ballot, a paper ballot,
 * closing the vote) goes through one write queue, so they are ordered, grouped into shared
 * transactions, and the live tally is recomputed inside the same transaction that changed it.
 */
export class BallotService {
  readonly #d: ServiceDeps;
  readonly #live: LiveHub;
  readonly #queue: WriteQueue;
  /** Meetings changed by the batch being written; value: whether voting closed in it. */
  #touched = new Map<number, boolean>();
  #outbox: LiveMessage[] = [];
  readonly #guesses = new ShortCodeGuessLimit();

  constructor(deps: ServiceDeps, live: LiveHub) {
    this.#d = deps;
    this.#live = live;
    this.#queue = new WriteQueue(deps.db, {
      beforeCommit: (trx) => this.#refreshLive(trx),
      afterCommit: () => {
        for (const m of this.#outbox) this.#live.publish(m);
        this.#outbox = [];
      },
    });
  }

  get commits(): number {
    return this.#queue.batches;
  }

  flush(): Promise<void> {
    return this.#queue.flush();
  }

  async #credentialAndMeeting(presented: string): Promise<{ cred: CredentialRow; meeting: MeetingRow }> {
    const typed = !TOKEN_PATTERN.test(presented.trim());
    const now = this.#d.now().getTime();
    if (typed && this.#guesses.blocked(now)) throw new DomainError('RATE_LIMITED', '测评码查询过于频繁，请稍后再试，或直接扫描二维码');
    const cred = await findCredential(this.#d.db, this.#d.pepper, presented);
    const meeting = cred && (await findMeeting(this.#d.db, cred.meeting_id));
    if (!cred || !meeting) {
      if (typed) this.#guesses.miss(now);
      throw new DomainError('TOKEN_INVALID');
    }
    return { cred, meeting };
  }

  /** What a credential may do now: the phone page's first question, and its poll while waiting. */
  async status(presented: string): Promise<StatusResponse> {
    const { cred, meeting } = await this.#credentialAndMeeting(presented);
    const base = { unitName: meeting.unit_name };
    if (cred.kind === 'rehearsal') {
      if (meeting.state !== 'signin') throw new DomainError('REHEARSAL_EXPIRED');
      return { ...base, state: 'ready', rehearsal: true, form: formOf(meeting) };
    }
    if (cred.used) return { ...base, state: 'used', rehearsal: false, form: null };
    switch (meeting.state) {
      case 'draft':
      case 'signin':
        return { ...base, state: 'not_open', rehearsal: false, form: null };
      case 'voting':
        return { ...base, state: 'ready', rehearsal: false, form: formOf(meeting) };
      default:
        return { ...base, state: 'closed', rehearsal: false, form: null };
    }
  }

  /** Cast a phone package. Resolves only after the ballot's transaction is durably committed. */
  async cast(req: CastRequest): Promise<CastResponse> {
    const { cred, meeting } = await this.#credentialAndMeeting(req.credential);
    const form = formOf(meeting);
    if (cred.kind === 'rehearsal') {
      if (meeting.state !== 'signin' || !form) throw new DomainError('REHEARSAL_EXPIRED');
      this.#validate(form, req.package, 'phone');
      // A rehearsal walks through the whole page and is counted nowhere.
      return { receipt: receiptFromNonce(this.#d.pepper, `${cred.id}:${req.nonce}`), alreadyRecorded: false, rehearsal: true };
    }
    // Say "not open" / "closed" before judging the package; a used credential goes on to the retry check.
    if (!cred.used) this.#assertVoting(meeting);
    if (!form) throw new DomainError('VOTING_NOT_OPEN');
    const pkg = this.#validate(form, req.package, 'phone');
    const packageJson = JSON.stringify(pkg);
    const retryCheck = hashSecret(this.#d.pepper, 'retry', `${cred.id}\u0000${req.nonce}\u0000${packageJson}`);
    // Derived from the credential and the phone's nonce: a nonce reused on another credential gives another receipt.
    const receipt = receiptFromNonce(this.#d.pepper, `${cred.id}:${req.nonce}`);

    return this.#queue.run(async (trx) => {
      const m = await findMeetingGate(trx, cred.meeting_id);
      const now = await trx.selectFrom('credentials').select(['used', 'retry_check']).where('id', '=', cred.id).executeTakeFirst();
      if (!m || !now) throw new DomainError('TOKEN_INVALID');
      if (now.used) {
        // A lost reply: the same phone secret and the same package get the same receipt back.
        if (now.retry_check && safeEqual(now.retry_check, retryCheck)) return { receipt, alreadyRecorded: true, rehearsal: false };
        throw new DomainError('TOKEN_USED');
      }
      this.#assertVoting(m);
      if (m.cast_count >= m.issued_count) throw new DomainError('BALLOT_LIMIT');
      const burnt = await burnCredential(trx, cred.id, retryCheck);
      if (burnt.numUpdatedRows !== 1n) throw new DomainError('TOKEN_USED');
      await this.#record(trx, m, form, pkg, packageJson, 'phone');
      await repo.insertReceipt(trx, m.id, hashSecret(this.#d.pepper, 'receipt', receipt));
      return { receipt, alreadyRecorded: false, rehearsal: false };
    });
  }

  /**
   * An inspection-team member types in a paper package. It is held, not counted, until a second
   * member confirms it; the log says that a paper ballot was entered and by whom, never what it said.
   */
  async enterPaper(actorId: number, meetingId: number, input: BallotPackage): Promise<{ pendingId: string }> {
    const meeting = await findMeeting(this.#d.db, meetingId);
    if (!meeting) throw new DomainError('NOT_FOUND');
    assertGuard(canEnterPaper(meeting.state));
    const pkg = this.#validate(formOf(meeting)!, input, 'paper');
    const pendingId = newRowId(this.#d.random);
    await this.#d.db.transaction().execute(async (trx) => {
      // Checked again inside the write: voting may have closed since the form was read.
      assertGuard(canEnterPaper((await findMeeting(trx, meetingId))!.state));
      await repo.insertPendingPaper(trx, { id: pendingId, meetingId, packageJson: JSON.stringify(pkg), enteredBy: actorId });
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId, event: AuditEvent.PAPER_BALLOT_ENTERED });
    });
    return { pendingId };
  }

  async listPendingPaper(meetingId: number) {
    const rows = await repo.listPendingPaper(this.#d.db, meetingId);
    return rows.map((r) => ({
      id: r.id,
      package: JSON.parse(r.package_json) as NormalizedPackage,
      enteredBy: { id: r.entered_by, displayName: r.display_name },
    }));
  }

  /** A second member confirms a typed paper package: now it counts, in the same tally, using one issued slot. */
  async confirmPaper(confirmerId: number, meetingId: number, pendingId: string): Promise<void> {
    const meeting = await findMeeting(this.#d.db, meetingId);
    if (!meeting) throw new DomainError('NOT_FOUND');
    const form = formOf(meeting);
    await this.#queue.run(async (trx) => {
      const pending = await repo.findPendingPaper(trx, meetingId, pendingId);
      if (!pending) throw new DomainError('NOT_FOUND', '这张纸质票已被确认或删除');
      if (pending.entered_by === confirmerId) throw new DomainError('PAPER_SAME_PERSON');
      const m = (await findMeetingGate(trx, meetingId))!;
      this.#assertVoting(m);
      const pkg = JSON.parse(pending.package_json) as NormalizedPackage;
      await this.#record(trx, m, form!, pkg, pending.package_json, 'paper');
      await repo.deletePendingPaper(trx, meetingId, pendingId);
      await appendAudit(trx, { at: this.#d.now(), actorId: confirmerId, meetingId, event: AuditEvent.PAPER_BALLOT_CONFIRMED });
    });
  }

  async discardPaper(actorId: number, meetingId: number, pendingId: string): Promise<void> {
    await this.#d.db.transaction().execute(async (trx) => {
      const r = await repo.deletePendingPaper(trx, meetingId, pendingId);
      if (r.numDeletedRows !== 1n) throw new DomainError('NOT_FOUND', '这张纸质票已被确认或删除');
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId, event: AuditEvent.PAPER_BALLOT_DISCARDED });
    });
  }

  /** Close voting in cast order: every ballot queued before the close is counted, none after. */
  async closeVoting(actorId: number, meetingId: number): Promise<void> {
    await this.#queue.run(async (trx) => {
      const m = await findMeeting(trx, meetingId);
      if (!m) throw new DomainError('NOT_FOUND');
      assertGuard(canCloseVoting(m.state));
      const { n: pending } = await repo.countPendingPaper(trx, meetingId);
      if (Number(pending) > 0) throw new DomainError('PAPER_PENDING', `还有 ${pending} 张纸质票未复核确认，请先确认或删除后再结束测评`);
      await transitionMeeting(trx, meetingId, 'voting', { state: 'closed', voting_closed_at: this.#d.now().toISOString() });
      await wipeRetryChecks(trx, meetingId);
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId, event: AuditEvent.VOTING_CLOSED, detail: { returned: m.cast_count } });
      this.#touched.set(meetingId, true);
    });
    // The close has committed: tidying the file must never turn it into an error.
    try {
      if (!(await compactAfterClose(this.#d.db))) this.#d.log.warn('WAL not emptied at close: a reader held an old snapshot');
    } catch (err) {
      this.#d.log.warn({ err: { message: (err as Error).message } }, 'compacting the database after close failed');
    }
  }

  async liveState(meetingId: number): Promise<LiveState> {
    const m = await findMeeting(this.#d.db, meetingId);
    if (!m) throw new DomainError('NOT_FOUND');
    return { meetingId, state: m.state, k: m.live_k, turnout: turnoutOf(m), snapshot: snapshotOf(m) };
  }

  /** Push the current turnout (sign-ins change it outside the queue). */
  async publishTurnout(meetingId: number): Promise<void> {
    const { snapshot: _s, ...state } = await this.liveState(meetingId);
    this.#live.publish({ type: 'turnout', ...state });
  }

  #validate(form: Form, input: BallotPackage, source: 'phone' | 'paper'): NormalizedPackage {
    const check = validatePackage(form, input, source);
    if (!check.ok) {
      throw new DomainError('BALLOT_INVALID', check.problem.message, { part: check.problem.part, subject: check.problem.subject });
    }
    return check.pkg;
  }

  #assertVoting(m: Pick<MeetingRow, 'state'>): void {
    if (m.state === 'voting') return;
    throw new DomainError(m.state === 'draft' || m.state === 'signin' ? 'VOTING_NOT_OPEN' : 'VOTING_CLOSED');
  }

  async #record(trx: Transaction<DB>, m: MeetingGate, form: Form, pkg: NormalizedPackage, packageJson: string, source: 'phone' | 'paper') {
    const counted = await repo.countBallot(trx, m.id, source);
    if (counted.numUpdatedRows !== 1n) throw new DomainError('BALLOT_LIMIT');
    await repo.insertBallot(trx, { id: newRowId(this.#d.random), meetingId: m.id, packageJson });
    await addToTally(trx, m.id, tallyIncrements(form, pkg));
    if (!this.#touched.has(m.id)) this.#touched.set(m.id, false);
  }

  /** Inside the batch's transaction: take a new snapshot where the k-rule allows, and queue the messages. */
  async #refreshLive(trx: Transaction<DB>): Promise<void> {
    this.#outbox = [];
    const touched = this.#touched;
    this.#touched = new Map();
    for (const [meetingId, closing] of touched) {
      const m = await findMeeting(trx, meetingId);
      if (!m) continue;
      const turnout = turnoutOf(m);
      const form = formOf(m);
      const phone = m.cast_count - m.paper_count;
      // snapshot_count holds the phone ballots of the last snapshot: only they step the gate.
      const publish = closing || shouldPublishSnapshot({ phone, lastPhone: m.snapshot_count, outstanding: m.issued_count - m.cast_count, k: m.live_k });
      if (publish && form) {
        const results = computeResults(form, await readTally(trx, meetingId), turnout);
        const snapshot: Snapshot = { count: m.cast_count, final: closing, parts: results.parts };
        await updateMeeting(trx, meetingId, { snapshot_json: JSON.stringify(snapshot), snapshot_count: phone });
        this.#outbox.push({ type: 'snapshot', meetingId, snapshot });
      }
      this.#outbox.push({ type: 'turnout', meetingId, state: m.state, k: m.live_k, turnout });
    }
  }
}
