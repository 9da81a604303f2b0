import { api as defaultApi, describeError, type Api } from './api.ts';
import type { LiveFeed } from './live.svelte.ts';
import type { Speaker, TimerCommandBody, TimerView } from './types.ts';

/**
 * The 述职 timers as one window shows them. The server owns them (server/timers): every command is
 * sent there, and every window of the meeting — the projector, the timers page, a second laptop —
 * takes the new state from the live socket (or, while it is down, by asking every few seconds).
 * The time shown is the server's "used so far" plus what this window's own clock has counted since
 * the view arrived, so laptop clocks need not agree.
 */
export const WARN_MS = 60_000;
export const POLL_MS = 5_000;

export type TimerPhase = 'idle' | 'ok' | 'warn' | 'over';

export interface TimerDeps {
  api: Api;
  now: () => number;
  /** The meeting's live feed, whose socket carries 'timers' messages. */
  feed: Pick<LiveFeed, 'onTimers' | 'mode'> | null;
  setInterval: (fn: () => void, ms: number) => unknown;
  clearInterval: (id: unknown) => void;
}

function browserDeps(): TimerDeps {
  return {
    api: defaultApi,
    now: () => Date.now(),
    feed: null,
    setInterval: (fn, ms) => setInterval(fn, ms),
    clearInterval: (id) => clearInterval(id as ReturnType<typeof setInterval>),
  };
}

export class SpeechTimers {
  view = $state<TimerView | null>(null);
  /** This window's clock, advanced by tick(); the displayed time derives from it. */
  now = $state(0);
  /** The last command or load that failed, in words. */
  error = $state<string | null>(null);
  #receivedAt = $state(0);

  readonly speakers = $derived(this.view?.speakers ?? []);
  readonly current = $derived(this.view?.current ?? 0);
  readonly speaker = $derived<Speaker | null>(this.view?.speakers[this.view.current] ?? null);
  /** Who comes after the current speaker (null for the last). */
  readonly nextSpeaker = $derived<Speaker | null>(this.view?.speakers[this.view.current + 1] ?? null);
  readonly running = $derived(this.view?.running ?? false);
  readonly shown = $derived(this.view?.shown ?? true);
  readonly usedMs = $derived(this.view ? this.view.usedMs + (this.view.running ? Math.max(0, this.now - this.#receivedAt) : 0) : 0);
  readonly remainingMs = $derived(this.speaker ? this.speaker.seconds * 1000 - this.usedMs : 0);
  readonly phase = $derived<TimerPhase>(
    !this.speaker || (this.usedMs === 0 && !this.running) ? 'idle' : this.remainingMs <= 0 ? 'over' : this.remainingMs <= WARN_MS ? 'warn' : 'ok',
  );

  readonly meetingId: number;
  readonly #d: TimerDeps;
  #interval: unknown = null;
  #unlisten: (() => void) | null = null;
  #lastFetch = 0;

  constructor(meetingId: number, deps: Partial<TimerDeps> = {}) {
    this.meetingId = meetingId;
    this.#d = { ...browserDeps(), ...deps };
    this.now = this.#d.now();
  }

  /** Load the timers, follow the live socket, and advance the clock on screen. */
  attach(): () => void {
    this.#unlisten = this.#d.feed?.onTimers((v) => this.accept(v)) ?? null;
    void this.load();
    this.#interval = this.#d.setInterval(() => this.tick(), 200);
    return () => this.detach();
  }

  detach(): void {
    this.#unlisten?.();
    this.#unlisten = null;
    if (this.#interval !== null) this.#d.clearInterval(this.#interval);
    this.#interval = null;
  }

  tick(): void {
    this.now = this.#d.now();
    // Without the socket, ask the server now and then, as the live figures do.
    if (this.#d.feed && this.#d.feed.mode !== 'live' && this.now - this.#lastFetch >= POLL_MS) void this.load();
  }

  async load(): Promise<void> {
    this.#lastFetch = this.#d.now();
    try {
      this.accept(await this.#d.api.get<TimerView>(`/api/meetings/${this.meetingId}/timers`));
      this.error = null;
    } catch (e) {
      this.error = describeError(e).message;
    }
  }

  /** A view from the server (a push, a poll or a command's answer); an older one arriving late is ignored. */
  accept(v: TimerView): void {
    if (v.meetingId !== this.meetingId) return;
    if (this.view && v.version < this.view.version) return;
    this.view = v;
    this.#receivedAt = this.now = this.#d.now();
  }

  start(): Promise<void> {
    return this.#send({ action: 'start' });
  }
  pause(): Promise<void> {
    return this.#send({ action: 'pause' });
  }
  /** Start or pause, as this window sees it now (never a blind toggle that two laptops could cancel out). */
  toggle(): Promise<void> {
    return this.running ? this.pause() : this.start();
  }
  reset(): Promise<void> {
    return this.#send({ action: 'reset' });
  }
  next(): Promise<void> {
    return this.#send({ action: 'next' });
  }
  previous(): Promise<void> {
    return this.#send({ action: 'previous' });
  }
  select(index: number): Promise<void> {
    return this.#send({ action: 'select', index });
  }
  setMinutes(index: number, minutes: number): Promise<void> {
    return this.#send({ action: 'setMinutes', index, minutes });
  }
  /** Speakers anew from the unit's team (the secretary first). */
  regenerate(): Promise<void> {
    return this.#send({ action: 'regenerate' });
  }
  setShown(shown: boolean): Promise<void> {
    return this.#send({ action: shown ? 'show' : 'hide' });
  }

  async #send(cmd: TimerCommandBody): Promise<void> {
    try {
      this.accept(await this.#d.api.post<TimerView>(`/api/meetings/${this.meetingId}/timers`, cmd));
      this.error = null;
    } catch (e) {
      this.error = describeError(e).message;
    }
  }
}
