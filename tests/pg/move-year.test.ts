/**
 * Moving a township's year between SQLite and PostgreSQL with `ceping export` / `ceping import`: a year
 * with two sealed meetings (phones and a paper ballot), a meeting still in draft, 考察 work and an imported
 * archive goes from SQLite to PostgreSQL and back to a new SQLite file. On each side every figure the
 * township reads is the same: results, reports, the signed archives byte for byte, the year archive and
 * summary, the 考察 report and progress, the receipts check; and every table's rows are the same.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import { openPostgresStore, openSqliteStore, type Store } from '../../server/db/database.ts';
import { loadOrCreateSigningKey } from '../../server/archive/signing.ts';
import { digestStore, readStore } from '../../server/archive/transfer.ts';
import { runCli } from '../../server/cli/ceping.commands.ts';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { call, makeMeeting } from '../helpers/meeting.ts';
import { login, loginAs, SETUP_USERNAME, type AdminSession } from '../helpers/auth.ts';
import { cast, redeem } from '../helpers/phone.ts';
import { fullPackage } from '../helpers/packages.ts';
import { freshDatabaseUrl, pgInfo } from '../helpers/pg.ts';
import type { Form } from '../../server/forms/form.schemas.ts';

const pg = await pgInfo();
const NOW = new Date('2020-11-30T08:00:00.000Z');

async function cli(argv: string[], env: Record<string, string>): Promise<string> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { env, out: (s) => (out += s), err: (s) => (err += s), now: () => NOW });
  if (code !== 0) throw new Error(`ceping ${argv.join(' ')} → ${code}\n${out}${err}`);
  return out;
}

/** Everything the township reads about the year, as the API gives it. */
async function figures(t: Pick<TestApp, 'app'>, session: AdminSession, campaignId: number, meetingIds: number[], receipts: string[]) {
  const get = async (url: string) => {
    // A draft meeting has no results yet (409): the same answer on both sides is what counts.
    const res = await t.app.inject({ method: 'GET', url, headers: session.headers });
    expect([200, 409], url).toContain(res.statusCode);
    return `${res.statusCode} ${res.body}`;
  };
  const out: Record<string, string> = {};
  for (const id of meetingIds) {
    for (const u of ['', '/results', '/report', '/archive', '/inspection', '/inspection/report', '/audit']) out[`meeting ${id}${u}`] = await get(`/api/meetings/${id}${u}`);
  }
  for (const u of ['/summary', '/archive', '/inspection/progress', '/inspection/settings']) out[`campaign${u}`] = await get(`/api/campaigns/${campaignId}${u}`);
  out['imported archives'] = await get('/api/imported-archives');
  for (const r of receipts) {
    out[`receipt ${r}`] = (await t.app.inject({ method: 'POST', url: '/api/receipts/check', payload: { receipt: r } })).body;
  }
  for (const id of meetingIds.slice(0, 2)) {
    for (const u of ['/results', '/report', '/archive']) expect(out[`meeting ${id}${u}`]!.startsWith('200 '), `meeting ${id}${u}`).toBe(true);
  }
  return out;
}

describe.skipIf(!pg)('moving a year: SQLite → PostgreSQL → SQLite with ceping export / import', () => {
  let t: TestApp;
  let work: string;
  let campaignId: number;
  let meetingIds: number[];
  const receipts: string[] = [];
  let before: Record<string, string>;

  beforeAll(async () => {
    t = await makeTestApp({ backend: 'sqlite', now: () => NOW, seed: 7 });
    work = mkdtempSync(path.join(tmpdir(), 'ceping-move-'));
    // The data folder's key files, as a server keeps them (the harness holds its keys in memory).
    writeFileSync(path.join(t.dir, 'secret.key'), t.pepper.toString('base64'), { mode: 0o600 });
    writeFileSync(path.join(t.dir, 'signing.key'), String(t.signingKey.export({ type: 'pkcs8', format: 'pem' })), { mode: 0o600 });

    const m = await makeMeeting(t, { kind: 'station', roster: 14, signIn: 13, paperSignIns: 1, liveK: 3 });
    campaignId = m.campaignId;
    for (const [i, token] of m.tokens.entries()) receipts.push((await cast(t, token, fullPackage(m.form!, 1 + (i % 3), i % 4 === 0 ? `意见${i}` : ''))).json().receipt);
    const checker = await loginAs(t, { role: 'township', username: 'checker' });
    const { pendingId } = await call<{ pendingId: string }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/paper-ballots`, { package: fullPackage(m.form!, 2) });
    await call(t, checker, 'POST', `/api/meetings/${m.meetingId}/paper-ballots/${pendingId}/confirm`, {});
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/seal`);
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/inspection/draw`, { seed: '' });
    await call(t, m.session, 'PUT', `/api/meetings/${m.meetingId}/inspection/report`, { section1Note: '班子团结', section3: '完成年度任务', section4: '学习记录不全', section5: '建议加强学习', meetingNotes: '碰头会纪要' });

    // A second unit of the same year: sealed; a third: still in draft.
    const unit = await call<{ id: number }>(t, m.session, 'POST', `/api/campaigns/${campaignId}/units`, { name: '农技站', kind: 'station', reserveCandidates: ['候选甲'] });
    await call(t, m.session, 'PUT', `/api/units/${unit.id}/team`, { members: [{ name: '站长', position: '站长', isSecretary: true }, { name: '副站长', position: '副站长', isSecretary: false }] });
    const second = await call<{ id: number }>(t, m.session, 'POST', `/api/units/${unit.id}/meetings`, { liveK: 3 });
    await t.app.services.roster.addMany(m.session.adminId, second.id, Array.from({ length: 9 }, (_, i) => ({ name: `职工${i}`, category: '职工', note: '', walkIn: false })));
    await call(t, m.session, 'POST', `/api/meetings/${second.id}/start-signin`);
    const { entries } = await call<{ entries: { id: number }[] }>(t, m.session, 'GET', `/api/meetings/${second.id}/roster`);
    const tokens = [];
    for (const e of entries) tokens.push(await redeem(t, (await call<{ ticket: { secret: string } }>(t, m.session, 'POST', `/api/meetings/${second.id}/roster/${e.id}/sign-in`, { handout: 'qr' })).ticket.secret));
    await call(t, m.session, 'POST', `/api/meetings/${second.id}/open-voting`, {});
    const { form } = await call<{ form: Form }>(t, m.session, 'GET', `/api/meetings/${second.id}/form`);
    for (const [i, token] of tokens.entries()) receipts.push((await cast(t, token, fullPackage(form, 1 + ((i + 1) % 3)))).json().receipt);
    await call(t, m.session, 'POST', `/api/meetings/${second.id}/close-voting`);
    await call(t, m.session, 'POST', `/api/meetings/${second.id}/seal`);
    const unit3 = await call<{ id: number }>(t, m.session, 'POST', `/api/campaigns/${campaignId}/units`, { name: '幸福社区', kind: 'community', reserveCandidates: [] });
    const draft = await call<{ id: number }>(t, m.session, 'POST', `/api/units/${unit3.id}/meetings`, {});
    meetingIds = [m.meetingId, second.id, draft.id];

    // An archive from another Ceping, imported read-only.
    const other = await makeTestApp({ backend: 'sqlite', now: () => NOW, seed: 8 });
    try {
      const o = await makeMeeting(other, { kind: 'station', roster: 6, signIn: 6, liveK: 3 });
      for (const token of o.tokens) await cast(other, token, fullPackage(o.form!, 1));
      await call(other, o.session, 'POST', `/api/meetings/${o.meetingId}/close-voting`);
      await call(other, o.session, 'POST', `/api/meetings/${o.meetingId}/seal`);
      const year = await other.app.inject({ method: 'GET', url: `/api/campaigns/${o.campaignId}/archive`, headers: o.session.headers });
      expect(year.statusCode, year.body).toBe(200);
      await call(t, m.session, 'POST', '/api/archives/import?label=外镇.json', JSON.parse(year.body));
    } finally {
      await other.close();
    }
    before = await figures(t, m.session, campaignId, meetingIds, receipts);
  }, 600_000);

  afterAll(async () => {
    await t?.close();
    rmSync(work, { recursive: true, force: true });
  });

  /** A server on `store` with the keys of `dataDir`, as main.ts starts one, at the same clock. */
  async function serverOn(store: Store, dataDir: string): Promise<{ app: App; session: AdminSession }> {
    const { readFileSync } = await import('node:fs');
    const pepper = Buffer.from(readFileSync(path.join(dataDir, 'secret.key'), 'utf8').trim(), 'base64');
    const app = await buildApp({ config: loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', SCRYPT_LOG_N: '12' }), store, pepper, signingKey: loadOrCreateSigningKey(dataDir), now: () => NOW, setupCode: null, version: 'test' });
    await app.ready();
    return { app, session: await login({ app } as TestApp, SETUP_USERNAME) };
  }

  it('carries every figure, archive and receipt to PostgreSQL and back, and every table row for row', async () => {
    expect(Object.keys(before).length).toBeGreaterThan(20);
    const sqliteDigest = digestStore(await readStore(t.db));
    // SQLite → PostgreSQL.
    const out1 = path.join(work, 'to-pg');
    expect(await cli(['export', '--out', out1], { DATA_DIR: t.dir })).toContain('导出完成');
    const pgDir = path.join(work, 'pg-data');
    const url = await freshDatabaseUrl();
    expect(await cli(['import', out1], { DATA_DIR: pgDir, DATABASE_URL: url })).toContain('每张表与导出时一致');
    const pgStore = openPostgresStore(url);
    expect(digestStore(await readStore(pgStore.db))).toEqual(sqliteDigest);
    // (Logging in writes to the audit log: the tables are compared before.)
    const onPg = await serverOn(pgStore, pgDir);
    let onPgIds: number[] = [];
    let onPgFigures: Record<string, string> = {};
    try {
      const after = await figures(onPg, onPg.session, campaignId, meetingIds, receipts);
      for (const k of Object.keys(before)) expect(after[k], k).toBe(before[k]);
      expect(JSON.parse(after[`receipt ${receipts[0]}`]!)).toMatchObject({ status: 'included' });
      // Still a working server there: a new meeting numbers on from the moved ones (the sequences moved on).
      const m = await call<{ id: number }>({ app: onPg.app } as TestApp, onPg.session, 'POST', `/api/units/${JSON.parse(before[`meeting ${meetingIds[2]}`]!.slice(4)).unitId}/meetings`, {});
      expect(m.id).toBeGreaterThan(Math.max(...meetingIds));
      onPgIds = [...meetingIds, m.id];
      onPgFigures = await figures(onPg, onPg.session, campaignId, onPgIds, receipts);
    } finally {
      await onPg.app.close();
    }

    // PostgreSQL → a new SQLite file, and every figure as PostgreSQL gave it, the new draft meeting included.
    const out2 = path.join(work, 'back');
    expect(await cli(['export', '--out', out2], { DATA_DIR: pgDir, DATABASE_URL: url })).toContain('导出完成');
    const pgDigest = digestStore(await readStore(pgStore.db));
    await pgStore.db.destroy();
    const backDir = path.join(work, 'sqlite-again');
    await cli(['import', out2], { DATA_DIR: backDir });
    const back = openSqliteStore(path.join(backDir, 'ceping.db'));
    expect(digestStore(await readStore(back.db))).toEqual(pgDigest);
    const onSqlite = await serverOn(back, backDir);
    try {
      const again = await figures(onSqlite, onSqlite.session, campaignId, onPgIds, receipts);
      expect(Object.keys(again).sort()).toEqual(Object.keys(onPgFigures).sort());
      for (const k of Object.keys(onPgFigures)) expect(again[k], k).toBe(onPgFigures[k]);
    } finally {
      await onSqlite.app.close();
      await back.db.destroy();
    }
  }, 600_000);

  it('refuses to move while a meeting signs in or votes, and into a database that is not empty', async () => {
    const s = await loginAs(t);
    const unit = JSON.parse(before[`meeting ${meetingIds[2]}`]!.slice(4)).unitId as number;
    const team = await call<{ members: unknown[] }>(t, s, 'GET', `/api/units/${unit}/team`).catch(() => null);
    if (!team || team.members.length === 0) await call(t, s, 'PUT', `/api/units/${unit}/team`, { members: [{ name: '书记', position: '党支部书记', isSecretary: true }] });
    await t.app.services.roster.addMany(s.adminId, meetingIds[2]!, [{ name: '甲', category: '居民', note: '', walkIn: false }]);
    await call(t, s, 'POST', `/api/meetings/${meetingIds[2]}/start-signin`);
    const refused = await runCli(['export', '--out', path.join(work, 'during')], { env: { DATA_DIR: t.dir }, out: () => undefined, err: () => undefined, now: () => NOW });
    expect(refused).toBe(1);
    // Into a database already in use.
    const url = await freshDatabaseUrl();
    const used = openPostgresStore(url);
    await used.db.insertInto('admins').values({ username: 'x', display_name: 'x', role: 'township', password_hash: 'x', created_at: NOW.toISOString() }).execute();
    await used.db.destroy();
    let err = '';
    const code = await runCli(['import', path.join(work, 'to-pg')], { env: { DATA_DIR: path.join(work, 'other'), DATABASE_URL: url }, out: () => undefined, err: (x) => (err += x), now: () => NOW });
    expect(code).toBe(1);
    expect(err).toContain('目标数据库不是空的');
  });
});
