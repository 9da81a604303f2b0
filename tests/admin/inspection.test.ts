// @vitest-environment jsdom
/**
 * The talk panel against a scripted server: it says why a draw must wait, sends the seed as typed,
 * counts talks done as the server answers them, sends a re-draw only with its reason, and shows a
 * refusal in the server's words.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { InspectionStore } from '../../admin-ui/src/lib/inspection.svelte.ts';
import TalksPanel from '../../admin-ui/src/pages/inspection/TalksPanel.svelte';
import type { InspectionWorkspace, Talk } from '../../admin-ui/src/lib/types.ts';
import { FakeServer, refuse, settle } from './fake-fetch.ts';

afterEach(() => cleanup());

const BASE = '/api/meetings/3/inspection';

function workspace(o: Partial<InspectionWorkspace['talks']> = {}): InspectionWorkspace {
  return {
    meeting: {
      id: 3, unitId: 1, unitName: '红旗村', unitKind: 'village', township: '插旗镇', year: 2020, state: 'voting', stateLabel: '测评中',
      inspectionTeam: '第一考察组', plannedAt: null, identity: '插旗镇/2020/红旗村/3',
    },
    talks: {
      rule: { text: '村（社区）接触人数不少于30人（含班子成员）', everyone: false, total: 30, drawn: 28, shortfall: 0 },
      pool: { size: 60, digest: 'AAAA BBBB CCCC DDDD' },
      team: [{ name: '王书记', position: '党支部书记' }, { name: '李主任', position: '村委会主任' }],
      draw: null,
      history: [],
      people: [],
      done: 0,
      canDraw: { ok: true },
      ...o,
    },
    records: [],
    inquiries: [],
    appraisal: { template: { title: '鉴定表', sections: [{ title: '政治建设考察', fields: ['把握政治方向'] }], grades: ['好', '差'] }, values: {}, grade: '', comment: '', updatedAt: null },
    report: { section1Note: '', section3: '', section4: '', section5: '', meetingNotes: '', updatedAt: null },
  };
}

const person = (id: number, name: string, role: Talk['role'], done = false): Talk => ({ id, name, role, detail: '党员', drawRank: role === 'drawn' ? id : null, done, notes: '', updatedAt: null });

function drawn(): InspectionWorkspace {
  const people = [person(1, '王书记', 'team'), person(2, '李主任', 'team'), person(3, '张三', 'drawn'), person(4, '李四', 'drawn')];
  return workspace({
    people,
    draw: {
      round: 1, kind: 'draw', seed: 'HK37281946', seedInput: 'hk 3728 1946', identity: '插旗镇/2020/红旗村/3', poolSize: 60, poolDigest: 'AAAA BBBB CCCC DDDD',
      drawnCount: 2, reason: null, actor: '考察组', at: '2020-11-25T02:00:00.000Z', command: 'npx ceping draw 候选名单.txt --seed "HK37281946" --meeting "插旗镇/2020/红旗村/3" --count 2',
    },
  });
}

async function mount(server: FakeServer, ws: InspectionWorkspace) {
  const store = new InspectionStore(3, server.api());
  server.on('GET', BASE, { status: 200, body: ws });
  await store.load();
  render(TalksPanel, { store });
  await settle();
  return store;
}

describe('the talk panel', () => {
  it('says why the draw waits, and offers no draw button meanwhile', async () => {
    await mount(new FakeServer(), workspace({ canDraw: { ok: false, reason: 'BAD_STATE', message: '开始测评后（签到基本结束时）才能抽取谈话人员' } }));
    expect(screen.getByText('开始测评后（签到基本结束时）才能抽取谈话人员')).toBeTruthy();
    expect(screen.queryByRole('button', { name: '抽取' })).toBeNull();
  });

  it('sends the seed as typed, with no count unless the team asks for more', async () => {
    const server = new FakeServer();
    const store = await mount(server, workspace());
    server.on('POST', `${BASE}/draw`, { status: 200, body: drawn() });
    await fireEvent.input(screen.getByLabelText('抽签种子'), { target: { value: 'hk 3728 1946' } });
    await fireEvent.click(screen.getByRole('button', { name: '抽取' }));
    await settle();
    expect(server.calls.at(-1)).toMatchObject({ method: 'POST', url: `${BASE}/draw`, body: { seed: 'hk 3728 1946', count: null, reason: null }, csrf: 'csrf-1' });
    expect(store.action.saved).toBe('已生成谈话名单');
    expect(screen.getByTestId('draw-seed').textContent).toContain('HK37281946');
    expect(screen.getByText(/复核方法/).textContent).toContain('--seed "HK37281946"');
    expect(within(screen.getByTestId('talk-list')).getAllByRole('row')).toHaveLength(5);
  });

  it('counts a talk done when the server says so', async () => {
    const server = new FakeServer();
    await mount(server, drawn());
    server.on('PATCH', `${BASE}/talks/3`, (body) => ({ status: 200, body: { ...person(3, '张三', 'drawn'), done: (body as { done: boolean }).done } }));
    expect(screen.getByTestId('talk-counts').textContent).toContain('已谈 0 人');
    await fireEvent.click(within(screen.getByTestId('talk-list')).getByRole('checkbox', { name: /张三/ }));
    await settle();
    expect(server.calls.at(-1)).toMatchObject({ method: 'PATCH', body: { done: true } });
    expect(screen.getByTestId('talk-counts').textContent).toContain('已谈 1 人');
  });

  it('re-draws only with a reason, and shows a refusal in the server’s words', async () => {
    const server = new FakeServer();
    const store = await mount(server, drawn());
    server.on('POST', `${BASE}/draw`, refuse('TALKS_STARTED', '已有 1 名抽中人员谈话完毕或写了记录，不能重新抽取；需要更多人时请「追加抽取」'));
    await fireEvent.click(screen.getByRole('button', { name: '重新抽取…' }));
    await fireEvent.input(screen.getByLabelText('新的抽签种子'), { target: { value: '55556666' } });
    await fireEvent.input(screen.getByLabelText('重新抽取的理由（至少4个字）'), { target: { value: '种子读错了一位' } });
    await fireEvent.click(screen.getByRole('button', { name: '重新抽取' }));
    await settle();
    expect(server.calls.at(-1)).toMatchObject({ body: { seed: '55556666', count: null, reason: '种子读错了一位' } });
    expect(store.action.error?.message).toBe('已有 1 名抽中人员谈话完毕或写了记录，不能重新抽取；需要更多人时请「追加抽取」');
  });
});
