import { sql } from 'kysely';
import type { DbOrTrx } from '../db/database.ts';
import type { TallyRow } from './tally.ts';

/** Add a ballot's increments to the meeting's counters (upsert per counter). */
export async function addToTally(db: DbOrTrx, meetingId: number, rows: TallyRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('tally')
    .values(rows.map((r) => ({ meeting_id: meetingId, part: r.part, subject: r.subject, grade: r.grade, n: r.n })))
    .onConflict((oc) => oc.columns(['meeting_id', 'part', 'subject', 'grade']).doUpdateSet({ n: sql`tally.n + excluded.n` }))
    .execute();
}

export async function readTally(db: DbOrTrx, meetingId: number): Promise<TallyRow[]> {
  return db.selectFrom('tally').select(['part', 'subject', 'grade', 'n']).where('meeting_id', '=', meetingId).execute();
}
