// @vitest-environment jsdom
/**
 * The meeting's print view rendered from a real Results (computeResults of real ballots) as the report
 * API sends it: every figure on the page is the API's own text, the flags are marked, the comments
 * keep the API's order, and the fingerprint, the seal and the page setup are on the document.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import PrintPage from '../../admin-ui/src/pages/meeting/PrintPage.svelte';
import { SignerKey } from '../../admin-ui/src/lib/signer.svelte.ts';
import { pageCss, supportsPageMarginBoxes } from '../../admin-ui/src/lib/print.ts';
import type { Meeting, MeetingReport } from '../../admin-ui/src/lib/types.ts';
import type { MeetingReport as ServerMeetingReport } from '../../server/reports/reports.service.ts';
import { computeResults, sumRows, tallyIncrements, type RatingResult, type RecommendResult, type Results } from '../../server/counting/tally.ts';
import { reportParagraph } from '../../server/reports/paragraph.ts';
import { validatePackage, type NormalizedPackage } from '../../server/ballots/validate-package.ts';
import { ABSTAIN, type BallotPackage } from '../../server/forms/form.schemas.ts';
import { makeForm, makePackage, ratingPart, recommendPart } from '../factories/forms.ts';
import { FakeServer, settle } from './fake-fetch.ts';

// The page's copy of the report type must accept what the server's report service returns.
const _sameShape = (r: ServerMeetingReport): MeetingReport => r;
void _sameShape;

afterEach(() => {
  cleanup();
  document.head.querySelectorAll('style[data-print-setup]').forEach((s) => s.remove());
});

const CHROME_131 = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const BROWSER_360 = 'Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/86.0.4240.198 Safari/537.36 QIHU 360SE';
const FINGERPRINT = '3F2A 9C11 0B7E 5D42';

/** Ten ballots of a unit with four members: member 2 draws four 不称职 (over a third, and 称职以上 60%). */
function tenBallots() {
  const form = makeForm({ members: 4, candidates: 3 });
  const A = ratingPart(form, 'A');
  const B = ratingPart(form, 'B');
  const C = ratingPart(form, 'C');
  const D = recommendPart(form);
  const pkgs: BallotPackage[] = [];
  for (let i = 0; i < 10; i++) {
    const bGrades = Object.fromEntries(B.subjects.map((s, j) => [s.key, j === 2 && i < 4 ? 'incompetent' : j === 1 && i === 0 ? 'excellent' : 'competent']));
    const aGrades = Object.fromEntries(A.subjects.map((s, j) => [s.key, i < 6 ? 'good' : i < 8 ? 'fair' : j === 0 ? ABSTAIN : 'average']));
    pkgs.push(
      makePackage(form, {
        A: { grades: aGrades },
        B: { grades: bGrades },
        C: { grades: Object.fromEntries(C.subjects.map((s) => [s.key, i % 3 === 0 ? 'fair' : 'good'])) },
        D: { picks: i < 7 ? [D.candidates[1]!.key] : i < 9 ? [D.candidates[0]!.key, D.candidates[1]!.key] : [], writeIns: i === 9 ? ['田野'] : [] },
        E: { text: i === 3 ? '希望加强村务公开' : i === 5 ? '道路维修要抓紧' : '' },
      }),
    );
  }
  const normalized = pkgs.map((p) => {
    const r = validatePackage(form, p, 'phone');
    if (!r.ok) throw new Error(r.problem.message);
    return r.pkg as NormalizedPackage;
  });
  const results = computeResults(form, sumRows(normalized.flatMap((p) => tallyIncrements(form, p))), { expected: 12, present: 11, issued: 11, returned: 10, paper: 1 });
  return { form, results };
}

function meeting(state: 'closed' | 'sealed'): Meeting {
  return {
    id: 3, unitId: 1, unitName: '红旗村', unitKind: 'village', campaignId: 1, year: 2020, township: '插旗镇', state,
    stateLabel: state === 'sealed' ? '已封存' : '测评已结束', plannedAt: '2020-11-25T09:00', location: '红旗村会议室', inspectionTeam: '插旗镇第一考察组',
    liveK: 5, projectorShowsDistributions: false, quorum: { needed: 70, text: '村不少于70人', met: false }, quorumOverrideReason: null,
    turnout: { expected: 12, present: 11, issued: 11, returned: 10, paper: 1, paperIssued: 1, reissued: 0 },
    signinStartedAt: null, votingOpenedAt: null, votingClosedAt: null, sealedAt: state === 'sealed' ? '2020-11-25T11:30' : null,
    keyFingerprint: null, compacted: true,
  };
}

async function renderReport(report: MeetingReport, userAgent = CHROME_131) {
  const server = new FakeServer()
    .on('GET', '/api/meetings/3/report', { status: 200, body: report })
    .on('GET', '/api/archive/public-key', { status: 200, body: { publicKeyPem: '-----BEGIN PUBLIC KEY-----', fingerprint: FINGERPRINT } });
  const api = server.api();
  render(PrintPage, { props: { meetingId: 3, api, signer: new SignerKey(api), userAgent } });
  await settle();
  await settle();
  return server;
}

const text = (el: Element | null) => (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
const cellsOf = (row: Element) => [...row.querySelectorAll('td')].map((td) => text(td));

describe('the print view', () => {
  const { results } = tenBallots();
  const comments = ['道路维修要抓紧', '希望加强村务公开'];
  const report = (state: 'closed' | 'sealed' = 'sealed', r: Results = results): MeetingReport => ({
    meeting: meeting(state), results: r, paragraph: reportParagraph(r), comments,
  });

  it('heads the document with the unit, township, year, date, place, team and the seal', async () => {
    await renderReport(report());
    const sheet = screen.getByRole('article', { name: '测评结果汇总表' });
    expect(within(sheet).getByRole('heading', { level: 1 }).textContent).toBe('红旗村民主测评结果汇总表');
    const meta = text(sheet.querySelector('.meta'));
    for (const s of ['红旗村（村）', '插旗镇', '2020年', '2020年11月25日 09:00', '红旗村会议室', '插旗镇第一考察组']) expect(meta).toContain(s);
    expect(text(screen.getByTestId('seal-state'))).toBe('已封存（2020年11月25日 11:30）');
    expect(document.title).toBe('红旗村民主测评结果汇总表');
  });

  it('shows 应到/实到/发出/收回 (and paper), valid and void overall and per part', async () => {
    await renderReport(report());
    const got = ['expected', 'present', 'issued', 'returned', 'paper', 'valid', 'void'].map((k) => text(screen.getByTestId(`t-${k}`)));
    expect(got).toEqual(['12', '11', '11', '10', '1', String(results.ballots.valid), String(results.ballots.void)]);
    const parts = document.querySelector('table.parts')!;
    for (const p of results.parts) {
      expect(cellsOf(parts.querySelector(`tr[data-part="${p.key}"]`)!)).toEqual([p.title, String(p.valid), String(p.void)]);
    }
  });

  it('prints every grade count and share, 弃权/不了解, and the rates exactly as the API gives them', async () => {
    // A figure the page could not have computed itself: the page must print the API's text.
    const patched = structuredClone(results);
    const a = patched.parts.find((p): p is RatingResult => p.key === 'A')!;
    a.rows[0]!.rates!.good!.text = '88.8%';
    await renderReport(report('sealed', patched));

    const section = document.querySelector('section[data-part="A"]')!;
    const row0 = section.querySelector(`tr[data-subject="${a.rows[0]!.subject.key}"]`)!;
    const r0 = a.rows[0]!;
    expect(cellsOf(row0)).toEqual([
      r0.subject.label,
      ...r0.counts.map((c, i) => `${c} ${r0.shares[i]!.text}`),
      `${r0.abstain} ${r0.abstainShare.text}`,
      '88.8%',
    ]);
    // 6 好, 2 较好, 1 不了解 + 1 一般 on the first aspect: the 不了解 column is there with its share.
    expect(r0.abstain).toBe(2);
    const heads = (el: Element) => [...el.querySelectorAll('thead th')].map((th) => text(th)).join(' ');
    expect(heads(section)).toBe('测评对象 好 较好 一般 差 不了解 好评率');

    const b = results.parts.find((p): p is RatingResult => p.key === 'B')!;
    const partB = document.querySelector('section[data-part="B"]')!;
    expect(heads(partB)).toBe('测评对象 优秀 称职 基本称职 不称职 不了解 优秀率 称职以上率 不称职率');
    for (const row of b.rows) {
      const tr = partB.querySelector(`tr[data-subject="${row.subject.key}"]`)!;
      const cells = cellsOf(tr);
      expect(cells.slice(1, 6)).toEqual([...row.counts.map((c, i) => `${c} ${row.shares[i]!.text}`), `${row.abstain} ${row.abstainShare.text}`]);
      expect(cells[6]).toBe(row.rates!.excellent!.text);
      expect(cells[7]).toBe((row.flags.includes('COMPETENT_UNDER_TWO_THIRDS') ? '▲' : '') + row.rates!.competentOrBetter!.text);
      expect(cells[8]).toBe((row.flags.includes('INCOMPETENT_OVER_THIRD') ? '▲' : '') + row.rates!.incompetent!.text);
    }
  });

  it('marks the flagged member: the row, the reason in words, and the figures behind it', async () => {
    await renderReport(report());
    const b = results.parts.find((p): p is RatingResult => p.key === 'B')!;
    const flagged = b.rows.filter((r) => r.flags.length > 0);
    expect(flagged.map((r) => r.subject.key)).toEqual([b.rows[2]!.subject.key]);
    expect(flagged[0]!.flags).toEqual(['INCOMPETENT_OVER_THIRD', 'COMPETENT_UNDER_TWO_THIRDS']);
    const rows = [...document.querySelectorAll('section[data-part="B"] tbody tr')];
    expect(rows.map((r) => r.classList.contains('flagged'))).toEqual(b.rows.map((r) => r.flags.length > 0));
    const tr = rows[2]!;
    expect(text(tr.querySelector('.flag'))).toBe('需进一步考察：不称职票超过三分之一；优秀和称职票合计不足三分之二');
    expect(tr.querySelectorAll('td.rate.hit')).toHaveLength(2);
    expect(text(tr.querySelector('td.rate.hit'))).toBe('▲60.0%');
    // Part A and C have no review rule: nothing there is marked.
    expect(document.querySelectorAll('section[data-part="A"] .flagged, section[data-part="C"] .flagged')).toHaveLength(0);
  });

  it('ranks the recommendations with 得票 and 得票率, and lists the comments in the order the API gives', async () => {
    await renderReport(report());
    const d = results.parts.find((p): p is RecommendResult => p.key === 'D')!;
    const ranking = [...document.querySelectorAll('table.ranking tbody tr')].map(cellsOf);
    expect(ranking).toEqual(d.ranking.map((c) => [c.rankText, c.name, c.listed ? '候选人名单' : '另行推荐', String(c.votes), c.share.text]));
    expect(ranking.map((r) => r[0])).toEqual(['第1', '第2', '第3', '—']);
    // 候选人2: seven ballots alone and two with 候选人1, of ten valid.
    expect(ranking[0]!.slice(3)).toEqual(['9', '90.0%']);
    expect(ranking.find((r) => r[1] === '田野')?.[2]).toBe('另行推荐');
    expect([...document.querySelectorAll('.comment-list li')].map((li) => li.textContent)).toEqual(comments);
    expect(text(document.querySelector('section[data-part="E"] .caption'))).toContain('共 2 张票填写了意见建议');
  });

  it('shows equal votes as a shared rank, and says the rounding rule once with a footnote under each table', async () => {
    const form = makeForm({ members: 2, candidates: 4, parts: { D: { maxPicks: 3 } } });
    const D = recommendPart(form);
    const pkgs = Array.from({ length: 7 }, (_, i) =>
      makePackage(form, { D: { picks: i < 6 ? D.candidates.slice(0, 3).map((c) => c.key) : [D.candidates[3]!.key], writeIns: [] } }),
    );
    const normalized = pkgs.map((p) => {
      const r = validatePackage(form, p, 'phone');
      if (!r.ok) throw new Error(r.problem.message);
      return r.pkg as NormalizedPackage;
    });
    const tied = computeResults(form, sumRows(normalized.flatMap((p) => tallyIncrements(form, p))), { expected: 7, present: 7, issued: 7, returned: 7 });
    await renderReport({ meeting: meeting('sealed'), results: tied, paragraph: reportParagraph(tied), comments: [] });
    const ranking = [...document.querySelectorAll('table.ranking tbody tr')].map(cellsOf);
    expect(ranking.map((r) => [r[0], r[1], r[3], r[4]])).toEqual([
      ['并列第1', D.candidates[0]!.name, '6', '85.7%'],
      ['并列第1', D.candidates[1]!.name, '6', '85.7%'],
      ['并列第1', D.candidates[2]!.name, '6', '85.7%'],
      ['第4', D.candidates[3]!.name, '1', '14.3%'],
    ]);
    expect(document.querySelectorAll('table.ranking tr.tied')).toHaveLength(3);
    // Every tied name is in the paragraph too.
    expect((screen.getByTestId('paragraph') as HTMLTextAreaElement).value).toContain(`${D.candidates.slice(0, 3).map((c) => c.name).join('、')}各得6票（85.7%），并列第1`);
    expect(text(screen.getByTestId('rounding-rule'))).toContain('四舍五入保留一位小数');
    expect(document.querySelectorAll('.note.rounding')).toHaveLength(tied.parts.filter((p) => p.kind === 'rating').length);
    expect(text(document.querySelector('.note.rounding'))).toBe('因四舍五入，合计可能不等于100%。');
  });

  it('has the signature lines, the fingerprint with the verify command, and an A4 page with numbered footers', async () => {
    await renderReport(report());
    const sig = text(screen.getByRole('region', { name: '签名' }));
    for (const s of ['考察组成员（签名）', '监票人（签名）', '计票人（签名）', '日期']) expect(sig).toContain(s);
    expect(text(screen.getByTestId('fingerprint'))).toBe(FINGERPRINT);
    expect(text(screen.getByTestId('doc-foot'))).toContain(`npx ceping verify 档案文件.json --fingerprint "${FINGERPRINT}"`);
    const css = [...document.head.querySelectorAll('style[data-print-setup]')].map((s) => s.textContent).join('\n');
    expect(css).toContain('size: A4 portrait');
    expect(css).toContain('counter(page)');
    expect(css).toContain(`"封存签名公钥指纹 ${FINGERPRINT}"`);
    expect(css).toContain('"红旗村 · 已封存"');
    expect(text(screen.getByTestId('print-support'))).toContain('每页底部会印上页码');
  });

  it('offers XLSX, CSV and, once sealed, the signed archive; says when the result is not sealed yet', async () => {
    await renderReport(report('sealed'));
    const link = (name: string) => screen.getByRole('link', { name }).getAttribute('href');
    expect(link('下载 Excel（XLSX）')).toBe('/api/meetings/3/report.xlsx');
    expect(link('下载 CSV')).toBe('/api/meetings/3/report.csv');
    expect(link('下载封存档案（已签名）')).toBe('/api/meetings/3/archive');
    cleanup();
    await renderReport(report('closed'), BROWSER_360);
    expect(screen.queryByRole('link', { name: '下载封存档案（已签名）' })).toBeNull();
    expect(text(screen.getByTestId('seal-state'))).toBe('未封存：测评已结束，结果尚待核对封存');
    expect(text(screen.getByTestId('print-support'))).toContain('不能自动加页码');
    expect([...document.head.querySelectorAll('style[data-print-setup]')].map((s) => s.textContent).join('')).toContain('"红旗村 · 未封存"');
  });

  it('copies the paragraph for the 考察报告; the paragraph is the API’s', async () => {
    const writeText = vi.fn(async () => undefined);
    Object.defineProperty(window, 'isSecureContext', { value: true, configurable: true });
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    try {
      const r = report();
      await renderReport(r);
      expect((screen.getByTestId('paragraph') as HTMLTextAreaElement).value).toBe(r.paragraph);
      expect(r.paragraph).toContain('本次会议应到12人，实到11人，发出测评票11张，收回10张（其中纸质票1张）');
      await fireEvent.click(screen.getByRole('button', { name: '复制' }));
      await settle();
      expect(writeText).toHaveBeenCalledWith(r.paragraph);
      expect(screen.getByRole('status').textContent).toBe('已复制，可粘贴到考察报告');
      // The paragraph and its button are for the screen only.
      expect(screen.getByTestId('paragraph').closest('.no-print')).not.toBeNull();
    } finally {
      Object.defineProperty(window, 'isSecureContext', { value: false, configurable: true });
      Object.defineProperty(navigator, 'clipboard', { value: undefined, configurable: true });
    }
  });

  it('knows which browsers draw page numbers in the page margin', () => {
    expect(supportsPageMarginBoxes(CHROME_131)).toBe(true);
    expect(supportsPageMarginBoxes('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36')).toBe(true);
    expect(supportsPageMarginBoxes(CHROME_131.replace('Chrome/131', 'Chrome/130'))).toBe(false);
    expect(supportsPageMarginBoxes(BROWSER_360)).toBe(false);
    expect(supportsPageMarginBoxes('Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0')).toBe(false);
    expect(pageCss({ footerLeft: 'a "quoted" \\ text' })).toContain('content: "a \\"quoted\\" \\\\ text"');
  });
});
