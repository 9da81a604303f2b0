// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { Desk, POLL_MS, TAKEN_SHOWN_MS, UNDO_MS } from '../../admin-ui/src/lib/desk.svelte.ts';
import { MeetingStore } from '../../admin-ui/src/lib/meeting.svelte.ts';
import DeskPage from '../../admin-ui/src/pages/meeting/DeskPage.svelte';
import type { Meeting, RosterEntry } from '../../admin-ui/src/lib/types.ts';
import { FakeServer, refuse, settle } from './fake-fetch.ts';

afterEach(() => cleanup());

function roster(): RosterEntry[] {
  return ['张三民', '李四', '王芳', '章山敏', '沈雪', '沈雪立'].map((name, i) => ({ id: i + 1, name, category: '党员', note: '', walkIn: false, signedIn: false }));
}

/** The desk's server: sign-in hands out a ticket; a phone "redeems" one when the test says so. */
function deskServer() {
  const server = new FakeServer();
  const entries = roster();
  const tickets = new Map<number, { id: string; state: 'issued' | 'redeemed'; kind: 'qr' | 'slip'; serial: number | null }>();
  let n = 0;
  const ticketFor = (entryId: number, kind: 'qr' | 'slip' = 'qr', serial: number | null = null) => {
    n += 1;
    tickets.set(entryId, { id: `t${n}`, state: 'issued', kind, serial });
    return { id: `t${n}`, secret: `tok${n}`, shortCode: `CODE-000${n}`, url: `http://192.0.2.10:8080/v/#tok${n}`, serial };
  };
  server.on('GET', '/api/meetings/3/roster', () => ({ status: 200, body: { entries } }));
  for (const e of entries) {
    server.on('POST', `/api/meetings/3/roster/${e.id}/sign-in`, (body) => {
      if (e.signedIn) return refuse('ALREADY_SIGNED_IN');
      const { handout, slipSerial } = body as { handout: string; slipSerial: number | null };
      if (handout === 'slip' && slipSerial === 9) return refuse('SLIP_UNKNOWN');
      e.signedIn = true;
      const ticket = handout === 'qr' ? ticketFor(e.id) : null;
      if (handout === 'slip') tickets.set(e.id, { id: `s${slipSerial}`, state: 'issued', kind: 'slip', serial: slipSerial });
      return { status: 200, body: { entry: { ...e }, ticket } };
    });
    server.on('GET', `/api/meetings/3/roster/${e.id}/ticket`, () => {
      const t = tickets.get(e.id);
      return { status: 200, body: t ? { ticketId: t.id, kind: t.kind, serial: t.serial, state: t.state, canShowAgain: t.state === 'issued' } : { ticketId: null, kind: null, serial: null, state: 'none', canShowAgain: false } };
    });
    server.on('POST', `/api/meetings/3/roster/${e.id}/ticket/replace`, () => (tickets.get(e.id)?.state === 'issued' ? { status: 200, body: ticketFor(e.id) } : refuse('TICKET_ALREADY_REDEEMED')));
    server.on('POST', `/api/meetings/3/roster/${e.id}/ticket/reissue`, () => (tickets.get(e.id)?.state === 'redeemed' ? { status: 200, body: ticketFor(e.id) } : refuse('TICKET_NOT_REDEEMED')));
    server.on('POST', `/api/meetings/3/roster/${e.id}/undo-sign-in`, () => {
      if (tickets.get(e.id)?.state === 'redeemed') return refuse('UNDO_TOO_LATE');
      e.signedIn = false;
      tickets.delete(e.id);
      return { status: 200, body: { ...e } };
    });
  }
  server.on('POST', '/api/meetings/3/roster', (body) => {
    const e = { id: 99, ...(body as { name: string; category: string; note: string }), walkIn: true, signedIn: false };
    entries.push(e);
    server.on('POST', '/api/meetings/3/roster/99/sign-in', () => ((e.signedIn = true), { status: 200, body: { entry: { ...e }, ticket: ticketFor(99) } }));
    return { status: 201, body: e };
  });
  /** A phone scans and redeems the ticket of this entry. */
  const redeem = (entryId: number) => {
    tickets.get(entryId)!.state = 'redeemed';
  };
  return Object.assign(server, { redeem });
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
  it('shows a QR until the phone takes it (已领取), whatever the time, then frees the desk', async () => {
    const server = deskServer();
    const clock = fakeTimers();
    const desk = new Desk(3, { api: server.api(), ...clock.deps });
    await desk.load();
    desk.query = 'zsm';
    expect(desk.results.map((e) => e.name)).toEqual(['张三民', '章山敏']);
    await desk.signIn(desk.results[0]!);
    expect(server.calls.at(-1)).toMatchObject({ method: 'POST', url: '/api/meetings/3/roster/1/sign-in', body: { handout: 'qr', slipSerial: null }, csrf: 'csrf-1' });
    expect(desk.shown).toMatchObject({ name: '张三民', taken: false, ticket: { shortCode: 'CODE-0001' } });
    // The search is cleared for the next person; 张三民 has left the 未签到 list.
    expect(desk.query).toBe('');
    expect(desk.results.map((e) => e.name)).toEqual(['李四', '王芳', '章山敏', '沈雪', '沈雪立']);
    // Minutes pass: the QR stays (a ballot is not lost to a timer).
    for (let i = 0; i < 300; i++) {
      clock.advance(POLL_MS);
      await settle();
    }
    expect(desk.shown).toMatchObject({ name: '张三民', taken: false });
    server.redeem(1);
    clock.advance(POLL_MS);
    await settle();
    expect(desk.shown).toMatchObject({ name: '张三民', taken: true });
    clock.advance(TAKEN_SHOWN_MS);
    expect(desk.shown).toBeNull();
  });

  it('slips ask for their serial; paper and slip sign-ins set the handout back to 手机扫码', async () => {
    const server = deskServer();
    const desk = new Desk(3, { api: server.api() });
    await desk.load();
    desk.handout = 'slip';
    expect(await desk.signIn(desk.entries[1]!)).toBeNull();
    expect(desk.askSerial?.name).toBe('李四');
    expect(server.calls.filter((c) => c.method === 'POST')).toEqual([]);
    await desk.signInWithSlip(9);
    expect(desk.error?.message).toContain('没有这个编号的打印票条');
    desk.handout = 'slip';
    await desk.signIn(desk.entries[1]!);
    await desk.signInWithSlip(12);
    expect(server.calls.filter((c) => c.method === 'POST').at(-1)).toMatchObject({ url: '/api/meetings/3/roster/2/sign-in', body: { handout: 'slip', slipSerial: 12 } });
    expect(desk.shown).toBeNull();
    expect(desk.lastDone).toMatchObject({ name: '李四', handout: 'slip', serial: 12 });
    expect(desk.handout).toBe('qr');
    desk.handout = 'paper';
    await desk.signIn(desk.entries[2]!);
    expect(desk.lastDone).toMatchObject({ name: '王芳', handout: 'paper' });
    expect(desk.handout).toBe('qr');
  });

  it('asks before signing in a name one character away from another waiting name', async () => {
    const server = deskServer();
    const desk = new Desk(3, { api: server.api() });
    await desk.load();
    const shenXue = desk.entries.find((e) => e.name === '沈雪')!;
    expect(await desk.signIn(shenXue)).toBeNull();
    expect(desk.askSure).toMatchObject({ entry: { name: '沈雪' }, alike: ['沈雪立'] });
    desk.cancelQuestions();
    expect(shenXue.signedIn).toBe(false);
    await desk.signIn(shenXue);
    await desk.confirmSure();
    expect(desk.entries.find((e) => e.name === '沈雪')!.signedIn).toBe(true);
    // 李四 has no look-alike: no question.
    expect(await desk.signIn(desk.entries.find((e) => e.name === '李四')!)).not.toBeNull();
  });

  it('撤销 the last sign-in while its QR is unused; not once a phone has taken it', async () => {
    const server = deskServer();
    const clock = fakeTimers();
    const desk = new Desk(3, { api: server.api(), ...clock.deps });
    await desk.load();
    await desk.signIn(desk.entries[0]!);
    expect(desk.canUndo(clock.deps.now())).toBe(true);
    expect(await desk.undoLast()).toBe(true);
    expect(desk.entries[0]!.signedIn).toBe(false);
    expect(desk.shown).toBeNull();
    await desk.signIn(desk.entries[0]!);
    server.redeem(1);
    expect(await desk.undoLast()).toBe(false);
    expect(desk.error?.message).toContain('不能撤销');
    clock.advance(UNDO_MS);
    expect(desk.canUndo(clock.deps.now())).toBe(false);
  });

  it('a signed-in person\'s ticket: replace while unredeemed, 补发 only after', async () => {
    const server = deskServer();
    const desk = new Desk(3, { api: server.api() });
    await desk.load();
    await desk.signIn(desk.entries[1]!);
    const li = desk.entries[1]!;
    expect(await desk.ticketOf(li)).toMatchObject({ state: 'issued', canShowAgain: true });
    expect(await desk.reissue(li, '手机没电了')).toBe(false);
    expect(await desk.replace(li)).toBe(true);
    expect(desk.shown?.ticket.shortCode).toBe('CODE-0002');
    server.redeem(li.id);
    expect(await desk.replace(li)).toBe(false);
    expect(await desk.reissue(li, '手机没电了')).toBe(true);
    expect(server.calls.at(-1)).toMatchObject({ url: '/api/meetings/3/roster/2/ticket/reissue', body: { reason: '手机没电了' } });
  });

  it('a refusal is shown in words with what to do next, and the roster is reloaded', async () => {
    const server = deskServer();
    const desk = new Desk(3, { api: server.api() });
    await desk.load();
    const stale = { ...desk.entries[1]! };
    await desk.signIn(desk.entries[1]!);
    desk.hideQr();
    await desk.signIn(stale);
    expect(desk.error).toEqual({ message: '此人已签到', hint: '此人已经签到，无需重复签到。' });
    server.offline = true;
    await desk.signIn(desk.entries[2]!);
    expect(desk.error?.message).toBe('无法连接服务器');
    expect(desk.error?.hint).toContain('网络');
  });

  it('after any sign-in the search is cleared, and searching a signed-in name shows 已签到, not 名单外人员', async () => {
    const server = deskServer();
    const desk = new Desk(3, { api: server.api() });
    const meeting = {
      id: 3, unitId: 1, unitName: '红旗村', unitKind: 'village', state: 'signin', stateLabel: '签到中',
      turnout: { expected: 6, present: 0, issued: 0, returned: 0, paper: 0, paperIssued: 0, reissued: 0 },
      quorum: { needed: 70, text: '村不少于70人', met: false }, liveK: 5, projectorShowsDistributions: false,
    } as unknown as Meeting;
    const store = new MeetingStore(3, server.api());
    store.meeting = meeting;
    render(DeskPage, { props: { store, desk } });
    await settle();
    const search = screen.getByLabelText('查找参会人员') as HTMLInputElement;
    // A paper form and a slip: neither shows a QR, so nothing else would move the desk on.
    for (const [handout, name] of [['paper', '王芳'], ['slip', '李四']] as const) {
      await fireEvent.input(search, { target: { value: name } });
      desk.handout = handout;
      await fireEvent.click(screen.getByRole('button', { name: `签到 ${name}` }));
      await settle();
      if (handout === 'slip') {
        await fireEvent.input(screen.getByLabelText(/编号/), { target: { value: '12' } });
        await fireEvent.submit(screen.getByLabelText(/编号/).closest('form')!);
        await settle();
      }
      expect(desk.entries.find((e) => e.name === name)!.signedIn).toBe(true);
      expect(search.value).toBe('');
    }
    // The same person comes back to the desk: the 未签到 list finds them, as 已签到, with their ticket.
    await fireEvent.input(search, { target: { value: '王芳' } });
    const list = screen.getByRole('list', { name: '签到名单' });
    const rows = within(list).getAllByRole('listitem');
    expect(rows.map((li) => li.querySelector('.name')?.textContent)).toEqual(['王芳']);
    expect(within(rows[0]!).getByText('已签到')).toBeTruthy();
    expect(within(rows[0]!).queryByRole('button', { name: '签到 王芳' })).toBeNull();
    expect(screen.queryByText(/如是名单外人员/)).toBeNull();
    // Someone really not on the roster still gets the walk-in hint.
    await fireEvent.input(search, { target: { value: '赵六' } });
    expect(screen.getByText(/没有找到「赵六」。如是名单外人员/)).toBeTruthy();
    // And adding a walk-in under a roster name warns before signing anyone in.
    await fireEvent.click(screen.getByRole('button', { name: '名单外人员' }));
    await fireEvent.input(screen.getByLabelText('姓名'), { target: { value: '王芳' } });
    expect(screen.getByRole('alert').textContent).toContain('名单上已有「王芳」（已签到）');
    await fireEvent.input(screen.getByLabelText('姓名'), { target: { value: '赵六' } });
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('renders: search by initials, one tap, the QR and short code large until the phone takes it', async () => {
    const server = deskServer();
    const api = server.api();
    const meeting = {
      id: 3, unitId: 1, unitName: '红旗村', unitKind: 'village', state: 'signin', stateLabel: '签到中',
      turnout: { expected: 6, present: 0, issued: 0, returned: 0, paper: 0, paperIssued: 0, reissued: 0 },
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
    expect(screen.getByRole('button', { name: '撤销签到' })).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: /先隐藏/ }));
    expect(screen.queryByTestId('short-code')).toBeNull();
    desk.hideQr();
  });
});
