import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import type pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely';
import type { DB } from './schema.ts';
import { StatementCache } from './statement-cache.ts';
import { openSqliteConnection } from './sqlite-open.ts';
import { SqliteThread, ThreadDialect, threadCastWriter } from './sqlite-thread.ts';
import { CastStatements, type CastWriter } from '../ballots/cast-statements.ts';

export type Db = Kysely<DB>;
export type DbOrTrx = Kysely<DB> | Transaction<DB>;

export interface OpenedDatabase {
  db: Db;
  sqlite: Database.Database;
  /** What Kysely prepares its queries through: each SQL text compiled once and kept (statement-cache.ts). */
  statements: StatementCache;
  file: string;
}

/** Where the data lives: the embedded SQLite file (the default) or a PostgreSQL database (DATABASE_URL). */
export type Store = SqliteStore | PostgresStore;

export interface SqliteStore {
  dialect: 'sqlite';
  db: Db;
  file: string;
  /** The connection, when it is on this thread (null with the database thread). */
  sqlite: Database.Database | null;
  /** Its statement cache (statement-cache.ts), when on this thread. */
  statements: StatementCache | null;
  /** The cast path's writes (cast-statements.ts), wherever the connection is. */
  cast: CastWriter;
  /** The database thread holding the connection (sqlite-thread.ts), or null when it is on this thread. */
  thread: SqliteThread | null;
}

export interface PostgresStore {
  dialect: 'postgres';
  db: Db;
  pool: pg.Pool;
  /** The connection string, for opening the LISTEN connection of the live relay. */
  url: string;
  /** host/port/database without the password, for the start-up lines. */
  label: string;
}

/**
 * Open the embedded SQLite file on this thread (sqlite-open.ts: the pragmas the guarantees depend on).
 * Kysely reaches the connection through a statement cache: each SQL text is compiled once, not per query.
 */
export function openDatabase(file: string): OpenedDatabase {
  const sqlite = openSqliteConnection(file);
  const statements = new StatementCache(sqlite);
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: statements }) });
  return { db, sqlite, statements, file };
}

/**
 * The SQLite store. `thread: true` (what `npm start` uses) keeps the connection on the database thread
 * (sqlite-thread.ts): the main thread then holds no connection (`sqlite` and `statements` are null) and
 * never waits for a commit. Without it (tests in one process, the CLI) the connection is on this thread.
 */
export function openSqliteStore(file: string, o: { thread?: boolean } = {}): SqliteStore {
  if (o.thread) {
    const thread = new SqliteThread(file);
    const dialect = new ThreadDialect(thread);
    return { dialect: 'sqlite', db: new Kysely<DB>({ dialect }), sqlite: null, statements: null, file, cast: threadCastWriter(thread, dialect), thread };
  }
  const opened = openDatabase(file);
  return { dialect: 'sqlite', ...opened, cast: localCastWriter(opened.sqlite), thread: null };
}

/** CastStatements on this thread's connection, prepared at the first use (after the migrations made the tables). */
function localCastWriter(sqlite: Database.Database): CastWriter {
  let s: CastStatements | null = null;
  const statements = () => (s ??= new CastStatements(sqlite));
  return {
    prepare: () => void statements(),
    begin: () => statements().begin(),
    meetingState: (meetingId) => statements().meetingState(meetingId),
    freeSlots: (meetingId) => statements().freeSlots(meetingId),
    liveRow: (meetingId) => statements().liveRow(meetingId),
    write: (row, slot) => statements().write(row, slot),
    commit: (snapshots) => statements().commit(snapshots),
    commitIf: (expect, snapshots) => statements().commitIf(expect, snapshots),
  };
}

/**
 * The PostgreSQL driver, loaded when a PostgreSQL database is first opened: a server on its SQLite file
 * never loads it (about 4 MiB of heap and more of the process's memory, bench/README.md).
 */
export function pgDriver(): typeof pg {
  return (driver ??= createRequire(import.meta.url)('pg') as typeof pg);
}
let driver: typeof pg | undefined;

/** int8 (count(*), sum(), bigint keys) as a JS number: every such value here is far below 2^53. */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`integer out of range: ${text}`);
  return n;
}

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pgDriver().types.builtins.INT8 ? parseInt8 : pgDriver().types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

export function connectionLabel(url: string): string {
  try {
    const u = new URL(url);
    const host = u.searchParams.get('host') ?? (decodeURIComponent(u.hostname) || 'localhost');
    return `PostgreSQL ${host}${u.port ? `:${u.port}` : ''}/${decodeURIComponent(u.pathname.slice(1))}`;
  } catch {
    return 'PostgreSQL';
  }
}

export interface PostgresOptions {
  /** Connections in this process's pool (the write queue holds one for each batch). */
  poolSize?: number;
}

/**
 * Open a PostgreSQL database through a pg pool. Every commit waits for the disk (synchronous_commit on,
 * whatever the server's default), as synchronous=FULL does on SQLite. Statements that wait for a lock give
 * up after 5 s (the phone retries; nothing is written), as SQLite's busy_timeout does; integers come back
 * as numbers.
 */
export function openPostgresStore(url: string, o: PostgresOptions = {}): PostgresStore {
  const pool = new (pgDriver().Pool)({
    connectionString: url,
    max: o.poolSize ?? 10,
    types,
    options: '-c synchronous_commit=on -c lock_timeout=5000 -c idle_in_transaction_session_timeout=60000',
    // An unreachable database server (a pulled cable drops packets, nothing refuses) fails a request
    // after 5 s instead of holding it; a dead peer of an idle connection is noticed by TCP keepalive.
    connectionTimeoutMillis: 5000,
    keepAlive: true,
  });
  // A connection that dies (the database restarted or crashed) must not take the process with it: pg
  // emits 'error' on the client, and pg-pool listens only while the client is idle in the pool. One
  // held by a request or a write batch (between two statements of its transaction) would otherwise
  // throw the event at the top level. The statement in flight, or the next, fails instead; the pool
  // drops the client when it is released and opens a new one for the next request.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return { dialect: 'postgres', db, pool, url, label: connectionLabel(url) };
}

/** The store the configuration names: PostgreSQL when DATABASE_URL is set, else the SQLite file. */
export function openStore(o: { databaseUrl?: string | undefined; file: string; poolSize?: number; thread?: boolean }): Store {
  return o.databaseUrl ? openPostgresStore(o.databaseUrl, { poolSize: o.poolSize }) : openSqliteStore(o.file, { thread: o.thread });
}

/**
 * Refuse a PostgreSQL server whose settings would break a promise: the database must be UTF-8 with
 * byte-order ("C") collation, as SQLite compares text (orderings in the archives and reports must not
 * change when a year moves); commit timestamps would put a time on every row version; statement logging
 * would write every ballot, in cast order, to the server's log.
 */
export async function checkPostgresSettings(db: Db): Promise<string[]> {
  const problems: string[] = [];
  const r = await sql<{ encoding: string; collate: string; ctype: string }>`
    select pg_encoding_to_char(encoding) as encoding, datcollate as collate, datctype as ctype
    from pg_database where datname = current_database()`.execute(db);
  const d = r.rows[0]!;
  if (d.encoding !== 'UTF8') problems.push(`数据库编码须为 UTF8（现为 ${d.encoding}） / the database encoding must be UTF8, not ${d.encoding}`);
  if (d.collate !== 'C' && d.collate !== 'POSIX') {
    problems.push(`数据库排序规则须为 C（现为 ${d.collate}） / the database collation must be C, not ${d.collate}: createdb --template=template0 --encoding=UTF8 --locale=C ceping`);
  }
  const setting = async (name: string) => (await sql<{ setting: string }>`select setting from pg_settings where name = ${name}`.execute(db)).rows[0]?.setting ?? '';
  if ((await setting('fsync')) !== 'on') problems.push('fsync 须为 on：否则断电会丢失已确认的选票 / fsync must be on: a power cut would lose acknowledged ballots');
  if ((await setting('track_commit_timestamp')) === 'on') {
    problems.push('track_commit_timestamp 须为 off：否则每一行都带有写入时间 / track_commit_timestamp must be off: it would put a time on every row version');
  }
  const logStatement = await setting('log_statement');
  if (logStatement === 'mod' || logStatement === 'all') {
    problems.push(`log_statement 须为 none 或 ddl（现为 ${logStatement}）：否则数据库日志按顺序记下每一张票 / log_statement must be none or ddl: it would log every ballot in cast order`);
  }
  if ((await setting('log_min_duration_statement')) !== '-1') {
    problems.push('log_min_duration_statement 须为 -1：否则慢语句连同参数写进数据库日志 / log_min_duration_statement must be -1: slow statements would be logged with their ballots');
  }
  // PostgreSQL 13+: a failing statement is logged with its text (placeholders only) unless this says to add the values.
  const onError = await setting('log_parameter_max_length_on_error');
  if (onError !== '' && onError !== '0') {
    problems.push('log_parameter_max_length_on_error 须为 0：否则出错的语句连同选票写进数据库日志 / log_parameter_max_length_on_error must be 0: a failing statement would be logged with its ballot');
  }
  return problems;
}
