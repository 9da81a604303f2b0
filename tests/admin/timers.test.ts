import { describe, expect, it } from 'vitest';
import { defaultSpeakers, leadOf, SpeechTimers, type TimerDeps } from '../../admin-ui/src/lib/timers.svelte.ts';
import type { TeamMember } from '../../admin-ui/src/lib/types.ts';

const team: TeamMember[] = [
  { id: 1, name: '周建玉', position: '党支部书记、村委会主任', isSecretary: true },
  { id: 2, name: '史丹丹', position: '党支部副书记', isSecretary: false },
  { id: 3, name: '程丹建', position: '村委会副主任', isSecretary: false },
];

/** Two windows of one browser: one localStorage, 'storage' events to the other window. */
function twoWindows() {
  const store = new Map<string, string>();
  let t = 1_000_000;
  const listeners: ((key: string | null) => void)[] = [];
  const deps = (): Partial<TimerDeps> => ({
    now: () => t,
    storage: {
      getItem: (k) => store.get(k) ?? null,
      setItem: (k, v) => {
        store.set(k, v);
        for (const l of listeners) l(k);
      },
    },
    listen: (fn) => {
      listeners.push(fn);
      return () => listeners.splice(listeners.indexOf(fn), 1);
    },
  });
  return { deps, advance: (ms: number) => (t += ms) };
}

describe('the 述职 timers', () => {
  it('give the secretary 6 minutes and every other member 4; at a station the station head leads', () => {
    expect(defaultSpeakers('village', team).map((s) => [s.name, s.seconds])).toEqual([
      ['周建玉', 360],
      ['史丹丹', 240],
      ['程丹建', 240],
    ]);
    const station: TeamMember[] = [
      { id: 1, name: '甲', position: '副站长', isSecretary: false },
      { id: 2, name: '乙', position: '党支部书记', isSecretary: true },
      { id: 3, name: '丙', position: '站长', isSecretary: false },
    ];
    expect(leadOf('station', station)?.name).toBe('丙');
    expect(defaultSpeakers('station', station)[0]).toMatchObject({ name: '丙', seconds: 360, role: '站长述职（代表班子）' });
  });

  it('count down, turn amber in the last minute and red at zero, and pause', () => {
    const w = twoWindows();
    const timers = new SpeechTimers(1, w.deps());
    timers.ensureSpeakers(defaultSpeakers('village', team));
    expect(timers.phase).toBe('idle');
    timers.start();
    w.advance(60_000);
    timers.tick();
    expect(timers.phase).toBe('ok');
    expect(timers.remainingMs).toBe(300_000);
    w.advance(240_000);
    timers.tick();
    expect(timers.phase).toBe('warn');
    timers.pause();
    w.advance(120_000);
    timers.tick();
    expect(timers.remainingMs).toBe(60_000);
    timers.start();
    w.advance(61_000);
    timers.tick();
    expect(timers.phase).toBe('over');
    expect(timers.remainingMs).toBe(-1_000);
    timers.next();
    expect(timers.speaker?.name).toBe('史丹丹');
    expect(timers.phase).toBe('idle');
    expect(timers.remainingMs).toBe(240_000);
  });

  it('the projector window follows the laptop window', () => {
    const w = twoWindows();
    const laptop = new SpeechTimers(7, w.deps());
    const projector = new SpeechTimers(7, w.deps());
    const stop = projector.attach();
    laptop.ensureSpeakers(defaultSpeakers('village', team));
    projector.ensureSpeakers(defaultSpeakers('village', team.slice(0, 1)));
    expect(projector.data.speakers).toHaveLength(3);
    laptop.select(2);
    laptop.start();
    w.advance(10_000);
    projector.tick();
    expect(projector.speaker?.name).toBe('程丹建');
    expect(projector.running).toBe(true);
    expect(projector.remainingMs).toBe(230_000);
    laptop.setMinutes(2, 5);
    expect(projector.remainingMs).toBe(290_000);
    stop();
  });
});
