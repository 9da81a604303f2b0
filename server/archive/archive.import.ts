import { DomainError } from '../errors.ts';
import { canonicalJson } from './canonical.ts';
import { sha256Hex } from './archive.build.ts';
import { verifyMeetingArchive, verifyYearArchive, type MeetingVerification } from './archive.verify.ts';
import { MEETING_ARCHIVE_FORMAT, SignedArchive, YEAR_ARCHIVE_FORMAT, YearArchive, type ImportResponse } from './archive.schemas.ts';

/**
 * Everything an archive import computes before it touches the database: read the file, verify every
 * signature and recount every ballot. Pure and CPU-bound, so the server runs it in the file worker
 * (imports/sandbox.ts); the service then only stores the rows.
 */

export interface PreparedArchive {
  fileJson: string;
  fileSha256: string;
  sha256: string;
  verified: boolean;
  reportJson: string;
  township: string;
  year: number;
  unitName: string;
  sealedAt: string;
  fingerprint: string;
}

export interface PreparedImport {
  format: typeof MEETING_ARCHIVE_FORMAT | typeof YEAR_ARCHIVE_FORMAT;
  exportedAt: string | null;
  manifest: ImportResponse['manifest'];
  /** null: an entry of a year file that is not a meeting archive at all (listed as a problem, not stored). */
  archives: (PreparedArchive | null)[];
}

function problemsOf(v: MeetingVerification): string[] {
  return v.checks.filter((c) => !c.ok && !c.warning).map((c) => c.zh);
}

function prepareOne(value: unknown, v: MeetingVerification): PreparedArchive | null {
  const env = SignedArchive.safeParse(value);
  if (!env.success) return null;
  const { record, sha256, signature } = env.data;
  let fileJson: string;
  try {
    fileJson = canonicalJson({ record, sha256, signature });
  } catch {
    return null; // a string no canonical JSON can hold (a lone surrogate)
  }
  return {
    fileJson,
    fileSha256: sha256Hex(Buffer.from(fileJson, 'utf8')),
    sha256,
    verified: v.ok,
    reportJson: JSON.stringify({ problems: problemsOf(v), checks: v.checks }),
    township: v.summary?.township ?? '',
    year: v.summary?.year ?? 0,
    unitName: v.summary?.unitName ?? '',
    sealedAt: v.summary?.sealedAt ?? '',
    fingerprint: v.fingerprint ?? '',
  };
}

/**
 * A year file or one meeting's file, verified. A value that is not an archive at all is refused
 * (ARCHIVE_INVALID); an archive that fails verification is kept, with its problems.
 */
export function prepareArchiveImport(value: unknown): PreparedImport {
  const isYear = typeof value === 'object' && value !== null && (value as { format?: unknown }).format === YEAR_ARCHIVE_FORMAT;
  if (isYear) {
    if (!YearArchive.safeParse(value).success) throw new DomainError('ARCHIVE_INVALID');
    const v = verifyYearArchive(value);
    const problems = v.checks.filter((c) => !c.ok && !c.warning).map((c) => c.zh);
    const archives = (value as YearArchive).archives.map((a, i) => prepareOne(a, v.meetings[i]!));
    const manifest = { verified: problems.length === 0, problems };
    for (const a of archives) {
      if (a === null) {
        manifest.problems.push('一个会议档案格式不正确，未导入');
        manifest.verified = false;
      }
    }
    return { format: YEAR_ARCHIVE_FORMAT, exportedAt: v.summary?.exportedAt ?? null, manifest, archives };
  }
  if (!SignedArchive.safeParse(value).success) throw new DomainError('ARCHIVE_INVALID');
  const one = prepareOne(value, verifyMeetingArchive(value));
  if (one === null) throw new DomainError('ARCHIVE_INVALID');
  return { format: MEETING_ARCHIVE_FORMAT, exportedAt: null, manifest: null, archives: [one] };
}
