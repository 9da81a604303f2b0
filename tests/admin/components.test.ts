// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/svelte';
import PartChart from '../../admin-ui/src/components/PartChart.svelte';
import TimerDisplay from '../../admin-ui/src/components/TimerDisplay.svelte';
import TurnoutStrip from '../../admin-ui/src/components/TurnoutStrip.svelte';
import FormView from '../../admin-ui/src/components/FormView.svelte';
import { gradeColour, ABSTAIN_COLOUR } from '../../admin-ui/src/lib/grades.ts';
import { SpeechTimers } from '../../admin-ui/src/lib/timers.svelte.ts';
import { previewForm, templateProblems } from '../../admin-ui/src/lib/template-edit.ts';
import { Api } from '../../admin-ui/src/lib/api.ts';
import { computeResults, sumRows, tallyIncrements } from '../../server/counting/tally.ts';
import { validatePackage, type NormalizedPackage } from '../../server/ballots/validate-package.ts';
import { standardTemplate } from '../../server/forms/standard-template.ts';
import type { Unit } from '../../admin-ui/src/lib/types.ts';
import { makeForm } from '../factories/forms.ts';
import { fullPackage } from '../helpers/packages.ts';
import { FakeServer, refuse } from './fake-fetch.ts';

afterEach(() => cleanup());

const rgb = (hex: string) => {
  const n = parseInt(hex.slice(1), 16);
  return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
};

describe('the charts', () => {
  const form = makeForm({ members: 3, candidates: 2 });
  const pkgs = [1, 2, 3, 1, 2].map((g) => {
    const r = validatePackage(form, fullPackage(form, g), 'phone');
    if (!r.ok) throw new Error(r.problem.message);
    return r.pkg as NormalizedPackage;
  });
  const results = computeResults(form, sumRows(pkgs.flatMap((p) => tallyIncrements(form, p))), { expected: 5, present: 5, issued: 5, returned: 5 });

  it('draw one stacked bar per subject whose segments add to 100% in the same grade colours everywhere', () => {
    const part = results.parts.find((p) => p.key === 'B')!;
    render(PartChart, { props: { part } });
    const bars = screen.getAllByRole('img');
    expect(bars).toHaveLength(part.kind === 'rating' ? part.rows.length : 0);
    const segs = [...bars[0]!.querySelectorAll<HTMLElement>('.seg')];
    // Segments grow in proportion to their counts, which fill the bar exactly; the labels are the rounded shares.
    const grow = segs.map((s) => Number(s.style.flexGrow));
    const row0 = (part as Extract<typeof part, { kind: 'rating' }>).rows[0]!;
    expect(grow).toEqual([...row0.counts, row0.abstain].filter((c) => c > 0));
    // 称职 (second grade) 40%: 2 of 5.
    expect(segs[0]!.style.background).toBe(rgb(gradeColour(1, 4)));
    expect(segs[0]!.getAttribute('title')).toBe('称职 2 票（40.0%）');
    expect(bars[0]!.getAttribute('aria-label')).toContain('不称职 1 票（20.0%）');
    expect(screen.getAllByText('称职以上 40.0%', { exact: false })).toHaveLength(part.kind === 'rating' ? part.rows.length : 0);
    // The legend uses the same colours, 弃权 grey.
    const legend = [...document.querySelectorAll<HTMLElement>('.legend i')].map((i) => i.style.background);
    expect(legend).toEqual([...[0, 1, 2, 3].map((i) => rgb(gradeColour(i, 4))), rgb(ABSTAIN_COLOUR)]);
  });

  it('show recommendation votes and shares', () => {
    const part = results.parts.find((p) => p.key === 'D')!;
    render(PartChart, { props: { part } });
    expect(screen.getByRole('img', { name: /5 票（100.0%）/ })).toBeTruthy();
  });
});

describe('small pieces', () => {
  it('the turnout strip shows 实到 against the quorum', () => {
    render(TurnoutStrip, { props: { turnout: { expected: 72, present: 58, issued: 58, returned: 3, paper: 1 }, quorum: { needed: 70, present: 58, met: false, text: '村不少于70人' } } });
    expect(screen.getByTestId('quorum').textContent!.trim()).toBe('规定 70 人，还差 12');
    expect(screen.getByText('含纸质票 1')).toBeTruthy();
  });

  it('the timer turns amber then red, and names who is next', async () => {
    let now = 0;
    const timers = new SpeechTimers(1, { now: () => now, feed: null, setInterval: () => 0, clearInterval: () => {} });
    const view = { meetingId: 1, current: 0, running: true, usedMs: 0, shown: true, version: 1 };
    timers.accept({ ...view, speakers: [{ name: '周建玉', role: '党组织书记述职（代表班子）', seconds: 120 }, { name: '史丹丹', role: '个人述职', seconds: 240 }] });
    render(TimerDisplay, { props: { timers } });
    const el = screen.getByTestId('speech-timer');
    expect(screen.getByTestId('timer-next').textContent).toBe('下一位：史丹丹');
    now = 70_000;
    timers.tick();
    await new Promise((r) => setTimeout(r, 0));
    expect(el.dataset.phase).toBe('warn');
    expect(screen.getByRole('timer').textContent).toBe('0:50');
    now = 125_000;
    timers.tick();
    await new Promise((r) => setTimeout(r, 0));
    expect(el.dataset.phase).toBe('over');
    expect(el.textContent).toContain('已超时 0:05');
  });

  it('the template editor checks a draft in Chinese and previews it with the server resolver', () => {
    const t = standardTemplate();
    expect(templateProblems(t)).toEqual([]);
    const part = t.parts[0]!;
    if (part.kind === 'rating') part.grades[0]!.label = '';
    expect(templateProblems(t)).toEqual(['第一部分「党组织政治建设民主测评表」 › 评价等次 › 第1项 › 名称：不能为空']);
    const unit: Unit = { id: 1, campaignId: 1, name: '红旗村', kind: 'village', reserveCandidates: ['甲'], members: [] };
    expect(previewForm(standardTemplate(), unit)).toEqual({ problem: '红旗村：该单位尚未录入班子成员' });
    const withTeam = { ...unit, members: [{ id: 5, name: '周建玉', position: '党支部书记', isSecretary: true }] };
    const r = previewForm(standardTemplate(), withTeam);
    const partB = 'form' in r ? r.form.parts[1] : undefined;
    expect(partB?.kind === 'rating' && partB.subjects.map((s) => s.label)).toEqual(['班子集体', '周建玉']);
    render(FormView, { props: { form: 'form' in r ? r.form : (null as never) } });
    expect(screen.getByText('「优秀」最多可选 1 人')).toBeTruthy();
  });

  it('every failure of the API says what to do next, and the CSRF token goes on every change', async () => {
    const server = new FakeServer().on('POST', '/api/meetings/1/open-voting', refuse('QUORUM_NOT_MET')).on('POST', '/api/x', { status: 502 });
    const api: Api = server.api('tok');
    await expect(api.post('/api/meetings/1/open-voting', {})).rejects.toMatchObject({ code: 'QUORUM_NOT_MET', hint: '可以继续签到；确需开始的，请填写理由后再开始。' });
    expect(server.calls[0]!.csrf).toBe('tok');
    await expect(api.post('/api/x', {})).rejects.toMatchObject({ code: 'INTERNAL', message: '服务器暂时出现问题', hint: '请稍后再试；如果一直出现，请联系镇党委办公室。' });
    let expired = false;
    api.onUnauthenticated = () => (expired = true);
    server.on('GET', '/api/meetings', refuse('UNAUTHENTICATED'));
    await expect(api.get('/api/meetings')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(expired).toBe(true);
    expect(server.calls.at(-1)!.csrf).toBeNull();
  });
});
