/**
 * The brake on guessing typed short codes. A short code is 7 random symbols of 31 plus a check symbol
 * (31^7 ≈ 2.75 × 10^10 codes), so only the number of guesses matters. The brake slows wrong guesses; it
 * never refuses a right code because of someone else's wrong ones:
 *
 * - each address may miss `perAddress` times a minute; after that its typed codes are taken one at a
 *   time, `delayMs` apart (a right code from that address still gets through, later);
 * - when the whole server has missed `serverCeiling` times in a minute, every address with a miss of its
 *   own is slowed the same way — an address that never missed (an honest phone on the hall Wi-Fi, with
 *   its own address) is never slowed;
 * - an address with `maxWaiting` codes already waiting is told to slow down (429).
 *
 * QR codes carry a 128-bit secret and never pass through here. The phone page checks the check symbol
 * before sending, so honest typos rarely reach the server. README: "Guessing a short code".
 */
export interface BrakeOptions {
  perAddress: number;
  serverCeiling: number;
  windowMs: number;
  delayMs: number;
  maxWaiting: number;
}

export const DEFAULT_BRAKE: BrakeOptions = { perAddress: 10, serverCeiling: 300, windowMs: 60_000, delayMs: 6_000, maxWaiting: 20 };

interface AddressState {
  misses: number[];
  /** When this address may next be answered (its slowed requests are spaced delayMs apart). */
  nextSlot: number;
  waiting: number;
}

export class ShortCodeBrake {
  readonly #o: BrakeOptions;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #addresses = new Map<string, AddressState>();
  #serverMisses: number[] = [];

  constructor(o: Partial<BrakeOptions> = {}, now: () => number = () => Date.now(), sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref())) {
    this.#o = { ...DEFAULT_BRAKE, ...o };
    this.#now = now;
    this.#sleep = sleep;
  }

  /**
   * Before a typed code from `address` is looked up: waits while the address is slowed; false when it
   * already has too many codes waiting (the caller answers 429).
   */
  async admit(address: string): Promise<boolean> {
    const now = this.#now();
    const a = this.#state(address, now);
    if (!this.#slowed(a, now)) return true;
    if (a.waiting >= this.#o.maxWaiting) return false;
    const at = Math.max(now, a.nextSlot);
    a.nextSlot = at + this.#o.delayMs;
    a.waiting += 1;
    try {
      await this.#sleep(at - now);
    } finally {
      a.waiting -= 1;
    }
    return true;
  }

  /** A typed code from `address` matched no ticket. */
  miss(address: string): void {
    const now = this.#now();
    this.#state(address, now).misses.push(now);
    this.#serverMisses.push(now);
  }

  /** Whether this address's next typed code would wait (for tests and the README's arithmetic). */
  slowed(address: string): boolean {
    const now = this.#now();
    return this.#slowed(this.#state(address, now), now);
  }

  #slowed(a: AddressState, now: number): boolean {
    if (a.misses.length === 0) return false;
    if (a.misses.length >= this.#o.perAddress) return true;
    this.#serverMisses = this.#serverMisses.filter((t) => t > now - this.#o.windowMs);
    return this.#serverMisses.length >= this.#o.serverCeiling;
  }

  #state(address: string, now: number): AddressState {
    // Forget quiet addresses, so the map does not grow with every phone that ever typed a code.
    if (this.#addresses.size > 10_000) {
      for (const [k, v] of this.#addresses) if (v.waiting === 0 && v.misses.every((t) => t <= now - this.#o.windowMs)) this.#addresses.delete(k);
    }
    let a = this.#addresses.get(address);
    if (!a) this.#addresses.set(address, (a = { misses: [], nextSlot: 0, waiting: 0 }));
    a.misses = a.misses.filter((t) => t > now - this.#o.windowMs);
    return a;
  }
}
