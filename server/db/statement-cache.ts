import type Database from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

/**
 * What Kysely's SQLite dialect sees instead of the better-sqlite3 connection: the same connection, but
 * `prepare(sql)` hands back the statement it compiled the last time it saw that SQL text. Kysely calls
 * `prepare` for every query it runs (begin, commit, the meeting's row, every report query…), and
 * compiling in SQLite costs more than running these small statements does (a profile of the year summary:
 * `prepare` 19 % of the CPU). This is the one statement cache of the process; PostgreSQL is not affected
 * (pg has no per-query prepare on the client).
 *
 * - Bounded: the `limit` most recently used SQL texts are kept (a Map in use order). Kysely puts values
 *   in parameters, so the app has a few hundred texts at most; a list of varying length (`in (?, ?)`) or
 *   `sql.raw` makes more, and the bound keeps those from growing the cache.
 * - A statement still iterating (Kysely's `stream()` uses `iterate`) is busy and cannot run again until
 *   its iterator ends: a query with the same SQL meanwhile gets a fresh statement of its own, not kept.
 * - Schema changes: SQLite recompiles a kept statement by itself when the schema changed under it
 *   (sqlite3_prepare_v3 statements; a flag pragma such as foreign_keys expires them too), and
 *   better-sqlite3 reads the columns at every run; what it froze at compile time (`reader`: whether the
 *   SQL returns rows) does not depend on the schema. Still, to be safe and to let go of statements on
 *   dropped tables, a statement that changes the schema or the connection (create, drop, alter, vacuum,
 *   pragma, attach, detach, reindex, analyze: migrations, the rebuild after close) is never kept, and
 *   preparing one empties the cache. Kysely runs a statement right after preparing it, synchronously, so
 *   nothing runs in between. (DDL run with `sqlite.exec`, outside Kysely, relies on SQLite alone.)
 * - A statement that failed keeps nothing: better-sqlite3 resets a statement after every run, error or not.
 * - `close()` drops the kept statements and closes the connection (Kysely's `destroy()` calls it).
 */
export class StatementCache implements SqliteDatabase {
  readonly #sqlite: Database.Database;
  readonly #limit: number;
  readonly #kept = new Map<string, Database.Statement>();
  /** Counters, for tests and the bench: cache hits, statements compiled, kept statements dropped for room. */
  readonly stats = { hits: 0, prepares: 0, evictions: 0, clears: 0 };

  constructor(sqlite: Database.Database, limit = 200) {
    if (!(limit >= 1)) throw new Error(`statement cache limit must be at least 1, not ${limit}`);
    this.#sqlite = sqlite;
    this.#limit = limit;
  }

  prepare(sql: string): Database.Statement {
    const kept = this.#kept.get(sql);
    if (kept !== undefined && !kept.busy) {
      this.stats.hits++;
      // Most recently used last: delete and set again moves it to the end of the Map's order.
      this.#kept.delete(sql);
      this.#kept.set(sql, kept);
      return kept;
    }
    this.stats.prepares++;
    const stmt = this.#sqlite.prepare(sql);
    if (CHANGES_SCHEMA.test(sql)) {
      this.clear();
      return stmt;
    }
    // Busy: the kept one stays kept (its iterator will end); this one is used once and left to the GC.
    if (kept !== undefined) return stmt;
    this.#kept.set(sql, stmt);
    if (this.#kept.size > this.#limit) {
      const oldest = this.#kept.keys().next().value as string;
      this.#kept.delete(oldest);
      this.stats.evictions++;
    }
    return stmt;
  }

  /** Forget every kept statement (each is finalized by better-sqlite3 when collected, or at close). */
  clear(): void {
    this.#kept.clear();
    this.stats.clears++;
  }

  /** How many statements are kept. */
  get size(): number {
    return this.#kept.size;
  }

  close(): void {
    this.#kept.clear();
    this.#sqlite.close();
  }
}

/** The first word of a statement that changes the schema or how the connection compiles statements. */
const CHANGES_SCHEMA = /^\s*(?:create|drop|alter|vacuum|pragma|attach|detach|reindex|analyze)\b/i;
