import { sql, type Kysely } from 'kysely';
import { ddl } from './ddl.ts';

// Paper packages typed in by one inspection-team member, waiting for a second to confirm them.
// The row is deleted when confirmed (the ballot then lives in `ballots`, with no trace of who typed it).
export async function up(db: Kysely<any>): Promise<void> {
  const t = ddl(db);
  await sql`
    create table paper_pending (
      id text primary key,
      meeting_id integer not null references meetings(id) on delete cascade,
      package_json text not null,
      entered_by integer not null references admins(id)
    )${t.withoutRowid}`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('paper_pending').ifExists().execute();
}
