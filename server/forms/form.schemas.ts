import { z } from 'zod';

/**
 * Templates (per campaign, edited by the township) and forms (per meeting: a template resolved
 * against one unit's team, frozen when sign-in starts). Every type here comes from its schema.
 */

export const PartKey = z.enum(['A', 'B', 'C', 'D', 'E']);
export type PartKey = z.infer<typeof PartKey>;

const key = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/);
const label = z.string().trim().min(1).max(60);

export const Grade = z.object({ key, label });
export type Grade = z.infer<typeof Grade>;

/** The rates a part reports depend on its scale; grades are read by position (best first). */
export const Scale = z.enum(['quality', 'competence']);
export type Scale = z.infer<typeof Scale>;

export const Quota = z
  .object({
    grade: key,
    /** At most this many subjects may get the grade on one ballot. */
    max: z.number().int().min(0).nullable(),
    /** At most this share (0..1) of the counted subjects, rounded down. */
    maxShare: z.number().min(0).max(1).nullable(),
    /** 'members' leaves the collective (班子集体) out of the count and the limit. */
    scope: z.enum(['all', 'members']),
  })
  .refine((q) => q.max !== null || q.maxShare !== null, { message: 'quota needs max or maxShare' });
export type Quota = z.infer<typeof Quota>;

const ratingCommon = {
  key: PartKey,
  title: label,
  scale: Scale,
  grades: z.array(Grade).min(2).max(6),
  /** Label of the explicit abstain choice (弃权 / 不了解), or null when every subject must be graded. */
  abstainLabel: z
    .string()
    .trim()
    .min(1)
    .max(10)
    .nullable()
    .describe("label of the abstain choice (弃权 / 不了解), answered with the grade key 'abstain'; null: every subject must be graded"),
  quotas: z.array(Quota).max(4),
  guidance: z.array(z.string().max(300)).max(10),
};

export const SubjectSource = z.discriminatedUnion('type', [
  z.object({ type: z.literal('static'), items: z.array(label).min(1).max(30) }),
  /** 班子集体 followed by each team member; with criteria, each member is rated per criterion. */
  z.object({ type: z.literal('team'), collectiveLabel: label, criteria: z.array(label).max(8).nullable() }),
  /** The secretary's party-building report, graded on these items. */
  z.object({ type: z.literal('secretary'), items: z.array(label).min(1).max(10) }),
]);
export type SubjectSource = z.infer<typeof SubjectSource>;

export const TemplateRatingPart = z.object({ kind: z.literal('rating'), ...ratingCommon, source: SubjectSource });
export const TemplateRecommendPart = z.object({
  kind: z.literal('recommend'),
  key: PartKey,
  title: label,
  maxPicks: z.number().int().min(1).max(20),
  allowWriteIn: z.boolean(),
});
export const CommentPart = z.object({
  kind: z.literal('comment'),
  key: PartKey,
  title: label,
  maxLength: z.number().int().min(10).max(2000),
});
export type CommentPart = z.infer<typeof CommentPart>;

export const TemplatePart = z.discriminatedUnion('kind', [TemplateRatingPart, TemplateRecommendPart, CommentPart]);
export type TemplatePart = z.infer<typeof TemplatePart>;

export const Template = z
  .object({ parts: z.array(TemplatePart).min(1).max(5) })
  .refine((t) => new Set(t.parts.map((p) => p.key)).size === t.parts.length, { message: 'part keys must be unique' });
export type Template = z.infer<typeof Template>;

// ---- resolved form (what the phone shows and the server validates against) ----

export const Subject = z.object({
  key,
  label: z.string().min(1).max(60),
  /** Position, or the member a criterion belongs to. */
  detail: z.string().max(60).nullable(),
  /** Whether the subject is a team member (quota scope 'members'). */
  member: z.boolean(),
});
export type Subject = z.infer<typeof Subject>;

export const RatingPart = z.object({
  kind: z.literal('rating'),
  ...ratingCommon,
  /** Shown under the title, e.g. the secretary's name for part C. */
  subtitle: z.string().max(80).nullable(),
  subjects: z.array(Subject).min(1).max(400),
});
export type RatingPart = z.infer<typeof RatingPart>;

export const Candidate = z.object({ key, name: z.string().min(1).max(30) });
export const RecommendPart = z.object({
  kind: z.literal('recommend'),
  key: PartKey,
  title: label,
  maxPicks: z.number().int().min(1).max(20),
  allowWriteIn: z.boolean(),
  candidates: z.array(Candidate).max(100),
});
export type RecommendPart = z.infer<typeof RecommendPart>;

export const FormPart = z.discriminatedUnion('kind', [RatingPart, RecommendPart, CommentPart]);
export type FormPart = z.infer<typeof FormPart>;

export const Form = z.object({
  unitName: z.string(),
  parts: z.array(FormPart),
});
export type Form = z.infer<typeof Form>;

// ---- the ballot package (one per attendee, all parts together) ----

/** The value of a subject the voter chose to abstain on (or, on paper, left blank). */
export const ABSTAIN = 'abstain';

/**
 * A rating part's answer: subject key → grade key. Besides the part's own grades, 'abstain' is the
 * key of the part's abstain choice (its abstainLabel, e.g. 不了解 or 弃权) where abstainLabel is not null.
 */
export const RatingAnswer = z.strictObject({
  grades: z.record(
    z.string().max(40),
    z.union([
      z.literal(ABSTAIN).describe("the part's abstain choice (abstainLabel, e.g. 不了解); allowed where abstainLabel is not null"),
      z.string().max(40).describe("a key of the part's grades"),
    ]),
  ),
});
export const RecommendAnswer = z.strictObject({
  picks: z.array(z.string().max(40)).max(20),
  writeIns: z.array(z.string().trim().min(1).max(30)).max(20),
});
export const CommentAnswer = z.strictObject({ text: z.string().max(2000) });
/** Only a paper ballot can have a void part (over quota or unreadable); the phone refuses instead. */
export const VoidAnswer = z.strictObject({ void: z.literal(true) });

export const PartAnswer = z.union([RatingAnswer, RecommendAnswer, CommentAnswer, VoidAnswer]);
export type PartAnswer = z.infer<typeof PartAnswer>;

export const BallotPackage = z.partialRecord(PartKey, PartAnswer);
export type BallotPackage = z.infer<typeof BallotPackage>;

export type BallotSource = 'phone' | 'paper';
