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
