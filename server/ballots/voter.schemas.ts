import { z } from 'zod';
import { BallotPackage, Form } from '../forms/form.schemas.ts';

const b64u = (bytes: number) => z.string().length(Math.ceil((bytes * 4) / 3)).regex(/^[A-Za-z0-9_-]+$/);

/** The ticket: the secret from the QR fragment (22 characters) or the 8-character short code typed by hand. */
export const Ticket = z.string().trim().min(8).max(40);

export const RedeemRequest = z.object({
  ticket: Ticket,
  /** The phone's blinded element (32 bytes, base64url); null for a phone that cannot blind (no BigInt). */
  blinded: b64u(32).nullable(),
});
export type RedeemRequest = z.infer<typeof RedeemRequest>;

export const RedeemResponse = z.object({
  meetingId: z.number().int(),
  /** The same for every voter of this meeting; lets the phone ask about the meeting without naming itself. */
  access: z.string(),
  unitName: z.string(),
  rehearsal: z.boolean(),
  /** The meeting's voting (or rehearsal) public key, base64url. The phone pins it at first contact. */
  publicKey: z.string(),
  /** SHA-256 fingerprint of publicKey as shown on the done screen and the projector ("3F2A 9C01 7B44 E0D2"). */
  keyFingerprint: z.string(),
  /** The evaluation of the blinded element and its DLEQ proof (RFC 9497 VOPRF), base64url; null when assisted. */
  evaluated: z.string().nullable(),
  proof: z.string().nullable(),
  /** Only when `blinded` was null: the token the server made for the phone (and did not keep). */
  token: z.object({ input: z.string(), output: z.string() }).nullable(),
});
export type RedeemResponse = z.infer<typeof RedeemResponse>;

export const MeetingStatusRequest = z.object({
  meetingId: z.number().int().positive(),
  access: z.string().min(1).max(100),
  /** Whether to include the form (the phone asks for it once; its frequent polls leave it out). */
  withForm: z.boolean().default(true),
});
export const VoterMeetingState = z.enum(['signin', 'voting', 'closed']);
export const MeetingStatusResponse = z.object({
  state: VoterMeetingState,
  unitName: z.string(),
  /** The meeting's voting-key fingerprint (null before sign-in starts). */
  keyFingerprint: z.string().nullable(),
  /** The frozen form while signing in (for a rehearsal) and voting, when asked for; null otherwise. */
  form: Form.nullable(),
});
export type MeetingStatusResponse = z.infer<typeof MeetingStatusResponse>;

export const Token = z.object({
  /** The phone's random 32-byte input, base64url. */
  input: b64u(32),
  /** F(meeting key, input), 64 bytes, base64url. */
  output: b64u(64),
});
export type Token = z.infer<typeof Token>;

export const CastRequest = z.object({
  meetingId: z.number().int().positive(),
  token: Token,
  package: BallotPackage,
});
export type CastRequest = z.infer<typeof CastRequest>;

export const CastResponse = z.object({
  receipt: z.string(),
  /** True when this exact package had already been recorded with this token (a retry after a lost reply). */
  alreadyRecorded: z.boolean(),
  rehearsal: z.boolean(),
});
export type CastResponse = z.infer<typeof CastResponse>;
