import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { buildApp, type App } from '../../server/app.ts';
import { loadConfig, type Config } from '../../server/config.ts';
import { openDatabase, type Db } from '../../server/db/database.ts';
import { migrateToLatest } from '../../server/db/migrate.ts';
import type Database from 'better-sqlite3';

export interface TestApp {
  app: App;
  db: Db;
  sqlite: Database.Database;
  /** The SQLite file on disk (a real file in a fresh temp folder). */
  file: string;
  dir: string;
  pepper: Buffer;
  setupCode: string;
  /** Every log line the app wrote, raw. */
  logs: string[];
  config: Config;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  now?: () => Date;
}

/** A fresh, migrated database file and a built app per call; never a shared database. */
export async function makeTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ceping-test-'));
  const file = path.join(dir, 'ceping.db');
  const { db, sqlite } = openDatabase(file);
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
  const setupCode = 'TESTSETUP1';
  const app = await buildApp({ config, db, sqlite, pepper, logStream, setupCode, now: opts.now, version: 'test' });
  await app.ready();
  return {
    app, db, sqlite, file, dir, pepper, setupCode, logs, config,
    async close() {
      await app.close();
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
