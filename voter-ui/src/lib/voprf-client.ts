/**
 * The phone's half of the two-phase credential: RFC 9497 VOPRF (mode 0x01), ristretto255-SHA512, blind
 * and finalize only. The server keeps @noble/curves (server/credentials/voprf.ts); the phone page carries
 * this instead because it is a tenth of the size (about 3 KB gzipped against 15 KB: noble's generic
 * curve, field and OPRF code is most of what a phone downloads before its first ballot screen).
 *
 * Written from the specifications, step by step and with their names: RFC 9496 (ristretto255: decode
 * §4.3.1, encode §4.3.2, element derivation §4.3.4), RFC 9380 §5.3.1 (expand_message_xmd) and RFC 9497
 * (Blind, Finalize, VerifyProof, ComputeComposites). tests/unit/voprf-client.test.ts checks it against
 * the RFC 9497 test vectors, against node:crypto's SHA-512, and against noble (the server's code) on
 * random inputs, keys and tampered replies.
 *
 * Like noble, this is BigInt arithmetic and not constant-time; the secret here is the blind, which
 * never leaves the phone and is used twice (blind, unblind) within a second of being drawn.
 * BigInt literals (1n) are newer syntax than the page's target: every constant is made with BigInt().
 */
type Bytes = Uint8Array;
/** A point in extended coordinates (X : Y : Z : T), x = X/Z, y = Y/Z, x·y = T/Z. */
type Point = [bigint, bigint, bigint, bigint];

const big = BigInt;
const _0 = big(0);
const _1 = big(1);
const _2 = big(2);
const _8 = big(8);
const _255 = big(255);

// ---------------------------------------------------------------- numbers and bytes

/** Little-endian bytes to a number. */
function numLE(b: Bytes): bigint {
  let n = _0;
  for (let i = b.length - 1; i >= 0; i--) n = (n << _8) | big(b[i]!);
  return n;
}

/** A number below 2^256 to 32 little-endian bytes. */
function bytesLE(n: bigint): Bytes {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, n >>= _8) out[i] = Number(n & _255);
  return out;
}

function concat(...parts: (Bytes | number[])[]): Bytes {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const ascii = (s: string): Bytes => Uint8Array.from(s.split('').map((c) => c.charCodeAt(0)));
/** I2OSP(len(b), 2) || b */
const withLength = (b: Bytes): Bytes => concat([b.length >> 8, b.length & 255], b);

// ---------------------------------------------------------------- SHA-512 (FIPS 180-4)

const MASK64 = (_1 << big(64)) - _1;

/** ⌊n^(1/k)⌋ for k = 2 or 3, by Newton's method from above. */
function iroot(n: bigint, k: number): bigint {
  const K = big(k);
  let x = _1 << (big(n.toString(2).length) / K + _1);
  for (;;) {
    const y = ((K - _1) * x + n / (k === 2 ? x : x * x)) / K;
    if (y >= x) return x;
    x = y;
  }
}

/** The first 80 primes; SHA-512's constants are the fractional parts of their square and cube roots. */
const PRIMES: number[] = [];
for (let n = 2; PRIMES.length < 80; n++) if (PRIMES.every((p) => n % p !== 0)) PRIMES.push(n);
const SHA_IV = PRIMES.slice(0, 8).map((p) => iroot(big(p) << big(128), 2) & MASK64);
const SHA_K = PRIMES.map((p) => iroot(big(p) << big(192), 3) & MASK64);

const rotr = (x: bigint, n: number) => (x >> big(n)) | ((x << big(64 - n)) & MASK64);

export function sha512(msg: Bytes): Bytes {
  const len = msg.length;
  const data = new Uint8Array(((len + 17 + 127) >> 7) << 7);
  data.set(msg);
  data[len] = 0x80;
  // The length in bits, big-endian, in the last bytes (a message here is never 2^53 bits long).
  for (let i = 0, bits = big(len) * _8; i < 8; i++, bits >>= _8) data[data.length - 1 - i] = Number(bits & _255);
  let h = SHA_IV.slice();
  const w: bigint[] = [];
  for (let at = 0; at < data.length; at += 128) {
    for (let t = 0; t < 16; t++) {
      let x = _0;
      for (let j = 0; j < 8; j++) x = (x << _8) | big(data[at + t * 8 + j]!);
      w[t] = x;
    }
    for (let t = 16; t < 80; t++) {
      const a = w[t - 15]!;
      const b = w[t - 2]!;
      w[t] = ((rotr(b, 19) ^ rotr(b, 61) ^ (b >> big(6))) + w[t - 7]! + (rotr(a, 1) ^ rotr(a, 8) ^ (a >> big(7))) + w[t - 16]!) & MASK64;
    }
    let [a, b, c, d, e, f, g, k] = h as [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];
    for (let t = 0; t < 80; t++) {
      const t1 = (k + (rotr(e, 14) ^ rotr(e, 18) ^ rotr(e, 41)) + ((e & f) ^ (~e & g)) + SHA_K[t]! + w[t]!) & MASK64;
      const t2 = ((rotr(a, 28) ^ rotr(a, 34) ^ rotr(a, 39)) + ((a & b) ^ (a & c) ^ (b & c))) & MASK64;
      k = g;
      g = f;
      f = e;
      e = (d + t1) & MASK64;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) & MASK64;
    }
    h = [a, b, c, d, e, f, g, k].map((x, i) => (x + h[i]!) & MASK64);
  }
  const out = new Uint8Array(64);
  h.forEach((x, i) => {
    for (let j = 7; j >= 0; j--, x >>= _8) out[i * 8 + j] = Number(x & _255);
  });
  return out;
}

/** RFC 9380 §5.3.1 expand_message_xmd with SHA-512, for 64 bytes (one block: ell = 1). */
function expand64(msg: Bytes, dst: Bytes): Bytes {
  const dstPrime = concat(dst, [dst.length]);
  const b0 = sha512(concat(new Uint8Array(128), msg, [0, 64, 0], dstPrime));
  return sha512(concat(b0, [1], dstPrime));
}

// ---------------------------------------------------------------- the field and the group (RFC 9496)

const P = (_1 << _255) - big(19);
/** The group's order. */
export const L = (_1 << big(252)) + big('27742317777372353535851937790883648493');
const D = big('37095705934669439343138083508754565189542113879843219016388785533085940283555');
const SQRT_M1 = big('19681161376707505956807079304988542015446066515923890162744021073123829784752');
const SQRT_AD_MINUS_ONE = big('25063068953384623474111414158702152701244531502492656460079210482610430750235');
const INVSQRT_A_MINUS_D = big('54469307008909316920995813868745141605393597292927456921205312896311721017578');
const ONE_MINUS_D_SQ = big('1159843021668779879193775521855586647937357759715417654439879720876111806838');
const D_MINUS_ONE_SQ = big('40440834346308536858101042469323190826248399146238708352240133220865137265952');

function mod(a: bigint, m = P): bigint {
  const r = a % m;
  return r < _0 ? r + m : r;
}

function pow(b: bigint, e: bigint, m = P): bigint {
  let r = _1;
  for (b = mod(b, m); e > _0; e >>= _1, b = (b * b) % m) if (e & _1) r = (r * b) % m;
  return r;
}

const isNegative = (x: bigint) => (mod(x) & _1) === _1;
const abs = (x: bigint) => (isNegative(x) ? mod(-x) : mod(x));

/** SQRT_RATIO_M1(u, v): [u/v is a square, the non-negative root of u/v or of SQRT_M1·u/v]. */
function sqrtRatio(u: bigint, v: bigint): [boolean, bigint] {
  u = mod(u);
  const v3 = mod(v * v * v);
  const v7 = mod(v3 * v3 * v);
  let r = mod(u * v3 * pow(u * v7, (P - big(5)) / _8));
  const check = mod(v * r * r);
  const correct = check === u;
  const flipped = check === mod(-u);
  const flippedI = check === mod(-u * SQRT_M1);
  if (flipped || flippedI) r = mod(r * SQRT_M1);
  return [correct || flipped, abs(r)];
}

const D2 = mod(_2 * D);
const ZERO: Point = [_0, _1, _1, _0];

/** Point addition on -x² + y² = 1 + d·x²·y² ("add-2008-hwcd-3"; complete, so it doubles too). */
export function add([X1, Y1, Z1, T1]: Point, [X2, Y2, Z2, T2]: Point): Point {
  const A = mod((Y1 - X1) * (Y2 - X2));
  const B = mod((Y1 + X1) * (Y2 + X2));
  const C = mod(T1 * D2 * T2);
  const Dd = mod(Z1 * _2 * Z2);
  const E = B - A;
  const F = Dd - C;
  const G = Dd + C;
  const H = B + A;
  return [mod(E * F), mod(G * H), mod(F * G), mod(E * H)];
}

/** n·p for 0 ≤ n < 2^256, four bits at a time: the same additions whatever n's bits (0·p is added too). */
export function mul(p: Point, n: bigint): Point {
  const table: Point[] = [ZERO, p];
  for (let i = 2; i < 16; i++) table.push(add(table[i - 1]!, p));
  let r = ZERO;
  for (let i = 252; i >= 0; i -= 4) {
    for (let j = 0; j < 4; j++) r = add(r, r);
    r = add(r, table[Number((n >> big(i)) & big(15))]!);
  }
  return r;
}

/** The identity: ristretto255 equality with (0, 1) is X = 0 or Y = 0. */
const isIdentity = ([X, Y]: Point) => mod(X) === _0 || mod(Y) === _0;

/** RFC 9496 §4.3.1: canonical bytes to an element; throws on anything else. */
export function decode(b: Bytes): Point {
  const s = numLE(b);
  if (b.length !== 32 || s >= P || isNegative(s)) throw new Error('invalid ristretto255 encoding');
  const ss = mod(s * s);
  const u1 = mod(_1 - ss);
  const u2 = mod(_1 + ss);
  const u2sq = mod(u2 * u2);
  const v = mod(-(D * u1 * u1) - u2sq);
  const [wasSquare, invsqrt] = sqrtRatio(_1, v * u2sq);
  const denX = mod(invsqrt * u2);
  const denY = mod(invsqrt * denX * v);
  const x = abs(_2 * s * denX);
  const y = mod(u1 * denY);
  const t = mod(x * y);
  if (!wasSquare || isNegative(t) || y === _0) throw new Error('invalid ristretto255 encoding');
  return [x, y, _1, t];
}

/** RFC 9496 §4.3.2: an element to its canonical 32 bytes. */
export function encode([x0, y0, z0, t0]: Point): Bytes {
  const u1 = mod((z0 + y0) * (z0 - y0));
  const u2 = mod(x0 * y0);
  const [, invsqrt] = sqrtRatio(_1, u1 * u2 * u2);
  const den1 = mod(invsqrt * u1);
  const den2 = mod(invsqrt * u2);
  const zInv = mod(den1 * den2 * t0);
  const rotate = isNegative(t0 * zInv);
  const x = rotate ? mod(y0 * SQRT_M1) : x0;
  let y = rotate ? mod(x0 * SQRT_M1) : y0;
  const denInv = rotate ? mod(den1 * INVSQRT_A_MINUS_D) : den2;
  if (isNegative(x * zInv)) y = mod(-y);
  return bytesLE(abs(denInv * (z0 - y)));
}

/** RFC 9496 §4.3.4 MAP: a field element to a group element. */
function map(t: bigint): Point {
  const r = mod(SQRT_M1 * t * t);
  const u = mod((r + _1) * ONE_MINUS_D_SQ);
  const v = mod((-_1 - r * D) * (r + D));
  let [wasSquare, s] = sqrtRatio(u, v);
  const sPrime = mod(-abs(s * t));
  if (!wasSquare) s = sPrime;
  const c = wasSquare ? mod(-_1) : r;
  const N = mod(c * (r - _1) * D_MINUS_ONE_SQ - v);
  const w0 = mod(_2 * s * v);
  const w1 = mod(N * SQRT_AD_MINUS_ONE);
  const w2 = mod(_1 - s * s);
  const w3 = mod(_1 + s * s);
  return [mod(w0 * w3), mod(w2 * w1), mod(w1 * w3), mod(w0 * w2)];
}

const MAX255 = (_1 << _255) - _1;
/** RFC 9496 §4.3.4: 64 uniform bytes to an element (each half masked to 255 bits, reduced, mapped). */
const fromUniform = (b: Bytes): Point => add(map(mod(numLE(b.subarray(0, 32)) & MAX255)), map(mod(numLE(b.subarray(32, 64)) & MAX255)));

/** The generator: y = 4/5, x the non-negative root. */
const BASE_Y = mod(big(4) * pow(big(5), P - _2));
export const BASE: Point = (() => {
  const x = sqrtRatio(BASE_Y * BASE_Y - _1, D * BASE_Y * BASE_Y + _1)[1];
  return [x, BASE_Y, _1, mod(x * BASE_Y)];
})();

// ---------------------------------------------------------------- the VOPRF (RFC 9497, mode 0x01)

const CONTEXT = ascii('OPRFV1-\u0001-ristretto255-SHA512');
const GROUP_DST = concat(ascii('HashToGroup-'), CONTEXT);
const SCALAR_DST = concat(ascii('HashToScalar-'), CONTEXT);

export const hashToGroup = (msg: Bytes): Point => fromUniform(expand64(msg, GROUP_DST));
const hashToScalar = (msg: Bytes): bigint => mod(numLE(expand64(msg, SCALAR_DST)), L);

/** DeserializeElement: canonical, and not the identity. */
function element(b: Bytes): Point {
  const p = decode(b);
  if (isIdentity(p)) throw new Error('identity element');
  return p;
}

/** DeserializeScalar: 32 little-endian bytes below the order. */
function scalar(b: Bytes): bigint {
  const n = numLE(b);
  if (b.length !== 32 || n >= L) throw new Error('invalid scalar');
  return n;
}

function checkInput(input: Bytes): Bytes {
  if (input.length > 0xffff) throw new Error('input too long');
  return input;
}

/** Blind(input) with a given blind scalar (the tests' vectors); `blindInput` draws one. */
export function blindWith(input: Bytes, blind: bigint): { blind: Bytes; blinded: Bytes } {
  const p = hashToGroup(checkInput(input));
  if (isIdentity(p)) throw new Error('input maps to the identity');
  return { blind: bytesLE(blind), blinded: encode(mul(p, blind)) };
}

/** Blind a random input: a blind drawn from 64 random bytes reduced modulo the order (never zero). */
export function blindInput(input: Bytes, random: (n: number) => Bytes = (n) => crypto.getRandomValues(new Uint8Array(n))): { blind: Bytes; blinded: Bytes } {
  for (;;) {
    const r = mod(numLE(random(64)), L);
    if (r !== _0) return blindWith(input, r);
  }
}

/**
 * Finalize(input, blind, evaluatedElement, blindedElement, pkS, proof): check the server's proof that
 * it evaluated the blinded element with the key of pkS (VerifyProof with ComputeComposites for one
 * element), then unblind and hash. Throws when anything is malformed or the proof does not hold.
 */
export function finalizeToken(p: { input: Bytes; blind: Bytes; blinded: Bytes; evaluated: Bytes; proof: Bytes; publicKey: Bytes }): Bytes {
  const input = checkInput(p.input);
  const B = element(p.publicKey);
  const C = element(p.blinded);
  const Dv = element(p.evaluated);
  if (p.proof.length !== 64) throw new Error('invalid proof');
  const c = scalar(p.proof.subarray(0, 32));
  const s = scalar(p.proof.subarray(32));
  const blind = scalar(p.blind);
  if (blind === _0) throw new Error('invalid blind');
  // ComputeComposites(B, [C], [D])
  // Each element was checked canonical, so its bytes are its encoding.
  const Bm = p.publicKey;
  const seed = sha512(concat(withLength(Bm), withLength(concat(ascii('Seed-'), CONTEXT))));
  const d0 = hashToScalar(concat(withLength(seed), [0, 0], withLength(p.blinded), withLength(p.evaluated), ascii('Composite')));
  const M = mul(C, d0);
  const Z = mul(Dv, d0);
  // VerifyProof: c = H(B, M, Z, s·G + c·B, s·M + c·Z)
  const t2 = add(mul(BASE, s), mul(B, c));
  const t3 = add(mul(M, s), mul(Z, c));
  const expected = hashToScalar(concat(...[Bm, encode(M), encode(Z), encode(t2), encode(t3)].map(withLength), ascii('Challenge')));
  if (expected !== c) throw new Error('proof verification failed');
  const N = mul(Dv, pow(blind, L - _2, L));
  return sha512(concat(withLength(input), withLength(encode(N)), ascii('Finalize')));
}
