import { sql, type Kysely } from 'kysely';
import { ddl } from './ddl.ts';

// PostgreSQL only (SQLite: nothing). A ballot's bytes stay in its own row, as they are: not compressed
// while the row fits a page (toast_tuple_target at its largest), compressed in the row beyond that, and
// moved to the TOAST table only when nothing else would fit (storage main). A slot is then a fixed size
// in its row, and a ballot rewritten with the others of its meeting (server/ballots/ballot-box.ts) leaves
// no older out-of-line copy behind.
export async function up(db: Kysely<any>): Promise<void> {
  if (!ddl(db).pg) return;
  await sql`alter table ballots alter column body set storage main`.execute(db);
  await sql`alter table ballots set (toast_tuple_target = 8160)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!ddl(db).pg) return;
  await sql`alter table ballots reset (toast_tuple_target)`.execute(db);
  await sql`alter table ballots alter column body set storage extended`.execute(db);
}
