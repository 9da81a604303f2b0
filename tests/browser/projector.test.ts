/**
 * The projector as a wall screen, in real Chromium at 1920×1080 and 1366×768: it fills the screen,
 * every label and rate is at least 32 px at 1920×1080 (and in proportion on the smaller screen),
 * measured from the DOM; turnout is large during voting; the results fit after close. And the 述职
 * timers follow across two browser contexts (two laptops, two accounts) through the server, surviving
 * a reload. Screenshots go to tests/artifacts/projector/.
 */

import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { loginAs, TEST_PASSWORD, type AdminSession } from '../helpers/auth.ts';
import { call, makeMeeting, type TestMeeting } from '../helpers/meeting.ts';
import { fullPackage } from '../helpers/packages.ts';
import { cast as castBallot } from '../helpers/phone.ts';
import { repoRoot } from './ui-build.ts';
import { chromiumSuite, expectAccessible, hasChromium, launchChromium, newOfficePage, prepareBrowserSuite } from './chromium.ts';
import type { Form } from '../../server/forms/form.schemas.ts';

const ARTIFACTS = path.join(repoRoot, 'tests/artifacts/projector');
const SCREENS = [
  { width: 1920, height: 1080 },
  { width: 1366, height: 768 },
] as const;

interface TextBox {
  text: string;
  px: number;
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** Every piece of visible text on the wall with its computed font size and box (the operator's key hint aside). */
function measure(page: Page): Promise<TextBox[]> {
  return page.evaluate(() => {
    const root = document.querySelector('[data-testid="projector"]')!;
    const out: TextBox[] = [];
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      const text = (node.textContent ?? '').trim();
      const el = node.parentElement;
      if (!text || !el || el.closest('footer.keys')) continue;
      // The text's own lines (a range), not its element's box: elements nest. Each line is taken as its
      // em box (font size high, centred), roughly where CJK glyphs are inked; the range's box also holds the
      // font's ascent and descent, which a tight line height lets neighbours share.
      const range = document.createRange();
      range.selectNodeContents(node);
      const cs = getComputedStyle(el);
      const px = parseFloat(cs.fontSize);
      if (cs.visibility === 'hidden' || cs.display === 'none') continue;
      for (const r of Array.from(range.getClientRects())) {
        if (r.width === 0 || r.height === 0) continue;
        const mid = (r.top + r.bottom) / 2;
        out.push({ text: text.slice(0, 24), px, top: mid - px / 2, bottom: mid + px / 2, left: r.left, right: r.right });
      }
    }
    return out;
  });
}

describe.skipIf(!hasChromium)(chromiumSuite('the projector as a wall screen', 'projector'), () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let session: AdminSession;
  let village: TestMeeting;
  let station: TestMeeting;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    await prepareBrowserSuite(ARTIFACTS);
    t = await makeTestApp();
    session = await loginAs(t);
    village = await makeMeeting(t, { kind: 'village', roster: 72, signIn: 71, members: 5, open: false, session });
    station = await makeMeeting(t, { kind: 'station', roster: 24, signIn: 24, members: 4, open: false, session });
    // The station lets the projector show distributions during voting.
    await call(t, session, 'PATCH', `/api/meetings/${station.meetingId}`, { projectorShowsDistributions: true });
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function loggedIn(username = 'admin'): Promise<{ context: BrowserContext; page: Page }> {
    const { context, page } = await newOfficePage(browser, pageErrors, { width: 1920, height: 1080 });
    await page.goto(`${base}/admin/`);
    await page.getByLabel('用户名').fill(username);
    await page.getByLabel('密码').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: '登录' }).click();
    await expect.poll(() => page.locator('main h1').first().textContent()).toBe('测评会议');
    return { context, page };
  }

  const poll = <T>(fn: () => T | Promise<T>, timeout = 8_000) => expect.poll(fn, { timeout, interval: 50 });

  async function cast(m: TestMeeting, from: number, to: number): Promise<void> {
    const { form } = await call<{ form: Form }>(t, session, 'GET', `/api/meetings/${m.meetingId}/form`);
    for (let i = from; i < to; i++) {
      const res = await castBallot(t, m.tokens[i]!, fullPackage(form, 1 + (i % 3)));
      expect(res.statusCode, res.body).toBe(200);
    }
  }

  /** Screenshot at both sizes, and check size, fill and overflow from the DOM at each. */
  async function checkWall(page: Page, name: string, wait: () => Promise<unknown>): Promise<void> {
    for (const screen of SCREENS) {
      await page.setViewportSize(screen);
      await wait();
      await page.waitForTimeout(150);
      await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${screen.width}x${screen.height}.png`) });
      const scale = Math.min(screen.width / 1920, screen.height / 1080);
      // The page's unit follows the screen: 16 px at 1920×1080.
      const rootPx = await page.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize));
      expect(rootPx, `${name} root font size`).toBeCloseTo(16 * scale, 1);
      const boxes = await measure(page);
      expect(boxes.length, `${name}: text on the wall`).toBeGreaterThan(8);
      const small = boxes.filter((b) => b.px < 32 * scale - 0.05);
      expect(small, `${name} at ${screen.width}×${screen.height}: text below ${(32 * scale).toFixed(1)} px`).toEqual([]);
      // Nothing runs off the screen.
      const outside = boxes.filter((b) => b.bottom > screen.height + 1 || b.right > screen.width + 1 || b.left < -1);
      expect(outside, `${name}: text off the screen`).toEqual([]);
      // No text runs into other text.
      const collisions: string[] = [];
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
          const a = boxes[i]!, b = boxes[j]!;
          const across = Math.min(a.right, b.right) - Math.max(a.left, b.left);
          const down = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
          if (across > 2 && down > 2) collisions.push(`${a.text} × ${b.text}`);
        }
      }
      expect(collisions, `${name} at ${screen.width}×${screen.height}: text over text`).toEqual([]);
      // It fills the screen: content reaches down past 60% of the height and spans most of the width.
      const bottom = Math.max(...boxes.map((b) => b.bottom));
      const spread = Math.max(...boxes.map((b) => b.right)) - Math.min(...boxes.map((b) => b.left));
      expect(bottom / screen.height, `${name}: how far down the content reaches`).toBeGreaterThan(0.6);
      expect(spread / screen.width, `${name}: how wide the content spreads`).toBeGreaterThan(0.75);
    }
    await page.setViewportSize({ width: 1920, height: 1080 });
  }

  it('fills 1920×1080 and 1366×768 with ≥ 32 px text: sign-in, voting, voting with charts, after close', { timeout: 150_000 }, async () => {
    const { context, page } = await loggedIn();
    await page.goto(`${base}/admin/#/meeting/${village.meetingId}/projector`);
    await poll(() => page.getByTestId('present').first().textContent()).toBe('71');

    // Sign-in: turnout and the 述职 timer, which fills the rest.
    await checkWall(page, '01-signin', () => poll(() => page.getByTestId('timer-name').textContent()).toBe('成员1'));
    expect(await page.getByTestId('timer-clock').textContent()).toBe('6:00');
    expect(await page.getByTestId('timer-next').textContent()).toBe('下一位：成员2');
    await expectAccessible(page, 'the projector at sign-in');

    // Voting: the returned count large; the timer follows in small.
    await call(t, session, 'POST', `/api/meetings/${village.meetingId}/open-voting`, { overrideReason: null });
    await cast(village, 0, 23);
    await poll(() => page.getByTestId('big-returned').textContent()).toBe('23');
    const big = await page.getByTestId('big-returned').evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    expect(big).toBeGreaterThanOrEqual(160);
    await checkWall(page, '02-voting', () => poll(() => page.getByTestId('big-returned').textContent()).toBe('23'));
    expect(await page.getByTestId('charts').count()).toBe(0);

    // Voting at a meeting that allows distributions: the charts with the turnout.
    await call(t, session, 'POST', `/api/meetings/${station.meetingId}/open-voting`, { overrideReason: null });
    await cast(station, 0, 12);
    await page.goto(`${base}/admin/#/meeting/${station.meetingId}/projector`);
    await checkWall(page, '03-voting-charts', () => poll(() => page.getByTestId('wall-part').count()).toBe(1));
    expect(await page.getByTestId('big-returned').textContent()).toBe('12');

    // After close: the results, part by part, ranks shared on equal votes.
    await cast(village, 23, 71);
    await call(t, session, 'POST', `/api/meetings/${village.meetingId}/close-voting`);
    await page.goto(`${base}/admin/#/meeting/${village.meetingId}/projector`);
    await poll(() => page.getByTestId('projector').getAttribute('data-state')).toBe('closed');
    await checkWall(page, '04-closed-part-A', () => poll(() => page.getByTestId('wall-part').getAttribute('data-part')).toBe('A'));
    await page.keyboard.press('ArrowRight');
    await checkWall(page, '05-closed-part-B', () => poll(() => page.getByTestId('wall-part').getAttribute('data-part')).toBe('B'));
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await checkWall(page, '06-closed-part-D', () => poll(() => page.getByTestId('wall-part').getAttribute('data-part')).toBe('D'));
    await expectAccessible(page, 'the projector after close');
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('follows the timers across two laptops through the server, and keeps them over a reload', { timeout: 90_000 }, async () => {
    const m = await makeMeeting(t, { kind: 'village', roster: 6, signIn: 6, members: 3, open: false, session });
    const second = await loginAs(t, { role: 'inspector', username: 'laptop2' });
    await call(t, session, 'POST', `/api/meetings/${m.meetingId}/assignments`, { adminId: second.adminId });

    // Laptop 1: the timers page. Laptop 2 (another account, another browser): the projector.
    const one = await loggedIn();
    const two = await loggedIn('laptop2');
    await one.page.goto(`${base}/admin/#/meeting/${m.meetingId}/timers`);
    await two.page.goto(`${base}/admin/#/meeting/${m.meetingId}/projector`);
    const wall = two.page.getByTestId('speech-timer');
    await poll(() => wall.getByTestId('timer-name').textContent()).toBe('成员1');
    await poll(() => wall.getAttribute('data-phase')).toBe('idle');

    await one.page.getByRole('button', { name: '开始' }).click();
    await poll(() => wall.getAttribute('data-phase')).toBe('ok');
    await poll(async () => (await wall.getByTestId('timer-clock').textContent()) !== '6:00', 4_000).toBe(true);

    // Switching on laptop 1: the wall shows the next speaker and the full 4:00 at once, not nothing.
    await one.page.getByRole('button', { name: '下一位' }).click();
    await poll(() => wall.getByTestId('timer-name').textContent()).toBe('成员2');
    expect(await wall.getByTestId('timer-clock').textContent()).toBe('4:00');
    expect(await wall.getAttribute('data-phase')).toBe('idle');
    await two.page.setViewportSize({ width: 1920, height: 1080 });
    await two.page.screenshot({ path: path.join(ARTIFACTS, '07-timer-after-switch-1920x1080.png') });

    // The wall's keyboard drives laptop 1 too.
    await two.page.keyboard.press('ArrowRight');
    await poll(() => one.page.getByTestId('speech-timer').getByTestId('timer-name').textContent()).toBe('成员3');
    await two.page.keyboard.press(' ');
    await poll(() => one.page.getByTestId('speech-timer').getAttribute('data-phase')).toBe('ok');

    // A reload of either keeps the speaker and the running clock.
    await two.page.reload();
    await poll(() => two.page.getByTestId('speech-timer').getByTestId('timer-name').textContent()).toBe('成员3');
    await poll(() => two.page.getByTestId('speech-timer').getAttribute('data-phase')).toBe('ok');
    await one.page.reload();
    await poll(() => one.page.getByTestId('speech-timer').getByTestId('timer-name').textContent()).toBe('成员3');
    expect(await one.page.getByRole('button', { name: '暂停' }).count()).toBe(1);
    expect(pageErrors).toEqual([]);
    await one.context.close();
    await two.context.close();
  });
});
