// F(key, input): the output a cast token must carry (RFC 9497 §3.3.2 Evaluate, VOPRF mode,
// ristretto255-SHA512), computed with libsodium's ristretto255 (WebAssembly) instead of @noble/curves'
// BigInt arithmetic: 0.12 ms instead of 1.1 ms on this machine, and it is the one curve operation
// every cast pays. Plain JavaScript so a worker thread (voprf.worker.mjs) runs it under plain node.
//
// The steps are the RFC's, each a library call: HashToGroup = hash_to_ristretto255 (RFC 9380
// expand_message_xmd with SHA-512 to 64 bytes, then RFC 9496's one-way map, libsodium's
// crypto_core_ristretto255_from_hash); the evaluation is a scalar multiplication; Finalize hashes
// input and element with SHA-512. tests/unit/token-output.test.ts holds it to the RFC's test vectors
// and to @noble/curves on random keys and inputs.
import { createHash } from 'node:crypto';
import { expand_message_xmd } from '@noble/curves/abstract/hash-to-curve.js';
import { sha512 } from '@noble/hashes/sha2.js';

// Imported when this module is first evaluated, not hoisted into the server bundle's start: the main
// thread evaluates it only when curve work runs there (voprf-pool.ts, no worker), so a server whose
// workers do that work never holds libsodium's WebAssembly and its heap on the main thread.
const sodium = (await import('libsodium-wrappers-sumo')).default;
await sodium.ready;

// contextString = "OPRFV1-" || I2OSP(mode = 0x01 VOPRF, 1) || "-" || "ristretto255-SHA512"
const HASH_TO_GROUP_DST = new Uint8Array([...Buffer.from('HashToGroup-OPRFV1-'), 0x01, ...Buffer.from('-ristretto255-SHA512')]);
const ELEMENT_BYTES = 32;

/** Two bytes, big-endian (I2OSP(n, 2)). */
function length2(n) {
  return Buffer.from([n >> 8, n & 0xff]);
}

/**
 * F(secretKey, input) = SHA-512(len(input) ‖ input ‖ len(Z) ‖ Z ‖ "Finalize"), Z = secretKey · HashToGroup(input).
 * Throws when the input maps to the identity (the RFC's InvalidInputError; libsodium refuses the product).
 * @param {Uint8Array} secretKey 32-byte scalar, little-endian, as the meeting key stores it
 * @param {Uint8Array} input
 * @returns {Uint8Array} 64 bytes
 */
export function tokenOutput(secretKey, input) {
  const uniform = expand_message_xmd(input, HASH_TO_GROUP_DST, 64, sha512);
  const element = sodium.crypto_core_ristretto255_from_hash(uniform);
  const evaluated = sodium.crypto_scalarmult_ristretto255(secretKey, element);
  const digest = createHash('sha512')
    .update(length2(input.length))
    .update(input)
    .update(length2(ELEMENT_BYTES))
    .update(evaluated)
    .update('Finalize')
    .digest();
  return new Uint8Array(digest); // a copy: a view into a shared buffer would post the whole buffer
}
