import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createHash, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { buildApp, type App } from '../../server/app.ts';
import { loadConfig, type Config } from '../../server/config.ts';
import { openPostgresStore, openSqliteStore, type Db, type Store } from '../../server/db/database.ts';
import { migrateToLatest } from '../../server/db/migrate.ts';
import BetterSqlite from 'better-sqlite3';
import type Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { DB } from '../../server/db/schema.ts';
import { freshDatabaseUrl, testBackend, type Backend } from './pg.ts';
import { copySqliteTemplate } from './sqlite-template.ts';

export interface TestApp {
  app: App;
  db: Db;
  store: Store;
  backend: Backend;
  /** The SQLite connection (SQLite tests only: on PostgreSQL reading it throws). */
  sqlite: Database.Database;
  /** The SQLite file on disk (a real file in a fresh temp folder); on PostgreSQL, where it would be. */
  file: string;
  /** On PostgreSQL: the test's own database. */
  databaseUrl: string | null;
  dir: string;
  pepper: Buffer;
  /** The app's archive signing key (Ed25519), one per test app. */
  signingKey: KeyObject;
  setupCode: string;
  /** Every log line the app wrote, raw. */
  logs: string[];
  config: Config;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  now?: () => Date;
  /** Pin the random source (a seed) so an assertion on random orderings cannot flake. */
  seed?: number;
  /** Default: the project's backend (SQLite; PostgreSQL in the `pg` project). */
  backend?: Backend;
  /**
   * SQLite on the database thread, as `npm start` runs it (server/db/sqlite-thread.ts); `t.sqlite` then
   * refuses every use. Default: CEPING_TEST_SQLITE_THREAD=1 (the `thread` project of vitest.config.ts).
   */
  sqliteThread?: boolean;
  /**
   * PostgreSQL only: connect to this database instead of a fresh copy of the run's template (e.g. a
   * database owned by a plain role, connected as that role, migrated here as the server would at start).
   */
  databaseUrl?: string;
}

/** A fresh, migrated database (a file, or a PostgreSQL database of its own) and a built app per call; never a shared database. */
export async function makeTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ceping-test-'));
  const file = path.join(dir, 'ceping.db');
  const backend = opts.databaseUrl ? 'postgres' : (opts.backend ?? testBackend);
  const databaseUrl = opts.databaseUrl ?? (backend === 'postgres' ? await freshDatabaseUrl() : null);
  // Both start from a migrated copy made once per run (a template database; a template file); migrateToLatest then has nothing to do.
  if (!databaseUrl) await copySqliteTemplate(file);
  const store: Store = databaseUrl ? openPostgresStore(databaseUrl) : openSqliteStore(file, { thread: opts.sqliteThread ?? process.env.CEPING_TEST_SQLITE_THREAD === '1' });
  const db = store.db;
  await migrateToLatest(db);
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const config = loadConfig({ DATA_DIR: dir, SCRYPT_LOG_N: '12', LOG_LEVEL: 'info', PUBLIC_URL: 'http://192.0.2.10:8080', ...opts.env });
  const pepper = randomBytes(32);
  const signingKey = generateKeyPairSync('ed25519').privateKey;
  const setupCode = 'TESTSETUP1';
  const random = opts.seed === undefined ? undefined : seededRandomBytes(opts.seed);
  const app = await buildApp({ config, store, pepper, signingKey, logStream, setupCode, now: opts.now, random, version: 'test' });
  await app.ready();
  return {
    app, db, store, backend, file, databaseUrl, dir, pepper, signingKey, setupCode, logs, config,
    // On PostgreSQL a stand-in that refuses every use (it can still be copied, as `{ ...t }` does).
    sqlite: store.dialect === 'sqlite' && store.sqlite ? store.sqlite : sqliteOnly(),
    async close() {
      await app.close();
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Deterministic bytes: SHA-256 in counter mode over a seed. Good enough to pin test orderings; never for production. */
export function seededRandomBytes(seed: number): (n: number) => Buffer {
  let counter = 0;
  return (n: number) => {
    const chunks: Buffer[] = [];
    let have = 0;
    while (have < n) {
      const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
      chunks.push(block);
      have += block.length;
    }
    return Buffer.concat(chunks).subarray(0, n);
  };
}

/** The test's database opened again (a restarted process on the same file or PostgreSQL database). */
export function reopenStore(t: Pick<TestApp, 'file' | 'databaseUrl'>): Store {
  return t.databaseUrl ? openPostgresStore(t.databaseUrl) : openSqliteStore(t.file);
}

function sqliteOnly(): Database.Database {
  return new Proxy({} as Database.Database, {
    get() {
      throw new Error('t.sqlite: this test reads the SQLite file directly and runs on SQLite only');
    },
  });
}

/**
 * A connection of its own to the test's database (read-only on SQLite), to check what was written
 * without going through the app's connection. Destroy it after use.
 */
export function openReader(t: Pick<TestApp, 'file' | 'databaseUrl'>): Db {
  if (t.databaseUrl) return openPostgresStore(t.databaseUrl, { poolSize: 2 }).db;
  const ro = new BetterSqlite(t.file, { readonly: true, fileMustExist: true });
  return new Kysely<DB>({ dialect: new SqliteDialect({ database: ro }) });
}
