import type { DbOrTrx } from '../db/database.ts';
import type { UnitKind } from '../db/schema.ts';

export function insertCampaign(db: DbOrTrx, c: { year: number; township: string; name: string; templateJson: string; createdAt: string }) {
  return db
    .insertInto('campaigns')
    .values({ year: c.year, township: c.township, name: c.name, template_json: c.templateJson, created_at: c.createdAt })
    .returning('id')
    .executeTakeFirstOrThrow();
}

export function listCampaigns(db: DbOrTrx) {
  return db.selectFrom('campaigns').selectAll().orderBy('year', 'desc').orderBy('id', 'desc').execute();
}

export function findCampaign(db: DbOrTrx, id: number) {
  return db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
}

export function updateTemplate(db: DbOrTrx, id: number, templateJson: string) {
  return db.updateTable('campaigns').set({ template_json: templateJson }).where('id', '=', id).executeTakeFirst();
}

export function insertUnit(db: DbOrTrx, u: { campaignId: number; name: string; kind: UnitKind; candidatesJson: string }) {
  return db
    .insertInto('units')
    .values({ campaign_id: u.campaignId, name: u.name, kind: u.kind, reserve_candidates_json: u.candidatesJson })
    .returning('id')
    .executeTakeFirstOrThrow();
}

export function updateUnit(db: DbOrTrx, id: number, u: { name?: string; kind?: UnitKind; candidatesJson?: string }) {
  return db
    .updateTable('units')
    .set({
      ...(u.name !== undefined ? { name: u.name } : {}),
      ...(u.kind !== undefined ? { kind: u.kind } : {}),
      ...(u.candidatesJson !== undefined ? { reserve_candidates_json: u.candidatesJson } : {}),
    })
    .where('id', '=', id)
    .executeTakeFirst();
}

export function deleteUnit(db: DbOrTrx, id: number) {
  return db.deleteFrom('units').where('id', '=', id).executeTakeFirst();
}

export function findUnit(db: DbOrTrx, id: number) {
  return db.selectFrom('units').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listUnits(db: DbOrTrx, campaignId: number) {
  return db.selectFrom('units').selectAll().where('campaign_id', '=', campaignId).orderBy('sort_order').orderBy('id').execute();
}

export function listMembers(db: DbOrTrx, unitIds: number[]) {
  if (unitIds.length === 0) return Promise.resolve([]);
  return db.selectFrom('team_members').selectAll().where('unit_id', 'in', unitIds).orderBy('sort_order').orderBy('id').execute();
}

export async function replaceMembers(db: DbOrTrx, unitId: number, members: { name: string; position: string; isSecretary: boolean }[]) {
  await db.deleteFrom('team_members').where('unit_id', '=', unitId).execute();
  if (members.length === 0) return;
  await db
    .insertInto('team_members')
    .values(members.map((m, i) => ({ unit_id: unitId, name: m.name, position: m.position, is_secretary: m.isSecretary ? 1 : 0, sort_order: i })))
    .execute();
}

export function countMeetingsBeyondDraft(db: DbOrTrx, unitId: number) {
  return db
    .selectFrom('meetings')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('unit_id', '=', unitId)
    .where('state', '!=', 'draft')
    .executeTakeFirstOrThrow();
}

/** The units that have a meeting assigned to this inspector: all of the set-up an inspector may read. */
export async function listUnitIdsAssignedTo(db: DbOrTrx, adminId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('meeting_assignments')
    .innerJoin('meetings', 'meetings.id', 'meeting_assignments.meeting_id')
    .select('meetings.unit_id')
    .distinct()
    .where('meeting_assignments.admin_id', '=', adminId)
    .execute();
  return rows.map((r) => r.unit_id);
}
