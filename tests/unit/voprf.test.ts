import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ristretto255_oprf } from '@noble/curves/ed25519.js';
import { SUITE, VECTORS } from '../helpers/rfc9497-vectors.ts';
import { blindInput, evaluateBlinded, finalizeToken, fromB64u, keyFingerprint, newMeetingKey, toB64u, tokenOutput, voprf } from '../../server/credentials/voprf.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');


/**
 * An RNG that makes noble draw exactly `scalar` (little-endian): noble maps 48 random bytes x to
 * (x mod (n − 1)) + 1, so it must be handed scalar − 1.
 */
function rngFor(scalar: string): (n: number) => Uint8Array {
  const n = 2n ** 252n + 27742317777372353535851937790883648493n;
  const s = BigInt('0x' + Buffer.from(hex(scalar)).reverse().toString('hex'));
  const v = (s - 1n + n) % n;
  return (len: number) => {
    const out = new Uint8Array(len);
    let x = v;
    for (let i = 0; i < len; i++) {
      out[i] = Number(x & 0xffn);
      x >>= 8n;
    }
    return out;
  };
}

describe('the VOPRF of the two-phase credentials (RFC 9497, ristretto255-SHA512)', () => {
  const key = voprf.deriveKeyPair(hex(SUITE.seed), hex(SUITE.keyInfo));

  it('derives the RFC key pair', () => {
    expect(toHex(key.secretKey)).toBe(SUITE.skSm);
    expect(toHex(key.publicKey)).toBe(SUITE.pkSm);
  });

  for (const [i, v] of VECTORS.entries()) {
    it(`reproduces test vector ${i + 1}: blind, evaluate with proof, finalize, and the server's direct evaluation`, () => {
      const b = blindInput(hex(v.input), rngFor(v.blind));
      expect(toHex(b.blind)).toBe(v.blind);
      expect(toHex(b.blinded)).toBe(v.blindedElement);
      const ev = evaluateBlinded(key, b.blinded, rngFor(v.proofRandomScalar));
      expect(toHex(ev.evaluated)).toBe(v.evaluationElement);
      expect(toHex(ev.proof)).toBe(v.proof);
      const out = finalizeToken({ input: hex(v.input), blind: b.blind, blinded: b.blinded, evaluated: ev.evaluated, proof: ev.proof, publicKey: key.publicKey });
      expect(toHex(out)).toBe(v.output);
      // What casting checks: the server's own F(key, input) equals the phone's output.
      expect(toHex(tokenOutput(key.secretKey, hex(v.input)))).toBe(v.output);
    });
  }

  it("is noble's suite (the phone page's own client is checked against it in voprf-client.test.ts)", () => {
    expect(voprf).toBe(ristretto255_oprf.voprf);
  });

  it('refuses a proof made with another key, or a changed evaluation', () => {
    const k1 = newMeetingKey();
    const k2 = newMeetingKey();
    const input = new Uint8Array(32).fill(7);
    const b = blindInput(input);
    const ev = evaluateBlinded(k1, b.blinded);
    expect(() => finalizeToken({ input, ...b, ...ev, publicKey: k2.publicKey })).toThrow();
    const tampered = evaluateBlinded(k2, b.blinded);
    expect(() => finalizeToken({ input, ...b, evaluated: tampered.evaluated, proof: ev.proof, publicKey: k1.publicKey })).toThrow();
    expect(toHex(finalizeToken({ input, ...b, ...ev, publicKey: k1.publicKey }))).toBe(toHex(tokenOutput(k1.secretKey, input)));
  });

  it('the server sees nothing of the input: two blindings of one input look unrelated', () => {
    const input = new Uint8Array(32).fill(9);
    const a = blindInput(input);
    const b = blindInput(input);
    expect(toHex(a.blinded)).not.toBe(toHex(b.blinded));
  });

  it('base64url round-trips every length used and refuses anything else', () => {
    fc.assert(
      fc.property(fc.constantFrom(16, 32, 64), fc.uint8Array({ minLength: 64, maxLength: 64 }), (len, bytes) => {
        const b = bytes.slice(0, len);
        const text = toB64u(b);
        expect(text).toBe(Buffer.from(b).toString('base64url'));
        expect(fromB64u(text, len)).toEqual(b);
        expect(fromB64u(text, len + 1)).toBeNull();
        expect(fromB64u(text + 'A', len)).toBeNull();
      }),
    );
    expect(fromB64u('A'.repeat(42) + 'B', 32)).toBeNull(); // non-zero leftover bits
    expect(fromB64u('A'.repeat(42) + '+', 32)).toBeNull();
  });

  it('decodes a text of the right length exactly when it is the one base64url text of its bytes', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // Texts of base64url symbols only (a quarter to a third of them canonical), and texts with others among them.
    const texts = fc.oneof(
      fc.array(fc.constantFrom(...alphabet.split('')), { minLength: 86, maxLength: 86 }),
      fc.array(fc.constantFrom(...(alphabet + '=+/ é\u0000中').split('')), { minLength: 86, maxLength: 86 }),
    );
    let decoded = 0;
    fc.assert(
      fc.property(fc.constantFrom(16, 32, 64), texts, (len, symbols) => {
        const text = symbols.slice(0, Math.ceil((len * 4) / 3)).join('');
        const bytes = fromB64u(text, len);
        const canonical = /^[A-Za-z0-9_-]*$/.test(text) && Buffer.from(text, 'base64url').toString('base64url') === text;
        expect(bytes !== null).toBe(canonical);
        if (bytes) expect(Buffer.from(bytes)).toEqual(Buffer.from(text, 'base64url'));
        if (bytes) decoded++;
      }),
      { numRuns: 2000 },
    );
    expect(decoded).toBeGreaterThan(100);
  });

  it('prints a key fingerprint as four groups of hex', () => {
    expect(keyFingerprint(hex('3f2a9c017b44e0d2ffff'))).toBe('3F2A 9C01 7B44 E0D2');
  });
});
