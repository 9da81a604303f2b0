import type { Generated } from 'kysely';

/**
 * The archive tables (migration 2026_11_28_0900_sealed_archives). Kept beside the feature and
 * joined onto the DB interface with Kysely's withTables(), so server/db/schema.ts stays as it is.
 * Type aliases, not interfaces: withTables() needs types with an implicit index signature.
 */
export type ArchivesTable = {
  /** One archive per sealed meeting, written in the seal's transaction. */
  meeting_id: number;
  /** The record's canonical JSON: exactly the bytes that were hashed and signed. */
  record_json: string;
  sha256: string;
  signature: string;
  created_at: string;
}

export type ImportedArchivesTable = {
  id: Generated<number>;
  /** SHA-256 of the file as stored (canonical): the same file imported twice is kept once. */
  file_sha256: string;
  /** The sha256 the record claims (shown; not trusted unless verified). */
  sha256: string;
  /** The meeting's archive file as received ({ record, sha256, signature }). */
  file_json: string;
  verified: number;
  /** The verification's checks, as run at import. */
  report_json: string;
  township: string;
  year: number;
  unit_name: string;
  sealed_at: string;
  fingerprint: string;
  /** Where it came from: { format, label, exportedAt, manifestVerified }. */
  source_json: string;
  imported_at: string;
  imported_by: number | null;
}

export type ArchiveTables = {
  archives: ArchivesTable;
  imported_archives: ImportedArchivesTable;
}
