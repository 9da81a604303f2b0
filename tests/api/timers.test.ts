/**
 * The 述职 timers through the server: defaults from the unit's team, commands from a team member with
 * the CSRF header (as every POST), the server's clock, kept in the database (a reload finds them), and
 * a 'timers' message on the live socket to every window of the meeting — the turnout message unchanged.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { loginAs } from '../helpers/auth.ts';
import { call, makeMeeting, type TestMeeting } from '../helpers/meeting.ts';
import { subscribeLive, type LiveSubscriber } from '../helpers/live.ts';
import type { TimerView } from '../../server/timers/timers.schemas.ts';

describe('述职 timers through the server', () => {
  let t: TestApp;
  let m: TestMeeting;
  let clock: number;
  const subs: LiveSubscriber[] = [];

  beforeEach(async () => {
    clock = Date.parse('2020-11-25T09:00:00+08:00');
    t = await makeTestApp({ now: () => new Date(clock) });
    m = await makeMeeting(t, { kind: 'village', roster: 4, signIn: 4, members: 3, open: false });
  });
  afterEach(async () => {
    for (const s of subs.splice(0)) s.close();
    await t.close();
  });

  const url = () => `/api/meetings/${m.meetingId}/timers`;
  const send = (body: object, headers = m.session.headers) => t.app.inject({ method: 'POST', url: url(), headers, payload: body });

  it('start with the team: the secretary 6 minutes, the others 4, nothing running', async () => {
    const v = await call<TimerView>(t, m.session, 'GET', url());
    expect(v.speakers.map((s) => [s.name, s.seconds])).toEqual([['成员1', 360], ['成员2', 240], ['成员3', 240]]);
    expect(v).toMatchObject({ meetingId: m.meetingId, current: 0, running: false, usedMs: 0, shown: true, version: 0 });
  });

  it('count on the server clock, and keep the state for a reload or another laptop', async () => {
    expect((await send({ action: 'start' })).statusCode).toBe(200);
    clock += 75_000;
    const other = await loginAs(t, { role: 'inspector', username: 'laptop2' });
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/assignments`, { adminId: other.adminId });
    // Another laptop, another account: the same speaker, 75 s used.
    expect(await call<TimerView>(t, other, 'GET', url())).toMatchObject({ current: 0, running: true, usedMs: 75_000, version: 1 });
    const paused = (await send({ action: 'pause' }, other.headers)).json() as TimerView;
    clock += 60_000;
    expect(await call<TimerView>(t, m.session, 'GET', url())).toMatchObject({ running: false, usedMs: 75_000, version: paused.version });
    // Switching: the next speaker with the full time.
    const next = (await send({ action: 'next' })).json() as TimerView;
    expect(next).toMatchObject({ current: 1, running: false, usedMs: 0, shown: true });
    expect(next.speakers[1]!.seconds * 1000 - next.usedMs).toBe(240_000);
    const row = await t.db.selectFrom('meeting_timers').selectAll().where('meeting_id', '=', m.meetingId).executeTakeFirstOrThrow();
    expect(JSON.parse(row.state_json)).toMatchObject({ current: 1, runningSince: null, usedBefore: 0 });
  });

  it('are changed only by a team member of the meeting, with the CSRF header, and a command the server knows', async () => {
    const { 'x-csrf-token': _csrf, ...noCsrf } = m.session.headers;
    const forged = await send({ action: 'start' }, noCsrf);
    expect([forged.statusCode, forged.json().error.code]).toEqual([403, 'CSRF']);
    expect((await t.app.inject({ method: 'POST', url: url(), payload: { action: 'start' } })).statusCode).toBe(401);
    const outsider = await loginAs(t, { role: 'inspector' });
    expect((await send({ action: 'start' }, outsider.headers)).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: url(), headers: outsider.headers })).statusCode).toBe(403);
    for (const bad of [{ action: 'explode' }, { action: 'select' }, { action: 'setMinutes', index: 0, minutes: 90 }, {}]) {
      expect((await send(bad)).statusCode, JSON.stringify(bad)).toBe(400);
    }
    expect((await call<TimerView>(t, m.session, 'GET', url())).version).toBe(0);
  });

  it('reach every open window over the live socket, and leave the turnout message as it was', async () => {
    const a = await subscribeLive(t, m.meetingId, m.session);
    const second = await loginAs(t, { role: 'inspector', username: 'projector' });
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/assignments`, { adminId: second.adminId });
    const b = await subscribeLive(t, m.meetingId, second);
    subs.push(a, b);
    // On connecting: the turnout as before, then the timers as they are.
    await a.waitFor((msgs) => msgs.some((x) => x.type === 'timers'));
    expect(a.messages[0]!.type).toBe('turnout');
    expect(Object.keys(a.messages[0]!).sort()).toEqual(['k', 'meetingId', 'state', 'turnout', 'type']);
    await send({ action: 'select', index: 2 });
    await send({ action: 'start' });
    for (const s of [a, b]) {
      await s.waitFor((msgs) => msgs.some((x) => x.type === 'timers' && x.timers.running));
      const last = s.timers().at(-1)!;
      expect(last).toMatchObject({ meetingId: m.meetingId, timers: { current: 2, running: true, version: 2 } });
      expect(last.timers.speakers[2]!.name).toBe('成员3');
    }
    // Another meeting's windows hear nothing of it.
    const other = await makeMeeting(t, { kind: 'station', roster: 2, session: m.session, open: false });
    const c = await subscribeLive(t, other.meetingId, m.session);
    subs.push(c);
    await c.waitFor((msgs) => msgs.some((x) => x.type === 'timers'));
    await send({ action: 'pause' });
    await a.waitFor((msgs) => msgs.some((x) => x.type === 'timers' && x.timers.version === 3));
    expect(c.timers().every((x) => x.meetingId === other.meetingId && x.timers.version === 0)).toBe(true);
  });

  it('regenerate from the team, and stop once the meeting is sealed', async () => {
    await send({ action: 'setMinutes', index: 0, minutes: 7.5 });
    expect((await call<TimerView>(t, m.session, 'GET', url())).speakers[0]!.seconds).toBe(450);
    await send({ action: 'regenerate' });
    expect((await call<TimerView>(t, m.session, 'GET', url())).speakers[0]!.seconds).toBe(360);

    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/open-voting`, { overrideReason: '测试会议，人数不足' });
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/seal`);
    const late = await send({ action: 'start' });
    expect([late.statusCode, late.json().error.code]).toEqual([409, 'MEETING_SEALED']);
  });
});
