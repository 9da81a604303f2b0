import { describe, expect, it } from 'vitest';
import { FileRefused, readZipDirectory, inflateEntry } from '../../server/imports/zip.ts';
import { scanJson } from '../../server/imports/json-scan.ts';
import { readXlsxRows } from '../../server/imports/xlsx.ts';
import { FILE_LIMITS } from '../../server/imports/limits.ts';
import { decodeText } from '../../server/roster/roster.import.ts';
import { BIG5, deflate, encodeWith, GBK, SHEET_HEAD, SHEET_TAIL, xlsxPackage, zip } from '../helpers/files.ts';

const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof FileRefused) return e.message;
    throw e;
  }
  throw new Error('not refused');
};

describe('the zip directory is judged before anything is inflated', () => {
  it('refuses too many entries, one entry too large, and too much in total, by the declared sizes', async () => {
    const small = await deflate('x');
    const many = zip(Array.from({ length: FILE_LIMITS.zip.maxEntries + 1 }, (_, i) => ({ name: `f${i}.xml`, body: small })));
    expect(refusal(() => readZipDirectory(many))).toBe(
      `文件中有${FILE_LIMITS.zip.maxEntries + 1}个内部文件，超过了${FILE_LIMITS.zip.maxEntries}个的上限，不像是签到表或班子成员表。请另存为新的 Excel 工作簿（.xlsx）或 CSV 后再导入`,
    );
    const one = zip([{ name: 'a.xml', body: small, declaredSize: 21 * 1024 * 1024 }]);
    expect(refusal(() => readZipDirectory(one))).toMatch(/^文件中有一部分内容解压后有21MB，超过了每部分20MB的上限/);
    const total = zip([
      { name: 'a.xml', body: small, declaredSize: 15 * 1024 * 1024 },
      { name: 'b.xml', body: small, declaredSize: 15 * 1024 * 1024 },
      { name: 'c.xml', body: small, declaredSize: 15 * 1024 * 1024 },
    ]);
    expect(refusal(() => readZipDirectory(total))).toMatch(/^文件解压后超过40MB的上限/);
  });

  it('an entry that inflates to more than it declares stops at the declared size', async () => {
    const body = await deflate(Buffer.alloc(5 * 1024 * 1024, 'A'));
    const liar = zip([{ name: 'a.xml', body, declaredSize: 100 }]);
    const [entry] = readZipDirectory(liar);
    expect(refusal(() => inflateEntry(liar, entry!))).toMatch(/比文件自己声明的大小.*还大/);
    const honest = zip([{ name: 'a.xml', body }]);
    expect(inflateEntry(honest, readZipDirectory(honest)[0]!).length).toBe(5 * 1024 * 1024);
  });

  it('refuses an encrypted entry and a file that is not a zip', async () => {
    const z = zip([{ name: 'a.xml', body: await deflate('x') }]);
    const cd = z.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    z.writeUInt16LE(z.readUInt16LE(cd + 8) | 1, cd + 8);
    expect(refusal(() => readZipDirectory(z))).toMatch(/设置了密码/);
    expect(refusal(() => readZipDirectory(Buffer.from('PK\u0003\u0004 not really a zip')))).toMatch(/无法读取该 Excel 文件/);
  });
});

describe('an .xlsx is read as a stream', () => {
  it('stops after the wanted rows, and reads dates and booleans as Excel shows them', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => `<row r="${i + 1}"><c r="A${i + 1}" t="inlineStr"><is><t>人${i}</t></is></c></row>`).join('');
    const sheet = await deflate(`${SHEET_HEAD}${rows}${SHEET_TAIL}`);
    const strings = await deflate('<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"></sst>');
    const read = await readXlsxRows(await xlsxPackage(sheet, strings), 10);
    expect(read.truncated).toBe(true);
    expect(read.rows).toHaveLength(11);
    const all = await readXlsxRows(await xlsxPackage(sheet, strings), 100);
    expect(all.truncated).toBe(false);
    expect(all.rows).toHaveLength(50);
  });

  it('refuses a DOCTYPE (entity expansion) outright', async () => {
    const sheet = await deflate(
      `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&b;</t></is></c></row>${SHEET_TAIL}`,
    );
    const strings = await deflate('<sst/>');
    await expect(readXlsxRows(await xlsxPackage(sheet, strings), 10)).rejects.toThrow(/无法读取该 Excel 文件/);
  });
});

describe('a JSON text is judged before JSON.parse', () => {
  const limits = { maxBytes: 1000, maxDepth: 4, maxKeysPerObject: 3, maxValues: 10 };
  it('counts depth, keys per object and values, and ignores what is inside strings', () => {
    expect(() => scanJson(Buffer.from('{"a":[1,{"b":"x:,{[y"}],"c":{"d":1}}'), limits)).not.toThrow();
    expect(refusal(() => scanJson(Buffer.from('[[[[[1]]]]]'), limits))).toBe('文件的嵌套层数超过了4层的上限，不是可以导入的文件');
    expect(refusal(() => scanJson(Buffer.from('{"a":1,"b":2,"c":3,"d":4}'), limits))).toBe('文件中有一个对象的键超过了3个的上限，不是可以导入的文件');
    expect(refusal(() => scanJson(Buffer.from(`[${'1,'.repeat(10)}1]`), limits))).toBe('文件中的数据项超过了10个的上限，不是可以导入的文件');
    expect(refusal(() => scanJson(Buffer.alloc(1001, 0x20), limits))).toMatch(/超过了0\.0009765625MB的上限|超过了.*MB的上限/);
    // An escaped quote does not end a string.
    expect(() => scanJson(Buffer.from('{"a":"\\",{{{{{{","b":1}'), limits)).not.toThrow();
  });
});

describe('text encodings', () => {
  it('GBK decodes, Big5 and undecodable bytes are refused by name', () => {
    expect(decodeText(encodeWith(GBK, '姓名,类别'))).toBe('姓名,类别');
    expect(refusal(() => decodeText(encodeWith(BIG5, '姓名,類別\n張三,黨員')))).toMatch(/^文件看起来是繁体中文（Big5）编码/);
    expect(refusal(() => decodeText(Buffer.from([0x41, 0xff, 0xfe, 0x80, 0x42])))).toMatch(/^无法识别文件的文字编码/);
  });
});
