import { z } from 'zod';
import { BallotPackage, Form } from '../forms/form.schemas.ts';

/** The secret from the QR fragment (22 characters) or the 8-character short code typed by hand. */
export const Credential = z.string().trim().min(8).max(40);

export const StatusRequest = z.object({ credential: Credential });
export const VoterState = z.enum(['ready', 'used', 'not_open', 'closed']);
export type VoterState = z.infer<typeof VoterState>;
export const StatusResponse = z.object({
  state: VoterState,
  rehearsal: z.boolean(),
  unitName: z.string(),
  /** Present when state is 'ready' (and for a rehearsal before voting opens). */
  form: Form.nullable(),
});
export type StatusResponse = z.infer<typeof StatusResponse>;

export const CastRequest = z.object({
  credential: Credential,
  /** The phone's own random secret (16 bytes, base64url); the receipt and the retry check derive from it. */
  nonce: z.string().regex(/^[A-Za-z0-9_-]{22}$/),
  package: BallotPackage,
});
export type CastRequest = z.infer<typeof CastRequest>;

export const CastResponse = z.object({
  receipt: z.string(),
  /** True when this exact package had already been recorded (a retry after a lost reply). */
  alreadyRecorded: z.boolean(),
  rehearsal: z.boolean(),
});
export type CastResponse = z.infer<typeof CastResponse>;

export const ErrorResponse = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
