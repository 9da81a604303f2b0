import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import type { MeetingState } from '../db/schema.ts';

/**
 * The SQLite writes of one phone ballot, on prepared statements, wherever the connection lives: on the
 * main thread (tests in one process, `openSqliteStore(file)`), or on the database thread
 * (`sqlite.worker.ts`, what `npm start` runs) where the main thread reaches them by one message per
 * ballot. Plain data in, plain data out, so the same function serves both. Kysely would build, compile
 * and prepare each statement anew for every ballot.
 */

/** What a phone ballot writes (everything already checked, hashed and encoded on the main thread). */
export interface CastRow {
  meetingId: number;
  nullifier: string;
  retryCheck: string;
  receiptHash: string;
  /** The package as the slot's bytes (the meeting's fixed size). */
  body: Uint8Array;
}

/**
 * What a batch's live step reads of each meeting it wrote to, inside the batch: the counters and the
 * turnout, and the form (kept parsed by the ballot box while it stays the same). Not the meeting's whole
 * row: its snapshot and results grow with the form, and on the database thread every byte of a reply is
 * copied to the main thread.
 */
export const LIVE_ROW_SQL = `select id, state, live_k, cast_count, paper_count, issued_count, paper_issued, reissued_count, snapshot_count, form_json,
  (select count(*) from roster_entries r where r.meeting_id = meetings.id) as roster_size,
  (select count(*) from roster_entries r where r.meeting_id = meetings.id and r.signed_in = 1) as signed_in
  from meetings where id = `;

export interface LiveRow {
  id: number;
  state: MeetingState;
  live_k: number;
  cast_count: number;
  paper_count: number;
  issued_count: number;
  paper_issued: number;
  reissued_count: number;
  snapshot_count: number;
  form_json: string | null;
  roster_size: number;
  signed_in: number;
}

/**
 * A live step's snapshot, written with its batch's COMMIT (CastWriter.commit): the meeting's row takes it
 * only if no other step was taken since the one it was decided against (`lastPhone`, what the row held).
 */
export interface SnapshotWrite {
  meetingId: number;
  lastPhone: number;
  phone: number;
  json: string;
}

/**
 * - written: counted, the slot filled, the token spent, the receipt kept;
 * - spent: the token was spent already (nothing written): its retry check, to tell a lost reply from a reuse;
 * - refused: not counted (nothing written): the meeting's state and counters, to say why.
 */
/**
 * What a batch that only cast expects a meeting's live row to read after its ballots, every field but the
 * form (frozen from sign-in on): the row its live step was decided against before the ballots' answers
 * came (CastWriter.commitIf).
 */
export type ExpectedLiveRow = Omit<LiveRow, 'form_json'>;


export type CastOutcome =
  | { kind: 'written' }
  | { kind: 'spent'; retryCheck: string | null }
  | { kind: 'refused'; counters: { state: string; cast_count: number; issued_count: number } | null };

export class CastStatements {
  readonly #state: Statement<[number], { state: string; ballot_bytes: number }>;
  readonly #spent: Statement<[string], { retry_check: string | null }>;
  readonly #count: Statement<[number]>;
  readonly #why: Statement<[number], { state: string; cast_count: number; issued_count: number }>;
  readonly #free: Statement<[number], { id: number }>;
  readonly #fill: Statement<[Uint8Array, number, number]>;
  readonly #spend: Statement<[string, number, string]>;
  readonly #receipt: Statement<[string, number]>;
  readonly #live: Statement<[number], LiveRow>;
  readonly #publish: Statement<[string, number, number, number]>;
  readonly #sqlite: Database.Database;
  /** A ballot write of the open transaction failed (commitIf then never commits it). */
  #failed = false;

  constructor(sqlite: Database.Database) {
    this.#sqlite = sqlite;
    this.#state = sqlite.prepare('select state, ballot_bytes from meetings where id = ?');
    this.#spent = sqlite.prepare('select retry_check from spent_tokens where nullifier = ?');
    this.#count = sqlite.prepare("update meetings set cast_count = cast_count + 1 where id = ? and state = 'voting' and cast_count < issued_count");
    this.#why = sqlite.prepare('select state, cast_count, issued_count from meetings where id = ?');
    this.#free = sqlite.prepare('select id from ballots where meeting_id = ? and filled = 0');
    this.#fill = sqlite.prepare('update ballots set filled = 1, body = ? where id = ? and meeting_id = ? and filled = 0');
    this.#spend = sqlite.prepare('insert into spent_tokens (nullifier, meeting_id, retry_check) values (?, ?, ?)');
    this.#receipt = sqlite.prepare('insert into receipts (receipt_hash, meeting_id) values (?, ?)');
    this.#live = sqlite.prepare(`${LIVE_ROW_SQL}?`);
    this.#publish = sqlite.prepare('update meetings set snapshot_json = ?, snapshot_count = ? where id = ? and snapshot_count = ?');
  }

  /** The meeting's state and slot size (the state can change between casts). */
  meetingState(meetingId: number): { state: string; ballot_bytes: number } | undefined {
    return this.#state.get(meetingId);
  }

  /** What the live step reads (LIVE_ROW_SQL). */
  liveRow(meetingId: number): LiveRow | undefined {
    return this.#live.get(meetingId);
  }

  /** The keys of the meeting's empty slots. */
  freeSlots(meetingId: number): number[] {
    return this.#free.all(meetingId).map((r) => r.id);
  }

  /**
   * Write one phone ballot into `slot` (an empty slot the caller drew at random; null: the meeting has
   * none, which only a ballot that is refused anyway may meet): refuse a spent token,
   * count it within the ballots issued, fill the slot, spend the token, keep the receipt. Every check
   * comes before the first write, so a refusal writes nothing. Runs inside the batch's transaction.
   */
  write(b: CastRow, slot: number | null): CastOutcome {
    // A batch sends its BEGIN and its ballots without waiting in between (CastWriter.begin): a BEGIN that
    // failed must not leave a ballot written on its own, outside the batch's transaction.
    if (!this.#sqlite.inTransaction) throw new Error('a ballot outside a transaction (its batch did not begin)');
    try {
      return this.#write(b, slot);
    } catch (e) {
      // Perhaps half written: the batch rolls back, and a commitIf sent behind this ballot must not commit.
      this.#failed = true;
      throw e;
    }
  }

  #write(b: CastRow, slot: number | null): CastOutcome {
    const spent = this.#spent.get(b.nullifier);
    if (spent) return { kind: 'spent', retryCheck: spent.retry_check };
    if (this.#count.run(b.meetingId).changes !== 1) return { kind: 'refused', counters: this.#why.get(b.meetingId) ?? null };
    // Counted, so a ballot was issued and its slot made at issue: none left is a fault (the batch rolls back).
    if (slot === null) throw noEmptySlot(b.meetingId);
    if (this.#fill.run(b.body, slot, b.meetingId).changes !== 1) throw new Error(`meeting ${b.meetingId}: slot ${slot} was not empty`);
    this.#spend.run(b.nullifier, b.meetingId, b.retryCheck);
    this.#receipt.run(b.receiptHash, b.meetingId);
    return { kind: 'written' };
  }

  /**
   * The end of a batch: its live step's snapshots, then its COMMIT. Whether each snapshot was written (a
   * step taken meanwhile keeps the newer one). A statement that fails stops here, before the COMMIT: the
   * transaction stays open for the batch's ROLLBACK, and nothing of it is kept.
   */
  commit(snapshots: readonly SnapshotWrite[]): boolean[] {
    // A snapshot outside a transaction would be committed on its own, before the COMMIT failed.
    if (!this.#sqlite.inTransaction) throw new Error('a batch’s end outside a transaction');
    const written = snapshots.map((s) => this.#publish.run(s.json, s.phone, s.meetingId, s.lastPhone).changes === 1);
    this.#sqlite.exec('commit');
    return written;
  }

  /** Begin a batch's transaction (BEGIN IMMEDIATE: it will write). */
  begin(): void {
    this.#sqlite.exec('begin immediate');
    this.#failed = false;
  }

  /**
   * The end of a batch that only cast, sent behind its ballots before their answers came: commit (as
   * `commit`) only if every ballot write of the transaction succeeded and each meeting's live row now reads
   * exactly as `expect` says, the row the batch's live step and snapshots were decided against. Otherwise
   * nothing happens here and the transaction stays open: the batch takes its live step from the real row
   * and ends as any other (or rolls back).
   */
  commitIf(expect: readonly ExpectedLiveRow[], snapshots: readonly SnapshotWrite[]): { committed: false } | { committed: true; written: boolean[] } {
    if (!this.#sqlite.inTransaction || this.#failed) return { committed: false };
    for (const e of expect) {
      const row = this.#live.get(e.id);
      if (!row || (Object.keys(e) as (keyof ExpectedLiveRow)[]).some((f) => row[f] !== e[f])) return { committed: false };
    }
    return { committed: true, written: this.commit(snapshots) };
  }
}

/** A counted ballot found no empty slot: a fault (slots are made when ballots are issued), so its batch rolls back. */
export function noEmptySlot(meetingId: number): Error {
  return new Error(`meeting ${meetingId}: no empty ballot slot (slots are made at issue)`);
}

type MaybePromise<T> = T | Promise<T>;

/** The cast path's SQLite writes as the ballot box sees them: CastStatements here, or messages to the database thread. */
export interface CastWriter {
  /** Compile the statements now (the tables exist: after the migrations), not at the first ballot. */
  prepare(): void;
  /**
   * Begin the batch's transaction (BEGIN IMMEDIATE) on the connection the batch holds: sent (or run) before
   * this returns, so whatever is sent after it runs after it, and the batch's ballots need not wait for
   * its answer (a round trip to the database thread each batch). A write finds no transaction if it failed.
   */
  begin(): Promise<void> | void;
  /** Outside any batch: the meeting's state and slot size. */
  meetingState(meetingId: number): MaybePromise<{ state: string; ballot_bytes: number } | undefined>;
  /** Inside a batch: the meeting's empty slots. */
  freeSlots(meetingId: number): MaybePromise<number[]>;
  /** Inside a batch: what its live step reads of a meeting (LIVE_ROW_SQL). */
  liveRow(meetingId: number): MaybePromise<LiveRow | undefined>;
  /** Inside a batch: CastStatements.write. */
  write(b: CastRow, slot: number | null): MaybePromise<CastOutcome>;
  /**
   * The end of the batch: its snapshots and its COMMIT in one go (CastStatements.commit), so a batch that
   * publishes a step costs no request more than one that does not. Resolves after the commit is durable.
   */
  commit(snapshots: readonly SnapshotWrite[]): MaybePromise<boolean[]>;
  /**
   * The end of a batch that only cast, sent right behind its ballots (CastStatements.commitIf): one round
   * trip to the database thread for the whole batch instead of two. Not committed: the transaction is
   * still open.
   */
  commitIf(expect: readonly ExpectedLiveRow[], snapshots: readonly SnapshotWrite[]): MaybePromise<{ committed: false } | { committed: true; written: boolean[] }>;
}
