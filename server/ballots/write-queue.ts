import { setImmediate as nextTurn } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import type { Db } from '../db/database.ts';
import { beginBatch, isDatabaseUnavailable, isRetryable, isThreadLost, wasNotSent, type DialectName } from '../db/dialect.ts';
import type { DB } from '../db/schema.ts';
import { DomainError } from '../errors.ts';

/** The database connection a batch holds, inside its transaction. */
export type Tx = Kysely<DB>;

type Work<T> = (tx: Tx) => T | Promise<T>;

export const MAX_BATCH = 128;
/**
 * How long a batch runs jobs before it lets the event loop take new connections and requests. Per job
 * was too often: in a hall burst each turn of the loop takes milliseconds (new connections, bodies to
 * parse), so a batch of 128 yielding after every job spent a second in turns before its commit, and
 * every phone in it waited for that (bench/README.md, "The hall burst").
 */
export const SLICE_MS = 4;
/** A batch PostgreSQL aborted to break a deadlock between server processes is run again, this many times in all. */
const MAX_ATTEMPTS = 5;

interface Job {
  work: Work<unknown>;
  /** Started without waiting for the job before it to settle (see run). */
  pipelined: boolean;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export interface WriteQueueHooks {
  /**
   * Begins the batch's transaction by sending BEGIN at once, in order before anything the batch sends
   * after it (CastWriter.begin), so the first jobs need not wait for its answer. Without it the batch
   * awaits a BEGIN sent through Kysely first.
   */
  begin?: () => Promise<void> | void;
  /**
   * A batch of pipelined jobs only (casts): called once every job has begun, in the same turn, before any
   * of their answers. It may send the batch's end right behind them (BallotBox: CastWriter.commitIf, a
   * live step decided in advance) and give back whether that committed; null when it sent nothing. Not
   * committed: the batch goes on as any other, beforeCommit and commit.
   */
  commitEarly?: (jobs: number) => Promise<boolean> | null;
  /** Runs inside the batch's transaction after every job, before the commit (not after a commitEarly that committed). */
  beforeCommit?: (tx: Tx) => Promise<void> | void;
  /**
   * Commits the batch's transaction, with whatever beforeCommit left to be written with the COMMIT
   * (CastWriter.commit: one request for both). Without it, a COMMIT through Kysely.
   */
  commit?: () => Promise<void> | void;
  /** Runs after a successful commit, before the replies are released. */
  afterCommit?: () => void;
  /** Runs when the batch's transaction was rolled back (nothing of it was written). */
  afterRollback?: () => void;
  /** Milliseconds of jobs between two yields to the event loop (SLICE_MS; tests set it). */
  sliceMs?: number;
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
 * Every few milliseconds of jobs (SLICE_MS) the batch yields to the event loop, so a new connection is
 * accepted and answered in milliseconds however long the queue (the transaction simply stays open
 * meanwhile).
 *
 * On PostgreSQL several server processes write at once, so a check can pass on what another process is
 * about to change: each job there runs in its own savepoint, and a refusal rolls back what the job wrote
 * (SQLite, one connection in one process, needs none). A batch PostgreSQL aborts to break a deadlock with
 * another process's batch is run again from its first job.
 */
export class WriteQueue {
  readonly #db: Db;
  readonly #dialect: DialectName;
  readonly #hooks: WriteQueueHooks;
  #pending: Job[] = [];
  #running = false;
  #idle: Promise<void> = Promise.resolve();
  #batches = 0;

  constructor(db: Db, hooks: WriteQueueHooks = {}, dialect: DialectName = 'sqlite') {
    this.#db = db;
    this.#dialect = dialect;
    this.#hooks = hooks;
  }

  /** How many transactions have been committed (the benchmark reads it to show batching). */
  get batches(): number {
    return this.#batches;
  }

  /**
   * Queue `work` for the next batch. `pipelined`: the job's whole check-then-write is one request to the
   * database (the cast's, on SQLite's database thread), so the batch sends it without waiting for the
   * job before it to settle; the requests still run in queue order, one at a time, on the one connection.
   * A job that is not pipelined waits for every job before it. On PostgreSQL (a savepoint per job) every
   * job waits.
   */
  run<T>(work: Work<T>, o: { pipelined?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ work: work as Work<unknown>, pipelined: o.pipelined ?? false, resolve: resolve as (v: unknown) => void, reject });
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
      let first = true;
      while (this.#pending.length > 0) {
        // After a commit, one turn of the event loop before the next batch: the requests already read
        // from their sockets by then join it, instead of waiting for a batch of the few that came first.
        if (!first && this.#pending.length < MAX_BATCH) await nextTurn();
        first = false;
        // A cap keeps one reply from waiting on thousands of others.
        const batch = this.#pending.splice(0, MAX_BATCH);
        await this.#runBatch(batch);
      }
    } finally {
      this.#running = false;
    }
  }

  async #runBatch(batch: Job[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const r = await this.#attempt(batch);
      if (r.ok) {
        this.#hooks.afterCommit?.();
        batch.forEach((job, i) => {
          const o = r.outcomes[i]!;
          if (o.ok) job.resolve(o.value);
          else job.reject(o.error);
        });
        return;
      }
      this.#hooks.afterRollback?.();
      if (attempt < MAX_ATTEMPTS && isRetryable(r.error)) continue;
      for (const job of batch) job.reject(r.error);
      return;
    }
  }

  /**
   * The commitEarly hook, for a batch of pipelined jobs only, called after every job has begun: their
   * first steps were queued as promise callbacks before this one. Its answer is awaited after the jobs
   * settle, or not at all when one failed (then it never committed: the thread refuses to commit a
   * transaction one of whose writes failed).
   */
  async #commitEarly(batch: Job[], savepoints: boolean): Promise<{ early: Promise<boolean> | null }> {
    const hook = this.#hooks.commitEarly;
    if (!hook || savepoints || !batch.every((job) => job.pipelined)) return { early: null };
    // Wrapped: an async function returning the promise itself would wait for the COMMIT's answer.
    const sent = await Promise.resolve().then(() => ({ early: hook(batch.length) }));
    sent.early?.catch(() => undefined);
    return sent;
  }

  async #attempt(batch: Job[]): Promise<{ ok: true; outcomes: Outcome[] } | { ok: false; error: unknown }> {
    const outcomes: Outcome[] = [];
    const savepoints = this.#dialect === 'postgres';
    let failure: { error: unknown } | null = null;
    let committing = false;
    await this.#db
      .connection()
      .execute(async (tx) => {
        const begin = this.#hooks.begin;
        // A BEGIN sent without waiting is settled with the pipelined jobs, before anything else is sent.
        const begun = begin ? (async () => begin())() : null;
        if (!begun) await beginBatch(this.#dialect).execute(tx);
        try {
          const sliceMs = this.#hooks.sliceMs ?? SLICE_MS;
          let sliceStart = performance.now();
          // Pipelined jobs under way: each settles its own outcome; the first other error fails the batch.
          let inFlight: Promise<void>[] = begun ? [begun] : [];
          // Every one of them settles before anything else is sent (a failed batch included: none may go on
          // writing after its ROLLBACK).
          const settle = async () => {
            const all = inFlight;
            inFlight = [];
            const failed = (await Promise.allSettled(all)).find((r) => r.status === 'rejected');
            if (failed) throw failed.reason;
          };
          for (const [i, job] of batch.entries()) {
            if (performance.now() - sliceStart >= sliceMs) {
              await nextTurn();
              sliceStart = performance.now();
            }
            if (job.pipelined && !savepoints) {
              inFlight.push(
                Promise.resolve()
                  .then(() => job.work(tx))
                  .then(
                    (value) => void (outcomes[i] = { ok: true, value }),
                    (error: unknown) => {
                      if (!(error instanceof DomainError)) throw error;
                      outcomes[i] = { ok: false, error };
                    },
                  ),
              );
              continue;
            }
            await settle();
            if (savepoints) await sql`savepoint job`.execute(tx);
            try {
              outcomes[i] = { ok: true, value: await job.work(tx) };
              if (savepoints) await sql`release savepoint job`.execute(tx);
            } catch (error) {
              if (!(error instanceof DomainError)) throw error;
              if (savepoints) await sql`rollback to savepoint job`.execute(tx);
              outcomes[i] = { ok: false, error };
            }
          }
          // Behind a batch of casts only, perhaps its end at once (one round trip for the batch, not two).
          const { early } = await this.#commitEarly(batch, savepoints);
          if (early) committing = true;
          await settle();
          if (early && (await early)) {
            this.#batches++;
            return;
          }
          committing = false;
          await this.#hooks.beforeCommit?.(tx);
          committing = true;
          if (this.#hooks.commit) await this.#hooks.commit();
          else await sql`commit`.execute(tx);
          this.#batches++;
        } catch (error) {
          // The COMMIT was sent and the connection broke (or the database thread stopped) before its
          // answer: whether it took is unknown.
          const unknown =
            committing &&
            (isThreadLost(error) || (this.#dialect === 'postgres' && isDatabaseUnavailable(error) && !isRetryable(error) && !wasNotSent(error)));
          failure = { error: unknown ? commitUnknown() : error };
          await sql`rollback`.execute(tx).catch(() => undefined);
        }
      })
      .catch((error: unknown) => {
        // The connection could not be had, or BEGIN failed: nothing was written.
        failure ??= { error };
      });
    return failure ? { ok: false, error: (failure as { error: unknown }).error } : { ok: true, outcomes };
  }
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * The connection to PostgreSQL broke (or SQLite's database thread stopped) while the COMMIT was under
 * way: the batch may have been made durable before the reply was lost, or not. The usual DATABASE_UNAVAILABLE says nothing was saved, which
 * is not known here: a desk that believed it could enter a paper ballot twice. A phone's re-send is safe
 * either way (the same token and package: "already recorded", or recorded now).
 */
function commitUnknown(): DomainError {
  return new DomainError(
    'DATABASE_UNAVAILABLE',
    '与数据库的连接在保存的最后一刻中断，本次操作可能已经保存，也可能没有。请稍后重试：投票重新提交不会重复计票；其他操作请先刷新页面，查看是否已经生效',
  );
}
