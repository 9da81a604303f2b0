// @vitest-environment jsdom
/**
 * The ballot steps arrive as a chunk of their own (voter-ui/src/lib/screens.ts). On a hall's Wi-Fi that
 * fetch can fail: the page tries again by itself, then says so in words and offers a button; the
 * voter's place is kept, and the ballot shows as soon as the chunk is there.
 */
import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import { useRenderedPage } from './dom.ts';
import App from '../../voter-ui/src/App.svelte';
import { LazyModule } from '../../voter-ui/src/lib/lazy.svelte.ts';
import * as screens from '../../voter-ui/src/lib/screens.ts';
import { FakeApi, meeting, newSession } from './fake-api.ts';
import { makeForm } from '../factories/forms.ts';

const TOKEN = 'AbCdEfGhIjKlMnOpQrStUv';
type Steps = typeof screens.steps extends LazyModule<infer T> ? T : never;

useRenderedPage();

/** A chunk fetch that fails `failures` times, then brings the real module. */
function flaky(failures: number) {
  let calls = 0;
  const load = vi.fn(async (): Promise<Steps> => {
    calls++;
    if (calls <= failures) throw new TypeError('Failed to fetch dynamically imported module');
    return import('../../voter-ui/src/steps.ts');
  });
  return load;
}

async function settle() {
  for (let i = 0; i < 8; i++) await vi.advanceTimersByTimeAsync(0);
}

describe('a part of the page in a chunk of its own', () => {
  it('is fetched once however many screens ask, and tried again by itself after a failure', async () => {
    const load = flaky(1);
    const lazy = new LazyModule(load, { retryMs: [1000] });
    const a = lazy.load();
    const b = lazy.load();
    await vi.advanceTimersByTimeAsync(0);
    expect(lazy.failed).toBe(false);
    expect(lazy.module).toBeNull();
    await vi.advanceTimersByTimeAsync(1000);
    const [ma, mb] = await Promise.all([a, b]);
    expect(ma).toBe(mb);
    expect(lazy.module).toBe(ma);
    expect(load).toHaveBeenCalledTimes(2);
    await lazy.load();
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('after the automatic tries, says it failed; the button tries once more, then reloads the page', async () => {
    const reload = vi.fn();
    const lazy = new LazyModule(flaky(99), { retryMs: [1000, 3000], reload });
    const done = lazy.load();
    await vi.advanceTimersByTimeAsync(4000);
    expect(await done).toBeNull();
    expect(lazy.failed).toBe(true);
    await lazy.retry();
    expect(reload).toHaveBeenCalledTimes(1);
    const ok = new LazyModule(flaky(3), { retryMs: [10, 10], reload });
    const first = ok.load();
    await vi.advanceTimersByTimeAsync(20);
    expect(await first).toBeNull();
    expect(ok.failed).toBe(true);
    await ok.retry();
    expect(ok.failed).toBe(false);
    expect(ok.module).not.toBeNull();
    expect(reload).toHaveBeenCalledTimes(1);
  });

  it('shows "正在打开测评表…" while the steps are on their way, the failure with a button, then the ballot', async () => {
    const reload = vi.fn();
    const steps = new LazyModule(flaky(3), { retryMs: [1000, 1000], reload });
    const form = makeForm({ members: 3, candidates: 2 });
    const { session } = newSession(new FakeApi([meeting(form)]));
    session.start(`#${TOKEN}`);
    render(App, { props: { session, steps } });
    await settle();
    expect(session.screen.name).toBe('ballot');
    expect(screen.getByRole('heading', { level: 1, name: '正在打开测评表…' })).toBeTruthy();
    await vi.advanceTimersByTimeAsync(2000);
    await settle();
    expect(screen.getByRole('heading', { level: 1, name: '页面没有下载完整' })).toBeTruthy();
    expect(screen.getByRole('alert').textContent).toBe('网络不稳定，测评表没能下载完整。');
    expect(screen.getByText(/已经填写的内容保存在本手机上，不会丢失/)).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: '重新加载' }));
    await settle();
    expect(reload).not.toHaveBeenCalled();
    expect(screen.getByRole('heading', { level: 1, name: '党组织政治建设民主测评表' })).toBeTruthy();
    // The heading of the screen that arrived takes the focus, as on any new screen.
    expect(document.activeElement?.textContent).toBe('党组织政治建设民主测评表');
  });
});
