import ExcelJS from 'exceljs';
import Papa from 'papaparse';
import { strFromU8, unzipSync } from 'fflate';
import { SaxesParser } from 'saxes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { call, makeMeeting } from '../helpers/meeting.ts';
import { randomValidPackage, seededRng } from '../factories/forms.ts';
import type { BallotPackage, Form } from '../../server/forms/form.schemas.ts';
import type { Results } from '../../server/counting/tally.ts';
import { cast } from '../helpers/phone.ts';
import { calculatorPercent } from '../helpers/oracle.ts';
import { fullPackage } from '../helpers/packages.ts';
import { breakdown, countStatements, type Counts } from '../helpers/statements.ts';
import { orderComments } from '../../server/counting/comments.ts';
import { testBackend } from '../helpers/pg.ts';

const onPostgres = testBackend === 'postgres';

/** An independent recount from the packages the test sent: part → subject → grade → count. */
function recount(form: Form, packages: BallotPackage[]) {
  const out = new Map<string, number>();
  const add = (k: string) => out.set(k, (out.get(k) ?? 0) + 1);
  for (const pkg of packages) {
    for (const part of form.parts) {
      const a = pkg[part.key];
      if (part.kind === 'rating' && a && 'grades' in a) for (const s of part.subjects) add(`${part.key}/${s.label}/${s.detail ?? ''}/${a.grades[s.key]}`);
      if (part.kind === 'recommend' && a && 'picks' in a) {
        for (const k of a.picks) add(`${part.key}/${part.candidates.find((c) => c.key === k)!.name}`);
        for (const w of a.writeIns) {
          const name = w.trim().replace(/\s+/g, '');
          add(`${part.key}/${part.candidates.find((c) => c.name.replace(/\s+/g, '') === name)?.name ?? name}`);
        }
      }
    }
  }
  return out;
}

/** What a strict XML 1.0 parser finds wrong in a document (a character XML cannot carry above all). */
function xmlErrors(xml: string): string[] {
  const errors: string[] = [];
  const parser = new SaxesParser();
  parser.on('error', (e) => errors.push(e.message));
  parser.write(xml).close();
  return errors;
}

function pctText(x: unknown): string {
  return `${((x as number) * 100).toFixed(1)}%`;
}

describe('reports agree with each other and with a recount', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  for (const seed of [1, 2, 3]) {
    it(`print data, paragraph, XLSX and CSV carry the same figures (seed ${seed})`, async () => {
      const rng = seededRng(seed);
      const voters = 12 + Math.floor(rng() * 30);
      const m = await makeMeeting(t, { kind: 'station', roster: voters + 2, signIn: voters, members: 2 + Math.floor(rng() * 4), overrideReason: '两人请假，经考察组同意' });
      const sent: BallotPackage[] = [];
      for (const token of m.tokens.slice(0, voters - Math.floor(rng() * 3))) {
        const pkg = randomValidPackage(m.form!, rng);
        const res = await cast(t, token, pkg);
        expect(res.statusCode, res.body).toBe(200);
        sent.push(pkg);
      }
      await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
      const report = await call<{ results: Results; paragraph: string; comments: string[] }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/report`);
      const expected = recount(m.form!, sent);

      // The JSON the print view renders equals the recount.
      const r = report.results;
      expect(r.turnout.returned).toBe(sent.length);
      for (const part of r.parts) {
        if (part.kind === 'rating') {
          for (const row of part.rows) {
            part.grades.forEach((g, i) => expect(row.counts[i], `${part.key} ${row.subject.label} ${g.label}`).toBe(expected.get(`${part.key}/${row.subject.label}/${row.subject.detail ?? ''}/${g.key}`) ?? 0));
            expect(row.abstain).toBe(expected.get(`${part.key}/${row.subject.label}/${row.subject.detail ?? ''}/abstain`) ?? 0);
            // Each share is its own ratio rounded half up, as a calculator gives it.
            row.counts.forEach((c, i) => expect(row.shares[i]!.text).toBe(calculatorPercent(c, part.valid)));
            expect(row.abstainShare.text).toBe(calculatorPercent(row.abstain, part.valid));
          }
        }
        if (part.kind === 'recommend') for (const c of part.ranking) expect(c.votes, c.name).toBe(expected.get(`${part.key}/${c.name}`) ?? 0);
      }

      // The sealed archive carries the very same figures.
      await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/seal`);
      const archive = await call<{ record: { results: Results } }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/archive`);
      expect(archive.record.results).toEqual(r);
      expect(report.comments.length).toBe(sent.filter((p) => p.E && 'text' in p.E && p.E.text.trim()).length);

      // The paragraph says the same numbers.
      const tt = r.turnout;
      expect(report.paragraph).toContain(`本次会议应到${tt.expected}人，实到${tt.present}人，发出测评票${tt.issued}张，收回${tt.returned}张`);
      const a = r.parts.find((p) => p.key === 'A')!;
      if (a.kind === 'rating') {
        const overall = a.rows.find((x) => x.subject.label === '总体评价')!;
        expect(report.paragraph).toContain(`总体评价${a.grades[0]!.label}${overall.counts[0]}票（${overall.shares[0]!.text}）`);
        expect(report.paragraph).toContain(`好评率${overall.rates!.good!.text}`);
      }

      // The spreadsheet: numbers as numbers, percentages as fractions with one decimal shown.
      const xlsx = await t.app.inject({ method: 'GET', url: `/api/meetings/${m.meetingId}/report.xlsx`, headers: m.session.headers });
      expect(xlsx.headers['content-type']).toContain('spreadsheetml');
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
      const csv = await t.app.inject({ method: 'GET', url: `/api/meetings/${m.meetingId}/report.csv`, headers: m.session.headers });
      expect(csv.rawPayload.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(true);
      const csvRows = Papa.parse<string[]>(csv.body.replace(/^\ufeff/, ''), { skipEmptyLines: true }).data;

      for (const part of r.parts) {
        if (part.kind !== 'rating') continue;
        const ws = wb.getWorksheet(part.title)!;
        expect(ws, part.title).toBeTruthy();
        const csvStart = csvRows.findIndex((row) => row[0] === part.title);
        part.rows.forEach((row, i) => {
          const x = ws.getRow(i + 2);
          expect(x.getCell(1).value).toBe(row.subject.label);
          part.grades.forEach((_g, gi) => {
            expect(x.getCell(3 + gi * 2).value).toBe(row.counts[gi]);
            expect(typeof x.getCell(4 + gi * 2).value).toBe('number');
            expect(pctText(x.getCell(4 + gi * 2).value)).toBe(row.shares[gi]!.text);
          });
          const c = csvRows[csvStart + 2 + i]!;
          expect(c[0]).toBe(row.subject.label);
          part.grades.forEach((_g, gi) => {
            expect(c[2 + gi * 2]).toBe(String(row.counts[gi]));
            expect(c[3 + gi * 2]).toBe(row.shares[gi]!.text);
          });
        });
      }
    });
  }

  it('summarises the year, one row per unit, with the headline rates from the same computation', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 6, signIn: 6 });
    const rng = seededRng(9);
    for (const token of m.tokens) {
      await cast(t, token, randomValidPackage(m.form!, rng));
    }
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    const summary = await call<{ rows: { unitName: string; turnout: { returned: number }; politicalGood: { text: string } | null }[] }>(t, m.session, 'GET', `/api/campaigns/${m.campaignId}/summary`);
    const report = await call<{ results: Results }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/report`);
    const a = report.results.parts.find((p) => p.key === 'A');
    expect(summary.rows).toHaveLength(1);
    expect(summary.rows[0]!.turnout.returned).toBe(6);
    if (a?.kind === 'rating') expect(summary.rows[0]!.politicalGood?.text).toBe(a.rows.find((x) => x.subject.label === '总体评价')!.rates!.good!.text);
    const xlsx = await t.app.inject({ method: 'GET', url: `/api/campaigns/${m.campaignId}/summary.xlsx`, headers: m.session.headers });
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
    expect(wb.getWorksheet('年度汇总')!.getRow(2).getCell(7).value).toBe(6);
  });

  it('lists the year by unit in the year\'s own order, a unit\'s newest meeting first (all read in one query)', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 2, signIn: 2 });
    const meetingsOf = new Map<number, number[]>();
    const detail0 = await call<{ units: { id: number }[] }>(t, m.session, 'GET', `/api/campaigns/${m.campaignId}`);
    meetingsOf.set(detail0.units[0]!.id, [m.meetingId]);
    for (const [i, name] of ['第二村', '第三村'].entries()) {
      const unit = await call<{ id: number }>(t, m.session, 'POST', `/api/campaigns/${m.campaignId}/units`, { name, kind: 'village', reserveCandidates: ['候选人1'] });
      await call(t, m.session, 'PUT', `/api/units/${unit.id}/team`, { members: [{ name: `书记${i}`, position: '党支部书记', isSecretary: true }] });
      const ids = [];
      for (let k = 0; k <= i; k++) ids.push((await call<{ id: number }>(t, m.session, 'POST', `/api/units/${unit.id}/meetings`, {})).id);
      meetingsOf.set(unit.id, ids);
    }
    const detail = await call<{ units: { id: number }[] }>(t, m.session, 'GET', `/api/campaigns/${m.campaignId}`);
    const expected = detail.units.flatMap((u) => [...meetingsOf.get(u.id)!].sort((x, y) => y - x));
    const summary = await call<{ rows: { meetingId: number; state: string }[] }>(t, m.session, 'GET', `/api/campaigns/${m.campaignId}/summary`);
    expect(expected).toHaveLength(4);
    expect(summary.rows.map((r) => r.meetingId)).toEqual(expected);
    expect(summary.rows.map((r) => r.state)).toEqual(expected.map((id) => (id === m.meetingId ? 'voting' : 'draft')));
  });

  it('names every candidate tied for the most votes: 汇总表, year summary, its XLSX and the paragraph', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 6, signIn: 6, candidates: 4 });
    const d = m.form!.parts.find((p) => p.key === 'D');
    if (d?.kind !== 'recommend') throw new Error('no part D');
    const [c1, c2, c3, c4] = d.candidates;
    // Three candidates with 2 votes each, one with 1 (at most maxPicks per ballot).
    const picks = [[c1!], [c1!], [c2!], [c2!], [c3!], [c3!, c4!].slice(0, d.maxPicks)];
    for (const [i, token] of m.tokens.entries()) {
      const pkg = { ...randomValidPackage(m.form!, seededRng(i)), D: { picks: picks[i]!.map((c) => c.key), writeIns: [] } };
      const res = await cast(t, token, pkg);
      expect(res.statusCode, res.body).toBe(200);
    }
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    const report = await call<{ results: Results; paragraph: string }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/report`);
    const ranking = report.results.parts.find((p) => p.key === 'D');
    if (ranking?.kind !== 'recommend') throw new Error('no D result');
    const tied = [c1!.name, c2!.name, c3!.name];
    expect(ranking.ranking.slice(0, 3).map((c) => [c.name, c.votes, c.rank, c.rankText])).toEqual(tied.map((n) => [n, 2, 1, '并列第1']));
    expect(report.paragraph).toContain(`${tied.join('、')}各得2票（33.3%），并列第1`);

    const summary = await call<{ rows: { topRecommended: { names: string[]; votes: number } | null }[] }>(t, m.session, 'GET', `/api/campaigns/${m.campaignId}/summary`);
    expect(summary.rows[0]!.topRecommended).toMatchObject({ names: tied, votes: 2 });
    const xlsx = await t.app.inject({ method: 'GET', url: `/api/campaigns/${m.campaignId}/summary.xlsx`, headers: m.session.headers });
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
    const sheet = wb.getWorksheet('年度汇总')!;
    const col = (sheet.getRow(1).values as unknown[]).indexOf('后备干部得票最多');
    expect(sheet.getRow(2).getCell(col).value).toBe(`${tied.join('、')}（并列第1，各2票）`);
    // The meeting's own spreadsheet gives each the shared rank.
    const own = await t.app.inject({ method: 'GET', url: `/api/meetings/${m.meetingId}/report.xlsx`, headers: m.session.headers });
    const wb2 = new ExcelJS.Workbook();
    await wb2.xlsx.load(own.rawPayload as unknown as ArrayBuffer);
    const dSheet = wb2.getWorksheet(ranking.title)!;
    expect([2, 3, 4].map((r) => [dSheet.getRow(r).getCell(1).value, dSheet.getRow(r).getCell(2).value])).toEqual(tied.map((n) => ['并列第1', n]));
  });

  it('writes a cell that Excel would run as a formula as plain text in the CSV', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 1, signIn: 1 });
    const pkg = randomValidPackage(m.form!, seededRng(3));
    pkg.D = { picks: [], writeIns: ['=HYPERLINK("x")'] };
    pkg.E = { text: '+1 建议' };
    expect((await cast(t, m.tokens[0]!, pkg)).statusCode).toBe(200);
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    const csv = (await t.app.inject({ method: 'GET', url: `/api/meetings/${m.meetingId}/report.csv`, headers: m.session.headers })).body;
    expect(csv).toContain(`'=HYPERLINK`);
    expect(csv).toContain(`'+1 建议`);
  });

  it('drops noncharacters and lone surrogates from a phone\'s 意见建议, so report.xlsx stays well-formed XML', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 3, liveK: 3, overrideReason: '审计测试会议' });
    // U+FFFF and U+FFFE are not XML at all; U+FDD0 and U+1FFFF are noncharacters; \ud800 a half of a pair (the
    // cast's JSON carries it as an escape). The phone's text is cleaned, not refused.
    const odd = 'nonchar\uffff\ufffe 建议\ufdd0\u{1ffff}\ud800 end';
    for (const [i, tok] of m.tokens.entries()) {
      const res = await cast(t, tok, fullPackage(m.form!, 1, i === 0 ? odd : ''));
      expect(res.statusCode, res.body).toBe(200);
    }
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    const xlsx = await t.app.inject({ method: 'GET', url: `/api/meetings/${m.meetingId}/report.xlsx`, headers: m.session.headers });
    expect(xlsx.statusCode).toBe(200);
    const files = unzipSync(new Uint8Array(xlsx.rawPayload));
    const xmlParts = Object.keys(files).filter((name) => name.endsWith('.xml') || name.endsWith('.rels'));
    expect(xmlParts).toContain('xl/sharedStrings.xml');
    for (const name of xmlParts) expect(xmlErrors(strFromU8(files[name]!)), name).toEqual([]);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
    const texts = wb.worksheets.flatMap((ws) => ws.getSheetValues().flat().filter((v): v is string => typeof v === 'string'));
    expect(texts).toContain('nonchar 建议 end');
  });
});

describe('comments kept at close', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp({ env: { LOG_LEVEL: 'silent' } });
  });
  afterEach(async () => {
    await t.close();
  });

  it('the report reads the comments kept at close and no ballot; without them it reads the ballots; the seal checks them', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 12, signIn: 10, overrideReason: '两人请假，经考察组同意' });
    const texts = ['加强村务公开。', '  多听群众意见  ', '', '   ', '道路要修。', '加强村务公开。', '班子团结。'];
    for (const [i, text] of texts.entries()) {
      const res = await cast(t, m.tokens[i]!, fullPackage(m.form!, 1 + (i % 3), text));
      expect(res.statusCode, res.body).toBe(200);
    }
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    const expected = texts.map((x) => x.trim()).filter((x) => x !== '');
    const url = `/api/meetings/${m.meetingId}/report`;
    const readsBallots = (c: Counts) => [...c.sql.keys()].filter((q) => /from\s+"?ballots"?/i.test(q));
    // The statements are counted at better-sqlite3, so on SQLite only; the rest holds on either database.
    const counted = async <T>(fn: () => Promise<T>): Promise<{ value: T; counts: Counts | null }> => {
      if (onPostgres) return { value: await fn(), counts: null };
      const c = countStatements(t.sqlite);
      try {
        return { value: await fn(), counts: c.counts };
      } finally {
        c.stop();
      }
    };
    const setKept = (json: string | null) => t.db.updateTable('meetings').set({ comments_json: json }).where('id', '=', m.meetingId).execute();

    const kept = await counted(() => call<{ comments: string[] }>(t, m.session, 'GET', url));
    const report = kept.value;
    expect([...report.comments].sort()).toEqual([...expected].sort());
    // The order every output uses: a hash of each text keyed with the server's pepper and the meeting.
    expect(report.comments).toEqual(orderComments(expected, `${t.pepper.toString('hex')}:${m.meetingId}`));
    if (kept.counts) {
      expect(kept.counts.statements, breakdown(kept.counts)).toBeGreaterThan(0);
      expect(readsBallots(kept.counts), breakdown(kept.counts)).toEqual([]);
    }

    // A meeting closed before comments were kept (the column empty) reads its ballots, and shows the same.
    const stored = (await t.db.selectFrom('meetings').select('comments_json').where('id', '=', m.meetingId).executeTakeFirstOrThrow()).comments_json!;
    expect(JSON.parse(stored)).toEqual(report.comments);
    await setKept(null);
    const fallback = await counted(() => call<{ comments: string[] }>(t, m.session, 'GET', url));
    expect(fallback.value.comments).toEqual(report.comments);
    if (fallback.counts) expect(readsBallots(fallback.counts).length, breakdown(fallback.counts)).toBeGreaterThan(0);

    // Kept comments that are not the ballots' stop the seal; the right ones let it through.
    await setKept(JSON.stringify((JSON.parse(stored) as string[]).map((x, i) => (i === 0 ? `${x}（改）` : x))));
    const refused = await t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/seal`, headers: m.session.headers });
    expect(refused.statusCode, refused.body).toBe(500);
    expect((await call<{ state: string }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}`)).state).toBe('closed');
    await setKept(stored);
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/seal`);
    expect((await call<{ comments: string[] }>(t, m.session, 'GET', url)).comments).toEqual(report.comments);
  });
});
