/**
 * The whole meeting of issue 5 in real headless Chromium against the real server: from the demo
 * data, the inspection team logs in, starts sign-in for 红旗村 (72 on the roster) and signs all 72
 * in at the desk (some by clicking, the rest through the API), opens voting; 72 phones (one browser
 * context each, 360×640, WeChat's user agent) vote through the real phone page with choices this
 * test decides and tallies itself, while the dashboard in another tab moves only in steps of ≥ k.
 * Then close, seal, open the print view and check its figures against the test's own tally; save
 * its screenshot and the PDF Chromium prints (tests/artifacts/e2e/); verify the downloaded archive
 * with the CLI; and on the township's year page download, verify and re-import the year's archive
 * and download a database backup.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { loginAs, SETUP_USERNAME, TEST_PASSWORD, type AdminSession } from '../helpers/auth.ts';
import { call } from '../helpers/meeting.ts';
import { seedDemo } from '../../server/demo/demo.ts';
import type { Form, RatingPart, RecommendPart } from '../../server/forms/form.schemas.ts';
import type { RatingResult } from '../../server/counting/tally.ts';
import type { MeetingReport } from '../../server/reports/reports.service.ts';
import { repoRoot } from './ui-build.ts';
import { signInAtDesk } from './desk.ts';
import { chromiumSuite, expectAccessible, hasChromium, launchChromium, newOfficePage, newPhoneContext, prepareBrowserSuite } from './chromium.ts';

const ARTIFACTS = path.join(repoRoot, 'tests/artifacts/e2e');
/** Phones voting at once: two cores run the server, the admin pages and these. */
const PHONES_AT_ONCE = 6;
const run = promisify(execFile);

/** A small seeded generator, so every run casts the same 72 ballots. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/** An index drawn with the given weights. */
function pick(rng: () => number, weights: number[]): number {
  let x = rng() * weights.reduce((a, b) => a + b, 0);
  for (const [i, w] of weights.entries()) if ((x -= w) < 0) return i;
  return weights.length - 1;
}

/** One phone's choices: per rating subject an index into its grades (grades.length = 不了解), picks, write-ins, a comment. */
interface Choices {
  grades: Record<string, Record<string, number>>;
  picks: string[];
  writeIns: string[];
  comment: string;
}

/** The test's own count of what the phones cast, kept apart from anything the server says. */
class Tally {
  readonly grades = new Map<string, number[]>();
  readonly votes = new Map<string, number>();
  readonly comments: string[] = [];
  add(form: Form, c: Choices): void {
    for (const part of form.parts) {
      if (part.kind !== 'rating') continue;
      for (const s of part.subjects) {
        const key = `${part.key}/${s.key}`;
        const row = this.grades.get(key) ?? new Array<number>(part.grades.length + 1).fill(0);
        row[c.grades[part.key]![s.key]!]! += 1;
        this.grades.set(key, row);
      }
    }
    for (const name of [...c.picks, ...c.writeIns]) this.votes.set(name, (this.votes.get(name) ?? 0) + 1);
    if (c.comment) this.comments.push(c.comment);
  }
}

/** The 72 ballots: varied, within every quota, with one member drawing over a third of 不称职 so the flag shows. */
function planBallots(form: Form, n: number): Choices[] {
  const rng = mulberry32(20201125);
  const rating = (key: string) => form.parts.find((p): p is RatingPart => p.key === key && p.kind === 'rating')!;
  const recommend = form.parts.find((p): p is RecommendPart => p.kind === 'recommend')!;
  const B = rating('B');
  const members = B.subjects.filter((s) => s.member);
  const doubted = members[members.length - 1]!;
  return Array.from({ length: n }, (_, i) => {
    const grades: Choices['grades'] = {};
    for (const part of form.parts) {
      if (part.kind !== 'rating') continue;
      grades[part.key] = {};
      let excellentLeft = part.key === 'B' ? 1 : Infinity; // the standard template: 优秀 at most 30 % of 5 members = 1
      for (const s of part.subjects) {
        let g: number;
        if (part.scale === 'quality') g = pick(rng, [50, 30, 10, 4, 6]);
        else if (s === doubted) g = i % 5 < 2 ? 3 : pick(rng, [0, 55, 35, 0, 10]); // 不称职 from 2 in 5: over a third
        else g = pick(rng, [s.member ? 20 : 35, 55, 15, 3, 7]);
        if (g === 0 && s.member) {
          if (excellentLeft <= 0) g = 1;
          else excellentLeft -= 1;
        }
        grades[part.key]![s.key] = g;
      }
    }
    const order = [...recommend.candidates];
    for (let j = order.length - 1; j > 0; j--) {
      const r = Math.floor(rng() * (j + 1));
      [order[j], order[r]] = [order[r]!, order[j]!];
    }
    // Three phones write a name in (leaving room for it); the second candidate is liked most, so the top of the ranking is clear.
    const writeIns = i % 23 === 5 ? ['田野'] : [];
    const count = Math.min(pick(rng, [10, 45, 45]), recommend.maxPicks - writeIns.length);
    const chosen = new Set(order.slice(0, count).map((c) => c.name));
    if (count > 0 && i % 4 !== 3 && !chosen.has(recommend.candidates[1]!.name)) {
      chosen.delete([...chosen][0]!);
      chosen.add(recommend.candidates[1]!.name);
    }
    return { grades, picks: [...chosen], writeIns, comment: i % 9 === 4 ? `第${i + 1}条：希望村务公开更及时` : '' };
  });
}

describe.skipIf(!hasChromium)(chromiumSuite('a whole meeting in Chromium', 'whole-meeting'), () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let admin: BrowserContext;
  let page: Page;
  let session: AdminSession;
  let campaignId: number;
  const pageErrors: string[] = [];
  const timings: Record<string, number> = {};
  let started = 0;
  const lap = (name: string) => {
    const now = Date.now();
    timings[name] = now - started;
    started = now;
  };

  beforeAll(async () => {
    started = Date.now();
    await prepareBrowserSuite(ARTIFACTS);
    lap('build');
    t = await makeTestApp();
    session = await loginAs(t);
    campaignId = await seedDemo(t.app.services, session.adminId);
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
    ({ context: admin, page } = await newOfficePage(browser, pageErrors, { height: 900, timeout: 15_000 }));
  }, 240_000);

  afterAll(async () => {
    console.info(`whole-meeting test timings (ms): ${JSON.stringify(timings)}`);
    await browser?.close();
    await t?.close();
  });

  const poll = <T>(fn: () => T | Promise<T>, timeout = 10_000) => expect.poll(fn, { timeout, interval: 50 });
  const tab = (p: Page, name: string) => p.getByRole('navigation', { name: '会议功能' }).getByRole('link', { name, exact: true }).click();
  const num = async (p: Page, testId: string) => Number(await p.locator(`[data-testid="${testId}"]`).first().textContent());

  /** One phone: open the real voter page with the QR's address, choose, review, submit; returns the receipt. */
  async function votePhone(form: Form, token: string, c: Choices): Promise<string> {
    const context = await newPhoneContext(browser);
    context.setDefaultTimeout(20_000);
    try {
      const phone = await context.newPage();
      phone.on('pageerror', (e) => pageErrors.push(`phone: ${e.message}`));
      await phone.goto(`${base}/v/#${token}`);
      for (const part of form.parts) {
        if (part.kind === 'rating') {
          for (const s of part.subjects) await phone.locator(`#subject-${part.key}-${s.key} .choice`).nth(c.grades[part.key]![s.key]!).click();
          await phone.getByRole('button', { name: '下一步', exact: true }).click();
        } else if (part.kind === 'recommend') {
          for (const name of c.picks) await phone.getByRole('button', { name, exact: true }).click();
          for (const name of c.writeIns) {
            await phone.getByLabel('姓名').fill(name);
            await phone.getByRole('button', { name: '添加', exact: true }).click();
          }
          await expect.poll(() => phone.locator('.quota').textContent()).toBe(`最多推荐 ${part.maxPicks} 人，已推荐 ${c.picks.length + c.writeIns.length} 人`);
          await phone.getByRole('button', { name: '下一步', exact: true }).click();
        } else {
          if (c.comment) await phone.getByLabel('您的意见建议（可以不填）').fill(c.comment);
          await phone.getByRole('button', { name: '下一步：核对' }).click();
        }
      }
      await phone.getByRole('button', { name: '确认提交' }).click();
      const receipt = (await phone.locator('#receipt').textContent({ timeout: 20_000 }))!;
      expect(await phone.locator('main h1').textContent()).toBe('提交成功');
      return receipt;
    } finally {
      await context.close();
    }
  }

  it('signs in 72, takes 72 phone ballots, seals, and prints figures that match what was cast', { timeout: 600_000 } /* 72 phones fill every part in one Chromium; on 2 busy cores this has taken over 300 s */, async () => {
    const meetings = await call<{ meetings: { id: number; unitName: string; liveK: number }[] }>(t, session, 'GET', '/api/meetings');
    const village = meetings.meetings.find((m) => m.unitName === '红旗村')!;
    const k = village.liveK;

    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));

    // 1. The inspection team logs in and starts sign-in.
    await page.goto(`${base}/admin/`);
    await page.getByLabel('用户名').fill(SETUP_USERNAME);
    await page.getByLabel('密码').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('link', { name: '红旗村' }).click();
    await poll(() => page.getByTestId('meeting-state').textContent()).toBe('准备中');
    await page.getByRole('button', { name: '开始签到' }).click();
    await page.getByRole('dialog').getByRole('button', { name: '开始签到' }).click();
    await poll(() => page.getByTestId('meeting-state').textContent()).toBe('签到中');

    // 2. The desk: six people found by their pinyin initials and signed in by a click, the rest through the API.
    // The pinyin dictionary is a chunk of its own that only the desk fetches.
    expect(requested.filter((u) => u.includes('/assets/name-search-'))).toEqual([]);
    await tab(page, '签到');
    const roster = await call<{ entries: { id: number; name: string }[] }>(t, session, 'GET', `/api/meetings/${village.id}/roster`);
    expect(roster.entries).toHaveLength(72);
    const tokens = await signInAtDesk(page, roster.entries.slice(0, 6), 10_000);
    for (const entry of roster.entries.slice(6)) {
      const r = await call<{ ticket: { secret: string } }>(t, session, 'POST', `/api/meetings/${village.id}/roster/${entry.id}/sign-in`, { handout: 'qr' });
      tokens.push(r.ticket.secret);
    }
    await page.getByLabel('查找参会人员').fill('');
    await poll(() => num(page, 'present')).toBe(72);
    expect(requested.filter((u) => u.includes('/assets/name-search-'))).toHaveLength(1);
    expect(new Set(tokens).size).toBe(72);
    lap('sign-in');

    // 3. Open voting; the dashboard in a second tab records every count its charts show.
    await tab(page, '会议流程');
    await page.getByRole('button', { name: '开始测评', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: '开始测评' }).click();
    await poll(() => page.getByTestId('meeting-state').textContent()).toBe('测评中');
    const dashboard = await admin.newPage();
    dashboard.on('pageerror', (e) => pageErrors.push(`dashboard: ${e.message}`));
    await dashboard.goto(`${base}/admin/#/meeting/${village.id}/live`);
    await poll(() => dashboard.getByTestId('k-note').textContent()).toContain(`新收回至少 ${k} 张手机票`);
    await dashboard.evaluate(() => {
      const w = window as unknown as { chartCounts: number[] };
      w.chartCounts = [0];
      setInterval(() => {
        const n = Number(document.querySelector('[data-testid="charts"]')?.getAttribute('data-count') ?? 0);
        if (n !== w.chartCounts[w.chartCounts.length - 1]) w.chartCounts.push(n);
      }, 20);
    });

    // 4. 72 phones vote through the real page, a few at a time.
    const { form } = await call<{ form: Form }>(t, session, 'GET', `/api/meetings/${village.id}/form`);
    const plans = planBallots(form, tokens.length);
    const tally = new Tally();
    const receipts: string[] = [];
    let next = 0;
    const phoneWorker = async () => {
      while (next < tokens.length) {
        const i = next++;
        receipts.push(await votePhone(form, tokens[i]!, plans[i]!));
        tally.add(form, plans[i]!);
      }
    };
    await Promise.all(Array.from({ length: PHONES_AT_ONCE }, phoneWorker));
    expect(new Set(receipts).size).toBe(72);
    await poll(() => num(dashboard, 'returned')).toBe(72);
    lap('72 phones');

    // 5. Close and seal through the pages.
    await tab(page, '会议流程');
    await page.getByRole('button', { name: '结束测评' }).click();
    await page.getByRole('dialog').getByRole('button', { name: '结束测评' }).click();
    await poll(() => page.getByTestId('meeting-state').textContent()).toBe('测评已结束');
    await poll(() => dashboard.getByTestId('charts').getAttribute('data-count')).toBe('72');
    await dashboard.waitForTimeout(100);
    const chartCounts = await dashboard.evaluate(() => (window as unknown as { chartCounts: number[] }).chartCounts);
    // The dashboard never moved by fewer than k ballots, and ended at all 72.
    for (let i = 1; i < chartCounts.length; i++) expect(chartCounts[i]! - chartCounts[i - 1]!, `steps ${chartCounts.join(' → ')}`).toBeGreaterThanOrEqual(k);
    expect(chartCounts.at(-1)).toBe(72);
    expect(chartCounts.length).toBeGreaterThan(3);
    await dashboard.close();

    await tab(page, '结果与封存');
    await poll(() => page.getByTestId('final-returned').textContent()).toBe('72');
    expect(await page.getByTestId('checks').locator('li.bad').count()).toBe(0);
    await page.getByLabel('我已核对上面的票数和核对项目，确认无误').check();
    await page.getByRole('button', { name: '封存结果' }).click();
    await page.getByRole('dialog').getByRole('button', { name: '确定封存' }).click();
    await poll(() => page.getByTestId('meeting-state').textContent()).toBe('已封存');
    lap('close and seal');

    // 6. The print view: its figures against the test's own tally.
    await page.getByRole('link', { name: '打开结果汇总表（打印、复制段落）' }).click();
    const sheet = page.getByRole('article', { name: '测评结果汇总表' });
    await poll(() => sheet.getByRole('heading', { level: 1 }).textContent()).toBe('红旗村民主测评结果汇总表');
    await poll(() => page.getByTestId('fingerprint').textContent()).toMatch(/^[0-9A-F]{4}( [0-9A-F]{4}){3}$/);
    const fingerprint = (await page.getByTestId('fingerprint').textContent())!;
    for (const [id, n] of [['expected', 72], ['present', 72], ['issued', 72], ['returned', 72], ['paper', 0], ['valid', 72], ['void', 0]] as const) {
      expect(await num(page, `t-${id}`), id).toBe(n);
    }
    expect(await page.getByTestId('seal-state').textContent()).toMatch(/^已封存（\d{4}年\d+月\d+日 \d\d:\d\d）$/);

    const countsOnPage = (partKey: string, subjectKey: string) =>
      page.locator(`section[data-part="${partKey}"] tr[data-subject="${subjectKey}"] td.fig .count`).allTextContents();
    const A = form.parts.find((p): p is RatingPart => p.key === 'A')!;
    const B = form.parts.find((p): p is RatingPart => p.key === 'B')!;
    const C = form.parts.find((p): p is RatingPart => p.key === 'C')!;
    const checked = [
      [A, A.subjects[0]!], [A, A.subjects[A.subjects.length - 1]!],
      [B, B.subjects[0]!], [B, B.subjects[1]!], [B, B.subjects[B.subjects.length - 1]!],
      [C, C.subjects[0]!],
    ] as const;
    for (const [part, s] of checked) {
      expect((await countsOnPage(part.key, s.key)).map(Number), `${part.key} ${s.label}`).toEqual(tally.grades.get(`${part.key}/${s.key}`));
    }
    // The member the phones doubted: more than a third 不称职, marked on the page; the flags agree with the tally everywhere.
    for (const s of B.subjects) {
      const counts = tally.grades.get(`B/${s.key}`)!;
      const shouldFlag = s.member && (3 * counts[3]! > 72 || 3 * (counts[0]! + counts[1]!) < 2 * 72);
      expect(await page.locator(`section[data-part="B"] tr[data-subject="${s.key}"]`).getAttribute('class'), s.label).toMatch(shouldFlag ? /flagged/ : /^(?!.*flagged)/);
    }
    const doubted = B.subjects[B.subjects.length - 1]!;
    expect(tally.grades.get(`B/${doubted.key}`)![3]! * 3).toBeGreaterThan(72);
    expect(await page.locator(`section[data-part="B"] tr[data-subject="${doubted.key}"] .flag`).textContent()).toContain('需进一步考察：不称职票超过三分之一');

    // The top of the recommendation ranking: its votes and 得票率 (half up, one decimal) from the tally.
    const top = [...tally.votes.entries()].sort((a, b) => b[1] - a[1])[0]!;
    expect(top[1]).toBeGreaterThan([...tally.votes.values()].sort((a, b) => b - a)[1]!);
    const firstRow = page.locator('table.ranking tbody tr').first();
    expect(await firstRow.getAttribute('data-candidate')).toBe(top[0]);
    expect(Number(await firstRow.locator('td.votes').textContent())).toBe(top[1]);
    expect(await firstRow.locator('td.vshare').textContent()).toBe(`${(Math.floor((2000 * top[1] + 72) / 144) / 10).toFixed(1)}%`);
    expect(tally.votes.get('田野')).toBe(3);
    expect(await page.locator('table.ranking tbody tr[data-candidate="田野"] td.votes').textContent()).toBe('3');
    expect((await page.locator('.comment-list li').allTextContents()).sort()).toEqual([...tally.comments].sort());
    expect(await page.getByTestId('paragraph').inputValue()).toContain('本次会议应到72人，实到72人，发出测评票72张，收回72张，其中有效票72张。');

    // 7. The screenshot and the PDF Chromium prints: A4, numbered pages, the fingerprint in every footer.
    await page.screenshot({ path: path.join(ARTIFACTS, 'print.png'), fullPage: true });
    await expectAccessible(page, 'the print view');
    const pdfPath = path.join(ARTIFACTS, 'report.pdf');
    await page.pdf({ path: pdfPath, preferCSSPageSize: true, printBackground: true });
    const pdf = readFileSync(pdfPath);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length;
    expect(pages).toBeGreaterThanOrEqual(1);
    // Never a silent pass: CI (.ci/run) installs poppler-utils and insists on it; elsewhere the skip is announced.
    const hasPdftotext = existsSync('/usr/bin/pdftotext');
    if (!hasPdftotext) {
      if (process.env.CEPING_REQUIRE_TOOLS) expect.fail('/usr/bin/pdftotext is missing (apt-get install poppler-utils)');
      console.warn('meeting-e2e: the check of the printed PDF text was SKIPPED: /usr/bin/pdftotext is not installed (apt-get install poppler-utils)');
    }
    if (hasPdftotext) {
      const { stdout } = await run('pdftotext', ['-layout', pdfPath, '-']);
      expect(stdout).toContain(`第 1 页，共 ${pages} 页`);
      expect(stdout.split(`封存签名公钥指纹 ${fingerprint}`).length - 1).toBe(pages);
      expect(stdout).toContain('测评结果汇总表');
      expect(stdout).not.toContain('考察报告用段落');
    }
    // The printed pages as pictures, to look at (report-1.png, …).
    if (existsSync('/usr/bin/pdftoppm')) await run('pdftoppm', ['-png', '-r', '60', pdfPath, path.join(ARTIFACTS, 'report')]);
    lap('print view and PDF');

    // 8. The sealed archive, downloaded from the print view, verifies with the CLI against the printed fingerprint.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('archive-download').click()]);
    const archivePath = path.join(ARTIFACTS, 'meeting-archive.json');
    await download.saveAs(archivePath);
    const verified = await run(process.execPath, [path.join(repoRoot, 'bin/ceping.mjs'), 'verify', archivePath, '--fingerprint', fingerprint], { cwd: repoRoot });
    expect(verified.stdout).toContain(fingerprint);
    lap('verify');

    // 9. The township's year page: 红旗村's figures, the year archive (verified, re-imported) and a backup.
    await page.goto(`${base}/admin/#/setup/campaign/${campaignId}/summary`);
    const row = page.locator(`[data-testid="summary-table"] tr[data-meeting="${village.id}"]`);
    await poll(() => row.count()).toBe(1);
    const report = await call<MeetingReport>(t, session, 'GET', `/api/meetings/${village.id}/report`);
    const partB = report.results.parts.find((p): p is RatingResult => p.key === 'B' && p.kind === 'rating')!;
    const teamRow = partB.rows.find((r) => !r.subject.member)!;
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(3, 7).map(Number)).toEqual([72, 72, 72, 72]);
    // 班子称职以上率 as the report gives it: the summary and the print view read one computation.
    expect(cells[9]).toBe(teamRow.rates!.competentOrBetter!.text);
    expect(cells[11]).toContain(doubted.label);
    expect(await row.getAttribute('class')).toContain('attention');
    await page.screenshot({ path: path.join(ARTIFACTS, 'summary.png'), fullPage: true });
    await expectAccessible(page, 'the year summary');

    const [yearDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('year-archive').click()]);
    const yearPath = path.join(ARTIFACTS, 'year-archive.json');
    await yearDownload.saveAs(yearPath);
    await run(process.execPath, [path.join(repoRoot, 'bin/ceping.mjs'), 'verify', yearPath, '--fingerprint', fingerprint], { cwd: repoRoot });
    await page.getByLabel('选择要导入的档案文件').setInputFiles(yearPath);
    await poll(() => page.getByTestId('import-result').textContent()).toContain('已导入 1 个会议档案，其中核验通过 1 个');
    const imported = page.getByTestId('imported-list').locator('tbody tr');
    await poll(() => imported.count()).toBe(1);
    expect(await imported.first().textContent()).toContain('核验通过');
    expect(await imported.first().textContent()).toContain(`${fingerprint}（本机）`);
    // The imported meeting opens as a report of its own, read from the signed record.
    await imported.first().getByRole('link', { name: '查看' }).click();
    await poll(() => page.getByTestId('imported-status').textContent()).toContain('导入时核验通过');
    expect(await page.getByTestId('t-returned').textContent()).toBe('72');
    expect(await page.getByTestId('paragraph').inputValue()).toContain('收回72张');
    await page.screenshot({ path: path.join(ARTIFACTS, 'imported-print.png'), fullPage: false });
    await page.goBack();
    await poll(() => page.getByTestId('imported-list').locator('tbody tr').count()).toBe(1);

    const [backup] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '下载数据库备份' }).click()]);
    expect(backup.suggestedFilename()).toMatch(/^ceping-\d{8}-\d{6}\.db$/);
    const backupPath = path.join(ARTIFACTS, 'backup.db');
    await backup.saveAs(backupPath);
    expect(readFileSync(backupPath).subarray(0, 16).toString('latin1')).toBe('SQLite format 3\0');
    await page.screenshot({ path: path.join(ARTIFACTS, 'summary-archives.png'), fullPage: true });
    lap('year page');

    expect(pageErrors).toEqual([]);
  });
});
