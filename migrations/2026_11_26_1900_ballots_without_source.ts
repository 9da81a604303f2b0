import { sql, type Kysely } from 'kysely';
import { ddl } from './ddl.ts';

// A ballot row no longer says whether it came on paper: with one or two paper voters whom the desk
// knows, that flag pointed at their ballots for as long as the database or a backup exists.
// (paper_count on the meeting keeps the number.) SQLite cannot drop a column used in a CHECK, so the
// table is rebuilt.
export async function up(db: Kysely<any>): Promise<void> {
  const t = ddl(db);
  await sql`
    create table ballots_new (
      id text primary key,
      meeting_id integer not null references meetings(id) on delete cascade,
      package_json text not null
    )${t.withoutRowid}`.execute(db);
  await sql`insert into ballots_new (id, meeting_id, package_json) select id, meeting_id, package_json from ballots`.execute(db);
  await sql`drop table ballots`.execute(db);
  await sql`alter table ballots_new rename to ballots`.execute(db);
  await sql`create index ballots_meeting on ballots (meeting_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  const t = ddl(db);
  await sql`
    create table ballots_old (
      id text primary key,
      meeting_id integer not null references meetings(id) on delete cascade,
      source text not null check (source in ('phone','paper')),
      package_json text not null
    )${t.withoutRowid}`.execute(db);
  await sql`insert into ballots_old (id, meeting_id, source, package_json) select id, meeting_id, 'phone', package_json from ballots`.execute(db);
  await sql`drop table ballots`.execute(db);
  await sql`alter table ballots_old rename to ballots`.execute(db);
  await sql`create index ballots_meeting on ballots (meeting_id)`.execute(db);
}
