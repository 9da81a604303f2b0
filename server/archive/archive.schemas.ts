import { z } from 'zod';
import { BallotPackage, Form } from '../forms/form.schemas.ts';
import type { Results } from '../counting/tally.ts';
import { Results as ResultsSchema } from '../counting/results.schemas.ts';

/**
 * The sealed archive's file formats (see README.md in this folder). Every field of a
 * record is covered by its SHA-256 and signature; verify reads files through these schemas.
 */

export const MEETING_ARCHIVE_FORMAT = 'ceping.meeting-archive';
/**
 * Version 2: every percentage is its own ratio rounded half up, and recommendations carry their rank.
 * Version 1 files (rows apportioned to 100.0%, no rank) still verify: their counts are recounted, and
 * their percentages are reported as made by the old rule.
 */
export const MEETING_ARCHIVE_VERSION = 2;
export const YEAR_ARCHIVE_FORMAT = 'ceping.year-archive';

const count = z.number().int().min(0);
const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

export const ArchiveSigner = z.strictObject({ publicKeyPem: z.string().max(2000), fingerprint: z.string().max(40) });
export type ArchiveSigner = z.infer<typeof ArchiveSigner>;

export const ArchiveTurnout = z.strictObject({
  /** 应到 */ expected: count,
  /** 实到 */ present: count,
  /** 发出 */ issued: count,
  /** 收回 */ returned: count,
  /** of 收回, entered from paper */ paper: count,
  /** paper forms handed out (absent in archives sealed before Ceping 0.2) */ paperIssued: count.optional(),
  /** 补发: each one more issued than signed in (absent before Ceping 0.2) */ reissued: count.optional(),
});

export const ArchiveAuditEntry = z.strictObject({
  at: z.string(),
  event: z.string(),
  actor: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()),
});

export const ArchiveRecord = z.strictObject({
  format: z.literal(MEETING_ARCHIVE_FORMAT),
  version: z.union([z.literal(1), z.literal(MEETING_ARCHIVE_VERSION)]),
  township: z.string(),
  year: z.number().int(),
  campaign: z.string(),
  unit: z.strictObject({ name: z.string(), kind: z.enum(['village', 'community', 'station']) }),
  meeting: z.strictObject({
    /** The meeting's number on the server that sealed it (for reference between files; not a ballot key). */
    id: z.number().int(),
    plannedAt: z.string().nullable(),
    location: z.string(),
    inspectionTeam: z.string(),
    signinStartedAt: z.string().nullable(),
    votingOpenedAt: z.string().nullable(),
    votingClosedAt: z.string().nullable(),
    sealedAt: z.string(),
    quorumOverrideReason: z.string().nullable(),
    /** The voting key's fingerprint that every phone showed (absent before Ceping 0.2). */
    keyFingerprint: z.string().nullable().optional(),
  }),
  /** The frozen form the meeting voted on (the campaign's template resolved against the unit's team). */
  form: Form,
  turnout: ArchiveTurnout,
  /** computeResults() of the meeting's counters at sealing; verify recounts the ballots and compares. */
  results: z.custom<Results>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), { message: 'results must be an object' }),
  /** Every counted ballot as its normalized package, in a random order, with no id, time or source. */
  ballots: z.array(BallotPackage),
  /** Counts from the sign-in sheet only; the sheet itself (names) is a separate attendance document. */
  roster: z.strictObject({
    expected: count,
    present: count,
    categories: z.array(z.strictObject({ category: z.string(), expected: count, present: count })),
  }),
  /** The meeting's admin actions up to and including the seal. */
  audit: z.array(ArchiveAuditEntry),
  signer: ArchiveSigner,
});
export type ArchiveRecord = z.infer<typeof ArchiveRecord>;

/** One meeting's archive file: the record, SHA-256 (hex) of its canonical JSON, and the Ed25519 signature (base64) of those bytes. */
export const SignedArchive = z.strictObject({
  record: z.record(z.string(), z.unknown()),
  sha256: Sha256Hex,
  signature: z.string().max(200),
});
export type SignedArchive = z.infer<typeof SignedArchive>;

export const YearManifest = z.strictObject({
  township: z.string(),
  year: z.number().int(),
  campaign: z.string(),
  campaignId: z.number().int(),
  exportedAt: z.string(),
  /** Every sealed meeting of the campaign at export time; a file missing one of them fails verification. */
  meetings: z.array(z.strictObject({ meetingId: z.number().int(), unitName: z.string(), sealedAt: z.string(), sha256: Sha256Hex })),
  signer: ArchiveSigner,
});
export type YearManifest = z.infer<typeof YearManifest>;

/** A whole year (one campaign): a signed manifest listing every sealed meeting, and each meeting's own signed archive. */
export const YearArchive = z.strictObject({
  format: z.literal(YEAR_ARCHIVE_FORMAT),
  version: z.literal(1),
  manifest: z.record(z.string(), z.unknown()),
  sha256: Sha256Hex,
  signature: z.string().max(200),
  archives: z.array(z.unknown()),
});
export type YearArchive = z.infer<typeof YearArchive>;

// ---- API ----

/** A meeting's archive file as downloaded (the record's results in full; see README.md). */
export const MeetingArchiveFile = z.strictObject({ record: ArchiveRecord.extend({ results: ResultsSchema }), sha256: Sha256Hex, signature: z.string() });

/** A year's archive file as downloaded. */
export const YearArchiveFile = z.strictObject({
  format: z.literal(YEAR_ARCHIVE_FORMAT),
  version: z.literal(1),
  manifest: YearManifest,
  sha256: Sha256Hex,
  signature: z.string(),
  archives: z.array(MeetingArchiveFile),
});

/** What POST /api/archives/import takes: a year file or one meeting's file, as downloaded. */
export const ArchiveFile = z.union([YearArchive, SignedArchive]);

export const PublicKeyResponse = z.object({ publicKeyPem: z.string(), fingerprint: z.string() });

export const ReceiptCheckRequest = z.object({ receipt: z.string().max(40) });
export const ReceiptCheckResponse = z.object({
  found: z.boolean(),
  status: z.enum(['included', 'not_found', 'not_sealed']),
  message: z.enum(['已计入', '未找到', '会议结果封存后才能查询']),
  unitName: z.string().optional(),
});
export type ReceiptCheckResponse = z.infer<typeof ReceiptCheckResponse>;

export const Check = z.object({ id: z.string(), ok: z.boolean(), zh: z.string(), en: z.string(), warning: z.boolean().optional() });
export type Check = z.infer<typeof Check>;

export const ImportedArchive = z.object({
  id: z.number(),
  township: z.string(),
  year: z.number(),
  unitName: z.string(),
  sealedAt: z.string(),
  sha256: z.string(),
  fingerprint: z.string(),
  verified: z.boolean(),
  problems: z.array(z.string()),
  importedAt: z.string(),
  importedBy: z.string().nullable(),
  source: z.object({ format: z.string(), label: z.string(), exportedAt: z.string().nullable(), manifestVerified: z.boolean().nullable() }),
});
export type ImportedArchive = z.infer<typeof ImportedArchive>;

export const ImportResponse = z.object({
  imported: z.array(ImportedArchive),
  duplicates: z.number(),
  manifest: z.object({ verified: z.boolean(), problems: z.array(z.string()) }).nullable(),
});
export type ImportResponse = z.infer<typeof ImportResponse>;
