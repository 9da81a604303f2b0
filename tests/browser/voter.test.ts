/**
 * The voter's page in real headless Chromium against the real server, as a WeChat user on a small
 * Android phone: scan at the desk (the ticket is redeemed for a token at once, through a reload in the
 * middle of it), wait for voting to open, fill every part, lose the reply and the network on submit,
 * end on the receipt, then scan again and see "already voted"; a phone without BigInt votes by the
 * assisted path; after the seal, check a receipt at /v/#check. Screenshots of every step are saved to
 * tests/artifacts/voter/ so anyone can look at what a voter sees.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { call, makeMeeting, type TestMeeting } from '../helpers/meeting.ts';
import { repoRoot } from './ui-build.ts';
import { chromiumSuite, expectAccessible, hasChromium, launchChromium, newPhoneContext, prepareBrowserSuite, recordRequests } from './chromium.ts';

const ARTIFACTS = path.join(repoRoot, 'tests/artifacts/voter');

interface Watch {
  requests: string[];
  /** The phone's POST bodies to the voter API, by path. */
  bodies: { path: string; body: string }[];
  console: string[];
  errors: string[];
}

describe.skipIf(!hasChromium)(chromiumSuite('voter page in Chromium', 'voter'), () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    await prepareBrowserSuite(ARTIFACTS);
    t = await makeTestApp();
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /**
   * A phone; `oldWebView` takes away the functions an old WebView (Chrome 64, iOS 12) lacks, so the
   * page must run on its polyfills and feature tests.
   */
  async function phone(oldWebView = false): Promise<{ context: BrowserContext; page: Page; watch: Watch }> {
    const context = await newPhoneContext(browser);
    if (oldWebView) {
      await context.addInitScript(() => {
        const w = window as unknown as Record<string, unknown>;
        // iOS 12/13 and Chrome before 67 have no BigInt: such a phone takes the assisted path.
        for (const name of ['queueMicrotask', 'structuredClone', 'AbortController', 'requestIdleCallback', 'BigInt']) delete w[name];
        const strip = (o: object, names: string[]) => {
          for (const n of names) delete (o as Record<string, unknown>)[n];
        };
        strip(String.prototype, ['replaceAll', 'matchAll', 'at']);
        strip(Array.prototype, ['flat', 'flatMap', 'at', 'findLast', 'findLastIndex']);
        strip(Object, ['fromEntries', 'hasOwn']);
        strip(Promise, ['allSettled', 'any']);
        delete w.globalThis;
      });
    }
    const watch: Watch = { requests: recordRequests(context), bodies: [], console: [], errors: [] };
    const page = await context.newPage();
    page.on('request', (r) => {
      if (r.url().includes('/api/voter/')) watch.bodies.push({ path: new URL(r.url()).pathname, body: r.postData() ?? '' });
    });
    page.on('console', (m) => watch.console.push(m.text()));
    page.on('pageerror', (e) => watch.errors.push(e.message));
    return { context, page, watch };
  }

  let shot = 0;
  async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
    shot += 1;
    await page.screenshot({ path: path.join(ARTIFACTS, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage });
  }

  function expectNoLeaks(watch: Watch, secrets: string[]): void {
    const origin = new URL(base).origin;
    expect(watch.requests.length).toBeGreaterThan(0);
    for (const url of watch.requests) {
      expect(url.startsWith('data:') || new URL(url).origin === origin, `request to another origin: ${url}`).toBe(true);
      for (const s of secrets) expect(url.toUpperCase()).not.toContain(s.toUpperCase());
    }
    // The page writes nothing to the console; only the browser's own word about a dropped request appears.
    expect(watch.console.filter((line) => !line.startsWith('Failed to load resource:'))).toEqual([]);
    for (const line of watch.console) for (const s of secrets) expect(line).not.toContain(s);
    expect(watch.errors).toEqual([]);
  }

  const heading = (page: Page) => page.locator('main h1');
  /** Wait for the page to show something; generous, as CI has two cores. */
  const poll = <T>(fn: () => T | Promise<T>, timeout = 5_000) => expect.poll(fn, { timeout, interval: 50 });

  async function gradeEverySubject(page: Page, label: string): Promise<void> {
    const cards = page.locator('main [role=group][id^="subject-"]');
    const n = await cards.count();
    for (let i = 0; i < n; i++) await cards.nth(i).getByRole('button', { name: label, exact: true }).click();
  }

  it('redeems at the desk through a reload, then goes from the waiting screen through every part to the receipt, through a lost reply', async () => {
    const m: TestMeeting = await makeMeeting(t, { roster: 72, signIn: 72, members: 4, candidates: 3, open: false, redeem: false });
    const token = m.tickets[0]!;
    const { context, page, watch } = await phone();

    // 1. Scanned at the desk before voting opens: the ticket is redeemed at once. The first answer is
    //    lost and the page reloads (WeChat going to the background): it sends the same blinded element again.
    let redeems = 0;
    let lost = false;
    await page.route('**/api/voter/redeem', async (route) => {
      redeems += 1;
      if (redeems === 1) {
        await route.fetch();
        await route.abort('connectionreset');
        lost = true;
        return;
      }
      await route.continue();
    });
    await page.goto(`${base}/v/#${token}`);
    await poll(() => lost, 15_000).toBe(true);
    await page.reload();
    await poll(() => heading(page).textContent(), 15_000).toBe('请等待主持人宣布开始测评');
    expect(page.url()).toBe(`${base}/v/`);
    const redeemBodies = watch.bodies.filter((b) => b.path === '/api/voter/redeem').map((b) => JSON.parse(b.body) as { ticket: string; blinded: string });
    expect(redeemBodies.length).toBeGreaterThanOrEqual(2);
    for (const b of redeemBodies) expect(b).toEqual(redeemBodies[0]);
    expect(redeemBodies[0]!.blinded).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await page.unroute('**/api/voter/redeem');
    // The desk sees 已领取.
    const status = await call<{ state: string }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/roster/${m.entryIds[0]}/ticket`);
    expect(status.state).toBe('redeemed');
    await screenshot(page, 'waiting');
    await expectAccessible(page, 'the waiting screen');

    // 2. The host opens voting; the ballot appears by itself.
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/open-voting`, { overrideReason: null });
    await poll(() => heading(page).textContent(), 10_000).toBe('党组织政治建设民主测评表');
    await screenshot(page, 'part-A');
    await expectAccessible(page, 'part A');

    // Going on with nothing chosen points at the first subject.
    await page.getByRole('button', { name: '下一步', exact: true }).click();
    await poll(() => page.locator('#subject-A-s1 [role=alert]').textContent()).toBe('「把握政治方向」还没有选择');
    await screenshot(page, 'part-A-missing');

    await gradeEverySubject(page, '好');
    await page.locator('#subject-A-s6').getByRole('button', { name: '不了解' }).click();
    await screenshot(page, 'part-A-filled');
    await page.getByRole('button', { name: '下一步', exact: true }).click();

    // 3. Part B: 4 members, at most 30 % 优秀 → 1; a second 优秀 is refused on the spot.
    await poll(() => heading(page).textContent()).toBe('班子集体和成员年度考核民主测评表');
    await poll(() => page.locator('.quota').first().textContent()).toBe('「优秀」最多可选 1 人，已选 0 人');
    await gradeEverySubject(page, '称职');
    const members = page.locator('main [role=group][id^="subject-B-m"]');
    await members.nth(0).getByRole('button', { name: '优秀' }).click();
    await members.nth(1).getByRole('button', { name: '优秀' }).click();
    await poll(() => members.nth(1).getByRole('alert').textContent()).toContain('「优秀」最多可选 1 人，已经选满');
    await members.nth(1).scrollIntoViewIfNeeded();
    await screenshot(page, 'part-B-quota');
    await expectAccessible(page, 'part B');
    // The phone's back button goes back a part, with the choices kept, rather than leaving the page.
    await page.goBack();
    await poll(() => heading(page).textContent()).toBe('党组织政治建设民主测评表');
    expect(await page.locator('#subject-A-s6').getByRole('button', { name: '不了解' }).getAttribute('aria-pressed')).toBe('true');
    await page.getByRole('button', { name: '下一步', exact: true }).click();
    await poll(() => heading(page).textContent()).toBe('班子集体和成员年度考核民主测评表');
    await page.getByRole('button', { name: '下一步', exact: true }).click();

    // 4. Part C.
    await poll(() => heading(page).textContent()).toBe('党组织书记抓基层党建工作述职评议表');
    await gradeEverySubject(page, '较好');
    await screenshot(page, 'part-C');
    await page.getByRole('button', { name: '下一步', exact: true }).click();

    // 5. Part D: one from the list, one written in.
    await poll(() => heading(page).textContent()).toBe('后备干部人选推荐表');
    await page.getByRole('button', { name: '候选人1' }).click();
    await page.getByLabel('姓名').fill('田 野');
    await page.getByRole('button', { name: '添加' }).click();
    await poll(() => page.locator('.quota').textContent()).toBe('最多推荐 2 人，已推荐 2 人');
    await screenshot(page, 'part-D');
    await expectAccessible(page, 'part D');
    await page.getByRole('button', { name: '下一步', exact: true }).click();

    // 6. Part E, with the note on how comments are passed on.
    await poll(() => heading(page).textContent()).toBe('意见建议');
    await poll(() => page.getByText('意见建议将以随机顺序提供给考察组，不会显示您的姓名').count()).toBe(1);
    await page.getByLabel('您的意见建议（可以不填）').fill('希望进一步加强村务公开。');
    await screenshot(page, 'part-E');
    await page.getByRole('button', { name: '下一步：核对' }).click();

    // 7. Review.
    await poll(() => heading(page).textContent()).toBe('请核对您的选择');
    await poll(() => page.getByText('候选人1、田野').count()).toBe(1);
    await screenshot(page, 'review');
    await screenshot(page, 'review-full', true);
    await expectAccessible(page, 'the review');

    // The choices so far are on the phone, under a hash: never the secret itself.
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }));
    expect(stored).toContain('田野');
    expect(stored).not.toContain(token);

    // 8. Submit: the server records the ballot but the reply is lost, and the Wi-Fi drops.
    let firstReceipt = '';
    let castRequests = 0;
    await page.route('**/api/voter/cast', async (route) => {
      castRequests += 1;
      if (castRequests === 1) {
        const reply = await route.fetch();
        firstReceipt = ((await reply.json()) as { receipt: string }).receipt;
        await context.setOffline(true);
        await route.abort('internetdisconnected');
        return;
      }
      await route.continue();
    });
    await page.getByRole('button', { name: '确认提交' }).click();
    await poll(() => page.getByText('网络不稳定，正在重试…').count(), 15_000).toBe(1);
    expect(await heading(page).textContent()).toBe('正在提交…');
    await screenshot(page, 'submitting-offline');
    await expectAccessible(page, 'the submitting screen');

    // 9. The network comes back: the same nonce and package get the same receipt, not an error.
    await context.setOffline(false);
    await poll(() => heading(page).textContent(), 20_000).toBe('提交成功');
    const receipt = await page.locator('#receipt').textContent();
    expect(receipt).toMatch(/^[2-9A-Z]{5}-[2-9A-Z]{5}$/);
    expect(receipt).toBe(firstReceipt);
    await poll(() => page.getByText(/刚才网络中断，但提交已被记录/).count()).toBe(1);
    await poll(() => page.getByText(/可在会议结束后凭此码查询您的测评票是否已计入，此码不能显示您的选择/).count()).toBe(1);
    const fp = (await call<{ keyFingerprint: string }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}`)).keyFingerprint;
    await poll(() => page.locator('.fingerprint').textContent()).toBe(fp);
    await screenshot(page, 'done');
    await expectAccessible(page, 'the receipt');
    expect(castRequests).toBeGreaterThanOrEqual(2);

    // Nothing of the choices is left on the phone.
    const left = await page.evaluate(() => ({ local: JSON.stringify({ ...localStorage }), session: JSON.stringify({ ...sessionStorage }) }));
    expect(left.local).not.toMatch(/田野|村务公开|excellent|competent|draft/);
    expect(left.local).not.toContain(token);
    expect(left.session).not.toContain(token);

    // 10. Scanning the same QR again: already voted, with the receipt.
    await page.unroute('**/api/voter/cast');
    await page.goto(`${base}/v/#${token}`);
    await poll(() => heading(page).textContent()).toBe('您已完成测评');
    await poll(() => page.locator('main .receipt').textContent()).toBe(receipt);
    await screenshot(page, 'already-voted');

    // One ballot in the box, counted once.
    const live = await call<{ turnout: { returned: number } }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/live`);
    expect(live.turnout.returned).toBe(1);

    expectNoLeaks(watch, [token]);
    expect(t.logs.join('\n')).not.toContain(token);
    // After the redemption no request carries the ticket or the blinded element: the meeting is asked
    // about with its shared access word, the ballot cast with the token.
    const later = watch.bodies.filter((b) => b.path !== '/api/voter/redeem');
    expect(later.filter((b) => b.path === '/api/voter/cast').length).toBeGreaterThanOrEqual(2);
    for (const b of later) {
      expect(b.body).not.toContain(token);
      expect(b.body).not.toContain(redeemBodies[0]!.blinded);
    }
    // The done screen showed the key fingerprint the projector shows.
    const meeting = await call<{ keyFingerprint: string }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}`);
    expect(meeting.keyFingerprint).toMatch(/^[0-9A-F]{4}( [0-9A-F]{4}){3}$/);
    await context.close();
  }, 180_000);

  it('takes a typed short code, works with very large text, and votes without BigInt or the newer browser functions', async () => {
    const m = await makeMeeting(t, { roster: 72, signIn: 72, members: 6, candidates: 2, redeem: false });
    const code = m.shortCodes[5]!;
    const { context, page, watch } = await phone(true);
    await page.goto(`${base}/v/`);
    expect(await page.evaluate(() => typeof ([] as unknown as { flatMap?: unknown }).flatMap)).toBe('undefined');
    expect(await page.evaluate(() => typeof (window as unknown as { BigInt?: unknown }).BigInt)).toBe('undefined');

    await page.goto(`${base}/v/`);
    await poll(() => heading(page).textContent()).toBe('民主测评');
    await page.getByLabel('测评码').fill('ABC');
    await page.getByRole('button', { name: '开始测评' }).click();
    await poll(() => page.getByRole('alert').textContent()).toContain('共 8 位');
    await screenshot(page, 'code-entry');
    await expectAccessible(page, 'the code entry');

    await page.getByLabel('测评码').fill(` ${code.toLowerCase().replace('-', ' ')} `);
    await page.getByRole('button', { name: '开始测评' }).click();
    await poll(() => heading(page).textContent()).toBe('党组织政治建设民主测评表');
    // No BigInt: the server made the token (the page says so on the review and the done screen).
    expect((JSON.parse(watch.bodies.find((b) => b.path === '/api/voter/redeem')!.body) as { blinded: unknown }).blinded).toBeNull();
    expect(watch.requests.some((u) => u.includes('/assets/token-crypto-'))).toBe(false);

    // The phone's font size set to "large" and more: everything grows, nothing runs off the side.
    await page.addStyleTag({ content: 'html { font-size: 175% !important; }' });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const buttonHeight = await page.locator('#subject-A-s1 .choice').first().evaluate((b) => b.getBoundingClientRect().height);
    expect(buttonHeight).toBeGreaterThanOrEqual(80);
    await screenshot(page, 'large-text');

    // A reload keeps the choices (the tab remembers the code; the address bar does not show it).
    await page.addStyleTag({ content: 'html { font-size: 112.5% !important; }' });
    await page.locator('#subject-A-s1').getByRole('button', { name: '较好' }).click();
    await page.reload();
    await poll(() => heading(page).textContent()).toBe('党组织政治建设民主测评表');
    await poll(() => page.locator('#subject-A-s1').getByRole('button', { name: '较好' }).getAttribute('aria-pressed')).toBe('true');

    // And on to the receipt, on the old functions only.
    await page.reload();
    await poll(() => heading(page).textContent()).toBe('党组织政治建设民主测评表');
    for (let part = 0; part < 3; part++) {
      await gradeEverySubject(page, part === 1 ? '称职' : '一般');
      await page.getByRole('button', { name: '下一步', exact: true }).click();
    }
    await page.getByRole('button', { name: '下一步', exact: true }).click();
    await page.getByRole('button', { name: '下一步：核对' }).click();
    await poll(() => page.locator('.assisted').textContent()).toContain('由服务器代为生成');
    await page.getByRole('button', { name: '确认提交' }).click();
    await poll(() => heading(page).textContent()).toBe('提交成功');
    await poll(() => page.locator('.assisted').textContent()).toContain('由服务器代为生成');
    await screenshot(page, 'assisted-done');

    expectNoLeaks(watch, [code, code.replace('-', '')]);
    expect(readdirSync(ARTIFACTS).length).toBeGreaterThan(10);
    await context.close();
  }, 120_000);

  /** From the first part of an open ballot to the done screen; returns the receipt shown there. */
  async function voteToReceipt(page: Page): Promise<string> {
    await poll(() => heading(page).textContent(), 10_000).toBe('党组织政治建设民主测评表');
    for (let part = 0; part < 3; part++) {
      await gradeEverySubject(page, part === 1 ? '称职' : '较好');
      await page.getByRole('button', { name: '下一步', exact: true }).click();
    }
    await poll(() => heading(page).textContent()).toBe('后备干部人选推荐表');
    await page.getByRole('button', { name: '下一步', exact: true }).click();
    await page.getByRole('button', { name: '下一步：核对' }).click();
    await page.getByRole('button', { name: '确认提交' }).click();
    await poll(() => heading(page).textContent(), 15_000).toBe('提交成功');
    const receipt = (await page.locator('#receipt').textContent())!;
    expect(receipt).toMatch(/^[2-9A-Z]{5}-[2-9A-Z]{5}$/);
    return receipt;
  }

  it('keeps every step through a reload (WeChat reloads a page sent to the background), and tells a phone mid-ballot that voting has closed', async () => {
    const m = await makeMeeting(t, { roster: 72, signIn: 72, members: 4, candidates: 3, redeem: false });
    const { context, page, watch } = await phone();
    const pressed = (subject: string, label: string) => page.locator(subject).getByRole('button', { name: label, exact: true }).getAttribute('aria-pressed');
    const reloadOn = async (title: string) => {
      await page.reload();
      await poll(() => heading(page).textContent(), 10_000).toBe(title);
    };
    await page.goto(`${base}/v/#${m.tickets[3]!}`);

    // A: every choice made, reload before going on.
    await poll(() => heading(page).textContent(), 10_000).toBe('党组织政治建设民主测评表');
    await gradeEverySubject(page, '好');
    await reloadOn('党组织政治建设民主测评表');
    expect(await pressed('#subject-A-s1', '好')).toBe('true');
    await page.getByRole('button', { name: '下一步', exact: true }).click();

    // B: half done, reload.
    await poll(() => heading(page).textContent()).toBe('班子集体和成员年度考核民主测评表');
    await page.locator('main [role=group][id^="subject-B-m"]').nth(0).getByRole('button', { name: '优秀' }).click();
    await reloadOn('班子集体和成员年度考核民主测评表');
    expect(await page.locator('main [role=group][id^="subject-B-m"]').nth(0).getByRole('button', { name: '优秀' }).getAttribute('aria-pressed')).toBe('true');
    await gradeEverySubject(page, '称职');
    await page.getByRole('button', { name: '下一步', exact: true }).click();

    // The end of C: every subject graded, the page reloads. It comes back on C, not on a review with D and E empty.
    await poll(() => heading(page).textContent()).toBe('党组织书记抓基层党建工作述职评议表');
    await gradeEverySubject(page, '较好');
    await reloadOn('党组织书记抓基层党建工作述职评议表');
    await screenshot(page, 'reload-end-of-C');
    await page.getByRole('button', { name: '下一步', exact: true }).click();

    // D: a pick survives the reload.
    await poll(() => heading(page).textContent()).toBe('后备干部人选推荐表');
    await page.getByRole('button', { name: '候选人2' }).click();
    await reloadOn('后备干部人选推荐表');
    await poll(() => page.locator('.quota').textContent()).toBe('最多推荐 2 人，已推荐 1 人');
    await page.getByRole('button', { name: '下一步', exact: true }).click();

    // E: the typed comment survives the reload.
    await poll(() => heading(page).textContent()).toBe('意见建议');
    await page.getByLabel('您的意见建议（可以不填）').fill('路灯坏了三盏');
    await page.waitForTimeout(600);
    await reloadOn('意见建议');
    await poll(() => page.getByLabel('您的意见建议（可以不填）').inputValue()).toBe('路灯坏了三盏');
    await page.getByRole('button', { name: '下一步：核对' }).click();

    // The review survives the reload with everything on it.
    await poll(() => heading(page).textContent()).toBe('请核对您的选择');
    await reloadOn('请核对您的选择');
    await poll(() => page.getByText('候选人2').count()).toBeGreaterThan(0);
    expect(await page.locator('.unseen').count()).toBe(0);

    // The team closes voting while this phone still holds its ballot: within seconds the phone says so,
    // and what it held is gone from it.
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    await poll(() => heading(page).textContent(), 15_000).toBe('测评已经结束');
    await poll(() => page.getByRole('alert').textContent()).toContain('您在这部手机上填写但尚未提交的内容没有计入测评结果');
    await screenshot(page, 'closed-mid-ballot');
    await expectAccessible(page, 'the closed screen');
    const left = await page.evaluate(() => JSON.stringify({ ...localStorage }));
    expect(left).not.toMatch(/路灯|候选人2/);
    const live = await call<{ turnout: { returned: number } }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/live`);
    expect(live.turnout.returned).toBe(0);
    expectNoLeaks(watch, [m.tickets[3]!]);
    await context.close();
  }, 180_000);

  it('fetches the ballot steps while the voter waits, and gets over a dropped fetch of them with a button', async () => {
    const m = await makeMeeting(t, { roster: 72, signIn: 72, members: 3, candidates: 2, open: false, redeem: false });
    // 1. The first screen does not carry the ballot steps; they arrive while the voter waits for voting
    //    to open. The receipt check is fetched only when it is opened.
    const first = await phone();
    await first.page.goto(`${base}/v/#${m.tickets[1]!}`);
    await poll(() => heading(first.page).textContent(), 15_000).toBe('请等待主持人宣布开始测评');
    await poll(() => first.watch.requests.some((u) => /\/v\/assets\/steps-[\w-]+\.js$/.test(u))).toBe(true);
    expect(first.watch.requests.some((u) => u.includes('/assets/CheckReceipt-'))).toBe(false);
    await first.context.close();

    // 2. A phone whose Wi-Fi drops every fetch of the steps: the page tries again by itself, then says so.
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/open-voting`, { overrideReason: null });
    const { context, page, watch } = await phone();
    let dropping = true;
    let dropped = 0;
    await page.route('**/v/assets/steps-*.js', async (route) => {
      if (!dropping) return route.continue();
      dropped += 1;
      await route.abort('connectionreset');
    });
    await page.goto(`${base}/v/#${m.tickets[2]!}`);
    await poll(() => heading(page).textContent(), 20_000).toBe('页面没有下载完整');
    expect(dropped).toBeGreaterThanOrEqual(1);
    expect(await page.getByRole('alert').textContent()).toBe('网络不稳定，测评表没能下载完整。');
    await screenshot(page, 'steps-dropped');
    await expectAccessible(page, 'the dropped ballot steps');

    // 3. The Wi-Fi is back; the button brings the ballot (by a second try, or by reloading the page, which
    //    comes back to the same place: the ticket is not redeemed again).
    dropping = false;
    await page.getByRole('button', { name: '重新加载' }).click();
    await poll(() => heading(page).textContent(), 15_000).toBe('党组织政治建设民主测评表');
    expect(watch.bodies.filter((b) => b.path === '/api/voter/redeem')).toHaveLength(1);
    await page.locator('#subject-A-s1').getByRole('button', { name: '好', exact: true }).click();
    expect(await page.locator('#subject-A-s1').getByRole('button', { name: '好', exact: true }).getAttribute('aria-pressed')).toBe('true');
    expectNoLeaks(watch, [m.tickets[2]!]);
    await context.close();
  }, 120_000);

  it('checks a receipt after the seal at /v/#check: 已计入 for the one from the done screen, 未找到 for a made-up one', async () => {
    const a = await makeMeeting(t, { roster: 72, signIn: 72, members: 3, candidates: 2, redeem: false });
    const { context, page, watch } = await phone();
    const checks: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/api/receipts/check')) checks.push(r.postData() ?? '');
    });
    await page.goto(`${base}/v/#${a.tickets[0]!}`);
    const receipt = await voteToReceipt(page);

    // The meeting ends: voting closed, results sealed.
    await call(t, a.session, 'POST', `/api/meetings/${a.meetingId}/close-voting`);
    await call(t, a.session, 'POST', `/api/meetings/${a.meetingId}/seal`);

    // Later, on the same phone: from the code entry's link to the check.
    await page.goto(`${base}/v/`);
    await poll(() => heading(page).textContent()).toBe('民主测评');
    await page.getByRole('link', { name: '查询回执' }).click();
    await poll(() => heading(page).textContent()).toBe('查询回执');
    expect(page.url()).toBe(`${base}/v/#check`);
    await poll(() => page.getByText('回执码只能证明测评票已计入，任何人都无法凭它看到您的选择。').count()).toBe(1);

    // The receipt as copied from the done screen, typed the way a voter might.
    await page.getByLabel('回执码').fill(receipt.toLowerCase().replace('-', ' '));
    await page.getByRole('button', { name: '查询', exact: true }).click();
    await poll(() => page.locator('#check-result').textContent()).toBe('已计入');
    const found = page.locator('.result.included');
    await poll(() => found.textContent()).toContain('红旗村');
    expect(await found.locator('.receipt').textContent()).toBe(receipt);
    // Counted, and nothing of how: no grade, no candidate, no time.
    const shown = (await page.locator('main').textContent())!;
    for (const word of ['较好', '称职', '候选人', '优秀', ':']) expect(shown).not.toContain(word);
    expect(await page.evaluate(() => document.activeElement && document.activeElement.id)).toBe('check-result');
    await screenshot(page, 'receipt-found');
    await expectAccessible(page, 'the receipt check, found');

    // A made-up code: 未找到, with what to do.
    const madeUp = receipt === 'DV334-JH9HB' ? 'DV334-JH9HC' : 'DV334-JH9HB';
    await page.getByLabel('回执码').fill(madeUp);
    await page.getByRole('button', { name: '查询', exact: true }).click();
    await poll(() => page.locator('#check-result').textContent()).toBe('未找到');
    await poll(() => page.locator('.result.not-found').textContent()).toContain('请向考察组反映');
    expect(await page.locator('.result.included').count()).toBe(0);
    await screenshot(page, 'receipt-not-found');
    await expectAccessible(page, 'the receipt check, not found');

    // A mistyped one is pointed at on the phone, and not sent.
    const sent = checks.length;
    await page.getByLabel('回执码').fill('DV334-JH9H');
    await page.getByRole('button', { name: '查询', exact: true }).click();
    await poll(() => page.locator('#receipt-problem').textContent()).toBe('回执码共 10 位，您输入了 9 位，请核对');
    expect(checks.length).toBe(sent);
    expect(checks.map((b) => JSON.parse(b) as unknown)).toEqual([{ receipt }, { receipt: madeUp }]);

    // The whole township checking at once: the server's limit, said plainly.
    await page.route('**/api/receipts/check', (route) =>
      route.fulfill({ status: 429, contentType: 'application/json', body: JSON.stringify({ error: { code: 'RATE_LIMITED', message: '操作太频繁，请稍等片刻再试' } }) }),
    );
    await page.getByLabel('回执码').fill(receipt);
    await page.getByRole('button', { name: '查询', exact: true }).click();
    await poll(() => page.locator('#check-result').textContent()).toBe('查询太频繁，请稍后再试');
    await screenshot(page, 'receipt-too-many');
    await page.unroute('**/api/receipts/check');

    // 返回 is a step back to the code entry; the address is the page's own again.
    await page.getByRole('button', { name: '返回' }).click();
    await poll(() => heading(page).textContent()).toBe('民主测评');
    expect(page.url()).toBe(`${base}/v/`);

    // Opened straight from the address (a bookmark, a link in a notice): the check, never "incomplete QR".
    await page.goto(`${base}/v/#check`);
    await poll(() => heading(page).textContent()).toBe('查询回执');
    expect(await page.getByRole('alert').count()).toBe(0);
    await page.reload();
    await poll(() => heading(page).textContent()).toBe('查询回执');
    await page.getByRole('button', { name: '返回' }).click();
    await poll(() => heading(page).textContent()).toBe('民主测评');
    expect(page.url()).toBe(`${base}/v/`);

    expectNoLeaks(watch, [a.tickets[0]!, receipt, receipt.replace('-', '')]);
    expect(t.logs.join('\n')).not.toContain(receipt);
    await context.close();

    // Another meeting, still open, on an old WebView: the done screen's link, tapped at once, says calmly
    // that checking opens after the seal; back shows the receipt again.
    const b = await makeMeeting(t, { roster: 72, signIn: 72, members: 3, candidates: 2, redeem: false });
    const old = await phone(true);
    await old.page.goto(`${base}/v/#${b.tickets[0]!}`);
    const receiptB = await voteToReceipt(old.page);
    await old.page.getByRole('link', { name: '会议结束后可在此查询' }).click();
    await poll(() => heading(old.page).textContent()).toBe('查询回执');
    expect(await old.page.getByLabel('回执码').inputValue()).toBe(receiptB);
    await old.page.getByRole('button', { name: '查询', exact: true }).click();
    await poll(() => old.page.locator('#check-result').textContent()).toBe('会议结果封存后才能查询');
    expect(await old.page.getByRole('alert').count()).toBe(0);
    await screenshot(old.page, 'receipt-not-sealed');
    await expectAccessible(old.page, 'the receipt check, not sealed yet');
    await old.page.goBack();
    await poll(() => heading(old.page).textContent()).toBe('提交成功');
    expect(await old.page.locator('#receipt').textContent()).toBe(receiptB);
    expectNoLeaks(old.watch, [b.tickets[0]!, receiptB]);
    await old.context.close();
  }, 180_000);
});
