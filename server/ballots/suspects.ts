/**
 * Senders (address keys) whose token lately failed its check, each until `holdMs` after its last failure:
 * their next token checks wait in the VOPRF pool's low lane (casting.ts). At most `max` are held; past
 * that the expired go first, then the longest-held. Only addresses of failed tokens are ever held.
 */
export class SuspectSenders {
  readonly #until = new Map<string, number>();

  constructor(
    readonly holdMs = 10 * 60_000,
    readonly max = 10_000,
  ) {}

  get size(): number {
    return this.#until.size;
  }

  /** Whether `sender`'s checks go to the low lane at `now`. */
  isSuspect(sender: string, now: number): boolean {
    return (this.#until.get(sender) ?? 0) > now;
  }

  /** `sender`'s token failed its check at `now`. */
  mark(sender: string, now: number): void {
    // No address (the socket was gone before it was read): nobody to hold, and holding "nobody" would hold every such sender.
    if (sender === '') return;
    if (!this.#until.has(sender) && this.#until.size >= this.max) {
      for (const [k, until] of this.#until) if (until <= now) this.#until.delete(k);
      // Still full: forget the longest-held.
      for (const k of this.#until.keys()) {
        if (this.#until.size < this.max) break;
        this.#until.delete(k);
      }
    }
    // Re-inserted, so the map's order stays the order of last failures.
    this.#until.delete(sender);
    this.#until.set(sender, now + this.holdMs);
  }
}
