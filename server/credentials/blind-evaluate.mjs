// The evaluation a redemption buys: RFC 9497 §3.3.2 BlindEvaluate in VOPRF mode (ristretto255-SHA512),
// Z = key · blinded with the DLEQ proof that the meeting's public key made it (§2.2 GenerateProof with
// ComputeCompositesFast, batch size 1), on libsodium's ristretto255 (WebAssembly) instead of
// @noble/curves' BigInt arithmetic, as token-output.mjs does for the cast's Evaluate. Plain JavaScript
// so a worker thread (voprf.worker.mjs) runs it under plain node.
//
// The steps are the RFC's, each a library call: the curve operations are libsodium's scalar
// multiplications; HashToScalar is RFC 9380 expand_message_xmd (SHA-512, 64 bytes) reduced modulo the
// group order (crypto_core_ristretto255_scalar_reduce); the proof's scalar arithmetic is libsodium's.
// The proof's random scalar r is noble's: @noble/curves' mapHashToField on the 48 random bytes the
// caller draws ((x mod (n − 1)) + 1, never zero), so the same bytes give noble's proof, byte for byte.
// What noble refuses is refused: a key that is not a canonical non-zero scalar, a public key or blinded
// element that is not the canonical encoding of a ristretto255 point, or is the identity (RFC 9497 §3.3).
// tests/unit/blind-evaluate.test.ts holds it to the RFC's test vectors and to noble.
import { createHash } from 'node:crypto';
import { expand_message_xmd } from '@noble/curves/abstract/hash-to-curve.js';
import { mapHashToField } from '@noble/curves/abstract/modular.js';
import { sha512 } from '@noble/hashes/sha2.js';

// Imported when this module is first evaluated, not hoisted into the server bundle's start (see
// token-output.mjs): the main thread evaluates it only when curve work runs there (voprf-pool.ts).
const sodium = (await import('libsodium-wrappers-sumo')).default;
await sodium.ready;

/** The order of the ristretto255 group: 2^252 + 27742317777372353535851937790883648493 (RFC 9496 §4.1). */
export const GROUP_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;

// contextString = "OPRFV1-" || I2OSP(mode = 0x01 VOPRF, 1) || "-" || "ristretto255-SHA512"
const CONTEXT = new Uint8Array([...Buffer.from('OPRFV1-'), 0x01, ...Buffer.from('-ristretto255-SHA512')]);
const SEED_DST = new Uint8Array([...Buffer.from('Seed-'), ...CONTEXT]);
const HASH_TO_SCALAR_DST = new Uint8Array([...Buffer.from('HashToScalar-'), ...CONTEXT]);
const ELEMENT_BYTES = 32;
const SCALAR_BYTES = 32;
const IDENTITY = new Uint8Array(ELEMENT_BYTES); // the identity's one canonical encoding

/** I2OSP(len(b), 2) || b */
function lengthPrefixed(b) {
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}

function equal(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** RFC 9497 §4.1 HashToScalar: expand_message_xmd to 64 bytes, reduced modulo the group order. */
function hashToScalar(msg) {
  return sodium.crypto_core_ristretto255_scalar_reduce(expand_message_xmd(msg, HASH_TO_SCALAR_DST, 64, sha512));
}

/** A point from the wire: the canonical encoding of a ristretto255 element other than the identity. */
function element(bytes, what) {
  if (!(bytes instanceof Uint8Array) || bytes.length !== ELEMENT_BYTES) throw new Error(`${what}: expected ${ELEMENT_BYTES} bytes`);
  if (!sodium.crypto_core_ristretto255_is_valid_point(bytes)) throw new Error(`${what}: not a ristretto255 encoding`);
  if (equal(bytes, IDENTITY)) throw new Error(`${what}: the identity element`);
  return bytes;
}

/** The secret key: a canonical scalar (below the group order), not zero, as noble requires. */
function secretScalar(bytes) {
  if (!(bytes instanceof Uint8Array) || bytes.length !== SCALAR_BYTES) throw new Error(`secret key: expected ${SCALAR_BYTES} bytes`);
  const reduced = sodium.crypto_core_ristretto255_scalar_reduce(Buffer.concat([bytes, new Uint8Array(64 - SCALAR_BYTES)]));
  if (!equal(reduced, bytes) || equal(bytes, new Uint8Array(SCALAR_BYTES))) throw new Error('secret key: not a scalar in 1..n-1');
  return bytes;
}

/**
 * BlindEvaluate(skS, pkS, blindedElement) of RFC 9497's VOPRF mode: the evaluated element and its proof.
 * Byte for byte noble's `ristretto255_oprf.voprf.blindEvaluate(secretKey, publicKey, blinded, () => random)`.
 * Throws on a malformed or identity element, or a key noble would refuse.
 * @param {Uint8Array} secretKey 32-byte scalar, little-endian, as the meeting key stores it
 * @param {Uint8Array} publicKey 32-byte element, secretKey · G
 * @param {Uint8Array} blinded 32-byte element from the phone
 * @param {Uint8Array} random 48 (up to 1,024) crypto-random bytes for the proof's scalar, fresh per call
 * @returns {{ evaluated: Uint8Array, proof: Uint8Array }} 32 and 64 bytes
 */
export function blindEvaluate(secretKey, publicKey, blinded, random) {
  const k = secretScalar(secretKey);
  const B = element(publicKey, 'public key');
  const C = element(blinded, 'blinded element');
  const D = sodium.crypto_scalarmult_ristretto255(k, C);

  // §2.2.1 ComputeCompositesFast for one pair: d = HashToScalar(seed ‖ I2OSP(0, 2) ‖ C ‖ D ‖ "Composite"),
  // M = d · C, Z = k · M.
  const seed = createHash('sha512').update(lengthPrefixed(B)).update(lengthPrefixed(SEED_DST)).digest();
  const d = hashToScalar(Buffer.concat([lengthPrefixed(seed), Buffer.from([0, 0]), lengthPrefixed(C), lengthPrefixed(D), Buffer.from('Composite')]));
  const M = sodium.crypto_scalarmult_ristretto255(d, C);
  const Z = sodium.crypto_scalarmult_ristretto255(k, M);

  // §2.2 GenerateProof: r random, t2 = r · G, t3 = r · M, c = HashToScalar(B ‖ M ‖ Z ‖ t2 ‖ t3 ‖ "Challenge"),
  // s = r − c · k; the proof is c ‖ s. r as noble draws it from the same bytes.
  const r = mapHashToField(random, GROUP_ORDER, true);
  const t2 = sodium.crypto_scalarmult_ristretto255_base(r);
  const t3 = sodium.crypto_scalarmult_ristretto255(r, M);
  const c = hashToScalar(Buffer.concat([lengthPrefixed(B), lengthPrefixed(M), lengthPrefixed(Z), lengthPrefixed(t2), lengthPrefixed(t3), Buffer.from('Challenge')]));
  const s = sodium.crypto_core_ristretto255_scalar_sub(r, sodium.crypto_core_ristretto255_scalar_mul(c, k));
  r.fill(0);
  const proof = new Uint8Array(2 * SCALAR_BYTES);
  proof.set(c, 0);
  proof.set(s, SCALAR_BYTES);
  // Fresh buffers of their own: a view into a shared buffer would post the whole buffer.
  return { evaluated: Uint8Array.from(D), proof };
}
