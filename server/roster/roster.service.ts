import type { ServiceDeps } from '../services.ts';
import { DomainError } from '../errors.ts';
import { appendAudit } from '../audit/audit.repository.ts';
import { AuditEvent } from '../audit/audit.events.ts';
import { issueCredential, type IssuedCredential } from '../credentials/credentials.service.ts';
import { assertGuard, canEditRoster, canIssueSlips, canRehearse, canSignIn } from '../meetings/lifecycle.ts';
import { findMeeting } from '../meetings/meetings.repository.ts';
import { publicBaseUrl } from '../net.ts';
import { parseRosterFile } from './roster.import.ts';
import * as repo from './roster.repository.ts';
import type { Handout, RosterEntry } from './roster.schemas.ts';
import type { BallotService } from '../ballots/ballots.service.ts';

function toEntry(r: repo.RosterEntryRow): RosterEntry {
  return { id: r.id, name: r.name, category: r.category, note: r.note, walkIn: r.walk_in === 1, signedIn: r.signed_in === 1 };
}

/** The sign-in sheet (签到表) and the credentials handed out at the desk. */
export class RosterService {
  readonly #d: ServiceDeps;
  readonly #ballots: BallotService;
  readonly #baseUrl: string;

  constructor(deps: ServiceDeps, ballots: BallotService) {
    this.#d = deps;
    this.#ballots = ballots;
    this.#baseUrl = publicBaseUrl(deps.config.PUBLIC_URL, deps.config.PORT);
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

  async add(actorId: number, meetingId: number, input: { name: string; category: string; note: string; walkIn: boolean }): Promise<RosterEntry> {
    const m = await this.#meeting(meetingId);
    assertGuard(canEditRoster(m.state));
    const [row] = await this.#d.db.transaction().execute(async (trx) => {
      const ids = await repo.insertEntries(trx, meetingId, [input]);
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId, event: AuditEvent.ROSTER_ENTRY_ADDED, detail: { entryId: ids[0]!.id, walkIn: input.walkIn } });
      return ids;
    });
    await this.#ballots.publishTurnout(meetingId);
    return toEntry((await repo.findEntry(this.#d.db, meetingId, row!.id))!);
  }

  /** Add many entries at once (the demonstration year; imports use importFile). */
  async addMany(actorId: number | null, meetingId: number, rows: { name: string; category: string; note: string; walkIn: boolean }[]): Promise<void> {
    const m = await this.#meeting(meetingId);
    assertGuard(canEditRoster(m.state));
    await this.#d.db.transaction().execute(async (trx) => {
      await repo.insertEntries(trx, meetingId, rows);
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId, event: AuditEvent.ROSTER_IMPORTED, detail: { rows: rows.length } });
    });
  }

  async remove(actorId: number, meetingId: number, entryId: number): Promise<void> {
    const m = await this.#meeting(meetingId);
    assertGuard(canEditRoster(m.state));
    await this.#d.db.transaction().execute(async (trx) => {
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
    const parsed = await parseRosterFile(file.data, file.filename);
    if (!file.commit || parsed.errors.length > 0) return { ...parsed, committed: false };
    await this.#d.db.transaction().execute(async (trx) => {
      await repo.deleteAllUnsigned(trx, meetingId);
      await repo.insertEntries(trx, meetingId, parsed.rows.map((r) => ({ ...r, walkIn: false })));
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId, event: AuditEvent.ROSTER_IMPORTED, detail: { filename: file.filename, rows: parsed.rows.length } });
    });
    await this.#ballots.publishTurnout(meetingId);
    return { ...parsed, committed: true };
  }

  /**
   * Sign a person in and hand out one ballot. With 'qr' a credential is made for the desk screen;
   * nothing stored joins the entry to it (the credential row has no entry, no time, a random key).
   */
  async signIn(actorId: number, meetingId: number, entryId: number, handout: Handout): Promise<{ entry: RosterEntry; credential: IssuedCredential | null }> {
    const m = await this.#meeting(meetingId);
    assertGuard(canSignIn(m.state));
    const credential = await this.#d.db.transaction().execute(async (trx) => {
      const r = await repo.markSignedIn(trx, meetingId, entryId);
      if (r.numUpdatedRows !== 1n) {
        throw (await repo.findEntry(trx, meetingId, entryId)) ? new DomainError('ALREADY_SIGNED_IN') : new DomainError('NOT_FOUND');
      }
      await repo.countIssued(trx, meetingId);
      // The log records who signed in, never which kind of ballot they took: that could single out a paper ballot.
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId, event: AuditEvent.ATTENDEE_SIGNED_IN, detail: { entryId } });
      return handout === 'qr' ? issueCredential(trx, this.#credDeps(), meetingId, 'desk') : null;
    });
    await this.#ballots.publishTurnout(meetingId);
    return { entry: toEntry((await repo.findEntry(this.#d.db, meetingId, entryId))!), credential };
  }

  /**
   * Printed slips, handed out like paper ballots. Making them issues nothing: 发出 grows only at
   * sign-in, and ballots accepted can never exceed it, so a spare slip cannot add a vote.
   */
  async issueSlips(actorId: number, meetingId: number, count: number): Promise<IssuedCredential[]> {
    const m = await this.#meeting(meetingId);
    assertGuard(canIssueSlips(m.state));
    return this.#d.db.transaction().execute(async (trx) => {
      const slips: IssuedCredential[] = [];
      for (let i = 0; i < count; i++) slips.push(await issueCredential(trx, this.#credDeps(), meetingId, 'slip'));
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId, event: AuditEvent.SLIPS_ISSUED, detail: { count } });
      return slips;
    });
  }

  /** A rehearsal credential: usable any number of times before voting opens, counted nowhere. */
  async issueRehearsal(actorId: number, meetingId: number): Promise<IssuedCredential> {
    const m = await this.#meeting(meetingId);
    assertGuard(canRehearse(m.state));
    return this.#d.db.transaction().execute(async (trx) => {
      const c = await issueCredential(trx, this.#credDeps(), meetingId, 'rehearsal');
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId, event: AuditEvent.REHEARSAL_ISSUED });
      return c;
    });
  }

  #credDeps() {
    return { pepper: this.#d.pepper, random: this.#d.random, baseUrl: this.#baseUrl };
  }
}
