// @vitest-environment jsdom
/**
 * The township's year summary: sorting by any column (nulls last both ways), the threshold that
 * highlights units, and the archive import with each archive's verification.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import SummaryPage from '../../admin-ui/src/pages/setup/SummaryPage.svelte';
import { SignerKey } from '../../admin-ui/src/lib/signer.svelte.ts';
import { attentionReasons, DEFAULT_THRESHOLD, nextOrder, parseLimit, sortSummary } from '../../admin-ui/src/lib/summary.ts';
import type { CampaignSummary, ImportedArchive, SummaryRow } from '../../admin-ui/src/lib/types.ts';
import { percentOf } from '../../server/counting/tally.ts';
import { FakeServer, settle } from './fake-fetch.ts';

afterEach(() => {
  cleanup();
  document.head.querySelectorAll('style[data-print-setup]').forEach((s) => s.remove());
});

const rate = (count: number, of: number) => ({ ...percentOf(count, of), count, of });

function row(id: number, unitName: string, o: Partial<SummaryRow> & { present?: number } = {}): SummaryRow {
  const present = o.present ?? 70;
  return {
    meetingId: id, unitName, unitKind: 'village', state: 'sealed', stateLabel: '已封存',
    turnout: { expected: 72, present, issued: present, returned: present, paper: 0, paperIssued: 0, reissued: 0 },
    politicalGood: rate(63, 70), teamExcellent: rate(21, 70), teamCompetentOrBetter: rate(63, 70), flaggedMembers: [], secretaryGood: rate(665, 700),
    topRecommended: { names: ['王芳'], votes: 40, share: percentOf(40, 70) },
    ...o,
  };
}

const ROWS: SummaryRow[] = [
  row(1, '红旗村', { present: 72 }),
  row(2, '城南社区', { unitKind: 'community', state: 'closed', stateLabel: '测评已结束', present: 45, teamCompetentOrBetter: rate(27, 45), flaggedMembers: ['宋家春'], politicalGood: rate(39, 50) }),
  // Exactly two thirds: shown as 66.7%, and not below two thirds.
  row(3, '东风村', { present: 70, teamCompetentOrBetter: rate(46, 69), flaggedMembers: ['李明'], topRecommended: { names: ['王芳', '李明', '张三'], votes: 10, share: percentOf(10, 69) } }),
  row(4, '农业综合服务站', {
    unitKind: 'station', state: 'draft', stateLabel: '准备中', present: 0,
    politicalGood: null, teamExcellent: null, teamCompetentOrBetter: null, secretaryGood: null, topRecommended: null,
  }),
  // Shown as 66.7% too (66.65 rounds up), but below two thirds: the counts decide.
  row(5, '向阳村', { present: 71, teamCompetentOrBetter: rate(1333, 2000), politicalGood: rate(17, 20) }),
];

describe('sorting and thresholds (pure)', () => {
  it('sorts by any column; rates without a value stay last both ways; ties by unit name', () => {
    const names = (key: Parameters<typeof sortSummary>[1]) => sortSummary(ROWS, key).map((r) => r.unitName);
    expect(names({ key: 'present', dir: 'desc' })).toEqual(['红旗村', '向阳村', '东风村', '城南社区', '农业综合服务站']);
    expect(names({ key: 'present', dir: 'asc' })).toEqual(['农业综合服务站', '城南社区', '东风村', '向阳村', '红旗村']);
    expect(names({ key: 'teamCompetentOrBetter', dir: 'asc' })).toEqual(['城南社区', '向阳村', '东风村', '红旗村', '农业综合服务站']);
    expect(names({ key: 'teamCompetentOrBetter', dir: 'desc' })).toEqual(['红旗村', '东风村', '向阳村', '城南社区', '农业综合服务站']);
    expect(names({ key: 'unitName', dir: 'asc' })).toEqual(['城南社区', '东风村', '红旗村', '农业综合服务站', '向阳村']);
    expect(names({ key: 'flaggedMembers', dir: 'desc' }).slice(0, 2)).toEqual(['城南社区', '东风村']);
    expect(names({ key: 'state', dir: 'asc' })[0]).toBe('农业综合服务站');
  });

  it('a new column starts high→low for figures and A→Z for words; the same column flips', () => {
    expect(nextOrder({ key: 'unitName', dir: 'asc' }, 'present')).toEqual({ key: 'present', dir: 'desc' });
    expect(nextOrder({ key: 'present', dir: 'desc' }, 'present')).toEqual({ key: 'present', dir: 'asc' });
    expect(nextOrder({ key: 'present', dir: 'desc' }, 'unitName')).toEqual({ key: 'unitName', dir: 'asc' });
  });

  it('by default points out 称职以上率 under two thirds, judged from the counts, and any flagged member', () => {
    const why = (r: SummaryRow) => attentionReasons(r, DEFAULT_THRESHOLD);
    expect(why(ROWS[0]!)).toEqual([]);
    expect(why(ROWS[1]!)).toEqual(['班子称职以上率 60.0%（27/45），低于三分之二', '需进一步考察：宋家春']);
    // Both show 66.7%: 46/69 is exactly two thirds (not below), 1333/2000 is just under.
    expect([ROWS[2]!.teamCompetentOrBetter!.text, ROWS[4]!.teamCompetentOrBetter!.text]).toEqual(['66.7%', '66.7%']);
    expect(why(ROWS[2]!)).toEqual(['需进一步考察：李明']);
    expect(why(ROWS[4]!)).toEqual(['班子称职以上率 66.7%（1333/2000），低于三分之二']);
    // A meeting not closed yet has no rates and is not pointed out.
    expect(why(ROWS[3]!)).toEqual([]);
    expect(attentionReasons(ROWS[1]!, { column: 'politicalGood', below: '80', flagged: false })).toEqual(['政治建设好评率 78.0%（39/50），低于80.0%']);
    // A percentage limit is exact too: 78.0% is not below 78, nor is 39/50 below 78%.
    expect(attentionReasons(ROWS[1]!, { column: 'politicalGood', below: '78%', flagged: false })).toEqual([]);
    expect(attentionReasons(ROWS[1]!, { column: 'politicalGood', below: '78.1', flagged: false })).toHaveLength(1);
  });

  it('reads a limit typed as a fraction or a percentage, and refuses anything else', () => {
    expect(parseLimit('2/3')).toEqual({ num: 2, den: 3, text: '三分之二' });
    expect(parseLimit(' 66.7 % ')).toEqual({ num: 667, den: 1000, text: '66.7%' });
    expect(parseLimit('60')).toEqual({ num: 600, den: 1000, text: '60.0%' });
    for (const bad of ['', 'abc', '4/3', '1/0', '100.1', '66.75']) expect(parseLimit(bad), bad).toBeNull();
    expect(attentionReasons(ROWS[1]!, { column: 'politicalGood', below: 'abc', flagged: false })).toEqual([]);
  });
});

function summaryServer(imported: ImportedArchive[] = []) {
  const summary: CampaignSummary = { year: 2020, township: '插旗镇', rows: ROWS };
  return new FakeServer()
    .on('GET', '/api/campaigns/1/summary', { status: 200, body: summary })
    .on('GET', '/api/archive/public-key', { status: 200, body: { publicKeyPem: 'pem', fingerprint: 'AAAA BBBB CCCC DDDD' } })
    .on('GET', '/api/imported-archives', () => ({ status: 200, body: { archives: imported } }));
}

async function renderSummary(server: FakeServer) {
  const api = server.api();
  render(SummaryPage, { props: { campaignId: 1, api, signer: new SignerKey(api) } });
  await settle();
  await settle();
}

const table = () => screen.getByTestId('summary-table');
const unitOrder = () => [...table().querySelectorAll('tbody tr')].map((tr) => tr.querySelector('td a')!.textContent);
const highlighted = () => [...table().querySelectorAll('tbody tr.attention')].map((tr) => tr.querySelector('td a')!.textContent);
const header = (name: string) => within(table()).getByRole('button', { name: new RegExp(`^${name}`) });

describe('the year summary page', () => {
  it('sorts by a click on any header, and back with a second click', async () => {
    await renderSummary(summaryServer());
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('插旗镇2020年度民主测评汇总');
    expect(unitOrder()).toEqual(['城南社区', '东风村', '红旗村', '农业综合服务站', '向阳村']);
    await fireEvent.click(header('实到'));
    expect(unitOrder()).toEqual(['红旗村', '向阳村', '东风村', '城南社区', '农业综合服务站']);
    expect(header('实到').closest('th')!.getAttribute('aria-sort')).toBe('descending');
    expect(header('单位').closest('th')!.getAttribute('aria-sort')).toBe('none');
    await fireEvent.click(header('实到'));
    expect(unitOrder()).toEqual(['农业综合服务站', '城南社区', '东风村', '向阳村', '红旗村']);
    expect(header('实到').closest('th')!.getAttribute('aria-sort')).toBe('ascending');
    await fireEvent.click(header('班子称职以上率'));
    expect(unitOrder()).toEqual(['红旗村', '东风村', '向阳村', '城南社区', '农业综合服务站']);
    // The figures are the server's text; a unit with results links to its print view.
    const first = table().querySelector('tbody tr')!;
    expect(first.querySelector('td a')!.getAttribute('href')).toBe('#/meeting/1/print');
    expect([...first.querySelectorAll('td')].map((td) => td.textContent)).toContain('90.0%');
    expect(table().querySelector('tr[data-meeting="4"] td a')!.getAttribute('href')).toBe('#/meeting/4');
  });

  it('highlights units below the threshold, and follows the threshold as it is changed', async () => {
    await renderSummary(summaryServer());
    expect(highlighted()).toEqual(['城南社区', '东风村', '向阳村']);
    expect(screen.getByTestId('summary-status').textContent).toContain('标出 3 个');
    const cn = table().querySelector('tr[data-meeting="2"]')!;
    expect(cn.textContent).toContain('班子称职以上率 60.0%（27/45），低于三分之二');
    // Every tied name is in the table.
    expect(table().querySelector('tr[data-meeting="3"]')!.textContent).toContain('王芳、李明、张三（并列第1，各10票，14.5%）');
    expect(cn.textContent).toContain('需进一步考察：宋家春');
    // The rate itself is marked only where it is the reason.
    expect(cn.querySelectorAll('td.hit')).toHaveLength(1);
    expect(table().querySelectorAll('tr[data-meeting="3"] td.hit')).toHaveLength(0);

    await fireEvent.input(screen.getByLabelText('低于（分数或百分数）'), { target: { value: '65' } });
    expect(highlighted()).toEqual(['城南社区', '东风村']);
    await fireEvent.click(screen.getByLabelText('或有班子成员需进一步考察'));
    expect(highlighted()).toEqual(['城南社区']);
    await fireEvent.change(screen.getByLabelText('比率'), { target: { value: 'politicalGood' } });
    await fireEvent.input(screen.getByLabelText('低于（分数或百分数）'), { target: { value: '86' } });
    expect(highlighted()).toEqual(['城南社区', '向阳村']);
    expect(screen.getByTestId('summary-status').textContent).toContain('政治建设好评率低于86.0%');
    await fireEvent.input(screen.getByLabelText('低于（分数或百分数）'), { target: { value: '八成' } });
    expect(highlighted()).toEqual([]);
    expect(screen.getByRole('alert').textContent).toContain('请填分数');
    await fireEvent.click(screen.getByRole('button', { name: '恢复默认' }));
    expect(highlighted()).toEqual(['城南社区', '东风村', '向阳村']);
  });

  it('prints on A4 landscape with page numbers and the fingerprint; offers the XLSX and the year archive', async () => {
    await renderSummary(summaryServer());
    const css = [...document.head.querySelectorAll('style[data-print-setup]')].map((s) => s.textContent).join('');
    expect(css).toContain('size: A4 landscape');
    expect(css).toContain('counter(page)');
    expect(css).toContain('"封存签名公钥指纹 AAAA BBBB CCCC DDDD"');
    expect(screen.getByRole('link', { name: '下载 Excel（XLSX）' }).getAttribute('href')).toBe('/api/campaigns/1/summary.xlsx');
    expect(screen.getByTestId('year-archive').getAttribute('href')).toBe('/api/campaigns/1/archive');
    expect(screen.getByText(/已封存会议（目前 3 个）/)).toBeTruthy();
  });

  it('imports an archive file as JSON and lists what was imported with its verification', async () => {
    const listed: ImportedArchive[] = [];
    const server = summaryServer(listed);
    const good: ImportedArchive = {
      id: 1, township: '插旗镇', year: 2020, unitName: '红旗村', sealedAt: '2020-11-25T11:30', sha256: 'a'.repeat(64), fingerprint: 'AAAA BBBB CCCC DDDD',
      verified: true, problems: [], importedAt: '2020-12-01T10:00', importedBy: '镇党委办公室',
      source: { format: 'ceping.year-archive', label: '全年.json', exportedAt: '2020-12-01T09:00', manifestVerified: true },
    };
    const bad: ImportedArchive = { ...good, id: 2, unitName: '东风村', fingerprint: '1111 2222 3333 4444', verified: false, problems: ['签名不正确'] };
    let posted: unknown = null;
    server.on('POST', `/api/archives/import?label=${encodeURIComponent('全年.json')}`, (body) => {
      posted = body;
      listed.push(good, bad);
      return { status: 200, body: { imported: [good, bad], duplicates: 1, manifest: { verified: true, problems: [] } } };
    });
    await renderSummary(server);
    expect(screen.getByText('还没有导入过档案。')).toBeTruthy();

    const file = new File([JSON.stringify({ format: 'ceping.year-archive', version: 1 })], '全年.json', { type: 'application/json' });
    await fireEvent.change(screen.getByLabelText('选择要导入的档案文件'), { target: { files: [file] } });
    for (let i = 0; i < 5; i++) await settle();
    expect(posted).toEqual({ format: 'ceping.year-archive', version: 1 });
    const result = screen.getByTestId('import-result');
    expect(result.textContent).toContain('已导入 2 个会议档案，其中核验通过 1 个；1 个以前已导入过，已跳过；全年清单核验通过。');
    expect(result.textContent).toContain('东风村：签名不正确');
    const list = screen.getByTestId('imported-list');
    const rows = [...list.querySelectorAll('tbody tr')];
    expect(rows.map((r) => r.querySelector('.badge')!.textContent)).toEqual(['核验通过', '核验未通过']);
    expect(rows[0]!.textContent).toContain('AAAA BBBB CCCC DDDD（本机）');
    expect(rows[1]!.textContent).not.toContain('（本机）');
    const links = [...rows[0]!.querySelectorAll('a')].map((a) => [a.textContent, a.getAttribute('href')]);
    expect(links).toEqual([['查看', '#/imported/1/print'], ['下载', '/api/imported-archives/1/file']]);
  });

  it('refuses a file that is not JSON before sending anything', async () => {
    const server = summaryServer();
    await renderSummary(server);
    const sent = server.calls.length;
    const file = new File(['这不是档案'], '笔记.txt', { type: 'text/plain' });
    await fireEvent.change(screen.getByLabelText('选择要导入的档案文件'), { target: { files: [file] } });
    for (let i = 0; i < 5; i++) await settle();
    expect(screen.getByRole('alert').textContent).toContain('这个文件不是测评档案');
    expect(server.calls.length).toBe(sent);
  });
});
