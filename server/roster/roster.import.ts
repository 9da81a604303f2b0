/**
 * Reading the 签到表 (meeting roster) and the 班子成员 (team) list from a file the township uploads,
 * and producing the blank templates they should fill in. Pure: bytes in, rows and errors out —
 * no database, no HTTP.
 *
 * Formats: CSV (UTF-8 with or without BOM, UTF-16, or GB18030/GBK as Excel on Chinese Windows writes
 * it) and Excel workbooks (.xlsx, first worksheet, read as a stream by imports/xlsx.ts). Old .xls
 * files, Big5 and undecodable text are refused with a message telling the user how to convert them.
 * Reading stops soon after the row limit, so a huge file costs little; the server runs these parsers
 * in a worker (imports/sandbox.ts), never on the thread that answers the phones.
 *
 * Row numbers in errors are the row numbers the user sees in Excel (the header is row 1 in the
 * template). Row 0 means a problem with the whole file; then no rows are returned.
 * Rows with any error are left out of `rows`; the caller should refuse the import while
 * `errors` is not empty.
 */
import Papa from 'papaparse';
import { readXlsxRows } from '../imports/xlsx.ts';
import { cleanName, cleanText } from '../shared/text.ts';
import { FileRefused } from '../imports/zip.ts';

// ---------------------------------------------------------------------------------------------
// Public types and limits

export interface RosterRow {
  name: string;
  category: string;
  note: string;
}

export interface TeamRow {
  name: string;
  position: string;
  isSecretary: boolean;
}

export interface ImportError {
  /** 1-based row number as shown in Excel; 0 for a problem with the whole file. */
  row: number;
  message: string;
}

export interface ImportResult<T> {
  rows: T[];
  errors: ImportError[];
}

/** At most this many people in one roster file. */
export const MAX_ROSTER_ROWS = 5000;
/** At most this many team members (matches TeamInput in setup.schemas.ts). */
export const MAX_TEAM_ROWS = 40;
/** Lengths are counted in UTF-16 units, like zod's .max(), so whatever passes here passes there. */
export const MAX_NAME_LENGTH = 20;
export const MAX_CATEGORY_LENGTH = 20;
export const MAX_NOTE_LENGTH = 100;
/** Matches TeamMemberInput.position in setup.schemas.ts. */
export const MAX_POSITION_LENGTH = 30;
/** Files larger than this are refused before parsing (a 5000-row roster is well under 1 MB). */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;

/** The advice at the end of every file-level message. */
const USE_TEMPLATE = '请使用下载的模板';

// ---------------------------------------------------------------------------------------------
// Parsers

/** Parse a 签到表: columns 姓名 (required), 类别 / 身份 / 人员类别 (required), 备注 (optional). */
export async function parseRosterFile(data: Buffer, filename: string): Promise<ImportResult<RosterRow>> {
  const table = await readTable(data, filename, ROSTER_LAYOUT, MAX_ROSTER_ROWS);
  if ('fileError' in table) return fileError(table.fileError);

  const errors: ImportError[] = [];
  const rows: RosterRow[] = [];
  const seen = new Map<string, number>(); // name + note -> first row number
  const categoryLabel = table.labels.category ?? '类别';

  for (const { rowNumber: r, values } of table.rows) {
    const rowErrors: string[] = [];
    const name = checkName(values.name ?? '', rowErrors);
    const category = checkText(values.category ?? '', categoryLabel, MAX_CATEGORY_LENGTH, true, rowErrors);
    const note = checkNote(values.note ?? '', table.labels.note ?? '备注', rowErrors);

    if (name !== null && note !== null) {
      const key = `${name}\u0000${note}`;
      const first = seen.get(key);
      if (first === undefined) seen.set(key, r);
      else rowErrors.push(`与第${first}行姓名重复（${name}）；如果确是同名的两个人，请在备注中注明区别（如所在村民小组）`);
    }

    if (rowErrors.length > 0) errors.push(...rowErrors.map((m) => ({ row: r, message: `第${r}行：${m}` })));
    else rows.push({ name: name!, category: category!, note: note! });
  }
  return { rows, errors };
}

/**
 * Parse a 班子成员 list: columns 姓名, 职务 (both required), 是否书记 (optional: 是/否/√/空).
 * Without a 是否书记 column (or with the column left entirely blank), the one whose 职务 contains
 * 书记 — but not 副书记, 第一书记 or 书记助理 — is the secretary. At most one secretary.
 */
export async function parseTeamFile(data: Buffer, filename: string): Promise<ImportResult<TeamRow>> {
  const table = await readTable(data, filename, TEAM_LAYOUT, MAX_TEAM_ROWS);
  if ('fileError' in table) return fileError(table.fileError);

  const secretaryLabel = table.labels.isSecretary;
  const inferSecretary =
    secretaryLabel === undefined || table.rows.every(({ values }) => cleanText(values.isSecretary ?? '') === '');

  const errors: ImportError[] = [];
  const rows: TeamRow[] = [];
  const seen = new Map<string, number>();
  let secretary: { row: number; position: string } | null = null;

  for (const { rowNumber: r, values } of table.rows) {
    const rowErrors: string[] = [];
    const name = checkName(values.name ?? '', rowErrors);
    const position = checkText(values.position ?? '', table.labels.position ?? '职务', MAX_POSITION_LENGTH, true, rowErrors);

    if (name !== null) {
      const first = seen.get(name);
      if (first === undefined) seen.set(name, r);
      else rowErrors.push(`与第${first}行姓名重复（${name}）；同一人兼任多个职务请写在同一行，如「党支部书记、村委会主任」`);
    }

    let isSecretary: boolean | null;
    if (inferSecretary) {
      isSecretary = position !== null && looksLikeSecretary(position);
    } else {
      isSecretary = parseYesNo(values.isSecretary ?? '');
      if (isSecretary === null) {
        rowErrors.push(`${secretaryLabel}填写的「${display(cleanText(values.isSecretary ?? ''))}」无法识别，请填写「是」或「否」，也可以留空`);
      }
    }

    if (isSecretary) {
      if (secretary === null) secretary = { row: r, position: position ?? '' };
      else if (inferSecretary) {
        rowErrors.push(
          `职务「${display(position ?? '')}」与第${secretary.row}行职务「${display(secretary.position)}」都被认作党组织书记，一个班子只能有一名书记；` +
            '请在表中加一列「是否书记」，只在书记那一行填「是」',
        );
      } else {
        rowErrors.push(`与第${secretary.row}行都标为书记，一个班子只能有一名党组织书记`);
      }
    }

    if (rowErrors.length > 0) errors.push(...rowErrors.map((m) => ({ row: r, message: `第${r}行：${m}` })));
    else rows.push({ name: name!, position: position!, isSecretary: isSecretary === true });
  }
  return { rows, errors };
}

// ---------------------------------------------------------------------------------------------
// Templates

const ROSTER_TEMPLATE = {
  sheetName: '签到表',
  header: ['姓名', '类别', '备注'],
  examples: [
    ['张三', '两委成员', ''],
    ['李四', '党员', '第一村民小组'],
  ],
  widths: [14, 20, 30],
  notes: [
    '第一行是表头，请不要修改；从第二行起每行填写一人，填写前请删除示例行。',
    '姓名：必填，不超过20个字。',
    '类别：必填，如 两委成员、后备干部、党员、群众代表、村民小组长、站所职工、村务监督委员会主任、其他。',
    '备注：选填。名单中有同名的两个人时，请在备注中注明区别（如所在村民小组）。',
  ],
} as const;

const TEAM_TEMPLATE = {
  sheetName: '班子成员',
  header: ['姓名', '职务', '是否书记'],
  examples: [
    ['王五', '党支部书记、村委会主任', '是'],
    ['赵六', '党支部副书记', '否'],
  ],
  widths: [14, 30, 12],
  notes: [
    '第一行是表头，请不要修改；从第二行起每行填写一名班子成员，填写前请删除示例行。',
    '姓名：必填，不超过20个字。同一人兼任多个职务请写在同一行。',
    '职务：必填，不超过30个字。',
    '是否书记：党组织书记填「是」，其他人填「否」或留空；只能有一名书记。',
  ],
} as const;

type TemplateSpec = typeof ROSTER_TEMPLATE | typeof TEAM_TEMPLATE;

/** Blank 签到表 as CSV: UTF-8 with BOM (so Excel opens it correctly), header and two example rows. */
export function rosterTemplateCsv(): Buffer {
  return templateCsv(ROSTER_TEMPLATE);
}

/** Blank 签到表 as an Excel workbook. */
export function rosterTemplateXlsx(): Promise<Buffer> {
  return templateXlsx(ROSTER_TEMPLATE);
}

/** Blank 班子成员 list as CSV (UTF-8 with BOM). */
export function teamTemplateCsv(): Buffer {
  return templateCsv(TEAM_TEMPLATE);
}

/** Blank 班子成员 list as an Excel workbook. */
export function teamTemplateXlsx(): Promise<Buffer> {
  return templateXlsx(TEAM_TEMPLATE);
}

function templateCsv(spec: TemplateSpec): Buffer {
  const csv = Papa.unparse([[...spec.header], ...spec.examples.map((r) => [...r])], { newline: '\r\n' });
  return Buffer.concat([UTF8_BOM, Buffer.from(`${csv}\r\n`, 'utf8')]);
}

async function templateXlsx(spec: TemplateSpec): Promise<Buffer> {
  // Loaded only here: the import worker never needs exceljs.
  const { default: ExcelJS } = await import('exceljs');
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Ceping';
  const ws = wb.addWorksheet(spec.sheetName, { views: [{ state: 'frozen', ySplit: 1 }] });
  ws.columns = spec.header.map((header, i) => ({
    header,
    width: spec.widths[i] ?? 14,
    style: { numFmt: '@' }, // text, so Excel does not turn entries into numbers or dates
  }));
  const headerRow = ws.getRow(1);
  headerRow.font = { bold: true };
  headerRow.alignment = { vertical: 'middle', horizontal: 'center' };
  for (const example of spec.examples) ws.addRow([...example]);
  if (spec === TEAM_TEMPLATE) {
    for (let r = 2; r <= MAX_TEAM_ROWS + 1; r++) {
      ws.getCell(r, 3).dataValidation = {
        type: 'list',
        allowBlank: true,
        formulae: ['"是,否"'],
        showErrorMessage: true,
        errorTitle: '是否书记',
        error: '请填写「是」或「否」，也可以留空',
      };
    }
  }
  // Instructions go on a second sheet: the importer reads only the first one.
  const help = wb.addWorksheet('填写说明');
  help.getColumn(1).width = 100;
  for (const line of spec.notes) help.addRow([line]);

  const out = await wb.xlsx.writeBuffer();
  return Buffer.from(out as unknown as Uint8Array);
}

// ---------------------------------------------------------------------------------------------
// Table layout: which columns, and what their headers may be called

interface ColumnSpec {
  key: string;
  /** Canonical header, used in messages when the column is missing. */
  label: string;
  /** Accepted headers, after normalizeHeader(). */
  aliases: readonly string[];
  required: boolean;
}

interface Layout {
  columns: readonly ColumnSpec[];
  /** How the header should look, for messages. */
  headerHint: string;
  /** What one row holds, for messages. */
  rowNoun: string;
  /** File-level message when there are more rows than allowed (count null: reading stopped early, more than that). */
  tooMany: (count: number | null, max: number) => string;
}

const ROSTER_LAYOUT: Layout = {
  columns: [
    { key: 'name', label: '姓名', aliases: ['姓名'], required: true },
    { key: 'category', label: '类别', aliases: ['类别', '身份', '人员类别'], required: true },
    { key: 'note', label: '备注', aliases: ['备注'], required: false },
  ],
  headerHint: '姓名、类别、备注',
  rowNoun: '人',
  tooMany: (count, max) =>
    `文件中有${count === null ? '远多于' : ''}${count ?? max}行人员，超过了一次最多导入${max}人的上限。请检查是否选错了文件；${USE_TEMPLATE}填写`,
};

const TEAM_LAYOUT: Layout = {
  columns: [
    { key: 'name', label: '姓名', aliases: ['姓名'], required: true },
    { key: 'position', label: '职务', aliases: ['职务', '现任职务'], required: true },
    { key: 'isSecretary', label: '是否书记', aliases: ['是否书记', '是否为书记', '是否党组织书记'], required: false },
  ],
  headerHint: '姓名、职务、是否书记',
  rowNoun: '名班子成员',
  tooMany: (count, max) =>
    `文件中有${count === null ? '远多于' : ''}${count ?? max}名班子成员，超过了${max}人的上限。请检查是否选错了文件（例如误选了签到名单）；${USE_TEMPLATE}填写`,
};

interface TableRow {
  rowNumber: number;
  values: Partial<Record<string, string>>;
}

type Table =
  | { rows: TableRow[]; labels: Partial<Record<string, string>> }
  | { fileError: string };

/** The header is looked for among the first few non-empty rows (a title row above it is common). */
const HEADER_SCAN_ROWS = 10;

async function readTable(data: Buffer, filename: string, layout: Layout, maxRows: number): Promise<Table> {
  // Read at most this many non-empty rows: room for a title, the header and rows the import skips.
  const readCap = 2 * maxRows + HEADER_SCAN_ROWS;
  const sheet = await readSheet(data, filename, readCap);
  if ('fileError' in sheet) return sheet;
  if (sheet.truncated) return { fileError: layout.tooMany(null, maxRows) };
  const headerTemplate = `${USE_TEMPLATE}：第一行是表头（${layout.headerHint}），从第二行起每行填写一${layout.rowNoun}`;

  const nonEmpty = sheet.rows.filter((row) => row.cells.some((c) => cleanText(c) !== ''));
  if (nonEmpty.length === 0) return { fileError: `文件是空的，没有任何内容。${headerTemplate}` };

  // Find the header row: the first row with a 姓名 cell.
  const nameColumn = layout.columns[0]!;
  const headerRow = nonEmpty
    .slice(0, HEADER_SCAN_ROWS)
    .find((row) => row.cells.some((c) => nameColumn.aliases.includes(normalizeHeader(c))));
  if (!headerRow) return { fileError: `找不到「${nameColumn.label}」列。${headerTemplate}` };

  const indexOf: Record<string, number> = {};
  const labels: Record<string, string> = {};
  for (const column of layout.columns) {
    const matches = headerRow.cells
      .map((c, i) => ({ i, header: normalizeHeader(c) }))
      .filter(({ header }) => column.aliases.includes(header));
    if (matches.length > 1) {
      const names = [...new Set(matches.map((m) => `「${m.header}」`))].join('和');
      return {
        fileError: `表头中有${matches.length}列都表示「${column.label}」（${names}），请只保留一列，或改用下载的模板`,
      };
    }
    const match = matches[0];
    if (match) {
      indexOf[column.key] = match.i;
      labels[column.key] = match.header;
    } else if (column.required) {
      const others = column.aliases.filter((a) => a !== column.label).map((a) => `「${a}」`);
      const alsoCalled = others.length > 0 ? `（表头也可以写作${others.join('或')}）` : '';
      return { fileError: `缺少「${column.label}」列${alsoCalled}。${headerTemplate}` };
    }
  }

  const rows: TableRow[] = [];
  for (const row of sheet.rows) {
    if (row.rowNumber <= headerRow.rowNumber) continue;
    const values: Record<string, string> = {};
    let empty = true;
    for (const column of layout.columns) {
      const i = indexOf[column.key];
      const value = i === undefined ? '' : (row.cells[i] ?? '');
      values[column.key] = value;
      if (cleanText(value) !== '') empty = false;
    }
    // Rows with nothing in our columns (blank lines, or only a pre-printed 序号) are skipped silently.
    if (!empty) rows.push({ rowNumber: row.rowNumber, values });
  }

  if (rows.length === 0) {
    return { fileError: `表头下面没有填写任何内容。请从第${headerRow.rowNumber + 1}行起每行填写一${layout.rowNoun}后再导入` };
  }
  if (rows.length > maxRows) {
    return { fileError: layout.tooMany(rows.length, maxRows) };
  }
  return { rows, labels };
}

// ---------------------------------------------------------------------------------------------
// Reading the file into rows of strings

interface SheetRow {
  /** As shown in Excel, 1-based. */
  rowNumber: number;
  cells: string[];
}

type Sheet = { rows: SheetRow[]; truncated: boolean } | { fileError: string };

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

const MSG_XLS =
  '不支持旧版 Excel（.xls）文件或设置了密码的 Excel 文件。请在 Excel 或 WPS 中打开后「另存为」Excel 工作簿（.xlsx）或 CSV 格式再导入' +
  '（如果文件设置了打开密码，请先取消密码）；也可以改用下载的模板填写';
const MSG_BAD_XLSX =
  '无法读取该 Excel 文件，文件可能已损坏，或不是 .xlsx 格式。请在 Excel 或 WPS 中打开后「另存为」Excel 工作簿（.xlsx）或 CSV 格式再导入；' +
  '也可以改用下载的模板填写';
const MSG_UNKNOWN = `无法识别文件格式，只能导入 Excel 工作簿（.xlsx）和 CSV 文件。${USE_TEMPLATE}填写后再导入`;

/** What can be told without parsing: an empty or too large file, or a format that cannot be read. */
export function quickFileCheck(data: Buffer, filename: string): string | null {
  if (data.length === 0) return `文件是空的，没有任何内容。${USE_TEMPLATE}填写后再导入`;
  if (data.length > MAX_FILE_BYTES) return `文件太大（超过${MAX_FILE_BYTES / 1024 / 1024}MB），请检查是否选错了文件；${USE_TEMPLATE}填写`;
  switch (detectFormat(data, filename)) {
    case 'xls':
      return MSG_XLS;
    case 'not-xlsx':
      return MSG_BAD_XLSX;
    case 'unknown':
      return MSG_UNKNOWN;
    default:
      return null;
  }
}

async function readSheet(data: Buffer, filename: string, readCap: number): Promise<Sheet> {
  const quick = quickFileCheck(data, filename);
  if (quick !== null) return { fileError: quick };
  return detectFormat(data, filename) === 'xlsx' ? readXlsx(data, readCap) : readCsv(data, readCap);
}

type Format = 'csv' | 'xlsx' | 'xls' | 'not-xlsx' | 'unknown';

function startsWith(data: Buffer, bytes: readonly number[]): boolean {
  return data.length >= bytes.length && bytes.every((b, i) => data[i] === b);
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04]; // "PK\3\4": .xlsx is a zip
const OLE_MAGIC = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]; // .xls, and encrypted .xlsx

/** By extension; binary signatures win over a wrong extension; unknown extensions are sniffed. */
export function detectFormat(data: Buffer, filename: string): Format {
  const ext = /\.([^./\\]+)$/.exec(filename.trim())?.[1]?.toLowerCase() ?? '';
  if (startsWith(data, OLE_MAGIC)) return 'xls';
  if (startsWith(data, ZIP_MAGIC)) return 'xlsx';
  if (ext === 'xls') return 'xls';
  if (ext === 'xlsx' || ext === 'xlsm') return 'not-xlsx';
  if (ext === 'csv' || ext === 'txt' || ext === 'tsv') return 'csv';
  return looksLikeText(data) ? 'csv' : 'unknown';
}

function looksLikeText(data: Buffer): boolean {
  if (startsWith(data, [0xff, 0xfe]) || startsWith(data, [0xfe, 0xff])) return true; // UTF-16 with BOM
  if (utf16WithoutBom(data) !== null) return true;
  return !data.subarray(0, 8192).includes(0);
}

/**
 * UTF-16 saved without a BOM: the zero high bytes of ASCII (commas, line ends, digits) sit on one side.
 * Other text files hold no zero bytes at all.
 */
function utf16WithoutBom(data: Buffer): 'utf-16le' | 'utf-16be' | null {
  const n = Math.min(data.length, 8192) & ~1;
  if (n < 4) return null;
  let even = 0;
  let odd = 0;
  for (let i = 0; i < n; i += 2) {
    if (data[i] === 0) even++;
    if (data[i + 1] === 0) odd++;
  }
  const pairs = n / 2;
  if (odd >= pairs * 0.05 && even === 0) return 'utf-16le';
  if (even >= pairs * 0.05 && odd === 0) return 'utf-16be';
  return null;
}

const SAVE_AS_UTF8 = '请在 Excel 或 WPS 中打开后另存为「CSV UTF-8」或 Excel 工作簿（.xlsx）格式再导入；也可以改用下载的模板填写';

/**
 * Traditional Chinese saved as Big5 decodes as GB18030 without an error, into the wrong characters.
 * Simplified Chinese in GBK uses almost only the GB2312 area (both bytes 0xA1 or above); about 40 % of
 * Big5 characters have a second byte below 0xA1.
 */
function looksLikeBig5(body: Buffer): boolean {
  let pairs = 0;
  let outside = 0;
  for (let i = 0; i < body.length - 1; i++) {
    const lead = body[i]!;
    if (lead < 0x81) continue;
    const trail = body[i + 1]!;
    if (trail >= 0x30 && trail <= 0x39) {
      i += 3; // a four-byte GB18030 sequence
      continue;
    }
    pairs++;
    if (!(lead >= 0xa1 && lead <= 0xf7 && trail >= 0xa1)) outside++;
    i++;
  }
  return pairs >= 4 && outside * 4 > pairs;
}

/**
 * UTF-16 (with a BOM, or recognised without), UTF-8 (BOM stripped) when the bytes are valid UTF-8,
 * otherwise GB18030 (a superset of GBK). Big5 and bytes no encoding reads are refused (FileRefused).
 */
export function decodeText(data: Buffer): string {
  if (startsWith(data, [0xff, 0xfe])) return new TextDecoder('utf-16le').decode(data.subarray(2));
  if (startsWith(data, [0xfe, 0xff])) return new TextDecoder('utf-16be').decode(data.subarray(2));
  const utf16 = utf16WithoutBom(data);
  if (utf16) return new TextDecoder(utf16).decode(data);
  const body = startsWith(data, [...UTF8_BOM]) ? data.subarray(3) : data;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    // not UTF-8: GBK / GB18030, or something else
  }
  let text: string;
  try {
    text = new TextDecoder('gb18030', { fatal: true }).decode(body);
  } catch {
    throw new FileRefused(`无法识别文件的文字编码（不是 UTF-8、GBK/GB18030 或 UTF-16），读出来会是乱码。${SAVE_AS_UTF8}`);
  }
  if (looksLikeBig5(body)) {
    throw new FileRefused(`文件看起来是繁体中文（Big5）编码，无法正确读取其中的文字。${SAVE_AS_UTF8}`);
  }
  return text;
}

function readCsv(data: Buffer, readCap: number): Sheet {
  let text: string;
  try {
    text = decodeText(data);
  } catch (e) {
    if (e instanceof FileRefused) return { fileError: e.message };
    throw e;
  }
  // Papa's delimiter guess counts empty lines (even the trailing one) against a delimiter, so guess
  // on a preview without them, then parse everything keeping empty lines for the row numbers.
  const guess = Papa.parse<string[]>(text, { preview: 50, skipEmptyLines: 'greedy', delimitersToGuess: [',', '\t', ';'] });
  const delimiter = guess.errors.some((e) => e.code === 'UndetectableDelimiter') ? ',' : guess.meta.delimiter;
  const rows: SheetRow[] = [];
  let nonEmpty = 0;
  let truncated = false;
  let quoteRow: number | null | undefined;
  Papa.parse<string[]>(text, {
    header: false,
    delimiter,
    skipEmptyLines: false, // keep them, so that row numbers match what Excel shows
    // Row by row, stopping once past the cap: a huge file is not turned into a huge array first.
    step: (result, parser) => {
      const quoteError = result.errors.find((e) => e.type === 'Quotes');
      if (quoteError) {
        quoteRow = rows.length;
        parser.abort();
        return;
      }
      const cells = (result.data ?? []).map((c) => String(c ?? ''));
      if (cells.some((c) => c.trim() !== '')) nonEmpty++;
      if (nonEmpty > readCap) {
        truncated = true;
        parser.abort();
        return;
      }
      rows.push({ rowNumber: rows.length + 1, cells });
    },
  });
  if (quoteRow !== undefined) {
    const where = typeof quoteRow === 'number' ? `第${quoteRow + 1}行` : '';
    return {
      fileError:
        `文件${where}的英文双引号（"）不配对，无法正确读取。请在 Excel 或 WPS 中打开后另存为 CSV 或 Excel 工作簿（.xlsx）格式再导入；` +
        '也可以改用下载的模板填写',
    };
  }
  return { rows, truncated };
}

async function readXlsx(data: Buffer, readCap: number): Promise<Sheet> {
  try {
    return await readXlsxRows(data, readCap);
  } catch (e) {
    if (e instanceof FileRefused) return { fileError: e.message };
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Cleaning and checking values

const EXCEL_ERROR = /^#(?:NULL!|DIV\/0!|VALUE!|REF!|NAME\?|NUM!|N\/A|GETTING_DATA|SPILL!|CALC!|FIELD!|BLOCKED!|UNKNOWN!)$/i;

// Cleaning itself (invisible characters, white space, spaces inside a Chinese name) is shared/text.ts's:
// the desk's single entries are cleaned by the same functions (checkRosterEntry below).

/** Header text for matching: full-width to half-width, no spaces, no "*" required-markers, no "(必填)" notes. */
export function normalizeHeader(raw: string): string {
  return cleanText(raw.normalize('NFKC'))
    .replace(/\s+/gu, '')
    .replace(/\(.*?\)|\[.*?\]|【.*?】/g, '')
    .replace(/[*:]/g, '');
}

/** Show at most 30 characters of a user's text in a message. */
function display(text: string): string {
  const chars = [...text];
  return chars.length > 30 ? `${chars.slice(0, 30).join('')}…` : text;
}

/** A 姓名, with the spaces inside a Chinese name removed; null (and a message) if unusable. */
function checkName(raw: string, errors: string[]): string | null {
  const text = checkText(raw, '姓名', Number.POSITIVE_INFINITY, true, errors);
  if (text === null) return null;
  const name = cleanName(text);
  if (name.length > MAX_NAME_LENGTH) {
    errors.push(`姓名「${display(text)}」过长，最多${MAX_NAME_LENGTH}个字`);
    return null;
  }
  return name;
}

/** A cleaned value; null (and a message) if it is empty but required, too long, or an Excel error value. */
function checkText(raw: string, label: string, maxLength: number, required: boolean, errors: string[]): string | null {
  const text = cleanText(raw);
  if (text === '') {
    if (!required) return '';
    errors.push(`${label}为空`);
    return null;
  }
  if (EXCEL_ERROR.test(text)) {
    errors.push(`${label}是 Excel 的错误值「${text}」（多半是公式出错），请改为直接填写文字`);
    return null;
  }
  if (text.length > maxLength) {
    errors.push(`${label}「${display(text)}」过长，最多${maxLength}个字`);
    return null;
  }
  return text;
}

function checkNote(raw: string, label: string, errors: string[]): string | null {
  const text = checkText(raw, label, Number.POSITIVE_INFINITY, false, errors);
  if (text === null) return null;
  if (text.length > MAX_NOTE_LENGTH) {
    errors.push(`${label}过长，最多${MAX_NOTE_LENGTH}个字`);
    return null;
  }
  return text;
}

/**
 * One roster entry typed at the desk (POST /api/meetings/{id}/roster), cleaned and checked exactly as a
 * row of an imported file: invisible characters dropped (a name of only U+200B is empty, a U+202E cannot
 * show a name reversed), white space collapsed, spaces inside a Chinese name removed. The first problem
 * names its field.
 */
export function checkRosterEntry(input: { name: string; category: string; note: string }):
  | { ok: true; entry: { name: string; category: string; note: string } }
  | { ok: false; field: 'name' | 'category' | 'note'; message: string } {
  const errors: string[] = [];
  const refuse = (field: 'name' | 'category' | 'note', raw: string, label: string) => ({
    ok: false as const,
    field,
    message: raw.trim() !== '' && cleanText(raw) === '' ? `${label}只含有看不见的字符，请重新填写` : errors[0]!,
  });
  const name = checkName(input.name, errors);
  if (name === null) return refuse('name', input.name, '姓名');
  const category = checkText(input.category, '类别', MAX_CATEGORY_LENGTH, true, errors);
  if (category === null) return refuse('category', input.category, '类别');
  const note = checkNote(input.note, '备注', errors);
  if (note === null) return refuse('note', input.note, '备注');
  return { ok: true, entry: { name, category, note } };
}

const YES = new Set(['是', '√', '✓', '✔', '☑', 'Y', 'YES', 'TRUE', '1', '是书记']);
const NO = new Set(['', '否', '不是', '非', '×', '✗', '✘', 'N', 'NO', 'FALSE', '0', '无', '/', '-', '—']);

/** 是否书记: true, false, or null if it cannot be read. */
export function parseYesNo(raw: string): boolean | null {
  const v = cleanText(raw.normalize('NFKC')).replace(/\s/g, '').toUpperCase();
  if (YES.has(v)) return true;
  if (NO.has(v)) return false;
  return null;
}

/** Without a 是否书记 column: 书记, but not 副书记, 第一书记 (a cadre sent from above) or 书记助理. */
export function looksLikeSecretary(position: string): boolean {
  const p = position.replace(/副书记|第一书记|书记助理/g, '');
  return p.includes('书记');
}

function fileError<T>(message: string): ImportResult<T> {
  return { rows: [], errors: [{ row: 0, message }] };
}
