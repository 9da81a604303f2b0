/**
 * npm run bench — what the rollback journal costs against a write-ahead log (issue 8: no cast history at
 * rest while voting). Ceping opens its SQLite file with journal_mode=TRUNCATE, synchronous=FULL and
 * secure_delete=ON (server/db/database.ts), because a WAL keeps the pages of every commit since its last
 * checkpoint, in cast order. This measures the price at the storage level, in the same process and the
 * same rounds: the cast path's writes (fill a random empty fixed-size slot, add a nullifier, add a
 * receipt) in batches of the write queue's shape, on two fresh files that differ only in journal mode.
 * The server has no switch to run on a WAL, on purpose; so this is the storage alone, not the whole path.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, randomInt } from 'node:crypto';
import Database from 'better-sqlite3';

const BALLOTS = Number(process.env.BENCH_JOURNAL_BALLOTS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SLOT_BYTES = 640;
/** Batch sizes as the write queue forms them: a lone phone, a few at once, a burst. */
const BATCHES = [1, 8, 32];

type Mode = 'wal' | 'truncate';

function run(mode: Mode, batch: number): number {
  const dir = mkdtempSync(path.join(os.tmpdir(), `ceping-journal-${mode}-`));
  try {
    const db = new Database(path.join(dir, 'bench.db'));
    db.pragma(`journal_mode = ${mode === 'wal' ? 'WAL' : 'TRUNCATE'}`);
    db.pragma('synchronous = FULL');
    db.pragma('secure_delete = ON');
    db.exec(`
      create table slot (id integer primary key, filled integer not null default 0, body blob not null);
      create table spent (nullifier blob primary key) without rowid;
      create table receipt (code blob primary key) without rowid;
    `);
    const make = db.prepare('insert into slot (body) values (?)');
    db.transaction(() => {
      for (let i = 0; i < BALLOTS + 64; i++) make.run(Buffer.alloc(SLOT_BYTES));
    })();
    const empty = Array.from({ length: BALLOTS + 64 }, (_, i) => i + 1);
    const fill = db.prepare('update slot set filled = 1, body = ? where id = ? and filled = 0');
    const spend = db.prepare('insert into spent (nullifier) values (?)');
    const receipt = db.prepare('insert into receipt (code) values (?)');
    const write = db.transaction((n: number) => {
      for (let j = 0; j < n; j++) {
        const at = randomInt(empty.length);
        const id = empty[at]!;
        empty[at] = empty[empty.length - 1]!;
        empty.pop();
        fill.run(randomBytes(SLOT_BYTES), id);
        spend.run(randomBytes(32));
        receipt.run(randomBytes(10));
      }
    });
    const start = process.hrtime.bigint();
    for (let done = 0; done < BALLOTS; done += batch) write(Math.min(batch, BALLOTS - done));
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    db.close();
    return ms;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.stdout.write(`\nrollback journal (TRUNCATE) against WAL, ${BALLOTS} ballots, synchronous=FULL, ${ROUNDS} alternating rounds\n`);
for (const batch of BATCHES) {
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const wal = run('wal', batch);
    const truncate = run('truncate', batch);
    ratios.push(truncate / wal);
    process.stdout.write(`  batch ${String(batch).padStart(2)} round ${r + 1}: WAL ${wal.toFixed(0)} ms · TRUNCATE ${truncate.toFixed(0)} ms · ×${(truncate / wal).toFixed(2)}\n`);
  }
  ratios.sort((a, b) => a - b);
  process.stdout.write(`journal/WAL time ratio, batches of ${batch}: ×${ratios[Math.floor(ratios.length / 2)]!.toFixed(2)} (median)\n`);
}
