/**
 * Talks are named by design; ballots are secret. Nothing the inspection team writes in its 考察
 * workspace (who was drawn, the seed, talk notes, records found, inquiries, the 鉴定表, the 碰头会
 * notes) may appear in anything that carries ballot data: the results, the print data, the XLSX and
 * CSV, the signed meeting and year archives, the year summary, the meeting's audit log, the phone's
 * answers, an imported archive's report, every live frame and the server's log. The 考察报告 carries
 * the team's own sections and section 二's figures, and none of the rest either.
 */
import { unzipSync } from 'fflate';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { call, makeMeeting, type TestMeeting } from '../helpers/meeting.ts';
import { fullPackage } from '../helpers/packages.ts';
import { cast, meetingStatus } from '../helpers/phone.ts';
import { subscribeLive, type LiveSubscriber } from '../helpers/live.ts';
import type { Workspace } from '../../server/inspection/inspection.schemas.ts';

const MARK = {
  seed: 'SEEDMARK9731',
  talkNote: 'TALKNOTE谈话内容甲',
  added: 'ADDED外来人',
  record: 'RECORDFINDING资料发现',
  inquiryTitle: 'INQUIRYTITLE专项调查',
  inquiryBody: 'INQUIRYBODY调查经过乙',
  appraisal: 'APPRAISAL鉴定丙',
  appraisalComment: 'APPRAISALCOMMENT评语丁',
  meetingNote: 'MEETINGNOTE碰头会戊',
  report: 'REPORTTEXT报告己',
};
/** Everything except the report's own text must stay out of the report too. */
const NEVER_IN_REPORT = Object.entries(MARK).filter(([k]) => k !== 'report').map(([, v]) => v);

function xlsxText(body: Buffer): string {
  return Object.values(unzipSync(new Uint8Array(body))).map((b) => new TextDecoder().decode(b)).join('\n');
}

describe('no talk, note or 鉴定表 content in any ballot output, live frame or archive', () => {
  let t: TestApp;
  let m: TestMeeting;
  let live: LiveSubscriber;
  let drawn: string[] = [];
  const outputs = new Map<string, string>();

  beforeAll(async () => {
    t = await makeTestApp();
    m = await makeMeeting(t, { roster: 72, signIn: 72, liveK: 5 });
    live = await subscribeLive(t, m.meetingId, m.session);
    const base = `/api/meetings/${m.meetingId}/inspection`;
    // Half the hall votes, then the team draws and writes while the rest vote, so live frames follow the writes.
    for (const token of m.tokens.slice(0, 36)) expect((await cast(t, token, fullPackage(m.form!, 1, '村里路灯坏了'))).statusCode).toBe(200);
    let w = await call<Workspace>(t, m.session, 'POST', `${base}/draw`, { seed: MARK.seed });
    drawn = w.talks.people.filter((p) => p.role === 'drawn').map((p) => p.name);
    expect(drawn).toHaveLength(26);
    for (const p of w.talks.people.slice(0, 10)) await call(t, m.session, 'PATCH', `${base}/talks/${p.id}`, { done: true, notes: `${MARK.talkNote}${p.name}` });
    w = await call<Workspace>(t, m.session, 'POST', `${base}/talks`, { name: MARK.added, detail: '群众' });
    await call(t, m.session, 'PUT', `${base}/records`, { records: [{ label: '会议记录', checked: true, findings: MARK.record }] });
    await call(t, m.session, 'POST', `${base}/inquiries`, { title: MARK.inquiryTitle, body: MARK.inquiryBody });
    await call(t, m.session, 'PUT', `${base}/appraisal`, { values: { 把握政治方向: MARK.appraisal }, grade: '好', comment: MARK.appraisalComment });
    await call(t, m.session, 'PUT', `${base}/report`, { section1Note: '', section3: MARK.report, section4: '', section5: '', meetingNotes: MARK.meetingNote });
    for (const token of m.tokens.slice(36)) expect((await cast(t, token, fullPackage(m.form!, 2))).statusCode).toBe(200);
    // A phone asking about its meeting after the writes.
    const status = await meetingStatus(t, m.tokens[0]!);
    expect(status.statusCode, status.body).toBe(200);
    outputs.set('phone meeting status', status.body);
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/seal`);
    await live.waitFor((msgs) => msgs.some((x) => x.type === 'turnout' && x.state === 'sealed'));
    // Another extension after the seal: the sealed archive was already written, and stays as it was.
    await call(t, m.session, 'POST', `${base}/draw/extend`, { count: 30 });

    const get = async (name: string, url: string, binary = false) => {
      const r = await t.app.inject({ method: 'GET', url, headers: m.session.headers });
      expect(r.statusCode, `${name}: ${r.body.slice(0, 200)}`).toBe(200);
      outputs.set(name, binary ? xlsxText(r.rawPayload) : r.body);
      return r;
    };
    await get('meeting', `/api/meetings/${m.meetingId}`);
    await get('results', `/api/meetings/${m.meetingId}/results`);
    await get('print data', `/api/meetings/${m.meetingId}/report`);
    await get('report.xlsx', `/api/meetings/${m.meetingId}/report.xlsx`, true);
    await get('report.csv', `/api/meetings/${m.meetingId}/report.csv`);
    await get('meeting audit', `/api/meetings/${m.meetingId}/audit`);
    await get('meeting archive', `/api/meetings/${m.meetingId}/archive`);
    const year = await get('year archive', `/api/campaigns/${m.campaignId}/archive`);
    await get('year summary', `/api/campaigns/${m.campaignId}/summary`);
    await get('year summary.xlsx', `/api/campaigns/${m.campaignId}/summary.xlsx`, true);
    const imported = await call<{ imported: { id: number }[] }>(t, m.session, 'POST', '/api/archives/import', year.json());
    await get('imported archive report', `/api/imported-archives/${imported.imported[0]!.id}/report`);
    await get('imported archive', `/api/imported-archives/${imported.imported[0]!.id}`);
    outputs.set('live frames', JSON.stringify(live.messages));
    outputs.set('server log', t.logs.join('\n'));
    // The archive and the ballots as stored in the database (bytes read as UTF-8, so the search can find text in them).
    const asText = (rows: object[]) => JSON.stringify(rows, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v));
    outputs.set('archives table', asText((await sql<object>`select * from archives`.execute(t.db)).rows));
    outputs.set('ballots table', asText((await sql<object>`select * from ballots`.execute(t.db)).rows));
  }, 120_000);

  afterAll(async () => {
    live?.close();
    await t?.close();
  });

  it('the team really wrote everything it is searched for (the search could fail)', async () => {
    const w = await call<Workspace>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/inspection`);
    const all = JSON.stringify(w);
    for (const v of Object.values(MARK)) expect(all).toContain(v);
    for (const name of drawn) expect(all).toContain(name);
    expect(live.snapshots().length).toBeGreaterThan(5);
    expect(outputs.size).toBeGreaterThanOrEqual(17);
  });

  it('no ballot output, frame, archive or log line holds any of it', () => {
    for (const [where, text] of outputs) {
      for (const v of Object.values(MARK)) expect(text.includes(v), `${where} contains ${v}`).toBe(false);
      for (const name of drawn) expect(text.includes(name), `${where} names drawn person ${name}`).toBe(false);
    }
  });

  it('the report and its Word file carry the team’s own sections, and nothing else the team wrote', async () => {
    const model = await call<object>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/inspection/report`);
    const docx = await t.app.inject({ method: 'GET', url: `/api/meetings/${m.meetingId}/inspection/report.docx`, headers: m.session.headers });
    const zip = await t.app.inject({ method: 'GET', url: `/api/campaigns/${m.campaignId}/inspection/reports.zip`, headers: m.session.headers });
    const zipped = Object.values(unzipSync(new Uint8Array(zip.rawPayload))).map((b) => xlsxText(Buffer.from(b))).join('\n');
    for (const [where, text] of [['report JSON', JSON.stringify(model)], ['report.docx', xlsxText(docx.rawPayload)], ['reports.zip', zipped]] as const) {
      expect(text, where).toContain(MARK.report);
      for (const v of NEVER_IN_REPORT) expect(text.includes(v), `${where} contains ${v}`).toBe(false);
      for (const name of drawn) expect(text.includes(name), `${where} names ${name}`).toBe(false);
    }
  });

  it('the 考察 tables hold no key into credentials, ballots, receipts or the tally', async () => {
    const tables = (await t.db.introspection.getTables()).filter((x) => x.name.startsWith('inspection_'));
    expect(tables.map((x) => x.name).sort()).toEqual([
      'inspection_appraisals', 'inspection_draws', 'inspection_imports', 'inspection_inquiries', 'inspection_records', 'inspection_reports', 'inspection_settings', 'inspection_talks',
    ]);
    let references = 0;
    for (const table of tables) {
      for (const c of table.columns) expect(c.name, `${table.name}.${c.name}`).not.toMatch(/ballot|credential|receipt|token|tally|roster|entry/);
      const fks = await referencedTables(t, table.name);
      references += fks.length;
      for (const fk of fks) expect(['meetings', 'campaigns'], `${table.name} references ${fk}`).toContain(fk);
    }
    // The catalogue query found the keys there are: every table but the imported files hangs off a meeting or a campaign.
    expect(references).toBe(tables.length - 1);
  });
});

/** The tables `table`'s foreign keys point to, from each database's own catalogue. */
async function referencedTables(t: TestApp, table: string): Promise<string[]> {
  const rows = t.backend === 'postgres'
    ? await sql<{ name: string }>`select confrelid::regclass::text as name from pg_constraint where conrelid = ${table}::regclass and contype = 'f'`.execute(t.db)
    : await sql<{ name: string }>`select "table" as name from pragma_foreign_key_list(${table})`.execute(t.db);
  return rows.rows.map((r) => r.name);
}
