import type { Kysely } from 'kysely';
import type { DbOrTrx } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import type { DrawKind, InspectionTables, TalkRole } from './inspection.tables.ts';

// A Transaction is a Kysely; withTables() on it keeps the transaction's connection.
const w = (db: DbOrTrx) => (db as Kysely<DB>).withTables<InspectionTables>();

// ---- settings ----

export function findSettings(db: DbOrTrx, campaignId: number) {
  return w(db).selectFrom('inspection_settings').selectAll().where('campaign_id', '=', campaignId).executeTakeFirst();
}

export function saveSettings(db: DbOrTrx, campaignId: number, s: { recordsJson: string; appraisalJson: string; at: string }) {
  return w(db)
    .insertInto('inspection_settings')
    .values({ campaign_id: campaignId, records_json: s.recordsJson, appraisal_json: s.appraisalJson, updated_at: s.at })
    .onConflict((oc) => oc.column('campaign_id').doUpdateSet({ records_json: s.recordsJson, appraisal_json: s.appraisalJson, updated_at: s.at }))
    .execute();
}

// ---- draws (append-only) and talks ----

export function listDraws(db: DbOrTrx, meetingId: number) {
  return w(db)
    .selectFrom('inspection_draws')
    .leftJoin('admins', 'admins.id', 'inspection_draws.actor_id')
    .selectAll('inspection_draws')
    .select('admins.display_name as actor')
    .where('inspection_draws.meeting_id', '=', meetingId)
    .orderBy('inspection_draws.round')
    .execute();
}
export type DrawRow = Awaited<ReturnType<typeof listDraws>>[number];

export function insertDraw(
  db: DbOrTrx,
  d: {
    meetingId: number; round: number; kind: DrawKind; seed: string; seedInput: string; identity: string; poolJson: string; poolDigest: string;
    drawnCount: number; minimumJson: string; reason: string | null; actorId: number | null; at: string;
  },
) {
  return w(db)
    .insertInto('inspection_draws')
    .values({
      meeting_id: d.meetingId, round: d.round, kind: d.kind, seed: d.seed, seed_input: d.seedInput, identity: d.identity, pool_json: d.poolJson,
      pool_digest: d.poolDigest, drawn_count: d.drawnCount, minimum_json: d.minimumJson, reason: d.reason, actor_id: d.actorId, at: d.at,
    })
    .execute();
}

export function listTalks(db: DbOrTrx, meetingId: number) {
  return w(db).selectFrom('inspection_talks').selectAll().where('meeting_id', '=', meetingId).orderBy('sort_order').orderBy('id').execute();
}
export type TalkRow = Awaited<ReturnType<typeof listTalks>>[number];

export async function insertTalks(
  db: DbOrTrx,
  meetingId: number,
  rows: { name: string; role: TalkRole; detail: string; drawRank: number | null; sortOrder: number }[],
  by: { at: string; by: number } | null = null,
) {
  if (rows.length === 0) return;
  await w(db)
    .insertInto('inspection_talks')
    .values(rows.map((r) => ({
      meeting_id: meetingId, name: r.name, role: r.role, detail: r.detail, draw_rank: r.drawRank, sort_order: r.sortOrder, updated_at: by?.at ?? null, updated_by: by?.by ?? null,
    })))
    .execute();
}

/** Drawn people already talked to or written about: a re-draw would throw their record away. */
export async function countDrawnTouched(db: DbOrTrx, meetingId: number): Promise<number> {
  const r = await w(db)
    .selectFrom('inspection_talks')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('meeting_id', '=', meetingId)
    .where('role', '=', 'drawn')
    .where((eb) => eb.or([eb('done', '=', 1), eb('notes', '!=', '')]))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export function deleteDrawnTalks(db: DbOrTrx, meetingId: number) {
  return w(db).deleteFrom('inspection_talks').where('meeting_id', '=', meetingId).where('role', '=', 'drawn').execute();
}

export function updateTalk(db: DbOrTrx, meetingId: number, talkId: number, set: { done?: number; notes?: string; updated_at: string; updated_by: number }) {
  return w(db).updateTable('inspection_talks').set(set).where('meeting_id', '=', meetingId).where('id', '=', talkId).executeTakeFirst();
}

/** Only a person added by hand, and only before their talk: the drawn and the team stay on the list. */
export function deleteAddedTalk(db: DbOrTrx, meetingId: number, talkId: number) {
  return w(db)
    .deleteFrom('inspection_talks')
    .where('meeting_id', '=', meetingId)
    .where('id', '=', talkId)
    .where('role', '=', 'added')
    .where('done', '=', 0)
    .executeTakeFirst();
}

export async function maxTalkOrder(db: DbOrTrx, meetingId: number): Promise<number> {
  const r = await w(db)
    .selectFrom('inspection_talks')
    .select((eb) => eb.fn.max<number | null>('sort_order').as('m'))
    .where('meeting_id', '=', meetingId)
    .executeTakeFirstOrThrow();
  return r.m ?? 0;
}

// ---- records, inquiries, 鉴定表, report texts ----

export function listRecords(db: DbOrTrx, meetingId: number) {
  return w(db).selectFrom('inspection_records').selectAll().where('meeting_id', '=', meetingId).execute();
}

export async function replaceRecords(db: DbOrTrx, meetingId: number, rows: { label: string; checked: boolean; findings: string }[], at: string, by: number) {
  await w(db).deleteFrom('inspection_records').where('meeting_id', '=', meetingId).execute();
  if (rows.length === 0) return;
  await w(db)
    .insertInto('inspection_records')
    .values(rows.map((r) => ({ meeting_id: meetingId, label: r.label, checked: r.checked ? 1 : 0, findings: r.findings, updated_at: at, updated_by: by })))
    .execute();
}

export function listInquiries(db: DbOrTrx, meetingId: number) {
  return w(db).selectFrom('inspection_inquiries').selectAll().where('meeting_id', '=', meetingId).orderBy('id').execute();
}

export function insertInquiry(db: DbOrTrx, meetingId: number, i: { title: string; body: string; at: string; by: number }) {
  return w(db)
    .insertInto('inspection_inquiries')
    .values({ meeting_id: meetingId, title: i.title, body: i.body, created_at: i.at, updated_at: i.at, updated_by: i.by })
    .returning('id')
    .executeTakeFirstOrThrow();
}

export function updateInquiry(db: DbOrTrx, meetingId: number, id: number, i: { title: string; body: string; at: string; by: number }) {
  return w(db)
    .updateTable('inspection_inquiries')
    .set({ title: i.title, body: i.body, updated_at: i.at, updated_by: i.by })
    .where('meeting_id', '=', meetingId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export function deleteInquiry(db: DbOrTrx, meetingId: number, id: number) {
  return w(db).deleteFrom('inspection_inquiries').where('meeting_id', '=', meetingId).where('id', '=', id).executeTakeFirst();
}

export function findAppraisal(db: DbOrTrx, meetingId: number) {
  return w(db).selectFrom('inspection_appraisals').selectAll().where('meeting_id', '=', meetingId).executeTakeFirst();
}

export function saveAppraisal(db: DbOrTrx, meetingId: number, a: { valuesJson: string; grade: string; comment: string; at: string; by: number }) {
  const set = { values_json: a.valuesJson, grade: a.grade, comment: a.comment, updated_at: a.at, updated_by: a.by };
  return w(db)
    .insertInto('inspection_appraisals')
    .values({ meeting_id: meetingId, ...set })
    .onConflict((oc) => oc.column('meeting_id').doUpdateSet(set))
    .execute();
}

export function findReportTexts(db: DbOrTrx, meetingId: number) {
  return w(db).selectFrom('inspection_reports').selectAll().where('meeting_id', '=', meetingId).executeTakeFirst();
}

export function saveReportTexts(
  db: DbOrTrx,
  meetingId: number,
  r: { section1Note: string; section3: string; section4: string; section5: string; meetingNotes: string; at: string; by: number },
) {
  const set = {
    section1_note: r.section1Note, section3: r.section3, section4: r.section4, section5: r.section5, meeting_notes: r.meetingNotes, updated_at: r.at, updated_by: r.by,
  };
  return w(db)
    .insertInto('inspection_reports')
    .values({ meeting_id: meetingId, ...set })
    .onConflict((oc) => oc.column('meeting_id').doUpdateSet(set))
    .execute();
}

// ---- the campaign's meetings (for the year view, the zip and the export) ----

export function listCampaignMeetings(db: DbOrTrx, campaignId: number) {
  return db
    .selectFrom('meetings')
    .innerJoin('units', 'units.id', 'meetings.unit_id')
    .select(['meetings.id as meeting_id', 'units.id as unit_id', 'units.name as unit_name', 'units.kind as unit_kind'])
    .where('units.campaign_id', '=', campaignId)
    .orderBy('units.sort_order')
    .orderBy('units.id')
    .orderBy('meetings.id')
    .execute();
}

// ---- imported 考察 files ----

export function insertImport(
  db: DbOrTrx,
  r: { fileSha256: string; township: string; year: number; campaign: string; units: number; exportedAt: string; fileJson: string; label: string; importedAt: string; importedBy: number },
) {
  return w(db)
    .insertInto('inspection_imports')
    .values({
      file_sha256: r.fileSha256, township: r.township, year: r.year, campaign: r.campaign, units: r.units, exported_at: r.exportedAt, file_json: r.fileJson,
      label: r.label, imported_at: r.importedAt, imported_by: r.importedBy,
    })
    .onConflict((oc) => oc.column('file_sha256').doNothing())
    .returning('id')
    .executeTakeFirst();
}

const importColumns = [
  'inspection_imports.id', 'inspection_imports.township', 'inspection_imports.year', 'inspection_imports.campaign', 'inspection_imports.units',
  'inspection_imports.exported_at', 'inspection_imports.label', 'inspection_imports.imported_at', 'admins.display_name as imported_by',
] as const;

export function listImports(db: DbOrTrx) {
  return w(db)
    .selectFrom('inspection_imports')
    .leftJoin('admins', 'admins.id', 'inspection_imports.imported_by')
    .select(importColumns)
    .orderBy('inspection_imports.year', 'desc')
    .orderBy('inspection_imports.id')
    .execute();
}
export type ImportRow = Awaited<ReturnType<typeof listImports>>[number];

export function findImport(db: DbOrTrx, id: number) {
  return w(db)
    .selectFrom('inspection_imports')
    .leftJoin('admins', 'admins.id', 'inspection_imports.imported_by')
    .select([...importColumns, 'inspection_imports.file_json'])
    .where('inspection_imports.id', '=', id)
    .executeTakeFirst();
}
