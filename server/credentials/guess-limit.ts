/**
 * The brake on guessing typed short codes. A short code is 7 random symbols of 31 plus a check symbol
 * (31^7 ≈ 2.75 × 10^10 codes), so only the number of guesses matters. The brake slows wrong guesses; it
 * never refuses a right code because of someone else's wrong ones:
 *
 * - each address may miss `perAddress` times a minute; after that its typed codes are taken one at a
 *   time, `delayMs` apart (a right code from that address still gets through, later);
 * - once the whole server has missed `serverCeiling` times in a minute, the hall is under attack until
 *   `memoryMs` after the last miss. Meanwhile every address that missed within `memoryMs` (and, on IPv6,
 *   every address of a /64 in which `prefixSpread` addresses missed) waits in one shared lane: the lane
 *   answers one typed code every `laneMs` for the whole server, taking the waiting addresses in turn, so
 *   a hall full of guessing addresses gets no more guesses than one does. An address that never missed
 *   (an honest phone, with its own address) is never slowed;
 * - an address with `maxWaiting` codes already waiting is told to slow down (429).
 *
 * QR codes carry a 128-bit secret and never pass through here. The phone page checks the check symbol
 * before sending, so honest typos rarely reach the server. README: "Guessing a short code".
 */
import { clientAddress } from '../net.ts';

export interface BrakeOptions {
  perAddress: number;
  serverCeiling: number;
  windowMs: number;
  delayMs: number;
  laneMs: number;
  memoryMs: number;
  prefixSpread: number;
  maxWaiting: number;
}

export const DEFAULT_BRAKE: BrakeOptions = {
  perAddress: 10,
  serverCeiling: 30,
  windowMs: 60_000,
  delayMs: 6_000,
  laneMs: 2_000,
  memoryMs: 3_600_000,
  prefixSpread: 8,
  maxWaiting: 20,
};

interface AddressState {
  misses: number[];
  /** The last miss, remembered for memoryMs: while the hall is under attack such an address waits in the lane. */
  lastMiss: number;
  /** When this address may next be answered outside the lane (its slowed requests are spaced delayMs apart). */
  nextSlot: number;
  waiting: number;
}

export class ShortCodeBrake {
  readonly #o: BrakeOptions;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #addresses = new Map<string, AddressState>();
  /** IPv6 /64 → its addresses that missed, with their last miss. */
  readonly #prefixes = new Map<string, Map<string, number>>();
  #serverMisses: number[] = [];
  #attackUntil = 0;
  /** The shared lane: each waiting address with its queue, in turn order (a served address goes to the back). */
  readonly #lane = new Map<string, (() => void)[]>();
  #laneNext = 0;
  #laneRunning = false;

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
    const { key, prefix } = clientAddress(address);
    const a = this.#state(key, now);
    const lane = this.#inLane(a, prefix, now);
    if (!lane && a.misses.length < this.#o.perAddress) return true;
    if (a.waiting >= this.#o.maxWaiting) return false;
    a.waiting += 1;
    try {
      if (lane) await this.#laneTurn(key);
      else {
        const at = Math.max(now, a.nextSlot);
        a.nextSlot = at + this.#o.delayMs;
        await this.#sleep(at - now);
      }
    } finally {
      a.waiting -= 1;
    }
    return true;
  }

  /** A typed code from `address` matched no ticket. */
  miss(address: string): void {
    const now = this.#now();
    const { key, prefix } = clientAddress(address);
    const a = this.#state(key, now);
    a.misses.push(now);
    a.lastMiss = now;
    if (prefix !== null) {
      let p = this.#prefixes.get(prefix);
      if (!p) this.#prefixes.set(prefix, (p = new Map()));
      p.set(key, now);
    }
    this.#serverMisses = this.#serverMisses.filter((t) => t > now - this.#o.windowMs);
    this.#serverMisses.push(now);
    if (this.#serverMisses.length >= this.#o.serverCeiling || now < this.#attackUntil) this.#attackUntil = now + this.#o.memoryMs;
  }

  /** Whether this address's next typed code would wait (for tests and the README's arithmetic). */
  slowed(address: string): boolean {
    const now = this.#now();
    const { key, prefix } = clientAddress(address);
    const a = this.#state(key, now);
    return a.misses.length >= this.#o.perAddress || this.#inLane(a, prefix, now);
  }

  /** Whether the server is under attack (past the ceiling, until memoryMs after the last miss). */
  underAttack(): boolean {
    return this.#now() < this.#attackUntil;
  }

  #inLane(a: AddressState, prefix: string | null, now: number): boolean {
    if (now >= this.#attackUntil) return false;
    if (a.lastMiss > now - this.#o.memoryMs) return true;
    if (prefix === null) return false;
    const p = this.#prefixes.get(prefix);
    if (!p || p.size < this.#o.prefixSpread) return false;
    let recent = 0;
    for (const [k, t] of p) {
      if (t > now - this.#o.memoryMs) recent += 1;
      else p.delete(k);
    }
    return recent >= this.#o.prefixSpread;
  }

  /** Wait for this address's turn in the shared lane. */
  #laneTurn(key: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const q = this.#lane.get(key);
      if (q) q.push(resolve);
      else this.#lane.set(key, [resolve]);
      if (!this.#laneRunning) void this.#runLane();
    });
  }

  async #runLane(): Promise<void> {
    this.#laneRunning = true;
    try {
      while (this.#lane.size > 0) {
        const wait = this.#laneNext - this.#now();
        if (wait > 0) await this.#sleep(wait);
        const [key, q] = this.#lane.entries().next().value as [string, (() => void)[]];
        this.#lane.delete(key);
        const release = q.shift()!;
        if (q.length > 0) this.#lane.set(key, q);
        this.#laneNext = this.#now() + this.#o.laneMs;
        release();
      }
    } finally {
      this.#laneRunning = false;
    }
  }

  #state(key: string, now: number): AddressState {
    // Forget quiet addresses, so the map does not grow with every phone that ever typed a code.
    if (this.#addresses.size > 10_000) {
      for (const [k, v] of this.#addresses) if (v.waiting === 0 && v.lastMiss <= now - this.#o.memoryMs) this.#addresses.delete(k);
      for (const [k, p] of this.#prefixes) {
        for (const [addr, t] of p) if (t <= now - this.#o.memoryMs) p.delete(addr);
        if (p.size === 0) this.#prefixes.delete(k);
      }
    }
    let a = this.#addresses.get(key);
    if (!a) this.#addresses.set(key, (a = { misses: [], lastMiss: -Infinity, nextSlot: 0, waiting: 0 }));
    a.misses = a.misses.filter((t) => t > now - this.#o.windowMs);
    return a;
  }
}
