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
  /** Paper forms handed out at the desk (paper ballots confirmed never exceed it). */
  paper_issued: Generated<number>;
  /** 补发: replacement tickets for a person whose redeemed token was lost; each counts as one more issued. */
  reissued_count: Generated<number>;
  /** Size of every ballot slot of the meeting, fixed when sign-in starts. */
  ballot_bytes: Generated<number>;
  /** Short fingerprint of the meeting's voting key (shown on phones and the projector); kept after the key is destroyed. */
  key_fingerprint: string | null;
  /** The final results, computed once at close (they cannot change afterwards). */
  results_json: string | null;
  /** Part E's texts, kept at close in the report's order (null: closed before they were kept; read the ballots). */
  comments_json: string | null;
  /** When the file was rebuilt after close (history erased, keys gone); null while still due. */
  compacted_at: string | null;
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

export type TicketKind = 'desk' | 'slip' | 'rehearsal';
/**
 * dormant: a printed slip not yet handed out; issued: handed out, not yet redeemed; redeemed: a phone
 * made its token; retired: redeemed, then replaced by a 补发; void: replaced or taken back unredeemed.
 */
export type TicketState = 'dormant' | 'issued' | 'redeemed' | 'retired' | 'void';

export interface TicketsTable {
  id: string;
  meeting_id: number;
  kind: TicketKind;
  /** The number printed on a slip (not its secret). */
  serial: number | null;
  /** Whom the desk gave it to (the desk sees that anyway); null for dormant slips and rehearsals. */
  entry_id: number | null;
  secret_hash: string;
  code_hash: string;
  state: TicketState;
  /** Keyed hash of the blinded element it was redeemed with, so a lost reply is answered again. Wiped at close. */
  blinded_hash: string | null;
}

export interface MeetingKeysTable {
  meeting_id: number;
  purpose: 'vote' | 'rehearsal';
  secret_key: Uint8Array;
  public_key: Uint8Array;
}

export interface SpentTokensTable {
  nullifier: string;
  meeting_id: number;
  retry_check: string | null;
}

/** A ballot slot: made empty before it is needed, filled in place (same size) by one ballot. */
export interface BallotsTable {
  id: number;
  meeting_id: number;
  filled: number;
  body: Uint8Array;
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
  /** previewPaper() of the package as typed (rows from before this column: null). */
  preview_json: string | null;
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

export interface MeetingTimersTable {
  meeting_id: number;
  /** server/timers/timers.ts TimerState */
  state_json: string;
  updated_at: string;
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
  tickets: TicketsTable;
  meeting_keys: MeetingKeysTable;
  spent_tokens: SpentTokensTable;
  ballots: BallotsTable;
  receipts: ReceiptsTable;
  paper_pending: PaperPendingTable;
  admins: AdminsTable;
  sessions: SessionsTable;
  meeting_assignments: MeetingAssignmentsTable;
  audit_log: AuditLogTable;
  settings: SettingsTable;
  meeting_timers: MeetingTimersTable;
}
