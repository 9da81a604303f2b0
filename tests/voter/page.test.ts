// @vitest-environment jsdom
/**
 * The real components, rendered in jsdom against a scripted API: what a voter sees and taps.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { useRenderedPage } from './dom.ts';
import App from '../../voter-ui/src/App.svelte';
import { check, steps } from '../../voter-ui/src/lib/screens.ts';
import { FakeApi, UNREACHABLE, meeting, newSession } from './fake-api.ts';
import { makeForm } from '../factories/forms.ts';

const TOKEN = 'AbCdEfGhIjKlMnOpQrStUv';

useRenderedPage();

// The ballot steps and the receipt check are chunks of their own on the phone (tests/voter/lazy.test.ts
// covers their loading); here they are there before any screen needs them.
beforeAll(async () => {
  await Promise.all([steps.load(), check.load()]);
});

async function open(form = makeForm({ members: 5, candidates: 2 }), api = new FakeApi([meeting(form)])) {
  const { session } = newSession(api);
  session.start(`#${TOKEN}`);
  render(App, { props: { session } });
  for (let i = 0; i < 6; i++) await vi.advanceTimersByTimeAsync(0);
  return { session, api, form };
}

const tap = async (el: HTMLElement) => {
  await fireEvent.click(el);
  await vi.advanceTimersByTimeAsync(0);
};

function card(name: RegExp | string) {
  return screen.getByRole('group', { name });
}

describe('the voter page', () => {
  it('shows one card per subject with large grade buttons, and the abstain label as a button', async () => {
    await open();
    expect(screen.getByRole('heading', { level: 1, name: '党组织政治建设民主测评表' })).toBeTruthy();
    expect(screen.getByText('第一部分（共 5 部分）')).toBeTruthy();
    const first = card('把握政治方向');
    const buttons = within(first).getAllByRole('button');
    expect(buttons.map((b) => b.textContent!.trim())).toEqual(['好', '较好', '一般', '差', '不了解']);
    expect(buttons.every((b) => b.getAttribute('aria-pressed') === 'false')).toBe(true);
    await tap(within(first).getByRole('button', { name: '较好' }));
    expect(within(first).getByRole('button', { name: /较好/ }).getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByText((_, el) => el?.tagName === 'P' && /已选 1 项，共 6 项/.test(el.textContent ?? ''))).toBeTruthy();
  });

  it('will not go on with a subject unanswered, and says which', async () => {
    await open();
    await tap(screen.getByRole('button', { name: '下一步' }));
    expect(screen.getByRole('heading', { level: 1, name: '党组织政治建设民主测评表' })).toBeTruthy();
    const alert = within(card('把握政治方向')).getByRole('alert');
    expect(alert.textContent).toBe('「把握政治方向」还没有选择');
    expect(Element.prototype.scrollIntoView).toHaveBeenCalled();
    expect(document.activeElement!.id).toBe('subject-A-s1');
  });

  it('shows the 优秀 quota where it bites and refuses one too many', async () => {
    const { session, form } = await open();
    for (const s of (form.parts[0] as { subjects: { key: string }[] }).subjects) {
      session.ballot!.choose(form.parts[0] as never, s.key, 'good');
    }
    await tap(screen.getByRole('button', { name: '下一步' }));
    expect(screen.getByRole('heading', { level: 1, name: '班子集体和成员年度考核民主测评表' })).toBeTruthy();
    // 5 members × 30% → at most 1 优秀 among the members.
    expect(screen.getByText('「优秀」最多可选 1 人，已选 0 人')).toBeTruthy();
    const names = ['张伟', '王伟'];
    await tap(within(card(new RegExp(names[0]!))).getByRole('button', { name: '优秀' }));
    expect(screen.getByText('「优秀」最多可选 1 人，已选 1 人')).toBeTruthy();
    const second = card(new RegExp(names[1]!));
    await tap(within(second).getByRole('button', { name: '优秀' }));
    expect(within(second).getByRole('alert').textContent).toContain('「优秀」最多可选 1 人，已经选满');
    expect(within(second).getByRole('button', { name: '优秀' }).getAttribute('aria-pressed')).toBe('false');
    // The collective is outside the members' quota.
    await tap(within(card('班子集体')).getByRole('button', { name: '优秀' }));
    expect(within(card('班子集体')).getByRole('button', { name: /优秀/ }).getAttribute('aria-pressed')).toBe('true');
  });

  it('recommends from the list and by name, up to the limit, and says so', async () => {
    const { session, form } = await open();
    for (const part of form.parts) if (part.kind === 'rating') for (const s of part.subjects) session.ballot!.choose(part, s.key, part.grades[1]!.key);
    session.goToPart(3);
    await vi.advanceTimersByTimeAsync(0);
    expect(screen.getByRole('heading', { level: 1, name: '后备干部人选推荐表' })).toBeTruthy();
    expect(screen.getByText('最多推荐 2 人，已推荐 0 人')).toBeTruthy();
    const list = card('候选人名单');
    const [first, second] = within(list).getAllByRole('button');
    await tap(first!);
    expect(first!.getAttribute('aria-pressed')).toBe('true');
    // A listed name typed in counts as that candidate.
    await fireEvent.input(screen.getByLabelText('姓名'), { target: { value: second!.textContent!.trim() } });
    await tap(screen.getByRole('button', { name: '添加' }));
    expect(second!.getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByText(/在候选名单中，已为您在名单中选中/)).toBeTruthy();
    await fireEvent.input(screen.getByLabelText('姓名'), { target: { value: '田野' } });
    await tap(screen.getByRole('button', { name: '添加' }));
    expect(screen.getByRole('alert').textContent).toContain('最多推荐 2 人，已经选满');
    await tap(first!);
    await tap(screen.getByRole('button', { name: '添加' }));
    expect(screen.getByRole('button', { name: '删除 田野' })).toBeTruthy();
    expect(screen.getByText('最多推荐 2 人，已推荐 2 人')).toBeTruthy();
  });

  it('tells the voter how comments are passed on, reviews everything, and ends on the receipt', async () => {
    const { session, form, api } = await open(undefined, undefined);
    for (const part of form.parts) if (part.kind === 'rating') for (const s of part.subjects) session.ballot!.choose(part, s.key, part.grades[0]!.key === 'excellent' ? 'competent' : 'good');
    for (let i = 1; i <= 4; i++) session.goToPart(i);
    await vi.advanceTimersByTimeAsync(0);
    expect(screen.getByText('意见建议将以随机顺序提供给考察组，不会显示您的姓名。')).toBeTruthy();
    await fireEvent.input(screen.getByLabelText('您的意见建议（可以不填）'), { target: { value: '希望加强村务公开' } });
    expect(screen.getByText('还可输入 492 字')).toBeTruthy();
    await tap(screen.getByRole('button', { name: '下一步：核对' }));
    expect(screen.getByRole('heading', { level: 1, name: '请核对您的选择' })).toBeTruthy();
    expect(screen.getByText('希望加强村务公开')).toBeTruthy();
    expect(screen.getByText('未推荐任何人')).toBeTruthy();
    await tap(screen.getByRole('button', { name: '确认提交' }));
    expect(screen.getByRole('heading', { level: 1, name: '提交成功' })).toBeTruthy();
    expect(screen.getByText(/可在会议结束后凭此码查询您的测评票是否已计入，此码不能显示您的选择/)).toBeTruthy();
    expect(api.castCalls).toHaveLength(1);
    // The fake server's receipt is built from the token's input, as the real one's is.
    expect(document.getElementById('receipt')!.textContent).toBe(`R${createHash('sha256').update(api.castCalls[0]!.token.input).digest('hex').slice(0, 4).toUpperCase()}-00000`);
    // And the key fingerprint to compare with the projector's.
    expect(screen.getByText(api.fingerprint)).toBeTruthy();
  });

  it('keeps the submitting screen honest while the network is down', async () => {
    const form = makeForm({ members: 2, candidates: 0 });
    const api = new FakeApi([meeting(form)], [UNREACHABLE, 'server']);
    const { session } = await open(form, api);
    for (const part of form.parts) if (part.kind === 'rating') for (const s of part.subjects) session.ballot!.choose(part, s.key, part.grades[1]!.key);
    for (let i = 1; i < form.parts.length; i++) session.goToPart(i);
    session.toReview();
    await vi.advanceTimersByTimeAsync(0);
    await tap(screen.getByRole('button', { name: '确认提交' }));
    expect(screen.getByRole('heading', { level: 1, name: '正在提交…' })).toBeTruthy();
    expect(screen.getByText('网络不稳定，正在重试…')).toBeTruthy();
    expect(screen.getByText(/您的选择已保存在本手机上/)).toBeTruthy();
    await vi.advanceTimersByTimeAsync(2000);
    expect(screen.getByRole('heading', { level: 1, name: '提交成功' })).toBeTruthy();
  });

  it('shows the waiting screen until voting opens', async () => {
    const form = makeForm();
    await open(form, new FakeApi([meeting(form, 'signin'), meeting(form)]));
    expect(screen.getByRole('heading', { level: 1, name: '请等待主持人宣布开始测评' })).toBeTruthy();
    await vi.advanceTimersByTimeAsync(3000);
    expect(screen.getByRole('heading', { level: 1, name: '党组织政治建设民主测评表' })).toBeTruthy();
  });

  it('marks a rehearsal on every screen', async () => {
    const form = makeForm();
    const api = new FakeApi([meeting(form, 'signin')]);
    api.rehearsal = true;
    await open(form, api);
    expect(screen.getByText('演练：本次填写和提交不计入正式结果')).toBeTruthy();
    expect(screen.getByRole('heading', { level: 1, name: '党组织政治建设民主测评表' })).toBeTruthy();
  });
});
