import type Database from 'better-sqlite3';

/** One stored value: which table, column and row it is in. */
export interface Cell {
  table: string;
  column: string;
  row: number;
  value: string | Buffer;
}

/** Every value of every column of every table (sqlite_% included), read through `sqlite` as text or bytes. */
export function everyCell(sqlite: Database.Database): Cell[] {
  const tables = (sqlite.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[]).map((t) => t.name);
  const cells: Cell[] = [];
  for (const table of tables) {
    const rows = sqlite.prepare(`select * from "${table}"`).all() as Record<string, unknown>[];
    rows.forEach((r, row) => {
      for (const [column, v] of Object.entries(r)) {
        if (v === null || v === undefined) continue;
        cells.push({ table, column, row, value: Buffer.isBuffer(v) ? v : String(v) });
      }
    });
  }
  return cells;
}

/** Where any needle appears inside any cell (as text, or as bytes in a blob or as UTF-8 in text). */
export function findNeedles(cells: Cell[], needles: { label: string; value: string | Uint8Array }[]): { label: string; at: string }[] {
  const found: { label: string; at: string }[] = [];
  for (const n of needles) {
    const bytes = typeof n.value === 'string' ? Buffer.from(n.value, 'utf8') : Buffer.from(n.value);
    if (bytes.length < 6) throw new Error(`needle ${n.label} is too short to mean anything`);
    for (const c of cells) {
      const hit = typeof c.value === 'string' ? (typeof n.value === 'string' ? c.value.includes(n.value) : false) : c.value.includes(bytes);
      if (hit) found.push({ label: n.label, at: `${c.table}.${c.column}#${c.row}` });
    }
  }
  return found;
}

/** The cells of each row, so two values can be checked for sharing a row. */
export function rowsOf(cells: Cell[]): Map<string, Cell[]> {
  const rows = new Map<string, Cell[]>();
  for (const c of cells) {
    const k = `${c.table}#${c.row}`;
    (rows.get(k) ?? rows.set(k, []).get(k)!).push(c);
  }
  return rows;
}

// ---- one pass over every cell, for any spelling of a secret ----

/**
 * Reads every column of every row of every table of a SQLite database and looks for byte strings in
 * it: the secrets a test handed out (tokens, short codes, receipts, nonces) and whatever is derived
 * from them, as raw bytes and in the usual spellings (hex either case, base64, base64url). A value
 * is found wherever it sits inside a cell (TEXT as UTF-8, BLOB as is, numbers as their digits), so a
 * secret copied into any column — a roster note, an audit detail — is caught, not only the columns
 * a test thought of.
 */

export interface Needle {
  /** What the value is, for the report ("token 3", "SHA-256 of receipt 1"). */
  label: string;
  value: string | Buffer;
}

export interface Finding {
  table: string;
  column: string;
  /** The row's position in a full scan of the table (0-based). */
  row: number;
  needle: string;
  spelling: string;
}

export interface ScanReport {
  findings: Finding[];
  tables: string[];
  /** Columns read, as table.column: a test can check the scan covered what it expects. */
  columns: string[];
  cells: number;
}

/** The spellings looked for: the bytes themselves and their common text encodings. */
export function spellings(value: string | Buffer): { spelling: string; bytes: Buffer }[] {
  const raw = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const out = [
    { spelling: 'raw', bytes: raw },
    { spelling: 'hex', bytes: Buffer.from(raw.toString('hex'), 'ascii') },
    { spelling: 'HEX', bytes: Buffer.from(raw.toString('hex').toUpperCase(), 'ascii') },
    { spelling: 'base64', bytes: Buffer.from(raw.toString('base64').replace(/=+$/, ''), 'ascii') },
    { spelling: 'base64url', bytes: Buffer.from(raw.toString('base64url'), 'ascii') },
  ];
  // Encodings of very short values would match by chance; those are looked for raw only.
  return out.filter((s, i) => i === 0 || s.bytes.length >= 8);
}

function cellBytes(v: unknown): Buffer | null {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v);
  return Buffer.from(String(v), 'utf8');
}

export function scanEveryColumn(sqlite: Database.Database, needles: Needle[], opts: { skipTables?: string[] } = {}): ScanReport {
  const patterns = needles.flatMap((n) => spellings(n.value).map((s) => ({ needle: n.label, ...s })));
  const tables = (sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[])
    .map((r) => r.name)
    .filter((t) => !(opts.skipTables ?? []).includes(t));
  const report: ScanReport = { findings: [], tables, columns: [], cells: 0 };
  for (const table of tables) {
    const stmt = sqlite.prepare(`SELECT * FROM "${table.replace(/"/g, '""')}"`).raw(true);
    const columns = stmt.columns().map((c) => c.name);
    report.columns.push(...columns.map((c) => `${table}.${c}`));
    let row = 0;
    for (const values of stmt.iterate() as Iterable<unknown[]>) {
      values.forEach((v, i) => {
        report.cells++;
        const bytes = cellBytes(v);
        if (!bytes) return;
        for (const p of patterns) {
          if (p.bytes.length > 0 && bytes.includes(p.bytes)) report.findings.push({ table, column: columns[i]!, row, needle: p.needle, spelling: p.spelling });
        }
      });
      row++;
    }
  }
  return report;
}
