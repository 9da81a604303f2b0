/**
 * The ballots the report figures are measured on, written fast: 5,000 ballots over HTTP would cost
 * 5,000 sign-ins, redemptions and casts (minutes of elliptic-curve work on this machine) for a figure
 * that does not depend on how the ballots came in. So the bench writes them into a preparation copy
 * of the database in-process, through the server's own code (buildApp and its routes, via
 * app.inject): paper sign-ins, and paper ballots typed by one admin and confirmed by a second. The
 * counting treats a paper ballot as any other. `synchronous = OFF` here only: the copy is then moved
 * to disk and opened by the measured server with its own settings.
 *
 * Run as a script (bench/run.ts does, beside the phones' preparation, to use the idle core):
 *   node --import tsx bench/lib/report-data.ts DIR '[{"year":2021,"meetings":1,"ballots":5000}]'
 * makes DIR a data folder (a server started once on it, for its keys and the first admin) and prints
 * the campaigns as JSON on its last line.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildApp } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import { openSqliteStore } from '../../server/db/database.ts';
import { loadOrCreateSigningKey } from '../../server/archive/signing.ts';
import type { Form } from '../../server/forms/form.schemas.ts';
import type { TestApp } from '../../tests/helpers/harness.ts';
import { loginAs, type AdminSession } from '../../tests/helpers/auth.ts';
import { call } from '../../tests/helpers/meeting.ts';
import { fullPackage } from '../../tests/helpers/packages.ts';
import { HttpAdmin } from '../../tests/helpers/server-process.ts';
import { inParallel } from './meetings.ts';
import { startCeping } from './processes.ts';

export interface ReportMeetings {
  /** The meetings, each with `ballots` paper ballots, voting still open (the measured server closes them). */
  meetingIds: number[];
  campaignId: number;
}

/** Campaigns of paper-ballot meetings, written in-process into the data folder of a stopped server. */
export async function writePaperCampaigns(dataDir: string, campaigns: { year: number; meetings: number; ballots: number }[]): Promise<ReportMeetings[]> {
  const store = openSqliteStore(path.join(dataDir, 'ceping.db'));
  const { db } = store;
  store.sqlite!.pragma('synchronous = OFF');
  const pepper = Buffer.from(readFileSync(path.join(dataDir, 'secret.key'), 'utf8').trim(), 'base64');
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', SCRYPT_LOG_N: '16' });
  const app = await buildApp({ config, store, pepper, signingKey: loadOrCreateSigningKey(dataDir), setupCode: null, version: 'bench' });
  await app.ready();
  // The helpers need only the app of a TestApp.
  const t = { app, setupCode: '' } as unknown as TestApp;
  try {
    const admin = await loginAs(t);
    const checker = await loginAs(t, { role: 'township', username: 'checker' });
    const out: ReportMeetings[] = [];
    for (const c of campaigns) {
      const campaignId = (await call<{ id: number }>(t, admin, 'POST', '/api/campaigns', { year: c.year, township: '插旗镇' })).id;
      const meetingIds: number[] = [];
      for (let i = 0; i < c.meetings; i++) meetingIds.push(await paperMeeting(t, admin, checker, campaignId, i, c.ballots));
      out.push({ campaignId, meetingIds });
    }
    return out;
  } finally {
    await app.close();
    await db.destroy();
  }
}

async function paperMeeting(t: TestApp, admin: AdminSession, checker: AdminSession, campaignId: number, i: number, ballots: number): Promise<number> {
  const unit = await call<{ id: number }>(t, admin, 'POST', `/api/campaigns/${campaignId}/units`, {
    name: `第${i + 1}村`, kind: 'village', reserveCandidates: ['候选人甲', '候选人乙', '候选人丙'],
  });
  await call(t, admin, 'PUT', `/api/units/${unit.id}/team`, {
    members: ['书记', '主任', '副书记', '委员', '委员'].map((position, j) => ({ name: `成员${j + 1}`, position, isSecretary: j === 0 })),
  });
  const meeting = await call<{ id: number }>(t, admin, 'POST', `/api/units/${unit.id}/meetings`, {});
  const csv = '\ufeff姓名,类别,备注\n' + Array.from({ length: ballots }, (_, j) => `参会${j + 1},党员,`).join('\n') + '\n';
  // The file worker has a wall clock (20 s): on a machine at load average 30 a 5,000-row roster can run
  // past it, and the import answers 200 with committed: false and the reason. Try again, then say why.
  for (let attempt = 1; ; attempt++) {
    const r = await call<{ committed: boolean; errors?: { message: string }[] }>(t, admin, 'POST', `/api/meetings/${meeting.id}/roster/import`, { filename: '签到表.csv', dataBase64: Buffer.from(csv).toString('base64'), commit: true });
    if (r.committed) break;
    if (attempt === 3) throw new Error(`the roster of ${ballots} was not imported: ${JSON.stringify(r.errors?.slice(0, 3))}`);
  }
  await call(t, admin, 'POST', `/api/meetings/${meeting.id}/start-signin`);
  const { entries } = await call<{ entries: { id: number }[] }>(t, admin, 'GET', `/api/meetings/${meeting.id}/roster`);
  for (const e of entries) await call(t, admin, 'POST', `/api/meetings/${meeting.id}/roster/${e.id}/sign-in`, { handout: 'paper' });
  await call(t, admin, 'POST', `/api/meetings/${meeting.id}/open-voting`, { overrideReason: null });
  const { form } = await call<{ form: Form }>(t, admin, 'GET', `/api/meetings/${meeting.id}/form`);
  // Grades and comments vary, so the counting and the report's comment list have real work to do.
  await inParallel(entries, 16, async (_e, j) => {
    const { pendingId } = await call<{ pendingId: string }>(t, admin, 'POST', `/api/meetings/${meeting.id}/paper-ballots`, {
      package: fullPackage(form, 1 + (j % 3), j % 5 === 0 ? `第${j + 1}张票的意见建议：加强村务公开。` : ''),
    });
    await call(t, checker, 'POST', `/api/meetings/${meeting.id}/paper-ballots/${pendingId}/confirm`, {});
  });
  return meeting.id;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [dir, spec] = process.argv.slice(2);
  const log = path.join(dir!, 'init.log');
  const server = await startCeping(dir!, log);
  try {
    await new HttpAdmin(server.base).setup(server.setupCode!);
  } finally {
    await server.stop();
    rmSync(log);
  }
  const campaigns = await writePaperCampaigns(dir!, JSON.parse(spec!) as { year: number; meetings: number; ballots: number }[]);
  process.stdout.write(`${JSON.stringify(campaigns)}\n`);
}
