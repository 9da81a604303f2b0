import { sql } from 'kysely';
import type { DbOrTrx } from '../db/database.ts';
import { decodeSlot } from './slots.ts';
import { LIVE_ROW_SQL, type LiveRow } from './cast-statements.ts';

// ---------------------------------------------------------------- ballot slots

/** Empty slots of a meeting (their keys are random, so this says nothing about time). */
export function listFreeSlots(db: DbOrTrx, meetingId: number) {
  return db.selectFrom('ballots').select('id').where('meeting_id', '=', meetingId).where('filled', '=', 0).execute();
}

export async function countFreeSlots(db: DbOrTrx, meetingId: number): Promise<number> {
  const r = await db.selectFrom('ballots').select((eb) => eb.fn.countAll<number>().as('n')).where('meeting_id', '=', meetingId).where('filled', '=', 0).executeTakeFirstOrThrow();
  return Number(r.n);
}

export function insertEmptySlots(db: DbOrTrx, meetingId: number, ids: number[], size: number) {
  if (ids.length === 0) return Promise.resolve([]);
  const empty = Buffer.alloc(size);
  return db.insertInto('ballots').values(ids.map((id) => ({ id, meeting_id: meetingId, filled: 0, body: empty }))).execute();
}

/** Fill one empty slot in place with a body of the slot's own size. */
export function fillSlot(db: DbOrTrx, meetingId: number, id: number, body: Buffer) {
  return db.updateTable('ballots').set({ filled: 1, body }).where('meeting_id', '=', meetingId).where('id', '=', id).where('filled', '=', 0).executeTakeFirst();
}

/** At close the empty slots go: nothing is cast any more. */
export function deleteFreeSlots(db: DbOrTrx, meetingId: number) {
  return db.deleteFrom('ballots').where('meeting_id', '=', meetingId).where('filled', '=', 0).execute();
}

/** Stored ballots in key order (random): used for recounts and the archive, never for display order. */
export async function listBallots(db: DbOrTrx, meetingId: number): Promise<{ id: number; package_json: string }[]> {
  const rows = await db.selectFrom('ballots').select(['id', 'body']).where('meeting_id', '=', meetingId).where('filled', '=', 1).orderBy('id').execute();
  return rows.map((r) => ({ id: r.id, package_json: decodeSlot(r.body) }));
}

/** Ballots a page of ballotPages holds: about 1.2 MB of slots at the usual 2–3 KB a slot. */
export const BALLOT_PAGE = 500;

/**
 * A meeting's filled ballots as their packages' JSON, a page at a time in the order of the slots' random
 * keys (as listBallots), so that a recount of a big meeting never holds every ballot at once: on the
 * database thread every row is copied to the main thread, and a 5,000-ballot close read them all twice.
 */
export async function* ballotPages(db: DbOrTrx, meetingId: number, pageSize = BALLOT_PAGE): AsyncGenerator<string[]> {
  for (let after = -1; ; ) {
    const rows = await db
      .selectFrom('ballots')
      .select(['id', 'body'])
      .where('meeting_id', '=', meetingId)
      .where('filled', '=', 1)
      .where('id', '>', after)
      .orderBy('id')
      .limit(pageSize)
      .execute();
    if (rows.length > 0) yield rows.map((r) => decodeSlot(r.body));
    if (rows.length < pageSize) return;
    after = rows.at(-1)!.id;
  }
}

// ---------------------------------------------------------------- spent tokens and receipts

export function findSpentToken(db: DbOrTrx, nullifier: string) {
  return db.selectFrom('spent_tokens').select(['meeting_id', 'retry_check']).where('nullifier', '=', nullifier).executeTakeFirst();
}

export function insertSpentToken(db: DbOrTrx, t: { nullifier: string; meetingId: number; retryCheck: string }) {
  return db.insertInto('spent_tokens').values({ nullifier: t.nullifier, meeting_id: t.meetingId, retry_check: t.retryCheck }).execute();
}

/** After close no retry can come: the nullifiers and retry checks go (secure_delete clears the bytes). */
export function deleteSpentTokens(db: DbOrTrx, meetingId: number) {
  return db.deleteFrom('spent_tokens').where('meeting_id', '=', meetingId).execute();
}

export function insertReceipt(db: DbOrTrx, meetingId: number, receiptHash: string) {
  return db.insertInto('receipts').values({ receipt_hash: receiptHash, meeting_id: meetingId }).execute();
}

export function findReceipt(db: DbOrTrx, receiptHash: string) {
  return db.selectFrom('receipts').select('meeting_id').where('receipt_hash', '=', receiptHash).executeTakeFirst();
}

// ---------------------------------------------------------------- counters

/** Count one returned ballot; refused (0 rows) unless voting is open and returned < issued (and, on paper, paper returned < paper issued). */
export function countBallot(db: DbOrTrx, meetingId: number, source: 'phone' | 'paper') {
  let q = db
    .updateTable('meetings')
    .set({
      cast_count: sql`cast_count + 1`,
      ...(source === 'paper' ? { paper_count: sql`paper_count + 1` } : {}),
    })
    .where('id', '=', meetingId)
    .where('state', '=', 'voting')
    .whereRef('cast_count', '<', 'issued_count');
  if (source === 'paper') q = q.whereRef('paper_count', '<', 'paper_issued');
  return q.executeTakeFirst();
}

// ---------------------------------------------------------------- paper packages awaiting a second person

export function insertPendingPaper(db: DbOrTrx, p: { id: string; meetingId: number; packageJson: string; enteredBy: number; previewJson: string }) {
  return db
    .insertInto('paper_pending')
    .values({ id: p.id, meeting_id: p.meetingId, package_json: p.packageJson, entered_by: p.enteredBy, preview_json: p.previewJson })
    .execute();
}

export function listPendingPaper(db: DbOrTrx, meetingId: number) {
  return db
    .selectFrom('paper_pending')
    .innerJoin('admins', 'admins.id', 'paper_pending.entered_by')
    .select(['paper_pending.id', 'paper_pending.package_json', 'paper_pending.preview_json', 'paper_pending.entered_by', 'admins.display_name'])
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

// ---------------------------------------------------------------- the cast path on PostgreSQL

/**
 * The same steps on PostgreSQL, where several server processes write at once and every row version
 * carries the id of the transaction that wrote it (xmin) and a physical place (ctid):
 * - the token is spent first, by its primary key: of two processes given the same token, exactly one
 *   inserts it (the other waits for it, then finds it spent);
 * - the empty slot is chosen at random by the database among those no other transaction holds
 *   (FOR UPDATE SKIP LOCKED), so two processes never pick the same one;
 * - every batch rewrites all the filled slots of the meetings it wrote to, in a random order
 *   (shuffleFilledSlots), so every ballot of a meeting carries the newest batch's xmin and a place
 *   drawn at random: neither says when a ballot came.
 * These run inside a write-queue job's savepoint: a refusal after the spend undoes it.
 */
export const pgCast = {
  async meetingState(db: DbOrTrx, meetingId: number): Promise<{ state: string; ballot_bytes: number } | undefined> {
    const r = await sql<{ state: string; ballot_bytes: number }>`select state, ballot_bytes from meetings where id = ${meetingId}`.execute(db);
    return r.rows[0];
  },

  async liveRow(tx: DbOrTrx, meetingId: number): Promise<LiveRow | undefined> {
    const r = await sql<LiveRow>`${sql.raw(LIVE_ROW_SQL)}${meetingId}`.execute(tx);
    return r.rows[0];
  },

  /** Spend the token; false when it was spent already (by this batch, or by a commit anywhere). */
  async spend(tx: DbOrTrx, nullifier: string, meetingId: number, retryCheck: string): Promise<boolean> {
    const r = await sql`insert into spent_tokens (nullifier, meeting_id, retry_check) values (${nullifier}, ${meetingId}, ${retryCheck})
      on conflict (nullifier) do nothing`.execute(tx);
    return r.numAffectedRows === 1n;
  },

  async spent(tx: DbOrTrx, nullifier: string): Promise<{ retry_check: string | null } | undefined> {
    const r = await sql<{ retry_check: string | null }>`select retry_check from spent_tokens where nullifier = ${nullifier}`.execute(tx);
    return r.rows[0];
  },

  async countPhoneBallot(tx: DbOrTrx, meetingId: number): Promise<boolean> {
    const r = await sql`update meetings set cast_count = cast_count + 1 where id = ${meetingId} and state = 'voting' and cast_count < issued_count`.execute(tx);
    return r.numAffectedRows === 1n;
  },

  async counters(tx: DbOrTrx, meetingId: number): Promise<{ state: string; cast_count: number; issued_count: number } | undefined> {
    const r = await sql<{ state: string; cast_count: number; issued_count: number }>`select state, cast_count, issued_count from meetings where id = ${meetingId}`.execute(tx);
    return r.rows[0];
  },

  /** Fill a random empty slot that no other transaction holds; the slot's id, or null when none is left. */
  async fillRandomSlot(tx: DbOrTrx, meetingId: number, body: Buffer, seed: string): Promise<number | null> {
    const r = await sql<{ id: number }>`
      update ballots set filled = 1, body = ${body}
      where id = (select id from ballots where meeting_id = ${meetingId} and filled = 0
                  order by md5(id::text || ${seed}) limit 1 for update skip locked)
      returning id`.execute(tx);
    return r.rows[0]?.id ?? null;
  },

  async addReceipt(tx: DbOrTrx, receiptHash: string, meetingId: number): Promise<void> {
    await sql`insert into receipts (receipt_hash, meeting_id) values (${receiptHash}, ${meetingId})`.execute(tx);
  },
};

/**
 * PostgreSQL only: write every filled slot of a meeting anew, in an order drawn from `seed`. The new row
 * versions all carry this transaction's id and take their places in that order; the old ones are dead
 * (gone at the next vacuum, and for good by the rebuild after close).
 */
export async function shuffleFilledSlots(tx: DbOrTrx, meetingId: number, seed: string): Promise<void> {
  await sql`
    with gone as (delete from ballots where meeting_id = ${meetingId} and filled = 1 returning id, meeting_id, body)
    insert into ballots (id, meeting_id, filled, body) select id, meeting_id, 1, body from gone order by md5(id::text || ${seed})`.execute(tx);
}

/** PostgreSQL only, at close: the receipts too, so none carries the id of the batch that wrote it. */
export async function shuffleReceipts(tx: DbOrTrx, meetingId: number, seed: string): Promise<void> {
  await sql`
    with gone as (delete from receipts where meeting_id = ${meetingId} returning receipt_hash, meeting_id)
    insert into receipts (receipt_hash, meeting_id) select receipt_hash, meeting_id from gone order by md5(receipt_hash || ${seed})`.execute(tx);
}
