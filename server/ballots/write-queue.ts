import { setImmediate as nextTurn } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import type { Db } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { DomainError } from '../errors.ts';

/** The database connection a batch holds, inside its transaction. */
export type Tx = Kysely<DB>;

type Work<T> = (tx: Tx) => T | Promise<T>;

export const MAX_BATCH = 128;

interface Job {
  work: Work<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export interface WriteQueueHooks {
  /** Runs inside the batch's transaction after every job, before the commit. */
  beforeCommit?: (tx: Tx) => Promise<void> | void;
  /** Runs after a successful commit, before the replies are released. */
  afterCommit?: () => void;
  /** Runs when the batch's transaction was rolled back (nothing of it was written). */
  afterRollback?: () => void;
}

/**
 * Group commit. Jobs that arrive while a batch is being written wait for the next batch; a batch is one
 * transaction (one fsync under synchronous=FULL) on the connection it holds for its whole length, so no
 * other query runs in between. A job's promise settles only after its batch commits.
 *
 * A job refuses by throwing a DomainError *before it writes anything* (every job checks first, then
 * writes), so a refusal needs no savepoint and the batch goes on. Any other error means the job may have
 * written half of something: the whole batch rolls back and every job in it is refused, none acknowledged.
 *
 * Between jobs the batch yields to the event loop, so a new connection is accepted and answered in
 * milliseconds however long the queue (the transaction simply stays open meanwhile).
 */
export class WriteQueue {
  readonly #db: Db;
  readonly #hooks: WriteQueueHooks;
  #pending: Job[] = [];
  #running = false;
  #idle: Promise<void> = Promise.resolve();
  #batches = 0;

  constructor(db: Db, hooks: WriteQueueHooks = {}) {
    this.#db = db;
    this.#hooks = hooks;
  }

  /** How many transactions have been committed (the benchmark reads it to show batching). */
  get batches(): number {
    return this.#batches;
  }

  run<T>(work: Work<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ work: work as Work<unknown>, resolve: resolve as (v: unknown) => void, reject });
      if (!this.#running) {
        this.#running = true;
        // Let the requests that arrived in the same turn of the event loop join this batch.
        this.#idle = new Promise<void>((done) => setImmediate(() => void this.#drain().finally(done)));
      }
    });
  }

  /** Jobs waiting for the next batch (not the one being written). */
  get waiting(): number {
    return this.#pending.length;
  }

  /** Resolves once every job queued so far has settled. */
  async flush(): Promise<void> {
    while (this.#running) await this.#idle;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        // A cap keeps one reply from waiting on thousands of others.
        const batch = this.#pending.splice(0, MAX_BATCH);
        await this.#runBatch(batch);
      }
    } finally {
      this.#running = false;
    }
  }

  async #runBatch(batch: Job[]): Promise<void> {
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    let failure: { error: unknown } | null = null;
    await this.#db
      .connection()
      .execute(async (tx) => {
        await sql`begin immediate`.execute(tx);
        try {
          for (const [i, job] of batch.entries()) {
            if (i > 0) await nextTurn();
            try {
              outcomes.push({ ok: true, value: await job.work(tx) });
            } catch (error) {
              if (!(error instanceof DomainError)) throw error;
              outcomes.push({ ok: false, error });
            }
          }
          await this.#hooks.beforeCommit?.(tx);
          await sql`commit`.execute(tx);
          this.#batches++;
        } catch (error) {
          failure = { error };
          await sql`rollback`.execute(tx).catch(() => undefined);
        }
      })
      .catch((error: unknown) => {
        // The connection could not be had, or BEGIN failed: nothing was written.
        failure ??= { error };
      });
    if (failure) {
      this.#hooks.afterRollback?.();
      for (const job of batch) job.reject((failure as { error: unknown }).error);
      return;
    }
    this.#hooks.afterCommit?.();
    batch.forEach((job, i) => {
      const o = outcomes[i]!;
      if (o.ok) job.resolve(o.value);
      else job.reject(o.error);
    });
  }
}
