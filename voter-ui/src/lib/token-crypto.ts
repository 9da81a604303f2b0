/**
 * The phone's half of the two-phase credential (RFC 9497 VOPRF, ristretto255-SHA512): blind a random
 * input before redeeming the ticket, then check the server's proof against the meeting key and unblind
 * the evaluation into the token. Loaded on its own (dynamic import) and only where BigInt exists: the
 * curve code needs it as soon as it loads, and a phone without it takes the assisted path instead.
 * The curve code is the page's own (voprf-client.ts, a tenth of @noble/curves' size); the server's is noble.
 */
import { blindInput, finalizeToken } from './voprf-client.ts';
import { fromB64u, toB64u } from '../../../server/credentials/encoding.ts';

/** What the phone keeps before sending a redemption, so a lost reply can be resent exactly as it was. */
export interface Blinding {
  input: string;
  blind: string;
  blinded: string;
}

export function newBlinding(): Blinding {
  const input = crypto.getRandomValues(new Uint8Array(32));
  const b = blindInput(input);
  return { input: toB64u(input), blind: toB64u(b.blind), blinded: toB64u(b.blinded) };
}

/** The token's output, or null when the proof does not hold for this key (never use such an evaluation). */
export function finishToken(b: Blinding, reply: { evaluated: string; proof: string; publicKey: string }): string | null {
  const input = fromB64u(b.input, 32);
  const blind = fromB64u(b.blind, 32);
  const blinded = fromB64u(b.blinded, 32);
  const evaluated = fromB64u(reply.evaluated, 32);
  const proof = fromB64u(reply.proof, 64);
  const publicKey = fromB64u(reply.publicKey, 32);
  if (!input || !blind || !blinded || !evaluated || !proof || !publicKey) return null;
  try {
    return toB64u(finalizeToken({ input, blind, blinded, evaluated, proof, publicKey }));
  } catch {
    return null;
  }
}

export type TokenCrypto = { newBlinding: typeof newBlinding; finishToken: typeof finishToken };
