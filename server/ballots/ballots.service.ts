import type { ServiceDeps } from '../deps.ts';
import { DomainError } from '../errors.ts';
import { appendAudit } from '../audit/audit.repository.ts';
import { AuditEvent } from '../audit/audit.events.ts';
import type { Compactor } from '../db/compaction.ts';
import type { BallotPackage } from '../forms/form.schemas.ts';
import { newRowId } from '../credentials/secrets.ts';
import { wipeBlindedHashes } from '../credentials/tickets.repository.ts';
import type { TicketService } from '../credentials/tickets.service.ts';
import { tallyIncrements } from '../counting/tally.ts';
import { recountComments } from '../counting/comments.ts';
import { assertGuard, canCloseVoting, canEnterPaper } from '../meetings/lifecycle.ts';
import { findMeeting, findMeetingGate, transitionMeeting, updateMeeting } from '../meetings/meetings.repository.ts';
import { formOf, snapshotOf, turnoutOf } from '../meetings/meeting.view.ts';
import type { LiveHub } from '../live/live.hub.ts';
import type { LiveState } from '../live/live.schemas.ts';
import { validatePackage, type NormalizedPackage } from './validate-package.ts';
import { previewPaper, type PaperPartPreview } from './paper-preview.ts';
import { encodeSlot } from './slots.ts';
import type { BallotBox } from './ballot-box.ts';
import * as repo from './ballots.repository.ts';
import type { MeetingStatusResponse } from './voter.schemas.ts';

/**
 * Everything about ballots but the phone's cast (casting.ts): what a phone asks while it waits, paper
 * packages typed in and confirmed by a second person, the close, and the live state. Writes that change
 * what is counted go through the ballot box's one queue.
 */
export class BallotService {
  readonly #d: ServiceDeps;
  readonly #live: LiveHub;
  readonly #tickets: TicketService;
  readonly #compactor: Compactor;
  readonly #box: BallotBox;

  constructor(deps: ServiceDeps, live: LiveHub, tickets: TicketService, compactor: Compactor, box: BallotBox) {
    this.#d = deps;
    this.#live = live;
    this.#tickets = tickets;
    this.#compactor = compactor;
    this.#box = box;
  }

  get commits(): number {
    return this.#box.commits;
  }

  flush(): Promise<void> {
    return this.#box.flush();
  }

  /** What the phone asks while it waits: the meeting's state and form. It names the meeting, never the voter. */
  async meetingStatus(meetingId: number, access: string, withForm = true): Promise<MeetingStatusResponse> {
    if (!this.#tickets.checkAccess(meetingId, access)) throw new DomainError('TICKET_INVALID');
    const m = await findMeeting(this.#d.db, meetingId);
    if (!m) throw new DomainError('TICKET_INVALID');
    const state = m.state === 'voting' ? 'voting' : m.state === 'signin' || m.state === 'draft' ? 'signin' : 'closed';
    return { state, unitName: m.unit_name, keyFingerprint: m.key_fingerprint, form: state === 'closed' || !withForm ? null : formOf(m) };
  }

  // ---------------------------------------------------------------- paper

  /**
   * An inspection-team member types in a paper package. It is held, not counted, until a second
   * member confirms it; the log says that a paper ballot was entered and by whom, never what it said.
   * What each part will count as is kept with it, so the second person sees the same words.
   */
  async enterPaper(actorId: number, meetingId: number, input: BallotPackage): Promise<{ pendingId: string }> {
    const meeting = await findMeeting(this.#d.db, meetingId);
    if (!meeting) throw new DomainError('NOT_FOUND');
    assertGuard(canEnterPaper(meeting.state));
    const form = formOf(meeting)!;
    const check = validatePackage(form, input, 'paper');
    if (!check.ok) throw new DomainError('BALLOT_INVALID', check.problem.message, { part: check.problem.part, subject: check.problem.subject });
    // From the package as typed (the normalized one no longer says why a part is void).
    const preview = previewPaper(form, input);
    const pendingId = newRowId(this.#d.random);
    await this.#d.db.transaction().execute(async (trx) => {
      // Checked again inside the write: voting may have closed since the form was read.
      assertGuard(canEnterPaper((await findMeeting(trx, meetingId))!.state));
      await repo.insertPendingPaper(trx, {
        id: pendingId, meetingId, packageJson: JSON.stringify(check.pkg), enteredBy: actorId, previewJson: JSON.stringify(preview.ok ? preview.parts : []),
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
    const form = formOf(meeting)!;
    await this.#box.run(async (tx) => {
      const pending = await repo.findPendingPaper(tx, meetingId, pendingId);
      if (!pending) throw new DomainError('NOT_FOUND', '这张纸质票已被确认或删除');
      if (pending.entered_by === confirmerId) throw new DomainError('PAPER_SAME_PERSON');
      const m = (await findMeetingGate(tx, meetingId))!;
      assertVoting(m.state);
      const counted = await repo.countBallot(tx, meetingId, 'paper');
      if (counted.numUpdatedRows !== 1n) throw new DomainError(m.cast_count >= m.issued_count ? 'BALLOT_LIMIT' : 'PAPER_LIMIT');
      // Another server process may have confirmed it meanwhile (PostgreSQL): then this job's savepoint undoes the count.
      const taken = await repo.deletePendingPaper(tx, meetingId, pendingId);
      if (taken.numDeletedRows !== 1n) throw new DomainError('NOT_FOUND', '这张纸质票已被确认或删除');
      const pkg = JSON.parse(pending.package_json) as NormalizedPackage;
      await this.#box.fillSlot(tx, meetingId, encodeSlot(pending.package_json, meeting.ballot_bytes), tallyIncrements(form, pkg));
      await appendAudit(tx, { at: this.#d.now(), actorId: confirmerId, meetingId, event: AuditEvent.PAPER_BALLOT_CONFIRMED });
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
    await this.#box.run(async (tx) => {
      const m = await findMeeting(tx, meetingId);
      if (!m) throw new DomainError('NOT_FOUND');
      assertGuard(canCloseVoting(m.state));
      const { n: pending } = await repo.countPendingPaper(tx, meetingId);
      if (Number(pending) > 0) throw new DomainError('PAPER_PENDING', `还有 ${pending} 张纸质票未复核确认，请先确认或删除后再结束测评`);
      const closed = await transitionMeeting(tx, meetingId, 'voting', { state: 'closed', voting_closed_at: this.#d.now().toISOString() });
      // Closed meanwhile by another server process (PostgreSQL); on SQLite the state read above is current.
      if (closed.numUpdatedRows !== 1n) throw new DomainError('BAD_STATE');
      await repo.deleteSpentTokens(tx, meetingId);
      await wipeBlindedHashes(tx, meetingId);
      await repo.deleteFreeSlots(tx, meetingId);
      await this.#tickets.destroyMeetingKeys(tx, meetingId);
      await appendAudit(tx, { at: this.#d.now(), actorId, meetingId, event: AuditEvent.VOTING_CLOSED, detail: { returned: m.cast_count } });
      // Part E's texts, read once now (nothing can be cast any more) and kept, so a report of the meeting
      // never reads every ballot again.
      await updateMeeting(tx, meetingId, { comments_json: JSON.stringify(await recountComments(tx, meetingId, this.#d.pepper)) });
      this.#box.touch(meetingId, { closing: true });
    });
    this.#box.forgetMeeting(meetingId);
    this.#tickets.forgetMeeting(meetingId);
    // The close has committed; the rebuild runs (and is retried) on its own, once the replies are out.
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
}

function assertVoting(state: string): void {
  if (state === 'voting') return;
  throw new DomainError(state === 'draft' || state === 'signin' ? 'VOTING_NOT_OPEN' : 'VOTING_CLOSED');
}
