import type { DbOrTrx } from '../db/database.ts';
import type { CredentialKind } from '../db/schema.ts';

export function insertCredential(db: DbOrTrx, c: { id: string; meetingId: number; kind: CredentialKind; tokenHash: string; codeHash: string }) {
  return db
    .insertInto('credentials')
    .values({ id: c.id, meeting_id: c.meetingId, kind: c.kind, token_hash: c.tokenHash, code_hash: c.codeHash, retry_check: null })
    .execute();
}

export function findCredentialByHash(db: DbOrTrx, by: { tokenHash: string } | { codeHash: string }) {
  const q = db.selectFrom('credentials').selectAll();
  return ('tokenHash' in by ? q.where('token_hash', '=', by.tokenHash) : q.where('code_hash', '=', by.codeHash)).executeTakeFirst();
}

export type CredentialRow = NonNullable<Awaited<ReturnType<typeof findCredentialByHash>>>;

/** Burn a credential: succeeds for exactly one caller; the caller checks numUpdatedRows. */
export function burnCredential(db: DbOrTrx, id: string, retryCheck: string) {
  return db.updateTable('credentials').set({ used: 1, retry_check: retryCheck }).where('id', '=', id).where('used', '=', 0).executeTakeFirst();
}

/** After voting closes no retry can come, so the retry checks are wiped (secure_delete clears the bytes). */
export function wipeRetryChecks(db: DbOrTrx, meetingId: number) {
  return db.updateTable('credentials').set({ retry_check: null }).where('meeting_id', '=', meetingId).where('retry_check', 'is not', null).execute();
}
