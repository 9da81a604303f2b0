// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { Desk, QR_SHOWN_MS } from '../../admin-ui/src/lib/desk.svelte.ts';
import { MeetingStore } from '../../admin-ui/src/lib/meeting.svelte.ts';
import DeskPage from '../../admin-ui/src/pages/meeting/DeskPage.svelte';
import type { Meeting, RosterEntry } from '../../admin-ui/src/lib/types.ts';
import { FakeServer, refuse, settle } from './fake-fetch.ts';

afterEach(() => cleanup());

function roster(): RosterEntry[] {
  return ['张三民', '李四', '王芳', '章山敏'].map((name, i) => ({ id: i + 1, name, category: '党员', note: '', walkIn: false, signedIn: false }));
}

function deskServer() {
  const server = new FakeServer();
  const entries = roster();
  let n = 0;
  server.on('GET', '/api/meetings/3/roster', () => ({ status: 200, body: { entries } }));
  for (const e of entries) {
    server.on('POST', `/api/meetings/3/roster/${e.id}/sign-in`, (body) => {
      if (e.signedIn) return refuse('ALREADY_SIGNED_IN');
      e.signedIn = true;
      n += 1;
      const handout = (body as { handout: string }).handout;
      return { status: 200, body: { entry: { ...e }, credential: handout === 'qr' ? { token: `tok${n}`, shortCode: `CODE-000${n}`, url: `http://192.0.2.10:8080/v/#tok${n}` } : null } };
    });
  }
  server.on('POST', '/api/meetings/3/roster', (body) => {
    const e = { id: 99, ...(body as { name: string; category: string; note: string }), walkIn: true, signedIn: false };
    entries.push(e);
    server.on('POST', '/api/meetings/3/roster/99/sign-in', () => ((e.signedIn = true), { status: 200, body: { entry: { ...e }, credential: { token: 'tokW', shortCode: 'WALK-0001', url: 'http://x/v/#tokW' } } }));
    return { status: 201, body: e };
  });
  return server;
}

function fakeTimers() {
  let now = 0;
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let id = 0;
  return {
    deps: {
      now: () => now,
      setTimeout: (fn: () => void, ms: number) => (timers.push({ at: now + ms, fn, id: ++id }), id),
      clearTimeout: (x: unknown) => {
        const i = timers.findIndex((t) => t.id === x);
        if (i >= 0) timers.splice(i, 1);
      },
    },
    advance(ms: number) {
      now += ms;
      for (const t of timers.filter((t) => t.at <= now)) {
        timers.splice(timers.indexOf(t), 1);
        t.fn();
      }
    },
  };
}

describe('the desk', () => {
  it('signs a person in with one call and shows their QR until 60 s pass or the next person signs in', async () => {
    const server = deskServer();
    const clock = fakeTimers();
    const desk = new Desk(3, { api: server.api(), ...clock.deps });
    await desk.load();
    desk.query = 'zsm';
    expect(desk.results.map((e) => e.name)).toEqual(['张三民', '章山敏']);
    await desk.signIn(desk.results[0]!);
    expect(server.calls.at(-1)).toMatchObject({ method: 'POST', url: '/api/meetings/3/roster/1/sign-in', body: { handout: 'qr' }, csrf: 'csrf-1' });
    expect(desk.shown?.credential.shortCode).toBe('CODE-0001');
    expect(desk.shown?.name).toBe('张三民');
    // Signed-in people leave the "waiting" list.
    expect(desk.results.map((e) => e.name)).toEqual(['章山敏']);
    clock.advance(QR_SHOWN_MS - 1);
    expect(desk.shown).not.toBeNull();
    clock.advance(1);
    expect(desk.shown).toBeNull();

    desk.query = '';
    await desk.signIn(desk.entries[1]!);
    expect(desk.shown?.name).toBe('李四');
    await desk.signIn(desk.entries[2]!);
    expect(desk.shown?.name).toBe('王芳');
    // The first QR's timer must not hide the second.
    clock.advance(QR_SHOWN_MS - 1);
    expect(desk.shown?.name).toBe('王芳');
  });

  it('Enter signs in the only person the search finds; slips and paper get no QR', async () => {
    const server = deskServer();
    const desk = new Desk(3, { api: server.api() });
    await desk.load();
    desk.query = 'wf';
    await desk.signInOnlyMatch();
    expect(desk.entries.find((e) => e.name === '王芳')?.signedIn).toBe(true);
    expect(desk.query).toBe('');
    desk.query = 'zsm';
    expect(await desk.signInOnlyMatch()).toBeNull();
    desk.handout = 'paper';
    await desk.signIn(desk.entries[1]!);
    expect(desk.shown).toBeNull();
    expect(desk.lastDone).toEqual({ name: '李四', handout: 'paper' });
    desk.hideQr();
  });

  it('a refusal is shown in words with what to do next, and the roster is reloaded', async () => {
    const server = deskServer();
    const desk = new Desk(3, { api: server.api() });
    await desk.load();
    const stale = { ...desk.entries[0]! };
    await desk.signIn(desk.entries[0]!);
    desk.hideQr();
    await desk.signIn(stale);
    expect(desk.error).toEqual({ message: '此人已签到', hint: '此人已经签到，无需重复签到。' });
    server.offline = true;
    await desk.signIn(desk.entries[1]!);
    expect(desk.error?.message).toBe('无法连接服务器');
    expect(desk.error?.hint).toContain('网络');
  });

  it('renders: search by initials, one tap, the QR and short code large', async () => {
    const server = deskServer();
    const api = server.api();
    const meeting = {
      id: 3, unitId: 1, unitName: '红旗村', unitKind: 'village', state: 'signin', stateLabel: '签到中', turnout: { expected: 4, present: 0, issued: 0, returned: 0, paper: 0 },
      quorum: { needed: 70, text: '村不少于70人', met: false }, liveK: 5, projectorShowsDistributions: false,
    } as unknown as Meeting;
    const store = new MeetingStore(3, api);
    store.meeting = meeting;
    const desk = new Desk(3, { api });
    render(DeskPage, { props: { store, desk } });
    await settle();
    await fireEvent.input(screen.getByLabelText('查找参会人员'), { target: { value: 'zsm' } });
    const list = screen.getByRole('list', { name: '签到名单' });
    expect(within(list).getAllByRole('listitem').map((li) => li.querySelector('.name')?.textContent)).toEqual(['张三民', '章山敏']);
    await fireEvent.click(screen.getByRole('button', { name: '签到 张三民' }));
    await settle();
    expect(screen.getByTestId('short-code').textContent).toBe('CODE-0001');
    expect(screen.getByRole('img', { name: '张三民 的测评二维码' })).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: '已扫码，隐藏' }));
    expect(screen.queryByTestId('short-code')).toBeNull();
  });
});
