import { createHash, randomInt } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../db/dialect.ts';
import { copyKeyFiles } from './backup.ts';

/**
 * Moving a store between SQLite and PostgreSQL (`ceping export` / `ceping import`, and the admin page's
 * database download on PostgreSQL): every row of every table, as it is, so every figure, archive and
 * signature is the same on the other side. Only between meetings: no meeting may be signing in or voting
 * (its keys, nullifiers and empty slots exist only then). Login sessions stay behind.
 *
 * Rows are compared by a digest per table: SHA-256 over the rows' canonical JSON (values by column name,
 * bytes as base64), sorted, so it does not depend on either database's order or collation.
 */
export const STORE_TABLES = [
  'campaigns', 'units', 'team_members', 'meetings', 'roster_entries', 'admins', 'tickets', 'meeting_keys', 'spent_tokens',
  'ballots', 'receipts', 'paper_pending', 'meeting_assignments', 'audit_log', 'settings', 'meeting_timers', 'archives',
  'imported_archives', 'inspection_settings', 'inspection_draws', 'inspection_talks', 'inspection_records',
  'inspection_inquiries', 'inspection_appraisals', 'inspection_reports', 'inspection_imports',
] as const;

export type StoreTable = (typeof STORE_TABLES)[number];
type Row = Record<string, unknown>;

export interface StoreDump {
  format: 'ceping.store';
  version: 1;
  /** The migrations the source had run: the target must have run the same. */
  migrations: string[];
  tables: Record<StoreTable, Row[]>;
}

export interface TableDigest {
  rows: number;
  sha256: string;
}

export class TransferError extends Error {
  override name = 'TransferError';
}

/** Refuse while a meeting is signing in or voting. */
export async function assertBetweenMeetings(db: Kysely<any>): Promise<void> {
  const r = await db.selectFrom('meetings').select('id').where('state', 'in', ['signin', 'voting']).execute();
  if (r.length > 0) {
    throw new TransferError(`有 ${r.length} 个会议正在签到或测评，测评结束后才能迁移数据 / ${r.length} meeting(s) are signing in or voting: move the data after they close`);
  }
}

async function migrationNames(db: Kysely<any>): Promise<string[]> {
  const r = await db.selectFrom('kysely_migration').select('name').orderBy('name').execute();
  return r.map((x) => String(x.name));
}

/** Every row of every table, in one read transaction (one consistent snapshot). */
export async function readStore(db: Kysely<any>): Promise<StoreDump> {
  await assertBetweenMeetings(db);
  return db.transaction().execute(async (trx) => {
    const tables = {} as Record<StoreTable, Row[]>;
    for (const t of STORE_TABLES) tables[t] = (await trx.selectFrom(t).selectAll().execute()) as Row[];
    return { format: 'ceping.store', version: 1, migrations: await migrationNames(trx), tables };
  });
}

/** Load a dump into a freshly migrated, empty store, in one transaction; checks the digests after. */
export async function writeStore(db: Kysely<any>, dump: StoreDump): Promise<Record<StoreTable, TableDigest>> {
  const mine = await migrationNames(db);
  if (mine.join('\n') !== dump.migrations.join('\n')) {
    throw new TransferError('数据来自不同版本的 Ceping，请先把两边升级到同一版本 / the data comes from a different Ceping version: upgrade both to the same one first');
  }
  const pg = dialectOf(db) === 'postgres';
  await db.transaction().execute(async (trx) => {
    for (const t of STORE_TABLES) {
      const { n } = await trx.selectFrom(t).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      if (Number(n) > 0) throw new TransferError(`目标数据库不是空的（${t} 已有数据） / the target database is not empty (${t} has rows)`);
    }
    for (const t of STORE_TABLES) {
      // Ballots and receipts go in in a fresh random order, so the target's row order (SQLite's rowids,
      // PostgreSQL's places) owes nothing to the source's, whatever that was.
      const rows = t === 'ballots' || t === 'receipts' ? shuffled(dump.tables[t] ?? []) : (dump.tables[t] ?? []);
      // Within any engine's limit on bound values per statement.
      const per = Math.max(1, Math.floor(2000 / Math.max(1, Object.keys(rows[0] ?? {}).length)));
      for (let i = 0; i < rows.length; i += per) await trx.insertInto(t).values(rows.slice(i, i + per)).execute();
      // PostgreSQL numbers new rows from a sequence, which the copied keys did not advance.
      if (pg && rows.length > 0 && 'id' in rows[0]!) {
        const { rows: seq } = await sql<{ s: string | null }>`select pg_get_serial_sequence(${t}, 'id') as s`.execute(trx);
        if (seq[0]?.s) await sql`select setval(${seq[0].s}::regclass, (select max(id) from ${sql.table(t)})::bigint)`.execute(trx);
      }
    }
  });
  const want = digestStore(dump);
  const got = digestStore(await readStoreUnchecked(db, dump.migrations));
  for (const t of STORE_TABLES) {
    if (want[t].sha256 !== got[t].sha256 || want[t].rows !== got[t].rows) {
      throw new TransferError(`导入后 ${t} 与原数据不一致 / ${t} differs from the source after the import`);
    }
  }
  return got;
}

function shuffled<T>(rows: readonly T[]): T[] {
  const out = [...rows];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function readStoreUnchecked(db: Kysely<any>, migrations: string[]): Promise<StoreDump> {
  const tables = {} as Record<StoreTable, Row[]>;
  for (const t of STORE_TABLES) tables[t] = (await db.selectFrom(t).selectAll().execute()) as Row[];
  return { format: 'ceping.store', version: 1, migrations, tables };
}

function canonicalValue(v: unknown): unknown {
  if (v instanceof Uint8Array) return { $b: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  return v;
}

function canonicalRow(row: Row): string {
  return JSON.stringify(Object.keys(row).sort().map((k) => [k, canonicalValue(row[k])]));
}

export function digestStore(dump: StoreDump): Record<StoreTable, TableDigest> {
  const out = {} as Record<StoreTable, TableDigest>;
  for (const t of STORE_TABLES) {
    const rows = (dump.tables[t] ?? []).map(canonicalRow).sort();
    const h = createHash('sha256');
    for (const r of rows) h.update(r).update('\n');
    out[t] = { rows: rows.length, sha256: h.digest('hex') };
  }
  return out;
}

/** The dump as a file: JSON, bytes as { "$b": base64 }. */
export function encodeDump(dump: StoreDump): string {
  return JSON.stringify(dump, (_k, v: unknown) => {
    if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      return { $b: Buffer.from((v as { data: number[] }).data).toString('base64') };
    }
    return v;
  });
}

export function decodeDump(text: string): StoreDump {
  const dump = JSON.parse(text, (_k, v: unknown) => {
    if (v && typeof v === 'object' && typeof (v as { $b?: unknown }).$b === 'string' && Object.keys(v).length === 1) {
      return Buffer.from((v as { $b: string }).$b, 'base64');
    }
    return v;
  }) as StoreDump;
  if (dump?.format !== 'ceping.store' || dump.version !== 1 || typeof dump.tables !== 'object') {
    throw new TransferError('这不是 Ceping 导出的数据文件 / not a Ceping store export');
  }
  return dump;
}

// ---- the export folder: store.json, the two key files, export.json (what was written, with SHA-256s) ----

export const STORE_FILE = 'store.json';
export const EXPORT_MANIFEST = 'export.json';

export interface ExportResult {
  dir: string;
  files: Record<string, string>;
  tables: Record<StoreTable, TableDigest>;
  missingKeys: string[];
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Write a store's rows and the data folder's key files into `outDir` (new or empty). */
export async function exportStore(o: { db: Kysely<any>; dataDir: string; outDir: string; now: Date; keyFiles: readonly string[] }): Promise<ExportResult> {
  if (existsSync(o.outDir) && readdirSync(o.outDir).length > 0) throw new TransferError(`导出目录不是空的 / ${o.outDir} is not empty`);
  const dump = await readStore(o.db);
  mkdirSync(o.outDir, { recursive: true, mode: 0o700 });
  const text = encodeDump(dump);
  writeFileSync(path.join(o.outDir, STORE_FILE), text, { mode: 0o600 });
  const keys = copyKeyFiles(o.dataDir, o.outDir, o.keyFiles);
  const files: Record<string, string> = { [STORE_FILE]: sha256(text), ...keys.files };
  const missingKeys = keys.missingKeys;
  const tables = digestStore(dump);
  const manifest = { format: 'ceping.export', version: 1, exportedAt: o.now.toISOString(), files, tables };
  writeFileSync(path.join(o.outDir, EXPORT_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  return { dir: o.outDir, files, tables, missingKeys };
}

export interface ImportResult {
  tables: Record<StoreTable, TableDigest>;
  keys: string[];
  movedAsideTo: string | null;
}

/**
 * Load an export folder into `db` (freshly migrated, empty), and put its key files into `dataDir`. Key
 * files already there and different are refused unless `force` (then moved aside, never deleted).
 */
export async function importStore(o: { db: Kysely<any>; from: string; dataDir: string; force: boolean; now: Date; keyFiles: readonly string[] }): Promise<ImportResult> {
  const manifestFile = path.join(o.from, EXPORT_MANIFEST);
  if (!existsSync(manifestFile)) throw new TransferError(`${o.from} 中没有 ${EXPORT_MANIFEST}，不是 ceping export 导出的目录 / not a folder made by ceping export`);
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { format?: string; files?: Record<string, string>; tables?: Record<string, TableDigest> };
  if (manifest.format !== 'ceping.export') throw new TransferError('不是 ceping export 导出的目录 / not a folder made by ceping export');
  for (const [name, sum] of Object.entries(manifest.files ?? {})) {
    const f = path.join(o.from, path.basename(name));
    if (!existsSync(f) || sha256(readFileSync(f)) !== sum) throw new TransferError(`导出文件 ${name} 缺失或已损坏 / ${name} is missing or damaged (SHA-256 differs)`);
  }
  const keys = o.keyFiles.filter((k) => existsSync(path.join(o.from, k)));
  const clash = keys.filter((k) => existsSync(path.join(o.dataDir, k)) && sha256(readFileSync(path.join(o.dataDir, k))) !== sha256(readFileSync(path.join(o.from, k))));
  if (clash.length > 0 && !o.force) {
    throw new TransferError(`数据目录中已有不同的密钥文件 ${clash.join(', ')}；确认替换请加 --force（原文件会移到备用目录保留） / ${o.dataDir} holds different ${clash.join(', ')}; add --force to replace them (they are moved aside)`);
  }
  const dump = decodeDump(readFileSync(path.join(o.from, STORE_FILE), 'utf8'));
  for (const t of STORE_TABLES) {
    const want = manifest.tables?.[t];
    if (want && digestStore(dump)[t].sha256 !== want.sha256) throw new TransferError(`${t} 与导出时不一致 / ${t} differs from the export`);
  }
  const tables = await writeStore(o.db, dump);
  mkdirSync(o.dataDir, { recursive: true });
  let aside: string | null = null;
  if (clash.length > 0) {
    aside = path.join(o.dataDir, `before-import-${o.now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`);
    mkdirSync(aside, { recursive: true, mode: 0o700 });
    for (const k of clash) renameSync(path.join(o.dataDir, k), path.join(aside, k));
  }
  for (const k of keys) {
    copyFileSync(path.join(o.from, k), path.join(o.dataDir, k));
    chmodSync(path.join(o.dataDir, k), 0o600);
  }
  return { tables, keys, movedAsideTo: aside };
}
