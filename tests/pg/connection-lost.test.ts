/**
 * A connection of the pool that PostgreSQL ends while a request or a write batch holds it (between two
 * statements of its transaction: the batch yields to the event loop between jobs). node-postgres then
 * emits 'error' on the client, which pg-pool listens to only while the client is idle in the pool: with
 * no listener of ours that event is thrown at the top level and the server process dies (seen in
 * tests/pg/outage.test.ts). Here the backend is ended with pg_terminate_backend on the run's cluster, in
 * this process: vitest fails the file on an uncaught error. The next statement on that connection fails
 * as "database unavailable" (503), and the pool serves the next request on a new connection.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../server/db/database.ts';
import { isDatabaseUnavailable } from '../../server/db/dialect.ts';
import { WriteQueue } from '../../server/ballots/write-queue.ts';
import { DomainError } from '../../server/errors.ts';
import { adminQuery } from '../helpers/pg-cluster.ts';
import { freshDatabaseUrl, pgInfo } from '../helpers/pg.ts';

const pg = await pgInfo();

describe.skipIf(!pg)('a pooled connection lost while held', () => {
  it('does not throw at the top level; the held transaction fails as unavailable; the pool goes on with a new connection', async () => {
    const store = openPostgresStore(await freshDatabaseUrl(), { poolSize: 2 });
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      let failure: unknown = null;
      await store.db.connection().execute(async (c) => {
        await sql`begin`.execute(c);
        const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(c)).rows[0]!.pid;
        await adminQuery(pg!, `select pg_terminate_backend(${pid})`);
        await new Promise((r) => setTimeout(r, 300));
        failure = await sql`select 1`.execute(c).then(
          () => null,
          (e: unknown) => e,
        );
      });
      expect(uncaught).toEqual([]);
      expect(failure).not.toBeNull();
      expect(isDatabaseUnavailable(failure), String(failure)).toBe(true);
      const again = await sql<{ one: number }>`select 1 as one`.execute(store.db);
      expect(again.rows[0]!.one).toBe(1);
    } finally {
      process.off('uncaughtException', onUncaught);
      await store.db.destroy();
    }
  });
});

describe.skipIf(!pg)('a write batch whose connection is lost', () => {
  /** A store with a table whose rows make COMMIT take `ms` (a deferred trigger that sleeps), and a queue on it. */
  async function slowCommit(ms: number) {
    const store = openPostgresStore(await freshDatabaseUrl(), { poolSize: 2 });
    await sql`create table scratch (x int)`.execute(store.db);
    await sql.raw(`create function slow() returns trigger language plpgsql as $$ begin perform pg_sleep(${ms / 1000}); return null; end $$`).execute(store.db);
    await sql`create constraint trigger slow after insert on scratch deferrable initially deferred for each row execute function slow()`.execute(store.db);
    return store;
  }
  const rows = async (store: Awaited<ReturnType<typeof slowCommit>>) => (await sql<{ n: number }>`select count(*) as n from scratch`.execute(store.db)).rows[0]!.n;

  it('lost during its COMMIT: refused as unavailable, saying it may or may not have been saved (never "not saved")', async () => {
    const store = await slowCommit(3000);
    try {
      let pid = 0;
      const q = new WriteQueue(store.db, {}, 'postgres');
      const done = q.run(async (tx) => {
        await sql`insert into scratch values (1)`.execute(tx);
        pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx)).rows[0]!.pid;
      });
      // The COMMIT runs the deferred trigger for 3 s; the backend is ended in the middle of it.
      setTimeout(() => void adminQuery(pg!, `select pg_terminate_backend(${pid})`), 1000);
      const err = await done.then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DomainError);
      expect((err as DomainError).code).toBe('DATABASE_UNAVAILABLE');
      expect((err as DomainError).message).toContain('可能已经保存，也可能没有');
      expect(await rows(store)).toBe(0);
    } finally {
      await store.db.destroy();
    }
  });

  it('lost before its COMMIT was sent: the usual refusal (nothing saved), and nothing is', async () => {
    const store = await slowCommit(0);
    try {
      const q = new WriteQueue(store.db, {
        beforeCommit: async (tx) => {
          const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx)).rows[0]!.pid;
          await adminQuery(pg!, `select pg_terminate_backend(${pid})`);
          await new Promise((r) => setTimeout(r, 300));
        },
      }, 'postgres');
      const err = await q.run((tx) => sql`insert into scratch values (1)`.execute(tx)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).not.toBeInstanceOf(DomainError);
      expect(isDatabaseUnavailable(err), String(err)).toBe(true);
      expect(await rows(store)).toBe(0);
    } finally {
      await store.db.destroy();
    }
  });
});
