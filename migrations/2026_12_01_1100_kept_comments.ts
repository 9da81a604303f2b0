import { sql, type Kysely } from 'kysely';

// Part E's texts of a closed meeting, kept at close in the order the report shows them (a keyed hash of
// each text, nothing about who wrote first), so a report never reads every ballot again. Null for a
// meeting closed before this column existed: its report reads the ballots as before.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table meetings add column comments_json text`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table meetings drop column comments_json`.execute(db);
}
