import { Form } from '../forms/form.schemas.ts';
import type { Snapshot } from '../live/live.schemas.ts';
import { quorumNeeded, quorumText, STATE_LABELS } from './lifecycle.ts';
import type { MeetingRow } from './meetings.repository.ts';

export function turnoutOf(m: Pick<MeetingRow, 'roster_size' | 'signed_in' | 'issued_count' | 'cast_count' | 'paper_count' | 'paper_issued' | 'reissued_count'>) {
  return {
    expected: Number(m.roster_size ?? 0),
    present: Number(m.signed_in ?? 0),
    issued: m.issued_count,
    returned: m.cast_count,
    paper: m.paper_count,
    paperIssued: m.paper_issued,
    reissued: m.reissued_count,
  };
}

export function formOf(m: Pick<MeetingRow, 'form_json'>): Form | null {
  return m.form_json ? Form.parse(JSON.parse(m.form_json)) : null;
}

export function snapshotOf(m: MeetingRow): Snapshot | null {
  return m.snapshot_json ? (JSON.parse(m.snapshot_json) as Snapshot) : null;
}

/** The meeting as the admin pages see it (row types never leave the service layer). */
export function toMeetingView(m: MeetingRow) {
  const turnout = turnoutOf(m);
  const needed = quorumNeeded(m.unit_kind, turnout.expected);
  return {
    id: m.id,
    unitId: m.unit_id,
    unitName: m.unit_name,
    unitKind: m.unit_kind,
    campaignId: m.campaign_id,
    year: m.year,
    township: m.township,
    state: m.state,
    stateLabel: STATE_LABELS[m.state],
    plannedAt: m.planned_at,
    location: m.location,
    inspectionTeam: m.inspection_team,
    liveK: m.live_k,
    projectorShowsDistributions: m.projector_shows_distributions === 1,
    quorum: { needed, text: quorumText(m.unit_kind), met: turnout.present >= needed && turnout.present > 0 },
    quorumOverrideReason: m.quorum_override_reason,
    turnout,
    signinStartedAt: m.signin_started_at,
    votingOpenedAt: m.voting_opened_at,
    votingClosedAt: m.voting_closed_at,
    sealedAt: m.sealed_at,
    /** The voting key's fingerprint, as every phone shows it on its done screen. */
    keyFingerprint: m.key_fingerprint,
    compacted: m.compacted_at !== null,
  };
}
export type MeetingView = ReturnType<typeof toMeetingView>;
