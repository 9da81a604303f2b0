import { StringDecoder } from 'node:string_decoder';
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { FILE_LIMITS } from './limits.ts';
import { FileRefused, inflateEntry, inflateEntryChunks, MSG_DAMAGED, readZipDirectory, type ZipEntry } from './zip.ts';

/**
 * The first worksheet of an .xlsx, as rows of text, read as a stream: the worksheet's XML is inflated
 * and parsed chunk by chunk, and reading stops once more rows than wanted have been seen. Shared
 * strings, styles (to tell dates from numbers) and merged cells are read as Excel defines them; cell
 * values become text the way a person reads them in Excel (formulas by their saved result).
 */

export interface SheetRow {
  /** As shown in Excel, 1-based. */
  rowNumber: number;
  cells: string[];
}

export interface XlsxRows {
  rows: SheetRow[];
  /** True when reading stopped at the row limit: the sheet has more non-empty rows than returned. */
  truncated: boolean;
}

const NO_SHEET = '文件中没有工作表。请使用下载的模板填写后再导入';

const localName = (name: string) => name.slice(name.indexOf(':') + 1);

function newParser(): SaxesParser {
  const p = new SaxesParser({ position: false });
  // No .xlsx part has a DOCTYPE; refusing it keeps entity tricks (billion laughs, XXE) out entirely.
  p.on('doctype', () => {
    throw new FileRefused(MSG_DAMAGED);
  });
  return p;
}

function parseWhole(text: string, onOpen: (tag: SaxesTagPlain) => void, onText?: (t: string) => void, onClose?: (tag: SaxesTagPlain) => void): void {
  const p = newParser();
  p.on('opentag', (t) => onOpen(t as SaxesTagPlain));
  if (onText) p.on('text', onText);
  if (onClose) p.on('closetag', (t) => onClose(t as SaxesTagPlain));
  try {
    p.write(text).close();
  } catch (e) {
    if (e instanceof FileRefused) throw e;
    throw new FileRefused(MSG_DAMAGED);
  }
}

function attr(tag: SaxesTagPlain, name: string): string | undefined {
  const direct = tag.attributes[name];
  if (direct !== undefined) return direct;
  // A prefixed attribute (r:id) may carry any prefix.
  for (const [k, v] of Object.entries(tag.attributes)) if (localName(k) === name && k.includes(':')) return v;
  return undefined;
}

/** A relationship target, made a path inside the zip (relative to the part's folder, or absolute). */
function resolveTarget(base: string, target: string): string {
  const parts = target.startsWith('/') ? [] : base.split('/').slice(0, -1);
  for (const seg of target.replace(/^\/+/, '').split('/')) {
    if (seg === '..') parts.pop();
    else if (seg !== '.' && seg !== '') parts.push(seg);
  }
  return parts.join('/');
}

function relationships(text: string, base: string): { id: string; type: string; target: string }[] {
  const out: { id: string; type: string; target: string }[] = [];
  parseWhole(text, (t) => {
    if (localName(t.name) === 'Relationship') {
      out.push({ id: attr(t, 'Id') ?? '', type: attr(t, 'Type') ?? '', target: resolveTarget(base, attr(t, 'Target') ?? '') });
    }
  });
  return out;
}

const BUILTIN_DATE_FORMATS = new Set([14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 45, 46, 47, 50, 51, 52, 53, 54, 55, 56, 57, 58]);

function isDateFormatCode(code: string): boolean {
  const bare = code.replace(/"[^"]*"/g, '').replace(/\[[^\]]*\]/g, '').replace(/\\./g, '');
  return /[ymdhs]/i.test(bare) && !/general/i.test(bare);
}

/** For each cell style (index into cellXfs): whether its number format shows a date. */
function dateStyles(text: string): boolean[] {
  const custom = new Map<number, string>();
  const styles: boolean[] = [];
  let inCellXfs = false;
  parseWhole(
    text,
    (t) => {
      const n = localName(t.name);
      if (n === 'numFmt') custom.set(Number(attr(t, 'numFmtId')), attr(t, 'formatCode') ?? '');
      else if (n === 'cellXfs') inCellXfs = true;
      else if (n === 'xf' && inCellXfs) {
        const id = Number(attr(t, 'numFmtId') ?? 0);
        const code = custom.get(id);
        styles.push(code !== undefined ? isDateFormatCode(code) : BUILTIN_DATE_FORMATS.has(id));
      }
    },
    undefined,
    (t) => {
      if (localName(t.name) === 'cellXfs') inCellXfs = false;
    },
  );
  return styles;
}

/** The shared strings: rich-text runs joined, phonetic guides (rPh) left out. */
function sharedStrings(text: string): string[] {
  const limits = FILE_LIMITS.xlsx;
  const out: string[] = [];
  let chars = 0;
  let current: string[] | null = null;
  let inT = false;
  let inPhonetic = false;
  parseWhole(
    text,
    (t) => {
      const n = localName(t.name);
      if (n === 'si') current = [];
      else if (n === 't' && !inPhonetic) inT = true;
      else if (n === 'rPh') inPhonetic = true;
    },
    (s) => {
      if (inT && current) {
        current.push(s);
        chars += s.length;
        if (chars > limits.maxSharedStringChars) {
          throw new FileRefused(`文件中的文字超过了${limits.maxSharedStringChars / 1_000_000}百万字的上限（签到表和班子成员表远少于此）。请检查是否选错了文件，或另存为 CSV 格式后再导入`);
        }
      }
    },
    (t) => {
      const n = localName(t.name);
      if (n === 't') inT = false;
      else if (n === 'rPh') inPhonetic = false;
      else if (n === 'si' && current) {
        out.push(current.join(''));
        current = null;
        if (out.length > limits.maxSharedStrings) {
          throw new FileRefused(`文件中有超过${limits.maxSharedStrings}段不同的文字，超过了上限（签到表和班子成员表远少于此）。请检查是否选错了文件，或另存为 CSV 格式后再导入`);
        }
      }
    },
  );
  return out;
}

function columnIndex(ref: string): number | null {
  const m = /^([A-Z]{1,3})\d*$/.exec(ref);
  if (!m) return null;
  let n = 0;
  for (const ch of m[1]!) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

function cellRef(ref: string): { col: number; row: number } | null {
  const m = /^([A-Z]{1,3})(\d{1,7})$/.exec(ref);
  if (!m) return null;
  return { col: columnIndex(m[1]!)!, row: Number(m[2]) };
}

/** An Excel serial day as YYYY-MM-DD (the 1900 system counts from 1899-12-30, the 1904 system from 1904-01-01). */
function excelDate(serial: number, date1904: boolean): string {
  const d = new Date(Math.round((serial - (date1904 ? -1462 : 25569)) * 86_400_000));
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().slice(0, 10);
}

function numberText(v: string): string {
  const n = Number(v);
  return v.trim() === '' || !Number.isFinite(n) ? '' : String(n);
}

/**
 * Read the first worksheet's rows, stopping once `maxRows` + 1 non-empty rows have been seen
 * (then `truncated` is true). Throws FileRefused with the words for the user.
 */
export async function readXlsxRows(data: Buffer, maxRows: number): Promise<XlsxRows> {
  const entries = readZipDirectory(data);
  const byName = new Map<string, ZipEntry>(entries.map((e) => [e.name.replace(/^\/+/, ''), e]));
  const text = (name: string): string | null => {
    const e = byName.get(name);
    return e ? inflateEntry(data, e).toString('utf8') : null;
  };

  const packageRels = text('_rels/.rels');
  const workbookPath = (packageRels && relationships(packageRels, '').find((r) => r.type.endsWith('/officeDocument'))?.target) || 'xl/workbook.xml';
  const workbook = text(workbookPath);
  if (workbook === null) throw new FileRefused(MSG_DAMAGED);
  let firstSheetRel: string | undefined;
  let date1904 = false;
  parseWhole(workbook, (t) => {
    const n = localName(t.name);
    if (n === 'sheet' && firstSheetRel === undefined) firstSheetRel = attr(t, 'id') ?? '';
    if (n === 'workbookPr') date1904 = ['1', 'true'].includes(attr(t, 'date1904') ?? '');
  });
  if (firstSheetRel === undefined) throw new FileRefused(NO_SHEET);
  const wbRelsPath = resolveTarget(workbookPath, `_rels/${workbookPath.split('/').pop()}.rels`);
  const rels = relationships(text(wbRelsPath) ?? '', workbookPath);
  const sheetPath = rels.find((r) => r.id === firstSheetRel)?.target ?? 'xl/worksheets/sheet1.xml';
  const sheetEntry = byName.get(sheetPath);
  if (!sheetEntry) throw new FileRefused(NO_SHEET);

  const stringsPath = rels.find((r) => r.type.endsWith('/sharedStrings'))?.target ?? 'xl/sharedStrings.xml';
  const stylesPath = rels.find((r) => r.type.endsWith('/styles'))?.target ?? 'xl/styles.xml';
  const stringsText = text(stringsPath);
  const strings = stringsText === null ? [] : sharedStrings(stringsText);
  const stylesText = text(stylesPath);
  const dates = stylesText === null ? [] : dateStyles(stylesText);

  return readSheet(data, sheetEntry, strings, dates, date1904, maxRows);
}

async function readSheet(data: Buffer, entry: ZipEntry, strings: string[], dates: boolean[], date1904: boolean, maxRows: number): Promise<XlsxRows> {
  const { maxColumns, maxMerges } = FILE_LIMITS.xlsx;
  const rows: SheetRow[] = [];
  const merges: string[] = [];
  let truncated = false;

  let rowNumber = 0;
  let cells: string[] | null = null;
  let col = -1;
  let cell: { type: string; style: number } | null = null;
  let capture: 'v' | 't' | null = null;
  let inInline = false;
  let inPhonetic = false;
  let value = '';
  let inline = '';

  const p = newParser();
  p.on('opentag', (tag) => {
    const n = localName(tag.name);
    if (n === 'row') {
      const r = Number(attr(tag as SaxesTagPlain, 'r'));
      rowNumber = Number.isInteger(r) && r > 0 ? r : rowNumber + 1;
      cells = [];
      col = -1;
    } else if (n === 'c' && cells) {
      const ref = cellRef(attr(tag as SaxesTagPlain, 'r') ?? '');
      col = ref ? ref.col : col + 1;
      cell = { type: attr(tag as SaxesTagPlain, 't') ?? 'n', style: Number(attr(tag as SaxesTagPlain, 's') ?? 0) };
      value = '';
      inline = '';
    } else if (cell && n === 'v') capture = 'v';
    else if (cell && n === 'is') inInline = true;
    else if (cell && n === 'rPh') inPhonetic = true;
    else if (cell && inInline && !inPhonetic && n === 't') capture = 't';
    else if (n === 'mergeCell' && merges.length < maxMerges) merges.push(attr(tag as SaxesTagPlain, 'ref') ?? '');
  });
  p.on('text', (s) => {
    if (capture === 'v') value += s;
    else if (capture === 't') inline += s;
  });
  p.on('closetag', (tag) => {
    const n = localName(tag.name);
    if (n === 'v' || n === 't') capture = null;
    else if (n === 'is') inInline = false;
    else if (n === 'rPh') inPhonetic = false;
    else if (n === 'c' && cell && cells) {
      if (col >= 0 && col < maxColumns) cells[col] = cellText(cell, value, inline, strings, dates, date1904);
      cell = null;
    } else if (n === 'row' && cells) {
      for (let i = 0; i < cells.length; i++) cells[i] ??= '';
      if (cells.some((c) => c !== '')) {
        if (rows.length >= maxRows + 1) truncated = true;
        else rows.push({ rowNumber, cells });
      }
      cells = null;
    }
  });

  const decoder = new StringDecoder('utf8');
  try {
    for await (const chunk of inflateEntryChunks(data, entry)) {
      p.write(decoder.write(chunk));
      if (truncated) break;
    }
    if (!truncated) p.write(decoder.end()).close();
  } catch (e) {
    if (e instanceof FileRefused) throw e;
    throw new FileRefused(MSG_DAMAGED);
  }
  if (!truncated) applyMerges(rows, merges, maxColumns);
  return { rows, truncated };
}

function cellText(cell: { type: string; style: number }, v: string, inline: string, strings: string[], dates: boolean[], date1904: boolean): string {
  switch (cell.type) {
    case 's': {
      const i = Number(v);
      return Number.isInteger(i) && i >= 0 && i < strings.length ? strings[i]! : '';
    }
    case 'inlineStr':
      return inline;
    case 'str':
    case 'e':
      return v;
    case 'b':
      return v.trim() === '1' || v.trim().toLowerCase() === 'true' ? 'TRUE' : 'FALSE';
    case 'd': {
      const d = new Date(v);
      return Number.isNaN(d.getTime()) ? '' : d.toISOString().slice(0, 10);
    }
    default: {
      if (dates[cell.style] && v.trim() !== '' && Number.isFinite(Number(v))) return excelDate(Number(v), date1904);
      return numberText(v);
    }
  }
}

/** Every cell of a merged range reads as the range's top-left value, as in Excel. */
function applyMerges(rows: SheetRow[], merges: string[], maxColumns: number): void {
  const byNumber = new Map(rows.map((r) => [r.rowNumber, r]));
  for (const ref of merges) {
    const [a, b] = ref.split(':');
    const from = cellRef(a ?? '');
    const to = cellRef(b ?? '');
    if (!from || !to) continue;
    const master = byNumber.get(from.row)?.cells[from.col] ?? '';
    const span = to.row - from.row + 1;
    const inRange = span <= rows.length
      ? Array.from({ length: Math.max(0, span) }, (_, i) => byNumber.get(from.row + i)).filter((r) => r !== undefined)
      : rows.filter((r) => r.rowNumber >= from.row && r.rowNumber <= to.row);
    for (const row of inRange) {
      for (let c = from.col; c <= Math.min(to.col, maxColumns - 1); c++) {
        if (row.rowNumber === from.row && c === from.col) continue;
        while (row.cells.length <= c) row.cells.push('');
        row.cells[c] = master;
      }
    }
  }
}
