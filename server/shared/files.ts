import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The SQLite files of a data folder (ceping.db and its rollback journal). */
const DATABASE_FILES = ['ceping.db', 'ceping.db-journal'];

/**
 * The data folder holds the ballots, the roster and, while a meeting runs, its key (in ceping.db), beside
 * secret.key and signing.key: only the server's own user may read any of it. From here on every file this
 * process creates is private (umask 077: the database and its journal, backups, exports), and a folder or
 * database an older version left readable by others is made private. A folder that is not ours to change
 * (EPERM) is left as it is. Call before the database is opened, on the main thread.
 */
export function makePrivateDataDir(dir: string): void {
  process.umask(0o077);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tighten = (file: string, mode: number) => {
    try {
      chmodSync(file, mode);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
    }
  };
  tighten(dir, 0o700);
  for (const name of DATABASE_FILES) {
    const file = path.join(dir, name);
    if (existsSync(file)) tighten(file, 0o600);
  }
}

/**
 * Create `file` with `content` unless it exists, atomically: two server processes starting at once on
 * one data folder (PostgreSQL) end up with the same key, whole, never two keys or half of one.
 */
export function writeFileOnce(file: string, content: string): void {
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temp, content, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    rmSync(temp, { force: true });
  }
}
