/**
 * The check every cast pays: F(key, input) with libsodium (server/credentials/token-output.mjs), held to
 * RFC 9497's test vectors and to @noble/curves' Evaluate (the reference the rest of the credential code
 * uses) on random keys and inputs, including lengths other than the 32 bytes phones send.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { tokenOutput } from '../../server/credentials/token-output.mjs';
import { newMeetingKey, voprf } from '../../server/credentials/voprf.ts';
import { SUITE, VECTORS } from '../helpers/rfc9497-vectors.ts';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('tokenOutput (libsodium ristretto255)', () => {
  for (const [i, v] of VECTORS.entries()) {
    it(`reproduces RFC 9497 A.1.2 test vector ${i + 1}`, () => {
      expect(toHex(tokenOutput(hex(SUITE.skSm), hex(v.input)))).toBe(v.output);
    });
  }

  it("equals noble's Evaluate on 100 random keys and inputs of 0–300 bytes", () => {
    for (let i = 0; i < 100; i++) {
      const { secretKey } = newMeetingKey();
      const input = randomBytes(i === 0 ? 0 : i % 7 === 0 ? i : 32);
      expect(toHex(tokenOutput(secretKey, input))).toBe(toHex(voprf.evaluate(secretKey, input)));
    }
  });

  it('differs for another key and for an input one bit away', () => {
    const a = newMeetingKey().secretKey;
    const b = newMeetingKey().secretKey;
    const input = randomBytes(32);
    const flipped = Uint8Array.from(input);
    flipped[31]! ^= 1;
    const out = toHex(tokenOutput(a, input));
    expect(out).toHaveLength(128);
    expect(toHex(tokenOutput(b, input))).not.toBe(out);
    expect(toHex(tokenOutput(a, flipped))).not.toBe(out);
  });

  it('returns its own 64-byte buffer (what a worker posts is the output, not a shared pool)', () => {
    const out = tokenOutput(newMeetingKey().secretKey, randomBytes(32));
    expect(out.byteLength).toBe(64);
    expect(out.buffer.byteLength).toBe(64);
  });
});
