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
