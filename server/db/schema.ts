import type { Generated } from 'kysely';

export interface CampaignsTable {
  id: Generated<number>;
  year: number;
  township: string;
  name: string;
  template_json: string;
  created_at: string;
}

export type UnitKind = 'village' | 'community' | 'station';

export interface UnitsTable {
  id: Generated<number>;
  campaign_id: number;
  name: string;
  kind: UnitKind;
  reserve_candidates_json: Generated<string>;
  sort_order: Generated<number>;
}

export interface TeamMembersTable {
  id: Generated<number>;
  unit_id: number;
  name: string;
  position: string;
  is_secretary: Generated<number>;
  sort_order: Generated<number>;
}

export type MeetingState = 'draft' | 'signin' | 'voting' | 'closed' | 'sealed';

export interface MeetingsTable {
  id: Generated<number>;
  unit_id: number;
  state: Generated<MeetingState>;
  planned_at: string | null;
  location: Generated<string>;
  inspection_team: Generated<string>;
  live_k: Generated<number>;
  projector_shows_distributions: Generated<number>;
  form_json: string | null;
  quorum_override_reason: string | null;
  signin_started_at: string | null;
  voting_opened_at: string | null;
  voting_closed_at: string | null;
  sealed_at: string | null;
  issued_count: Generated<number>;
  cast_count: Generated<number>;
  paper_count: Generated<number>;
  snapshot_count: Generated<number>;
  snapshot_json: string | null;
  created_at: string;
}

export interface RosterEntriesTable {
  id: Generated<number>;
  meeting_id: number;
  name: string;
  category: string;
  note: Generated<string>;
  walk_in: Generated<number>;
  signed_in: Generated<number>;
  sort_order: Generated<number>;
}

export type CredentialKind = 'desk' | 'slip' | 'rehearsal';

export interface CredentialsTable {
  id: string;
  meeting_id: number;
  kind: CredentialKind;
  token_hash: string;
  code_hash: string;
  used: Generated<number>;
  retry_check: string | null;
}

export interface BallotsTable {
  id: string;
  meeting_id: number;
  package_json: string;
}

export interface ReceiptsTable {
  receipt_hash: string;
  meeting_id: number;
}

export interface PaperPendingTable {
  id: string;
  meeting_id: number;
  package_json: string;
  entered_by: number;
}

export interface TallyTable {
  meeting_id: number;
  part: string;
  subject: string;
  grade: string;
  n: number;
}

export type AdminRole = 'township' | 'inspector';

export interface AdminsTable {
  id: Generated<number>;
  username: string;
  display_name: string;
  role: AdminRole;
  password_hash: string;
  disabled: Generated<number>;
  created_at: string;
}

export interface SessionsTable {
  id_hash: string;
  admin_id: number;
  csrf_token: string;
  expires_at: string;
}

export interface MeetingAssignmentsTable {
  meeting_id: number;
  admin_id: number;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: string;
  actor_id: number | null;
  meeting_id: number | null;
  event: string;
  detail_json: Generated<string>;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface DB {
  campaigns: CampaignsTable;
  units: UnitsTable;
  team_members: TeamMembersTable;
  meetings: MeetingsTable;
  roster_entries: RosterEntriesTable;
  credentials: CredentialsTable;
  ballots: BallotsTable;
  receipts: ReceiptsTable;
  tally: TallyTable;
  paper_pending: PaperPendingTable;
  admins: AdminsTable;
  sessions: SessionsTable;
  meeting_assignments: MeetingAssignmentsTable;
  audit_log: AuditLogTable;
  settings: SettingsTable;
}
