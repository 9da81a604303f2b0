import type { DbOrTrx } from '../db/database.ts';
import type { AuditEvent } from './audit.events.ts';

export interface AuditEntry {
  at: Date;
  actorId: number | null;
  meetingId: number | null;
  event: AuditEvent;
  detail?: Record<string, unknown>;
}

export async function appendAudit(db: DbOrTrx, e: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      at: e.at.toISOString(),
      actor_id: e.actorId,
      meeting_id: e.meetingId,
      event: e.event,
      detail_json: JSON.stringify(e.detail ?? {}),
    })
    .execute();
}

export async function listAudit(db: DbOrTrx, filter: { meetingId?: number; limit?: number } = {}) {
  let q = db
    .selectFrom('audit_log')
    .leftJoin('admins', 'admins.id', 'audit_log.actor_id')
    .select(['audit_log.id', 'audit_log.at', 'audit_log.event', 'audit_log.meeting_id', 'audit_log.detail_json', 'admins.display_name as actor'])
    .orderBy('audit_log.id');
  if (filter.meetingId !== undefined) q = q.where('audit_log.meeting_id', '=', filter.meetingId);
  const rows = await q.limit(filter.limit ?? 10_000).execute();
  return rows.map((r) => ({
    id: r.id,
    at: r.at,
    event: r.event,
    meetingId: r.meeting_id,
    actor: r.actor,
    detail: JSON.parse(r.detail_json) as Record<string, unknown>,
  }));
}
