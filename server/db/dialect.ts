import { PostgresAdapter, sql, type Kysely } from 'kysely';
import type { DbOrTrx } from './database.ts';

/**
 * The few things that differ between the embedded SQLite file and PostgreSQL, other than the DDL
 * (migrations/ddl.ts), the cast path's statements (ballots.repository.ts) and the rebuild after close
 * (compaction.ts): how a batch begins, how a row is locked for the rest of a transaction, and which
 * errors mean "taken", "busy" or "try the whole batch again".
 */
export type DialectName = 'sqlite' | 'postgres';

export function dialectOf(db: Kysely<any>): DialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

function codeOf(err: unknown): string {
  return String((err as { code?: unknown } | null)?.code ?? '');
}

/** A unique or primary key refused the row (SQLite's constraint codes, PostgreSQL's 23505). */
export function isUniqueViolation(err: unknown): boolean {
  const code = codeOf(err);
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/** The code of every statement's error when the SQLite database thread (sqlite-thread.ts) stopped under it. */
export const THREAD_LOST = 'SQLITE_THREAD_EXITED';

/** The database thread stopped while the statement was under way (a statement of a transaction begun on it, or in flight): try again. */
export function isThreadLost(err: unknown): boolean {
  return codeOf(err) === THREAD_LOST;
}

/** Another program holds the SQLite file: nothing was written, try again. */
export function isFileBusy(err: unknown): boolean {
  return codeOf(err).startsWith('SQLITE_BUSY');
}

/**
 * PostgreSQL could not be reached or refused for now (a lock wait timed out, the server is shutting
 * down or out of connections): nothing was written, try again.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const code = codeOf(err);
  return (
    code === '55P03' || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300' || code.startsWith('08') ||
    code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ENOENT' || code === 'ETIMEDOUT' || code === 'EPIPE' ||
    code === '40001' || code === '40P01' || (code === '' && isConnectionLost(err))
  );
}

/**
 * node-postgres's own errors for a connection that broke or could not be had carry no code, only these
 * messages (pg/lib/client.js, pg-pool): the server went away mid-statement (an immediate shutdown or a
 * crash sends no error, it closes the socket), a statement sent on a connection already broken, a
 * connection that timed out.
 */
const CONNECTION_LOST = /^(Connection terminated|Client has encountered a connection error and is not queryable|Client was closed and is not queryable|timeout exceeded when trying to connect|Query read timeout)/;

function isConnectionLost(err: unknown): boolean {
  return err instanceof Error && CONNECTION_LOST.test(err.message);
}

/** node-postgres refused to send a statement on a connection it already knew to be broken: it never reached the server. */
export function wasNotSent(err: unknown): boolean {
  return err instanceof Error && /^Client (has encountered a connection error|was closed) and is not queryable/.test(err.message);
}

/** A transaction PostgreSQL aborted to break a deadlock or a serialization conflict: run it again from the start. */
export function isRetryable(err: unknown): boolean {
  const code = codeOf(err);
  return code === '40001' || code === '40P01';
}

/** The statement that opens a write batch: SQLite takes the write lock at once (one writer, no upgrade deadlock). */
export function beginBatch(dialect: DialectName) {
  return dialect === 'postgres' ? sql`begin` : sql`begin immediate`;
}

/**
 * Lock a meeting's row for the rest of the transaction, so a read-modify-write of something that
 * belongs to the meeting (its timers) cannot interleave with the same change made by another server
 * process. SQLite needs nothing: one connection runs one transaction at a time.
 */
export async function lockMeeting(trx: DbOrTrx, dialect: DialectName, meetingId: number): Promise<void> {
  if (dialect === 'postgres') await sql`select id from meetings where id = ${meetingId} for update`.execute(trx);
}
