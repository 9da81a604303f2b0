import { sql, type Kysely } from 'kysely';
import { ddl } from './ddl.ts';

// Frozen in time: never import application code from a migration.
export async function up(db: Kysely<any>): Promise<void> {
  const t = ddl(db);
  await db.schema
    .createTable('campaigns')
    .$call(t.serialId)
    .addColumn('year', 'integer', (c) => c.notNull())
    .addColumn('township', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('template_json', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('units')
    .$call(t.serialId)
    .addColumn('campaign_id', 'integer', (c) => c.notNull().references('campaigns.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('village','community','station')`))
    .addColumn('reserve_candidates_json', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('sort_order', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('team_members')
    .$call(t.serialId)
    .addColumn('unit_id', 'integer', (c) => c.notNull().references('units.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('position', 'text', (c) => c.notNull())
    .addColumn('is_secretary', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('sort_order', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('meetings')
    .$call(t.serialId)
    .addColumn('unit_id', 'integer', (c) => c.notNull().references('units.id').onDelete('cascade'))
    .addColumn('state', 'text', (c) =>
      c.notNull().defaultTo('draft').check(sql`state in ('draft','signin','voting','closed','sealed')`),
    )
    .addColumn('planned_at', 'text')
    .addColumn('location', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('inspection_team', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('live_k', 'integer', (c) => c.notNull().defaultTo(5))
    .addColumn('projector_shows_distributions', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('form_json', 'text')
    .addColumn('quorum_override_reason', 'text')
    .addColumn('signin_started_at', 'text')
    .addColumn('voting_opened_at', 'text')
    .addColumn('voting_closed_at', 'text')
    .addColumn('sealed_at', 'text')
    .addColumn('issued_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('cast_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('paper_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('snapshot_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('snapshot_json', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('roster_entries')
    .$call(t.serialId)
    .addColumn('meeting_id', 'integer', (c) => c.notNull().references('meetings.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('walk_in', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('signed_in', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('sort_order', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('roster_entries_meeting').on('roster_entries').column('meeting_id').execute();

  // Anonymity: random primary keys, WITHOUT ROWID so storage order follows the key, and no
  // timestamp, roster entry or IP in either table. Nothing joins a credential to its ballot.
  await sql`
    create table credentials (
      id text primary key,
      meeting_id integer not null references meetings(id) on delete cascade,
      kind text not null check (kind in ('desk','slip','rehearsal')),
      token_hash text not null unique,
      code_hash text not null unique,
      used integer not null default 0,
      retry_check text
    )${t.withoutRowid}`.execute(db);
  await db.schema.createIndex('credentials_meeting').on('credentials').column('meeting_id').execute();

  await sql`
    create table ballots (
      id text primary key,
      meeting_id integer not null references meetings(id) on delete cascade,
      source text not null check (source in ('phone','paper')),
      package_json text not null
    )${t.withoutRowid}`.execute(db);
  await db.schema.createIndex('ballots_meeting').on('ballots').column('meeting_id').execute();

  // Receipts live apart from ballots so a receipt proves inclusion, never content.
  await sql`
    create table receipts (
      receipt_hash text primary key,
      meeting_id integer not null references meetings(id) on delete cascade
    )${t.withoutRowid}`.execute(db);

  await sql`
    create table tally (
      meeting_id integer not null references meetings(id) on delete cascade,
      part text not null,
      subject text not null,
      grade text not null,
      n integer not null,
      primary key (meeting_id, part, subject, grade)
    )${t.withoutRowid}`.execute(db);

  await db.schema
    .createTable('admins')
    .$call(t.serialId)
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('township','inspector')`))
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('admin_id', 'integer', (c) => c.notNull().references('admins.id').onDelete('cascade'))
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('meeting_assignments')
    .addColumn('meeting_id', 'integer', (c) => c.notNull().references('meetings.id').onDelete('cascade'))
    .addColumn('admin_id', 'integer', (c) => c.notNull().references('admins.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('meeting_assignments_pk', ['meeting_id', 'admin_id'])
    .execute();

  await db.schema
    .createTable('audit_log')
    .$call(t.serialId)
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'integer')
    .addColumn('meeting_id', 'integer')
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('detail_json', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
  // Append-only: the database itself refuses to rewrite history.
  await t.appendOnly('audit_log', 'audit_log is append-only');

  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of [
    'settings', 'audit_log', 'meeting_assignments', 'sessions', 'admins', 'tally', 'receipts',
    'ballots', 'credentials', 'roster_entries', 'meetings', 'team_members', 'units', 'campaigns',
  ]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
