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
 * Posting runs outside the caller's promise: when it throws (a value that cannot be copied to another
 * thread, no thread to post to), `fail` gets the message's items, to settle each; the error goes no
 * further, so it cannot end the process and the other turns' messages go on.
 */
export class TurnOutbox<T> {
  #items: T[] = [];
  readonly #post: (items: T[]) => void;
  readonly #fail: (items: T[], error: Error) => void;

  /** `post` gets the turn's items in the order they were pushed (never an empty list). */
  constructor(post: (items: T[]) => void, fail: (items: T[], error: Error) => void) {
    this.#post = post;
    this.#fail = fail;
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
    try {
      this.#post(items);
    } catch (e) {
      this.#fail(items, e instanceof Error ? e : new Error(String(e)));
    }
  }
}
