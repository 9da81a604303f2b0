/**
 * A part of the page that arrives as a chunk of its own (the ballot steps, the receipt check), so the
 * first screen downloads only what it shows. The chunk is fetched once the first screen is up (see
 * main.ts) and again on demand; a hall's Wi-Fi drops requests, so a failed fetch is tried again on its
 * own a few times before the page says so and offers a button (the screen that needs it waits meanwhile).
 */
export interface LazyOptions {
  /** Waits before the automatic second and later tries. */
  retryMs?: number[];
  /** What the button does when a try by hand fails as well: an old WebView keeps a failed module import
   *  for the life of the page, so only a reload fetches it again. Everything the voter did is on the
   *  phone (the draft and the token are in storage), and the page comes back where it was. */
  reload?: () => void;
}

export class LazyModule<T> {
  /** The loaded module, or null until it is there. */
  module: T | null = $state.raw(null);
  /** Every try so far failed: the screen that needs it shows the failure and a button. */
  failed = $state(false);

  readonly #import: () => Promise<T>;
  readonly #retryMs: number[];
  readonly #reload: () => void;
  #loading: Promise<T | null> | null = null;

  constructor(load: () => Promise<T>, options: LazyOptions = {}) {
    this.#import = load;
    this.#retryMs = options.retryMs ?? [1000, 3000];
    this.#reload = options.reload ?? (() => location.reload());
  }

  /** Fetch the chunk (once; a call while it is on its way waits for the same try). Null when it failed. */
  load(): Promise<T | null> {
    if (this.module) return Promise.resolve(this.module);
    if (!this.#loading) {
      this.failed = false;
      this.#loading = this.#tries(0).then((m) => {
        this.#loading = null;
        if (m) this.module = m;
        else this.failed = true;
        return m;
      });
    }
    return this.#loading;
  }

  /** The voter pressed the button: one more try, and a reload of the page if that fails too. */
  async retry(): Promise<void> {
    this.failed = false;
    this.#loading = null;
    const m = await this.#once();
    if (m) {
      this.module = m;
      return;
    }
    this.#reload();
  }

  async #tries(attempt: number): Promise<T | null> {
    const m = await this.#once();
    if (m || attempt >= this.#retryMs.length) return m;
    await new Promise((resolve) => setTimeout(resolve, this.#retryMs[attempt]));
    return this.#tries(attempt + 1);
  }

  #once(): Promise<T | null> {
    return this.#import().then(
      (m) => m,
      () => null,
    );
  }
}
