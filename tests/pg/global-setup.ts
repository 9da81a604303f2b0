import type { TestProject } from 'vitest/node';
import { openPostgresStore } from '../../server/db/database.ts';
import { migrateToLatest } from '../../server/db/migrate.ts';
import { adminQuery, databaseUrl, findPostgresBin, startCluster, stopCluster } from '../helpers/pg-cluster.ts';
import { buildServerForTests, freePort } from '../helpers/server-process.ts';
import type { PgInfo } from '../helpers/pg.ts';

/**
 * One PostgreSQL cluster for the whole run. Without its binaries the PostgreSQL tests are skipped with a
 * message, except in CI (CI or CEPING_REQUIRE_POSTGRES set), where that is a failure: .ci/run installs them.
 */
export default async function setup(project: TestProject): Promise<(() => void) | undefined> {
  const bin = findPostgresBin();
  if (!bin) {
    if (process.env.CI || process.env.CEPING_REQUIRE_POSTGRES) {
      throw new Error('PostgreSQL binaries (initdb, pg_ctl) not found: CI must install them (Debian: apt-get install postgresql; see .ci/run)');
    }
    process.stderr.write('\n[pg] PostgreSQL binaries (initdb, pg_ctl) not found: the PostgreSQL tests are SKIPPED. Install PostgreSQL 15+ to run them.\n\n');
    project.provide('postgres', null);
    return undefined;
  }
  // The server processes some PostgreSQL tests start run the bundle `npm start` runs.
  await buildServerForTests();
  const cluster = await startCluster(bin, await freePort());
  try {
    const template = 'ceping_template';
    await adminQuery(cluster, `create database ${template}`);
    const store = openPostgresStore(databaseUrl(cluster, template), { poolSize: 2 });
    await migrateToLatest(store.db);
    await store.db.destroy();
    const info: PgInfo = { socketDir: cluster.socketDir, port: cluster.port, user: cluster.user, template };
    project.provide('postgres', info);
  } catch (e) {
    stopCluster(cluster);
    throw e;
  }
  return () => stopCluster(cluster);
}
