import type { ServiceDeps } from '../services.ts';
import type { DbOrTrx } from '../db/database.ts';
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

/** Desk credentials are made at least this many at a time; the pool is refilled below POOL_LOW. */
const POOL_BATCH = 20;
const POOL_LOW = 5;

/** The sign-in sheet (签到表) and the credentials handed out at the desk. */
export class RosterService {
  readonly #d: ServiceDeps;
  readonly #ballots: BallotService;
  readonly #baseUrl: string;
  /** Unused desk credentials per meeting, secrets in memory only. */
  readonly #pool = new Map<number, IssuedCredential[]>();

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
    const [row] = await this.#d.db.transaction().execute(async (trx) => {
      await this.#assertRosterEditable(trx, meetingId);
      const ids = await repo.insertEntries(trx, meetingId, [input]);
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
    const parsed = await parseRosterFile(file.data, file.filename);
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
   * Sign a person in and hand out one ballot. With 'qr' a desk credential is taken at random from a
   * pool made earlier: the sign-in's own transaction writes no credential, so nothing stored — not a
   * row, not the order or the moment of a write — joins the entry to the credential shown to them.
   */
  async signIn(actorId: number, meetingId: number, entryId: number, handout: Handout): Promise<{ entry: RosterEntry; credential: IssuedCredential | null }> {
    // Top the pool up before the sign-in, never in its transaction.
    if (handout === 'qr') await this.#ensurePool(meetingId);
    await this.#d.db.transaction().execute(async (trx) => {
      const m = await findMeeting(trx, meetingId);
      if (!m) throw new DomainError('NOT_FOUND');
      assertGuard(canSignIn(m.state));
      const r = await repo.markSignedIn(trx, meetingId, entryId);
      if (r.numUpdatedRows !== 1n) {
        throw (await repo.findEntry(trx, meetingId, entryId)) ? new DomainError('ALREADY_SIGNED_IN') : new DomainError('NOT_FOUND');
      }
      await repo.countIssued(trx, meetingId);
      // The log records who signed in, never which kind of ballot they took: that could single out a paper ballot.
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId, event: AuditEvent.ATTENDEE_SIGNED_IN, detail: { entryId } });
    });
    const credential = handout === 'qr' ? await this.#handOut(meetingId) : null;
    await this.#ballots.publishTurnout(meetingId);
    return { entry: toEntry((await repo.findEntry(this.#d.db, meetingId, entryId))!), credential };
  }

  /**
   * Desk credentials are made in batches: enough for everyone on the roster not yet signed in (at least
   * POOL_BATCH), and again whenever the pool runs low. Their secrets live only in this process; after
   * a restart the unused rows are simply never handed out (they count nowhere: 发出 grows at sign-in).
   */
  async #ensurePool(meetingId: number): Promise<void> {
    const pool = this.#pool.get(meetingId) ?? [];
    if (pool.length >= POOL_LOW) return;
    const waiting = (await repo.listEntries(this.#d.db, meetingId)).filter((e) => !e.signed_in).length;
    const n = Math.max(POOL_BATCH, waiting + POOL_LOW);
    const made = await this.#d.db.transaction().execute(async (trx) => {
      const out: IssuedCredential[] = [];
      for (let i = 0; i < n; i++) out.push(await issueCredential(trx, this.#credDeps(), meetingId, 'desk'));
      return out;
    });
    this.#pool.set(meetingId, [...(this.#pool.get(meetingId) ?? []), ...made]);
  }

  async #handOut(meetingId: number): Promise<IssuedCredential> {
    // Many sign-ins at once can drain the pool between the top-up and here.
    if ((this.#pool.get(meetingId)?.length ?? 0) === 0) await this.#ensurePool(meetingId);
    const pool = this.#pool.get(meetingId)!;
    const i = this.#d.random(4).readUInt32BE(0) % pool.length;
    return pool.splice(i, 1)[0]!;
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

  /** The state check inside the write's own transaction, so a close in between cannot slip past it. */
  async #assertRosterEditable(trx: DbOrTrx, meetingId: number): Promise<void> {
    const m = await findMeeting(trx, meetingId);
    if (!m) throw new DomainError('NOT_FOUND');
    assertGuard(canEditRoster(m.state));
  }

  #credDeps() {
    return { pepper: this.#d.pepper, random: this.#d.random, baseUrl: this.#baseUrl };
  }
}
