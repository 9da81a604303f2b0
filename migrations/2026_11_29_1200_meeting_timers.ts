import { sql, type Kysely } from 'kysely';

// The 述职 timers of a meeting (speakers, who is speaking, the running clock), kept on the server so
// that every window and laptop of the meeting follows the same timer and a reload keeps it.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table meeting_timers (
      meeting_id integer primary key references meetings(id) on delete cascade,
      state_json text not null,
      updated_at text not null
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('meeting_timers').ifExists().execute();
}
