/**
 * PostgreSQL for the tests: the run's throwaway cluster (started once by tests/pg/global-setup.ts) and a
 * fresh database per test, copied from a migrated template. The next database is made while the current
 * test runs, so a test rarely waits for one.
 */
import { adminQuery, databaseUrl } from './pg-cluster.ts';

export interface PgInfo {
  socketDir: string;
  port: number;
  user: string;
  /** A migrated database every test database is copied from. */
  template: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's PostgreSQL cluster; null when its binaries are absent (the PostgreSQL tests are then skipped, never in CI). */
    postgres: PgInfo | null;
  }
}

export type Backend = 'sqlite' | 'postgres';

/** The backend the API tests of this vitest project run on (vitest.config.ts sets it for the `pg` project). */
export const testBackend: Backend = process.env.CEPING_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';

export async function pgInfo(): Promise<PgInfo | null> {
  const { inject } = await import('vitest');
  return inject('postgres') ?? null;
}

let made = 0;
let next: Promise<string> | null = null;

async function createDatabase(info: PgInfo): Promise<string> {
  const name = `t_${process.pid}_${++made}`;
  await adminQuery(info, `create database "${name}" template "${info.template}"`);
  return databaseUrl(info, name);
}

/** A new, migrated, empty database of the run's cluster. */
export async function freshDatabaseUrl(): Promise<string> {
  const info = await pgInfo();
  if (!info) throw new Error('PostgreSQL is not available in this run (no initdb/pg_ctl found)');
  const url = await (next ?? createDatabase(info));
  next = createDatabase(info);
  next.catch(() => undefined);
  return url;
}

/** The database being made for the next test, awaited after the last one (so no worker exits mid-CREATE). */
export async function settlePrefetch(): Promise<void> {
  await next?.catch(() => undefined);
}
