import type { TestApp } from './harness.ts';
import type { AdminSession } from './auth.ts';
import type { LiveState, Snapshot, TimersMessage } from '../../server/live/live.schemas.ts';

export type LiveMessage =
  | ({ type: 'turnout' } & Omit<LiveState, 'snapshot'>)
  | { type: 'snapshot'; meetingId: number; snapshot: Snapshot }
  | TimersMessage;

/** app.inject and app.injectWS talk to 'localhost:80'; an admin page served from there sends this Origin. */
export const SAME_ORIGIN = 'http://localhost:80';

type ClientSocket = Awaited<ReturnType<TestApp['app']['injectWS']>>;

export interface LiveSubscriber {
  ws: ClientSocket;
  messages: LiveMessage[];
  snapshots(): Snapshot[];
  turnouts(): Extract<LiveMessage, { type: 'turnout' }>[];
  timers(): TimersMessage[];
  /** Resolves once `pred` holds over the messages so far; rejects after `ms`. */
  waitFor(pred: (msgs: LiveMessage[]) => boolean, ms?: number): Promise<void>;
  close(): void;
}

export function wsHeaders(session: AdminSession | null, origin: string | null = SAME_ORIGIN): Record<string, string> {
  return {
    host: 'localhost:80',
    ...(origin !== null ? { origin } : {}),
    ...(session ? { cookie: session.cookie } : {}),
  };
}

/** Open the meeting's live websocket as `session` and collect every message from the first one on. */
export async function subscribeLive(t: TestApp, meetingId: number, session: AdminSession): Promise<LiveSubscriber> {
  const messages: LiveMessage[] = [];
  const ws = await t.app.injectWS(
    `/api/meetings/${meetingId}/live/ws`,
    { headers: wsHeaders(session) },
    { onInit: (w) => w.on('message', (d: unknown) => messages.push(JSON.parse(String(d)) as LiveMessage)) },
  );
  return {
    ws,
    messages,
    snapshots: () => messages.flatMap((m) => (m.type === 'snapshot' ? [m.snapshot] : [])),
    turnouts: () => messages.filter((m): m is Extract<LiveMessage, { type: 'turnout' }> => m.type === 'turnout'),
    timers: () => messages.filter((m): m is TimersMessage => m.type === 'timers'),
    async waitFor(pred, ms = 5000) {
      const until = Date.now() + ms;
      while (!pred(messages)) {
        if (Date.now() > until) throw new Error(`live messages never matched; got ${JSON.stringify(messages.map((m) => (m.type === 'turnout' ? `t${m.turnout.returned}` : m.type === 'snapshot' ? `s${m.snapshot.count}` : `timers v${m.timers.version}`)))}`);
        await new Promise((r) => setTimeout(r, 2));
      }
    },
    close: () => ws.terminate(),
  };
}

/**
 * Expected by the k-rule, modelled independently of server/live/gate.ts: at least k new phone ballots
 * since the last step, and at least 2k issued ballots still out — even when every one is in, since a
 * walk-in could still come and be isolated by the close. These tests cast phone ballots only.
 */
export function snapshotDue(count: number, last: number, issued: number, k: number): boolean {
  return count - last >= k && issued - count >= 2 * k;
}
