import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SIGNING_KEY_FILE } from './signing.ts';

/**
 * Backup and restore of a data folder. The database is copied with SQLite's online backup through
 * a connection of its own, in one step under a read lock (the server's writes wait the few
 * milliseconds that takes), so a backup never holds half a transaction. The two key files live outside the
 * database (a copy of the .db alone can neither test guessed codes nor sign), so a full backup is a
 * folder: ceping.db, secret.key, signing.key and backup.json (what was copied, with SHA-256s).
 */

export const DB_FILE = 'ceping.db';
export const PEPPER_FILE = 'secret.key';
export const PID_FILE = 'ceping.pid';
export const BACKUP_MANIFEST = 'backup.json';
const KEY_FILES = [PEPPER_FILE, SIGNING_KEY_FILE] as const;

export class BackupError extends Error {
  override name = 'BackupError';
}

/** Copy a live database file into `dest` (a new file), through a separate connection. */
export async function backupDatabaseFile(source: string, dest: string): Promise<void> {
  if (existsSync(dest)) throw new BackupError(`${dest} already exists`);
  const src = new Database(source, { fileMustExist: true });
  try {
    src.pragma('busy_timeout = 5000');
    // All pages in one step: a write by the server between small steps would restart the copy, and
    // under steady voting it could restart again and again. One step reads one snapshot.
    await src.backup(dest, { progress: () => 0x7fffffff });
  } finally {
    src.close();
  }
  // A file from an older Ceping may carry WAL mode in its header; the copy is one self-contained file.
  const copy = new Database(dest);
  try {
    copy.pragma('journal_mode = DELETE');
  } finally {
    copy.close();
  }
  chmodSync(dest, 0o600);
}

// ---- the running server's pid file ----

export function writePidFile(dataDir: string, pid = process.pid): void {
  writeFileSync(path.join(dataDir, PID_FILE), `${pid}\n`, { mode: 0o600 });
}

export function removePidFile(dataDir: string, pid = process.pid): void {
  const file = path.join(dataDir, PID_FILE);
  // Only our own: a second server refused at start must not remove the first one's file.
  if (existsSync(file) && readFileSync(file, 'utf8').trim() === String(pid)) rmSync(file, { force: true });
}

/** The pid of a server running on this data folder, or null (no pid file, or its process is gone). */
export function runningServerPid(dataDir: string): number | null {
  const file = path.join(dataDir, PID_FILE);
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

// ---- what a database holds, for the summaries ----

export interface DatabaseCounts {
  campaigns: number;
  meetings: number;
  sealed: number;
  ballots: number;
  archives: number;
  auditEntries: number;
}

export function databaseCounts(file: string): DatabaseCounts {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const n = (q: string) => {
      try {
        return Number((db.prepare(q).get() as { n: number }).n);
      } catch {
        return 0; // a table made by a later migration
      }
    };
    return {
      campaigns: n('select count(*) as n from campaigns'),
      meetings: n('select count(*) as n from meetings'),
      sealed: n(`select count(*) as n from meetings where state = 'sealed'`),
      ballots: n('select count(*) as n from ballots'),
      archives: n('select count(*) as n from archives'),
      auditEntries: n('select count(*) as n from audit_log'),
    };
  } finally {
    db.close();
  }
}

function integrityOk(file: string): string {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}

function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/**
 * Copy the key files that exist in `dataDir` into `outDir` (owner-only), each with its SHA-256; name the
 * ones that are not there. Backups and exports both carry the keys this way.
 */
export function copyKeyFiles(dataDir: string, outDir: string, keyFiles: readonly string[]): { files: Record<string, string>; missingKeys: string[] } {
  const files: Record<string, string> = {};
  const missingKeys: string[] = [];
  for (const k of keyFiles) {
    const from = path.join(dataDir, k);
    if (!existsSync(from)) {
      missingKeys.push(k);
      continue;
    }
    const to = path.join(outDir, k);
    copyFileSync(from, to);
    chmodSync(to, 0o600);
    files[k] = sha256File(to);
  }
  return { files, missingKeys };
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

export function defaultBackupDir(now: Date): string {
  return `ceping-backup-${stamp(now)}`;
}

// ---- backup ----

export interface BackupResult {
  dir: string;
  files: Record<string, string>;
  counts: DatabaseCounts;
  missingKeys: string[];
}

export async function backupDataDir(o: { dataDir: string; outDir: string; now: Date; version?: string }): Promise<BackupResult> {
  const source = path.join(o.dataDir, DB_FILE);
  if (!existsSync(source)) throw new BackupError(`没有找到数据库 / no database at ${source}`);
  if (existsSync(o.outDir) && readdirSync(o.outDir).length > 0) throw new BackupError(`备份目录不是空的 / ${o.outDir} is not empty`);
  mkdirSync(o.outDir, { recursive: true, mode: 0o700 });
  const dest = path.join(o.outDir, DB_FILE);
  await backupDatabaseFile(source, dest);
  const keys = copyKeyFiles(o.dataDir, o.outDir, KEY_FILES);
  const files: Record<string, string> = { [DB_FILE]: sha256File(dest), ...keys.files };
  const missingKeys = keys.missingKeys;
  const counts = databaseCounts(dest);
  const manifest = { format: 'ceping.backup', version: 1, createdAt: o.now.toISOString(), serverVersion: o.version ?? null, files, counts };
  writeFileSync(path.join(o.outDir, BACKUP_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  return { dir: o.outDir, files, counts, missingKeys };
}

// ---- restore ----

export interface RestoreResult {
  dataDir: string;
  restored: string[];
  keptKeys: string[];
  movedAsideTo: string | null;
  counts: DatabaseCounts;
}

/**
 * Put a backup in place: a folder made by `backup`, or a lone .db (from the admin page's download;
 * the data folder's own key files are then kept). Refuses while a server runs on the folder, and
 * over an existing database without `force`; whatever it replaces is moved aside, never deleted.
 */
export function restoreDataDir(o: { from: string; dataDir: string; force: boolean; now: Date }): RestoreResult {
  const pid = runningServerPid(o.dataDir);
  if (pid !== null) throw new BackupError(`服务器正在运行（进程 ${pid}），请先停止服务器再恢复；如确认服务器已停止，删除 ${PID_FILE} 后重试 / a server is running on ${o.dataDir} (pid ${pid}); stop it first (if it is not running, delete ${PID_FILE})`);

  const fromDir = existsSync(o.from) && statSync(o.from).isDirectory();
  const sourceDb = fromDir ? path.join(o.from, DB_FILE) : o.from;
  if (!existsSync(sourceDb)) throw new BackupError(`没有找到备份数据库 / no database at ${sourceDb}`);
  if (fromDir && existsSync(path.join(o.from, BACKUP_MANIFEST))) {
    const manifest = JSON.parse(readFileSync(path.join(o.from, BACKUP_MANIFEST), 'utf8')) as { files?: Record<string, string> };
    for (const [name, sum] of Object.entries(manifest.files ?? {})) {
      const f = path.join(o.from, path.basename(name));
      if (!existsSync(f) || sha256File(f) !== sum) throw new BackupError(`备份文件 ${name} 缺失或已损坏 / ${name} is missing or damaged (SHA-256 differs)`);
    }
  }
  const integrity = integrityOk(sourceDb);
  if (integrity !== 'ok') throw new BackupError(`备份数据库校验失败 / integrity_check: ${integrity}`);

  mkdirSync(o.dataDir, { recursive: true });
  const target = path.join(o.dataDir, DB_FILE);
  if (existsSync(target) && !o.force) {
    throw new BackupError(`数据目录中已有数据库，确认覆盖请加 --force（原文件会移到备用目录保留） / ${target} exists; add --force to replace it (the old files are moved aside)`);
  }
  const keys = fromDir ? KEY_FILES.filter((k) => existsSync(path.join(o.from, k))) : [];
  // The old database goes with its WAL and shared-memory files: a stale -wal beside a new .db would corrupt it.
  const replaced = [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`, ...keys].filter((f) => existsSync(path.join(o.dataDir, f)));
  let aside: string | null = null;
  if (replaced.length > 0) {
    aside = path.join(o.dataDir, `before-restore-${stamp(o.now)}`);
    mkdirSync(aside, { recursive: true, mode: 0o700 });
    for (const f of replaced) renameSync(path.join(o.dataDir, f), path.join(aside, f));
  }
  copyFileSync(sourceDb, target);
  chmodSync(target, 0o600);
  for (const k of keys) {
    copyFileSync(path.join(o.from, k), path.join(o.dataDir, k));
    chmodSync(path.join(o.dataDir, k), 0o600);
  }
  return {
    dataDir: o.dataDir,
    restored: [DB_FILE, ...keys],
    keptKeys: KEY_FILES.filter((k) => !keys.includes(k) && existsSync(path.join(o.dataDir, k))),
    movedAsideTo: aside,
    counts: databaseCounts(target),
  };
}
