import { crc32, createDeflateRaw } from 'node:zlib';

/**
 * Hostile and odd files for the import tests, built byte by byte: a zip writer that can state any
 * sizes in its directory (honest or lying), minimal .xlsx packages, and text in legacy encodings.
 */

export interface ZipPart {
  name: string;
  /** Deflated bytes with the real CRC and size, from deflate() or deflateStream(). */
  body: Deflated;
  /** What the central directory claims; the real size when left out. */
  declaredSize?: number;
}

export interface Deflated {
  compressed: Buffer;
  crc: number;
  size: number;
}

/** Deflate a buffer (raw deflate, as zip stores it). */
export function deflate(data: Buffer | string): Promise<Deflated> {
  return deflateStream([typeof data === 'string' ? Buffer.from(data, 'utf8') : data]);
}

/**
 * Deflate a stream of chunks without ever holding the whole: a 300 MB shared string costs the test
 * process 1 MB at a time.
 */
export async function deflateStream(chunks: Iterable<Buffer> | AsyncIterable<Buffer>): Promise<Deflated> {
  const out: Buffer[] = [];
  const d = createDeflateRaw({ level: 9 });
  d.on('data', (b: Buffer) => out.push(b));
  const done = new Promise<void>((resolve, reject) => {
    d.on('end', resolve);
    d.on('error', reject);
  });
  let crc = 0;
  let size = 0;
  for await (const c of chunks) {
    crc = crc32(c, crc);
    size += c.length;
    if (!d.write(c)) await new Promise<void>((r) => d.once('drain', r));
  }
  d.end();
  await done;
  return { compressed: Buffer.concat(out), crc, size };
}

/** A zip file with deflated entries, its central directory stating `declaredSize` where given. */
export function zip(parts: ZipPart[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const p of parts) {
    const name = Buffer.from(p.name, 'utf8');
    const size = p.declaredSize ?? p.body.size;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(p.body.crc >>> 0, 14);
    local.writeUInt32LE(p.body.compressed.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(p.body.crc >>> 0, 16);
    central.writeUInt32LE(p.body.compressed.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, p.body.compressed);
    centrals.push(central, name);
    offset += 30 + name.length + p.body.compressed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(parts.length, 8);
  end.writeUInt16LE(parts.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

const CONTENT_TYPES =
  '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>' +
  '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
  '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' +
  '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>';
const RELS =
  '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
  '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>';
const WORKBOOK =
  '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">' +
  '<sheets><sheet name="签到表" sheetId="1" r:id="rId1"/></sheets></workbook>';
const WORKBOOK_RELS =
  '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
  '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>' +
  '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>';

export const SHEET_HEAD = '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>';
export const SHEET_TAIL = '</sheetData></worksheet>';

/** An .xlsx of the given sheet and shared strings (each already deflated), sizes declared as given. */
export async function xlsxPackage(sheet: Deflated, strings: Deflated, declared: { sheet?: number; strings?: number } = {}): Promise<Buffer> {
  return zip([
    { name: '[Content_Types].xml', body: await deflate(CONTENT_TYPES) },
    { name: '_rels/.rels', body: await deflate(RELS) },
    { name: 'xl/workbook.xml', body: await deflate(WORKBOOK) },
    { name: 'xl/_rels/workbook.xml.rels', body: await deflate(WORKBOOK_RELS) },
    { name: 'xl/worksheets/sheet1.xml', body: sheet, ...(declared.sheet !== undefined ? { declaredSize: declared.sheet } : {}) },
    { name: 'xl/sharedStrings.xml', body: strings, ...(declared.strings !== undefined ? { declaredSize: declared.strings } : {}) },
  ]);
}

/** The zip bomb of the issue: one shared string of `megabytes` MB of 'A', in a file of a few hundred KB. */
export async function sharedStringBomb(megabytes: number, declaredStrings?: number): Promise<Buffer> {
  const head = Buffer.from('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" uniqueCount="2"><si><t>姓名</t></si><si><t>', 'utf8');
  const tail = Buffer.from('</t></si></sst>', 'utf8');
  const mb = Buffer.alloc(1024 * 1024, 'A');
  const strings = await deflateStream(
    (function* () {
      yield head;
      for (let i = 0; i < megabytes; i++) yield mb;
      yield tail;
    })(),
  );
  const sheet = await deflate(`${SHEET_HEAD}<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row>${SHEET_TAIL}`);
  return xlsxPackage(sheet, strings, declaredStrings !== undefined ? { strings: declaredStrings } : {});
}

/** A roster .xlsx of `rows` people (two shared strings reused), streamed into the deflater a row at a time. */
export async function manyRowsXlsx(rows: number, declaredSheet?: number): Promise<Buffer> {
  const strings = await deflate(
    '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>姓名</t></si><si><t>类别</t></si><si><t>党员</t></si></sst>',
  );
  const sheet = await deflateStream(
    (function* () {
      yield Buffer.from(`${SHEET_HEAD}<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>`);
      let batch: string[] = [];
      for (let r = 2; r <= rows + 1; r++) {
        batch.push(`<row r="${r}"><c r="A${r}" t="inlineStr"><is><t>人员${r}</t></is></c><c r="B${r}" t="s"><v>2</v></c></row>`);
        if (batch.length === 5000) {
          yield Buffer.from(batch.join(''));
          batch = [];
        }
      }
      yield Buffer.from(batch.join('') + SHEET_TAIL);
    })(),
  );
  return xlsxPackage(sheet, strings, declaredSheet !== undefined ? { sheet: declaredSheet } : {});
}

/**
 * Text in a legacy encoding, from a table of the characters the tests use (Node can decode GBK and
 * Big5 but not encode them). The tests check each table against Node's own decoder.
 */
export const GBK: Record<string, string> = {
  姓: 'd0d5', 名: 'c3fb', 类: 'c0e0', 别: 'b1f0', 张: 'd5c5', 三: 'c8fd', 李: 'c0ee', 四: 'cbc4', 党: 'b5b3', 员: 'd4b1', 王: 'cdf5', 五: 'cee5',
};
export const BIG5: Record<string, string> = {
  姓: 'a96d', 名: 'a657', 類: 'c3fe', 別: 'a74f', 張: 'b169', 三: 'a454', 李: 'a7f5', 四: 'a57c', 黨: 'c4d2', 員: 'adfb', 群: 'b873', 眾: 'b2b3', 代: 'a54e', 表: 'aaed',
};

export function encodeWith(table: Record<string, string>, text: string): Buffer {
  const parts: Buffer[] = [];
  for (const ch of text) {
    if (ch.charCodeAt(0) < 0x80) parts.push(Buffer.from(ch, 'latin1'));
    else {
      const hex = table[ch];
      if (!hex) throw new Error(`no bytes for ${ch} in the test table`);
      parts.push(Buffer.from(hex, 'hex'));
    }
  }
  return Buffer.concat(parts);
}

export function utf16(text: string, order: 'le' | 'be', bom: boolean): Buffer {
  const le = Buffer.from(text, 'utf16le');
  const body = order === 'le' ? le : Buffer.from(le).swap16();
  const mark = order === 'le' ? Buffer.from([0xff, 0xfe]) : Buffer.from([0xfe, 0xff]);
  return bom ? Buffer.concat([mark, body]) : body;
}
