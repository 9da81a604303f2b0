import { PostgresAdapter, sql, type CreateTableBuilder, type Kysely, type RawBuilder } from 'kysely';

/**
 * The pieces of DDL that differ between SQLite and PostgreSQL, for the migrations only. Frozen with
 * them: on SQLite every piece is the exact text the migrations wrote before PostgreSQL was supported,
 * so an existing file migrates as it always did. Never change what an existing piece returns; add one.
 */
export interface Ddl {
  pg: boolean;
  /** `id` numbered by the database: SQLite `integer primary key autoincrement`, PostgreSQL `serial primary key`. */
  serialId<T extends string, C extends string>(t: CreateTableBuilder<T, C>): CreateTableBuilder<T, C | 'id'>;
  /** The same as SQL text, for tables written as raw SQL. */
  serialIdSql: RawBuilder<unknown>;
  /** A random 53-bit integer key: SQLite's `integer primary key` (64-bit), PostgreSQL's `bigint primary key`. */
  randomIdSql: RawBuilder<unknown>;
  blob: RawBuilder<unknown>;
  /** SQLite stores the rows of such a table in key order (random keys: no insertion order); PostgreSQL has no such clause. */
  withoutRowid: RawBuilder<unknown>;
  /** Refuse every update and delete of a table's rows (and, on PostgreSQL, a truncate), with `message`. */
  appendOnly(table: string, message: string, names?: { update: string; delete: string }): Promise<void>;
}

export function ddl(db: Kysely<any>): Ddl {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  return {
    pg,
    serialId: (t) => (pg ? t.addColumn('id', 'serial', (c) => c.primaryKey()) : t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())),
    serialIdSql: sql.raw(pg ? 'serial primary key' : 'integer primary key autoincrement'),
    randomIdSql: sql.raw(pg ? 'bigint primary key' : 'integer primary key'),
    blob: sql.raw(pg ? 'bytea' : 'blob'),
    withoutRowid: sql.raw(pg ? '' : ' without rowid'),
    async appendOnly(table, message, names = { update: `${table}_no_update`, delete: `${table}_no_delete` }) {
      const t = sql.id(table);
      if (!pg) {
        // Word for word as the migrations wrote them (SQLite keeps the text of a trigger as given).
        await sql.raw(`create trigger ${names.update} before update on ${table}
    begin select raise(abort, '${message}'); end`).execute(db);
        await sql.raw(`create trigger ${names.delete} before delete on ${table}
    begin select raise(abort, '${message}'); end`).execute(db);
        return;
      }
      await sql`create or replace function ceping_refuse_change() returns trigger language plpgsql as $$
        begin raise exception '%', tg_argv[0] using errcode = 'restrict_violation'; end $$`.execute(db);
      await sql`create trigger ${sql.id(names.update)} before update on ${t} for each row execute function ceping_refuse_change(${sql.lit(message)})`.execute(db);
      await sql`create trigger ${sql.id(names.delete)} before delete on ${t} for each row execute function ceping_refuse_change(${sql.lit(message)})`.execute(db);
      await sql`create trigger ${sql.id(`${table}_no_truncate`)} before truncate on ${t} for each statement execute function ceping_refuse_change(${sql.lit(message)})`.execute(db);
    },
  };
}
