import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { voprf, type MeetingKey } from './voprf.ts';

/** Bytes of randomness a proof takes (noble draws a scalar from 48 bytes for ristretto255). */
export const PROOF_RANDOM_BYTES = 48;

interface Pending {
  resolve: (v: Record<string, Uint8Array>) => void;
  reject: (e: Error) => void;
}

/**
 * The curve work (1–4 ms per evaluation in JavaScript) in a few worker threads, so a hall of phones
 * redeeming and casting at once keeps every core busy and the event loop free for sockets and the live
 * feed. Sized to the machine: one worker per core but one (the main thread has the sockets and the
 * database), at least one. With `size: 0` (or when a worker cannot start) the work runs inline.
 */
export class VoprfPool {
  readonly #workers: { worker: Worker; pending: Map<number, Pending> }[] = [];
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
        const worker = new Worker(new URL('./voprf.worker.mjs', import.meta.url));
        const pending = new Map<number, Pending>();
        worker.on('message', (m: { id: number; error?: string } & Record<string, Uint8Array>) => {
          const p = pending.get(m.id);
          if (!p) return;
          pending.delete(m.id);
          if (pending.size === 0) worker.unref();
          if (m.error) p.reject(new Error(m.error));
          else p.resolve(m);
        });
        worker.on('error', (e) => {
          for (const p of pending.values()) p.reject(e);
          pending.clear();
          worker.unref();
        });
        // Idle workers do not keep the process alive; a worker with work in hand does (#send), or a
        // script awaiting a redemption with nothing else open would end with exit code 13 mid-await.
        worker.unref();
        this.#workers.push({ worker, pending });
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
  async evaluate(secretKey: Uint8Array, input: Uint8Array): Promise<Uint8Array> {
    if (this.size === 0) return voprf.evaluate(secretKey, input);
    return (await this.#send({ op: 'evaluate', secretKey, input })).output!;
  }

  /** The evaluation of a blinded element and its proof; `random` (PROOF_RANDOM_BYTES) makes the proof. */
  async blindEvaluate(key: MeetingKey, blinded: Uint8Array, random: Uint8Array): Promise<{ evaluated: Uint8Array; proof: Uint8Array }> {
    if (this.size === 0) return voprf.blindEvaluate(key.secretKey, key.publicKey, blinded, () => random);
    const r = await this.#send({ op: 'blindEvaluate', secretKey: key.secretKey, publicKey: key.publicKey, blinded, random });
    return { evaluated: r.evaluated!, proof: r.proof! };
  }

  #send(task: Record<string, unknown>): Promise<Record<string, Uint8Array>> {
    if (this.#closed) return Promise.reject(new Error('the VOPRF pool is closed'));
    // The worker with the fewest tasks waiting.
    const w = this.#workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      if (w.pending.size === 0) w.worker.ref();
      w.pending.set(id, { resolve, reject });
      w.worker.postMessage({ ...task, id });
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#workers.map((w) => w.worker.terminate()));
    this.#workers.length = 0;
  }
}
