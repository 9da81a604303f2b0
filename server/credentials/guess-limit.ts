/**
 * A server-wide brake on wrong short codes. A short code is 34 random bits, so it must not be
 * guessable at request speed; a per-code or per-address limit would not stop that (every guess is a
 * new code; a hall shares one address). The phone page checks the check symbol before sending, so
 * honest typos rarely reach the server: a few dozen misses a minute is already unusual.
 */
export class ShortCodeGuessLimit {
  readonly #max: number;
  readonly #windowMs: number;
  #misses: number[] = [];

  constructor(maxMissesPerWindow = 60, windowMs = 60_000) {
    this.#max = maxMissesPerWindow;
    this.#windowMs = windowMs;
  }

  #prune(now: number): void {
    while (this.#misses.length > 0 && this.#misses[0]! <= now - this.#windowMs) this.#misses.shift();
  }

  blocked(now: number): boolean {
    this.#prune(now);
    return this.#misses.length >= this.#max;
  }

  miss(now: number): void {
    this.#prune(now);
    this.#misses.push(now);
  }
}
