import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { serverFile } from '../paths.ts';
import { TurnOutbox } from '../shared/turn-outbox.ts';
import type { MeetingKey } from './voprf.ts';

/**
 * Bytes of randomness a proof takes: its scalar is drawn from 48 bytes, as @noble/curves draws one for
 * ristretto255 (blind-evaluate.mjs uses noble's mapHashToField, so the same bytes give noble's proof).
 */
export const PROOF_RANDOM_BYTES = 48;

interface Pending {
  resolve: (v: Record<string, Uint8Array>) => void;
  reject: (e: Error) => void;
}

interface Task {
  message: Record<string, unknown>;
  pending: Pending;
}

/** Who is waiting: `low` is work for a sender whose tokens lately failed their check (see Casting). */
export type Lane = 'normal' | 'low';

/**
 * Tasks a worker holds at once, so it never waits for the next message while the event loop is busy
 * with a hall's new connections. Two were enough when an evaluation took 1–4 ms; at 0.12 ms (libsodium)
 * a worker holding two went idle between the event loop's turns: in a 300-phone burst sixteen took
 * 20–30 % less CPU and about half the latency (bench/README.md). The price: an honest check waits behind
 * at most sixteen low-lane ones, about 2 ms.
 */
export const IN_FLIGHT = 16;
/** Low-lane tasks waiting at most; more are refused (the caller answers 429 and the phone re-sends). */
export const LOW_LANE_MAX = 2_000;

/** The low lane is full. */
export class PoolBusyError extends Error {}

/**
 * The curve work (on libsodium about 0.1 ms for a cast's check and 1 ms for a redemption's evaluation with
 * its proof; 1.1 and 9 ms with noble's JavaScript) in a few worker threads, so a hall of phones redeeming
 * and casting at once keeps every core busy and the event loop free for sockets and the live feed. Sized to the machine: one worker per core but one (the main thread has the sockets and the
 * database), at least one. With `size: 0` (or when a worker cannot start) the work runs inline.
 *
 * Work waits in the pool, not in the workers' message queues, in two lanes: a flood of forged tokens
 * from one sender (each costs an evaluation to refuse) goes to the low lane and cannot hold up the
 * hall's honest casts, which pass it as soon as a worker has room.
 */
export class VoprfPool {
  readonly #workers: { worker: Worker; pending: Map<number, Pending>; outbox: TurnOutbox<Record<string, unknown>> }[] = [];
  /** Messages posted to the workers so far (each carries the tasks handed to one worker in one turn). */
  posted = 0;
  /** Work not yet handed to a worker: the low lane is served only when the normal one is empty. */
  readonly #normal: Task[] = [];
  readonly #low: Task[] = [];
  readonly #size: number;
  #started = false;
  #next = 1;
  #closed = false;

  constructor(size = Math.max(1, availableParallelism() - 1)) {
    this.#size = size;
  }

  /** The workers start with the first piece of work (a server that never redeems a ticket never starts them). */
  #start(): void {
    this.#started = true;
    for (let i = 0; i < this.#size; i++) {
      try {
        const worker = new Worker(serverFile('credentials', 'voprf.worker.mjs'));
        const pending = new Map<number, Pending>();
        // A worker answers each task as soon as it is done, so the pool hands it the next one while it works
        // on the rest of what it holds (IN_FLIGHT), though the tasks of one turn travel to it together.
        worker.on('message', (m: { id: number; error?: string } & Record<string, Uint8Array>) => {
          const p = pending.get(m.id);
          if (!p) return;
          pending.delete(m.id);
          if (m.error) p.reject(new Error(m.error));
          else p.resolve(m);
          this.#pump();
          if (pending.size === 0) worker.unref();
        });
        worker.on('error', (e) => {
          // A worker that died takes no more work: what it held is refused, what waits goes elsewhere.
          const i = this.#workers.findIndex((w) => w.worker === worker);
          if (i >= 0) this.#workers.splice(i, 1);
          for (const p of pending.values()) p.reject(e);
          pending.clear();
          outbox.clear();
          worker.unref();
          this.#pump();
        });
        // Idle workers do not keep the process alive; a worker with work in hand does (#send), or a
        // script awaiting a redemption with nothing else open would end with exit code 13 mid-await.
        worker.unref();
        const outbox = new TurnOutbox<Record<string, unknown>>(
          (tasks) => {
            worker.postMessage(tasks);
            this.posted++;
          },
          // Nothing of the message reached the worker: each of its tasks fails.
          (tasks, error) => {
            for (const t of tasks) {
              const p = pending.get(t.id as number);
              pending.delete(t.id as number);
              p?.reject(error);
            }
            if (pending.size === 0) worker.unref();
          },
        );
        this.#workers.push({ worker, pending, outbox });
      } catch {
        break;
      }
    }
  }

  get size(): number {
    if (!this.#started) this.#start();
    return this.#workers.length;
  }

  /** F(key, input): what a token's output must be. */
  async evaluate(secretKey: Uint8Array, input: Uint8Array, lane: Lane = 'normal'): Promise<Uint8Array> {
    return (await this.#send({ op: 'evaluate', secretKey, input }, lane)).output!;
  }

  /** Tasks waiting for a worker, per lane (for tests and the bench). */
  get waiting(): { normal: number; low: number } {
    return { normal: this.#normal.length, low: this.#low.length };
  }

  /** The evaluation of a blinded element and its proof; `random` (PROOF_RANDOM_BYTES) makes the proof. */
  async blindEvaluate(key: MeetingKey, blinded: Uint8Array, random: Uint8Array): Promise<{ evaluated: Uint8Array; proof: Uint8Array }> {
    const r = await this.#send({ op: 'blindEvaluate', secretKey: key.secretKey, publicKey: key.publicKey, blinded, random });
    return { evaluated: r.evaluated!, proof: r.proof! };
  }

  #send(message: Record<string, unknown>, lane: Lane = 'normal'): Promise<Record<string, Uint8Array>> {
    if (this.#closed) return Promise.reject(new Error('the VOPRF pool is closed'));
    if (!this.#started) this.#start();
    if (lane === 'low' && this.#low.length >= LOW_LANE_MAX) return Promise.reject(new PoolBusyError('the low lane is full'));
    return new Promise((resolve, reject) => {
      (lane === 'low' ? this.#low : this.#normal).push({ message, pending: { resolve, reject } });
      this.#pump();
    });
  }

  /** Hand waiting work to the workers with room, the normal lane first. */
  #pump(): void {
    for (;;) {
      const lane = this.#normal.length > 0 ? this.#normal : this.#low;
      if (lane.length === 0) return;
      if (this.#workers.length === 0) {
        // No worker (size 0, none could start, or every one died): the work runs here.
        runInline(lane.shift()!);
        continue;
      }
      // The worker with the fewest tasks in hand, if it has room.
      const w = this.#workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
      if (w.pending.size >= IN_FLIGHT) return;
      const task = lane.shift()!;
      const id = this.#next++;
      if (w.pending.size === 0) w.worker.ref();
      w.pending.set(id, task.pending);
      w.outbox.push({ ...task.message, id });
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const closed = new Error('the VOPRF pool is closed');
    for (const t of [...this.#normal.splice(0), ...this.#low.splice(0)]) t.pending.reject(closed);
    for (const w of this.#workers) {
      for (const p of w.pending.values()) p.reject(closed);
      w.pending.clear();
    }
    await Promise.all(this.#workers.map((w) => w.worker.terminate()));
    this.#workers.length = 0;
  }
}

/** libsodium's curve work on this thread, each module loaded with its first task (see token-output.mjs). */
let inlineOutput: Promise<typeof import('./token-output.mjs')> | undefined;
let inlineEvaluation: Promise<typeof import('./blind-evaluate.mjs')> | undefined;

/** A task on this thread, as voprf.worker.mjs would run it. */
function runInline({ message: m, pending }: Task): void {
  const work: Promise<Record<string, Uint8Array>> =
    m.op === 'evaluate'
      ? (inlineOutput ??= import('./token-output.mjs')).then(({ tokenOutput }) => ({ output: tokenOutput(m.secretKey as Uint8Array, m.input as Uint8Array) }))
      : (inlineEvaluation ??= import('./blind-evaluate.mjs')).then(({ blindEvaluate }) =>
          blindEvaluate(m.secretKey as Uint8Array, m.publicKey as Uint8Array, m.blinded as Uint8Array, m.random as Uint8Array),
        );
  // A failed load, an input that maps to the identity (tokenOutput throws) or a malformed element
  // (blindEvaluate throws) refuses the task.
  work.then(pending.resolve, (e: unknown) => pending.reject(e instanceof Error ? e : new Error(String(e))));
}
