import type { Transaction } from 'kysely';
import type { Db } from '../db/database.ts';
import type { DB } from '../db/schema.ts';

type Work<T> = (trx: Transaction<DB>) => Promise<T>;

export const MAX_BATCH = 128;

interface Job {
  work: Work<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export interface WriteQueueHooks {
  /** Runs inside the batch's transaction after every job, before the commit. */
  beforeCommit?: (trx: Transaction<DB>) => Promise<void>;
  /** Runs after a successful commit, before the replies are released. */
  afterCommit?: () => void;
  /** Runs when the batch's transaction was rolled back (nothing of it was written). */
  afterRollback?: () => void;
}

/**
 * Group commit for casts. Jobs that arrive while a batch is being written wait for the next batch; a
 * batch is one transaction (one fsync under synchronous=FULL) and each job runs in its own savepoint,
 * so one refused ballot rolls back only itself. A job's promise settles only after its batch commits.
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

  /** Resolves once every job queued so far has settled. */
  async flush(): Promise<void> {
    while (this.#running) await this.#idle;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        // A cap keeps one reply from waiting on thousands of others: 128 savepoints commit in well under a second.
        const batch = this.#pending.splice(0, MAX_BATCH);
        await this.#runBatch(batch);
      }
    } finally {
      this.#running = false;
    }
  }

  async #runBatch(batch: Job[]): Promise<void> {
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    let trx;
    try {
      trx = await this.#db.startTransaction().execute();
    } catch (error) {
      for (const job of batch) job.reject(error);
      return;
    }
    try {
      for (const [i, job] of batch.entries()) {
        const name = `job${i}`;
        const sp = await trx.savepoint(name).execute();
        try {
          const value = await job.work(sp);
          await sp.releaseSavepoint(name).execute();
          outcomes.push({ ok: true, value });
        } catch (error) {
          await sp.rollbackToSavepoint(name).execute();
          await sp.releaseSavepoint(name).execute();
          outcomes.push({ ok: false, error });
        }
      }
      await this.#hooks.beforeCommit?.(trx);
      await trx.commit().execute();
      this.#batches++;
    } catch (error) {
      // Nothing of this batch was written: every job in it is refused, none is acknowledged.
      await trx.rollback().execute().catch(() => undefined);
      this.#hooks.afterRollback?.();
      for (const job of batch) job.reject(error);
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
