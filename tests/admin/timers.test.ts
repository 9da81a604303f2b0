/**
 * The 述职 timers: the rule (6 minutes for the secretary or station head, 4 for every other member),
 * the commands as the server applies them, and windows that follow the server — two laptops whose
 * clocks disagree with the server's still show the same speaker and the same time left.
 */
import { describe, expect, it } from 'vitest';
import { SpeechTimers } from '../../admin-ui/src/lib/timers.svelte.ts';
import { applyTimerCommand, defaultSpeakers, initialTimers, leadOf, usedMs, type TimerCommand, type TimerState } from '../../server/timers/timers.ts';
import type { TimerView } from '../../server/timers/timers.schemas.ts';
import { FakeServer, settle } from './fake-fetch.ts';

const team = [
  { name: '周建玉', position: '党支部书记、村委会主任', isSecretary: true },
  { name: '史丹丹', position: '党支部副书记', isSecretary: false },
  { name: '程丹建', position: '村委会副主任', isSecretary: false },
];

describe('the timers as the server keeps them (pure)', () => {
  it('give the secretary 6 minutes and every other member 4; at a station the station head leads', () => {
    expect(defaultSpeakers('village', team).map((s) => [s.name, s.seconds])).toEqual([
      ['周建玉', 360],
      ['史丹丹', 240],
      ['程丹建', 240],
    ]);
    const station = [
      { name: '甲', position: '副站长', isSecretary: false },
      { name: '乙', position: '党支部书记', isSecretary: true },
      { name: '丙', position: '站长', isSecretary: false },
    ];
    expect(leadOf('station', station)?.name).toBe('丙');
    expect(defaultSpeakers('station', station)[0]).toMatchObject({ name: '丙', seconds: 360, role: '站长述职（代表班子）' });
  });

  it('count on the server clock, pause, and switching starts the next speaker afresh and shows the timer again', () => {
    const run = (s: TimerState, cmd: TimerCommand, at: number) => applyTimerCommand(s, cmd, at, () => defaultSpeakers('village', team));
    let s = initialTimers(defaultSpeakers('village', team));
    s = run(s, { action: 'start' }, 1000);
    expect(usedMs(s, 61_000)).toBe(60_000);
    s = run(s, { action: 'pause' }, 61_000);
    expect(usedMs(s, 999_999)).toBe(60_000);
    s = run(s, { action: 'hide' }, 62_000);
    expect(s.shown).toBe(false);
    s = run(s, { action: 'next' }, 63_000);
    expect([s.current, usedMs(s, 70_000), s.runningSince, s.shown]).toEqual([1, 0, null, true]);
    s = run(s, { action: 'setMinutes', index: 1, minutes: 5 }, 64_000);
    expect(s.speakers[1]!.seconds).toBe(300);
    s = run(s, { action: 'next' }, 65_000);
    s = run(s, { action: 'next' }, 66_000); // past the last: stays
    expect(s.current).toBe(2);
    s = run(s, { action: 'regenerate' }, 67_000);
    expect([s.current, s.speakers[1]!.seconds]).toEqual([0, 240]);
    expect(s.version).toBe(8);
  });
});

/** The server of the timers, in memory, with its own clock; every change is pushed to every window. */
function timerServer(serverNow: () => number) {
  let state = initialTimers(defaultSpeakers('village', team));
  const windows = new Set<(v: TimerView) => void>();
  const view = (): TimerView => ({
    meetingId: 7, speakers: state.speakers, current: state.current, running: state.runningSince !== null,
    usedMs: usedMs(state, serverNow()), shown: state.shown, version: state.version,
  });
  const server = new FakeServer()
    .on('GET', '/api/meetings/7/timers', () => ({ status: 200, body: view() }))
    .on('POST', '/api/meetings/7/timers', (body) => {
      state = applyTimerCommand(state, body as TimerCommand, serverNow(), () => defaultSpeakers('village', team));
      const v = view();
      for (const w of windows) w(v);
      return { status: 200, body: v };
    });
  const feed = {
    mode: 'live' as const,
    onTimers(fn: (v: TimerView) => void) {
      windows.add(fn);
      return () => windows.delete(fn);
    },
  };
  return { server, feed };
}

describe('windows that follow the server', () => {
  it('two laptops with wrong clocks show the same speaker and time; the projector follows the laptop', async () => {
    let t = 1_000_000;
    const { server, feed } = timerServer(() => t);
    const noTimer = { setInterval: () => 0, clearInterval: () => {} };
    // One laptop runs 47 minutes fast, the other 3 hours slow: only the time elapsed on each matters.
    const laptop = new SpeechTimers(7, { api: server.api(), feed, now: () => t + 47 * 60_000, ...noTimer });
    const projector = new SpeechTimers(7, { api: server.api(), feed, now: () => t - 3 * 3_600_000, ...noTimer });
    laptop.attach();
    projector.attach();
    await settle();
    expect(projector.speaker?.name).toBe('周建玉');
    expect(projector.phase).toBe('idle');

    await laptop.start();
    t += 10_000;
    laptop.tick();
    projector.tick();
    expect(projector.running).toBe(true);
    expect(projector.remainingMs).toBe(350_000);
    expect(laptop.remainingMs).toBe(350_000);

    // Switching: the next speaker's name and the full 4:00 on every window, with the next after them.
    await laptop.next();
    t += 3_000;
    projector.tick();
    expect([projector.speaker?.name, projector.remainingMs, projector.running, projector.shown]).toEqual(['史丹丹', 240_000, false, true]);
    expect(projector.nextSpeaker?.name).toBe('程丹建');

    // A reload is a new window: it asks the server and finds the same state.
    await projector.start();
    t += 5_000;
    const reloaded = new SpeechTimers(7, { api: server.api(), feed, now: () => t + 123, ...noTimer });
    reloaded.attach();
    await settle();
    expect([reloaded.speaker?.name, reloaded.running, reloaded.remainingMs]).toEqual(['史丹丹', true, 235_000]);
  });

  it('space on either window starts or pauses as that window sees it; a late, older answer is ignored', async () => {
    let t = 0;
    const { server, feed } = timerServer(() => t);
    const a = new SpeechTimers(7, { api: server.api(), feed, now: () => t, setInterval: () => 0, clearInterval: () => {} });
    a.attach();
    await settle();
    await a.toggle();
    expect(a.running).toBe(true);
    await a.toggle();
    expect(a.running).toBe(false);
    const version = a.view!.version;
    a.accept({ ...a.view!, running: true, version: version - 1 });
    expect(a.running).toBe(false);
    expect(server.calls.filter((c) => c.method === 'POST').every((c) => c.csrf === 'csrf-1')).toBe(true);
  });
});
