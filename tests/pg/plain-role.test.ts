/**
 * The server run as the README tells operators to run it on PostgreSQL: as a plain role (`createuser
 * ceping`: LOGIN, no superuser, no pg_read_all_stats, no pg_monitor) owning a fresh database made from
 * template0, which it migrates itself. An administrator's session of ANOTHER role (the cluster's
 * superuser, as a `psql -U postgres` would be) holds a repeatable-read snapshot taken before the close.
 *
 * What it shows: the plain role cannot read that session's query (PostgreSQL hides it), yet sees its
 * backend_xmin, so `horizonHolders` names it; the rebuild after close waits for it and completes only
 * after it ends; and then the ballots file holds each ballot once (every cast rewrites all the
 * meeting's ballots, so without the wait VACUUM FULL would copy older versions the snapshot can see).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { call, makeMeeting, type TestMeeting } from '../helpers/meeting.ts';
import { fullPackage } from '../helpers/packages.ts';
import { cast } from '../helpers/phone.ts';
import { adminQuery, databaseUrl } from '../helpers/pg-cluster.ts';
import { pgInfo } from '../helpers/pg.ts';
import { openPostgresStore, type Db } from '../../server/db/database.ts';
import { horizonHolders } from '../../server/db/compaction.ts';

const info = await pgInfo();
const PHONES = 6;

/** A session of the superuser role in a repeatable-read transaction that has read `meetings` (no voting table), kept until `end`. */
async function holdSuperuserSnapshot(url: string): Promise<{ pid: number; end: () => Promise<number> }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('begin isolation level repeatable read');
  await client.query('select id from meetings limit 1');
  const pid = Number((await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid);
  return {
    pid,
    end: async () => {
      await client.query('commit');
      const endedAt = Date.now();
      await client.end();
      return endedAt;
    },
  };
}

describe.skipIf(!info)('PostgreSQL: the server as a plain role waits for a superuser’s older snapshot before the rebuild', () => {
  const role = `ceping_plain_${process.pid}`;
  const dbName = `plain_${process.pid}`;
  let superUrl = '';
  let t: TestApp;
  let m: TestMeeting;
  /** The plain role's own connection, for the checks made as that role. */
  let plain: Db;
  let roleFacts: { super: boolean; readAllStats: boolean; monitor: boolean; owner: string; ballotsOwner: string };
  let seen: { pid: number; holders: string[]; query: string | null; backendXmin: string | null; holdersAfter: string[] };
  let waited: { compactedWhileHeld: string | null; rebuiltAt: number; endedAt: number; heldFor: number };

  beforeAll(async () => {
    if (!info) return;
    // The README's set-up: createuser (a plain role), createdb --owner --template=template0 --encoding=UTF8 --locale=C.
    await adminQuery(
      info,
      `create role ${role} login nosuperuser nocreatedb nocreaterole noreplication nobypassrls`,
      `create database ${dbName} owner ${role} template template0 encoding 'UTF8' locale 'C'`,
    );
    superUrl = databaseUrl(info, dbName);
    const plainUrl = databaseUrl({ ...info, user: role }, dbName);
    // makeTestApp migrates the empty database as the plain role, as `npx ceping migrate` / a server start would.
    t = await makeTestApp({ seed: 20201130, databaseUrl: plainUrl });
    plain = openPostgresStore(plainUrl, { poolSize: 1 }).db;
    const facts = await sql<{ super: boolean; read_all_stats: boolean; monitor: boolean; owner: string; ballots_owner: string }>`
      select r.rolsuper as super,
             pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') as read_all_stats,
             pg_has_role(current_user, 'pg_monitor', 'USAGE') as monitor,
             (select pg_get_userbyid(datdba) from pg_database where datname = current_database()) as owner,
             (select tableowner from pg_tables where tablename = 'ballots' and schemaname = current_schema()) as ballots_owner
      from pg_roles r where r.rolname = current_user`.execute(plain);
    const f = facts.rows[0]!;
    roleFacts = { super: f.super, readAllStats: f.read_all_stats, monitor: f.monitor, owner: f.owner, ballotsOwner: f.ballots_owner };

    m = await makeMeeting(t, { kind: 'village', roster: PHONES, signIn: PHONES, overrideReason: '测试用的小会' });
    for (const [i, token] of m.tokens.entries()) {
      const r = await cast(t, token, fullPackage(m.form!, 1 + (i % 3), `样本${i}`));
      expect(r.statusCode, r.body).toBe(200);
    }

    const before = await holdSuperuserSnapshot(superUrl);
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    // As the plain role: what pg_stat_activity shows of the superuser's session, and what horizonHolders finds.
    const row = await sql<{ query: string | null; backend_xmin: string | null }>`
      select query, backend_xmin::text as backend_xmin from pg_stat_activity where pid = ${before.pid}`.execute(plain);
    const holders = await horizonHolders(plain);

    const heldAt = Date.now();
    let rebuiltAt = 0;
    const rebuilding = t.app.services.compactor.ensure(m.meetingId).then(() => (rebuiltAt = Date.now()));
    await new Promise((r) => setTimeout(r, 1500));
    const compactedWhileHeld = (await t.db.selectFrom('meetings').select('compacted_at').where('id', '=', m.meetingId).executeTakeFirstOrThrow()).compacted_at;
    const endedAt = await before.end();
    await rebuilding;
    seen = { pid: before.pid, holders, query: row.rows[0]?.query ?? null, backendXmin: row.rows[0]?.backend_xmin ?? null, holdersAfter: await horizonHolders(plain) };
    waited = { compactedWhileHeld, rebuiltAt, endedAt, heldFor: endedAt - heldAt };
  }, 300_000);

  afterAll(async () => {
    await plain?.destroy();
    await t?.close();
    if (info) await adminQuery(info, `drop database if exists ${dbName}`, `drop role if exists ${role}`).catch(() => undefined);
  });

  it('runs as a plain role owning its database and tables (no superuser, no pg_read_all_stats, no pg_monitor)', () => {
    expect(roleFacts).toEqual({ super: false, readAllStats: false, monitor: false, owner: role, ballotsOwner: role });
  });

  it('as the plain role, sees the superuser’s snapshot in backend_xmin (not its query), and horizonHolders names that session', () => {
    expect(seen.query).toBe('<insufficient privilege>');
    expect(seen.backendXmin).toMatch(/^\d+$/);
    expect(seen.holders).toEqual([`session ${seen.pid}`]);
    expect(seen.holdersAfter).toEqual([]);
  });

  it('waits for that snapshot before the rebuild, and completes only after it ends', () => {
    expect(waited.heldFor).toBeGreaterThanOrEqual(1400);
    expect(waited.compactedWhileHeld).toBeNull();
    expect(waited.rebuiltAt).toBeGreaterThanOrEqual(waited.endedAt);
    // The rebuild itself (VACUUM FULL as the tables' owner) succeeded: no attempt failed on permissions.
    expect(t.logs.filter((l) => /permission denied|must be owner|insufficient privilege/i.test(l))).toEqual([]);
  });

  it('afterwards the ballots file holds each ballot once', async () => {
    const closedBallots = await sql<{ n: number }>`select count(*)::int as n from ballots where meeting_id = ${m.meetingId} and filled = 1`.execute(t.db);
    expect(closedBallots.rows[0]!.n).toBe(PHONES);
    // As the superuser: CHECKPOINT and data_directory are not the plain role's to use.
    const admin = openPostgresStore(superUrl, { poolSize: 1 }).db;
    try {
      await sql`checkpoint`.execute(admin);
      const dataDir = (await sql<{ d: string }>`select setting as d from pg_settings where name = 'data_directory'`.execute(admin)).rows[0]!.d;
      const rel = (await sql<{ p: string }>`select pg_relation_filepath('ballots') as p`.execute(admin)).rows[0]!.p;
      const heap = readFileSync(path.join(dataDir, rel));
      const occurrences = (needle: string) => {
        const b = Buffer.from(needle);
        let n = 0;
        for (let i = heap.indexOf(b); i >= 0; i = heap.indexOf(b, i + 1)) n++;
        return n;
      };
      for (let p = 0; p < PHONES; p++) expect(occurrences(`"样本${p}"`), `ballot ${p} in the ballots file`).toBe(1);
    } finally {
      await admin.destroy();
    }
  });
});
