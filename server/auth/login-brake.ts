/**
 * Brakes on wrong passwords and set-up codes. They are keyed on the client's address, never on the
 * account: wrong guesses from one machine slow that machine only, so nobody can keep an account out
 * by guessing at it, and the right password from any other machine is always checked at once.
 *
 * Per address: FREE wrong guesses cost nothing; after its n-th wrong guess (n ≥ FREE) the address must
 * wait BASE × 2^(n−FREE) before its next try, up to MAX. A right
 * password from the address clears its count; the count is forgotten FORGET after the last wrong guess.
 * Server-wide: while more than CEILING wrong guesses were made in the last hour (someone is guessing),
 * every address gets only FREE_UNDER_ATTACK free guesses. The arithmetic is in the README.
 */
export interface LoginBrakeOptions {
  free: number;
  freeUnderAttack: number;
  baseDelayMs: number;
  maxDelayMs: number;
  forgetMs: number;
  /** Wrong guesses in the last hour, over all addresses, above which the free allowance shrinks. */
  ceilingPerHour: number;
  /** Addresses remembered at most (the least recently wrong are forgotten first). */
  maxAddresses: number;
}

export const LOGIN_BRAKE: LoginBrakeOptions = {
  free: 5,
  freeUnderAttack: 2,
  baseDelayMs: 1000,
  maxDelayMs: 60 * 60_000,
  forgetMs: 24 * 60 * 60_000,
  ceilingPerHour: 30,
  maxAddresses: 50_000,
};

interface AddressState {
  wrong: number;
  lastWrongAt: number;
}

export type BrakeDecision = { ok: true } | { ok: false; retryAfterMs: number };

export class LoginBrake {
  readonly #o: LoginBrakeOptions;
  readonly #byAddress = new Map<string, AddressState>();
  /** Wrong guesses per minute over the last hour (server-wide): minute number → count. */
  readonly #minutes = new Map<number, number>();

  constructor(options: Partial<LoginBrakeOptions> = {}) {
    this.#o = { ...LOGIN_BRAKE, ...options };
  }

  /** May this address try now? A refusal says how long to wait; nothing about any account. */
  check(address: string, now: number): BrakeDecision {
    const s = this.#state(address, now);
    if (!s) return { ok: true };
    const beyond = s.wrong - this.#free(now);
    if (beyond < 0) return { ok: true };
    const wait = Math.min(this.#o.maxDelayMs, this.#o.baseDelayMs * 2 ** Math.min(beyond, 40));
    const ready = s.lastWrongAt + wait;
    return now >= ready ? { ok: true } : { ok: false, retryAfterMs: ready - now };
  }

  wrong(address: string, now: number): void {
    const s = this.#state(address, now) ?? { wrong: 0, lastWrongAt: now };
    s.wrong += 1;
    s.lastWrongAt = now;
    // Re-inserted at the end: the map's order is least recently wrong first.
    this.#byAddress.delete(address);
    this.#byAddress.set(address, s);
    while (this.#byAddress.size > this.#o.maxAddresses) this.#byAddress.delete(this.#byAddress.keys().next().value!);
    const minute = Math.floor(now / 60_000);
    this.#minutes.set(minute, (this.#minutes.get(minute) ?? 0) + 1);
  }

  right(address: string): void {
    this.#byAddress.delete(address);
  }

  /** Whether someone is guessing: more wrong guesses in the last hour than honest typing makes. */
  underAttack(now: number): boolean {
    const minute = Math.floor(now / 60_000);
    let total = 0;
    for (const [m, n] of this.#minutes) {
      if (m <= minute - 60) this.#minutes.delete(m);
      else total += n;
    }
    return total > this.#o.ceilingPerHour;
  }

  #free(now: number): number {
    return this.underAttack(now) ? this.#o.freeUnderAttack : this.#o.free;
  }

  #state(address: string, now: number): AddressState | undefined {
    const s = this.#byAddress.get(address);
    if (s && now - s.lastWrongAt >= this.#o.forgetMs) {
      this.#byAddress.delete(address);
      return undefined;
    }
    return s;
  }
}
