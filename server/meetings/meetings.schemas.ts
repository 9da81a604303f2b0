import { z } from 'zod';
import { Turnout } from '../live/live.schemas.ts';
import { BallotPackage } from '../forms/form.schemas.ts';
import { PaperPartPreview } from '../ballots/paper-preview.ts';
import { Id } from '../shared/params.ts';
import { nonEmptyPatch } from '../http-errors.ts';

export const MeetingParams = z.object({ id: Id });
export const UnitParams = z.object({ unitId: Id });

export const MeetingInput = z.object({
  plannedAt: z.string().max(40).nullable().optional(),
  location: z.string().trim().max(60).optional(),
  inspectionTeam: z.string().trim().max(100).optional(),
  liveK: z.number().int().min(3).max(50).optional(),
  projectorShowsDistributions: z.boolean().optional(),
});
export const MeetingPatch = nonEmptyPatch(MeetingInput);

export const Meeting = z.object({
  id: z.number(),
  unitId: z.number(),
  unitName: z.string(),
  unitKind: z.enum(['village', 'community', 'station']),
  campaignId: z.number(),
  year: z.number(),
  township: z.string(),
  state: z.enum(['draft', 'signin', 'voting', 'closed', 'sealed']),
  stateLabel: z.string(),
  plannedAt: z.string().nullable(),
  location: z.string(),
  inspectionTeam: z.string(),
  liveK: z.number(),
  projectorShowsDistributions: z.boolean(),
  quorum: z.object({ needed: z.number(), text: z.string(), met: z.boolean() }),
  quorumOverrideReason: z.string().nullable(),
  turnout: Turnout,
  signinStartedAt: z.string().nullable(),
  votingOpenedAt: z.string().nullable(),
  votingClosedAt: z.string().nullable(),
  sealedAt: z.string().nullable(),
  /** Fingerprint of the meeting's voting key (from sign-in on): every phone shows the same on its done screen. */
  keyFingerprint: z.string().nullable(),
  /** Whether the file has been rebuilt since close (sealing waits for it). */
  compacted: z.boolean(),
});

export const OpenVotingBody = z.object({ overrideReason: z.string().trim().max(500).nullable().optional() });
export const GuardResponse = z.object({
  ok: z.boolean(),
  reason: z.string().optional(),
  message: z.string().optional(),
  needed: z.number().optional(),
  present: z.number().optional(),
});

export const AuditEntry = z.object({
  id: z.number(),
  at: z.string(),
  event: z.string(),
  meetingId: z.number().nullable(),
  actor: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()),
});

export const PendingParams = MeetingParams.extend({ pendingId: z.string().regex(/^[0-9a-f]{32}$/) });
export const ConfirmPaperBody = z.object({ username: z.string().max(40).optional(), password: z.string().max(200).optional() }).default({});
export const PendingPaperList = z.object({
  pending: z.array(
    z.object({
      id: z.string(),
      package: BallotPackage,
      /** What each part will count as (废票 / 弃权) and why, as the person typing it saw it. */
      preview: z.array(PaperPartPreview),
      enteredBy: z.object({ id: z.number(), displayName: z.string() }),
    }),
  ),
});
