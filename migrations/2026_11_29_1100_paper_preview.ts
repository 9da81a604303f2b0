import { sql, type Kysely } from 'kysely';

// What each part of a pending paper package will count as (废票 / 弃权, with the rule in words), worked
// out when it is typed: the stored package is normalized and no longer says why a part is void, and the
// second person must read the same preview as the first. Deleted with the row at confirmation.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table paper_pending add column preview_json text`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table paper_pending drop column preview_json`.execute(db);
}
