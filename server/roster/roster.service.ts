import type { ServiceDeps } from '../deps.ts';
import type { DbOrTrx } from '../db/database.ts';
import { DomainError } from '../errors.ts';
import { appendAudit } from '../audit/audit.repository.ts';
import { AuditEvent } from '../audit/audit.events.ts';
import type { IssuedTicket, TicketService } from '../credentials/tickets.service.ts';
import { activateSlip, findEntryTicket, findSlip, hasRetiredTicket, lastSerial, retireTicket, returnSlip, voidTicket } from '../credentials/tickets.repository.ts';
import { assertGuard, canEditRoster, canIssueSlips, canRehearse, canSignIn } from '../meetings/lifecycle.ts';
import { findMeeting } from '../meetings/meetings.repository.ts';
import * as repo from './roster.repository.ts';
import { checkRosterEntry } from './roster.import.ts';
import type { Handout, RosterEntry, TicketStatus } from './roster.schemas.ts';
import type { BallotService } from '../ballots/ballots.service.ts';
import type { BallotBox } from '../ballots/ballot-box.ts';

function toEntry(r: repo.RosterEntryRow): RosterEntry {
  return { id: r.id, name: r.name, category: r.category, note: r.note, walkIn: r.walk_in === 1, signedIn: r.signed_in === 1 };
}

/** The sign-in sheet (签到表) and the credentials handed out at the desk. */
export class RosterService {
  readonly #d: ServiceDeps;
  readonly #ballots: BallotService;
  readonly #box: BallotBox;
  readonly #tickets: TicketService;
  readonly #baseUrl: string;

  constructor(deps: ServiceDeps, ballots: BallotService, box: BallotBox, tickets: TicketService, baseUrl: string) {
    this.#d = deps;
    this.#ballots = ballots;
    this.#box = box;
    this.#tickets = tickets;
    this.#baseUrl = baseUrl;
  }

  get baseUrl(): string {
    return this.#baseUrl;
  }

  async #meeting(id: number) {
    const m = await findMeeting(this.#d.db, id);
    if (!m) throw new DomainError('NOT_FOUND');
    return m;
  }

  async list(meetingId: number): Promise<RosterEntry[]> {
    await this.#meeting(meetingId);
    return (await repo.listEntries(this.#d.db, meetingId)).map(toEntry);
  }

  /** One person typed at the desk, cleaned as an imported row is (checkRosterEntry); a name empty after it is refused. */
  async add(actorId: number, meetingId: number, input: { name: string; category: string; note: string; walkIn: boolean }): Promise<RosterEntry> {
    const checked = checkRosterEntry(input);
    if (!checked.ok) throw new DomainError('VALIDATION', checked.message, { fields: [`/${checked.field}`] });
    const entry = { ...checked.entry, walkIn: input.walkIn };
    const [row] = await this.#d.db.transaction().execute(async (trx) => {
      await this.#assertRosterEditable(trx, meetingId);
      const ids = await repo.insertEntries(trx, meetingId, [entry]);
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId, event: AuditEvent.ROSTER_ENTRY_ADDED, detail: { entryId: ids[0]!.id, walkIn: input.walkIn } });
      return ids;
    });
    await this.#ballots.publishTurnout(meetingId);
    return toEntry((await repo.findEntry(this.#d.db, meetingId, row!.id))!);
  }

  /** Add many entries at once (the demonstration year; imports use importFile). */
  async addMany(actorId: number | null, meetingId: number, rows: { name: string; category: string; note: string; walkIn: boolean }[]): Promise<void> {
    await this.#d.db.transaction().execute(async (trx) => {
      await this.#assertRosterEditable(trx, meetingId);
      await repo.insertEntries(trx, meetingId, rows);
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId, event: AuditEvent.ROSTER_IMPORTED, detail: { rows: rows.length } });
    });
  }

  async remove(actorId: number, meetingId: number, entryId: number): Promise<void> {
    await this.#d.db.transaction().execute(async (trx) => {
      await this.#assertRosterEditable(trx, meetingId);
      const r = await repo.deleteUnsignedEntry(trx, meetingId, entryId);
      if (r.numDeletedRows !== 1n) throw new DomainError('ALREADY_SIGNED_IN', '此人已签到或不存在，不能删除');
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId, event: AuditEvent.ROSTER_ENTRY_REMOVED, detail: { entryId } });
    });
    await this.#ballots.publishTurnout(meetingId);
  }

  /** Check a roster file; with commit, replace the entries not yet signed in by the file's rows. */
  async importFile(actorId: number, meetingId: number, file: { filename: string; data: Buffer; commit: boolean }) {
    const m = await this.#meeting(meetingId);
    assertGuard(canEditRoster(m.state));
    const parsed = await this.#d.files.parseRoster(file.data, file.filename);
    if (!file.commit || parsed.errors.length > 0) return { ...parsed, committed: false };
    await this.#d.db.transaction().execute(async (trx) => {
      await this.#assertRosterEditable(trx, meetingId);
      await repo.deleteAllUnsigned(trx, meetingId);
      await repo.insertEntries(trx, meetingId, parsed.rows.map((r) => ({ ...r, walkIn: false })));
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId, event: AuditEvent.ROSTER_IMPORTED, detail: { filename: file.filename, rows: parsed.rows.length } });
    });
    await this.#ballots.publishTurnout(meetingId);
    return { ...parsed, committed: true };
  }

  /**
   * Sign a person in and hand out one ballot: a desk ticket (its QR on the desk screen), a printed slip
   * activated by its serial number, or a paper form. The ticket is the person's, as the desk sees; what
   * it buys at redemption cannot be matched with the token that casts (see credentials/).
   */
  async signIn(actorId: number, meetingId: number, entryId: number, handout: Handout, slipSerial: number | null = null): Promise<{ entry: RosterEntry; ticket: IssuedTicket | null }> {
    if (handout === 'slip' && slipSerial === null) throw new DomainError('VALIDATION', '请输入票条上的编号');
    const ticket = await this.#d.db.transaction().execute(async (trx) => {
      const m = await findMeeting(trx, meetingId);
      if (!m) throw new DomainError('NOT_FOUND');
      assertGuard(canSignIn(m.state));
      const r = await repo.markSignedIn(trx, meetingId, entryId);
      if (r.numUpdatedRows !== 1n) {
        throw (await repo.findEntry(trx, meetingId, entryId)) ? new DomainError('ALREADY_SIGNED_IN') : new DomainError('NOT_FOUND');
      }
      let t: IssuedTicket | null = null;
      if (handout === 'qr') t = await this.#tickets.makeTicket(trx, meetingId, 'desk', { entryId, serial: null, state: 'issued' });
      if (handout === 'slip') await this.#activateSlip(trx, meetingId, slipSerial!, entryId);
      await repo.countIssued(trx, meetingId, { paper: handout === 'paper' });
      await this.#box.provisionSlots(trx, meetingId);
      // The log records who signed in, never which kind of ballot they took: that could single out a paper ballot.
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId, event: AuditEvent.ATTENDEE_SIGNED_IN, detail: { entryId } });
      return t;
    });
    if (ticket) this.#tickets.remember(meetingId, ticket);
    await this.#ballots.publishTurnout(meetingId);
    return { entry: toEntry((await repo.findEntry(this.#d.db, meetingId, entryId))!), ticket };
  }

  async #activateSlip(trx: DbOrTrx, meetingId: number, serial: number, entryId: number): Promise<void> {
    const r = await findSlip(trx, meetingId, serial);
    if (!r) throw new DomainError('SLIP_UNKNOWN', `没有编号为 ${serial} 的打印票条，请核对票条上的编号`);
    const a = await activateSlip(trx, meetingId, serial, entryId);
    if (a.numUpdatedRows !== 1n) throw new DomainError('SLIP_TAKEN', `编号 ${serial} 的票条已经发给别人或已作废，请换一张`);
  }

  /**
   * 撤销: undo a sign-in made by mistake (a look-alike name), as long as its ballot is unused: the desk
   * ticket not yet redeemed (it is voided), the slip not yet redeemed (it goes back to the pile), or a
   * paper form not yet counted. The person can then be signed in again, correctly. Refused once a 补发
   * was made (the first token may have voted), and during voting when taking a phone ticket back would let
   * the result at close single out a ballot against the live tally's last step (uncountIssued).
   */
  async undoSignIn(actorId: number, meetingId: number, entryId: number): Promise<RosterEntry> {
    const voided = await this.#d.db.transaction().execute(async (trx) => {
      const m = await findMeeting(trx, meetingId);
      if (!m) throw new DomainError('NOT_FOUND');
      assertGuard(canSignIn(m.state));
      const entry = await repo.findEntry(trx, meetingId, entryId);
      if (!entry) throw new DomainError('NOT_FOUND');
      if (!entry.signed_in) throw new DomainError('NOT_SIGNED_IN');
      // After a 补发 the person's first token is out and may have been cast: that ballot is used.
      if (await hasRetiredTicket(trx, meetingId, entryId)) throw new DomainError('UNDO_TOO_LATE');
      const t = await findEntryTicket(trx, meetingId, entryId);
      let paper = false;
      if (t) {
        if (t.state !== 'issued') throw new DomainError('UNDO_TOO_LATE');
        const undone = t.kind === 'slip' ? await returnSlip(trx, t.id) : await voidTicket(trx, t.id);
        if (undone.numUpdatedRows !== 1n) throw new DomainError('UNDO_TOO_LATE');
      } else {
        // No ticket: a paper form. It can be taken back while fewer paper ballots are counted than handed
        // out, which uncountIssued's own condition decides.
        paper = true;
      }
      const u = await repo.unmarkSignedIn(trx, meetingId, entryId);
      if (u.numUpdatedRows !== 1n) throw new DomainError('NOT_SIGNED_IN');
      const uncounted = await repo.uncountIssued(trx, meetingId, { paper });
      if (uncounted.numUpdatedRows !== 1n) {
        // The update's own conditions refused: a close in between (PostgreSQL), a paper form counted
        // meanwhile, or the live gate (uncountIssued).
        const now = await findMeeting(trx, meetingId);
        assertGuard(canSignIn(now!.state));
        throw new DomainError(paper ? 'UNDO_TOO_LATE' : 'UNDO_LIVE_GATE');
      }
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId, event: AuditEvent.SIGNIN_UNDONE, detail: { entryId } });
      return t?.id ?? null;
    });
    // Only once the void is committed: a refused undo keeps the ticket, and the desk can still show its QR.
    if (voided) this.#tickets.forget(voided);
    await this.#ballots.publishTurnout(meetingId);
    return toEntry((await repo.findEntry(this.#d.db, meetingId, entryId))!);
  }

  // ---------------------------------------------------------------- the person's ticket at the desk

  /** Where the person's ticket stands: the desk polls this while its QR is on the screen. */
  async ticketStatus(meetingId: number, entryId: number): Promise<TicketStatus> {
    await this.#meeting(meetingId);
    const t = await findEntryTicket(this.#d.db, meetingId, entryId);
    if (!t) return { ticketId: null, kind: null, serial: null, state: 'none', canShowAgain: false };
    return {
      ticketId: t.id,
      kind: t.kind === 'slip' ? 'slip' : 'qr',
      serial: t.serial,
      state: t.state === 'redeemed' ? 'redeemed' : 'issued',
      canShowAgain: t.state === 'issued' && this.#tickets.shownAgain(t.id) !== null,
    };
  }

  /** Show the same QR again (only while unredeemed, and only this process still holds its secret). */
  async showTicket(meetingId: number, entryId: number): Promise<IssuedTicket> {
    await this.#meeting(meetingId);
    const t = await findEntryTicket(this.#d.db, meetingId, entryId);
    if (!t) throw new DomainError('TICKET_NONE');
    if (t.state === 'redeemed') throw new DomainError('TICKET_ALREADY_REDEEMED');
    const shown = this.#tickets.shownAgain(t.id);
    if (!shown) throw new DomainError('TICKET_NOT_SHOWN');
    return shown;
  }

  /** Void the person's unredeemed ticket and give a new QR. One person, still one ballot issued. */
  async replaceTicket(actorId: number, meetingId: number, entryId: number): Promise<IssuedTicket> {
    const { fresh, voided } = await this.#d.db.transaction().execute(async (trx) => {
      const t = await deskTicket(trx, meetingId, entryId);
      if (t.state === 'redeemed') throw new DomainError('TICKET_ALREADY_REDEEMED');
      const v = await voidTicket(trx, t.id);
      if (v.numUpdatedRows !== 1n) throw new DomainError('TICKET_ALREADY_REDEEMED');
      const n = await this.#tickets.makeTicket(trx, meetingId, 'desk', { entryId, serial: null, state: 'issued' });
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId, event: AuditEvent.TICKET_REPLACED, detail: { entryId } });
      return { fresh: n, voided: t.id };
    });
    // As in undoSignIn: the old QR is forgotten only once its void is committed.
    this.#tickets.forget(voided);
    this.#tickets.remember(meetingId, fresh);
    return fresh;
  }

  /**
   * 补发: the person's phone redeemed its ticket and then failed. A new ticket is one more ballot issued
   * (the old token cannot be told apart from any other, so it cannot be cancelled): audited with its
   * reason and shown in the results' checks.
   */
  async reissueTicket(actorId: number, meetingId: number, entryId: number, reason: string): Promise<IssuedTicket> {
    const why = reason.trim();
    if (why.length < 4) throw new DomainError('REISSUE_REASON');
    const fresh = await this.#d.db.transaction().execute(async (trx) => {
      const t = await deskTicket(trx, meetingId, entryId);
      if (t.state !== 'redeemed') throw new DomainError('TICKET_NOT_REDEEMED');
      // The redeemed ticket is retired (the desk now follows the new one); its token stays good.
      // Two 补发 at once (a double click): only one retires the ticket; the other is refused, not a second ballot.
      if ((await retireTicket(trx, t.id)).numUpdatedRows !== 1n) throw new DomainError('TICKET_NOT_REDEEMED');
      const n = await this.#tickets.makeTicket(trx, meetingId, 'desk', { entryId, serial: null, state: 'issued' });
      await repo.countReissued(trx, meetingId);
      await this.#box.provisionSlots(trx, meetingId);
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId, event: AuditEvent.TICKET_REISSUED, detail: { entryId, reason: why } });
      return n;
    });
    this.#tickets.remember(meetingId, fresh);
    await this.#ballots.publishTurnout(meetingId);
    return fresh;
  }

  /**
   * Printed slips, dormant until the desk hands one to a person who signs in (typing its serial).
   * Printing issues nothing: a spare slip can never vote.
   */
  async printSlipTickets(actorId: number, meetingId: number, count: number): Promise<IssuedTicket[]> {
    const m = await this.#meeting(meetingId);
    assertGuard(canIssueSlips(m.state));
    return this.#d.db.transaction().execute(async (trx) => {
      const from = (await lastSerial(trx, meetingId)) + 1;
      const slips: IssuedTicket[] = [];
      for (let i = 0; i < count; i++) slips.push(await this.#tickets.makeTicket(trx, meetingId, 'slip', { entryId: null, serial: from + i, state: 'dormant' }));
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId, event: AuditEvent.SLIPS_ISSUED, detail: { count, from, to: from + count - 1 } });
      return slips;
    });
  }

  /** A rehearsal ticket: redeemable any number of times before voting opens, with a key of its own; counted nowhere. */
  async issueRehearsal(actorId: number, meetingId: number): Promise<IssuedTicket> {
    const m = await this.#meeting(meetingId);
    assertGuard(canRehearse(m.state));
    return this.#d.db.transaction().execute(async (trx) => {
      const c = await this.#tickets.makeTicket(trx, meetingId, 'rehearsal', { entryId: null, serial: null, state: 'issued' });
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId, event: AuditEvent.REHEARSAL_ISSUED });
      return c;
    });
  }

  /** The state check inside the write's own transaction, so a close in between cannot slip past it. */
  async #assertRosterEditable(trx: DbOrTrx, meetingId: number): Promise<void> {
    const m = await findMeeting(trx, meetingId);
    if (!m) throw new DomainError('NOT_FOUND');
    assertGuard(canEditRoster(m.state));
  }
}

/** Inside a desk transaction: the person's current ticket, while the meeting still signs in. */
async function deskTicket(trx: DbOrTrx, meetingId: number, entryId: number) {
  const m = await findMeeting(trx, meetingId);
  if (!m) throw new DomainError('NOT_FOUND');
  assertGuard(canSignIn(m.state));
  const t = await findEntryTicket(trx, meetingId, entryId);
  if (!t) throw new DomainError('TICKET_NONE');
  return t;
}
