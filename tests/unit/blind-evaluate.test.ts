/**
 * The evaluation every redemption pays: BlindEvaluate with its proof on libsodium
 * (server/credentials/blind-evaluate.mjs), held to RFC 9497's test vectors, to @noble/curves' blindEvaluate
 * (the reference, server/credentials/voprf.ts) byte for byte for the same random bytes, to the clients'
 * proof checks, and to noble's refusals of malformed keys, elements and random bytes.
 */
import { randomBytes } from 'node:crypto';
import { ristretto255 } from '@noble/curves/ed25519.js';
import sodium from 'libsodium-wrappers-sumo';
import { describe, expect, it } from 'vitest';
import { blindEvaluate, GROUP_ORDER } from '../../server/credentials/blind-evaluate.mjs';
import { PROOF_RANDOM_BYTES } from '../../server/credentials/voprf-pool.ts';
import { newMeetingKey, voprf } from '../../server/credentials/voprf.ts';
import { finalizeToken as sodiumFinalize } from '../helpers/voprf-sodium.ts';
import { SUITE, VECTORS } from '../helpers/rfc9497-vectors.ts';

await sodium.ready;

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const n = GROUP_ORDER;

function littleEndian(x: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++, x >>= 8n) out[i] = Number(x & 0xffn);
  return out;
}

/** Random bytes from which noble (and blindEvaluate) draw exactly the scalar `r`: x with (x mod (n − 1)) + 1 = r. */
function randomFor(r: bigint, length = PROOF_RANDOM_BYTES): Uint8Array {
  return littleEndian(r - 1n, length);
}

/** Noble's answer, or the fact that it refused. */
function noble(secretKey: Uint8Array, publicKey: Uint8Array, blinded: Uint8Array, random: Uint8Array): string {
  try {
    const r = voprf.blindEvaluate(secretKey, publicKey, blinded, () => random);
    return toHex(r.evaluated) + '/' + toHex(r.proof);
  } catch {
    return 'refused';
  }
}

function ours(secretKey: Uint8Array, publicKey: Uint8Array, blinded: Uint8Array, random: Uint8Array): string {
  try {
    const r = blindEvaluate(secretKey, publicKey, blinded, random);
    return toHex(r.evaluated) + '/' + toHex(r.proof);
  } catch {
    return 'refused';
  }
}

/** A valid element, changed into one that is not the canonical encoding of a point. */
function nonCanonical(valid: Uint8Array): Uint8Array[] {
  const s = BigInt('0x' + toHex(Uint8Array.from(valid).reverse()));
  const p = 2n ** 255n - 19n;
  const highBit = Uint8Array.from(valid);
  highBit[31]! |= 0x80; // the unused 256th bit set
  return [
    highBit,
    littleEndian(s + p, 32), // the same field element, not reduced (s < 19 almost never, so s + p < 2^256)
    littleEndian(p - s, 32), // -s: odd, a "negative" s, refused by RFC 9496's decoding
    littleEndian(p, 32), // p itself: zero, not reduced
    new Uint8Array(32).fill(0xff),
  ];
}

describe('blindEvaluate (libsodium ristretto255)', () => {
  it("knows the group's order as noble does, and is handed as many random bytes as noble draws for a proof", () => {
    expect(n).toBe(ristretto255.Point.Fn.ORDER);
    expect(PROOF_RANDOM_BYTES).toBe(48);
  });

  for (const [i, v] of VECTORS.entries()) {
    it(`reproduces RFC 9497 A.1.2 test vector ${i + 1}: the evaluation, its proof, and the phone's output`, () => {
      const r = BigInt('0x' + toHex(hex(v.proofRandomScalar).reverse()));
      const { evaluated, proof } = blindEvaluate(hex(SUITE.skSm), hex(SUITE.pkSm), hex(v.blindedElement), randomFor(r));
      expect(toHex(evaluated)).toBe(v.evaluationElement);
      expect(toHex(proof)).toBe(v.proof);
      const output = voprf.finalize(hex(v.input), hex(v.blind), evaluated, hex(v.blindedElement), hex(SUITE.pkSm), proof);
      expect(toHex(output)).toBe(v.output);
    });
  }

  it("equals noble's blindEvaluate byte for byte on 300 random keys, elements and random bytes", () => {
    for (let i = 0; i < 300; i++) {
      const key = newMeetingKey();
      // Elements as phones make them (a blinded hash of an input) and uniformly random ones.
      const blinded = i % 2 === 0 ? voprf.blind(randomBytes(32)).blinded : sodium.crypto_core_ristretto255_random();
      const random = new Uint8Array(randomBytes(PROOF_RANDOM_BYTES));
      const mine = blindEvaluate(key.secretKey, key.publicKey, blinded, random);
      const theirs = voprf.blindEvaluate(key.secretKey, key.publicKey, blinded, () => random);
      expect(toHex(mine.evaluated), `case ${i}`).toBe(toHex(theirs.evaluated));
      expect(toHex(mine.proof), `case ${i}`).toBe(toHex(theirs.proof));
    }
  });

  it("draws the proof's scalar from the random bytes as noble does, at the ends of the range and from longer inputs", () => {
    const key = newMeetingKey();
    const blinded = sodium.crypto_core_ristretto255_random();
    const randoms = [
      new Uint8Array(48), // r = 1
      randomFor(n - 1n), // r = n − 1
      littleEndian(n - 1n, 48), // x = n − 1: wraps to r = 1
      littleEndian(2n * (n - 1n) - 1n, 48), // r = n − 1 again, from the second lap
      new Uint8Array(48).fill(0xff),
      new Uint8Array(randomBytes(64)),
      new Uint8Array(randomBytes(1024)),
    ];
    for (const [i, random] of randoms.entries()) {
      expect(ours(key.secretKey, key.publicKey, blinded, random), `random ${i}`).toBe(noble(key.secretKey, key.publicKey, blinded, random));
      expect(ours(key.secretKey, key.publicKey, blinded, random), `random ${i}`).not.toBe('refused');
    }
    // Too few or too many bytes for a scalar without bias: noble refuses them, and so does this.
    for (const length of [0, 32, 47, 1025]) {
      const random = new Uint8Array(randomBytes(length));
      expect(noble(key.secretKey, key.publicKey, blinded, random), `${length} bytes`).toBe('refused');
      expect(() => blindEvaluate(key.secretKey, key.publicKey, blinded, random), `${length} bytes`).toThrow();
    }
  });

  it('makes a proof the clients accept: noble’s finalize and the tests’ phones’ (libsodium), to F(key, input)', () => {
    for (let i = 0; i < 30; i++) {
      const key = newMeetingKey();
      const input = new Uint8Array(randomBytes(32));
      const b = voprf.blind(input);
      const { evaluated, proof } = blindEvaluate(key.secretKey, key.publicKey, b.blinded, new Uint8Array(randomBytes(48)));
      const expected = toHex(voprf.evaluate(key.secretKey, input));
      expect(toHex(voprf.finalize(input, b.blind, evaluated, b.blinded, key.publicKey, proof))).toBe(expected);
      expect(toHex(sodiumFinalize({ input, blind: b.blind, blinded: b.blinded, evaluated, proof, publicKey: key.publicKey }))).toBe(expected);
      // Not a proof for another meeting's key.
      expect(() => voprf.finalize(input, b.blind, evaluated, b.blinded, newMeetingKey().publicKey, proof)).toThrow();
    }
  });

  it('takes its proof scalar from the random bytes: other bytes, another proof, and both hold', () => {
    const key = newMeetingKey();
    const input = new Uint8Array(randomBytes(32));
    const b = voprf.blind(input);
    const one = blindEvaluate(key.secretKey, key.publicKey, b.blinded, new Uint8Array(randomBytes(48)));
    const two = blindEvaluate(key.secretKey, key.publicKey, b.blinded, new Uint8Array(randomBytes(48)));
    expect(toHex(two.evaluated)).toBe(toHex(one.evaluated));
    expect(toHex(two.proof.subarray(0, 32))).not.toBe(toHex(one.proof.subarray(0, 32)));
    expect(toHex(two.proof.subarray(32))).not.toBe(toHex(one.proof.subarray(32)));
    for (const { evaluated, proof } of [one, two]) voprf.finalize(input, b.blind, evaluated, b.blinded, key.publicKey, proof);
  });

  it('refuses every malformed blinded element noble refuses: wrong lengths, the identity, non-canonical encodings', () => {
    const key = newMeetingKey();
    const random = new Uint8Array(randomBytes(48));
    const valid = voprf.blind(randomBytes(32)).blinded;
    const malformed = [
      new Uint8Array(0),
      valid.subarray(0, 31),
      Uint8Array.from([...valid, 0]),
      Uint8Array.from([...valid, ...valid]),
      new Uint8Array(32), // the identity
      ...nonCanonical(valid),
      ...nonCanonical(sodium.crypto_core_ristretto255_random()),
    ];
    for (const [i, blinded] of malformed.entries()) {
      expect(noble(key.secretKey, key.publicKey, blinded, random), `element ${i}`).toBe('refused');
      expect(() => blindEvaluate(key.secretKey, key.publicKey, blinded, random), `element ${i}`).toThrow();
    }
  });

  it('agrees with noble on 500 random 32-byte strings: the same refusals, the same answers', () => {
    const key = newMeetingKey();
    const random = new Uint8Array(randomBytes(48));
    let accepted = 0;
    for (let i = 0; i < 500; i++) {
      const bytes = new Uint8Array(randomBytes(32));
      if (i % 4 === 0) bytes[0]! &= 0xfe; // an even s, so more of them decode
      if (i % 2 === 0) bytes[31]! &= 0x7f;
      const answer = ours(key.secretKey, key.publicKey, bytes, random);
      expect(answer, toHex(bytes)).toBe(noble(key.secretKey, key.publicKey, bytes, random));
      if (answer !== 'refused') accepted++;
    }
    // Both outcomes occur: about one string in eight of the even, bounded ones is an element.
    expect(accepted).toBeGreaterThan(5);
    expect(accepted).toBeLessThan(250);
  });

  it('refuses the keys noble refuses: a public key that is no element or the identity, a secret key out of range', () => {
    const key = newMeetingKey();
    const random = new Uint8Array(randomBytes(48));
    const blinded = voprf.blind(randomBytes(32)).blinded;
    for (const [i, publicKey] of [new Uint8Array(32), key.publicKey.subarray(0, 31), ...nonCanonical(key.publicKey)].entries()) {
      expect(noble(key.secretKey, publicKey, blinded, random), `public key ${i}`).toBe('refused');
      expect(() => blindEvaluate(key.secretKey, publicKey, blinded, random), `public key ${i}`).toThrow();
    }
    const secretKeys = [new Uint8Array(32), littleEndian(n, 32), littleEndian(n + 5n, 32), new Uint8Array(32).fill(0xff), key.secretKey.subarray(0, 31), Uint8Array.from([...key.secretKey, 0])];
    for (const [i, secretKey] of secretKeys.entries()) {
      expect(noble(secretKey, key.publicKey, blinded, random), `secret key ${i}`).toBe('refused');
      expect(() => blindEvaluate(secretKey, key.publicKey, blinded, random), `secret key ${i}`).toThrow();
    }
    // The largest scalar is a key like any other.
    const last = littleEndian(n - 1n, 32);
    const lastPublic = sodium.crypto_scalarmult_ristretto255_base(last);
    expect(ours(last, lastPublic, blinded, random)).toBe(noble(last, lastPublic, blinded, random));
    expect(ours(last, lastPublic, blinded, random)).not.toBe('refused');
  });

  it('returns buffers of their own (what a worker posts is the answer, not a shared pool)', () => {
    const key = newMeetingKey();
    const { evaluated, proof } = blindEvaluate(key.secretKey, key.publicKey, sodium.crypto_core_ristretto255_random(), new Uint8Array(randomBytes(48)));
    expect([evaluated.byteLength, evaluated.buffer.byteLength]).toEqual([32, 32]);
    expect([proof.byteLength, proof.buffer.byteLength]).toEqual([64, 64]);
  });
});
