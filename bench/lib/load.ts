/**
 * The bench's load generator, on undici (the HTTP client Node's own fetch is built on; no dependencies).
 * Chosen over autocannon because a hall is not a steady keep-alive stream: phones arrive on new
 * connections, so a share of the requests must open their own connection and the time must be measured
 * from the connect to the reply, which autocannon cannot do. Every figure here is taken on the client.
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { Client } from 'undici';

export interface Sample {
  /** From the start of the request (before the connect, for a new connection) to the last byte of the reply. */
  ms: number;
  status: number;
  fresh: boolean;
}

export interface LoadResult {
  samples: Sample[];
  elapsedMs: number;
  /** Replies per second over the whole run. */
  rate: number;
  /** Requests that failed (a status other than 200, or a socket error). */
  failures: number;
  firstFailure: string | null;
  /** The share of the run the load generator's own event loop was busy (closed loop only): near 1, it is the bottleneck. */
  busy?: number;
}

const headers = { 'content-type': 'application/json' };

async function post(client: Client, path: string, body: string): Promise<{ status: number; text: string }> {
  const res = await client.request({ method: 'POST', path, headers, body });
  const text = await res.body.text();
  return { status: res.statusCode, text };
}

/** One request on a connection of its own, closed afterwards: a phone arriving. */
export async function postOnNewConnection(origin: string, path: string, body: string): Promise<Sample & { text: string }> {
  const client = new Client(origin, { pipelining: 1 });
  const start = performance.now();
  try {
    const r = await post(client, path, body);
    return { ms: performance.now() - start, status: r.status, fresh: true, text: r.text };
  } finally {
    void client.close().catch(() => undefined);
  }
}

export interface ClosedLoopOptions {
  origin: string;
  path: string;
  /** Concurrent clients, each with one keep-alive connection. */
  connections: number;
  /** The i-th request's body. */
  body: (i: number) => string;
  /** Stop after this many requests… */
  total?: number;
  /** …or after this long. */
  durationMs?: number;
  /** Every n-th request of the run goes on a new connection (3: one in three); 0: none. */
  freshEvery?: number;
}

/**
 * A closed loop: each client sends its next request as soon as the last is answered. Every
 * `freshEvery`-th request instead opens a new connection for itself (and closes it), as a phone does.
 */
export async function closedLoop(o: ClosedLoopOptions): Promise<LoadResult> {
  const samples: Sample[] = [];
  let next = 0;
  let failures = 0;
  let firstFailure: string | null = null;
  const start = performance.now();
  const elu = performance.eventLoopUtilization();
  const deadline = o.durationMs === undefined ? Infinity : start + o.durationMs;
  const more = () => (o.total === undefined || next < o.total) && performance.now() < deadline;
  const fail = (why: string) => {
    failures++;
    firstFailure ??= why;
  };

  async function worker(): Promise<void> {
    const own = new Client(o.origin, { pipelining: 1, keepAliveTimeout: 60_000 });
    try {
      while (more()) {
        const i = next++;
        const body = o.body(i);
        const fresh = (o.freshEvery ?? 0) > 0 && i % o.freshEvery! === o.freshEvery! - 1;
        try {
          if (fresh) {
            const s = await postOnNewConnection(o.origin, o.path, body);
            samples.push({ ms: s.ms, status: s.status, fresh });
            if (s.status !== 200) fail(`${s.status} ${s.text.slice(0, 200)}`);
          } else {
            const t0 = performance.now();
            const r = await post(own, o.path, body);
            samples.push({ ms: performance.now() - t0, status: r.status, fresh });
            if (r.status !== 200) fail(`${r.status} ${r.text.slice(0, 200)}`);
          }
        } catch (e) {
          fail(String(e));
        }
      }
    } finally {
      await own.close().catch(() => undefined);
    }
  }

  await Promise.all(Array.from({ length: o.connections }, worker));
  const elapsedMs = performance.now() - start;
  return { samples, elapsedMs, rate: (samples.length / elapsedMs) * 1000, failures, firstFailure, busy: performance.eventLoopUtilization(elu).utilization };
}

/** `bodies.length` phones, each on a new connection, their starts spread evenly over `spreadMs`. */
export async function burst(origin: string, path: string, bodies: readonly string[], spreadMs: number): Promise<LoadResult & { spreadMs: number }> {
  const samples: Sample[] = [];
  let failures = 0;
  let firstFailure: string | null = null;
  const start = performance.now();
  let lastStart = start;
  await Promise.all(
    bodies.map(
      (body, i) =>
        new Promise<void>((resolve) => {
          setTimeout(() => {
            lastStart = Math.max(lastStart, performance.now());
            postOnNewConnection(origin, path, body)
              .then((s) => {
                samples.push({ ms: s.ms, status: s.status, fresh: true });
                if (s.status !== 200) {
                  failures++;
                  firstFailure ??= `${s.status} ${s.text.slice(0, 200)}`;
                }
              })
              .catch((e: unknown) => {
                failures++;
                firstFailure ??= String(e);
              })
              .finally(resolve);
          }, (i * spreadMs) / bodies.length);
        }),
    ),
  );
  const elapsedMs = performance.now() - start;
  return { samples, elapsedMs, rate: (samples.length / elapsedMs) * 1000, failures, firstFailure, spreadMs: lastStart - start };
}

/**
 * The accept wait: every `everyMs` until `done` settles, open a raw TCP connection, send a GET, and time
 * until the first byte of the reply (while the server's event loop is held, the connection waits in the
 * kernel's accept queue). The probes run on a worker thread of their own (probe.worker.mjs), so the
 * load generator's busy event loop on this thread does not delay the replies they see. Throws when a
 * probe failed.
 */
export async function probeWhile(port: number, path: string, everyMs: number, done: Promise<unknown>): Promise<number[]> {
  const worker = new Worker(new URL('./probe.worker.mjs', import.meta.url), { workerData: { port, path, everyMs } });
  const result = new Promise<(number | string)[]>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  // Started: the first probe goes out once the thread runs, not only once this thread's loop is free.
  await new Promise((r) => worker.once('online', r));
  await done.catch(() => undefined);
  worker.postMessage('stop');
  const probes = await result;
  await worker.terminate();
  const failed = probes.find((p) => typeof p === 'string');
  if (failed !== undefined) throw new Error(`an accept-wait probe failed: ${failed}`);
  return probes as number[];
}
