// @vitest-environment jsdom
/**
 * The live tally page says the real reason its chart is not there yet: a 12-person station with 6
 * ballots returned is held back by the 2k rule, not waiting for "5 returned".
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/svelte';
import DashboardPage from '../../admin-ui/src/pages/meeting/DashboardPage.svelte';
import { MeetingStore } from '../../admin-ui/src/lib/meeting.svelte.ts';
import { LiveFeed } from '../../admin-ui/src/lib/live.svelte.ts';
import { FakeServer, settle } from './fake-fetch.ts';

afterEach(() => cleanup());

function storeWith(issued: number, returned: number, snapshot: { count: number; final: boolean } | null) {
  const api = new FakeServer().api();
  const live = new LiveFeed(3, { api });
  const store = new MeetingStore(3, api, live);
  live.applyState({
    meetingId: 3, state: 'voting', k: 5,
    turnout: { expected: issued, present: issued, issued, returned, paper: 0, paperIssued: 0, reissued: 0 },
    snapshot: snapshot ? { ...snapshot, parts: [] } : null,
  });
  return store;
}

describe('the live tally page', () => {
  it('a 12-person station with 6 returned: the 2k rule is the reason', async () => {
    render(DashboardPage, { props: { store: storeWith(12, 6, null) } });
    await settle();
    const line = screen.getByTestId('snapshot-line').textContent!;
    expect(line).toContain('本次发出的手机二维码共 12 张，少于 15 张');
    expect(line).not.toContain('收回满');
    expect(screen.getByTestId('k-note').textContent).toContain('还有至少 10 张未交回');
  });

  it('a village near the end: says that fewer than 2k are still out', async () => {
    render(DashboardPage, { props: { store: storeWith(70, 62, { count: 60, final: false }) } });
    await settle();
    expect(screen.getByTestId('snapshot-line').textContent).toContain('另有 2 张已收回、尚未计入图表');
    expect(screen.getByTestId('hold-reason').textContent).toBe('发出的手机二维码中只剩 8 张未交回，少于 10 张：为保护投票秘密，此时不再更新图表，测评结束时一并显示。');
  });
});
