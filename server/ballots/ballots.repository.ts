import { sql } from 'kysely';
import type { DbOrTrx } from '../db/database.ts';

export function insertBallot(db: DbOrTrx, b: { id: string; meetingId: number; source: 'phone' | 'paper'; packageJson: string }) {
  return db.insertInto('ballots').values({ id: b.id, meeting_id: b.meetingId, source: b.source, package_json: b.packageJson }).execute();
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
  return db.selectFrom('ballots').select(['id', 'source', 'package_json']).where('meeting_id', '=', meetingId).orderBy('id').execute();
}

export function findReceipt(db: DbOrTrx, receiptHash: string) {
  return db.selectFrom('receipts').select('meeting_id').where('receipt_hash', '=', receiptHash).executeTakeFirst();
}
