import { sql } from 'kysely';
import type { DbOrTrx } from '../db/database.ts';

/** A ballot row: a random key, the meeting, the package. Not its source, its time or its credential. */
export function insertBallot(db: DbOrTrx, b: { id: string; meetingId: number; packageJson: string }) {
  return db.insertInto('ballots').values({ id: b.id, meeting_id: b.meetingId, package_json: b.packageJson }).execute();
}

export function insertReceipt(db: DbOrTrx, meetingId: number, receiptHash: string) {
  return db.insertInto('receipts').values({ receipt_hash: receiptHash, meeting_id: meetingId }).execute();
}

export function countBallot(db: DbOrTrx, meetingId: number, source: 'phone' | 'paper') {
  return db
    .updateTable('meetings')
    .set({
      cast_count: sql`cast_count + 1`,
      ...(source === 'paper' ? { paper_count: sql`paper_count + 1` } : {}),
    })
    .where('id', '=', meetingId)
    .where('state', '=', 'voting')
    .whereRef('cast_count', '<', 'issued_count')
    .executeTakeFirst();
}

/** Stored ballots in key order (random): used for recounts and the archive, never for display order. */
export function listBallots(db: DbOrTrx, meetingId: number) {
  return db.selectFrom('ballots').select(['id', 'package_json']).where('meeting_id', '=', meetingId).orderBy('id').execute();
}

export function findReceipt(db: DbOrTrx, receiptHash: string) {
  return db.selectFrom('receipts').select('meeting_id').where('receipt_hash', '=', receiptHash).executeTakeFirst();
}

export function insertPendingPaper(db: DbOrTrx, p: { id: string; meetingId: number; packageJson: string; enteredBy: number }) {
  return db.insertInto('paper_pending').values({ id: p.id, meeting_id: p.meetingId, package_json: p.packageJson, entered_by: p.enteredBy }).execute();
}

export function listPendingPaper(db: DbOrTrx, meetingId: number) {
  return db
    .selectFrom('paper_pending')
    .innerJoin('admins', 'admins.id', 'paper_pending.entered_by')
    .select(['paper_pending.id', 'paper_pending.package_json', 'paper_pending.entered_by', 'admins.display_name'])
    .where('paper_pending.meeting_id', '=', meetingId)
    .orderBy('paper_pending.id')
    .execute();
}

export function findPendingPaper(db: DbOrTrx, meetingId: number, id: string) {
  return db.selectFrom('paper_pending').selectAll().where('meeting_id', '=', meetingId).where('id', '=', id).executeTakeFirst();
}

export function deletePendingPaper(db: DbOrTrx, meetingId: number, id: string) {
  return db.deleteFrom('paper_pending').where('meeting_id', '=', meetingId).where('id', '=', id).executeTakeFirst();
}

export function countPendingPaper(db: DbOrTrx, meetingId: number) {
  return db.selectFrom('paper_pending').select((eb) => eb.fn.countAll<number>().as('n')).where('meeting_id', '=', meetingId).executeTakeFirstOrThrow();
}
