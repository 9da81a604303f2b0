/**
 * The tests' phones' client (tests/helpers/voprf-sodium.ts, libsodium) against RFC 9497's test vectors and
 * against @noble/curves (the server's code) on random keys and inputs: the same token from the same
 * evaluation, and a refusal for every tampered proof, evaluation or key that noble refuses.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blindInput, finalizeToken } from '../helpers/voprf-sodium.ts';
import { evaluateBlinded, newMeetingKey, voprf } from '../../server/credentials/voprf.ts';
import { SUITE, VECTORS } from '../helpers/rfc9497-vectors.ts';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('the tests’ phone client (libsodium ristretto255)', () => {
  for (const [i, v] of VECTORS.entries()) {
    it(`verifies the proof and finalizes RFC 9497 A.1.2 test vector ${i + 1}`, () => {
      const p = { input: hex(v.input), blind: hex(v.blind), blinded: hex(v.blindedElement), evaluated: hex(v.evaluationElement), proof: hex(v.proof), publicKey: hex(SUITE.pkSm) };
      expect(toHex(finalizeToken(p))).toBe(v.output);
      const bad = Uint8Array.from(p.proof);
      bad[5]! ^= 1;
      expect(() => finalizeToken({ ...p, proof: bad })).toThrow();
    });
  }

  it('blinds an input into an element noble evaluates, and finalizes to F(key, input), as noble does, on 50 random keys and inputs', () => {
    for (let i = 0; i < 50; i++) {
      const key = newMeetingKey();
      const input = new Uint8Array(randomBytes(32));
      const b = blindInput(input);
      const { evaluated, proof } = evaluateBlinded(key, b.blinded);
      const p = { input, blind: b.blind, blinded: b.blinded, evaluated, proof, publicKey: key.publicKey };
      const out = finalizeToken(p);
      expect(toHex(out)).toBe(toHex(voprf.evaluate(key.secretKey, input)));
      expect(toHex(out)).toBe(toHex(voprf.finalize(input, b.blind, evaluated, b.blinded, key.publicKey, proof)));
    }
  });

  it('refuses what noble refuses: another key, another evaluation, a flipped bit anywhere in the proof', () => {
    const key = newMeetingKey();
    const other = newMeetingKey();
    const input = new Uint8Array(randomBytes(32));
    const b = blindInput(input);
    const { evaluated, proof } = evaluateBlinded(key, b.blinded);
    const p = { input, blind: b.blind, blinded: b.blinded, evaluated, proof, publicKey: key.publicKey };
    expect(() => finalizeToken({ ...p, publicKey: other.publicKey })).toThrow();
    expect(() => voprf.finalize(input, b.blind, evaluated, b.blinded, other.publicKey, proof)).toThrow();
    const elsewhere = evaluateBlinded(other, b.blinded);
    expect(() => finalizeToken({ ...p, evaluated: elsewhere.evaluated })).toThrow();
    expect(() => finalizeToken({ ...p, proof: elsewhere.proof })).toThrow();
    for (let bit = 0; bit < 512; bit += 7) {
      const bad = Uint8Array.from(proof);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expect(() => finalizeToken({ ...p, proof: bad }), `bit ${bit}`).toThrow();
    }
    expect(() => finalizeToken({ ...p, evaluated: new Uint8Array(32).fill(0xff) })).toThrow();
  });
});
