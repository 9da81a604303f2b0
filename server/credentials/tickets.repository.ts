import type { DbOrTrx } from '../db/database.ts';
import type { TicketKind, TicketState } from '../db/schema.ts';

export function insertTicket(
  db: DbOrTrx,
  t: { id: string; meetingId: number; kind: TicketKind; serial: number | null; entryId: number | null; secretHash: string; codeHash: string; state: TicketState },
) {
  return db
    .insertInto('tickets')
    .values({
      id: t.id,
      meeting_id: t.meetingId,
      kind: t.kind,
      serial: t.serial,
      entry_id: t.entryId,
      secret_hash: t.secretHash,
      code_hash: t.codeHash,
      state: t.state,
      blinded_hash: null,
    })
    // A short code drawn twice (34 bits) writes nothing and is told by the result; PostgreSQL would
    // otherwise abort the whole transaction on the error.
    .onConflict((oc) => oc.column('code_hash').doNothing())
    .executeTakeFirst();
}

export function findTicketByHash(db: DbOrTrx, by: { secretHash: string } | { codeHash: string }) {
  const q = db.selectFrom('tickets').selectAll();
  return ('secretHash' in by ? q.where('secret_hash', '=', by.secretHash) : q.where('code_hash', '=', by.codeHash)).executeTakeFirst();
}

export type TicketRow = NonNullable<Awaited<ReturnType<typeof findTicketByHash>>>;

/** The person's current ticket (issued or redeemed): the one the desk shows, replaces or reissues. */
export function findEntryTicket(db: DbOrTrx, meetingId: number, entryId: number) {
  return db
    .selectFrom('tickets')
    .selectAll()
    .where('meeting_id', '=', meetingId)
    .where('entry_id', '=', entryId)
    .where('state', 'in', ['issued', 'redeemed'])
    .executeTakeFirst();
}

/** Whether the person has a ticket retired by a 补发: its token was made and may have been cast. */
export async function hasRetiredTicket(db: DbOrTrx, meetingId: number, entryId: number): Promise<boolean> {
  const r = await db.selectFrom('tickets').select('id').where('meeting_id', '=', meetingId).where('entry_id', '=', entryId).where('state', '=', 'retired').executeTakeFirst();
  return r !== undefined;
}

export function findTicket(db: DbOrTrx, meetingId: number, id: string) {
  return db.selectFrom('tickets').selectAll().where('meeting_id', '=', meetingId).where('id', '=', id).executeTakeFirst();
}

/** Redeem once: succeeds for exactly one caller (the caller checks numUpdatedRows). */
export function markRedeemed(db: DbOrTrx, id: string, blindedHash: string) {
  return db.updateTable('tickets').set({ state: 'redeemed', blinded_hash: blindedHash }).where('id', '=', id).where('state', '=', 'issued').executeTakeFirst();
}

export function voidTicket(db: DbOrTrx, id: string) {
  return db.updateTable('tickets').set({ state: 'void' }).where('id', '=', id).where('state', '=', 'issued').executeTakeFirst();
}

/** A redeemed ticket replaced by a 补发: the desk follows the new one. */
export function retireTicket(db: DbOrTrx, id: string) {
  return db.updateTable('tickets').set({ state: 'retired' }).where('id', '=', id).where('state', '=', 'redeemed').executeTakeFirst();
}

/** An activated slip taken back unredeemed (a sign-in undone): it is a spare again. */
export function returnSlip(db: DbOrTrx, id: string) {
  return db.updateTable('tickets').set({ state: 'dormant', entry_id: null }).where('id', '=', id).where('kind', '=', 'slip').where('state', '=', 'issued').executeTakeFirst();
}

/** A printed slip becomes a ballot when the desk hands it to a person who signed in. */
export function activateSlip(db: DbOrTrx, meetingId: number, serial: number, entryId: number) {
  return db
    .updateTable('tickets')
    .set({ state: 'issued', entry_id: entryId })
    .where('meeting_id', '=', meetingId)
    .where('kind', '=', 'slip')
    .where('serial', '=', serial)
    .where('state', '=', 'dormant')
    .executeTakeFirst();
}

export function findSlip(db: DbOrTrx, meetingId: number, serial: number) {
  return db.selectFrom('tickets').select(['id', 'state']).where('meeting_id', '=', meetingId).where('kind', '=', 'slip').where('serial', '=', serial).executeTakeFirst();
}

export async function lastSerial(db: DbOrTrx, meetingId: number): Promise<number> {
  const r = await db.selectFrom('tickets').select((eb) => eb.fn.max<number | null>('serial').as('max')).where('meeting_id', '=', meetingId).executeTakeFirstOrThrow();
  return r.max ?? 0;
}

/** After close no lost reply can come back: the blinded hashes go (secure_delete clears the bytes). */
export function wipeBlindedHashes(db: DbOrTrx, meetingId: number) {
  return db.updateTable('tickets').set({ blinded_hash: null }).where('meeting_id', '=', meetingId).where('blinded_hash', 'is not', null).execute();
}

export function countTicketStates(db: DbOrTrx, meetingId: number) {
  return db
    .selectFrom('tickets')
    .select(['kind', 'state', (eb) => eb.fn.countAll<number>().as('n')])
    .where('meeting_id', '=', meetingId)
    .groupBy(['kind', 'state'])
    .execute();
}

// ---------------------------------------------------------------- the meeting's VOPRF keys

export function insertMeetingKey(db: DbOrTrx, meetingId: number, purpose: 'vote' | 'rehearsal', key: { secretKey: Uint8Array; publicKey: Uint8Array }) {
  return db
    .insertInto('meeting_keys')
    .values({ meeting_id: meetingId, purpose, secret_key: Buffer.from(key.secretKey), public_key: Buffer.from(key.publicKey) })
    .execute();
}

export function findMeetingKey(db: DbOrTrx, meetingId: number, purpose: 'vote' | 'rehearsal') {
  return db.selectFrom('meeting_keys').select(['secret_key', 'public_key']).where('meeting_id', '=', meetingId).where('purpose', '=', purpose).executeTakeFirst();
}

/** Destroy a key (secure_delete overwrites the row's bytes; the rebuild after close drops the page). */
export function deleteMeetingKeys(db: DbOrTrx, meetingId: number, purpose?: 'vote' | 'rehearsal') {
  let q = db.deleteFrom('meeting_keys').where('meeting_id', '=', meetingId);
  if (purpose) q = q.where('purpose', '=', purpose);
  return q.execute();
}
