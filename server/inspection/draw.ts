import { createHash } from 'node:crypto';

/**
 * The talk draw (个别谈话抽签), reproducible by anyone: the same seed, meeting identity and pool give
 * the same names, here and in `npx ceping draw`. Pure (no I/O, no clock, no ambient randomness).
 *
 * 1. The seed is what the team announced (e.g. the serial number of a banknote): Unicode NFKC, all
 *    white space removed, letters upper-cased.
 * 2. The pool is the candidates' names, each NFC-normalised and trimmed, sorted by Unicode code
 *    point (duplicates kept), so the order in which names were typed does not matter.
 * 3. A byte stream: block i = SHA-256 of the UTF-8 text "ceping-draw/1\n<identity>\n<seed>\n<i>"
 *    (i = 0, 1, 2, … in decimal), read as big-endian unsigned 32-bit numbers, blocks in order.
 * 4. A Fisher–Yates shuffle of the pool, stopped after `count` steps: step i (from 0) takes the next
 *    number x from the stream, rejecting x ≥ 2^32 − (2^32 mod m) with m = poolSize − i, and swaps
 *    place i with place i + (x mod m). The first `count` places are the draw.
 * Drawing more later (the same seed, a larger count) keeps the first names and appends new ones.
 */

export const DRAW_VERSION = 'ceping-draw/1';
export const SEED_MIN = 4;
export const SEED_MAX = 64;

export function normalizeSeed(input: string): string {
  return input.normalize('NFKC').replace(/\s+/gu, '').toUpperCase();
}

/** Why a typed seed cannot be used, in words for the team; null when it can. */
export function seedProblem(input: string): string | null {
  const seed = normalizeSeed(input);
  if (seed.length === 0) return '请输入抽签种子（例如现场宣读的一张纸币的编号）';
  if ([...seed].length < SEED_MIN) return `抽签种子至少需要 ${SEED_MIN} 个字符`;
  if ([...seed].length > SEED_MAX) return `抽签种子不能超过 ${SEED_MAX} 个字符`;
  return null;
}

export function normalizeName(name: string): string {
  return name.normalize('NFC').trim();
}

function byCodePoint(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** The pool in its one canonical order. */
export function canonicalPool(names: readonly string[]): string[] {
  return names.map(normalizeName).filter((n) => n !== '').sort(byCodePoint);
}

/** A short check value of a pool, printed on the list so anyone retyping the names can see they match. */
export function poolDigest(names: readonly string[]): string {
  const hex = createHash('sha256').update(canonicalPool(names).join('\n'), 'utf8').digest('hex').slice(0, 16).toUpperCase();
  return hex.match(/.{4}/g)!.join(' ');
}

/** The meeting's identity as the draw uses it: township/year/unit/meeting number. */
export function meetingIdentity(m: { township: string; year: number; unitName: string; meetingId: number }): string {
  return `${m.township}/${m.year}/${m.unitName}/${m.meetingId}`.normalize('NFC');
}

class DrawStream {
  #block = 0;
  #words: number[] = [];
  readonly #prefix: string;

  constructor(identity: string, seed: string) {
    this.#prefix = `${DRAW_VERSION}\n${identity}\n${seed}\n`;
  }

  next(): number {
    if (this.#words.length === 0) {
      const digest = createHash('sha256').update(`${this.#prefix}${this.#block++}`, 'utf8').digest();
      for (let i = 0; i < digest.length; i += 4) this.#words.push(digest.readUInt32BE(i));
    }
    return this.#words.shift()!;
  }

  /** A uniform integer in [0, m), by rejection (no modulo bias). */
  below(m: number): number {
    const limit = 2 ** 32 - (2 ** 32 % m);
    for (;;) {
      const x = this.next();
      if (x < limit) return x % m;
    }
  }
}

export interface DrawInput {
  /** As typed; normalised here. */
  seed: string;
  identity: string;
  pool: readonly string[];
  count: number;
}

/** The drawn names, in draw order: min(count, pool size) of them. */
export function drawNames(input: DrawInput): string[] {
  const seed = normalizeSeed(input.seed);
  const a = canonicalPool(input.pool);
  const n = Math.max(0, Math.min(Math.floor(input.count), a.length));
  const stream = new DrawStream(input.identity.normalize('NFC'), seed);
  for (let i = 0; i < n; i++) {
    const j = i + stream.below(a.length - i);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, n);
}
