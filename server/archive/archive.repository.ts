import type { Kysely } from 'kysely';
import type { DbOrTrx } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import type { ArchiveTables } from './archive.tables.ts';

// A Transaction is a Kysely; withTables() on it keeps the transaction's connection.
const withArchives = (db: DbOrTrx) => (db as Kysely<DB>).withTables<ArchiveTables>();

export function insertArchive(db: DbOrTrx, a: { meetingId: number; recordJson: string; sha256: string; signature: string; createdAt: string }) {
  return withArchives(db)
    .insertInto('archives')
    .values({ meeting_id: a.meetingId, record_json: a.recordJson, sha256: a.sha256, signature: a.signature, created_at: a.createdAt })
    .execute();
}

export function findArchive(db: DbOrTrx, meetingId: number) {
  return withArchives(db).selectFrom('archives').selectAll().where('meeting_id', '=', meetingId).executeTakeFirst();
}

/** The archives of a campaign's sealed meetings, in the campaign's unit order. */
export function listCampaignArchives(db: DbOrTrx, campaignId: number) {
  return withArchives(db)
    .selectFrom('archives')
    .innerJoin('meetings', 'meetings.id', 'archives.meeting_id')
    .innerJoin('units', 'units.id', 'meetings.unit_id')
    .select(['archives.meeting_id', 'archives.record_json', 'archives.sha256', 'archives.signature', 'units.name as unit_name', 'meetings.sealed_at'])
    .where('units.campaign_id', '=', campaignId)
    .orderBy('units.sort_order')
    .orderBy('units.id')
    .orderBy('meetings.id')
    .execute();
}

/** Roster counts per category (应到 and 实到); never a name. */
export function rosterCounts(db: DbOrTrx, meetingId: number) {
  return db
    .selectFrom('roster_entries')
    .select((eb) => ['category', eb.fn.countAll<number>().as('expected'), eb.fn.sum<number>('signed_in').as('present')])
    .where('meeting_id', '=', meetingId)
    .groupBy('category')
    .orderBy('category')
    .execute();
}

export function insertImported(
  db: DbOrTrx,
  r: {
    fileSha256: string; sha256: string; fileJson: string; verified: boolean; reportJson: string; township: string; year: number; unitName: string;
    sealedAt: string; fingerprint: string; sourceJson: string; importedAt: string; importedBy: number | null;
  },
) {
  return withArchives(db)
    .insertInto('imported_archives')
    .values({
      file_sha256: r.fileSha256, sha256: r.sha256, file_json: r.fileJson, verified: r.verified ? 1 : 0, report_json: r.reportJson, township: r.township, year: r.year,
      unit_name: r.unitName, sealed_at: r.sealedAt, fingerprint: r.fingerprint, source_json: r.sourceJson, imported_at: r.importedAt, imported_by: r.importedBy,
    })
    .onConflict((oc) => oc.column('file_sha256').doNothing())
    .returning('id')
    .executeTakeFirst();
}

const importedColumns = [
  'imported_archives.id', 'imported_archives.sha256', 'imported_archives.verified', 'imported_archives.report_json', 'imported_archives.township',
  'imported_archives.year', 'imported_archives.unit_name', 'imported_archives.sealed_at', 'imported_archives.fingerprint',
  'imported_archives.source_json', 'imported_archives.imported_at', 'admins.display_name as imported_by',
] as const;

export function listImported(db: DbOrTrx) {
  return withArchives(db)
    .selectFrom('imported_archives')
    .leftJoin('admins', 'admins.id', 'imported_archives.imported_by')
    .select(importedColumns)
    .orderBy('imported_archives.year', 'desc')
    .orderBy('imported_archives.township')
    .orderBy('imported_archives.id')
    .execute();
}

export function findImported(db: DbOrTrx, id: number) {
  return withArchives(db)
    .selectFrom('imported_archives')
    .leftJoin('admins', 'admins.id', 'imported_archives.imported_by')
    .select([...importedColumns, 'imported_archives.file_json'])
    .where('imported_archives.id', '=', id)
    .executeTakeFirst();
}

/** A verified imported meeting archive by the SHA-256 its record claims (an imported 考察 file names its archive so). */
export function findVerifiedImportedBySha(db: DbOrTrx, sha256: string) {
  return withArchives(db)
    .selectFrom('imported_archives')
    .select(['imported_archives.id', 'imported_archives.file_json'])
    .where('imported_archives.sha256', '=', sha256)
    .where('imported_archives.verified', '=', 1)
    .orderBy('imported_archives.id')
    .executeTakeFirst();
}
