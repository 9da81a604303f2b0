import { sql } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type { Db, Store } from './database.ts';
import { DomainError } from '../errors.ts';

/**
 * The rebuild after a meeting closes. VACUUM writes the whole file anew: pages then follow the random
 * keys, freed pages (the voting key, the nullifiers, the empty slots) are gone, and nothing is left of
 * the meeting's write history. It cannot run while another process holds a read lock on the file, so it
 * is retried until it succeeds, and at start-up for any meeting closed but not yet rebuilt (a crash
 * between the close and the rebuild). Seal, archive and download wait for it.
 *
 * On PostgreSQL the close's own batch has written the ballots and receipts anew in a random order; the
 * rebuild is VACUUM FULL of the voting tables: each is written into a new file holding only its live
 * rows (in that order), and the old file, with every dead row version (earlier places of the ballots,
 * the deleted nullifiers, keys and blinded hashes), is removed. It needs each table to itself for a
 * moment: when a lock is not had within a second it gives up and is retried, as on SQLite. VACUUM FULL
 * also copies every "recently dead" version that a snapshot still open in the same database might read:
 * a transaction of another connection begun before the close (a report, the live step, an ANALYZE by
 * autovacuum, an administrator's psql) would leave earlier places of the ballots in the new file. So the
 * rebuild first waits until nothing holds a transaction or snapshot begun before the close
 * (`horizonHolders`), up to `HORIZON_WAIT_MS`, and otherwise fails and is retried.
 * What it cannot reach is the server's write-ahead log and its archives (README, "Running on PostgreSQL").
 */
/** The tables a meeting's voting wrote to, rewritten on PostgreSQL after close. */
const VOTING_TABLES = ['ballots', 'receipts', 'spent_tokens', 'meeting_keys', 'tickets', 'paper_pending'] as const;

/** How long one attempt on PostgreSQL waits for older snapshots to end before it fails (and is retried). */
const HORIZON_WAIT_MS = 5000;

/**
 * What still holds PostgreSQL's cleanup horizon at or before the newest close waiting for its rebuild (the
 * xid that last wrote its meeting's row, the close's or younger): a session of this database whose
 * transaction or snapshot began before that close committed, a walsender carrying a standby's
 * hot_standby_feedback (no database), a replication slot's xmin, a prepared transaction. VACUUM FULL keeps
 * the versions such a holder may read, so the rebuild waits for them. Only columns every role can read of
 * other roles' sessions are used (a role without pg_read_all_stats sees no backend_type or query), so a
 * plain autovacuum VACUUM, which holds no horizon, is waited for too; it ends soon on these tables.
 * Exported for tests/pg/plain-role.test.ts, which checks it as a plain role against a superuser's session.
 */
export async function horizonHolders(conn: Db): Promise<string[]> {
  const r = await sql<{ holder: string }>`
    with close as (select min(age(xmin)) as a from meetings where state in ('closed', 'sealed') and compacted_at is null)
    select 'session ' || pid as holder from pg_stat_activity, close
      where (datname = current_database() or datname is null) and pid <> pg_backend_pid()
        and greatest(age(backend_xid), age(backend_xmin)) >= close.a
    union all
    select 'replication slot ' || slot_name from pg_replication_slots, close
      where (database = current_database() or database is null) and age(xmin) >= close.a
    union all
    select 'prepared transaction ' || gid from pg_prepared_xacts, close
      where database = current_database() and age(transaction) >= close.a`.execute(conn);
  return r.rows.map((x) => x.holder);
}

async function waitForHorizon(conn: Db, log: FastifyBaseLogger): Promise<void> {
  const until = Date.now() + HORIZON_WAIT_MS;
  for (;;) {
    const holders = await horizonHolders(conn);
    if (holders.length === 0) return;
    if (Date.now() > until) {
      log.warn({ holders }, 'the rebuild after close waits for what still holds transactions begun before the close (a session left in a transaction: end it, or set idle_in_transaction_session_timeout)');
      throw new Error(`${holders.join(', ')} still hold transactions begun before the close`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export class Compactor {
  readonly #db: Db;
  readonly #store: Store;
  readonly #log: FastifyBaseLogger;
  readonly #now: () => Date;
  readonly #retryMs: number;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<boolean> | null = null;
  #closed = false;

  constructor(store: Store, log: FastifyBaseLogger, now: () => Date, retryMs = 2000) {
    this.#store = store;
    this.#db = store.db;
    this.#log = log;
    this.#now = now;
    this.#retryMs = retryMs;
  }

  /**
   * Rebuild after `delayMs`, and keep trying until it succeeds. After a close the rebuild waits a
   * second, so the close's reply and the final live step go out first (the rebuild holds the process
   * for as long as it takes to write the file anew).
   */
  request(delayMs = 0): void {
    if (this.#closed || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.runNow().then((ok) => {
        if (!ok) this.request();
      });
    }, delayMs);
  }

  /** Whether any closed meeting still waits for its rebuild. */
  async due(): Promise<boolean> {
    const r = await this.#db
      .selectFrom('meetings')
      .select('id')
      .where('state', 'in', ['closed', 'sealed'])
      .where('compacted_at', 'is', null)
      .limit(1)
      .execute();
    return r.length > 0;
  }

  /** One attempt; true when every closed meeting is rebuilt. */
  runNow(): Promise<boolean> {
    this.#running ??= this.#attempt().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #attempt(): Promise<boolean> {
    try {
      // Inside the try: a database out of reach (PostgreSQL away, SQLite's thread stopped) is a failed
      // attempt to retry, not a rejection nobody handles (which would end the process).
      if (!(await this.due())) return true;
      await this.#db.connection().execute(async (conn) => {
        if (this.#store.dialect === 'postgres') {
          // Casts of other meetings wait behind the rebuild's lock: keep that wait short, retry instead.
          await waitForHorizon(conn, this.#log);
          await sql`set lock_timeout = 1000`.execute(conn);
          try {
            await sql.raw(`vacuum full ${VOTING_TABLES.join(', ')}`).execute(conn);
          } finally {
            await sql`reset lock_timeout`.execute(conn);
          }
        } else {
          // Never wait for a lock here: the event loop would stop with it. Fail and retry later instead.
          await sql`pragma busy_timeout = 0`.execute(conn);
          try {
            await sql`vacuum`.execute(conn);
          } finally {
            await sql`pragma busy_timeout = 5000`.execute(conn);
          }
        }
        await conn
          .updateTable('meetings')
          .set({ compacted_at: this.#now().toISOString() })
          .where('state', 'in', ['closed', 'sealed'])
          .where('compacted_at', 'is', null)
          .execute();
      });
      return true;
    } catch (err) {
      this.#log.warn({ err: { message: (err as Error).message } }, `rebuilding the database after close failed; retrying in ${this.#retryMs} ms`);
      await new Promise((r) => setTimeout(r, this.#retryMs).unref());
      return false;
    }
  }

  /** Seal, archive and download call this: the meeting's history must be gone first. */
  async ensure(meetingId: number): Promise<void> {
    const m = await this.#db.selectFrom('meetings').select(['state', 'compacted_at']).where('id', '=', meetingId).executeTakeFirst();
    if (!m || (m.state !== 'closed' && m.state !== 'sealed') || m.compacted_at !== null) return;
    if (!(await this.runNow())) {
      this.request();
      throw new DomainError('COMPACTING');
    }
  }

  /** Wait for a rebuild under way (shutdown). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }
}
