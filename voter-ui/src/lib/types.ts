/**
 * The server's request and response types, imported as types only: a changed API breaks this build,
 * and no server code or zod reaches the phone. (tests/voter/bundle.test.ts checks the bundle for zod.)
 */
import type { z } from 'zod';
import type { ABSTAIN as ServerAbstain } from '../../../server/forms/form.schemas.ts';
import type { ErrorBody as ErrorSchema } from '../../../server/error.schemas.ts';
import type { MeetingStatusRequest as MeetingStatusRequestSchema, RedeemRequest as RedeemRequestSchema } from '../../../server/ballots/voter.schemas.ts';
import type { ReceiptCheckRequest as ReceiptCheckRequestSchema } from '../../../server/archive/archive.schemas.ts';

export type {
  BallotPackage,
  CommentPart,
  Form,
  FormPart,
  PartKey,
  Quota,
  RatingPart,
  RecommendPart,
  Subject,
} from '../../../server/forms/form.schemas.ts';
export type { CastRequest, CastResponse, MeetingStatusResponse, RedeemResponse, Token } from '../../../server/ballots/voter.schemas.ts';
export type RedeemRequest = z.input<typeof RedeemRequestSchema>;
export type MeetingStatusRequest = z.input<typeof MeetingStatusRequestSchema>;
export type { ReceiptCheckResponse } from '../../../server/archive/archive.schemas.ts';
export type ReceiptCheckRequest = z.infer<typeof ReceiptCheckRequestSchema>;

/** The value of a subject the voter abstained on. Typed by the server's constant, so the two cannot drift. */
export const ABSTAIN: typeof ServerAbstain = 'abstain';

/** The body of every refusal. */
export type ErrorBody = z.infer<typeof ErrorSchema>;
