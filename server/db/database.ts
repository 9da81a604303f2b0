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
 * - a rollback journal truncated at every commit, with synchronous=FULL: an acknowledged commit
 *   survives power loss, and no file keeps older commits (a write-ahead log would hold the page images
 *   of every commit since its last checkpoint, in cast order);
 * - secure_delete, so rewritten or deleted pages do not keep old bytes;
 * - foreign keys on.
 * One connection serves the whole process, so a rollback journal costs no concurrency here. Another
 * process reading the file (a sqlite3 shell) makes writes wait up to busy_timeout: do not, during a meeting.
 */
export function openDatabase(file: string): OpenedDatabase {
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = TRUNCATE');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('secure_delete = ON');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: sqlite }) });
  return { db, sqlite, file };
}
