import type { TeamMember, UnitKind } from './types.ts';

/**
 * The 述职 (report) timers: the secretary (at a station, the station head) ≤ 6 minutes, every other
 * team member ≤ 4 minutes. The laptop and the projector window are two windows of one browser, so the
 * timer lives in localStorage and each window follows the other through the 'storage' event.
 */
export interface Speaker {
  name: string;
  /** What the projector shows under the name, e.g. 党组织书记述职. */
  role: string;
  seconds: number;
}

export interface TimerData {
  speakers: Speaker[];
  current: number;
  /** Epoch ms when the running stretch began; null while paused. */
  runningSince: number | null;
  /** Ms used before the running stretch. */
  usedBefore: number;
}

export const LEAD_SECONDS = 6 * 60;
export const MEMBER_SECONDS = 4 * 60;
export const WARN_MS = 60_000;

/** Who reports for the team: at a station the station head, elsewhere the party secretary. */
export function leadOf(kind: UnitKind, members: TeamMember[]): TeamMember | undefined {
  if (kind === 'station') {
    const head = members.find((m) => m.position.includes('站长') && !m.position.includes('副站长'));
    if (head) return head;
  }
  return members.find((m) => m.isSecretary) ?? members[0];
}

export function defaultSpeakers(kind: UnitKind, members: TeamMember[]): Speaker[] {
  const lead = leadOf(kind, members);
  const list: Speaker[] = [];
  if (lead) list.push({ name: lead.name, role: kind === 'station' ? '站长述职（代表班子）' : '党组织书记述职（代表班子）', seconds: LEAD_SECONDS });
  for (const m of members) if (m !== lead) list.push({ name: m.name, role: `${m.position} 个人述职`, seconds: MEMBER_SECONDS });
  return list;
}

export type TimerPhase = 'idle' | 'ok' | 'warn' | 'over';

export interface TimerDeps {
  storage: Pick<Storage, 'getItem' | 'setItem'> | null;
  now: () => number;
  /** Subscribe to other windows' changes; returns an unsubscribe. */
  listen: ((onChange: (key: string | null) => void) => () => void) | null;
}

function browserDeps(): TimerDeps {
  const hasWindow = typeof window !== 'undefined';
  return {
    storage: hasWindow ? window.localStorage : null,
    now: () => Date.now(),
    listen: hasWindow
      ? (fn) => {
          const h = (e: StorageEvent) => fn(e.key);
          window.addEventListener('storage', h);
          return () => window.removeEventListener('storage', h);
        }
      : null,
  };
}

export class SpeechTimers {
  data = $state<TimerData>({ speakers: [], current: 0, runningSince: null, usedBefore: 0 });
  /** Advanced by tick(); the displayed time derives from it. */
  now = $state(0);

  readonly speaker = $derived(this.data.speakers[this.data.current] ?? null);
  readonly running = $derived(this.data.runningSince !== null);
  readonly usedMs = $derived(this.data.usedBefore + (this.data.runningSince !== null ? Math.max(0, this.now - this.data.runningSince) : 0));
  readonly remainingMs = $derived(this.speaker ? this.speaker.seconds * 1000 - this.usedMs : 0);
  readonly phase = $derived<TimerPhase>(
    !this.speaker || (this.usedMs === 0 && !this.running) ? 'idle' : this.remainingMs <= 0 ? 'over' : this.remainingMs <= WARN_MS ? 'warn' : 'ok',
  );

  readonly key: string;
  readonly #d: TimerDeps;
  #unlisten: (() => void) | null = null;
  #interval: ReturnType<typeof setInterval> | null = null;

  constructor(meetingId: number, deps: Partial<TimerDeps> = {}) {
    this.key = `ceping.timers.${meetingId}`;
    this.#d = { ...browserDeps(), ...deps };
    this.now = this.#d.now();
    this.#load();
  }

  /** Fill the speakers from the team the first time (a saved list is kept). */
  ensureSpeakers(speakers: Speaker[]): void {
    if (this.data.speakers.length === 0 && speakers.length > 0) this.#save({ ...this.data, speakers, current: 0, runningSince: null, usedBefore: 0 });
  }

  replaceSpeakers(speakers: Speaker[]): void {
    this.#save({ speakers, current: 0, runningSince: null, usedBefore: 0 });
  }

  /** Follow other windows and advance the clock on screen. */
  attach(): () => void {
    this.#unlisten = this.#d.listen?.((key) => {
      if (key === this.key || key === null) this.#load();
    }) ?? null;
    this.#interval = setInterval(() => this.tick(), 200);
    return () => this.detach();
  }

  detach(): void {
    this.#unlisten?.();
    this.#unlisten = null;
    if (this.#interval) clearInterval(this.#interval);
    this.#interval = null;
  }

  tick(): void {
    this.now = this.#d.now();
  }

  start(): void {
    if (!this.speaker || this.running) return;
    this.#save({ ...this.data, runningSince: this.#d.now() });
  }

  pause(): void {
    if (!this.running) return;
    const now = this.#d.now();
    this.#save({ ...this.data, usedBefore: this.data.usedBefore + (now - this.data.runningSince!), runningSince: null });
  }

  toggle(): void {
    if (this.running) this.pause();
    else this.start();
  }

  reset(): void {
    this.#save({ ...this.data, runningSince: null, usedBefore: 0 });
  }

  select(index: number): void {
    if (index < 0 || index >= this.data.speakers.length) return;
    this.#save({ ...this.data, current: index, runningSince: null, usedBefore: 0 });
  }

  next(): void {
    this.select(this.data.current + 1);
  }

  previous(): void {
    this.select(this.data.current - 1);
  }

  setMinutes(index: number, minutes: number): void {
    const speakers = this.data.speakers.map((s, i) => (i === index ? { ...s, seconds: Math.round(minutes * 60) } : s));
    this.#save({ ...this.data, speakers });
  }

  #save(data: TimerData): void {
    this.data = data;
    this.now = this.#d.now();
    try {
      this.#d.storage?.setItem(this.key, JSON.stringify(data));
    } catch {
      // Private mode or a full storage: the timer still runs in this window.
    }
  }

  #load(): void {
    this.now = this.#d.now();
    try {
      const raw = this.#d.storage?.getItem(this.key);
      if (!raw) return;
      const d = JSON.parse(raw) as TimerData;
      if (Array.isArray(d.speakers) && typeof d.current === 'number') this.data = d;
    } catch {
      // A damaged entry is ignored and overwritten by the next change.
    }
  }
}
