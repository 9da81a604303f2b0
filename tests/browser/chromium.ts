/**
 * The real Chromium the browser tests drive: where it is, whether it is there, how it is launched,
 * the phone it pretends to be, and the accessibility check every page goes through.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ensurePagesBuilt } from './ui-build.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

/** Says why a file's browser tests are skipped (`what`: whose test) and returns the suite's title. */
export function chromiumSuite(title: string, what: string): string {
  if (!hasChromium) console.warn(`${what} browser test SKIPPED: ${CHROMIUM} is not installed (apt-get install chromium fonts-noto-cjk)`);
  return `${title}${hasChromium ? '' : ` (skipped: no ${CHROMIUM})`}`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * The start of every browser suite: the pages built (the server serves dist/ as it finds it when the app
 * starts, so before the app) and the suite's screenshot folder emptied.
 */
export async function prepareBrowserSuite(artifacts: string): Promise<void> {
  await ensurePagesBuilt();
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
}

export interface OfficePage {
  context: BrowserContext;
  page: Page;
  /** Every address the pages asked for. */
  requests: string[];
}

/**
 * The township office's browser: a desktop window in Chinese, every request recorded, and the page's
 * uncaught errors pushed to `pageErrors` (each suite asserts it stays empty).
 */
export async function newOfficePage(
  browser: Browser,
  pageErrors: string[],
  o: { width?: number; height?: number; timeout?: number } = {},
): Promise<OfficePage> {
  const context = await browser.newContext({ viewport: { width: o.width ?? 1366, height: o.height ?? 768 }, locale: 'zh-CN' });
  context.setDefaultTimeout(o.timeout ?? 10_000);
  const requests = recordRequests(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return { context, page, requests };
}

export const WECHAT_ANDROID_UA =
  'Mozilla/5.0 (Linux; Android 10; V2001A Build/QP1A.190711.020; wv) AppleWebKit/537.36 (KHTML, like Gecko) ' +
  'Version/4.0 Chrome/86.0.4240.99 XWEB/4317 MMWEBSDK/20220903 Mobile Safari/537.36 MMWEBID/6170 ' +
  'MicroMessenger/8.0.28.2240(0x28001C57) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64';

/** A small Android phone in WeChat's built-in browser. */
export function newPhoneContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width: 360, height: 640 }, userAgent: WECHAT_ANDROID_UA, isMobile: true, hasTouch: true, locale: 'zh-CN' });
}

/** Every address the context's pages ask for, in order, so a test can check none leaves the server. */
export function recordRequests(context: BrowserContext): string[] {
  const requests: string[] = [];
  context.on('request', (r) => requests.push(r.url()));
  return requests;
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core finds no serious or critical problem on the page as it is now. */
export async function expectAccessible(page: Page, where: string): Promise<void> {
  // Evaluated through the DevTools protocol: the server's CSP (script-src 'self') rightly blocks an
  // injected <script>, and the tests keep that CSP on.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) }));
  });
  expect(
    violations.filter((v) => v.impact === 'critical' || v.impact === 'serious'),
    `axe on ${where}`,
  ).toEqual([]);
}
