import type { DbOrTrx } from '../db/database.ts';
import type { Form } from '../forms/form.schemas.ts';
import { recountBallots } from './recount.ts';
import { sumRows, type TallyRow } from './tally.ts';

/** Where a batch's live step gets a meeting's counts (ballot-box.ts). */
export interface LiveCounts {
  /** The counters as they will be once this transaction commits; `pending` are its ballots' increments. */
  stage(trx: DbOrTrx, meetingId: number, form: Form, pending: TallyRow[]): Promise<TallyRow[]>;
  /**
   * `stage` without a read: the counters with `pending`, or null when they are not in memory (the first
   * step after a start-up recounts). A batch's live step decided before its ballots' answers uses it.
   */
  stageKnown(meetingId: number, pending: TallyRow[]): TallyRow[] | null;
  /** The batch changed the counts but publishes no step. */
  note(trx: DbOrTrx, meetingId: number, form: Form, pending: TallyRow[]): Promise<void>;
  commit(): void;
  rollback(): void;
  forget(meetingId: number): void;
}

/**
 * A voting meeting's counters, kept in memory and grown by each batch of ballots, so a live step costs
 * what changed rather than a recount. The first time a meeting is needed (after a start-up) its stored
 * ballots are recounted, so the ballots stay the only source of truth; nothing about counters is written
 * to the file while voting (a counter growing in place would record which grades moved last).
 *
 * Inside a batch: `stage` gives the counters including the batch's own ballots; `commit` keeps them
 * once the batch is durable, `rollback` drops them. Right only while this process writes every ballot.
 */
export class RunningTally implements LiveCounts {
  readonly #committed = new Map<number, TallyRow[]>();
  readonly #staged = new Map<number, TallyRow[]>();

  async stage(trx: DbOrTrx, meetingId: number, form: Form, pending: TallyRow[]): Promise<TallyRow[]> {
    const known = this.stageKnown(meetingId, pending);
    if (known) return known;
    // Not loaded yet: recount inside the transaction, which already holds this batch's ballots.
    const rows = await recountBallots(trx, meetingId, form);
    this.#staged.set(meetingId, rows);
    return rows;
  }

  stageKnown(meetingId: number, pending: TallyRow[]): TallyRow[] | null {
    const committed = this.#committed.get(meetingId);
    if (!committed) return null;
    const rows = sumRows([...committed, ...pending]);
    this.#staged.set(meetingId, rows);
    return rows;
  }

  async note(trx: DbOrTrx, meetingId: number, form: Form, pending: TallyRow[]): Promise<void> {
    await this.stage(trx, meetingId, form, pending);
  }

  commit(): void {
    for (const [id, rows] of this.#staged) this.#committed.set(id, rows);
    this.#staged.clear();
  }

  rollback(): void {
    this.#staged.clear();
  }

  forget(meetingId: number): void {
    this.#committed.delete(meetingId);
  }
}

/**
 * Several server processes on one PostgreSQL database each see only their own ballots go by, so a live
 * step recounts the meeting's stored ballots inside the batch's transaction (which holds the meeting's
 * row, so no other process adds a ballot meanwhile). A step comes at most every k ballots.
 */
export class RecountingTally implements LiveCounts {
  stage(trx: DbOrTrx, meetingId: number, form: Form): Promise<TallyRow[]> {
    return recountBallots(trx, meetingId, form);
  }

  stageKnown(): null {
    return null;
  }
  async note(): Promise<void> {}
  commit(): void {}
  rollback(): void {}
  forget(): void {}
}
