/**
 * What the reports say, checked against figures counted by hand: the paragraph for section 二 of the
 * 考察报告, the year summary's row and sheet, and the meeting's sheets. Each rate is named for what it
 * is (优秀率 is 优秀 alone, 称职以上率 is 优秀 + 称职), and each percentage is what a 监票人's calculator
 * gives (tests/helpers/oracle.ts), never read back from the code under test.
 */
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { ABSTAIN, type BallotPackage, type BallotSource, type Form } from '../../server/forms/form.schemas.ts';
import { validatePackage } from '../../server/ballots/validate-package.ts';
import { computeResults, flagsText, sumRows, tallyIncrements, type Results, type Turnout } from '../../server/counting/tally.ts';
import { reportParagraph } from '../../server/reports/paragraph.ts';
import { summaryRow, summarySheet, topRecommendedText } from '../../server/reports/summary.ts';
import { cellText, resultSheets, type Cell, type Sheet } from '../../server/reports/sheets.ts';
import { csvSafe, toCsv, toXlsx } from '../../server/reports/reports.service.ts';
import { xmlText } from '../../server/shared/text.ts';
import { strFromU8, unzipSync } from 'fflate';
import { SaxesParser } from 'saxes';
import ExcelJS from 'exceljs';
import type { MeetingView } from '../../server/meetings/meeting.view.ts';
import { makeForm, recommendPart } from '../factories/forms.ts';
import { calculatorPercent } from '../helpers/oracle.ts';

/** Counted from ballots typed in below; the expected figures are written out by hand from the same columns. */
function results(form: Form, ballots: { pkg: BallotPackage; source: BallotSource }[], turnout: Turnout): Results {
  const rows = sumRows(ballots.flatMap(({ pkg, source }) => {
    const c = validatePackage(form, pkg, source);
    if (!c.ok) throw new Error(c.problem.message);
    return tallyIncrements(form, c.pkg);
  }));
  return computeResults(form, rows, turnout);
}

// Team 张伟 (书记) and 王伟; candidates 张勇, 王勇, 李勇; no 优秀 quota, so any column is allowed.
const form = makeForm({ members: 2, candidates: 3, parts: { B: { quotas: [] } } });
const [zhang, wang, li] = recommendPart(form).candidates.map((c) => c.key);

/**
 * Seven phone ballots, one column each. By hand:
 * - A 总体评价: 好 4, 较好 2, 一般 1 → 好评率 6/7; the five aspects all 好 → 7/7.
 * - B 班子集体: 优秀 2, 称职 3, 基本称职 1, 不称职 1 → 优秀率 2/7, 称职以上率 5/7.
 * - B 张伟: 优秀 1, 称职 3, 不称职 3 → 不称职 3/7 > 1/3 and 优秀+称职 4/7 < 2/3: both flags.
 * - B 王伟: 优秀 1, 称职 5, 不了解 1 → 6/7, no flag.
 * - C 总体评价: 较好 3, 一般 4 → 好评率 3/7.
 * - D: 张勇 3, 王勇 3, 李勇 1 → 张勇 and 王勇 tied first.
 * - E: two comments.
 */
const A6 = ['good', 'good', 'good', 'good', 'fair', 'fair', 'average'];
const TEAM = ['excellent', 'excellent', 'competent', 'competent', 'competent', 'basic', 'incompetent'];
const M1 = ['excellent', 'competent', 'competent', 'competent', 'incompetent', 'incompetent', 'incompetent'];
const M2 = ['excellent', 'competent', 'competent', 'competent', 'competent', 'competent', ABSTAIN];
const C1 = ['fair', 'fair', 'fair', 'average', 'average', 'average', 'average'];
const D = [[zhang!], [zhang!, wang!], [zhang!, li!], [wang!], [wang!], [], []];
const E = ['', '希望加强村务公开', '', '', '建议多联系群众', '', ''];
const phone = Array.from({ length: 7 }, (_, i): { pkg: BallotPackage; source: BallotSource } => ({
  source: 'phone',
  pkg: {
    A: { grades: { s1: 'good', s2: 'good', s3: 'good', s4: 'good', s5: 'good', s6: A6[i]! } },
    B: { grades: { team: TEAM[i]!, m1: M1[i]!, m2: M2[i]! } },
    C: { grades: { s1: C1[i]! } },
    D: { picks: D[i]!, writeIns: [] },
    E: { text: E[i]! },
  },
}));
const r7 = (): Results => results(form, phone, { expected: 9, present: 8, issued: 7, returned: 7, paper: 0, paperIssued: 0 });
const p = calculatorPercent;

describe('the paragraph for section 二 of the 考察报告', () => {
  it('says every figure, with 优秀率 as 优秀 alone and 称职以上率 as 优秀 + 称职', () => {
    expect(reportParagraph(r7())).toBe(
      '本次会议应到9人，实到8人，发出测评票7张，收回7张，其中有效票7张。'
      + `党组织政治建设（有效票7张）：总体评价好4票（${p(4, 7)}），较好2票（${p(2, 7)}），一般1票（${p(1, 7)}），差0票（0.0%），好评率${p(6, 7)}`
      + '；分项好评率：把握政治方向100.0%，夯实政治根基100.0%，严肃政治生活100.0%，提高政治能力100.0%，严格政治自律100.0%。'
      + `班子集体和成员年度考核（有效票7张）：班子集体：优秀2票（${p(2, 7)}），称职3票（${p(3, 7)}），基本称职1票（${p(1, 7)}），不称职1票（${p(1, 7)}），优秀率${p(2, 7)}，称职以上率${p(5, 7)}`
      + `；张伟（村党支部书记）：优秀1票（${p(1, 7)}），称职3票（${p(3, 7)}），基本称职0票（0.0%），不称职3票（${p(3, 7)}），优秀率${p(1, 7)}，称职以上率${p(4, 7)}`
      + `；王伟（村党支部副书记）：优秀1票（${p(1, 7)}），称职5票（${p(5, 7)}），基本称职0票（0.0%），不称职0票（0.0%），不了解1票（${p(1, 7)}），优秀率${p(1, 7)}，称职以上率${p(6, 7)}`
      + '。其中张伟不称职票超过三分之一、优秀和称职票合计不足三分之二，需进一步考察。'
      + `党组织书记抓基层党建工作述职（有效票7张）：总体评价好0票（0.0%），较好3票（${p(3, 7)}），一般4票（${p(4, 7)}），差0票（0.0%），好评率${p(3, 7)}。`
      + `后备干部人选：有效票7张，张勇、王勇各得3票（${p(3, 7)}），并列第1；李勇得1票（${p(1, 7)}）。`
      + '收到意见建议2条。',
    );
  });

  it('names paper ballots and void parts, and says when nobody was recommended', () => {
    const paper = [
      { source: 'paper' as const, pkg: { B: { void: true as const }, D: { picks: [], writeIns: [] } } },
      { source: 'paper' as const, pkg: {} },
    ];
    const noPicks = phone.slice(0, 2).map((b) => ({ ...b, pkg: { ...b.pkg, D: { picks: [], writeIns: [] }, E: { text: '' } } }));
    const r = results(form, [...noPicks, ...paper], { expected: 5, present: 4, issued: 4, returned: 4, paper: 2, paperIssued: 2 });
    const text = reportParagraph(r);
    expect(text.startsWith('本次会议应到5人，实到4人，发出测评票4张，收回4张（其中纸质票2张），其中有效票3张，含废票的1张。')).toBe(true);
    expect(text).toContain('班子集体和成员年度考核（有效票3张，废票1张）：');
    expect(text).toContain('后备干部人选：有效票4张，无人得票。');
    expect(text).not.toContain('意见建议');
  });

  it('a part without a valid ballot says so and nothing more', () => {
    const r = results(form, [{ source: 'paper', pkg: { A: { void: true }, B: { void: true }, C: { void: true }, D: { void: true } } }],
      { expected: 1, present: 1, issued: 1, returned: 1, paper: 1, paperIssued: 1 });
    expect(reportParagraph(r)).toBe(
      '本次会议应到1人，实到1人，发出测评票1张，收回1张（其中纸质票1张），其中有效票0张，含废票的1张。'
      + '党组织政治建设：有效票0张，废票1张。班子集体和成员年度考核：有效票0张，废票1张。党组织书记抓基层党建工作述职：有效票0张，废票1张。'
      + '后备干部人选：有效票0张，废票1张，无人得票。',
    );
  });
});

describe('the year summary', () => {
  const view = (o: Partial<MeetingView> = {}): MeetingView => ({
    id: 7, unitName: '红旗村', unitKind: 'village', state: 'closed', stateLabel: '测评已结束',
    turnout: { expected: 9, present: 8, issued: 7, returned: 7, paper: 0, paperIssued: 0, reissued: 0 },
    ...o,
  }) as MeetingView;

  it('takes 优秀率 from 优秀 alone and 称职以上率 from 优秀 + 称职 of 班子集体; 好评率 from 总体评价', () => {
    const row = summaryRow(view(), r7());
    expect(row.teamExcellent).toEqual({ count: 2, of: 7, text: p(2, 7), tenths: expect.any(Number) });
    expect(row.teamCompetentOrBetter).toEqual({ count: 5, of: 7, text: p(5, 7), tenths: expect.any(Number) });
    expect(row.politicalGood).toMatchObject({ count: 6, of: 7, text: p(6, 7) });
    expect(row.secretaryGood).toMatchObject({ count: 3, of: 7, text: p(3, 7) });
    expect(row.flaggedMembers).toEqual(['张伟']);
    expect(row.topRecommended).toEqual({ names: ['张勇', '王勇'], votes: 3, share: expect.objectContaining({ text: p(3, 7) }) });
    expect(row).toMatchObject({ meetingId: 7, unitName: '红旗村', unitKind: 'village', state: 'closed', stateLabel: '测评已结束' });
  });

  it('puts each rate under its own heading in the year sheet', () => {
    const sheet = summarySheet([summaryRow(view(), r7())]);
    expect(sheet.name).toBe('年度汇总');
    const row = Object.fromEntries(sheet.header.map((h, i) => [h, cellText(sheet.rows[0]![i] ?? null)]));
    expect(row).toEqual({
      单位: '红旗村', 类型: '村', 状态: '测评已结束', 应到: '9', 实到: '8', 发出: '7', 收回: '7',
      政治建设好评率: p(6, 7), 班子优秀率: p(2, 7), 班子称职以上率: p(5, 7), 需进一步考察: '张伟',
      书记述职好评率: p(3, 7), 后备干部得票最多: '张勇、王勇（并列第1，各3票）',
    });
    // Counts stay numbers, rates stay percentages (the XLSX formats them), for any spreadsheet to sum.
    expect(sheet.rows[0]!.slice(3, 7)).toEqual([9, 8, 7, 7]);
    expect(sheet.rows[0]![8]).toEqual({ percent: expect.objectContaining({ text: p(2, 7) }) });
  });

  it('a meeting not yet closed has a row with its turnout and empty rates', () => {
    const row = summaryRow(view({ state: 'voting', stateLabel: '测评中', unitKind: 'station' }), null);
    expect(row).toMatchObject({ politicalGood: null, teamExcellent: null, teamCompetentOrBetter: null, secretaryGood: null, topRecommended: null, flaggedMembers: [] });
    const cells = summarySheet([row]).rows[0]!;
    expect(cells.map(cellText)).toEqual(['红旗村', '站所', '测评中', '9', '8', '7', '7', '', '', '', '', '', '']);
  });

  it('names a member rated per criterion once, by name, however many criteria flag them', () => {
    const f = makeForm({ members: 2, candidates: 0, criteria: ['组织纪律', '工作态度'], parts: { B: { quotas: [] } }, only: ['B'] });
    const bad = { team: 'competent', m1_1: 'incompetent', m1_2: 'incompetent', m2_1: 'competent', m2_2: 'competent' };
    const r = results(f, [{ source: 'phone', pkg: { B: { grades: bad } } }], { expected: 1, present: 1, issued: 1, returned: 1 });
    expect(summaryRow(view(), r).flaggedMembers).toEqual(['张伟（村党支部书记）']);
  });

  it('one name with the most votes, or every tied name', () => {
    const share = { tenths: 400, text: '40.0%' };
    expect(topRecommendedText(null)).toBe('');
    expect(topRecommendedText({ names: ['王芳'], votes: 40, share })).toBe('王芳（40票）');
    expect(topRecommendedText({ names: ['王芳', '李明'], votes: 40, share })).toBe('王芳、李明（并列第1，各40票）');
  });
});

describe('the meeting sheets', () => {
  // Computed inside each test (not while the file is collected), so a mutation tool sees which test ran what.
  const sheets = () => resultSheets({ unitName: '红旗村', township: '插旗镇', year: 2020 }, r7(), ['希望加强村务公开', '建议多联系群众']);
  const byName = (name: string) => sheets().find((s) => s.name === name)!;
  const texts = (cells: Cell[]) => cells.map(cellText);

  it('the summary sheet carries the turnout, the valid and void ballots and the rounding rule', () => {
    const s = byName('汇总');
    expect(s.header).toEqual(['项目', '数量']);
    expect(Object.fromEntries(s.rows.map((r) => [r[0], cellText(r[1] ?? null)]))).toMatchObject({
      单位: '红旗村', 年度: '2020', 应到人数: '9', 实到人数: '8', 发出票数: '7', 收回票数: '7', 有效票: '7', 含废票: '0',
      '班子集体和成员年度考核民主测评表 有效票/废票': '7/0',
    });
    expect(s.rows.at(-1)).toEqual(['百分比说明',
      '每个百分比都按各自的票数 ÷ 该部分有效票计算，四舍五入保留一位小数；是否超过三分之一、是否不足三分之二等一律按票数精确判断，不按显示的百分比判断。因四舍五入，合计可能不等于100%。']);
  });

  it('part B: counts and shares per grade, then 优秀率, 称职以上率, 不称职率 and the flags, in that order', () => {
    const s = byName('班子集体和成员年度考核民主测评表');
    expect(s.header).toEqual([
      '测评对象', '职务/说明', '优秀(票)', '优秀(%)', '称职(票)', '称职(%)', '基本称职(票)', '基本称职(%)', '不称职(票)', '不称职(%)',
      '不了解(票)', '不了解(%)', '优秀率', '称职以上率', '不称职率', '提示',
    ]);
    expect(texts(s.rows[0]!)).toEqual(['班子集体', '', '2', p(2, 7), '3', p(3, 7), '1', p(1, 7), '1', p(1, 7), '0', '0.0%', p(2, 7), p(5, 7), p(1, 7), '']);
    expect(texts(s.rows[1]!)).toEqual(['张伟', '村党支部书记', '1', p(1, 7), '3', p(3, 7), '0', '0.0%', '3', p(3, 7), '0', '0.0%', p(1, 7), p(4, 7), p(3, 7),
      '不称职票超过三分之一；优秀和称职票合计不足三分之二']);
    expect(s.rows[1]![2]).toBe(1);
  });

  it('part A: 好评率 alone; part D: shared ranks; part E: the comments numbered', () => {
    const a = byName('党组织政治建设民主测评表');
    expect(a.header.slice(-2)).toEqual(['好评率', '提示']);
    expect(texts(a.rows[5]!).slice(-2)).toEqual([p(6, 7), '']);
    expect(byName('后备干部人选推荐表').rows.map(texts)).toEqual([
      ['并列第1', '张勇', '候选名单', '3', p(3, 7)], ['并列第1', '王勇', '候选名单', '3', p(3, 7)], ['第3', '李勇', '候选名单', '1', p(1, 7)],
    ]);
    expect(byName('后备干部人选推荐表').header).toEqual(['名次', '姓名', '来源', '得票', '得票率']);
    expect(byName('意见建议').header).toEqual(['序号', '意见建议（随机顺序）']);
    expect(byName('意见建议').rows).toEqual([[1, '希望加强村务公开'], [2, '建议多联系群众']]);
    expect(sheets().map((x) => x.name)).toEqual(['汇总', '党组织政治建设民主测评表', '班子集体和成员年度考核民主测评表', '党组织书记抓基层党建工作述职评议表', '后备干部人选推荐表', '意见建议']);
  });

  it('a name written in is listed as 另行推荐', () => {
    const written = results(form, [{ source: 'phone', pkg: { ...phone[3]!.pkg, D: { picks: [], writeIns: ['田野'] } } }], { expected: 1, present: 1, issued: 1, returned: 1 });
    const d = resultSheets({ unitName: '红旗村', township: '插旗镇', year: 2020 }, written, []).find((x) => x.name === '后备干部人选推荐表')!;
    expect(d.rows.map(texts)[0]).toEqual(['第1', '田野', '另行推荐', '1', '100.0%']);
  });

  it('a part without valid ballots leaves its rates empty', () => {
    const r = results(form, [{ source: 'paper', pkg: { B: { void: true } } }], { expected: 1, present: 1, issued: 1, returned: 1, paper: 1, paperIssued: 1 });
    const b = resultSheets({ unitName: '红旗村', township: '插旗镇', year: 2020 }, r, []).find((s) => s.name.startsWith('班子'))!;
    expect(b.rows[0]!.slice(-4)).toEqual([null, null, null, '']);
  });

  it('flag and cell texts', () => {
    expect(flagsText(['INCOMPETENT_OVER_THIRD'])).toBe('不称职票超过三分之一');
    expect(flagsText(['COMPETENT_UNDER_TWO_THIRDS'])).toBe('优秀和称职票合计不足三分之二');
    expect(flagsText(['INCOMPETENT_OVER_THIRD', 'COMPETENT_UNDER_TWO_THIRDS'], '；')).toBe('不称职票超过三分之一；优秀和称职票合计不足三分之二');
    expect(flagsText([])).toBe('');
    expect(cellText(null)).toBe('');
    expect(cellText(0)).toBe('0');
    expect(cellText({ percent: { tenths: 625, text: '62.5%' } })).toBe('62.5%');
  });
});

describe('the CSV', () => {
  it('writes as text every cell a spreadsheet would run as a formula: = + - @, tab and carriage return first', () => {
    for (const bad of ['=HYPERLINK("http://x")', '=1', '+86 138', '+1 建议', '-2+3', '-1+1', '-', '@SUM(A1)', '\tcmd', '\rcmd', '=-1']) {
      expect(csvSafe(bad), JSON.stringify(bad)).toBe(`'${bad}`);
    }
  });

  it('leaves numbers, percentages and ordinary text as they are', () => {
    for (const ok of ['-5', '-12', '-1.5', '-1.25', '-0.125%', '-12.5%', '62.5%', '0', '12', '王芳', 'a=b', '1+1', '建议 -2', '']) {
      expect(csvSafe(ok), JSON.stringify(ok)).toBe(ok);
    }
  });

  it('one block per sheet: its name, its header, its rows; UTF-8 with a BOM and CRLF lines', () => {
    const sheets: Sheet[] = [
      { name: '汇总', header: ['项目', '数量'], rows: [['收回票数', 7], ['优秀率', { percent: { tenths: 286, text: '28.6%' } }], ['空', null]] },
      { name: '后备干部', header: ['姓名', '得票'], rows: [['=HYPERLINK("x")', -1], ['@王芳', 3]] },
    ];
    const bytes = toCsv(sheets);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.toString('utf8').slice(1);
    expect(text).toBe('汇总\r\n项目,数量\r\n收回票数,7\r\n优秀率,28.6%\r\n空,\r\n\r\n后备干部\r\n姓名,得票\r\n"\'=HYPERLINK(""x"")",-1\r\n\'@王芳,3\r\n');
    expect(Papa.parse<string[]>(text, { skipEmptyLines: true }).data).toEqual([
      ['汇总'], ['项目', '数量'], ['收回票数', '7'], ['优秀率', '28.6%'], ['空', ''],
      ['后备干部'], ['姓名', '得票'], [`'=HYPERLINK("x")`, '-1'], [`'@王芳`, '3'],
    ]);
  });
});

describe('text an XML file can carry (the XLSX and the DOCX exports)', () => {
  it('xmlText drops what XML 1.0 forbids, C1 controls and noncharacters; keeps tab, line breaks, pairs and the rest', () => {
    expect(xmlText('a\u0000b\u0008c\u000bd\u001fe\u007ff\u0085g\ufffeh\uffffi\ufdd0j\u{10ffff}k\ud800l\udfffm')).toBe('abcdefghijklm');
    expect(xmlText('\t\n\r \u00a0王\ud7ff\ue000\ufffd\u{1f600}\u{10fffd}~')).toBe('\t\n\r \u00a0王\ud7ff\ue000\ufffd\u{1f600}\u{10fffd}~');
  });

  it('toXlsx writes well-formed XML whatever the names, headers and cells hold', async () => {
    // A 31-character cut of a title can leave half a pair; a unit name may hold a control character.
    const title = `${'测'.repeat(30)}\u{1f600}`.slice(0, 31);
    const sheets: Sheet[] = [{ name: title, header: ['单位\u0001', '意见\uffff'], rows: [['某村\u0002党支部', 1], ['建\ufffe议\ufdd0', { percent: { tenths: 625, text: '62.5%' } } as Cell]] }];
    const bytes = await toXlsx(sheets);
    const files = unzipSync(new Uint8Array(bytes));
    for (const [name, data] of Object.entries(files)) {
      if (!name.endsWith('.xml')) continue;
      const errors: string[] = [];
      const parser = new SaxesParser();
      parser.on('error', (e) => errors.push(e.message));
      parser.write(strFromU8(data)).close();
      expect(errors, name).toEqual([]);
    }
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(bytes as unknown as ArrayBuffer);
    const ws = wb.worksheets[0]!;
    expect(ws.name).toBe('测'.repeat(30));
    expect([1, 2, 3].map((r) => ws.getRow(r).getCell(1).value)).toEqual(['单位', '某村党支部', '建议']);
    expect(ws.getRow(1).getCell(2).value).toBe('意见');
  });
});
