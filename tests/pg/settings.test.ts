/**
 * The PostgreSQL settings a server refuses to start with (server/db/database.ts, checkPostgresSettings):
 * the ones that would write ballots into the database server's log in cast order. A database of the
 * test cluster passes as it is; set per database, each of them is named, and a real server process on
 * that database refuses to start and says why.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPostgresSettings, openPostgresStore } from '../../server/db/database.ts';
import { adminQuery } from '../helpers/pg-cluster.ts';
import { freshDatabaseUrl, pgInfo } from '../helpers/pg.ts';
import { freePort, startServer } from '../helpers/server-process.ts';

const pg = await pgInfo();

describe.skipIf(!pg)('PostgreSQL settings checked at start', () => {
  it('passes the test cluster as it is; names log_statement, log_min_duration_statement and log_parameter_max_length_on_error, and a server refuses to start on them', async () => {
    const url = await freshDatabaseUrl();
    const name = new URL(url).pathname.slice(1);
    const store = openPostgresStore(url, { poolSize: 2 });
    try {
      expect(await checkPostgresSettings(store.db)).toEqual([]);
    } finally {
      await store.db.destroy();
    }
    await adminQuery(
      pg!,
      `alter database "${name}" set log_statement = 'mod'`,
      `alter database "${name}" set log_min_duration_statement = 0`,
      `alter database "${name}" set log_parameter_max_length_on_error = -1`,
    );
    const again = openPostgresStore(url, { poolSize: 2 });
    let problems: string[];
    try {
      problems = await checkPostgresSettings(again.db);
    } finally {
      await again.db.destroy();
    }
    expect(problems.map((p) => p.split('：')[0])).toEqual(['log_statement 须为 none 或 ddl（现为 mod）', 'log_min_duration_statement 须为 -1', 'log_parameter_max_length_on_error 须为 0']);

    const dir = mkdtempSync(path.join(tmpdir(), 'ceping-settings-'));
    try {
      const err = await startServer(dir, await freePort(), { DATABASE_URL: url }).then(
        async (p) => {
          await p.stop();
          return '';
        },
        (e: Error) => e.message,
      );
      expect(err).toContain('PostgreSQL 的设置不符合要求');
      expect(err).toContain('log_statement');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
