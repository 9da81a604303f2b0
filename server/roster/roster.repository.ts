import { sql } from 'kysely';
import type { DbOrTrx } from '../db/database.ts';

export function listEntries(db: DbOrTrx, meetingId: number) {
  return db.selectFrom('roster_entries').selectAll().where('meeting_id', '=', meetingId).orderBy('sort_order').orderBy('id').execute();
}

export type RosterEntryRow = Awaited<ReturnType<typeof listEntries>>[number];

export async function insertEntries(db: DbOrTrx, meetingId: number, rows: { name: string; category: string; note: string; walkIn: boolean }[]) {
  if (rows.length === 0) return [];
  const { max } = await db
    .selectFrom('roster_entries')
    .select((eb) => eb.fn.max<number | null>('sort_order').as('max'))
    .where('meeting_id', '=', meetingId)
    .executeTakeFirstOrThrow();
  const start = (max ?? 0) + 1;
  return db
    .insertInto('roster_entries')
    .values(rows.map((r, i) => ({ meeting_id: meetingId, name: r.name, category: r.category, note: r.note, walk_in: r.walkIn ? 1 : 0, sort_order: start + i })))
    .returning('id')
    .execute();
}

export function findEntry(db: DbOrTrx, meetingId: number, entryId: number) {
  return db.selectFrom('roster_entries').selectAll().where('meeting_id', '=', meetingId).where('id', '=', entryId).executeTakeFirst();
}

export function deleteUnsignedEntry(db: DbOrTrx, meetingId: number, entryId: number) {
  return db.deleteFrom('roster_entries').where('meeting_id', '=', meetingId).where('id', '=', entryId).where('signed_in', '=', 0).executeTakeFirst();
}

export function deleteAllUnsigned(db: DbOrTrx, meetingId: number) {
  return db.deleteFrom('roster_entries').where('meeting_id', '=', meetingId).where('signed_in', '=', 0).execute();
}

/** Mark signed in; succeeds once per entry (the caller checks numUpdatedRows). */
export function markSignedIn(db: DbOrTrx, meetingId: number, entryId: number) {
  return db.updateTable('roster_entries').set({ signed_in: 1 }).where('meeting_id', '=', meetingId).where('id', '=', entryId).where('signed_in', '=', 0).executeTakeFirst();
}

export function unmarkSignedIn(db: DbOrTrx, meetingId: number, entryId: number) {
  return db.updateTable('roster_entries').set({ signed_in: 0 }).where('meeting_id', '=', meetingId).where('id', '=', entryId).where('signed_in', '=', 1).executeTakeFirst();
}

/** One sign-in issues exactly one ballot (a QR, a printed slip or a paper form): 发出 never exceeds 实到 + 补发. */
export function countIssued(db: DbOrTrx, meetingId: number, o: { paper: boolean }) {
  return db
    .updateTable('meetings')
    .set({ issued_count: sql`issued_count + 1`, ...(o.paper ? { paper_issued: sql`paper_issued + 1` } : {}) })
    .where('id', '=', meetingId)
    .executeTakeFirst();
}

/**
 * A sign-in undone: one ballot fewer issued. A phone ticket taken back during voting lowers the tickets
 * the live gate counted as still out when it published its last step (server/live/gate.ts): the step at
 * close is at least k phone ballots away from that one only while issued phone tickets never fall below
 * the last step's phone ballots + 2k. So, once a step is out, a phone ticket is taken back only while that
 * still holds; decided by this update's own condition, so a step taken meanwhile by another batch or
 * process cannot slip between a check and the write (numUpdatedRows 0: refused). A paper form is taken
 * back only while fewer paper ballots are counted than handed out; nothing at all once voting closed.
 */
export function uncountIssued(db: DbOrTrx, meetingId: number, o: { paper: boolean }) {
  const q = db
    .updateTable('meetings')
    .set({ issued_count: sql`issued_count - 1`, ...(o.paper ? { paper_issued: sql`paper_issued - 1` } : {}) })
    .where('id', '=', meetingId)
    // Read committed (PostgreSQL): a close or a counted paper form may have come since the service read the row.
    .where('state', 'in', ['signin', 'voting']);
  return (
    o.paper
      ? q.where(sql<boolean>`paper_count < paper_issued and cast_count < issued_count`)
      : q.where(sql<boolean>`(state = 'signin' or snapshot_count = 0 or issued_count - 1 - paper_issued - snapshot_count >= 2 * live_k)`)
  ).executeTakeFirst();
}

/** 补发: one more ballot issued than people signed in. */
export function countReissued(db: DbOrTrx, meetingId: number) {
  return db
    .updateTable('meetings')
    .set({ issued_count: sql`issued_count + 1`, reissued_count: sql`reissued_count + 1` })
    .where('id', '=', meetingId)
    .executeTakeFirst();
}
