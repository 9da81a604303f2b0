/**
 * The write queue on a real SQLite file: jobs queued together share one commit; a reply waits for its
 * commit; a refusal writes nothing and leaves the others be; a failure in a job or in the commit itself
 * acknowledges nothing of the batch.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../server/db/database.ts';
import { MAX_BATCH, WriteQueue } from '../../server/ballots/write-queue.ts';
import { DomainError } from '../../server/errors.ts';

let dir: string;
let file: string;
let db: Db;
let sqlite: Database.Database;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ceping-queue-'));
  file = path.join(dir, 'q.db');
  ({ db, sqlite } = openDatabase(file));
  sqlite.exec('create table parent (id integer primary key); create table item (id integer primary key, parent integer references parent(id)); insert into parent values (1);');
});
afterEach(async () => {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** What another connection sees: only what was committed. */
function committed(): number[] {
  const other = new Database(file, { readonly: true });
  try {
    return (other.prepare('select id from item order by id').all() as { id: number }[]).map((r) => r.id);
  } finally {
    other.close();
  }
}

const insert = (id: number, parent = 1) => sqlite.prepare('insert into item (id, parent) values (?, ?)').run(id, parent);

describe('the write queue', () => {
  it(`groups jobs queued together into shared commits (at most ${MAX_BATCH} a commit), and each reply comes after its commit`, async () => {
    const q = new WriteQueue(db);
    const seenAtReply: number[] = [];
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        q.run(() => {
          insert(i + 1);
          return i + 1;
        }).then((id) => {
          // By the time a job's promise settles, another connection sees its row.
          if (committed().includes(id)) seenAtReply.push(id);
        }),
      ),
    );
    expect(q.batches).toBe(Math.ceil(200 / MAX_BATCH));
    expect(seenAtReply).toHaveLength(200);
    expect(committed()).toHaveLength(200);
  });

  it('a refusal (a DomainError thrown before writing) leaves the rest of the batch to commit', async () => {
    const q = new WriteQueue(db);
    const results = await Promise.allSettled([
      q.run(() => insert(1)),
      q.run(() => {
        throw new DomainError('TOKEN_USED');
      }),
      q.run(() => insert(3)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(((results[1] as PromiseRejectedResult).reason as DomainError).code).toBe('TOKEN_USED');
    expect(q.batches).toBe(1);
    expect(committed()).toEqual([1, 3]);
  });

  it('any other failure inside a job rolls the whole batch back: nothing of it is acknowledged or kept', async () => {
    let rolledBack = 0;
    const q = new WriteQueue(db, { afterRollback: () => rolledBack++ });
    const results = await Promise.allSettled([
      q.run(() => insert(1)),
      q.run(() => {
        insert(2);
        throw new Error('disk trouble half-way');
      }),
      q.run(() => insert(3)),
    ]);
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(rolledBack).toBe(1);
    expect(q.batches).toBe(0);
    expect(committed()).toEqual([]);
    // The queue goes on afterwards.
    await q.run(() => insert(4));
    expect(committed()).toEqual([4]);
  });

  it('a commit that fails acknowledges no job of its batch and keeps nothing', async () => {
    // Foreign keys checked at commit: a job that breaks one makes the COMMIT itself fail.
    sqlite.pragma('defer_foreign_keys = ON');
    const q = new WriteQueue(db, {
      beforeCommit: async (tx) => {
        await sql`pragma defer_foreign_keys = on`.execute(tx);
      },
    });
    const acknowledged: number[] = [];
    const results = await Promise.allSettled([
      q.run(() => insert(1)).then(() => acknowledged.push(1)),
      q.run(() => insert(2, 999)).then(() => acknowledged.push(2)),
    ]);
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY/);
    expect(acknowledged).toEqual([]);
    expect(committed()).toEqual([]);
  });

  it('yields to the event loop between jobs: a timer set during a long batch runs before the batch ends', async () => {
    const q = new WriteQueue(db);
    const order: string[] = [];
    const jobs = Array.from({ length: 50 }, (_, i) =>
      q.run(() => {
        if (i === 1) setTimeout(() => order.push('timer'), 0);
        insert(i + 1);
        const until = Date.now() + 2;
        while (Date.now() < until);
        if (i === 49) order.push('last job');
      }),
    );
    await Promise.all(jobs);
    expect(order).toEqual(['timer', 'last job']);
    expect(q.batches).toBe(1);
  });
  it('runs quick jobs back to back within a slice, and yields after every job with a slice of 0', async () => {
    const turnsSeen = async (sliceMs: number, base: number) => {
      const q = new WriteQueue(db, { sliceMs });
      let immediateAfter = -1;
      let done = 0;
      const jobs = Array.from({ length: 100 }, (_, i) =>
        q.run(() => {
          if (i === 0) setImmediate(() => (immediateAfter = done));
          insert(base + i);
          done++;
        }),
      );
      await Promise.all(jobs);
      expect(q.batches).toBe(1);
      await new Promise((r) => setImmediate(r)); // queued after the one set in the first job
      return immediateAfter;
    };
    // A slice far longer than 100 inserts take: the whole batch runs before the event loop's next turn.
    expect(await turnsSeen(60_000, 1)).toBe(100);
    // No slice: the loop gets its turn right after the first job.
    expect(await turnsSeen(0, 1001)).toBe(1);
  });

  it('flush resolves only once every job queued so far has settled, and at once when none is', async () => {
    const q = new WriteQueue(db);
    await q.flush();
    const settled: number[] = [];
    for (let i = 1; i <= 5; i++) void q.run(() => insert(i)).then(() => settled.push(i));
    await q.flush();
    expect(settled).toEqual([1, 2, 3, 4, 5]);
    expect(committed()).toEqual([1, 2, 3, 4, 5]);
    expect(q.batches).toBe(1);
  });

  it('a batch whose transaction cannot begin (another writer holds the file) acknowledges nothing, says why, and the queue goes on', async () => {
    sqlite.pragma('busy_timeout = 50');
    const other = new Database(file);
    other.exec('begin immediate');
    let rolledBack = 0;
    let commits = 0;
    const q = new WriteQueue(db, { afterRollback: () => rolledBack++, afterCommit: () => commits++ });
    const results = await Promise.allSettled([q.run(() => insert(1)), q.run(() => insert(2))]);
    other.exec('rollback');
    other.close();
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    for (const r of results) expect(String((r as PromiseRejectedResult).reason)).toMatch(/database is locked/);
    expect([rolledBack, commits, q.batches]).toEqual([1, 0, 0]);
    expect(committed()).toEqual([]);
    await q.run(() => insert(3));
    expect(committed()).toEqual([3]);
    expect([rolledBack, commits, q.batches]).toEqual([1, 1, 1]);
  });
  it('counts the jobs waiting for the next batch', async () => {
    const q = new WriteQueue(db);
    expect(q.waiting).toBe(0);
    const jobs = [q.run(() => insert(1)), q.run(() => insert(2))];
    expect(q.waiting).toBe(2);
    await Promise.all(jobs);
    expect(q.waiting).toBe(0);
  });
});
