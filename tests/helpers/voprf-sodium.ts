/**
 * The tests' phones' half of the credential (RFC 9497 VOPRF, ristretto255-SHA512: Blind, and Finalize
 * with VerifyProof), on libsodium's ristretto255 (WebAssembly) instead of @noble/curves' BigInt
 * arithmetic. A redemption's client side took about 8 ms with noble and the suite redeems thousands of
 * tickets (every makeMeeting redeems its sign-ins): this was the largest CPU cost of the test code itself.
 *
 * Each step is the RFC's (§2.2 ComputeComposites, §2.2.2 VerifyProof, §3.3.1 Blind/Finalize), each curve
 * operation a libsodium call, as server/credentials/token-output.mjs does for the server's Evaluate.
 * tests/unit/voprf-sodium.test.ts holds it to noble (the server's code) on random keys and inputs, to
 * tampered proofs, and to the RFC's test vectors through noble's agreement.
 */
import { createHash, randomBytes } from 'node:crypto';
import { expand_message_xmd } from '@noble/curves/abstract/hash-to-curve.js';
import { sha512 } from '@noble/hashes/sha2.js';
import sodiumModule from 'libsodium-wrappers-sumo';

const sodium = sodiumModule;
await sodium.ready;

type Bytes = Uint8Array;

// contextString = "OPRFV1-" || I2OSP(0x01 VOPRF, 1) || "-" || "ristretto255-SHA512"
const CONTEXT = new Uint8Array([...Buffer.from('OPRFV1-'), 0x01, ...Buffer.from('-ristretto255-SHA512')]);
const dst = (prefix: string) => new Uint8Array([...Buffer.from(prefix), ...CONTEXT]);
const HASH_TO_GROUP_DST = dst('HashToGroup-');
const HASH_TO_SCALAR_DST = dst('HashToScalar-');
const SEED_DST = dst('Seed-');

/** I2OSP(len(b), 2) || b */
const lp = (b: Bytes): Buffer => Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);

function hashToGroup(input: Bytes): Bytes {
  return sodium.crypto_core_ristretto255_from_hash(expand_message_xmd(input, HASH_TO_GROUP_DST, 64, sha512));
}

function hashToScalar(msg: Bytes): Bytes {
  return sodium.crypto_core_ristretto255_scalar_reduce(expand_message_xmd(msg, HASH_TO_SCALAR_DST, 64, sha512));
}

const sha512Of = (...parts: (Bytes | string)[]): Bytes => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

function equal(a: Bytes, b: Bytes): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Blind(input): a random scalar r and r · HashToGroup(input). */
export function blindInput(input: Bytes): { blind: Bytes; blinded: Bytes } {
  const element = hashToGroup(input);
  // A zero scalar is as good as impossible (2^-252); crypto_scalarmult refuses the identity it would give.
  const blind = sodium.crypto_core_ristretto255_scalar_reduce(new Uint8Array(randomBytes(64)));
  return { blind, blinded: sodium.crypto_scalarmult_ristretto255(blind, element) };
}

/**
 * VerifyProof(G, publicKey, [blinded], [evaluated], proof), then Finalize: SHA-512 of the input and
 * r⁻¹ · evaluated. Throws when an element does not decode or the proof does not hold, as noble does.
 */
export function finalizeToken(p: { input: Bytes; blind: Bytes; blinded: Bytes; evaluated: Bytes; proof: Bytes; publicKey: Bytes }): Bytes {
  for (const e of [p.blinded, p.evaluated, p.publicKey]) {
    if (e.length !== 32 || !sodium.crypto_core_ristretto255_is_valid_point(e)) throw new Error('invalid element');
  }
  if (p.proof.length !== 64) throw new Error('invalid proof');
  // ComputeComposites for one pair: M = d·C, Z = d·D.
  const seed = sha512Of(lp(p.publicKey), lp(SEED_DST));
  const d = hashToScalar(Buffer.concat([lp(seed), Buffer.from([0, 0]), lp(p.blinded), lp(p.evaluated), Buffer.from('Composite')]));
  const M = sodium.crypto_scalarmult_ristretto255(d, p.blinded);
  const Z = sodium.crypto_scalarmult_ristretto255(d, p.evaluated);
  const c = p.proof.subarray(0, 32);
  const s = p.proof.subarray(32, 64);
  // Scalars must be canonical (below the group order), as noble requires when it reads the proof.
  if (!equal(sodium.crypto_core_ristretto255_scalar_reduce(new Uint8Array([...c, ...new Uint8Array(32)])), c)) throw new Error('invalid proof');
  if (!equal(sodium.crypto_core_ristretto255_scalar_reduce(new Uint8Array([...s, ...new Uint8Array(32)])), s)) throw new Error('invalid proof');
  const t2 = sodium.crypto_core_ristretto255_add(sodium.crypto_scalarmult_ristretto255_base(s), sodium.crypto_scalarmult_ristretto255(c, p.publicKey));
  const t3 = sodium.crypto_core_ristretto255_add(sodium.crypto_scalarmult_ristretto255(s, M), sodium.crypto_scalarmult_ristretto255(c, Z));
  const expected = hashToScalar(Buffer.concat([lp(p.publicKey), lp(M), lp(Z), lp(t2), lp(t3), Buffer.from('Challenge')]));
  if (!equal(expected, c)) throw new Error('proof does not verify');
  const unblinded = sodium.crypto_scalarmult_ristretto255(sodium.crypto_core_ristretto255_scalar_invert(p.blind), p.evaluated);
  return sha512Of(lp(p.input), lp(unblinded), 'Finalize');
}
