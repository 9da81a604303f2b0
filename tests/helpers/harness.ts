import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createHash, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
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
  const signingKey = generateKeyPairSync('ed25519').privateKey;
  const setupCode = 'TESTSETUP1';
  const random = opts.seed === undefined ? undefined : seededRandomBytes(opts.seed);
  const app = await buildApp({ config, db, sqlite, pepper, signingKey, logStream, setupCode, now: opts.now, random, version: 'test' });
  await app.ready();
  return {
    app, db, sqlite, file, dir, pepper, signingKey, setupCode, logs, config,
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
