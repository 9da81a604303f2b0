import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { scanEveryColumn } from '../helpers/db-scan.ts';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function db(): Database.Database {
  const dir = mkdtempSync(path.join(tmpdir(), 'ceping-scan-'));
  dirs.push(dir);
  const sqlite = new Database(path.join(dir, 'x.db'));
  sqlite.exec(`
    CREATE TABLE roster_entries (id INTEGER PRIMARY KEY, name TEXT, note TEXT, signed_in INTEGER);
    CREATE TABLE ballots (id BLOB PRIMARY KEY, package_json TEXT) WITHOUT ROWID;
    CREATE TABLE audit_log (id INTEGER PRIMARY KEY, detail TEXT);
  `);
  return sqlite;
}

describe('scanEveryColumn (tests/helpers/db-scan.ts)', () => {
  it('finds a secret-derived value in a column nobody thought of, in any common spelling', () => {
    const sqlite = db();
    // A hash whose base64 holds a '+' or '/': otherwise its base64url spelling is the same text (less the
    // padding) and is found too (about one run in four).
    let token: string;
    let hash: Buffer;
    do {
      token = randomBytes(16).toString('base64url');
      hash = createHash('sha256').update(token).digest();
    } while (!/[+/]/.test(hash.toString('base64')));
    sqlite.prepare('INSERT INTO roster_entries (name, note, signed_in) VALUES (?, ?, 1)').run('张三', `第一组 ${hash.toString('hex')}`);
    sqlite.prepare('INSERT INTO ballots VALUES (?, ?)').run(randomBytes(16), '{"A":{}}');
    sqlite.prepare('INSERT INTO audit_log (detail) VALUES (?)').run(JSON.stringify({ k: hash.toString('base64') }));
    const report = scanEveryColumn(sqlite, [
      { label: 'token', value: token },
      { label: 'hash of the token', value: hash },
    ]);
    expect(report.tables).toEqual(['audit_log', 'ballots', 'roster_entries']);
    expect(report.columns).toContain('roster_entries.note');
    expect(report.findings).toEqual([
      { table: 'audit_log', column: 'detail', row: 0, needle: 'hash of the token', spelling: 'base64' },
      { table: 'roster_entries', column: 'note', row: 0, needle: 'hash of the token', spelling: 'hex' },
    ]);
    sqlite.close();
  });

  it('reads BLOB keys too, and finds nothing when nothing is there', () => {
    const sqlite = db();
    const key = randomBytes(16);
    sqlite.prepare('INSERT INTO ballots VALUES (?, ?)').run(key, '{}');
    expect(scanEveryColumn(sqlite, [{ label: 'key', value: key }]).findings).toEqual([{ table: 'ballots', column: 'id', row: 0, needle: 'key', spelling: 'raw' }]);
    const clean = scanEveryColumn(sqlite, [{ label: 'other', value: randomBytes(16) }]);
    expect(clean.findings).toEqual([]);
    expect(clean.cells).toBe(2);
    sqlite.close();
  });
});
