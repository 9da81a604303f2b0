import type { Updateable } from 'kysely';
import type { DbOrTrx } from '../db/database.ts';
import type { MeetingState, MeetingsTable } from '../db/schema.ts';

export function insertMeeting(
  db: DbOrTrx,
  m: { unitId: number; plannedAt: string | null; location: string; inspectionTeam: string; liveK: number; projectorShowsDistributions: boolean; createdAt: string },
) {
  return db
    .insertInto('meetings')
    .values({
      unit_id: m.unitId,
      planned_at: m.plannedAt,
      location: m.location,
      inspection_team: m.inspectionTeam,
      live_k: m.liveK,
      projector_shows_distributions: m.projectorShowsDistributions ? 1 : 0,
      form_json: null,
      quorum_override_reason: null,
      signin_started_at: null,
      voting_opened_at: null,
      voting_closed_at: null,
      sealed_at: null,
      snapshot_json: null,
      created_at: m.createdAt,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
}

/** A meeting with its unit and campaign, and its roster counts (应到 / 实到). */
/** A meeting's row with its unit, year and turnout counts (the one shape every meeting read returns). */
function meetingRows(db: DbOrTrx) {
  return db
    .selectFrom('meetings')
    .innerJoin('units', 'units.id', 'meetings.unit_id')
    .innerJoin('campaigns', 'campaigns.id', 'units.campaign_id')
    .selectAll('meetings')
    .select([
      'units.name as unit_name',
      'units.kind as unit_kind',
      'units.campaign_id as campaign_id',
      'campaigns.year as year',
      'campaigns.township as township',
      (eb) => eb.selectFrom('roster_entries').whereRef('roster_entries.meeting_id', '=', 'meetings.id').select(eb.fn.countAll<number>().as('n')).as('roster_size'),
      (eb) =>
        eb
          .selectFrom('roster_entries')
          .whereRef('roster_entries.meeting_id', '=', 'meetings.id')
          .where('roster_entries.signed_in', '=', 1)
          .select(eb.fn.countAll<number>().as('n'))
          .as('signed_in'),
    ]);
}

export function findMeeting(db: DbOrTrx, id: number) {
  return meetingRows(db).where('meetings.id', '=', id).executeTakeFirst();
}

/** Every meeting of a year in one query: by unit as the year lists them (sort order, then id), newest meeting first. */
export function listCampaignMeetings(db: DbOrTrx, campaignId: number) {
  return meetingRows(db).where('units.campaign_id', '=', campaignId).orderBy('units.sort_order').orderBy('units.id').orderBy('meetings.id', 'desc').execute();
}

export type MeetingRow = NonNullable<Awaited<ReturnType<typeof findMeeting>>>;

export function listMeetingIds(db: DbOrTrx, filter: { adminId?: number; unitId?: number }) {
  let q = db.selectFrom('meetings').select('meetings.id').orderBy('meetings.id', 'desc');
  if (filter.unitId !== undefined) q = q.where('meetings.unit_id', '=', filter.unitId);
  if (filter.adminId !== undefined) {
    q = q.innerJoin('meeting_assignments', 'meeting_assignments.meeting_id', 'meetings.id').where('meeting_assignments.admin_id', '=', filter.adminId);
  }
  return q.execute();
}

export function updateMeeting(db: DbOrTrx, id: number, set: Updateable<MeetingsTable>) {
  return db.updateTable('meetings').set(set).where('id', '=', id).executeTakeFirst();
}

/** Change state only if the meeting is still in the expected one; the caller checks numUpdatedRows. */
export function transitionMeeting(db: DbOrTrx, id: number, from: MeetingState, set: Updateable<MeetingsTable>) {
  return db.updateTable('meetings').set(set).where('id', '=', id).where('state', '=', from).executeTakeFirst();
}

/** Just what a cast checks inside its transaction: the state and the two counters (no roster counts). */
/** Part E's texts kept at close (JSON, in the report's order), or null when not kept. */
export async function findKeptComments(db: DbOrTrx, id: number): Promise<string | null> {
  const r = await db.selectFrom('meetings').select('comments_json').where('id', '=', id).executeTakeFirst();
  return r?.comments_json ?? null;
}

export function findMeetingGate(db: DbOrTrx, id: number) {
  return db.selectFrom('meetings').select(['id', 'state', 'cast_count', 'issued_count']).where('id', '=', id).executeTakeFirst();
}

export type MeetingGate = NonNullable<Awaited<ReturnType<typeof findMeetingGate>>>;

/**
 * Record a live step, only if the step it was decided against (`lastPhone`) is still the last one. The
 * batch's transaction holds the meeting's row, so on SQLite and PostgreSQL alike it is; the condition makes
 * it so whatever the locking: no two published steps can be decided against the same last step.
 */
export async function publishSnapshot(db: DbOrTrx, id: number, s: { lastPhone: number; phone: number; json: string }): Promise<boolean> {
  const r = await db
    .updateTable('meetings')
    .set({ snapshot_json: s.json, snapshot_count: s.phone })
    .where('id', '=', id)
    .where('snapshot_count', '=', s.lastPhone)
    .executeTakeFirst();
  return r.numUpdatedRows === 1n;
}
