/**
 * Encodings shared by the server and the phone page, apart from voprf.ts so the phone's first chunk
 * can use them without loading the elliptic-curve code (which needs BigInt as soon as it loads).
 */

type Bytes = Uint8Array;
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** base64url without padding; written out so the phone page needs neither Buffer nor btoa. */
export function toB64u(bytes: Bytes): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]!;
    if (i + 1 < bytes.length) out += B64[(n >> 6) & 63]!;
    if (i + 2 < bytes.length) out += B64[n & 63]!;
  }
  return out;
}

/** Each base64url symbol's value by its character code (-1: not one); the server decodes two per cast. */
const B64_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_VALUE[B64.charCodeAt(i)] = i;

/** Decode base64url of exactly `length` bytes; null when it is anything else. */
export function fromB64u(text: string, length: number): Bytes | null {
  if (text.length !== Math.ceil((length * 4) / 3)) return null;
  const out = new Uint8Array(length);
  let bits = 0;
  let acc = 0;
  let j = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const v = code < 128 ? B64_VALUE[code]! : -1;
    if (v < 0) return null;
    // Only the bits still to be written are kept (a whole text would overflow 32 bits).
    acc = ((acc << 6) | v) & 0xfff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (j < length) out[j++] = (acc >> bits) & 255;
    }
  }
  // Leftover bits must be zero, so each byte string has exactly one text.
  if ((acc & ((1 << bits) - 1)) !== 0) return null;
  return out;
}

/** A key's short fingerprint from its SHA-256 digest: "3F2A 9C01 7B44 E0D2", the same on phone and projector. */
export function keyFingerprint(sha256Digest: Uint8Array): string {
  let hex = '';
  for (let i = 0; i < 8; i++) hex += (sha256Digest[i]! < 16 ? '0' : '') + sha256Digest[i]!.toString(16);
  hex = hex.toUpperCase();
  return `${hex.slice(0, 4)} ${hex.slice(4, 8)} ${hex.slice(8, 12)} ${hex.slice(12, 16)}`;
}
