import type { DbOrTrx } from '../db/database.ts';

export function findTimers(db: DbOrTrx, meetingId: number) {
  return db.selectFrom('meeting_timers').select(['state_json']).where('meeting_id', '=', meetingId).executeTakeFirst();
}

export function saveTimers(db: DbOrTrx, meetingId: number, stateJson: string, at: string) {
  return db
    .insertInto('meeting_timers')
    .values({ meeting_id: meetingId, state_json: stateJson, updated_at: at })
    .onConflict((oc) => oc.column('meeting_id').doUpdateSet({ state_json: stateJson, updated_at: at }))
    .execute();
}
