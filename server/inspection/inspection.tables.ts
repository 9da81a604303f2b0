import type { Generated } from 'kysely';

/**
 * The 考察 tables (migration 2026_11_29_1100_inspection), joined onto the DB interface with Kysely's
 * withTables() as the archive tables are. Type aliases, not interfaces: withTables() needs types
 * with an implicit index signature.
 */
export type InspectionSettingsTable = {
  campaign_id: number;
  /** The 查阅资料 checklist's labels, in order. */
  records_json: string;
  /** The 鉴定表's layout (AppraisalTemplate). */
  appraisal_json: string;
  updated_at: string;
};

export type DrawKind = 'draw' | 'redraw' | 'extend' | 'everyone';

export type InspectionDrawsTable = {
  id: Generated<number>;
  meeting_id: number;
  /** 1 for the first draw, then one more for each re-draw or extension. */
  round: number;
  kind: DrawKind;
  /** Normalised (what the draw used) and as typed. */
  seed: string;
  seed_input: string;
  identity: string;
  /** The candidates' names in canonical order: the pool exactly as drawn from. */
  pool_json: string;
  pool_digest: string;
  drawn_count: number;
  minimum_json: string;
  reason: string | null;
  actor_id: number | null;
  at: string;
};

export type TalkRole = 'team' | 'drawn' | 'added';

export type InspectionTalksTable = {
  id: Generated<number>;
  meeting_id: number;
  name: string;
  role: TalkRole;
  /** Position (team) or roster category (drawn, added). */
  detail: Generated<string>;
  draw_rank: number | null;
  sort_order: Generated<number>;
  done: Generated<number>;
  notes: Generated<string>;
  updated_at: string | null;
  updated_by: number | null;
};

export type InspectionRecordsTable = {
  meeting_id: number;
  label: string;
  checked: Generated<number>;
  findings: Generated<string>;
  updated_at: string | null;
  updated_by: number | null;
};

export type InspectionInquiriesTable = {
  id: Generated<number>;
  meeting_id: number;
  title: string;
  body: Generated<string>;
  created_at: string;
  updated_at: string | null;
  updated_by: number | null;
};

export type InspectionAppraisalsTable = {
  meeting_id: number;
  values_json: string;
  grade: Generated<string>;
  comment: Generated<string>;
  updated_at: string;
  updated_by: number | null;
};

export type InspectionReportsTable = {
  meeting_id: number;
  section1_note: Generated<string>;
  section3: Generated<string>;
  section4: Generated<string>;
  section5: Generated<string>;
  meeting_notes: Generated<string>;
  updated_at: string;
  updated_by: number | null;
};

export type InspectionImportsTable = {
  id: Generated<number>;
  file_sha256: string;
  township: string;
  year: number;
  campaign: string;
  units: number;
  exported_at: string;
  file_json: string;
  label: Generated<string>;
  imported_at: string;
  imported_by: number | null;
};

export type InspectionTables = {
  inspection_settings: InspectionSettingsTable;
  inspection_draws: InspectionDrawsTable;
  inspection_talks: InspectionTalksTable;
  inspection_records: InspectionRecordsTable;
  inspection_inquiries: InspectionInquiriesTable;
  inspection_appraisals: InspectionAppraisalsTable;
  inspection_reports: InspectionReportsTable;
  inspection_imports: InspectionImportsTable;
};
