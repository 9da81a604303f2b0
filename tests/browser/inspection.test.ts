/**
 * The 考察 in real headless Chromium against the real server, as an inspection team walks it after
 * the demo village's meeting has been voted and sealed (through the API, for speed): type the seed
 * announced in the room and draw; check the list against `npx ceping draw` run on the candidates file
 * the page offers; mark talks done with notes; print the talk list; tick the records and write an
 * inquiry; fill the 鉴定表 to its limits and print it (one A4 page); write the report, open its print
 * view and download the Word file; then the township's year page and its .zip. Screenshots of the
 * talk list, the 鉴定表 print and the report print view go to tests/artifacts/inspection/.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { loginAs, SETUP_USERNAME, TEST_PASSWORD, type AdminSession } from '../helpers/auth.ts';
import { call } from '../helpers/meeting.ts';
import { fullPackage } from '../helpers/packages.ts';
import { cast, redeem, type PhoneToken } from '../helpers/phone.ts';
import { seedDemo } from '../../server/demo/demo.ts';
import type { Form } from '../../server/forms/form.schemas.ts';
import type { RecommendResult, Results } from '../../server/counting/tally.ts';
import { repoRoot } from './ui-build.ts';
import { chromiumSuite, expectAccessible, hasChromium, launchChromium, newOfficePage, prepareBrowserSuite } from './chromium.ts';

const ARTIFACTS = path.join(repoRoot, 'tests/artifacts/inspection');
const run = promisify(execFile);

describe.skipIf(!hasChromium)(chromiumSuite('the 考察 in Chromium', 'inspection'), () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let session: AdminSession;
  let campaignId: number;
  let meetingId: number;
  let requests: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    await prepareBrowserSuite(ARTIFACTS);
    t = await makeTestApp();
    session = await loginAs(t);
    campaignId = await seedDemo(t.app.services, session.adminId);
    const meetings = await call<{ meetings: { id: number; unitName: string }[] }>(t, session, 'GET', '/api/meetings');
    meetingId = meetings.meetings.find((m) => m.unitName === '红旗村')!.id;

    // The meeting itself, through the API: 72 sign in and vote; two candidates tie at the top; sealed.
    await call(t, session, 'POST', `/api/meetings/${meetingId}/start-signin`);
    const roster = await call<{ entries: { id: number }[] }>(t, session, 'GET', `/api/meetings/${meetingId}/roster`);
    const tokens: PhoneToken[] = [];
    for (const e of roster.entries) {
      const r = await call<{ ticket: { secret: string } }>(t, session, 'POST', `/api/meetings/${meetingId}/roster/${e.id}/sign-in`, { handout: 'qr' });
      tokens.push(await redeem(t, r.ticket.secret));
    }
    await call(t, session, 'POST', `/api/meetings/${meetingId}/open-voting`, {});
    const { form } = await call<{ form: Form }>(t, session, 'GET', `/api/meetings/${meetingId}/form`);
    const D = form.parts.find((p) => p.kind === 'recommend')!;
    if (D.kind !== 'recommend') throw new Error('no part D');
    for (const [i, token] of tokens.entries()) {
      const pkg = fullPackage(form, 1 + (i % 3), '');
      pkg.D = { picks: i < 30 ? [D.candidates[0]!.key, D.candidates[1]!.key] : i < 40 ? [D.candidates[2]!.key] : [], writeIns: [] };
      const r = await cast(t, token, pkg);
      expect(r.statusCode, r.body).toBe(200);
    }
    await call(t, session, 'POST', `/api/meetings/${meetingId}/close-voting`);
    await call(t, session, 'POST', `/api/meetings/${meetingId}/seal`);

    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
    ({ context, page, requests } = await newOfficePage(browser, pageErrors, { height: 900 }));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const poll = <T>(fn: () => T | Promise<T>, timeout = 8_000) => expect.poll(fn, { timeout, interval: 50 });
  const shot = (p: Page, name: string, fullPage = true) => p.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage });
  const panel = (name: string) => page.getByRole('navigation', { name: '考察工作' }).getByRole('link', { name, exact: true }).click();
  const saved = (text: string) => poll(() => page.getByTestId('inspection-saved').textContent()).toContain(text);

  it('walks the 考察 from the draw to the report download', { timeout: 240_000 }, async () => {
    // 1. Log in and open the meeting's 考察 tab.
    await page.goto(`${base}/admin/`);
    await page.getByLabel('用户名').fill(SETUP_USERNAME);
    await page.getByLabel('密码').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('link', { name: '红旗村' }).click();
    await poll(() => page.getByTestId('meeting-state').textContent()).toBe('已封存');
    await page.getByRole('navigation', { name: '会议功能' }).getByRole('link', { name: '考察', exact: true }).click();
    await poll(() => page.getByTestId('talk-counts').textContent()).toContain('名单 0 人（规定至少 30 人）');
    await expectAccessible(page, 'the talks panel before the draw');

    // 2. The seed read out in the room, typed with spaces; the draw: 5 team members + 25 drawn.
    await page.getByLabel('抽签种子').fill('hk 3728 1946');
    await page.getByRole('button', { name: '抽取', exact: true }).click();
    await saved('已生成谈话名单');
    const rows = page.getByTestId('talk-list').locator('tbody tr');
    await poll(() => rows.count()).toBe(30);
    expect(await page.getByTestId('draw-seed').textContent()).toContain('HK37281946');
    const listed = await rows.locator('td.name').allTextContents();
    const unit = await call<{ members: { name: string }[] }>(t, session, 'GET', `/api/meetings/${meetingId}`).then((m) => call<{ members: { name: string }[] }>(t, session, 'GET', `/api/units/${(m as unknown as { unitId: number }).unitId}`));
    expect(listed.slice(0, 5)).toEqual(unit.members.map((m) => m.name));

    // 3. The candidates file from the page, and the real CLI on it, give the same 25.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('draw-file').click()]);
    const candidates = path.join(ARTIFACTS, 'candidates.txt');
    await download.saveAs(candidates);
    expect(download.suggestedFilename()).toBe('个别谈话候选名单-红旗村-第1次.txt');
    const { stdout } = await run(process.execPath, [path.join(repoRoot, 'bin/ceping.mjs'), 'draw', candidates], { cwd: repoRoot });
    const fromCli = stdout.split('\n').map((l) => /^\s*\d+\. (.+)$/.exec(l)?.[1]).filter((x): x is string => !!x);
    expect(fromCli).toEqual(listed.slice(5));
    expect(stdout).toContain('与文件头一致');

    // 4. Three talks done, one with notes.
    for (const name of listed.slice(0, 3)) {
      await page.locator(`tr[data-talk="${name}"] input[type="checkbox"]`).check();
      await poll(() => page.locator(`tr[data-talk="${name}"]`).getAttribute('class')).toContain('done');
    }
    await page.getByLabel(`${listed[5]}的谈话记录`).fill('反映村里道路硬化进度慢，希望加快。');
    await page.locator(`tr[data-talk="${listed[5]}"]`).getByRole('button', { name: '保存记录' }).click();
    await saved('谈话记录已保存');
    await poll(() => page.getByTestId('talk-counts').textContent()).toContain('已谈 3 人');
    await shot(page, 'talks');
    await expectAccessible(page, 'the talk list');

    // 5. The talk list printed: seed, identity, every name, how to re-check.
    await page.getByTestId('talks-print').click();
    const talkSheet = page.getByRole('article', { name: '个别谈话名单' });
    await poll(() => talkSheet.getByRole('heading', { level: 1 }).textContent()).toBe('红旗村个别谈话名单');
    expect(await page.getByTestId('print-seed').textContent()).toBe('HK37281946');
    expect(await talkSheet.locator('table.list tbody tr').count()).toBe(30);
    expect(await talkSheet.textContent()).toContain(`npx ceping draw 候选名单.txt --seed "HK37281946" --meeting "插旗镇/2020/红旗村/${meetingId}" --count 25`);
    expect(await talkSheet.textContent()).not.toContain('反映村里道路硬化');
    await shot(page, 'talks-print');
    await expectAccessible(page, 'the printed talk list');
    await page.getByRole('link', { name: '← 返回「考察」' }).click();

    // 6. Records and an inquiry.
    await panel('查阅资料与专项调查');
    await page.locator('[data-record="会议记录"]').getByRole('checkbox').check();
    await page.locator('[data-record="会议记录"]').getByLabel('发现的情况').fill('“三会一课”记录齐全。');
    await page.locator('[data-record="学习记录"]').getByRole('checkbox').check();
    await page.getByRole('button', { name: '保存查阅资料情况' }).click();
    await saved('查阅资料情况已保存');
    expect(await page.getByTestId('records-count').textContent()).toBe('已查 2 / 3');
    // A tick not yet saved survives adding an inquiry, and is saved afterwards.
    await page.locator('[data-record="坐班值班记录"]').getByRole('checkbox').check();
    await page.getByLabel('标题').fill('关于低保评定的反映');
    await page.getByLabel('调查经过和结论').fill('走访三户，情况属实，已要求整改。');
    await page.getByRole('button', { name: '新增', exact: true }).click();
    await saved('已添加专项调查');
    await poll(() => page.locator('[data-inquiry="关于低保评定的反映"]').count()).toBe(1);
    expect(await page.locator('[data-record="坐班值班记录"]').getByRole('checkbox').isChecked()).toBe(true);
    await page.getByRole('button', { name: '保存查阅资料情况' }).click();
    await saved('查阅资料情况已保存');
    expect(await page.getByTestId('records-count').textContent()).toBe('已查 3 / 3');
    await expectAccessible(page, 'records and inquiries');

    // 7. The 鉴定表 filled to its limits prints on one A4 page.
    await panel('鉴定表');
    const long = (label: string) => `${label}方面：${'班子坚持学习贯彻党的理论，严格落实各项制度，工作扎实有效，群众评价较好。'.repeat(3)}`.slice(0, 80);
    const fields = ['把握政治方向', '夯实政治根基', '严肃政治生活', '提高政治能力', '严格政治自律', '组织纪律', '工作态度', '财务制度', '工作业绩', '廉洁自律'];
    for (const f of fields) await page.getByLabel(f, { exact: true }).fill(long(f));
    await page.getByLabel('较好', { exact: true }).check();
    await page.getByLabel(/^评语/).fill('该党支部'.padEnd(300, '团结务实，'));
    await page.getByRole('button', { name: '保存鉴定表' }).click();
    await saved('鉴定表已保存');
    await page.getByTestId('appraisal-print').click();
    const sheet = page.getByRole('article', { name: '党支部政治建设考察鉴定表' });
    await poll(() => sheet.getByRole('heading', { level: 1 }).textContent()).toBe('党支部政治建设考察鉴定表');
    expect(await page.getByTestId('appraisal-grade').textContent()).toContain('☑较好');
    for (const f of fields) expect(await sheet.locator(`td[data-field="${f}"]`).textContent()).toBe(long(f));
    await shot(page, 'appraisal-print');
    await expectAccessible(page, 'the printed 鉴定表');
    const pdfPath = path.join(ARTIFACTS, 'appraisal.pdf');
    await page.pdf({ path: pdfPath, preferCSSPageSize: true, printBackground: true });
    const pdf = readFileSync(pdfPath).toString('latin1');
    expect((pdf.match(/\/Type\s*\/Page[^s]/g) ?? []).length, 'the 鉴定表 prints on one page').toBe(1);
    await page.getByRole('link', { name: '← 返回「考察」' }).click();

    // 8. The report: the team's sections, the print view with section 二 from the sealed results, the Word file.
    await panel('考察报告');
    await page.getByLabel('三、本年度主要工作成绩').fill('全年完成村道硬化3.2公里。\n新建便民服务点2个。');
    await page.getByLabel('四、存在的问题').fill('理论学习不够深入。');
    await page.getByLabel('五、考察组综合评价及工作建议').fill('综合评价为较好。\n建议加强学习。');
    await page.getByLabel(/^碰头会记录/).fill('碰头会：组长主持，一致同意评为较好。');
    await page.getByRole('button', { name: '保存考察报告' }).click();
    await saved('考察报告已保存');
    await expectAccessible(page, 'the report editor');
    await page.getByTestId('report-print').click();
    const report = page.getByRole('article', { name: '考察报告' });
    await poll(() => report.getByRole('heading', { level: 1 }).textContent()).toBe('红旗村2020年度党组织政治建设考察暨班子年度考核考察报告');
    const results = await call<Results>(t, session, 'GET', `/api/meetings/${meetingId}/results`);
    const text = (await report.textContent())!;
    expect(text).toContain(`本次会议应到${results.turnout.expected}人，实到${results.turnout.present}人`);
    expect(text).toContain('全年完成村道硬化3.2公里。');
    expect(text).not.toContain('碰头会：组长主持');
    expect(text).not.toContain('反映村里道路硬化');
    const D = results.parts.find((p): p is RecommendResult => p.kind === 'recommend')!;
    const tied = page.locator(`table[data-caption="${D.title}得票情况"] tbody tr`);
    expect(await tied.nth(0).locator('td').allTextContents()).toEqual(['并列第1', D.ranking[0]!.name, '候选人名单', '30', D.ranking[0]!.share.text]);
    expect(await tied.nth(1).locator('td').first().textContent()).toBe('并列第1');
    const archive = await call<{ sha256: string }>(t, session, 'GET', `/api/meetings/${meetingId}/archive`);
    expect(await page.getByTestId('report-source').textContent()).toContain(archive.sha256);
    await shot(page, 'report-print');
    await shot(page, 'report-print-top', false);
    await page.locator('table.report-table').nth(2).screenshot({ path: path.join(ARTIFACTS, 'report-table-B.png') });
    await expectAccessible(page, 'the report print view');
    const reportPdf = path.join(ARTIFACTS, 'report.pdf');
    await page.pdf({ path: reportPdf, preferCSSPageSize: true, printBackground: true });
    expect(readFileSync(reportPdf).subarray(0, 5).toString('latin1')).toBe('%PDF-');

    const [docx] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: '下载 Word 文档' }).click()]);
    expect(docx.suggestedFilename()).toBe('红旗村考察报告.docx');
    const docxPath = path.join(ARTIFACTS, 'report.docx');
    await docx.saveAs(docxPath);
    const xml = new TextDecoder().decode(unzipSync(new Uint8Array(readFileSync(docxPath)))['word/document.xml']);
    expect(xml).toContain('红旗村2020年度党组织政治建设考察暨班子年度考核考察报告');
    expect(xml).toContain('并列第1');
    expect(xml).not.toContain('碰头会：组长主持');

    // 9. The township's year page: where 红旗村 stands, and the year's reports in one .zip.
    await page.goto(`${base}/admin/#/setup/campaign/${campaignId}/inspection`);
    const row = page.locator('[data-testid="inspection-progress"] tr[data-unit="红旗村"]');
    await poll(() => row.count()).toBe(1);
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(3)).toEqual(['3 / 30 / 30', '3 / 3', '已填写', '已撰写', '已封存']);
    await shot(page, 'year');
    await expectAccessible(page, 'the year page');
    const [zip] = await Promise.all([page.waitForEvent('download'), page.getByTestId('reports-zip').click()]);
    expect(zip.suggestedFilename()).toBe('插旗镇2020年度考察报告.zip');
    const zipPath = path.join(ARTIFACTS, 'reports.zip');
    await zip.saveAs(zipPath);
    expect(Object.keys(unzipSync(new Uint8Array(readFileSync(zipPath)))).sort()).toEqual(['农业综合服务站考察报告.docx', '城南社区考察报告.docx', '红旗村考察报告.docx']);

    // The year's 考察 file, exported and imported again through the page (kept read-only, listed once).
    const [exported] = await Promise.all([page.waitForEvent('download'), page.getByTestId('inspection-export').click()]);
    expect(exported.suggestedFilename()).toMatch(/^考察材料-插旗镇-2020-\d{8}-\d{6}\.json$/);
    const exportPath = path.join(ARTIFACTS, 'inspection-year.json');
    await exported.saveAs(exportPath);
    const file = JSON.parse(readFileSync(exportPath, 'utf8')) as { units: { unitName: string; talks: { notes: string }[] }[] };
    expect(file.units.find((u) => u.unitName === '红旗村')!.talks.some((x) => x.notes === '反映村里道路硬化进度慢，希望加快。')).toBe(true);
    await page.getByLabel('选择要导入的考察材料文件').setInputFiles(exportPath);
    await poll(() => page.getByTestId('inspection-import-result').textContent()).toContain('已导入');
    await poll(() => page.getByTestId('inspection-imports').locator('tbody tr').count()).toBe(1);
    await page.getByLabel('选择要导入的考察材料文件').setInputFiles(exportPath);
    await poll(() => page.getByTestId('inspection-import-result').textContent()).toBe('这个文件以前已导入过，未重复保存。');
    await page.getByLabel('选择要导入的考察材料文件').setInputFiles(candidates);
    await poll(() => page.getByRole('alert').textContent()).toContain('这个文件不是考察材料文件');
    await shot(page, 'year-imported');

    writeFileSync(path.join(ARTIFACTS, 'requests.txt'), requests.join('\n'));

    // Nothing left the server's origin, and no page failed.
    expect(requests.filter((u) => !u.startsWith(base) && !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
