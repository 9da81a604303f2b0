import Database from 'better-sqlite3';

/**
 * Open the embedded SQLite file with the pragmas Ceping's guarantees depend on (on whichever thread
 * holds the connection: the main thread, or the database thread of sqlite.worker.ts):
 * - a rollback journal truncated at every commit, with synchronous=FULL: an acknowledged commit
 *   survives power loss, and no file keeps older commits (a write-ahead log would hold the page images
 *   of every commit since its last checkpoint, in cast order);
 * - secure_delete, so rewritten or deleted pages do not keep old bytes;
 * - foreign keys on.
 * One connection serves the whole process, so a rollback journal costs no concurrency here. Another
 * process reading the file (a sqlite3 shell) makes writes wait up to busy_timeout: do not, during a meeting.
 */
export function openSqliteConnection(file: string): Database.Database {
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = TRUNCATE');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('secure_delete = ON');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  return sqlite;
}
