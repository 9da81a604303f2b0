import { sql, type Kysely } from 'kysely';
import { ddl } from './ddl.ts';

// The 考察 workspace (issue 12): talks, records checked, special inquiries, the 鉴定表, the report's
// texts, their per-campaign settings, and imported 考察 files. Named by design and unrelated to
// ballots: nothing here references a credential, a ballot, a receipt or the tally.
// Frozen in time: never import application code from a migration.
export async function up(db: Kysely<any>): Promise<void> {
  const t = ddl(db);
  await db.schema
    .createTable('inspection_settings')
    .addColumn('campaign_id', 'integer', (c) => c.primaryKey().references('campaigns.id').onDelete('cascade'))
    .addColumn('records_json', 'text', (c) => c.notNull())
    .addColumn('appraisal_json', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  // Every draw, re-draw and extension, kept: the history a re-check needs. Append-only.
  await db.schema
    .createTable('inspection_draws')
    .$call(t.serialId)
    .addColumn('meeting_id', 'integer', (c) => c.notNull().references('meetings.id').onDelete('cascade'))
    .addColumn('round', 'integer', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('draw','redraw','extend','everyone')`))
    .addColumn('seed', 'text', (c) => c.notNull())
    .addColumn('seed_input', 'text', (c) => c.notNull())
    .addColumn('identity', 'text', (c) => c.notNull())
    .addColumn('pool_json', 'text', (c) => c.notNull())
    .addColumn('pool_digest', 'text', (c) => c.notNull())
    .addColumn('drawn_count', 'integer', (c) => c.notNull())
    .addColumn('minimum_json', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('actor_id', 'integer')
    .addColumn('at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('inspection_draws_meeting').on('inspection_draws').columns(['meeting_id', 'round']).unique().execute();
  await t.appendOnly('inspection_draws', 'inspection_draws is append-only');

  await db.schema
    .createTable('inspection_talks')
    .$call(t.serialId)
    .addColumn('meeting_id', 'integer', (c) => c.notNull().references('meetings.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('team','drawn','added')`))
    .addColumn('detail', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('draw_rank', 'integer')
    .addColumn('sort_order', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('done', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('notes', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('updated_at', 'text')
    .addColumn('updated_by', 'integer')
    .execute();
  await db.schema.createIndex('inspection_talks_meeting').on('inspection_talks').column('meeting_id').execute();

  await db.schema
    .createTable('inspection_records')
    .addColumn('meeting_id', 'integer', (c) => c.notNull().references('meetings.id').onDelete('cascade'))
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('checked', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('findings', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('updated_at', 'text')
    .addColumn('updated_by', 'integer')
    .addPrimaryKeyConstraint('inspection_records_pk', ['meeting_id', 'label'])
    .execute();

  await db.schema
    .createTable('inspection_inquiries')
    .$call(t.serialId)
    .addColumn('meeting_id', 'integer', (c) => c.notNull().references('meetings.id').onDelete('cascade'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text')
    .addColumn('updated_by', 'integer')
    .execute();
  await db.schema.createIndex('inspection_inquiries_meeting').on('inspection_inquiries').column('meeting_id').execute();

  await db.schema
    .createTable('inspection_appraisals')
    .addColumn('meeting_id', 'integer', (c) => c.primaryKey().references('meetings.id').onDelete('cascade'))
    .addColumn('values_json', 'text', (c) => c.notNull())
    .addColumn('grade', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('comment', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'integer')
    .execute();

  await db.schema
    .createTable('inspection_reports')
    .addColumn('meeting_id', 'integer', (c) => c.primaryKey().references('meetings.id').onDelete('cascade'))
    .addColumn('section1_note', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('section3', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('section4', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('section5', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('meeting_notes', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'integer')
    .execute();

  // 考察 files exported by another Ceping, kept read-only as received.
  await db.schema
    .createTable('inspection_imports')
    .$call(t.serialId)
    .addColumn('file_sha256', 'text', (c) => c.notNull().unique())
    .addColumn('township', 'text', (c) => c.notNull())
    .addColumn('year', 'integer', (c) => c.notNull())
    .addColumn('campaign', 'text', (c) => c.notNull())
    .addColumn('units', 'integer', (c) => c.notNull())
    .addColumn('exported_at', 'text', (c) => c.notNull())
    .addColumn('file_json', 'text', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('imported_at', 'text', (c) => c.notNull())
    .addColumn('imported_by', 'integer')
    .execute();
  await t.appendOnly('inspection_imports', 'imported inspection files are read-only');
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of [
    'inspection_imports', 'inspection_reports', 'inspection_appraisals', 'inspection_inquiries', 'inspection_records',
    'inspection_talks', 'inspection_draws', 'inspection_settings',
  ]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
