/**
 * The 考察报告 as Word files: each .docx is unzipped (fflate) and its XML read with a real XML parser
 * (jsdom's DOMParser), never searched as a string of bytes alone. Section 二's figures are checked
 * against the sealed archive's signed results and against the test's own count of what it cast;
 * tied recommendations are shown as ties; Chinese (a character outside the BMP included) survives;
 * the layout is A4 with 仿宋/黑体 and a page number. Then the year: progress, the .zip of every
 * report, and the 考察 file exported and imported on another server, whose reports take section 二
 * from the imported archive.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { unzipSync } from 'fflate';
import { JSDOM } from 'jsdom';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { call, makeMeeting, type TestMeeting } from '../helpers/meeting.ts';
import { loginAs } from '../helpers/auth.ts';
import { cast } from '../helpers/phone.ts';
import { randomValidPackage, seededRng } from '../factories/forms.ts';
import type { BallotPackage } from '../../server/forms/form.schemas.ts';
import type { RatingResult, RecommendResult, Results } from '../../server/counting/tally.ts';
import type { Progress, Workspace } from '../../server/inspection/inspection.schemas.ts';

const W = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';
const { DOMParser } = new JSDOM().window;

interface Docx {
  files: Record<string, Uint8Array>;
  document: Document;
  /** Every paragraph outside tables, its text joined. */
  paragraphs: string[];
  /** Every table: rows of cell texts. */
  tables: string[][][];
  xml(name: string): Document;
}

function readDocx(body: Buffer): Docx {
  const files = unzipSync(new Uint8Array(body));
  const xml = (name: string) => {
    const bytes = files[name];
    if (!bytes) throw new Error(`${name} is not in the .docx`);
    const doc = new DOMParser().parseFromString(new TextDecoder().decode(bytes), 'application/xml');
    if (doc.getElementsByTagName('parsererror').length > 0) throw new Error(`${name} is not well-formed XML`);
    return doc;
  };
  const document = xml('word/document.xml');
  const text = (el: Element) => [...el.getElementsByTagNameNS(W, 't')].map((t) => t.textContent).join('');
  const bodyEl = document.getElementsByTagNameNS(W, 'body')[0]!;
  const paragraphs = [...bodyEl.children].filter((e) => e.localName === 'p').map(text);
  const tables = [...bodyEl.children]
    .filter((e) => e.localName === 'tbl')
    .map((tbl) => [...tbl.children].filter((r) => r.localName === 'tr').map((tr) => [...tr.children].filter((c) => c.localName === 'tc').map(text)));
  return { files, document, paragraphs, tables, xml };
}

/** The test's own count of what it cast: part/subject → grade key → n, and part D name → votes. */
function countCast(packages: BallotPackage[]) {
  const grades = new Map<string, Map<string, number>>();
  const votes = new Map<string, number>();
  for (const pkg of packages) {
    for (const [key, answer] of Object.entries(pkg)) {
      if (answer && 'grades' in answer) {
        for (const [s, g] of Object.entries(answer.grades)) {
          const row = grades.get(`${key}/${s}`) ?? new Map<string, number>();
          row.set(g, (row.get(g) ?? 0) + 1);
          grades.set(`${key}/${s}`, row);
        }
      }
      if (answer && 'picks' in answer) for (const p of answer.picks) votes.set(p, (votes.get(p) ?? 0) + 1);
    }
  }
  return { grades, votes };
}

describe('the 考察报告 in Word', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp({ now: () => new Date('2020-11-26T08:00:00+08:00') });
  });
  afterEach(async () => {
    await t.close();
  });

  const docx = async (m: TestMeeting) => {
    const res = await t.app.inject({ method: 'GET', url: `/api/meetings/${m.meetingId}/inspection/report.docx`, headers: m.session.headers });
    expect(res.statusCode, res.body.slice(0, 200)).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.wordprocessingml.document');
    return { res, doc: readDocx(res.rawPayload) };
  };

  it('builds section 二 from the sealed results, shows ties as ties, and keeps every Chinese character', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 14, signIn: 14, members: 3, candidates: 4 });
    const form = m.form!;
    const D = form.parts.find((p) => p.kind === 'recommend')!;
    if (D.kind !== 'recommend') throw new Error('no part D');
    const [c1, c2, c3] = D.candidates;
    // Candidates 1 and 2 get 6 votes each, candidate 3 gets 2: a tie at the top.
    const picks = [[c1, c2], [c1, c2], [c1, c2], [c1, c2], [c1, c2], [c1, c3], [c2, c3], [], [], [], [], [], [], []];
    const rng = seededRng(12);
    const sent: BallotPackage[] = [];
    for (const [i, token] of m.tokens.entries()) {
      const pkg = randomValidPackage(form, rng);
      pkg.D = { picks: picks[i]!.map((c) => c!.key), writeIns: [] };
      const r = await cast(t, token, pkg);
      expect(r.statusCode, r.body).toBe(200);
      sent.push(pkg);
    }
    const base = `/api/meetings/${m.meetingId}/inspection`;
    await call<Workspace>(t, m.session, 'PUT', `${base}/report`, {
      section1Note: '班子分工明确，团结协作。',
      section3: '全年完成𠮷祥路硬化3.2公里。\n\n新建便民服务点2个，群众满意。',
      // Control characters (as text pasted from Word can carry), which XML cannot hold: dropped, so Word still opens the file.
      section4: '学习记录\u0007不够\u000B规范。',
      section5: '综合评价为“较好”。\n建议加强理论学习。',
      meetingNotes: '碰头会纪要：不应出现在报告中',
    });

    // Before the seal: section 二 waits for it.
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    const early = (await docx(m)).doc;
    expect(early.paragraphs).toContain('测评结果尚未封存。结果封存后，本部分由系统根据封存的测评结果自动生成。');

    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/seal`);
    const archiveFile = await call<{ record: { results: Results; signer: { fingerprint: string } }; sha256: string }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/archive`);
    const sealed = archiveFile.record.results;
    const { res, doc } = await docx(m);
    expect(decodeURIComponent(String(res.headers['content-disposition']))).toContain("filename*=UTF-8''红旗村考察报告.docx");

    // Title, the five sections in order, the team's texts as paragraphs, never the 碰头会 notes.
    const p = doc.paragraphs;
    expect(p[0]).toBe('红旗村2020年度党组织政治建设考察暨班子年度考核考察报告');
    const headings = ['一、班子集体及成员情况', '二、参会及测评情况', '三、本年度主要工作成绩', '四、存在的问题', '五、考察组综合评价及工作建议'];
    const at = headings.map((h) => p.indexOf(h));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(p[at[0]! + 1]).toBe('红旗村班子共有成员3人：成员1（党支部书记）、成员2（委员1）、成员3（委员2）。');
    expect(p[at[0]! + 2]).toBe('班子分工明确，团结协作。');
    expect(p.slice(at[2]! + 1, at[3])).toEqual(['全年完成𠮷祥路硬化3.2公里。', '新建便民服务点2个，群众满意。']);
    expect(p.slice(at[3]! + 1, at[4])).toEqual(['学习记录不够规范。']);
    expect(p.slice(at[4]! + 1, at[4]! + 3)).toEqual(['综合评价为“较好”。', '建议加强理论学习。']);
    expect(p.join('\n')).not.toContain('碰头会纪要');

    // Section 二: turnout and ballots as sealed.
    const t2 = sealed.turnout;
    expect(p).toContain(`本次会议应到${t2.expected}人，实到${t2.present}人（以签到表为准）。`);
    expect(t2).toMatchObject({ expected: 14, present: 14, issued: 14, returned: 14 });
    expect(p).toContain(`发出测评票14张，收回14张，其中各部分均有效的票${sealed.ballots.valid}张。`);

    // Each rating part's table: every cell equals the sealed results, and the counts equal the test's own count.
    const tallied = countCast(sent);
    const ratingParts = sealed.parts.filter((x): x is RatingResult => x.kind === 'rating');
    // Tables follow their captions in the body: pair them in document order.
    const bodyEl = doc.document.getElementsByTagNameNS(W, 'body')[0]!;
    const captioned: { caption: string; rows: string[][] }[] = [];
    let lastParagraph = '';
    let k = 0;
    for (const el of [...bodyEl.children]) {
      if (el.localName === 'p') lastParagraph = [...el.getElementsByTagNameNS(W, 't')].map((x) => x.textContent).join('');
      if (el.localName === 'tbl') captioned.push({ caption: lastParagraph, rows: doc.tables[k++]! });
    }
    const tableOf = (caption: string) => {
      const found = captioned.filter((c) => c.caption === caption);
      expect(found, caption).toHaveLength(1);
      return found[0]!.rows;
    };
    for (const part of ratingParts) {
      const table = tableOf(`${part.title}（有效票${part.valid}张${part.void > 0 ? `，废票${part.void}张` : ''}）`);
      const rateNames = part.scale === 'quality' ? ['好评率'] : ['优秀率', '称职以上率', '不称职率'];
      expect(table[0]).toEqual(['测评对象', ...part.grades.map((g) => g.label), part.abstainLabel, ...rateNames]);
      expect(table).toHaveLength(part.rows.length + 1);
      part.rows.forEach((row, i) => {
        const cells = table[i + 1]!;
        expect(cells.slice(1, 1 + part.grades.length)).toEqual(row.counts.map((c, gi) => `${c}（${row.shares[gi]!.text}）`));
        const counted = tallied.grades.get(`${part.key}/${row.subject.key}`)!;
        expect(row.counts).toEqual(part.grades.map((g) => counted.get(g.key) ?? 0));
        expect(cells[1 + part.grades.length]).toBe(`${row.abstain}（${row.abstainShare.text}）`);
        const rates = part.scale === 'quality' ? [row.rates!.good!] : [row.rates!.excellent!, row.rates!.competentOrBetter!, row.rates!.incompetent!];
        expect(cells.slice(2 + part.grades.length)).toEqual(rates.map((r) => r.text));
      });
    }

    // Part D: the tie at the top shares 并列第1, and both names are in the sentence.
    const rec = sealed.parts.find((x): x is RecommendResult => x.kind === 'recommend')!;
    expect(rec.ranking.slice(0, 2).map((c) => c.votes)).toEqual([6, 6]);
    expect(tallied.votes.get(c1!.key)).toBe(6);
    expect(tallied.votes.get(c2!.key)).toBe(6);
    const ranking = tableOf(`${rec.title}得票情况`);
    expect(ranking[0]).toEqual(['名次', '姓名', '来源', '得票', '得票率']);
    expect(ranking.slice(1).map((r) => [r[0], r[1], r[3], r[4]])).toEqual([
      ['并列第1', rec.ranking[0]!.name, '6', rec.ranking[0]!.share.text],
      ['并列第1', rec.ranking[1]!.name, '6', rec.ranking[1]!.share.text],
      ['第3', c3!.name, '2', rec.ranking[2]!.share.text],
      ['—', rec.ranking[3]!.name, '0', '0.0%'],
    ]);
    expect(new Set([rec.ranking[0]!.name, rec.ranking[1]!.name])).toEqual(new Set([c1!.name, c2!.name]));
    const sentence = p.find((x) => x.startsWith(`${rec.title}：`))!;
    expect(sentence).toContain(`得票最多的是${rec.ranking[0]!.name}、${rec.ranking[1]!.name}（并列第1，各得6票，得票率${rec.ranking[0]!.share.text}）`);

    // The archive it was built from, and the key that signed it.
    const note = p.find((x) => x.startsWith('附注：'))!;
    expect(note).toContain(`SHA-256：${archiveFile.sha256}`);
    expect(note).toContain(`封存签名公钥指纹 ${archiveFile.record.signer.fingerprint}`);
    const key = await call<{ fingerprint: string }>(t, m.session, 'GET', '/api/archive/public-key');
    expect(archiveFile.record.signer.fingerprint).toBe(key.fingerprint);
    expect(p).toContain('2020年11月26日');

    // The layout: A4, 仿宋 body, 黑体 headings, 楷体 subheadings, a PAGE field in both footers.
    const pgSz = doc.document.getElementsByTagNameNS(W, 'pgSz')[0]!;
    expect([pgSz.getAttributeNS(W, 'w'), pgSz.getAttributeNS(W, 'h')]).toEqual(['11906', '16838']);
    const fonts = new Set([...doc.document.getElementsByTagNameNS(W, 'rFonts')].map((f) => f.getAttributeNS(W, 'eastAsia')));
    for (const f of ['仿宋', '黑体', '楷体', '宋体']) expect(fonts.has(f), f).toBe(true);
    const footers = Object.keys(doc.files).filter((f) => /^word\/footer\d+\.xml$/.test(f));
    expect(footers.length).toBeGreaterThanOrEqual(2);
    for (const f of footers) {
      const instr = [...doc.xml(f).getElementsByTagNameNS(W, 'instrText')].map((x) => x.textContent?.trim());
      expect(instr, f).toContain('PAGE');
    }
    const settings = doc.xml('word/settings.xml');
    expect(settings.getElementsByTagNameNS(W, 'evenAndOddHeaders')).toHaveLength(1);
    const core = new TextDecoder().decode(doc.files['docProps/core.xml']);
    expect(core).toContain('红旗村2020年度党组织政治建设考察暨班子年度考核考察报告');

    // The print view's JSON is the same model.
    const model = await call<{ sections: { heading: string }[]; source: { archiveSha256: string } }>(t, m.session, 'GET', `${base}/report`);
    expect(model.sections.map((s) => s.heading)).toEqual(headings);
    expect(model.source.archiveSha256).toBe(archiveFile.sha256);
  });
});

describe('the year: progress, every report in one .zip, and the 考察 file moved to another server', () => {
  let t: TestApp;
  let other: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
    other = await makeTestApp();
  });
  afterEach(async () => {
    await t.close();
    await other.close();
  });

  it('says where each unit stands, zips every report, and exports/imports what the teams wrote', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 12, signIn: 12, members: 2 });
    const session = m.session;
    // A second unit in the same campaign, with no meeting yet.
    await call(t, session, 'POST', `/api/campaigns/${m.campaignId}/units`, { name: '城南社区', kind: 'community' });
    const base = `/api/meetings/${m.meetingId}/inspection`;
    let w = await call<Workspace>(t, session, 'POST', `${base}/draw`, {});
    for (const person of w.talks.people.slice(0, 5)) await call(t, session, 'PATCH', `${base}/talks/${person.id}`, { done: true, notes: `谈话${person.name}` });
    await call(t, session, 'PUT', `${base}/records`, { records: [{ label: '会议记录', checked: true, findings: '齐全' }, { label: '学习记录', checked: true, findings: '' }] });
    w = await call<Workspace>(t, session, 'PUT', `${base}/appraisal`, {
      values: Object.fromEntries(w.appraisal.template.sections.flatMap((s) => s.fields).map((f) => [f, `${f}情况良好`])),
      grade: '好',
      comment: '考察组评价：好',
    });
    await call(t, session, 'PUT', `${base}/report`, { section1Note: '', section3: '成绩', section4: '', section5: '建议', meetingNotes: '' });
    const rng = seededRng(7);
    for (const token of m.tokens) expect((await cast(t, token, randomValidPackage(m.form!, rng))).statusCode).toBe(200);
    await call(t, session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    await call(t, session, 'POST', `/api/meetings/${m.meetingId}/seal`);

    const progress = await call<Progress>(t, session, 'GET', `/api/campaigns/${m.campaignId}/inspection/progress`);
    expect(progress.rows.map((r) => [r.unitName, r.meetingId, r.talks, r.records, r.appraisal, r.report, r.sealed])).toEqual([
      ['红旗村', m.meetingId, { done: 5, listed: 14, minimum: 14, drawn: true }, { checked: 2, total: 3 }, 'filled', 'partial', true],
      ['城南社区', null, { done: 0, listed: 0, minimum: 30, drawn: false }, { checked: 0, total: 3 }, 'empty', 'empty', false],
    ]);

    const zip = await t.app.inject({ method: 'GET', url: `/api/campaigns/${m.campaignId}/inspection/reports.zip`, headers: session.headers });
    expect(zip.statusCode).toBe(200);
    expect(zip.headers['content-type']).toBe('application/zip');
    expect(decodeURIComponent(String(zip.headers['content-disposition']))).toContain('插旗镇2020年度考察报告.zip');
    const entries = unzipSync(new Uint8Array(zip.rawPayload));
    expect(Object.keys(entries)).toEqual(['红旗村考察报告.docx']);
    const inZip = readDocx(Buffer.from(entries['红旗村考察报告.docx']!));
    const single = readDocx((await t.app.inject({ method: 'GET', url: `${base}/report.docx`, headers: session.headers })).rawPayload);
    expect(inZip.paragraphs).toEqual(single.paragraphs);
    expect(inZip.tables).toEqual(single.tables);

    // Export: a file of its own, no ballot in it; import it, with the year archive, on another server.
    const exported = await t.app.inject({ method: 'GET', url: `/api/campaigns/${m.campaignId}/inspection/export`, headers: session.headers });
    expect(exported.statusCode).toBe(200);
    const file = exported.json() as { format: string; units: { talks: unknown[]; archiveSha256: string }[]; sha256: string };
    expect(file.format).toBe('ceping.inspection-year');
    expect(file.units[0]!.talks).toHaveLength(14);
    expect(exported.body).not.toContain('"ballots"');
    const archiveSha = (await call<{ sha256: string }>(t, session, 'GET', `/api/meetings/${m.meetingId}/archive`)).sha256;
    expect(file.units[0]!.archiveSha256).toBe(archiveSha);
    const yearArchive = (await t.app.inject({ method: 'GET', url: `/api/campaigns/${m.campaignId}/archive`, headers: session.headers })).json() as object;

    const there = await loginAs(other);
    const damaged = await other.app.inject({ method: 'POST', url: '/api/inspection/import', headers: there.headers, payload: { ...file, township: '别的镇' } });
    expect(damaged.statusCode).toBe(400);
    expect(damaged.json().error.message).toContain('校验值不符');
    const notOne = await other.app.inject({ method: 'POST', url: '/api/inspection/import', headers: there.headers, payload: { hello: 1 } });
    expect(notOne.json().error.code).toBe('INSPECTION_FILE_INVALID');

    // Without the archive, the imported report says section 二 is missing.
    const imported = await call<{ imported: { id: number; units: number }; duplicate: boolean }>(other, there, 'POST', '/api/inspection/import?label=考察材料.json', file);
    expect(imported).toMatchObject({ duplicate: false, imported: { units: 1 } });
    const again = await call<{ duplicate: boolean }>(other, there, 'POST', '/api/inspection/import', file);
    expect(again.duplicate).toBe(true);
    const zipOf = async () => {
      const r = await other.app.inject({ method: 'GET', url: `/api/inspection/imports/${imported.imported.id}/reports.zip`, headers: there.headers });
      expect(r.statusCode).toBe(200);
      return readDocx(Buffer.from(unzipSync(new Uint8Array(r.rawPayload))['红旗村考察报告.docx']!));
    };
    expect((await zipOf()).paragraphs.join('\n')).toContain('本机没有核验通过的该档案');

    await call(other, there, 'POST', '/api/archives/import', yearArchive);
    const fromImport = await zipOf();
    expect(fromImport.tables).toEqual(single.tables);
    expect(fromImport.paragraphs.filter((x) => !/^\d{4}年\d+月\d+日$/.test(x))).toEqual(single.paragraphs.filter((x) => !/^\d{4}年\d+月\d+日$/.test(x)));
    const list = await call<{ imports: { township: string; year: number; label: string; importedBy: string }[] }>(other, there, 'GET', '/api/inspection/imports');
    expect(list.imports).toEqual([expect.objectContaining({ township: '插旗镇', year: 2020, label: '考察材料.json' })]);
    const back = await other.app.inject({ method: 'GET', url: `/api/inspection/imports/${imported.imported.id}/file`, headers: there.headers });
    expect((back.json() as { sha256: string }).sha256).toBe(file.sha256);

    // The backup holds it all: the database download, opened on its own.
    const backup = await t.app.inject({ method: 'POST', url: '/api/admin/backup', headers: session.headers, payload: {} });
    expect(backup.statusCode).toBe(200);
    const copy = path.join(t.dir, 'copy.db');
    writeFileSync(copy, backup.rawPayload);
    const db = new Database(copy, { readonly: true });
    try {
      const n = (table: string) => (db.prepare(`select count(*) as n from ${table} where meeting_id = ?`).get(m.meetingId) as { n: number }).n;
      expect([n('inspection_talks'), n('inspection_draws'), n('inspection_records'), n('inspection_appraisals'), n('inspection_reports')]).toEqual([14, 1, 2, 1, 1]);
      const notes = db.prepare(`select notes from inspection_talks where meeting_id = ? and done = 1 order by id`).all(m.meetingId) as { notes: string }[];
      expect(notes.map((x) => x.notes)).toEqual(w.talks.people.slice(0, 5).map((x) => `谈话${x.name}`));
    } finally {
      db.close();
    }
  });

  it('describes every 考察 route in the OpenAPI document', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> };
    const expected: [string, string][] = [
      ['/api/meetings/{id}/inspection', 'get'], ['/api/meetings/{id}/inspection/draw', 'post'], ['/api/meetings/{id}/inspection/draw/extend', 'post'],
      ['/api/meetings/{id}/inspection/draw.txt', 'get'], ['/api/meetings/{id}/inspection/talks', 'post'], ['/api/meetings/{id}/inspection/talks/{talkId}', 'patch'],
      ['/api/meetings/{id}/inspection/talks/{talkId}', 'delete'], ['/api/meetings/{id}/inspection/records', 'put'], ['/api/meetings/{id}/inspection/inquiries', 'post'],
      ['/api/meetings/{id}/inspection/inquiries/{inquiryId}', 'put'], ['/api/meetings/{id}/inspection/inquiries/{inquiryId}', 'delete'],
      ['/api/meetings/{id}/inspection/appraisal', 'put'], ['/api/meetings/{id}/inspection/report', 'put'], ['/api/meetings/{id}/inspection/report', 'get'],
      ['/api/meetings/{id}/inspection/report.docx', 'get'], ['/api/campaigns/{id}/inspection/settings', 'get'], ['/api/campaigns/{id}/inspection/settings', 'put'],
      ['/api/campaigns/{id}/inspection/progress', 'get'], ['/api/campaigns/{id}/inspection/reports.zip', 'get'], ['/api/campaigns/{id}/inspection/export', 'get'],
      ['/api/inspection/import', 'post'], ['/api/inspection/imports', 'get'], ['/api/inspection/imports/{id}/file', 'get'], ['/api/inspection/imports/{id}/reports.zip', 'get'],
    ];
    for (const [p, method] of expected) expect(doc.paths[p]?.[method], `${method.toUpperCase()} ${p}`).toBeDefined();
    const draw = doc.paths['/api/meetings/{id}/inspection/draw']!.post as { requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } };
    expect(Object.keys(draw.requestBody.content['application/json']!.schema.properties)).toEqual(['seed', 'count', 'reason']);
  });
});
