import { z } from 'zod';
import { Percent, Rate, Results } from '../counting/results.schemas.ts';
import { Meeting } from '../meetings/meetings.schemas.ts';

/** What the report routes answer; the types in reports.types.ts and summary.ts are inferred from these. */

export const SummaryRow = z.object({
  meetingId: z.number().int(),
  unitName: z.string(),
  unitKind: z.string(),
  state: z.string(),
  stateLabel: z.string(),
  turnout: Meeting.shape.turnout,
  /** Part A's overall 好评率 (with its counts: a threshold is judged from them, not from the rounded figure). */
  politicalGood: Rate.nullable(),
  /** Part B's 班子集体 优秀率 and 称职以上率. */
  teamExcellent: Rate.nullable(),
  teamCompetentOrBetter: Rate.nullable(),
  /** Team members with a review flag (不称职 > 1/3 or 优秀+称职 < 2/3). */
  flaggedMembers: z.array(z.string()),
  /** Part C's 好评率. */
  secretaryGood: Rate.nullable(),
  /** Everyone with the most votes in part D: all of them when tied (并列第1). */
  topRecommended: z.object({ names: z.array(z.string()), votes: z.number().int(), share: Percent }).nullable(),
});

/** GET /api/campaigns/:id/summary */
export const CampaignSummary = z.object({ year: z.number().int(), township: z.string(), rows: z.array(SummaryRow) });

/** GET /api/meetings/:id/report */
export const MeetingReport = z.object({
  meeting: Meeting,
  results: Results,
  paragraph: z.string(),
  /** Part E, in a keyed random order: unrelated to the order of casting. */
  comments: z.array(z.string()),
});

/** GET /api/imported-archives/:id/report: a meeting sealed on another Ceping, read from its archive. */
export const ImportedReport = z.object({
  report: MeetingReport,
  /** Whether the archive verified (signature, hash, recount) when it was imported. */
  verified: z.boolean(),
  problems: z.array(z.string()),
  /** The fingerprint of the key that signed it (not this server's). */
  fingerprint: z.string(),
});
