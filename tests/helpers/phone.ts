import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from './harness.ts';
import type { BallotPackage } from '../../server/forms/form.schemas.ts';
import { fromB64u, toB64u } from '../../server/credentials/voprf.ts';
// The phone's half on libsodium, not noble: the same steps, a tenth of the CPU (tests/helpers/voprf-sodium.ts).
import { blindInput, finalizeToken } from './voprf-sodium.ts';

/** What a phone holds after redeeming a ticket: the token, and how to ask about its meeting. */
export interface PhoneToken {
  meetingId: number;
  access: string;
  input: string;
  output: string;
  rehearsal: boolean;
  publicKey: string;
  keyFingerprint: string;
}

/** The blinding a phone keeps before it sends a redemption (so a lost reply can be resent as it was). */
export interface Blinding {
  input: Uint8Array;
  blind: Uint8Array;
  blinded: Uint8Array;
}

export function newBlinding(): Blinding {
  const input = new Uint8Array(randomBytes(32));
  return { input, ...blindInput(input) };
}

export function redeemRequest(t: TestApp, ticket: string, blinded: string | null): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url: '/api/voter/redeem', payload: { ticket, blinded } });
}

/** Finish a redemption as the phone page does: check the proof against the key, unblind. */
export function finishRedemption(b: Blinding, body: Record<string, unknown>): PhoneToken {
  const publicKey = fromB64u(String(body.publicKey), 32)!;
  const output = finalizeToken({
    input: b.input,
    blind: b.blind,
    blinded: b.blinded,
    evaluated: fromB64u(String(body.evaluated), 32)!,
    proof: fromB64u(String(body.proof), 64)!,
    publicKey,
  });
  return {
    meetingId: body.meetingId as number,
    access: body.access as string,
    input: toB64u(b.input),
    output: toB64u(output),
    rehearsal: body.rehearsal as boolean,
    publicKey: body.publicKey as string,
    keyFingerprint: body.keyFingerprint as string,
  };
}

/** Redeem a ticket (the QR's secret or a typed short code) the way the phone page does; throws unless 200. */
export async function redeem(t: TestApp, ticket: string, o: { assisted?: boolean } = {}): Promise<PhoneToken> {
  if (o.assisted) {
    const res = await redeemRequest(t, ticket, null);
    if (res.statusCode !== 200) throw new Error(`redeem → ${res.statusCode} ${res.body}`);
    const body = res.json();
    return { meetingId: body.meetingId, access: body.access, input: body.token.input, output: body.token.output, rehearsal: body.rehearsal, publicKey: body.publicKey, keyFingerprint: body.keyFingerprint };
  }
  const b = newBlinding();
  const res = await redeemRequest(t, ticket, toB64u(b.blinded));
  if (res.statusCode !== 200) throw new Error(`redeem → ${res.statusCode} ${res.body}`);
  return finishRedemption(b, res.json());
}

export function castPayload(token: PhoneToken, pkg: BallotPackage) {
  return { meetingId: token.meetingId, token: { input: token.input, output: token.output }, package: pkg };
}

export function cast(t: TestApp, token: PhoneToken, pkg: BallotPackage): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url: '/api/voter/cast', payload: castPayload(token, pkg) });
}

export function meetingStatus(t: TestApp, token: Pick<PhoneToken, 'meetingId' | 'access'>): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url: '/api/voter/meeting', payload: { meetingId: token.meetingId, access: token.access } });
}
