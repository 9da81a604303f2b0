import type { DbOrTrx } from '../db/database.ts';
import type { ServiceDeps } from '../deps.ts';
import { DomainError } from '../errors.ts';
import { safeEqual } from '../credentials/secrets.ts';
import type { Form } from '../forms/form.schemas.ts';
import { computeResults, type TallyRow } from '../counting/tally.ts';
import { recountBallots } from '../counting/recount.ts';
import { RecountingTally, RunningTally, type LiveCounts } from '../counting/running-tally.ts';
import { publishSnapshot, updateMeeting, type MeetingRow } from '../meetings/meetings.repository.ts';
import { formOf, turnoutOf } from '../meetings/meeting.view.ts';
import { shouldPublishSnapshot } from '../live/gate.ts';
import type { LiveHub } from '../live/live.hub.ts';
import type { LiveMessage, Snapshot } from '../live/live.schemas.ts';
import { SLOT_BATCH } from './slots.ts';
import { WriteQueue, type Tx } from './write-queue.ts';
import { noEmptySlot, type CastOutcome, type CastWriter, type ExpectedLiveRow, type LiveRow, type SnapshotWrite } from './cast-statements.ts';
import * as repo from './ballots.repository.ts';
import type { CastResponse } from './voter.schemas.ts';

/** A phone ballot, checked and encoded, ready to be written. */
export interface PhoneBallot {
  meetingId: number;
  nullifier: string;
  retryCheck: string;
  receipt: string;
  receiptHash: string;
  /** The package as the slot's bytes (the meeting's fixed size). */
  body: Buffer;
  increments: TallyRow[];
}

/**
 * The ballot box: every write that changes what is counted (a phone ballot, a confirmed paper ballot,
 * the close) goes through its one write queue, so they are ordered, grouped into shared transactions,
 * and the live step is decided inside the same transaction that changed the count.
 *
 * Ballots go into fixed-size slots made before they are needed and filled in place at a random empty
 * one (slots.ts), so nothing in the file follows the order they were cast in. On PostgreSQL, where each
 * row version carries its transaction's id and lands where the database puts it, every batch also
 * rewrites all the filled slots of the meetings it touched in a random order (ballots.repository.ts,
 * pgCast), and the live step is taken from a recount inside the batch, whose transaction holds the
 * meeting's row: several server processes then count, step and publish one tally.
 */
export class BallotBox {
  readonly #d: ServiceDeps;
  readonly #live: LiveHub;
  readonly #queue: WriteQueue;
  /** SQLite: the cast path's writes (cast-statements.ts), on whichever thread holds the connection. Null on PostgreSQL. */
  readonly #sql: CastWriter | null;
  readonly #tally: LiveCounts;
  /** Empty slots per meeting, loaded from the file when needed; dropped whenever slots are made. */
  readonly #free = new Map<number, number[]>();
  /** Slots handed to a cast still under way (casts are pipelined): offered to no other, left out of a fresh read. */
  readonly #reserved = new Map<number, Set<number>>();
  /** Casts waiting for a reserved slot to be settled (used, or offered again). */
  #released: (() => void)[] = [];
  /** A read of a meeting's empty slots under way, shared by every cast that needs it. */
  readonly #loading = new Map<number, Promise<void>>();
  /** Meetings changed by the batch being written: whether voting closed in it, and the ballots' increments. */
  #touched = new Map<number, { closing: boolean; increments: TallyRow[] }>();
  #outbox: LiveMessage[] = [];
  /** SQLite: the snapshots of the batch's live step, written with its COMMIT, each with the message that waits on it. */
  #snapshots: { write: SnapshotWrite; message: LiveMessage }[] = [];
  /** Each meeting's form as last parsed, with the text it came from: a batch parses it again only if the text changed. */
  readonly #forms = new Map<number, { json: string; form: Form }>();
  /**
   * SQLite: each meeting's live row as the last committed batch of this ballot box left it (what the next
   * batch's live step is decided against in advance, #commitEarly), and the rows of the batch under way.
   * Anything else that changes a meeting (a sign-in, paper) makes the row stale; the database thread
   * then refuses the early commit, and the batch takes its step from the real row.
   */
  readonly #rows = new Map<number, LiveRow>();
  #nextRows = new Map<number, LiveRow>();
  /** SQLite: the meeting and tally increments of each phone ballot of the batch under way whose write has been sent (dropped with the batch). */
  #sent: { meetingId: number; increments: TallyRow[] }[] = [];
  #early = 0;
  /** Random bytes for the slot draws (#draw), and how many of them are used. */
  #pool: Buffer = Buffer.alloc(0);
  #pooledAt = 0;

  constructor(deps: ServiceDeps, live: LiveHub) {
    this.#d = deps;
    this.#live = live;
    this.#sql = deps.store.dialect === 'sqlite' ? deps.store.cast : null;
    this.#sql?.prepare();
    this.#tally = this.#sql ? new RunningTally() : new RecountingTally();
    this.#queue = new WriteQueue(
      deps.db,
      {
        begin: this.#sql ? () => this.#sql!.begin() : undefined,
        commitEarly: this.#sql ? (jobs) => this.#commitEarly(this.#sql!, jobs) : undefined,
        beforeCommit: (tx) => this.#takeLiveStep(tx),
        commit: this.#sql ? () => this.#commit(this.#sql!) : undefined,
        afterCommit: () => {
          this.#tally.commit();
          for (const [id, row] of this.#nextRows) this.#rows.set(id, row);
          this.#nextRows = new Map();
          // An early commit took the batch's step before its ballots' answers touched their meetings.
          this.#touched = new Map();
          this.#sent = [];
          for (const m of this.#outbox) this.#live.deliver(m);
          this.#outbox = [];
        },
        afterRollback: () => {
          this.#tally.rollback();
          this.#touched = new Map();
          this.#outbox = [];
          this.#snapshots = [];
          this.#nextRows = new Map();
          this.#rows.clear();
          this.#sent = [];
          // A failed batch may have taken slots it did not fill: read them again from the file.
          this.#free.clear();
        },
      },
      deps.store.dialect,
    );
  }

  get commits(): number {
    return this.#queue.batches;
  }

  /** Of those, the batches ended by an early commit (#commitEarly): one round trip to the database thread. */
  get earlyCommits(): number {
    return this.#early;
  }

  /** Writes waiting for the next batch. */
  get waiting(): number {
    return this.#queue.waiting;
  }

  flush(): Promise<void> {
    return this.#queue.flush();
  }

  /** The meeting's state and slot size (one prepared read; the state can change between casts). */
  meetingState(meetingId: number): { state: string; ballot_bytes: number } | undefined | Promise<{ state: string; ballot_bytes: number } | undefined> {
    return this.#sql ? this.#sql.meetingState(meetingId) : repo.pgCast.meetingState(this.#d.db, meetingId);
  }

  /**
   * Write one phone ballot: refuse a spent token (or answer a lost reply again), count it within the
   * ballots issued, fill a random empty slot, spend the token, keep the receipt. Checks come before
   * writes, so a refusal writes nothing. Resolves after the commit.
   */
  recordPhone(b: PhoneBallot): Promise<CastResponse> {
    const sql = this.#sql;
    if (!sql) return this.#queue.run((tx) => this.#recordPhoneOnPostgres(tx, b));
    // Pipelined: the whole check-then-write is one request, so a batch sends them all without waiting.
    return this.#queue.run(async () => {
      const r = await this.#writeInRandomSlot(sql, b.meetingId, (slot) => {
        const written = sql.write(b, slot);
        this.#sent.push({ meetingId: b.meetingId, increments: b.increments });
        return written;
      });
      if (r.kind === 'spent') {
        // A lost reply: the same token and the same package get the same receipt back.
        if (r.retryCheck !== null && safeEqual(r.retryCheck, b.retryCheck)) return { receipt: b.receipt, alreadyRecorded: true, rehearsal: false };
        throw new DomainError('TOKEN_USED');
      }
      if (r.kind === 'refused') throw this.#countRefusal(r.counters ?? undefined);
      this.touch(b.meetingId, { increments: b.increments });
      return { receipt: b.receipt, alreadyRecorded: false, rehearsal: false };
    }, { pipelined: true });
  }

  /**
   * The same on PostgreSQL, in the job's savepoint: the token is spent first (the database lets one of
   * two processes spend it), and a refusal after that rolls the spend back with the savepoint.
   */
  async #recordPhoneOnPostgres(tx: Tx, b: PhoneBallot): Promise<CastResponse> {
    if (!(await repo.pgCast.spend(tx, b.nullifier, b.meetingId, b.retryCheck))) {
      const spent = await repo.pgCast.spent(tx, b.nullifier);
      if (spent?.retry_check != null && safeEqual(spent.retry_check, b.retryCheck)) return { receipt: b.receipt, alreadyRecorded: true, rehearsal: false };
      throw new DomainError('TOKEN_USED');
    }
    if (!(await repo.pgCast.countPhoneBallot(tx, b.meetingId))) throw this.#countRefusal(await repo.pgCast.counters(tx, b.meetingId));
    await this.#fillRandomSlotOnPostgres(tx, b.meetingId, b.body);
    await repo.pgCast.addReceipt(tx, b.receiptHash, b.meetingId);
    this.touch(b.meetingId, { increments: b.increments });
    return { receipt: b.receipt, alreadyRecorded: false, rehearsal: false };
  }

  /** Any other write that changes what is counted (a paper confirmation, the close), in the same queue. */
  run<T>(work: (tx: Tx) => T | Promise<T>): Promise<T> {
    return this.#queue.run(work);
  }

  /** Inside a queue job: put an already counted ballot (paper) into a random empty slot. */
  async fillSlot(tx: Tx, meetingId: number, body: Buffer, increments: TallyRow[]): Promise<void> {
    if (this.#sql) await this.#fillRandomSlot(tx, meetingId, body);
    else await this.#fillRandomSlotOnPostgres(tx, meetingId, body);
    this.touch(meetingId, { increments });
  }

  /** Inside a queue job: the meeting changed (a ballot, or the close) and its live step is due. */
  touch(meetingId: number, change: { closing?: boolean; increments?: TallyRow[] }): void {
    const t = this.#touched.get(meetingId) ?? { closing: false, increments: [] };
    if (change.closing) t.closing = true;
    if (change.increments) t.increments.push(...change.increments);
    this.#touched.set(meetingId, t);
  }

  /**
   * Make empty slots so that every ballot still out has one, inside the transaction that issues a ballot
   * (sign-in, 补发). Slots are made in batches and filled at random, so when a slot was made says nothing
   * about whose ballot fills it.
   */
  async provisionSlots(trx: DbOrTrx, meetingId: number): Promise<void> {
    const m = await trx.selectFrom('meetings').select(['issued_count', 'cast_count', 'ballot_bytes']).where('id', '=', meetingId).executeTakeFirst();
    if (!m || m.ballot_bytes <= 0) return;
    const free = await repo.countFreeSlots(trx, meetingId);
    const missing = m.issued_count - m.cast_count - free;
    if (missing <= 0) return;
    const ids = Array.from({ length: Math.max(SLOT_BATCH, missing) }, () => Number(this.#d.random(8).readBigUInt64BE() >> 11n));
    await repo.insertEmptySlots(trx, meetingId, [...new Set(ids)], m.ballot_bytes);
    // The next ballot chooses among all empty slots, these included (never the older ones first).
    this.#free.delete(meetingId);
  }

  /** After the close: nothing of the meeting's voting stays in memory. */
  forgetMeeting(meetingId: number): void {
    this.#tally.forget(meetingId);
    this.#free.delete(meetingId);
    this.#reserved.delete(meetingId);
    this.#forms.delete(meetingId);
    this.#rows.delete(meetingId);
    // Unused random bytes say nothing of the draws made, but nothing of the voting need stay either.
    this.#pool.fill(0);
    this.#pooledAt = this.#pool.length;
  }

  /** formOf, without a JSON and schema parse in every batch (the form is frozen from sign-in on). */
  #formOf(m: Pick<MeetingRow, 'id' | 'form_json'>): Form | null {
    if (!m.form_json) return null;
    const kept = this.#forms.get(m.id);
    if (kept?.json === m.form_json) return kept.form;
    const form = formOf(m);
    if (form) this.#forms.set(m.id, { json: m.form_json, form });
    return form;
  }

  #countRefusal(m: { state: string } | undefined): DomainError {
    if (!m) return new DomainError('TOKEN_INVALID');
    if (m.state === 'draft' || m.state === 'signin') return new DomainError('VOTING_NOT_OPEN');
    if (m.state !== 'voting') return new DomainError('VOTING_CLOSED');
    return new DomainError('BALLOT_LIMIT');
  }

  /**
   * Draw a random empty slot of the meeting and hand it to `write`; the slot is used up only if the
   * ballot was written (a refusal writes nothing, and the slot is offered again). Until `write` settles
   * the slot is reserved: casts run pipelined, so others draw meanwhile.
   */
  async #writeInRandomSlot(sql: CastWriter, meetingId: number, write: (slot: number | null) => CastOutcome | Promise<CastOutcome>): Promise<CastOutcome> {
    let free = this.#free.get(meetingId) ?? [];
    let read = false;
    while (free.length === 0) {
      // Every empty slot may be promised to casts still under way, some of which may be refused in the
      // end (the same token sent again): wait for them before concluding there is none. The casts that
      // share one read of the file draw from it in turn, so after it the same holds again.
      if ((this.#reserved.get(meetingId)?.size ?? 0) > 0) await new Promise<void>((resolve) => this.#released.push(resolve));
      else if (!read) {
        await this.#freeSlots(sql, meetingId);
        read = true;
      } else break;
      free = this.#free.get(meetingId) ?? [];
    }
    // None: `write` refuses before it needs one (a meeting not voting, or every ballot issued returned), or fails.
    let slot: number | null = null;
    if (free.length > 0) {
      const i = this.#draw() % free.length;
      slot = free[i]!;
      free[i] = free[free.length - 1]!;
      free.pop();
      let reserved = this.#reserved.get(meetingId);
      if (!reserved) this.#reserved.set(meetingId, (reserved = new Set()));
      reserved.add(slot);
    }
    let written = false;
    try {
      const r = await write(slot);
      written = r.kind === 'written';
      return r;
    } finally {
      if (slot !== null) {
        this.#reserved.get(meetingId)?.delete(slot);
        // Not filled: offered again (unless a fresh read of the file has it already).
        const now = this.#free.get(meetingId);
        if (!written && now && !now.includes(slot)) now.push(slot);
        const waiting = this.#released;
        this.#released = [];
        for (const wake of waiting) wake();
      }
    }
  }

  /** Read the meeting's empty slots into the kept list: one read, shared by every cast that found the list empty. */
  #freeSlots(sql: CastWriter, meetingId: number): Promise<void> {
    let loading = this.#loading.get(meetingId);
    if (!loading) {
      loading = Promise.resolve(sql.freeSlots(meetingId))
        .then((ids) => {
          const reserved = this.#reserved.get(meetingId);
          const list = reserved && reserved.size > 0 ? ids.filter((id) => !reserved.has(id)) : ids;
          this.#free.set(meetingId, list);
        })
        .finally(() => this.#loading.delete(meetingId));
      this.#loading.set(meetingId, loading);
    }
    return loading;
  }

  /** Inside a queue job: a paper ballot (already counted) into a random empty slot. */
  async #fillRandomSlot(tx: Tx, meetingId: number, body: Buffer): Promise<void> {
    await this.#writeInRandomSlot(this.#sql!, meetingId, async (slot) => {
      if (slot === null) throw noEmptySlot(meetingId);
      const r = await repo.fillSlot(tx, meetingId, slot, body);
      if (r.numUpdatedRows !== 1n) throw new Error(`meeting ${meetingId}: slot ${slot} was not empty`);
      return { kind: 'written' };
    });
  }

  async #fillRandomSlotOnPostgres(tx: Tx, meetingId: number, body: Buffer): Promise<void> {
    const slot = await repo.pgCast.fillRandomSlot(tx, meetingId, body, this.#seed());
    if (slot === null) throw noEmptySlot(meetingId);
  }

  /**
   * 32 random bits for a slot draw, from a pool of the process's random source filled 1 KB at a time: a
   * call to the source costs more than the rest of the draw (bench/README.md, 11-30).
   */
  #draw(): number {
    if (this.#pooledAt + 4 > this.#pool.length) {
      this.#pool = this.#d.random(1024);
      this.#pooledAt = 0;
    }
    const n = this.#pool.readUInt32BE(this.#pooledAt);
    // A draw's bytes do not stay behind: with the free slots they would tell which slot each recent cast took.
    this.#pool.fill(0, this.#pooledAt, this.#pooledAt + 4);
    this.#pooledAt += 4;
    return n;
  }

  /** A fresh random order for the database to sort by (md5 of a row's key and this). */
  #seed(): string {
    return this.#d.random(16).toString('hex');
  }

  /**
   * SQLite: the batch's snapshots and its COMMIT, one request. A snapshot is published only if it was
   * written: only if the step it was decided against is still the last one (the decision is the database's).
   */
  async #commit(sql: CastWriter): Promise<void> {
    const pending = this.#snapshots;
    this.#snapshots = [];
    const written = await sql.commit(pending.map((p) => p.write));
    this.#published(pending, written);
  }

  /** After the COMMIT: the snapshots not written are not published, and the rows kept say which were. */
  #published(pending: { write: SnapshotWrite; message: LiveMessage }[], written: boolean[]): void {
    const dropped = new Set(pending.filter((_, i) => written[i] !== true).map((p) => p.message));
    if (dropped.size > 0) this.#outbox = this.#outbox.filter((message) => !dropped.has(message));
    pending.forEach(({ write }, i) => {
      const row = this.#nextRows.get(write.meetingId);
      if (written[i] === true && row) row.snapshot_count = write.phone;
    });
  }

  /**
   * SQLite, a batch of phone ballots only, once every one of them has been sent: decide the batch's live
   * step now, from each meeting's row as the last batch left it plus these ballots, and send its snapshots
   * and COMMIT right behind the ballots (CastWriter.commitIf), so the batch costs the database thread one
   * round trip, not two. The thread commits only if every ballot was written and each row reads exactly as
   * predicted; otherwise the step is taken again from the real row (#takeLiveStep). Null when it cannot be
   * decided in advance (a meeting not seen since the start, a count not in memory, a ballot still waiting
   * for its slot).
   */
  #commitEarly(sql: CastWriter, jobs: number): Promise<boolean> | null {
    if (this.#sent.length !== jobs) return null;
    const byMeeting = new Map<number, { ballots: number; increments: TallyRow[] }>();
    for (const b of this.#sent) {
      const m = byMeeting.get(b.meetingId) ?? { ballots: 0, increments: [] };
      m.ballots++;
      m.increments.push(...b.increments);
      byMeeting.set(b.meetingId, m);
    }
    const expect: ExpectedLiveRow[] = [];
    const steps: { write: SnapshotWrite; message: LiveMessage }[] = [];
    const outbox: LiveMessage[] = [];
    const rows = new Map<number, LiveRow>();
    for (const [meetingId, { ballots, increments }] of byMeeting) {
      const before = this.#rows.get(meetingId);
      if (!before || before.state !== 'voting') return this.#notEarly();
      const m: LiveRow = { ...before, cast_count: before.cast_count + ballots };
      const form = this.#formOf(m);
      const counts = form && this.#tally.stageKnown(meetingId, increments);
      if (!form || !counts) return this.#notEarly();
      if (gateOf(m).publish) {
        const step = stepOf(m, form, counts);
        steps.push(step);
        outbox.push(step.message);
      }
      outbox.push(turnoutMessage(m));
      const { form_json: _form, ...expected } = m;
      expect.push(expected);
      rows.set(meetingId, m);
    }
    return Promise.resolve(sql.commitIf(expect, steps.map((p) => p.write))).then((r) => {
      if (!r.committed) {
        this.#notEarly();
        return false;
      }
      this.#early++;
      this.#outbox = outbox;
      this.#nextRows = rows;
      this.#published(steps, r.written);
      return true;
    });
  }

  /** Nothing of an early step is kept: the batch takes its step as any other. */
  #notEarly(): null {
    this.#tally.rollback();
    return null;
  }

  /** Inside the batch's transaction: take a new snapshot where the k-rule allows, and queue the messages. */
  async #takeLiveStep(tx: Tx): Promise<void> {
    this.#outbox = [];
    const touched = this.#touched;
    this.#touched = new Map();
    for (const [meetingId, { closing, increments }] of touched) {
      if (!this.#sql) {
        // Outside any job's savepoint, so the new versions carry the batch's own transaction id; at close
        // the receipts too, which otherwise keep the id of the job that wrote each (a subtransaction's).
        await repo.shuffleFilledSlots(tx, meetingId, this.#seed());
        if (closing) await repo.shuffleReceipts(tx, meetingId, this.#seed());
      }
      const m = this.#sql ? await this.#sql.liveRow(meetingId) : await repo.pgCast.liveRow(tx, meetingId);
      if (!m) continue;
      const form = this.#formOf(m);
      if (!form) continue;
      const { phone, publish } = gateOf(m);
      if (closing) {
        const results = computeResults(form, await recountBallots(tx, meetingId, form), turnoutOf(m));
        const snapshot: Snapshot = { count: m.cast_count, final: true, parts: results.parts };
        await updateMeeting(tx, meetingId, { snapshot_json: JSON.stringify(snapshot), snapshot_count: phone, results_json: JSON.stringify(results) });
        this.#outbox.push({ type: 'snapshot', meetingId, snapshot });
      } else if (publish) {
        const step = stepOf(m, form, await this.#tally.stage(tx, meetingId, form, increments));
        if (this.#sql) {
          // Written with the batch's COMMIT, in the same request (#commit).
          this.#snapshots.push(step);
          this.#outbox.push(step.message);
        } else if (await publishSnapshot(tx, meetingId, step.write)) {
          // Published only if the step it was decided against is still the last one: the decision is the database's.
          this.#outbox.push(step.message);
        }
      } else {
        await this.#tally.note(tx, meetingId, form, increments);
      }
      this.#outbox.push(turnoutMessage(m));
      // What the next batch's early step is decided against (its snapshot_count once this COMMIT says).
      if (this.#sql && !closing) this.#nextRows.set(meetingId, { ...m });
    }
    // The other server processes hear of it when (and only if) this transaction commits.
    for (const message of this.#outbox) await this.#live.announce(tx, message);
  }
}

/** The k-rule on a meeting's row after a batch: its phone ballots, and whether a step is due. */
function gateOf(m: LiveRow): { phone: number; publish: boolean } {
  const phone = m.cast_count - m.paper_count;
  const phoneOutstanding = m.issued_count - m.paper_issued - phone;
  // snapshot_count holds the phone ballots of the last snapshot: only they step the gate.
  return { phone, publish: shouldPublishSnapshot({ phone, lastPhone: m.snapshot_count, phoneOutstanding, k: m.live_k }) };
}

/**
 * A live step of the meeting whose row (after the batch) is `m`: the snapshot message, and its write, which
 * the meeting's row takes only if no other step was taken since the one in `m` (snapshot_count).
 */
function stepOf(m: LiveRow, form: Form, counts: TallyRow[]): { write: SnapshotWrite; message: LiveMessage } {
  const snapshot: Snapshot = { count: m.cast_count, final: false, parts: computeResults(form, counts, turnoutOf(m)).parts };
  const { phone } = gateOf(m);
  return { write: { meetingId: m.id, lastPhone: m.snapshot_count, phone, json: JSON.stringify(snapshot) }, message: { type: 'snapshot', meetingId: m.id, snapshot } };
}

function turnoutMessage(m: LiveRow): LiveMessage {
  return { type: 'turnout', meetingId: m.id, state: m.state, k: m.live_k, turnout: turnoutOf(m) };
}
