import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ristretto255_oprf } from '@noble/curves/ed25519.js';
import { blindInput, evaluateBlinded, finalizeToken, fromB64u, keyFingerprint, newMeetingKey, toB64u, tokenOutput, voprf } from '../../server/credentials/voprf.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/**
 * RFC 9497 Appendix A.1.2: VOPRF mode, ristretto255-SHA512 (Seed = a3…a3, KeyInfo = "test key").
 * Test vectors 1 and 2, transcribed from the RFC.
 */
const SUITE = {
  seed: 'a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3',
  keyInfo: '74657374206b6579',
  skSm: 'e6f73f344b79b379f1a0dd37e07ff62e38d9f71345ce62ae3a9bc60b04ccd909',
  pkSm: 'c803e2cc6b05fc15064549b5920659ca4a77b2cca6f04f6b357009335476ad4e',
};
const VECTORS = [
  {
    input: '00',
    blind: '64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706',
    blindedElement: '863f330cc1a1259ed5a5998a23acfd37fb4351a793a5b3c090b642ddc439b945',
    evaluationElement: 'aa8fa048764d5623868679402ff6108d2521884fa138cd7f9c7669a9a014267e',
    proof: 'ddef93772692e535d1a53903db24367355cc2cc78de93b3be5a8ffcc6985dd066d4346421d17bf5117a2a1ff0fcb2a759f58a539dfbe857a40bce4cf49ec600d',
    proofRandomScalar: '222a5e897cf59db8145db8d16e597e8facb80ae7d4e26d9881aa6f61d645fc0e',
    output: 'b58cfbe118e0cb94d79b5fd6a6dafb98764dff49c14e1770b566e42402da1a7da4d8527693914139caee5bd03903af43a491351d23b430948dd50cde10d32b3c',
  },
  {
    input: '5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a',
    blind: '64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706',
    blindedElement: 'cc0b2a350101881d8a4cba4c80241d74fb7dcbfde4a61fde2f91443c2bf9ef0c',
    evaluationElement: '60a59a57208d48aca71e9e850d22674b611f752bed48b36f7a91b372bd7ad468',
    proof: '401a0da6264f8cf45bb2f5264bc31e109155600babb3cd4e5af7d181a2c9dc0a67154fabf031fd936051dec80b0b6ae29c9503493dde7393b722eafdf5a50b02',
    proofRandomScalar: '222a5e897cf59db8145db8d16e597e8facb80ae7d4e26d9881aa6f61d645fc0e',
    output: '8a9a2f3c7f085b65933594309041fc1898d42d0858e59f90814ae90571a6df60356f4610bf816f27afdd84f47719e480906d27ecd994985890e5f539e7ea74b6',
  },
];

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

  it('prints a key fingerprint as four groups of hex', () => {
    expect(keyFingerprint(hex('3f2a9c017b44e0d2ffff'))).toBe('3F2A 9C01 7B44 E0D2');
  });
});
