import { api as defaultApi, type Api } from './api.ts';
import type { LiveMessage, LiveState, MeetingState, PartResult, TimerView, Turnout } from './types.ts';

export interface LiveSnapshot {
  count: number;
  final: boolean;
  parts: PartResult[];
}

/** 'live': the websocket is open; 'polling': it dropped, the page asks every few seconds and keeps reconnecting. */
export type LiveMode = 'connecting' | 'live' | 'polling' | 'stopped';

export interface LiveDeps {
  api: Api;
  /** Opens the meeting's websocket (a test passes a fake). */
  openSocket: (url: string) => WebSocket;
  socketUrl: (meetingId: number) => string;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (id: unknown) => void;
  now: () => number;
}

export const POLL_MS = 5000;
const MAX_BACKOFF_MS = 30_000;

/** Reconnect after 1 s, 2 s, 4 s … up to 30 s. */
export function backoff(attempt: number): number {
  return Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.max(0, attempt));
}

function defaultDeps(): LiveDeps {
  return {
    api: defaultApi,
    openSocket: (url) => new WebSocket(url),
    socketUrl: (id) => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/meetings/${id}/live/ws`,
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
    now: () => Date.now(),
  };
}

/**
 * One meeting's live figures: turnout at once, distributions only as the server's k-anonymous
 * snapshots. Over the websocket while it lives; when it drops, the same figures by polling every
 * 5 seconds while reconnecting with backoff — and the page says which.
 */
export class LiveFeed {
  turnout = $state<Turnout | null>(null);
  state = $state<MeetingState | null>(null);
  k = $state<number | null>(null);
  snapshot = $state<LiveSnapshot | null>(null);
  mode = $state<LiveMode>('connecting');
  /** When the last figures arrived (ms). */
  updatedAt = $state<number | null>(null);
  /** The last polling failure, in words; null while polling works. */
  pollError = $state<string | null>(null);
  /** How many snapshots this page has seen arrive (the chart "moves" once per snapshot). */
  snapshotsSeen = $state(0);

  readonly meetingId: number;
  readonly #d: LiveDeps;
  #socket: WebSocket | null = null;
  #attempt = 0;
  #reconnectTimer: unknown = null;
  #pollTimer: unknown = null;
  #stopped = false;
  /** Called when the meeting's state changes (the page then reloads the meeting). */
  onStateChange: ((state: MeetingState) => void) | null = null;
  readonly #timerListeners = new Set<(view: TimerView) => void>();

  constructor(meetingId: number, deps: Partial<LiveDeps> = {}) {
    this.meetingId = meetingId;
    this.#d = { ...defaultDeps(), ...deps };
  }

  start(): void {
    this.#stopped = false;
    void this.poll();
    this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    this.mode = 'stopped';
    this.#d.clearTimeout(this.#reconnectTimer);
    this.#d.clearTimeout(this.#pollTimer);
    this.#reconnectTimer = this.#pollTimer = null;
    const s = this.#socket;
    this.#socket = null;
    if (s) {
      s.onclose = s.onerror = s.onmessage = s.onopen = null;
      try {
        s.close();
      } catch {
        // already closed
      }
    }
  }

  /** Fetch the figures once (also the polling step). */
  async poll(): Promise<void> {
    try {
      const live = await this.#d.api.get<LiveState>(`/api/meetings/${this.meetingId}/live`);
      this.pollError = null;
      this.applyState(live);
    } catch (e) {
      this.pollError = e instanceof Error ? e.message : '无法获取最新数据';
    }
  }

  applyState(live: LiveState): void {
    this.#applyTurnout(live.state, live.k, live.turnout);
    if (live.snapshot) this.#applySnapshot(live.snapshot as LiveSnapshot);
  }

  applyMessage(msg: LiveMessage): void {
    if (msg.meetingId !== this.meetingId) return;
    if (msg.type === 'turnout') this.#applyTurnout(msg.state, msg.k, msg.turnout);
    else if (msg.type === 'snapshot') this.#applySnapshot(msg.snapshot as LiveSnapshot);
    else if (msg.type === 'timers') for (const fn of this.#timerListeners) fn(msg.timers);
  }

  /** Follow the 述职 timers pushed over this socket; returns an unsubscribe. */
  onTimers(fn: (view: TimerView) => void): () => void {
    this.#timerListeners.add(fn);
    return () => this.#timerListeners.delete(fn);
  }

  #applyTurnout(state: MeetingState, k: number, turnout: Turnout): void {
    const changed = this.state !== null && this.state !== state;
    this.turnout = turnout;
    this.k = k;
    this.state = state;
    this.updatedAt = this.#d.now();
    if (changed) this.onStateChange?.(state);
  }

  #applySnapshot(s: LiveSnapshot): void {
    const cur = this.snapshot;
    // A poll can answer after a newer pushed snapshot; never step back.
    if (cur && (s.count < cur.count || (s.count === cur.count && cur.final && !s.final))) return;
    if (cur && cur.count === s.count && cur.final === s.final) return;
    this.snapshot = s;
    this.snapshotsSeen += 1;
    this.updatedAt = this.#d.now();
  }

  #connect(): void {
    if (this.#stopped) return;
    let socket: WebSocket;
    try {
      socket = this.#d.openSocket(this.#d.socketUrl(this.meetingId));
    } catch {
      this.#dropped();
      return;
    }
    this.#socket = socket;
    socket.onopen = () => {
      this.#attempt = 0;
      this.mode = 'live';
      this.#d.clearTimeout(this.#pollTimer);
      this.#pollTimer = null;
    };
    socket.onmessage = (ev: MessageEvent) => {
      try {
        this.applyMessage(JSON.parse(String(ev.data)) as LiveMessage);
      } catch {
        // A message this page cannot read is ignored; the next poll or push corrects it.
      }
    };
    socket.onerror = () => {
      // onclose follows.
    };
    socket.onclose = () => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.#dropped();
    };
  }

  #dropped(): void {
    if (this.#stopped) return;
    this.mode = 'polling';
    if (this.#pollTimer === null) this.#schedulePoll();
    const wait = backoff(this.#attempt++);
    this.#reconnectTimer = this.#d.setTimeout(() => this.#connect(), wait);
  }

  #schedulePoll(): void {
    this.#pollTimer = this.#d.setTimeout(async () => {
      await this.poll();
      if (!this.#stopped && this.mode !== 'live') this.#schedulePoll();
      else this.#pollTimer = null;
    }, POLL_MS);
  }
}
