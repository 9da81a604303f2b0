/**
 * The statement cache under Kysely (server/db/statement-cache.ts), on real SQLite files: each SQL text
 * is compiled once and the same statement is handed back; a statement still iterating is never handed
 * out again mid-iteration; the bound holds; after schema changes (a migration, the rebuild after close)
 * every query still returns what the file holds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type OpenedDatabase } from '../../server/db/database.ts';
import { migrateToLatest } from '../../server/db/migrate.ts';
import { StatementCache } from '../../server/db/statement-cache.ts';
import { countStatements } from '../helpers/statements.ts';

let dir: string;
let opened: OpenedDatabase;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ceping-stmt-cache-'));
  opened = openDatabase(path.join(dir, 'c.db'));
});
afterEach(async () => {
  await opened.db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('the statement cache under Kysely', () => {
  it('the same SQL twice gives the same statement; a Kysely query run 50 times is compiled once', async () => {
    const { statements, sqlite, db } = opened;
    const a = statements.prepare('select 1 as one');
    expect(statements.prepare('select 1 as one')).toBe(a);
    expect(statements.prepare('select 2 as two')).not.toBe(a);

    sqlite.exec('create table t (id integer primary key, v text)');
    const { counts, stop } = countStatements(sqlite);
    try {
      for (let i = 0; i < 50; i++) {
        await db.transaction().execute(async (trx) => {
          await sql`insert into t (id, v) values (${i}, ${`v${i}`})`.execute(trx);
          const r = await sql<{ v: string }>`select v from t where id = ${i}`.execute(trx);
          expect(r.rows).toEqual([{ v: `v${i}` }]);
        });
      }
    } finally {
      stop();
    }
    // begin, insert, select, commit: four texts, each compiled once for 200 statements run.
    expect(counts.statements).toBe(200);
    expect(counts.prepares).toBe(4);
    expect(statements.stats.hits).toBeGreaterThanOrEqual(196);
  });

  it('a statement still iterating is not handed out again; once its iterator ends it is', () => {
    const { statements, sqlite } = opened;
    sqlite.exec('create table t (id integer primary key); insert into t values (1), (2), (3);');
    const text = 'select id from t order by id';
    const first = statements.prepare(text);
    const rows = first.iterate() as IterableIterator<{ id: number }>;
    expect(rows.next().value).toEqual({ id: 1 });
    expect(first.busy).toBe(true);

    // Mid-iteration: a fresh statement of its own, which runs to the end while the first still iterates.
    const second = statements.prepare(text);
    expect(second).not.toBe(first);
    expect(second.all()).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    expect(rows.next().value).toEqual({ id: 2 });
    expect(rows.next().value).toEqual({ id: 3 });
    expect(rows.next().done).toBe(true);

    // The iterator has ended: the kept statement is free again (the fresh one was not kept instead).
    expect(first.busy).toBe(false);
    expect(statements.prepare(text)).toBe(first);
  });

  it("Kysely's stream() over a kept statement, left mid-way: the same query afterwards reuses it and reads every row", async () => {
    const { statements, sqlite, db } = opened;
    sqlite.exec('create table t (id integer primary key); insert into t values (1), (2), (3), (4);');
    const query = () => (db as unknown as import('kysely').Kysely<{ t: { id: number } }>).selectFrom('t').select('id').orderBy('id');
    const seen: number[] = [];
    for await (const row of query().stream()) {
      seen.push(row.id);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual([1, 2]);
    const hits = statements.stats.hits;
    expect(await query().execute()).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }]);
    expect(statements.stats.hits).toBe(hits + 1);
  });

  it('bounded: the least recently used text goes first', () => {
    const sqlite = new Database(':memory:');
    const cache = new StatementCache(sqlite, 3);
    try {
      const one = cache.prepare('select 1');
      cache.prepare('select 2');
      cache.prepare('select 3');
      expect(cache.prepare('select 1')).toBe(one); // now most recently used
      cache.prepare('select 4'); // evicts 'select 2'
      expect(cache.size).toBe(3);
      expect(cache.stats.evictions).toBe(1);
      expect(cache.prepare('select 1')).toBe(one);
      const prepares = cache.stats.prepares;
      cache.prepare('select 2');
      expect(cache.stats.prepares).toBe(prepares + 1);
    } finally {
      cache.close();
    }
    expect(sqlite.open).toBe(false);
  });

  it('a statement that changes the schema is not kept and empties the cache; queries kept before read the new schema', async () => {
    const { statements, db } = opened;
    const raw = db as unknown as import('kysely').Kysely<any>;
    await raw.schema.createTable('t').addColumn('id', 'integer', (c) => c.primaryKey()).addColumn('a', 'text').execute();
    await sql`insert into t (id, a) values (1, 'x')`.execute(db);
    expect((await sql`select * from t`.execute(db)).rows).toEqual([{ id: 1, a: 'x' }]);
    expect(statements.size).toBeGreaterThan(0);

    await raw.schema.alterTable('t').addColumn('b', 'text', (c) => c.defaultTo('y')).execute();
    expect(statements.size).toBe(0);
    expect((await sql`select * from t`.execute(db)).rows).toEqual([{ id: 1, a: 'x', b: 'y' }]);

    // Dropped and made again with other columns, under a statement kept meanwhile.
    const kept = statements.prepare('select * from t');
    opened.sqlite.exec("drop table t; create table t (z text, id integer primary key); insert into t values ('new', 7);");
    expect(statements.prepare('select * from t')).toBe(kept);
    expect((await sql`select * from t`.execute(db)).rows).toEqual([{ z: 'new', id: 7 }]);
  });

  it('after the migrations and a VACUUM (the rebuild after close) the app\'s queries read what the file holds', async () => {
    const { statements, db, sqlite } = opened;
    await migrateToLatest(db);
    const clearsAfterMigrations = statements.stats.clears;
    expect(clearsAfterMigrations).toBeGreaterThan(0);
    const tables = () => sql<{ name: string }>`select name from sqlite_master where type = 'table' and name = ${'meetings'}`.execute(db);
    expect((await tables()).rows).toEqual([{ name: 'meetings' }]);
    const sizeBefore = statements.size;
    expect(sizeBefore).toBeGreaterThan(0);

    await sql`vacuum`.execute(db);
    expect(statements.stats.clears).toBe(clearsAfterMigrations + 1);
    expect(statements.size).toBe(0);
    expect((await tables()).rows).toEqual([{ name: 'meetings' }]);
    expect(sqlite.prepare('pragma integrity_check').pluck().get()).toBe('ok');

    // Migrating again (nothing to do) still answers through kept statements.
    await migrateToLatest(db);
    expect((await tables()).rows).toEqual([{ name: 'meetings' }]);
  });

  it('closing through Kysely closes the connection and lets go of the kept statements', async () => {
    await sql`select 1`.execute(opened.db); // Kysely opens its driver at the first query
    expect(opened.statements.size).toBe(1);
    await opened.db.destroy();
    expect(opened.statements.size).toBe(0);
    expect(opened.sqlite.open).toBe(false);
    opened = openDatabase(path.join(dir, 'c.db')); // for afterEach
  });
});
