import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type Transaction } from 'kysely';
import type { DB } from './schema.ts';

export type Db = Kysely<DB>;
export type DbOrTrx = Kysely<DB> | Transaction<DB>;

export interface OpenedDatabase {
  db: Db;
  sqlite: Database.Database;
  file: string;
}

/**
 * Open the embedded SQLite file with the pragmas Ceping's guarantees depend on:
 * - WAL with synchronous=FULL, so an acknowledged commit survives power loss
 *   (better-sqlite3 leaves WAL at NORMAL, which can lose the last commits);
 * - secure_delete, so rewritten or deleted pages do not keep old bytes;
 * - foreign keys on.
 */
export function openDatabase(file: string): OpenedDatabase {
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('secure_delete = ON');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: sqlite }) });
  return { db, sqlite, file };
}

/**
 * After voting closes: rebuild the file (VACUUM), so pages follow the random keys rather than the
 * order rows were written in and no freed page keeps old bytes, then fold the WAL back and truncate it.
 * Runs on Kysely's connection, so no transaction is open meanwhile. Returns whether the WAL was
 * emptied (false when a reader, e.g. a backup, still held an old snapshot).
 */
export async function compactAfterClose(db: Db): Promise<boolean> {
  return db.connection().execute(async (conn) => {
    await sql`vacuum`.execute(conn);
    const r = await sql<{ busy: number; log: number; checkpointed: number }>`pragma wal_checkpoint(TRUNCATE)`.execute(conn);
    return r.rows[0]?.busy === 0;
  });
}
