// @vitest-environment jsdom
/**
 * The 结束测评 dialog says what closing would leave behind: ballots still out, and paper ballots still
 * waiting for the second person (which the server refuses to close over).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import FlowPage from '../../admin-ui/src/pages/meeting/FlowPage.svelte';
import { MeetingStore } from '../../admin-ui/src/lib/meeting.svelte.ts';
import type { Meeting } from '../../admin-ui/src/lib/types.ts';
import { FakeServer, settle } from './fake-fetch.ts';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function votingMeeting(issued: number, returned: number): Meeting {
  return {
    id: 7, unitId: 1, unitName: '红旗村', unitKind: 'village', campaignId: 1, year: 2026, township: '插旗镇',
    state: 'voting', stateLabel: '正在测评', plannedAt: null, location: '村委会', inspectionTeam: '第一考察组',
    liveK: 5, projectorShowsDistributions: false, quorum: { needed: 10, text: '应到人数的三分之二', met: true },
    quorumOverrideReason: null,
    turnout: { expected: issued, present: issued, issued, returned, paper: 0, paperIssued: 2, reissued: 0 },
    signinStartedAt: null, votingOpenedAt: null, votingClosedAt: null, sealedAt: null, keyFingerprint: null, compacted: false,
  };
}

async function openCloseDialog(meeting: Meeting, pending: number): Promise<void> {
  const server = new FakeServer().on('GET', `/api/meetings/${meeting.id}/paper-ballots/pending`, {
    status: 200,
    body: { pending: Array.from({ length: pending }, (_, i) => ({ pendingId: String(i).padStart(32, '0') })) },
  });
  vi.stubGlobal('fetch', server.fetch);
  const store = new MeetingStore(meeting.id);
  store.accept(meeting);
  render(FlowPage, { props: { store } });
  await settle();
  await settle();
  await fireEvent.click(screen.getByRole('button', { name: '结束测评' }));
}

describe('the close dialog', () => {
  it('names the ballots still out and the paper ballots waiting for the second person', async () => {
    await openCloseDialog(votingMeeting(12, 9), 2);
    expect(screen.getByTestId('close-outstanding').textContent).toContain('还有 3 张票没有收回');
    const paper = screen.getByTestId('close-paper');
    expect(paper.textContent).toContain('还有 2 张纸质票等待第二人复核');
    expect(paper.querySelector('a')!.getAttribute('href')).toContain('/meeting/7/paper');
  });

  it('says nothing of either when every ballot is in and no paper waits', async () => {
    await openCloseDialog(votingMeeting(12, 12), 0);
    expect(screen.getByRole('dialog').textContent).toContain('目前收回 12 张，发出 12 张');
    expect(screen.queryByTestId('close-outstanding')).toBeNull();
    expect(screen.queryByTestId('close-paper')).toBeNull();
  });
});
