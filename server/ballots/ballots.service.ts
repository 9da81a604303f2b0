import type { Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { ServiceDeps } from '../services.ts';
import { DomainError } from '../errors.ts';
import { appendAudit } from '../audit/audit.repository.ts';
import { AuditEvent } from '../audit/audit.events.ts';
import type { Compactor } from '../db/compaction.ts';
import type { BallotPackage, Form } from '../forms/form.schemas.ts';
import { hashSecret, newRowId, receiptFromToken, safeEqual } from '../credentials/secrets.ts';
import { fromB64u, INPUT_BYTES, OUTPUT_BYTES } from '../credentials/voprf.ts';
import { wipeBlindedHashes } from '../credentials/tickets.repository.ts';
import type { TicketService } from '../credentials/tickets.service.ts';
import { computeResults, tallyIncrements, type TallyRow } from '../counting/tally.ts';
import { recountBallots } from '../counting/recount.ts';
import { RunningTally } from '../counting/running-tally.ts';
import { assertGuard, canCloseVoting, canEnterPaper } from '../meetings/lifecycle.ts';
import { findMeeting, findMeetingGate, transitionMeeting, updateMeeting, type MeetingRow } from '../meetings/meetings.repository.ts';
import { formOf, snapshotOf, turnoutOf } from '../meetings/meeting.view.ts';
import { shouldPublishSnapshot } from '../live/gate.ts';
import type { LiveHub } from '../live/live.hub.ts';
import type { LiveMessage, LiveState, Snapshot } from '../live/live.schemas.ts';
import { validatePackage, type NormalizedPackage } from './validate-package.ts';
import { encodeSlot, SLOT_BATCH } from './slots.ts';
import { previewPaper, type PaperPartPreview } from './paper-preview.ts';
import { WriteQueue } from './write-queue.ts';
import * as repo from './ballots.repository.ts';
import type { CastRequest, CastResponse, MeetingStatusResponse } from './voter.schemas.ts';

/**
 * Casting and counting. Every write that changes what is counted (a phone ballot, a paper ballot,
 * closing the vote) goes through one write queue, so they are ordered, grouped into shared
 * transactions, and the live step is decided inside the same transaction that changed the count.
 *
 * A phone ballot arrives with a token (input, output) and the meeting's id; it carries nothing of the
 * ticket it was made from. The token is checked against the meeting key, its input's keyed hash is the
 * nullifier that stops a second use, and the package goes into a random empty slot of fixed size.
 */
export class BallotService {
  readonly #d: ServiceDeps;
  readonly #live: LiveHub;
  readonly #tickets: TicketService;
  readonly #compactor: Compactor;
  readonly #queue: WriteQueue;
  readonly #tally = new RunningTally();
  /** Meetings changed by the batch being written: whether voting closed in it, and the ballots' increments. */
  #touched = new Map<number, { closing: boolean; increments: TallyRow[] }>();
  #outbox: LiveMessage[] = [];

  constructor(deps: ServiceDeps, live: LiveHub, tickets: TicketService, compactor: Compactor) {
    this.#d = deps;
    this.#live = live;
    this.#tickets = tickets;
    this.#compactor = compactor;
    this.#queue = new WriteQueue(deps.db, {
      beforeCommit: (trx) => this.#refreshLive(trx),
      afterCommit: () => {
        this.#tally.commit();
        for (const m of this.#outbox) this.#live.publish(m);
        this.#outbox = [];
      },
      afterRollback: () => {
        this.#tally.rollback();
        this.#touched = new Map();
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

  // ---------------------------------------------------------------- the phone

  /** What the phone asks while it waits: the meeting's state and form. It names the meeting, never the voter. */
  async meetingStatus(meetingId: number, access: string, withForm = true): Promise<MeetingStatusResponse> {
    if (!this.#tickets.checkAccess(meetingId, access)) throw new DomainError('TICKET_INVALID');
    const m = await findMeeting(this.#d.db, meetingId);
    if (!m) throw new DomainError('TICKET_INVALID');
    const state = m.state === 'voting' ? 'voting' : m.state === 'signin' || m.state === 'draft' ? 'signin' : 'closed';
    return { state, unitName: m.unit_name, keyFingerprint: m.key_fingerprint, form: state === 'closed' || !withForm ? null : formOf(m) };
  }

  /** Cast a phone package. Resolves only after the ballot's transaction is durably committed. */
  async cast(req: CastRequest): Promise<CastResponse> {
    const meeting = await findMeeting(this.#d.db, req.meetingId);
    const input = fromB64u(req.token.input, INPUT_BYTES);
    const output = fromB64u(req.token.output, OUTPUT_BYTES);
    if (!meeting || !input || !output) throw new DomainError('TOKEN_INVALID');
    if (meeting.state === 'draft') throw new DomainError('VOTING_NOT_OPEN');
    const receipt = receiptFromToken(this.#d.pepper, req.token.input);
    if (meeting.state === 'closed' || meeting.state === 'sealed') {
      // A reply lost just before the close: the key and the retry checks are gone, but a receipt derived
      // from this token's secret input exists only if a ballot was cast with it.
      if (await repo.findReceipt(this.#d.db, hashSecret(this.#d.pepper, 'receipt', receipt))) return { receipt, alreadyRecorded: true, rehearsal: false };
      throw new DomainError('VOTING_CLOSED');
    }
    const form = formOf(meeting);
    if (!form) throw new DomainError('VOTING_NOT_OPEN');

    if (meeting.state === 'signin') {
      // Before voting only a rehearsal token is good for anything, and it is counted nowhere.
      const rehearsalKey = await this.#tickets.meetingKey(meeting.id, 'rehearsal');
      if (rehearsalKey && this.#tickets.checkToken(rehearsalKey, input, output)) {
        this.#validate(form, req.package, 'phone');
        return { receipt, alreadyRecorded: false, rehearsal: true };
      }
      const voteKey = await this.#tickets.meetingKey(meeting.id, 'vote');
      if (voteKey && this.#tickets.checkToken(voteKey, input, output)) throw new DomainError('VOTING_NOT_OPEN');
      throw new DomainError('TOKEN_INVALID');
    }

    const key = await this.#tickets.meetingKey(meeting.id, 'vote');
    if (!key) throw new DomainError('VOTING_CLOSED');
    if (!this.#tickets.checkToken(key, input, output)) throw new DomainError('TOKEN_INVALID');
    const pkg = this.#validate(form, req.package, 'phone');
    const packageJson = JSON.stringify(pkg);
    const nullifier = hashSecret(this.#d.pepper, 'nullifier', req.token.input);
    const retryCheck = hashSecret(this.#d.pepper, 'retry', `${req.token.input}\u0000${packageJson}`);

    return this.#queue.run(async (trx) => {
      const spent = await repo.findSpentToken(trx, nullifier);
      if (spent) {
        // A lost reply: the same token and the same package get the same receipt back.
        if (spent.retry_check && safeEqual(spent.retry_check, retryCheck)) return { receipt, alreadyRecorded: true, rehearsal: false };
        throw new DomainError('TOKEN_USED');
      }
      const m = await findMeetingGate(trx, meeting.id);
      if (!m) throw new DomainError('TOKEN_INVALID');
      this.#assertVoting(m);
      await this.#record(trx, meeting.id, meeting.ballot_bytes, form, pkg, packageJson, 'phone');
      await repo.insertSpentToken(trx, { nullifier, meetingId: meeting.id, retryCheck });
      await repo.insertReceipt(trx, meeting.id, hashSecret(this.#d.pepper, 'receipt', receipt));
      return { receipt, alreadyRecorded: false, rehearsal: false };
    });
  }

  /**
   * Make empty slots so that every ballot still out has one, inside the transaction that issues a ballot
   * (sign-in, 补发). Slots are made in batches and filled at random, so when a slot was made says nothing
   * about whose ballot fills it.
   */
  async provisionSlots(trx: Transaction<DB>, meetingId: number): Promise<void> {
    const m = await trx.selectFrom('meetings').select(['issued_count', 'cast_count', 'ballot_bytes']).where('id', '=', meetingId).executeTakeFirst();
    if (!m || m.ballot_bytes <= 0) return;
    const free = await repo.countFreeSlots(trx, meetingId);
    const missing = m.issued_count - m.cast_count - free;
    if (missing <= 0) return;
    const ids = Array.from({ length: Math.max(SLOT_BATCH, missing) }, () => Number(this.#d.random(8).readBigUInt64BE() >> 11n));
    await repo.insertEmptySlots(trx, meetingId, [...new Set(ids)], m.ballot_bytes);
  }

  // ---------------------------------------------------------------- paper

  /**
   * An inspection-team member types in a paper package. It is held, not counted, until a second
   * member confirms it; the log says that a paper ballot was entered and by whom, never what it said.
   */
  async enterPaper(actorId: number, meetingId: number, input: BallotPackage): Promise<{ pendingId: string }> {
    const meeting = await findMeeting(this.#d.db, meetingId);
    if (!meeting) throw new DomainError('NOT_FOUND');
    assertGuard(canEnterPaper(meeting.state));
    const form = formOf(meeting)!;
    const pkg = this.#validate(form, input, 'paper');
    // What each part will count as, from the package as typed (the normalized one no longer says why a part is void).
    const preview = previewPaper(form, input);
    const pendingId = newRowId(this.#d.random);
    await this.#d.db.transaction().execute(async (trx) => {
      // Checked again inside the write: voting may have closed since the form was read.
      assertGuard(canEnterPaper((await findMeeting(trx, meetingId))!.state));
      await repo.insertPendingPaper(trx, {
        id: pendingId, meetingId, packageJson: JSON.stringify(pkg), enteredBy: actorId, previewJson: JSON.stringify(preview.ok ? preview.parts : []),
      });
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId, event: AuditEvent.PAPER_BALLOT_ENTERED });
    });
    return { pendingId };
  }

  async listPendingPaper(meetingId: number) {
    const meeting = await findMeeting(this.#d.db, meetingId);
    const form = meeting ? formOf(meeting) : null;
    const rows = await repo.listPendingPaper(this.#d.db, meetingId);
    return rows.map((r) => {
      const pkg = JSON.parse(r.package_json) as NormalizedPackage;
      const again = form ? previewPaper(form, pkg as BallotPackage, { normalized: true }) : null;
      return {
        id: r.id,
        package: pkg,
        // The preview made as it was typed; rows from before it was kept get one from the normalized package.
        preview: r.preview_json !== null ? (JSON.parse(r.preview_json) as PaperPartPreview[]) : again?.ok ? again.parts : [],
        enteredBy: { id: r.entered_by, displayName: r.display_name },
      };
    });
  }

  /** A second member confirms a typed paper package: now it counts, within the paper forms handed out. */
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
      await this.#record(trx, meetingId, meeting.ballot_bytes, form!, pkg, pending.package_json, 'paper');
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

  // ---------------------------------------------------------------- close

  /**
   * Close voting in cast order: every ballot queued before the close is counted, none after. The close's
   * own transaction destroys what only voting needed (the meeting keys, the nullifiers and retry checks,
   * the blinded hashes, the empty slots) and keeps the final results; the rebuild of the file follows.
   */
  async closeVoting(actorId: number, meetingId: number): Promise<void> {
    await this.#queue.run(async (trx) => {
      const m = await findMeeting(trx, meetingId);
      if (!m) throw new DomainError('NOT_FOUND');
      assertGuard(canCloseVoting(m.state));
      const { n: pending } = await repo.countPendingPaper(trx, meetingId);
      if (Number(pending) > 0) throw new DomainError('PAPER_PENDING', `还有 ${pending} 张纸质票未复核确认，请先确认或删除后再结束测评`);
      await transitionMeeting(trx, meetingId, 'voting', { state: 'closed', voting_closed_at: this.#d.now().toISOString() });
      await repo.deleteSpentTokens(trx, meetingId);
      await wipeBlindedHashes(trx, meetingId);
      await repo.deleteFreeSlots(trx, meetingId);
      await this.#tickets.destroyMeetingKeys(trx, meetingId);
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId, event: AuditEvent.VOTING_CLOSED, detail: { returned: m.cast_count } });
      this.#touch(meetingId, { closing: true });
    });
    this.#tally.forget(meetingId);
    // The close has committed; the rebuild runs (and is retried) on its own.
    this.#compactor.request(1000);
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

  // ---------------------------------------------------------------- inside the batch

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

  #touch(meetingId: number, change: { closing?: boolean; increments?: TallyRow[] }): void {
    const t = this.#touched.get(meetingId) ?? { closing: false, increments: [] };
    if (change.closing) t.closing = true;
    if (change.increments) t.increments.push(...change.increments);
    this.#touched.set(meetingId, t);
  }

  /** Count the ballot and put it into a random empty slot of the meeting. */
  async #record(trx: Transaction<DB>, meetingId: number, slotSize: number, form: Form, pkg: NormalizedPackage, packageJson: string, source: 'phone' | 'paper') {
    const counted = await repo.countBallot(trx, meetingId, source);
    if (counted.numUpdatedRows !== 1n) throw new DomainError(source === 'paper' ? 'PAPER_LIMIT' : 'BALLOT_LIMIT');
    const free = await repo.listFreeSlots(trx, meetingId);
    if (free.length === 0) throw new Error(`meeting ${meetingId}: no empty ballot slot (slots are made at issue)`);
    const slot = free[this.#d.random(4).readUInt32BE(0) % free.length]!.id;
    const filled = await repo.fillSlot(trx, meetingId, slot, encodeSlot(packageJson, slotSize));
    if (filled.numUpdatedRows !== 1n) throw new Error(`meeting ${meetingId}: slot ${slot} was not empty`);
    this.#touch(meetingId, { increments: tallyIncrements(form, pkg) });
  }

  /** Inside the batch's transaction: take a new snapshot where the k-rule allows, and queue the messages. */
  async #refreshLive(trx: Transaction<DB>): Promise<void> {
    this.#outbox = [];
    const touched = this.#touched;
    this.#touched = new Map();
    for (const [meetingId, { closing, increments }] of touched) {
      const m = await findMeeting(trx, meetingId);
      if (!m) continue;
      const turnout = turnoutOf(m);
      const form = formOf(m);
      if (!form) continue;
      const phone = m.cast_count - m.paper_count;
      const phoneOutstanding = m.issued_count - m.paper_issued - phone;
      // snapshot_count holds the phone ballots of the last snapshot: only they step the gate.
      const publish = closing || shouldPublishSnapshot({ phone, lastPhone: m.snapshot_count, phoneOutstanding, k: m.live_k });
      if (publish) {
        const rows = closing ? await recountBallots(trx, meetingId, form) : await this.#tally.stage(trx, meetingId, form, increments);
        const results = computeResults(form, rows, turnout);
        const snapshot: Snapshot = { count: m.cast_count, final: closing, parts: results.parts };
        await updateMeeting(trx, meetingId, {
          snapshot_json: JSON.stringify(snapshot),
          snapshot_count: phone,
          ...(closing ? { results_json: JSON.stringify(results) } : {}),
        });
        this.#outbox.push({ type: 'snapshot', meetingId, snapshot });
      } else if (!closing) {
        await this.#tally.stage(trx, meetingId, form, increments);
      }
      this.#outbox.push({ type: 'turnout', meetingId, state: m.state, k: m.live_k, turnout });
    }
  }
}
