import { createHash, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, CanonicalJsonError } from '../../server/archive/canonical.ts';
import { randomBelow, sealValue, shuffled } from '../../server/archive/archive.build.ts';
import { fingerprintOf, normalizeFingerprint, publicKeyInfo, verifyBytes } from '../../server/archive/signing.ts';
import { verifyArchiveValue } from '../../server/archive/archive.verify.ts';
import type { RandomSource } from '../../server/credentials/secrets.ts';

function counterRandom(seed: number): RandomSource {
  let i = 0;
  return (n) => {
    const out = Buffer.alloc(n);
    for (let k = 0; k < n; k += 32) createHash('sha256').update(`${seed}:${i++}`).digest().copy(out, k);
    return out;
  };
}

/** Rebuild an object with its keys in another order, all the way down. */
function reorder(v: unknown, flip: boolean): unknown {
  if (Array.isArray(v)) return v.map((x) => reorder(x, flip));
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    if (flip) keys.reverse();
    return Object.fromEntries(keys.map((k) => [k, reorder((v as Record<string, unknown>)[k], flip)]));
  }
  return v;
}

describe('canonical JSON (RFC 8785)', () => {
  it('sorts keys by UTF-16 code units, as the RFC 8785 example does', () => {
    const input = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
    // Read the order from the text: Object.keys would put the integer-like key first.
    const text = canonicalJson(input);
    const positions = ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'].map((k) => text.indexOf(JSON.stringify(k) + ':'));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('writes no whitespace and numbers as JavaScript does', () => {
    expect(canonicalJson({ b: [1, 'x', null, true, { d: 2, c: -0 }], a: 1e21, z: 0.15, y: undefined })).toBe('{"a":1e+21,"b":[1,"x",null,true,{"c":0,"d":2}],"z":0.15}');
    expect(canonicalJson('插旗镇\n"')).toBe('"插旗镇\\n\\""');
  });

  it('refuses what has no single JSON spelling', () => {
    for (const bad of [Number.NaN, Infinity, '\ud800', { a: 'x\udc00' }, [undefined], new Date(0), () => 1, 1n]) {
      expect(() => canonicalJson(bad)).toThrow(CanonicalJsonError);
    }
  });

  it('is the same for any key order and survives a JSON round trip', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const c = canonicalJson(v);
        expect(canonicalJson(JSON.parse(c))).toBe(c);
        expect(canonicalJson(reorder(v, true))).toBe(c);
        expect(canonicalJson(JSON.parse(JSON.stringify(v, null, 2)))).toBe(c);
      }),
      { numRuns: 300 },
    );
  });
});

describe('the archive shuffle', () => {
  it('is a permutation, and reaches every position', () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { maxLength: 60 }), fc.nat(), (items, seed) => {
        const out = shuffled(items, counterRandom(seed));
        expect([...out].sort((a, b) => a - b)).toEqual([...items].sort((a, b) => a - b));
      }),
    );
    const firsts = new Set<number>();
    for (let s = 0; s < 200; s++) firsts.add(shuffled([0, 1, 2, 3, 4], counterRandom(s))[0]!);
    expect(firsts).toEqual(new Set([0, 1, 2, 3, 4]));
  });

  it('draws integers below n without bias from a byte source', () => {
    const r = counterRandom(7);
    const seen = new Array<number>(3).fill(0);
    for (let i = 0; i < 3000; i++) seen[randomBelow(r, 3)]! += 1;
    for (const n of seen) expect(n).toBeGreaterThan(850);
    expect(() => randomBelow(r, 0)).toThrow(RangeError);
  });
});

describe('signing', () => {
  it('fingerprints the raw public key, and verifies only canonical 64-byte signatures', () => {
    const key = generateKeyPairSync('ed25519').privateKey;
    const info = publicKeyInfo(key);
    expect(info.fingerprint).toMatch(/^[0-9A-F]{4} [0-9A-F]{4} [0-9A-F]{4} [0-9A-F]{4}$/);
    expect(fingerprintOf(generateKeyPairSync('ed25519').publicKey)).not.toBe(info.fingerprint);
    expect(normalizeFingerprint(info.fingerprint.replace(/ /g, '').toLowerCase())).toBe(info.fingerprint);
    const { canonical, signature } = sealValue({ a: 1 }, key);
    const bytes = Buffer.from(canonical);
    expect(verifyBytes(info.publicKeyPem, bytes, signature)).toEqual({ ok: true, fingerprint: info.fingerprint });
    expect(verifyBytes(info.publicKeyPem, bytes, `${signature} `).ok).toBe(false);
    expect(verifyBytes(info.publicKeyPem, Buffer.from('{"a":2}'), signature).ok).toBe(false);
    expect(verifyBytes('not a key', bytes, signature).ok).toBe(false);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(verifyBytes(rsa, bytes, signature).ok).toBe(false);
  });
});

describe('verify on malformed input', () => {
  it('reports, never throws', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const r = verifyArchiveValue(v);
        expect(r.ok).toBe(false);
      }),
      { numRuns: 200 },
    );
    expect(verifyArchiveValue({ record: { signer: 5 }, sha256: '0'.repeat(64), signature: 'x' }).ok).toBe(false);
    expect(verifyArchiveValue({ format: 'ceping.year-archive', version: 1, manifest: {}, sha256: '0'.repeat(64), signature: '', archives: [1, null] }).ok).toBe(false);
  });
});
