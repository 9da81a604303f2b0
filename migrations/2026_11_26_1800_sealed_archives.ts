import { sql, type Kysely } from 'kysely';
import { ddl } from './ddl.ts';

// Sealed archives, and archives imported from another Ceping. Both are write-once: the database
// refuses to change or delete a row. archives.meeting_id has no cascade, so a sealed meeting stays.
export async function up(db: Kysely<any>): Promise<void> {
  const t = ddl(db);
  await sql`
    create table archives (
      meeting_id integer primary key references meetings(id),
      record_json text not null,
      sha256 text not null,
      signature text not null,
      created_at text not null
    )`.execute(db);
  await t.appendOnly('archives', 'archives are write-once');

  await sql`
    create table imported_archives (
      id ${t.serialIdSql},
      file_sha256 text not null unique,
      sha256 text not null,
      file_json text not null,
      verified integer not null,
      report_json text not null,
      township text not null,
      year integer not null,
      unit_name text not null,
      sealed_at text not null,
      fingerprint text not null,
      source_json text not null,
      imported_at text not null,
      imported_by integer references admins(id)
    )`.execute(db);
  await t.appendOnly('imported_archives', 'imported archives are read-only');
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('imported_archives').ifExists().execute();
  await db.schema.dropTable('archives').ifExists().execute();
}
