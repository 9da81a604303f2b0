import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, type Transaction } from 'kysely';
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

/** Fold the WAL back into the main file and truncate it, so no old frames linger on disk. */
export function checkpointTruncate(sqlite: Database.Database): void {
  sqlite.pragma('wal_checkpoint(TRUNCATE)');
}
