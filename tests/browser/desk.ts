/** The sign-in desk as the browser tests work it: the way an inspection team finds and signs people in. */
import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { pinyin } from 'pinyin-pro';

/** What the team types to find someone: the pinyin initials (王小明 → wxm). */
const initials = (name: string) => pinyin(name, { pattern: 'first', toneType: 'none', type: 'array', surname: 'head' }).join('').toLowerCase();

/**
 * On the open desk tab, finds each entry by its initials and signs it in with one click, checking the
 * short code the desk shows; returns the issued tickets' secrets in order. `timeout` is the test's
 * patience for each step.
 */
export async function signInAtDesk(page: Page, entries: readonly { id: number; name: string }[], timeout: number): Promise<string[]> {
  const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout, interval: 50 });
  const tickets: string[] = [];
  for (const entry of entries) {
    await page.getByLabel('查找参会人员').fill(initials(entry.name));
    const button = page.getByRole('button', { name: `签到 ${entry.name}`, exact: true });
    await poll(() => button.count()).toBe(1);
    const responded = page.waitForResponse((r) => r.url().endsWith(`/roster/${entry.id}/sign-in`));
    await button.click();
    // A name one character away from another waiting name (沈雪 / 沈雪立): the desk asks first.
    const sure = page.getByRole('dialog', { name: '请核对姓名' });
    if (await sure.isVisible().catch(() => false)) await sure.getByRole('button', { name: `是「${entry.name}」，签到` }).click();
    else {
      await Promise.race([responded, sure.waitFor({ state: 'visible', timeout }).catch(() => undefined)]);
      if (await sure.isVisible().catch(() => false)) await sure.getByRole('button', { name: `是「${entry.name}」，签到` }).click();
    }
    const response = await responded;
    const body = (await response.json()) as { ticket: { secret: string; shortCode: string } };
    tickets.push(body.ticket.secret);
    await poll(() => page.getByTestId('short-code').textContent()).toBe(body.ticket.shortCode);
  }
  return tickets;
}
