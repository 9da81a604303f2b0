import { z } from 'zod';
import { Id } from '../shared/params.ts';
import { nonEmptyPatch } from '../http-errors.ts';

/**
 * The 考察 workspace's requests and answers. Talks, records, inquiries, the 鉴定表 and the report's
 * texts: named, not secret, and never in an answer that also carries ballot figures (the report's
 * answer carries section 二's figures and the team's texts for 一, 三–五, nothing else).
 */

const shortLabel = (max: number) => z.string().trim().min(1).max(max);
const unique = (xs: string[]) => new Set(xs).size === xs.length;

export const MeetingParams = z.object({ id: Id });
export const CampaignParams = z.object({ id: Id });
export const TalkParams = MeetingParams.extend({ talkId: Id });
export const InquiryParams = MeetingParams.extend({ inquiryId: Id });
export const ImportParams = z.object({ id: Id });

// ---- per-campaign settings (the township edits them) ----

export const AppraisalTemplate = z
  .object({
    title: shortLabel(30),
    sections: z.array(z.object({ title: shortLabel(12), fields: z.array(shortLabel(12)).min(1).max(6) })).min(1).max(2),
    /** 等次 */
    grades: z.array(shortLabel(6)).min(2).max(6).refine(unique, { message: '等次不能重复' }),
  })
  .refine((t) => unique(t.sections.flatMap((s) => s.fields)), { message: '鉴定表的项目名称不能重复' });
export type AppraisalTemplate = z.infer<typeof AppraisalTemplate>;

export const InspectionSettings = z.object({
  /** 查阅资料: the kinds of records the team reads. */
  records: z.array(shortLabel(20)).min(1).max(12).refine(unique, { message: '资料名称不能重复' }),
  appraisal: AppraisalTemplate,
});
export type InspectionSettings = z.infer<typeof InspectionSettings>;

/** The notice's own lists (§三, §四.5): the defaults of every new campaign. */
export function defaultInspectionSettings(): InspectionSettings {
  return {
    records: ['会议记录', '学习记录', '坐班值班记录'],
    appraisal: {
      title: '党支部政治建设考察鉴定表',
      sections: [
        { title: '政治建设考察', fields: ['把握政治方向', '夯实政治根基', '严肃政治生活', '提高政治能力', '严格政治自律'] },
        { title: '年度工作考核', fields: ['组织纪律', '工作态度', '财务制度', '工作业绩', '廉洁自律'] },
      ],
      grades: ['好', '较好', '一般', '差'],
    },
  };
}

// ---- the workspace ----

const Guard = z.object({ ok: z.boolean(), reason: z.string().optional(), message: z.string().optional() });

export const TalkRule = z.object({
  text: z.string(),
  everyone: z.boolean(),
  total: z.number(),
  drawn: z.number(),
  shortfall: z.number(),
});

export const DrawInfo = z.object({
  round: z.number(),
  kind: z.enum(['draw', 'redraw', 'extend', 'everyone']),
  seed: z.string(),
  seedInput: z.string(),
  identity: z.string(),
  poolSize: z.number(),
  poolDigest: z.string(),
  drawnCount: z.number(),
  reason: z.string().nullable(),
  actor: z.string().nullable(),
  at: z.string(),
  /** The command that recomputes this draw offline, given the candidates file. */
  command: z.string(),
});
export type DrawInfo = z.infer<typeof DrawInfo>;

export const Talk = z.object({
  id: z.number(),
  name: z.string(),
  role: z.enum(['team', 'drawn', 'added']),
  detail: z.string(),
  drawRank: z.number().nullable(),
  done: z.boolean(),
  notes: z.string(),
  updatedAt: z.string().nullable(),
});
export type Talk = z.infer<typeof Talk>;

export const RecordItem = z.object({ label: z.string(), checked: z.boolean(), findings: z.string(), updatedAt: z.string().nullable(), inSettings: z.boolean() });
export const Inquiry = z.object({ id: z.number(), title: z.string(), body: z.string(), createdAt: z.string(), updatedAt: z.string().nullable() });
export const Appraisal = z.object({
  template: AppraisalTemplate,
  values: z.record(z.string(), z.string()),
  grade: z.string(),
  comment: z.string(),
  updatedAt: z.string().nullable(),
});
export const ReportTexts = z.object({
  section1Note: z.string(),
  section3: z.string(),
  section4: z.string(),
  section5: z.string(),
  /** 碰头会 notes: shown beside sections 三–五 while writing; never printed in the report. */
  meetingNotes: z.string(),
  updatedAt: z.string().nullable(),
});

export const Workspace = z.object({
  meeting: z.object({
    id: z.number(),
    unitId: z.number(),
    unitName: z.string(),
    unitKind: z.enum(['village', 'community', 'station']),
    township: z.string(),
    year: z.number(),
    state: z.enum(['draft', 'signin', 'voting', 'closed', 'sealed']),
    stateLabel: z.string(),
    inspectionTeam: z.string(),
    plannedAt: z.string().nullable(),
    identity: z.string(),
  }),
  talks: z.object({
    rule: TalkRule,
    /** The pool as the roster stands now (signed in, team members left out; a station: every staff member). */
    pool: z.object({ size: z.number(), digest: z.string() }),
    team: z.array(z.object({ name: z.string(), position: z.string() })),
    draw: DrawInfo.nullable(),
    history: z.array(DrawInfo),
    people: z.array(Talk),
    done: z.number(),
    canDraw: Guard,
  }),
  records: z.array(RecordItem),
  inquiries: z.array(Inquiry),
  appraisal: Appraisal,
  report: ReportTexts,
});
export type Workspace = z.infer<typeof Workspace>;

// ---- requests ----

export const DrawBody = z.object({
  /** As announced in the room; a station's list needs none. */
  seed: z.string().max(200).default(''),
  /** More than the minimum if the team wants (never fewer). */
  count: z.number().int().min(0).max(5000).nullable().optional(),
  /** Required to draw again. */
  reason: z.string().trim().max(200).nullable().optional(),
});
export const ExtendBody = z.object({ count: z.number().int().min(1).max(5000) });
export const AddTalkBody = z.object({ name: shortLabel(20), detail: z.string().trim().max(30).default('') });
export const TalkPatch = nonEmptyPatch(z.object({ done: z.boolean().optional(), notes: z.string().max(4000).optional() }));
export const RecordsBody = z.object({
  records: z.array(z.object({ label: shortLabel(20), checked: z.boolean(), findings: z.string().max(4000) })).max(30),
});
export const InquiryBody = z.object({ title: shortLabel(60), body: z.string().max(8000).default('') });
export const AppraisalBody = z.object({
  values: z.record(z.string().max(12), z.string().trim().max(80)),
  grade: z.string().max(6),
  comment: z.string().trim().max(300),
});
export const ReportBody = z.object({
  section1Note: z.string().max(4000),
  section3: z.string().max(20000),
  section4: z.string().max(20000),
  section5: z.string().max(20000),
  meetingNotes: z.string().max(20000),
});

// ---- the campaign's year view ----

export const ProgressRow = z.object({
  unitId: z.number(),
  unitName: z.string(),
  unitKind: z.enum(['village', 'community', 'station']),
  meetingId: z.number().nullable(),
  stateLabel: z.string(),
  talks: z.object({ done: z.number(), listed: z.number(), minimum: z.number(), drawn: z.boolean() }),
  records: z.object({ checked: z.number(), total: z.number() }),
  /** 'empty' | 'partial' | 'filled' */
  appraisal: z.enum(['empty', 'partial', 'filled']),
  /** sections 三–五 written: 'empty' | 'partial' | 'drafted' */
  report: z.enum(['empty', 'partial', 'drafted']),
  sealed: z.boolean(),
});
export const Progress = z.object({ township: z.string(), year: z.number(), campaign: z.string(), rows: z.array(ProgressRow) });
export type Progress = z.infer<typeof Progress>;
export type ProgressRow = z.infer<typeof ProgressRow>;

// ---- the year's 考察 file (export/import): no ballot data in it, only what the team wrote ----

export const INSPECTION_FILE_FORMAT = 'ceping.inspection-year' as const;

const FileTalk = z.strictObject({ name: z.string().max(40), role: z.enum(['team', 'drawn', 'added']), detail: z.string().max(60), drawRank: z.number().int().nullable(), done: z.boolean(), notes: z.string().max(4000) });
const FileDraw = z.strictObject({
  round: z.number().int(), kind: z.enum(['draw', 'redraw', 'extend', 'everyone']), seed: z.string().max(200), seedInput: z.string().max(200), identity: z.string().max(300),
  pool: z.array(z.string().max(40)).max(5000), poolDigest: z.string().max(40), drawnCount: z.number().int(), reason: z.string().max(200).nullable(), actor: z.string().max(60).nullable(), at: z.string().max(40),
});
export const InspectionFileUnit = z.strictObject({
  unitName: z.string().max(60),
  unitKind: z.enum(['village', 'community', 'station']),
  meetingId: z.number().int(),
  plannedAt: z.string().max(40).nullable(),
  inspectionTeam: z.string().max(100),
  sealedAt: z.string().max(40).nullable(),
  /** The sealed archive the report's section 二 was built from (SHA-256 of its record), if sealed. */
  archiveSha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  team: z.array(z.strictObject({ name: z.string().max(40), position: z.string().max(60) })).max(60),
  draws: z.array(FileDraw).max(100),
  talks: z.array(FileTalk).max(5000),
  records: z.array(z.strictObject({ label: z.string().max(20), checked: z.boolean(), findings: z.string().max(4000) })).max(30),
  inquiries: z.array(z.strictObject({ title: z.string().max(60), body: z.string().max(8000), createdAt: z.string().max(40) })).max(200),
  appraisal: z.strictObject({ values: z.record(z.string().max(12), z.string().max(80)), grade: z.string().max(6), comment: z.string().max(300) }).nullable(),
  report: z.strictObject({ section1Note: z.string().max(4000), section3: z.string().max(20000), section4: z.string().max(20000), section5: z.string().max(20000), meetingNotes: z.string().max(20000) }).nullable(),
});
export type InspectionFileUnit = z.infer<typeof InspectionFileUnit>;

export const InspectionFile = z.strictObject({
  format: z.literal(INSPECTION_FILE_FORMAT),
  version: z.literal(1),
  township: z.string().max(40),
  year: z.number().int(),
  campaign: z.string().max(100),
  exportedAt: z.string().max(40),
  settings: InspectionSettings,
  units: z.array(InspectionFileUnit).max(500),
  /** SHA-256 over the canonical JSON of everything above: catches a damaged file, not a forged one. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type InspectionFile = z.infer<typeof InspectionFile>;

export const ImportedInspection = z.object({
  id: z.number(),
  township: z.string(),
  year: z.number(),
  campaign: z.string(),
  units: z.number(),
  exportedAt: z.string(),
  label: z.string(),
  importedAt: z.string(),
  importedBy: z.string().nullable(),
});
export type ImportedInspection = z.infer<typeof ImportedInspection>;
export const InspectionImportResponse = z.object({ imported: ImportedInspection.nullable(), duplicate: z.boolean() });
