/**
 * The two-phase credential's cryptography: RFC 9497 VOPRF, ristretto255-SHA512, from @noble/curves
 * (audited, pure JavaScript, BigInt). Both the server and the phone page import this module; the phone
 * only the client half (blind, finalize), the server only the key and evaluation half.
 *
 * A ticket from the desk buys one evaluation of a blinded element; the phone unblinds it into a token
 * (input, output) that the server can check at casting (output = F(key, input)) but cannot match with
 * the evaluation it made, because the blind never leaves the phone.
 */
import { ristretto255_oprf } from '@noble/curves/ed25519.js';

/** 32-byte random input, 32-byte points and scalars, 64-byte proof and output. */
export const INPUT_BYTES = 32;
export const POINT_BYTES = 32;
export const PROOF_BYTES = 64;
export const OUTPUT_BYTES = 64;

type Bytes = Uint8Array;

interface VoprfSuite {
  generateKeyPair(): { secretKey: Bytes; publicKey: Bytes };
  deriveKeyPair(seed: Bytes, keyInfo: Bytes): { secretKey: Bytes; publicKey: Bytes };
  blind(input: Bytes, rng?: (n: number) => Bytes): { blind: Bytes; blinded: Bytes };
  blindEvaluate(secretKey: Bytes, publicKey: Bytes, blinded: Bytes, rng?: (n: number) => Bytes): { evaluated: Bytes; proof: Bytes };
  finalize(input: Bytes, blind: Bytes, evaluated: Bytes, blinded: Bytes, publicKey: Bytes, proof: Bytes): Bytes;
  /** Present in the library (RFC 9497 §3.3.2 Evaluate), missing from its type declarations. */
  evaluate(secretKey: Bytes, input: Bytes): Bytes;
}

export const voprf = ristretto255_oprf.voprf as unknown as VoprfSuite;

export interface MeetingKey {
  secretKey: Bytes;
  publicKey: Bytes;
}

// ---------------------------------------------------------------- server half

export function newMeetingKey(): MeetingKey {
  return voprf.generateKeyPair();
}

/** Evaluate a phone's blinded element and prove it was done with this key. Throws on a malformed element. */
export function evaluateBlinded(key: MeetingKey, blinded: Bytes, rng?: (n: number) => Bytes): { evaluated: Bytes; proof: Bytes } {
  return voprf.blindEvaluate(key.secretKey, key.publicKey, blinded, rng);
}

/** The output a token's input must come with: F(key, input). */
export function tokenOutput(secretKey: Bytes, input: Bytes): Bytes {
  return voprf.evaluate(secretKey, input);
}

// ---------------------------------------------------------------- client half

export function blindInput(input: Bytes, rng?: (n: number) => Bytes): { blind: Bytes; blinded: Bytes } {
  return voprf.blind(input, rng);
}

/** Check the server's proof against the meeting's public key and unblind. Throws when the proof fails. */
export function finalizeToken(p: { input: Bytes; blind: Bytes; blinded: Bytes; evaluated: Bytes; proof: Bytes; publicKey: Bytes }): Bytes {
  return voprf.finalize(p.input, p.blind, p.evaluated, p.blinded, p.publicKey, p.proof);
}

// ---------------------------------------------------------------- encodings shared by both ends

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

/** Decode base64url of exactly `length` bytes; null when it is anything else. */
export function fromB64u(text: string, length: number): Bytes | null {
  if (text.length !== Math.ceil((length * 4) / 3) || !/^[A-Za-z0-9_-]*$/.test(text)) return null;
  const out = new Uint8Array(length);
  let bits = 0;
  let acc = 0;
  let j = 0;
  for (const ch of text) {
    acc = (acc << 6) | B64.indexOf(ch);
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
