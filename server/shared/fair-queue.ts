/**
 * Runs async work one piece at a time, taking turns between keys (round robin): whoever floods the
 * queue under one key waits behind their own work, and a newcomer waits for at most one piece of
 * work per other key. A key may have at most `maxWaiting` pieces waiting; more is refused at once.
 */
export class FairQueue {
  readonly #maxWaiting: number;
  /** Keys in turn order (a Map keeps insertion order); each with its waiting work. */
  readonly #waiting = new Map<string, (() => Promise<void>)[]>();
  #running = false;

  constructor(maxWaiting = 2) {
    this.#maxWaiting = maxWaiting;
  }

  /** The work's result, or null (without running it) when the key already has maxWaiting pieces waiting. */
  run<T>(key: string, work: () => Promise<T>): Promise<T> | null {
    const queue = this.#waiting.get(key) ?? [];
    if (queue.length >= this.#maxWaiting) return null;
    const result = new Promise<T>((resolve, reject) => {
      queue.push(() => work().then(resolve, reject));
    });
    if (!this.#waiting.has(key)) this.#waiting.set(key, queue);
    void this.#pump();
    return result;
  }

  async #pump(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (;;) {
        const next = this.#waiting.entries().next();
        if (next.done) break;
        const [key, queue] = next.value;
        const piece = queue.shift()!;
        // The key goes to the back of the turn order, or leaves it when it has nothing more waiting.
        this.#waiting.delete(key);
        if (queue.length > 0) this.#waiting.set(key, queue);
        await piece();
      }
    } finally {
      this.#running = false;
    }
  }
}
