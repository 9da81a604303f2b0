/**
 * Messages to another thread, gathered per turn of the event loop and posted together: one
 * `postMessage` for everything the turn's synchronous code and promise callbacks sent. On two busy
 * cores every message wakes the other thread and costs the waker its core (bench/README.md, "The
 * database thread"), so a write batch's casts, or the token checks of the requests parsed in one turn,
 * travel as one message.
 *
 * The message goes out in a `process.nextTick`: queued from a promise callback, it runs once the
 * microtask queue is empty, after every continuation of this turn, so what they send joins the same
 * message; queued from synchronous code, it runs before the turn's promise callbacks, and what those send
 * makes a second message.
 *
 * `post` runs outside the caller's promise: it must settle the items itself when posting fails (a value
 * that cannot be copied to another thread), or they would wait for ever and the error would crash the
 * process.
 */
export class TurnOutbox<T> {
  #items: T[] = [];
  readonly #post: (items: T[]) => void;

  /** `post` gets the turn's items in the order they were pushed (never an empty list). */
  constructor(post: (items: T[]) => void) {
    this.#post = post;
  }

  push(item: T): void {
    this.#items.push(item);
    if (this.#items.length === 1) process.nextTick(() => this.#flush());
  }

  /** Forget what is not posted yet (its thread is gone: the caller fails those requests itself). */
  clear(): void {
    this.#items = [];
  }

  #flush(): void {
    const items = this.#items;
    if (items.length === 0) return;
    this.#items = [];
    this.#post(items);
  }
}
