import { sql, type Kysely } from 'kysely';
import { ddl } from './ddl.ts';

/**
 * Two-phase credentials (tickets the desk hands out, tokens the phone makes) and a ballot box whose
 * file layout keeps no cast order.
 *
 * - tickets replace credentials. A ticket is known to belong to the person the desk gave it to; what it
 *   buys is one blind evaluation, so nothing stored about it can be matched with a token.
 * - meeting_keys: one VOPRF key per meeting for voting, one for the rehearsal; deleted at close.
 * - spent_tokens: keyed hashes of the token inputs cast so far (the nullifiers); deleted at close.
 * - ballots become fixed-size slots made before they are needed and filled in place at a random one,
 *   so neither the rows nor the bytes of a page follow the order ballots were cast in.
 * - tally is dropped: counts come from the ballots (in memory while voting, kept as results at close);
 *   a counter row growing in place would itself record which grades moved last.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const t = ddl(db);
  await sql`drop table credentials`.execute(db);

  await sql`
    create table tickets (
      id text primary key,
      meeting_id integer not null references meetings(id) on delete cascade,
      kind text not null check (kind in ('desk','slip','rehearsal')),
      serial integer,
      entry_id integer references roster_entries(id),
      secret_hash text not null unique,
      code_hash text not null unique,
      state text not null check (state in ('dormant','issued','redeemed','retired','void')),
      blinded_hash text
    )${t.withoutRowid}`.execute(db);
  await sql`create index tickets_meeting on tickets (meeting_id, entry_id)`.execute(db);
  await sql`create unique index tickets_serial on tickets (meeting_id, serial) where serial is not null`.execute(db);

  await sql`
    create table meeting_keys (
      meeting_id integer not null references meetings(id) on delete cascade,
      purpose text not null check (purpose in ('vote','rehearsal')),
      secret_key ${t.blob} not null,
      public_key ${t.blob} not null,
      primary key (meeting_id, purpose)
    )${t.withoutRowid}`.execute(db);

  await sql`
    create table spent_tokens (
      nullifier text primary key,
      meeting_id integer not null references meetings(id) on delete cascade,
      retry_check text
    )${t.withoutRowid}`.execute(db);
  await sql`create index spent_tokens_meeting on spent_tokens (meeting_id)`.execute(db);

  await sql`
    create table ballots_slots (
      id ${t.randomIdSql},
      meeting_id integer not null references meetings(id) on delete cascade,
      filled integer not null default 0,
      body ${t.blob} not null
    )`.execute(db);
  // Ballots already cast (closed meetings) move into filled slots with fresh random keys.
  const old = await sql<{ meeting_id: number; package_json: string }>`select meeting_id, package_json from ballots order by id`.execute(db);
  for (const b of old.rows) {
    await sql`insert into ballots_slots (id, meeting_id, filled, body) values (abs(random()) % 9007199254740991, ${b.meeting_id}, 1, cast(${b.package_json} as blob))`.execute(db);
  }
  await sql`drop table ballots`.execute(db);
  await sql`alter table ballots_slots rename to ballots`.execute(db);
  await sql`create index ballots_meeting on ballots (meeting_id)`.execute(db);

  await sql`drop table tally`.execute(db);

  await sql`alter table meetings add column paper_issued integer not null default 0`.execute(db);
  await sql`alter table meetings add column reissued_count integer not null default 0`.execute(db);
  await sql`alter table meetings add column ballot_bytes integer not null default 0`.execute(db);
  await sql`alter table meetings add column key_fingerprint text`.execute(db);
  await sql`alter table meetings add column results_json text`.execute(db);
  await sql`alter table meetings add column compacted_at text`.execute(db);
  // Meetings closed before this version were compacted by the close itself.
  await sql`update meetings set compacted_at = voting_closed_at where state in ('closed','sealed')`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('two-phase credentials cannot be migrated down: restore a backup taken before the upgrade');
}
