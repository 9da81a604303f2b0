/**
 * The two-phase credential's cryptography: RFC 9497 VOPRF, ristretto255-SHA512, from @noble/curves
 * (audited, pure JavaScript, BigInt). The server makes its keys here; its curve work per request runs on
 * libsodium in the pool's workers (voprf-pool.ts): the redemption's evaluation with its proof
 * (blind-evaluate.mjs, tests/unit/blind-evaluate.test.ts) and the cast's check (token-output.mjs,
 * tests/unit/token-output.test.ts), each held byte for byte to noble's here, the reference. The client half
 * (blind, finalize) is the reference the other clients are held to: the phone page's own, smaller one
 * (voter-ui/src/lib/voprf-client.ts, tests/unit/voprf-client.test.ts) and the tests' phones' one on
 * libsodium (tests/helpers/voprf-sodium.ts, tests/unit/voprf-sodium.test.ts).
 *
 * A ticket from the desk buys one evaluation of a blinded element; the phone unblinds it into a token
 * (input, output) that the server can check at casting (output = F(key, input)) but cannot match with
 * the evaluation it made, because the blind never leaves the phone.
 */
import { ristretto255_oprf } from '@noble/curves/ed25519.js';

export { fromB64u, keyFingerprint, toB64u } from './encoding.ts';

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

/**
 * Evaluate a phone's blinded element and prove it was done with this key. Throws on a malformed element.
 * noble's reference: the server's redemptions compute the same with libsodium (blind-evaluate.mjs, through
 * VoprfPool, about 9× faster), held to this one in tests/unit/blind-evaluate.test.ts. Kept on noble here so
 * that importing this module never loads libsodium on the main thread (see token-output.mjs).
 */
export function evaluateBlinded(key: MeetingKey, blinded: Bytes, rng?: (n: number) => Bytes): { evaluated: Bytes; proof: Bytes } {
  return voprf.blindEvaluate(key.secretKey, key.publicKey, blinded, rng);
}

/**
 * The output a token's input must come with: F(key, input), noble's reference. Casting computes the same
 * with libsodium (token-output.mjs, 9× faster), held to this one in tests/unit/token-output.test.ts.
 */
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
