import { describe, expect, it } from 'vitest';
import { backoff, LiveFeed, POLL_MS } from '../../admin-ui/src/lib/live.svelte.ts';
import type { LiveState } from '../../admin-ui/src/lib/types.ts';
import { FakeServer, settle } from './fake-fetch.ts';

class FakeSocket {
  onopen: (() => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  closed = false;
  constructor(readonly url: string) {}
  close() {
    this.closed = true;
  }
  send(msg: object) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
}

/** Timers that run only when the test says so. */
class Clock {
  now = 0;
  #timers: { at: number; fn: () => void; id: number }[] = [];
  #next = 1;
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.#next++;
    this.#timers.push({ at: this.now + ms, fn, id });
    return id;
  };
  clearTimeout = (id: unknown) => {
    this.#timers = this.#timers.filter((t) => t.id !== id);
  };
  async advance(ms: number) {
    const until = this.now + ms;
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.now = due.at;
      due.fn();
      await settle();
    }
    this.now = until;
  }
}

const turnout = (returned: number) => ({ expected: 72, present: 70, issued: 70, returned, paper: 0, paperIssued: 0, reissued: 0 });
const snapshot = (count: number, final = false) => ({ count, final, parts: [] });

function setup() {
  const server = new FakeServer();
  let live: LiveState = { meetingId: 3, state: 'voting', k: 5, turnout: turnout(0), snapshot: null };
  server.on('GET', '/api/meetings/3/live', () => ({ status: 200, body: live }));
  const sockets: FakeSocket[] = [];
  const clock = new Clock();
  const feed = new LiveFeed(3, {
    api: server.api(),
    openSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s as unknown as WebSocket;
    },
    socketUrl: (id) => `ws://test/api/meetings/${id}/live/ws`,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    now: () => clock.now,
  });
  return { server, sockets, clock, feed, setLive: (l: Partial<LiveState>) => (live = { ...live, ...l }) };
}

describe('the live feed', () => {
  it('takes turnout and snapshots from the websocket, and never steps a snapshot back', async () => {
    const { sockets, feed } = setup();
    feed.start();
    await settle();
    sockets[0]!.onopen!();
    expect(feed.mode).toBe('live');
    sockets[0]!.send({ type: 'turnout', meetingId: 3, state: 'voting', k: 5, turnout: turnout(7) });
    expect(feed.turnout?.returned).toBe(7);
    sockets[0]!.send({ type: 'snapshot', meetingId: 3, snapshot: snapshot(10) });
    expect(feed.snapshot?.count).toBe(10);
    sockets[0]!.send({ type: 'snapshot', meetingId: 3, snapshot: snapshot(5) });
    expect(feed.snapshot?.count).toBe(10);
    sockets[0]!.send({ type: 'snapshot', meetingId: 3, snapshot: snapshot(10, true) });
    expect(feed.snapshot?.final).toBe(true);
    expect(feed.snapshotsSeen).toBe(2);
    // Another meeting's message is not ours.
    sockets[0]!.send({ type: 'turnout', meetingId: 4, state: 'voting', k: 5, turnout: turnout(99) });
    expect(feed.turnout?.returned).toBe(7);
    feed.stop();
  });

  it('when the socket drops: says so, polls every 5 s, reconnects with backoff, and stops polling once back', async () => {
    const { server, sockets, clock, feed, setLive } = setup();
    feed.start();
    await settle();
    sockets[0]!.onopen!();
    sockets[0]!.onclose!();
    expect(feed.mode).toBe('polling');
    const polls = () => server.calls.filter((c) => c.url === '/api/meetings/3/live').length;
    const before = polls();
    setLive({ turnout: turnout(12), snapshot: snapshot(10) });
    // The first reconnect is after 1 s; it fails too, the next waits 2 s.
    await clock.advance(1000);
    expect(sockets).toHaveLength(2);
    sockets[1]!.onclose!();
    await clock.advance(POLL_MS - 1000);
    expect(polls()).toBe(before + 1);
    expect(feed.turnout?.returned).toBe(12);
    expect(feed.snapshot?.count).toBe(10);
    await clock.advance(POLL_MS);
    expect(polls()).toBe(before + 2);
    expect(sockets.length).toBeGreaterThanOrEqual(3);
    sockets.at(-1)!.onopen!();
    expect(feed.mode).toBe('live');
    const n = polls();
    await clock.advance(4 * POLL_MS);
    expect(polls()).toBe(n);
    feed.stop();
  });

  it('reports a failed poll in words and keeps trying', async () => {
    const { server, sockets, clock, feed } = setup();
    feed.start();
    await settle();
    sockets[0]!.onclose!();
    server.offline = true;
    await clock.advance(POLL_MS);
    expect(feed.pollError).toBe('无法连接服务器');
    server.offline = false;
    await clock.advance(POLL_MS);
    expect(feed.pollError).toBeNull();
    feed.stop();
  });

  it('backs off 1, 2, 4 … 30 seconds', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 10].map(backoff)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('tells the page when the meeting changes state', async () => {
    const { sockets, feed } = setup();
    const seen: string[] = [];
    feed.onStateChange = (s) => seen.push(s);
    feed.start();
    await settle();
    sockets[0]!.onopen!();
    sockets[0]!.send({ type: 'turnout', meetingId: 3, state: 'closed', k: 5, turnout: turnout(70) });
    expect(seen).toEqual(['closed']);
    feed.stop();
  });
});
