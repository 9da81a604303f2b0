import type { DbOrTrx } from '../db/database.ts';
import type { AdminRole } from '../db/schema.ts';

export async function countAdmins(db: DbOrTrx): Promise<number> {
  const row = await db.selectFrom('admins').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

const adminColumns = ['id', 'username', 'display_name', 'role', 'password_hash', 'disabled', 'created_at'] as const;

export async function findAdminByUsername(db: DbOrTrx, username: string) {
  return db.selectFrom('admins').select(adminColumns).where('username', '=', username).executeTakeFirst();
}

export async function findAdminById(db: DbOrTrx, id: number) {
  return db.selectFrom('admins').select(adminColumns).where('id', '=', id).executeTakeFirst();
}

export async function listAdmins(db: DbOrTrx) {
  return db.selectFrom('admins').select(adminColumns).orderBy('id').execute();
}

export async function insertAdmin(
  db: DbOrTrx,
  a: { username: string; displayName: string; role: AdminRole; passwordHash: string; createdAt: string },
): Promise<number> {
  const row = await db
    .insertInto('admins')
    .values({ username: a.username, display_name: a.displayName, role: a.role, password_hash: a.passwordHash, created_at: a.createdAt })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function updateAdmin(
  db: DbOrTrx,
  id: number,
  patch: { display_name?: string; disabled?: number; password_hash?: string },
): Promise<void> {
  if (Object.keys(patch).length === 0) return;
  await db.updateTable('admins').set(patch).where('id', '=', id).execute();
}

export async function insertSession(
  db: DbOrTrx,
  s: { idHash: string; adminId: number; csrfToken: string; expiresAt: string },
): Promise<void> {
  await db
    .insertInto('sessions')
    .values({ id_hash: s.idHash, admin_id: s.adminId, csrf_token: s.csrfToken, expires_at: s.expiresAt })
    .execute();
}

export async function findSession(db: DbOrTrx, idHash: string) {
  return db
    .selectFrom('sessions')
    .innerJoin('admins', 'admins.id', 'sessions.admin_id')
    .select([
      'sessions.csrf_token',
      'sessions.expires_at',
      'admins.id',
      'admins.username',
      'admins.display_name',
      'admins.role',
      'admins.disabled',
    ])
    .where('sessions.id_hash', '=', idHash)
    .executeTakeFirst();
}

/** Deletes one session; returns its admin's id, or null when there was none. */
export async function deleteSession(db: DbOrTrx, idHash: string): Promise<number | null> {
  const row = await db.deleteFrom('sessions').where('id_hash', '=', idHash).returning('admin_id').executeTakeFirst();
  return row?.admin_id ?? null;
}

export async function deleteSessionsOfAdmin(db: DbOrTrx, adminId: number): Promise<void> {
  await db.deleteFrom('sessions').where('admin_id', '=', adminId).execute();
}

/** ISO-8601 UTC strings of one fixed format sort as the instants they name, so text comparison is time comparison. */
export async function deleteExpiredSessions(db: DbOrTrx, nowIso: string): Promise<void> {
  await db.deleteFrom('sessions').where('expires_at', '<=', nowIso).execute();
}

export async function meetingExists(db: DbOrTrx, meetingId: number): Promise<boolean> {
  const row = await db.selectFrom('meetings').select('id').where('id', '=', meetingId).executeTakeFirst();
  return row !== undefined;
}

export async function insertAssignment(db: DbOrTrx, meetingId: number, adminId: number): Promise<boolean> {
  const result = await db
    .insertInto('meeting_assignments')
    .values({ meeting_id: meetingId, admin_id: adminId })
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

export async function deleteAssignment(db: DbOrTrx, meetingId: number, adminId: number): Promise<boolean> {
  const result = await db
    .deleteFrom('meeting_assignments')
    .where('meeting_id', '=', meetingId)
    .where('admin_id', '=', adminId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function listAssignmentsOfMeeting(db: DbOrTrx, meetingId: number) {
  return db
    .selectFrom('meeting_assignments')
    .innerJoin('admins', 'admins.id', 'meeting_assignments.admin_id')
    .select(['admins.id', 'admins.username', 'admins.display_name', 'admins.disabled'])
    .where('meeting_assignments.meeting_id', '=', meetingId)
    .orderBy('admins.id')
    .execute();
}

export async function assignmentExists(db: DbOrTrx, meetingId: number, adminId: number): Promise<boolean> {
  const row = await db
    .selectFrom('meeting_assignments')
    .select('admin_id')
    .where('meeting_id', '=', meetingId)
    .where('admin_id', '=', adminId)
    .executeTakeFirst();
  return row !== undefined;
}

export async function listAssignedMeetingIds(db: DbOrTrx, adminId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('meeting_assignments')
    .select('meeting_id')
    .where('admin_id', '=', adminId)
    .orderBy('meeting_id')
    .execute();
  return rows.map((r) => r.meeting_id);
}
