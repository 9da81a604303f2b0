import { z } from 'zod';
import { Grade, PartKey, Scale, Subject } from '../forms/form.schemas.ts';

/**
 * The shape of computeResults() (tally.ts): every figure a meeting shows. The types tally.ts works
 * with are inferred from these schemas, so the API description and the code cannot drift apart.
 */

const count = z.number().int().min(0);

/** A percentage held in tenths of a percent (per mille), with its text to one decimal. */
export const Percent = z.object({ tenths: z.number().int(), text: z.string() });

/** A rate, with the counts it is the rounded ratio of, so any threshold can be judged exactly. */
export const Rate = Percent.extend({ count: count, of: count });

export const ResultsTurnout = z.object({
  /** 应到 */ expected: count,
  /** 实到 */ present: count,
  /** 发出 */ issued: count,
  /** 收回 */ returned: count,
  /** of which paper ballots */ paper: count.optional(),
  /** paper forms handed out (paper ballots never exceed it) */ paperIssued: count.optional(),
  /** 补发: tickets reissued to people whose phone failed after redeeming; each one more issued */ reissued: count.optional(),
});

export const RowFlag = z.enum(['INCOMPETENT_OVER_THIRD', 'COMPETENT_UNDER_TWO_THIRDS']);

export const RatingRow = z.object({
  subject: Subject,
  counts: z.array(count),
  abstain: count,
  shares: z.array(Percent),
  abstainShare: Percent,
  /** 好评率 (quality) or 优秀率/称职以上率/不称职率 (competence); null while there is no valid ballot. */
  rates: z
    .object({ good: Rate.optional(), excellent: Rate.optional(), competentOrBetter: Rate.optional(), incompetent: Rate.optional() })
    .nullable(),
  flags: z.array(RowFlag),
});

export const RatingResult = z.object({
  kind: z.literal('rating'),
  key: PartKey,
  title: z.string(),
  scale: Scale,
  grades: z.array(Grade),
  abstainLabel: z.string(),
  valid: count,
  void: count,
  rows: z.array(RatingRow),
});

export const RankedCandidate = z.object({
  name: z.string(),
  listed: z.boolean(),
  votes: count,
  share: Percent,
  /** Competition rank (1, 1, 1, 4 …): equal votes share a rank. null for no votes. */
  rank: z.number().int().nullable(),
  /** Another candidate has the same votes (and at least one vote). */
  tied: z.boolean(),
  /** 第1 / 并列第1, or — without votes. */
  rankText: z.string(),
});

export const RecommendResult = z.object({
  kind: z.literal('recommend'),
  key: PartKey,
  title: z.string(),
  maxPicks: z.number().int(),
  valid: count,
  void: count,
  ranking: z.array(RankedCandidate),
});

export const CommentResult = z.object({ kind: z.literal('comment'), key: PartKey, title: z.string(), valid: count, void: count, withText: count });

export const PartResult = z.discriminatedUnion('kind', [RatingResult, RecommendResult, CommentResult]);

export const Results = z.object({
  turnout: ResultsTurnout,
  /** Ballots with no void part (有效票) and ballots with at least one (含废票). */
  ballots: z.object({ valid: count, void: count }),
  parts: z.array(PartResult),
});
