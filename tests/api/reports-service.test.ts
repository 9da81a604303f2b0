/**
 * ReportService (server/reports/reports.service.ts) on one small closed meeting, fast enough to run under
 * Stryker: the report of a meeting (refused before the close; the comments kept at close, or read from
 * the ballots), its sheets, the XLSX (read back with exceljs: numbers, percent cells, widths, the frozen
 * header) and the CSV, the year summary, and the report of an archive imported from another Ceping.
 * Figures are checked against tests/helpers/recount.ts, which shares no code with server/counting.
 */
import ExcelJS from 'exceljs';
import Papa from 'papaparse';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BallotPackage } from '../../server/forms/form.schemas.ts';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { call, makeMeeting, type TestMeeting } from '../helpers/meeting.ts';
import { loginAs } from '../helpers/auth.ts';
import { fullPackage } from '../helpers/packages.ts';
import { cast } from '../helpers/phone.ts';
import { countsOfResults, normalizeSent, recountStored } from '../helpers/recount.ts';

describe('the report service', () => {
  let t: TestApp;
  let m: TestMeeting;
  let sent: BallotPackage[];
  const texts = ['道路要修。', '  多听群众意见  ', '', '班子团结。'];
  beforeEach(async () => {
    t = await makeTestApp();
    m = await makeMeeting(t, { kind: 'station', roster: 5, signIn: 5, overrideReason: '一人请假' });
    sent = texts.map((text, i) => fullPackage(m.form!, 1 + (i % 3), text));
    for (const [i, pkg] of sent.entries()) expect((await cast(t, m.tokens[i]!, pkg)).statusCode).toBe(200);
  });
  afterEach(async () => {
    await t.close();
  });

  const reports = () => t.app.services.reports;
  const close = () => call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
  const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code);
  const expected = () => recountStored(m.form!, sent.map((p) => normalizeSent(m.form!, p as Record<string, unknown>)));
  const expectedComments = texts.map((x) => x.trim()).filter((x) => x !== '');

  it('a meeting\'s report: refused before the close, then the figures, the paragraph and the comments kept at close or read from the ballots', async () => {
    expect(await codeOf(reports().meetingReport(m.meetingId))).toBe('BAD_STATE');
    expect(await codeOf(reports().meetingReport(m.meetingId + 99))).toBe('NOT_FOUND');
    await close();
    const report = await reports().meetingReport(m.meetingId);
    expect(report.meeting).toMatchObject({ id: m.meetingId, unitName: '红旗村', state: 'closed' });
    expect(report.results.turnout).toMatchObject({ expected: 5, present: 5, issued: 5, returned: 4 });
    expect(countsOfResults(report.results.parts)).toEqual(expected());
    expect(report.paragraph).toContain('本次会议应到5人，实到5人，发出测评票5张，收回4张');
    expect([...report.comments].sort()).toEqual([...expectedComments].sort());
    // Without the kept list (a meeting closed before they were kept) the ballots give the same, in the same order.
    const kept = report.comments;
    await t.db.updateTable('meetings').set({ comments_json: null }).where('id', '=', m.meetingId).execute();
    expect((await reports().meetingReport(m.meetingId)).comments).toEqual(kept);
    // The kept list is what is read when there is one (here one changed by hand, to tell them apart).
    await t.db.updateTable('meetings').set({ comments_json: JSON.stringify(['只在保存的列表里']) }).where('id', '=', m.meetingId).execute();
    expect((await reports().meetingReport(m.meetingId)).comments).toEqual(['只在保存的列表里']);
    // A meeting whose figures were not kept is recounted: the same figures.
    await t.db.updateTable('meetings').set({ results_json: null }).where('id', '=', m.meetingId).execute();
    expect(countsOfResults((await reports().meetingReport(m.meetingId)).results.parts)).toEqual(expected());
  });

  it('the sheets, the XLSX and the CSV carry the meeting\'s names and figures', async () => {
    await close();
    const { report, sheets } = await reports().meetingSheets(m.meetingId);
    expect(report.meeting.id).toBe(m.meetingId);
    expect(sheets[0]!.rows.slice(0, 2)).toEqual([['单位', '红旗村'], ['年度', 2020]]);

    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await reports().meetingXlsx(m.meetingId)) as unknown as ArrayBuffer);
    expect(wb.creator).toBe('Ceping');
    expect(wb.worksheets.map((w) => w.name)).toEqual(sheets.map((s) => s.name));
    for (const [i, s] of sheets.entries()) {
      const ws = wb.worksheets[i]!;
      expect(ws.getRow(1).values).toEqual([undefined, ...s.header]);
      expect(ws.getRow(1).font?.bold).toBe(true);
      expect(ws.views).toEqual([expect.objectContaining({ state: 'frozen', ySplit: 1 })]);
      s.rows.forEach((r, ri) => {
        const row = ws.getRow(ri + 2);
        r.forEach((c, ci) => {
          const cell = row.getCell(ci + 1);
          if (c !== null && typeof c === 'object') {
            expect(cell.value).toBe(c.percent.tenths / 1000);
            expect(cell.numFmt).toBe('0.0%');
          } else {
            expect(cell.value ?? null).toEqual(c);
            expect(cell.numFmt ?? 'General').toBe('General');
          }
        });
      });
      // Columns as wide as their longest text (two units a character), between 8 and 40.
      for (const [ci, col] of (ws.columns ?? []).entries()) {
        const longest = Math.max(...[s.header[ci] ?? '', ...s.rows.map((r) => { const c = r[ci]; return c === null || c === undefined ? '' : typeof c === 'object' ? c.percent.text : String(c); })].map((x) => x.length * 2));
        expect(col.width, `${s.name} column ${ci + 1}`).toBe(Math.min(40, Math.max(8, longest)));
      }
    }
    // A sheet with numbers and a sheet of comments at least; some column is at a bound.
    expect(wb.worksheets.some((w) => (w.columns ?? []).some((c) => c.width === 8))).toBe(true);

    const csv = (await reports().meetingCsv(m.meetingId)).toString('utf8');
    expect(csv.startsWith('\ufeff')).toBe(true);
    const rows = Papa.parse<string[]>(csv.slice(1), { skipEmptyLines: true }).data;
    for (const s of sheets) expect(rows.some((r) => r[0] === s.name)).toBe(true);
    for (const c of expectedComments) expect(csv).toContain(c);
  });

  it('the year summary: one row per meeting of every unit, closed or not; an unknown year is refused', async () => {
    await close();
    const second = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 2, session: m.session });
    expect(await codeOf(reports().campaignSummary(9999))).toBe('NOT_FOUND');
    const s = await reports().campaignSummary(m.campaignId);
    expect(s).toMatchObject({ year: 2020, township: '插旗镇' });
    expect(s.rows).toHaveLength(1);
    const other = await reports().campaignSummary(second.campaignId);
    expect(other.rows).toHaveLength(1);
    // A second unit of the first year, its meeting still voting: a row of its own.
    const unit = await call<{ id: number }>(t, m.session, 'POST', `/api/campaigns/${m.campaignId}/units`, { name: '农业服务中心', kind: 'station', reserveCandidates: [] });
    await call(t, m.session, 'POST', `/api/units/${unit.id}/meetings`, {});
    const both = await reports().campaignSummary(m.campaignId);
    expect(both.rows).toHaveLength(2);
    expect(JSON.stringify(both.rows[0])).toContain('红旗村');
    expect(JSON.stringify(both.rows[1])).toContain('农业服务中心');

    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await reports().campaignSummaryXlsx(m.campaignId)) as unknown as ArrayBuffer);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['年度汇总']);
    expect(wb.worksheets[0]!.rowCount).toBe(3);
    expect(String(wb.worksheets[0]!.getRow(2).getCell(1).value ?? '') + JSON.stringify(wb.worksheets[0]!.getRow(2).values)).toContain('红旗村');
  });

  it('the report of a meeting sealed on another Ceping, read from its imported archive', async () => {
    await close();
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/seal`);
    const own = await reports().meetingReport(m.meetingId);
    const archive = await call<unknown>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/archive`);
    const b = await makeTestApp();
    try {
      const admin = await loginAs(b);
      const imported = await b.app.inject({ method: 'POST', url: '/api/archives/import?label=one.json', headers: admin.headers, payload: archive as object });
      expect(imported.statusCode, imported.body).toBe(200);
      const id = (imported.json() as { imported: { id: number }[] }).imported[0]!.id;
      const viewed = await b.app.services.reports.importedReport(id);
      expect(viewed.verified).toBe(true);
      expect(viewed.problems).toEqual([]);
      expect(viewed.fingerprint).toMatch(/^[0-9A-F]{4} /);
      expect(viewed.report.results).toEqual(own.results);
      // The same texts; their order is keyed by the signer's fingerprint there (no pepper travels), not as here.
      expect([...viewed.report.comments].sort()).toEqual([...own.comments].sort());
      expect(viewed.report.meeting).toMatchObject({ unitName: '红旗村', state: 'sealed', year: 2020, township: '插旗镇' });
    } finally {
      await b.close();
    }
  });
});
