/**
 * The phone's own VOPRF client (voter-ui/src/lib/voprf-client.ts) against the RFC 9497 test vectors,
 * node:crypto's SHA-512, and noble (the server's code): the same blinded elements, the same outputs, the
 * same refusals of a reply that was tampered with or made with another key.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { BASE, L, add, blindInput, blindWith, decode, encode, finalizeToken, hashToGroup, mul, sha512 } from '../../voter-ui/src/lib/voprf-client.ts';
import { evaluateBlinded, newMeetingKey, tokenOutput, voprf } from '../../server/credentials/voprf.ts';
import { SUITE, VECTORS } from '../helpers/rfc9497-vectors.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const le = (b: Uint8Array) => BigInt('0x' + (toHex(Uint8Array.from(b).reverse()) || '0'));

/** RFC 9497 Appendix A.1.2 (VOPRF, ristretto255-SHA512), test vectors 1 and 2. */
const PK = SUITE.pkSm;

/** RFC 9496 Appendix A.1: the encodings of 0·B … 3·B. */
const MULTIPLES = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  'e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76',
  '6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919',
  '94741f5d5d52755ece4f23f044ee27d5d1ea1e2bd196b462166b16152a9d0259',
];

describe("the phone's VOPRF client (RFC 9497, ristretto255-SHA512)", () => {
  it('hashes with SHA-512 exactly as node:crypto, at every padding boundary', () => {
    for (const n of [0, 1, 3, 55, 56, 63, 64, 111, 112, 113, 127, 128, 129, 239, 240, 255, 256, 1000]) {
      const m = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 255);
      expect(toHex(sha512(m)), `length ${n}`).toBe(createHash('sha512').update(m).digest('hex'));
    }
  });

  it('encodes the first multiples of the generator as RFC 9496 lists them, and as noble does up to 15', () => {
    let sum = decode(hex(MULTIPLES[0]!));
    for (const [k, want] of MULTIPLES.entries()) {
      expect(toHex(encode(sum)), `${k}·B by additions`).toBe(want);
      expect(toHex(encode(mul(BASE, BigInt(k)))), `${k}·B by multiplication`).toBe(want);
      sum = add(sum, BASE);
    }
    for (let k = 1n; k < 16n; k++) expect(toHex(encode(mul(BASE, k)))).toBe(toHex(ristretto255.Point.BASE.multiply(k).toBytes()));
    const big = L - 12345n;
    expect(toHex(encode(mul(BASE, big)))).toBe(toHex(ristretto255.Point.BASE.multiply(big).toBytes()));
  });

  for (const [i, v] of VECTORS.entries()) {
    it(`reproduces RFC 9497 test vector ${i + 1}: the blinded element, and the output from the server's reply`, () => {
      const b = blindWith(hex(v.input), le(hex(v.blind)));
      expect(toHex(b.blind)).toBe(v.blind);
      expect(toHex(b.blinded)).toBe(v.blindedElement);
      const reply = { evaluated: hex(v.evaluationElement), proof: hex(v.proof), publicKey: hex(PK) };
      expect(toHex(finalizeToken({ input: hex(v.input), blind: b.blind, blinded: b.blinded, ...reply }))).toBe(v.output);
    });
  }

  it('agrees with noble on any input, blind and key: blinded element, and the output the server computes itself', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 80 }), fc.bigInt({ min: 1n, max: L - 1n }), (input, blind) => {
        const key = newMeetingKey();
        const b = blindWith(input, blind);
        // noble draws its blind as (x mod (L − 1)) + 1 from 48 bytes: hand it blind − 1.
        const n = voprf.blind(input, () => hex((blind - 1n).toString(16).padStart(96, '0')).reverse());
        expect(toHex(b.blinded)).toBe(toHex(n.blinded));
        const ev = evaluateBlinded(key, b.blinded);
        const out = finalizeToken({ input, blind: b.blind, blinded: b.blinded, evaluated: ev.evaluated, proof: ev.proof, publicKey: key.publicKey });
        expect(toHex(out)).toBe(toHex(tokenOutput(key.secretKey, input)));
      }),
      { numRuns: 12 },
    );
  });

  it('refuses a reply with any bit changed, a proof made with another key, or an evaluation with another key', () => {
    const key = newMeetingKey();
    const other = newMeetingKey();
    const input = new Uint8Array(32).fill(5);
    const b = blindInput(input);
    const ev = evaluateBlinded(key, b.blinded);
    const good = { input, blind: b.blind, blinded: b.blinded, evaluated: ev.evaluated, proof: ev.proof, publicKey: key.publicKey };
    expect(toHex(finalizeToken(good))).toBe(toHex(tokenOutput(key.secretKey, input)));
    fc.assert(
      fc.property(fc.constantFrom('blinded', 'evaluated', 'proof', 'publicKey'), fc.nat(), (field, at) => {
        const bytes = Uint8Array.from(good[field as 'proof']);
        const bit = at % (bytes.length * 8);
        bytes[bit >> 3]! ^= 1 << (bit & 7);
        expect(() => finalizeToken({ ...good, [field]: bytes })).toThrow();
      }),
      { numRuns: 24 },
    );
    expect(() => finalizeToken({ ...good, publicKey: other.publicKey })).toThrow('proof verification failed');
    const theirs = evaluateBlinded(other, b.blinded);
    expect(() => finalizeToken({ ...good, evaluated: theirs.evaluated })).toThrow('proof verification failed');
    expect(() => finalizeToken({ ...good, ...theirs })).toThrow('proof verification failed');
    // The identity is no element a server may send.
    expect(() => finalizeToken({ ...good, evaluated: new Uint8Array(32) })).toThrow();
  });

  it('decodes exactly the encodings noble accepts, and encodes them back to the same bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.boolean(), (random, valid) => {
        // Half the cases a real element's encoding, half random bytes (almost never an element).
        const bytes = valid ? ristretto255_hasher.hashToCurve(random).toBytes() : random;
        let theirs: string | null;
        try {
          theirs = toHex(ristretto255.Point.fromBytes(bytes).toBytes());
        } catch {
          theirs = null;
        }
        let mine: string | null;
        try {
          mine = toHex(encode(decode(bytes)));
        } catch {
          mine = null;
        }
        expect(mine).toBe(theirs);
        if (valid) expect(mine).toBe(toHex(bytes));
      }),
      { numRuns: 200 },
    );
    // Non-canonical: p itself (2^255 − 19), a "negative" (odd) s, the top bit set.
    for (const bad of ['edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', '0100000000000000000000000000000000000000000000000000000000000000', '0000000000000000000000000000000000000000000000000000000000000080']) {
      expect(() => decode(hex(bad))).toThrow();
    }
  });

  it('hashes to the group as noble does (RFC 9380 hash_to_ristretto255 with the VOPRF DST)', () => {
    const dst = 'HashToGroup-OPRFV1-\u0001-ristretto255-SHA512';
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), (msg) => {
        expect(toHex(encode(hashToGroup(msg)))).toBe(toHex(ristretto255_hasher.hashToCurve(msg, { DST: dst }).toBytes()));
      }),
      { numRuns: 30 },
    );
  });

  it('draws a different blind every time', () => {
    const input = new Uint8Array(32).fill(9);
    expect(toHex(blindInput(input).blinded)).not.toBe(toHex(blindInput(input).blinded));
  });
});

