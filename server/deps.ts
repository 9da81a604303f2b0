import type { KeyObject } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config.ts';
import type { Db, Store } from './db/database.ts';
import type { RandomSource } from './credentials/secrets.ts';
import type { FileSandbox } from './imports/sandbox.ts';

/** What every service is built from: configuration, the database, the keys, a clock and a random source. */
export interface ServiceDeps {
  config: Config;
  /** The store's Kysely instance (store.db). */
  db: Db;
  /** Where the data lives: the SQLite file or PostgreSQL; the few dialect-specific pieces read it. */
  store: Store;
  pepper: Buffer;
  /** Ed25519 key that signs the sealed archives. */
  signingKey: KeyObject;
  now: () => Date;
  random: RandomSource;
  log: FastifyBaseLogger;
  setupCode?: string | null;
  /** Where uploaded files are read: a worker thread, under limits (imports/sandbox.ts). */
  files: FileSandbox;
}
