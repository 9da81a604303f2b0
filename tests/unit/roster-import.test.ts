import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import {
  MAX_ROSTER_ROWS,
  decodeText,
  detectFormat,
  looksLikeSecretary,
  parseRosterFile,
  parseTeamFile,
  parseYesNo,
  rosterTemplateCsv,
  rosterTemplateXlsx,
  teamTemplateCsv,
  teamTemplateXlsx,
} from '../../server/roster/roster.import.ts';

// ---------------------------------------------------------------------------------------------
// Building real files

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** CSV as Excel writes "CSV UTF-8": BOM, CRLF line ends. */
function csvUtf8(lines: string[]): Buffer {
  return Buffer.concat([BOM, Buffer.from(lines.join('\r\n') + '\r\n', 'utf8')]);
}

/**
 * GB18030 bytes for the few characters these tests use (iconv-lite is not installed).
 * The bytes are checked against Node's own gb18030 decoder in the first test below.
 */
const GB18030: Record<string, string> = {
  姓: 'd0d5', 名: 'c3fb', 类: 'c0e0', 别: 'b1f0', 备: 'b1b8', 注: 'd7a2',
  张: 'd5c5', 三: 'c8fd', 李: 'c0ee', 四: 'cbc4', 王: 'cdf5', 五: 'cee5',
  党: 'b5b3', 员: 'd4b1', 群: 'c8ba', 众: 'd6da', 代: 'b4fa', 表: 'b1ed',
  两: 'c1bd', 委: 'ceaf', 成: 'b3c9', 一: 'd2bb', 组: 'd7e9',
  职: 'd6b0', 务: 'cef1', 是: 'cac7', 否: 'b7f1', 书: 'cae9', 记: 'bcc7', 副: 'b8b1',
  身: 'c9ed', 份: 'b7dd',
  '\u{20BB7}': '9534b235', // 𠮷 — outside GBK, a four-byte GB18030 sequence
};

function gb18030(lines: string[]): Buffer {
  const parts: Buffer[] = [];
  for (const ch of lines.join('\r\n') + '\r\n') {
    if (ch.charCodeAt(0) < 0x80) parts.push(Buffer.from(ch, 'latin1'));
    else {
      const hex = GB18030[ch];
      if (!hex) throw new Error(`no GB18030 bytes for ${ch} in the test table`);
      parts.push(Buffer.from(hex, 'hex'));
    }
  }
  return Buffer.concat(parts);
}

type CellValue = ExcelJS.CellValue;

async function xlsx(rows: CellValue[][], edit?: (ws: ExcelJS.Worksheet, wb: ExcelJS.Workbook) => void): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Sheet1');
  rows.forEach((values, i) => {
    if (values.length > 0) ws.getRow(i + 1).values = values;
  });
  edit?.(ws, wb);
  return Buffer.from((await wb.xlsx.writeBuffer()) as ArrayBuffer);
}

// ---------------------------------------------------------------------------------------------
// Roster: encodings and formats

describe('parseRosterFile — encodings', () => {
  it('the hard-coded GB18030 bytes decode to the intended characters and are not valid UTF-8', () => {
    const bytes = gb18030(['姓名,类别,备注', '张三,党员,', '\u{20BB7}四,群众代表,一组']);
    expect(new TextDecoder('gb18030').decode(bytes)).toBe('姓名,类别,备注\r\n张三,党员,\r\n\u{20BB7}四,群众代表,一组\r\n');
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes)).toThrow();
  });

  it('reads CSV saved as UTF-8 with BOM', async () => {
    const result = await parseRosterFile(csvUtf8(['姓名,类别,备注', '张三,两委成员,', '李四,党员,第一村民小组']), '签到表.csv');
    expect(result).toEqual({
      rows: [
        { name: '张三', category: '两委成员', note: '' },
        { name: '李四', category: '党员', note: '第一村民小组' },
      ],
      errors: [],
    });
  });

  it('strips the UTF-8 BOM when decoding', () => {
    expect(decodeText(Buffer.concat([BOM, Buffer.from('姓名', 'utf8')]))).toBe('姓名');
  });

  it('reads CSV saved as UTF-8 without BOM, with LF line ends', async () => {
    const result = await parseRosterFile(Buffer.from('姓名,类别\n张三,党员\n', 'utf8'), 'a.csv');
    expect(result).toEqual({ rows: [{ name: '张三', category: '党员', note: '' }], errors: [] });
  });

  it('reads CSV saved by Excel on Chinese Windows (GB18030/GBK), including a four-byte character', async () => {
    const bytes = gb18030(['姓名,身份,备注', '张三,两委成员,', '\u{20BB7}四,群众代表,一组', '王五,党员,']);
    const result = await parseRosterFile(bytes, 'roster.CSV');
    expect(result).toEqual({
      rows: [
        { name: '张三', category: '两委成员', note: '' },
        { name: '\u{20BB7}四', category: '群众代表', note: '一组' },
        { name: '王五', category: '党员', note: '' },
      ],
      errors: [],
    });
  });

  it('reads UTF-16 text with BOM ("Unicode 文本" from Excel, tab-separated)', async () => {
    const text = '姓名\t类别\r\n张三\t党员\r\n';
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const result = await parseRosterFile(bytes, '名单.txt');
    expect(result).toEqual({ rows: [{ name: '张三', category: '党员', note: '' }], errors: [] });
  });

  it('keeps commas and line breaks inside quoted CSV fields, and counts rows as Excel does', async () => {
    const result = await parseRosterFile(
      csvUtf8(['姓名,类别,备注', '张三,党员,"一组,二组"', '李四,党员,"第一行\n第二行"', ',党员,']),
      'a.csv',
    );
    expect(result.rows).toEqual([
      { name: '张三', category: '党员', note: '一组,二组' },
      { name: '李四', category: '党员', note: '第一行 第二行' },
    ]);
    expect(result.errors).toEqual([{ row: 4, message: '第4行：姓名为空' }]);
  });
});

describe('parseRosterFile — XLSX', () => {
  it('reads the first worksheet: rich text, formula results, numbers, merged cells, title row above the header', async () => {
    const data = await xlsx(
      [
        ['某某村2026年度民主测评签到表'],
        ['序号', '姓名', '类别', '备注'],
        [1, { richText: [{ text: '张' }, { font: { bold: true }, text: '三' }] }, '两委成员', null],
        [2, { formula: 'B3&"丰"', result: '张三丰' }, '党员', 3],
        [3, '李四', '群众代表', { formula: '"第"&A5&"组"', result: '第3组' }],
        [4, '王五', null, ''],
      ],
      (ws, wb) => {
        ws.mergeCells('C5:C6'); // 群众代表 merged down over 王五's row
        wb.addWorksheet('第二页').addRow(['姓名', '类别']);
      },
    );
    const result = await parseRosterFile(data, '签到表.xlsx');
    expect(result).toEqual({
      rows: [
        { name: '张三', category: '两委成员', note: '' },
        { name: '张三丰', category: '党员', note: '3' },
        { name: '李四', category: '群众代表', note: '第3组' },
        { name: '王五', category: '群众代表', note: '' },
      ],
      errors: [],
    });
  });

  it('reports errors with the sheet row numbers, skipping empty rows', async () => {
    const data = await xlsx([
      ['姓名', '类别'],
      ['张三', '党员'],
      [],
      ['', '   '],
      ['李四', ''],
      [],
      ['', '党员'],
    ]);
    const result = await parseRosterFile(data, 'a.xlsx');
    expect(result.rows).toEqual([{ name: '张三', category: '党员', note: '' }]);
    expect(result.errors).toEqual([
      { row: 5, message: '第5行：类别为空' },
      { row: 7, message: '第7行：姓名为空' },
    ]);
  });

  it('reports a cell holding an Excel error value', async () => {
    const data = await xlsx([
      ['姓名', '类别'],
      [{ formula: 'VLOOKUP(1,Z1:Z2,2)', result: { error: '#N/A' } }, '党员'],
    ]);
    const result = await parseRosterFile(data, 'a.xlsx');
    expect(result.errors).toEqual([
      { row: 2, message: '第2行：姓名是 Excel 的错误值「#N/A」（多半是公式出错），请改为直接填写文字' },
    ]);
  });

  it('decides by content when the extension is missing or wrong', async () => {
    const book = await xlsx([['姓名', '类别'], ['张三', '党员']]);
    const csv = csvUtf8(['姓名,类别', '李四,党员']);
    expect(detectFormat(book, 'upload')).toBe('xlsx');
    expect(detectFormat(book, 'roster.csv')).toBe('xlsx');
    expect(detectFormat(csv, 'upload')).toBe('csv');
    expect((await parseRosterFile(book, 'upload')).rows).toEqual([{ name: '张三', category: '党员', note: '' }]);
    expect((await parseRosterFile(csv, 'upload')).rows).toEqual([{ name: '李四', category: '党员', note: '' }]);
  });
});

// ---------------------------------------------------------------------------------------------
// Roster: headers, rows, duplicates

describe('parseRosterFile — headers', () => {
  it.each([
    ['姓名,类别,备注'],
    ['姓　名,类　别,备　注'], // full-width spaces, as Chinese forms align two-character headers
    [' 姓 名 , 身份 , 备注 '],
    ['姓名,人员类别,备注'],
    ['姓名*,类别*,备注（选填）'],
    ['序号,姓名,联系电话,身 份,备注'],
  ])('accepts the header %s', async (header) => {
    const cols = header.split(',').map((h) => h.replace(/[\s\u3000*（）选填]/g, ''));
    const value = (h: string) => (h === '姓名' ? '张三' : h === '备注' ? '一组' : h === '序号' ? '1' : h === '联系电话' ? '138' : '党员');
    const result = await parseRosterFile(csvUtf8([header, cols.map(value).join(',')]), 'a.csv');
    expect(result).toEqual({ rows: [{ name: '张三', category: '党员', note: '一组' }], errors: [] });
  });

  it('names the column as the user wrote it in row errors', async () => {
    const result = await parseRosterFile(csvUtf8(['姓名,身份', '张三,']), 'a.csv');
    expect(result.errors).toEqual([{ row: 2, message: '第2行：身份为空' }]);
  });

  it('a header below a title row: data row numbers follow the sheet', async () => {
    const result = await parseRosterFile(csvUtf8(['某某村民主测评签到表,,', '姓名,类别,备注', '张三,党员,', ',党员,']), 'a.csv');
    expect(result.rows).toEqual([{ name: '张三', category: '党员', note: '' }]);
    expect(result.errors).toEqual([{ row: 4, message: '第4行：姓名为空' }]);
  });
});

describe('parseRosterFile — rows', () => {
  const file = csvUtf8([
    '姓名,类别,备注', //                     1
    '张三,党员,', //                         2
    ',,', //                                 3  empty: skipped
    ',党员,', //                             4  no name
    '李四,,', //                             5  no category
    '张 三,群众代表,', //                    6  duplicate of 2 once the space is removed
    '一二三四五 六七八九十一二三四五六七八九十一,党员,', // 7  21 characters
    '王五,党员,一组', //                     8
    '王五,党员,二组', //                     9  same name, different 备注: two people
    '王五,群众代表,一组', //                 10 same name and 备注: duplicate of 8
    '', //                                   11 empty: skipped
    '   ,  ,  ', //                          12 blank: skipped
    '赵六,一二三四五六七八九十一二三四五六七八九十一,', // 13 category too long
    '  钱 七  ,  党员  ,  备注  ', //         14 trimmed
  ]);

  it('reports each bad row with its Excel row number, in Chinese', async () => {
    const result = await parseRosterFile(file, '签到表.csv');
    expect(result.errors).toEqual([
      { row: 4, message: '第4行：姓名为空' },
      { row: 5, message: '第5行：类别为空' },
      { row: 6, message: '第6行：与第2行姓名重复（张三）；如果确是同名的两个人，请在备注中注明区别（如所在村民小组）' },
      { row: 7, message: '第7行：姓名「一二三四五 六七八九十一二三四五六七八九十一」过长，最多20个字' },
      { row: 10, message: '第10行：与第8行姓名重复（王五）；如果确是同名的两个人，请在备注中注明区别（如所在村民小组）' },
      { row: 13, message: '第13行：类别「一二三四五六七八九十一二三四五六七八九十一」过长，最多20个字' },
    ]);
  });

  it('returns only the good rows, cleaned', async () => {
    const result = await parseRosterFile(file, '签到表.csv');
    expect(result.rows).toEqual([
      { name: '张三', category: '党员', note: '' },
      { name: '王五', category: '党员', note: '一组' },
      { name: '王五', category: '党员', note: '二组' },
      { name: '钱七', category: '党员', note: '备注' },
    ]);
  });

  it('accepts a name of exactly 20 characters, and removes the spaces inside Chinese names only', async () => {
    const twenty = '一二三四五六七八九十一二三四五六七八九十';
    const result = await parseRosterFile(
      csvUtf8(['姓名,类别', `${twenty},党员`, '买买提 · 艾力,党员', 'Anna  Li,党员', '张\u3000三,党员']),
      'a.csv',
    );
    expect(result.errors).toEqual([]);
    expect(result.rows.map((r) => r.name)).toEqual([twenty, '买买提·艾力', 'Anna Li', '张三']);
  });

  it('drops invisible characters: zero-width, soft hyphen, the bidirectional controls that reorder a name, noncharacters', async () => {
    const result = await parseRosterFile(
      csvUtf8(['姓名,类别', '\u202e张三\u202c,党员', '\u2067李\u200e四\u2069,党员', '王\u00ad五\ufdd0,党员', '\u200b\u200f,党员']),
      'a.csv',
    );
    expect(result.rows.map((r) => r.name)).toEqual(['张三', '李四', '王五']);
    expect(result.errors).toEqual([{ row: 5, message: '第5行：姓名为空' }]);
  });

  it('skips rows that are empty in the imported columns, even if a 序号 is pre-printed', async () => {
    const result = await parseRosterFile(csvUtf8(['序号,姓名,类别', '1,张三,党员', '2,,', '3,,', ',,']), 'a.csv');
    expect(result).toEqual({ rows: [{ name: '张三', category: '党员', note: '' }], errors: [] });
  });

  it(`accepts ${MAX_ROSTER_ROWS} rows and refuses ${MAX_ROSTER_ROWS + 1}`, async () => {
    const lines = (n: number) => ['姓名,类别', ...Array.from({ length: n }, (_, i) => `人员${i + 1},党员`)];
    const ok = await parseRosterFile(csvUtf8(lines(MAX_ROSTER_ROWS)), 'a.csv');
    expect(ok.errors).toEqual([]);
    expect(ok.rows).toHaveLength(MAX_ROSTER_ROWS);

    const tooMany = await parseRosterFile(csvUtf8(lines(MAX_ROSTER_ROWS + 1)), 'a.csv');
    expect(tooMany.rows).toEqual([]);
    expect(tooMany.errors).toEqual([
      { row: 0, message: '文件中有5001行人员，超过了一次最多导入5000人的上限。请检查是否选错了文件；请使用下载的模板填写' },
    ]);
  });
});

describe('parseRosterFile — problems with the whole file', () => {
  const fileErrorOf = async (data: Buffer, filename: string) => {
    const result = await parseRosterFile(data, filename);
    expect(result.rows).toEqual([]);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]!.row).toBe(0);
    return result.errors[0]!.message;
  };

  it('an empty file', async () => {
    expect(await fileErrorOf(Buffer.alloc(0), 'a.csv')).toBe('文件是空的，没有任何内容。请使用下载的模板填写后再导入');
    expect(await fileErrorOf(csvUtf8(['', ',,', '']), 'a.csv')).toBe(
      '文件是空的，没有任何内容。请使用下载的模板：第一行是表头（姓名、类别、备注），从第二行起每行填写一人',
    );
    expect(await fileErrorOf(await xlsx([]), 'a.xlsx')).toMatch(/^文件是空的/);
  });

  it('a file with only the header', async () => {
    expect(await fileErrorOf(csvUtf8(['姓名,类别,备注']), 'a.csv')).toBe('表头下面没有填写任何内容。请从第2行起每行填写一人后再导入');
  });

  it('no 姓名 column', async () => {
    expect(await fileErrorOf(csvUtf8(['名字,类别', '张三,党员']), 'a.csv')).toBe(
      '找不到「姓名」列。请使用下载的模板：第一行是表头（姓名、类别、备注），从第二行起每行填写一人',
    );
  });

  it('no 类别 column', async () => {
    expect(await fileErrorOf(csvUtf8(['姓名,备注', '张三,']), 'a.csv')).toBe(
      '缺少「类别」列（表头也可以写作「身份」或「人员类别」）。请使用下载的模板：第一行是表头（姓名、类别、备注），从第二行起每行填写一人',
    );
  });

  it('two columns meaning 类别', async () => {
    expect(await fileErrorOf(csvUtf8(['姓名,类别,身份', '张三,党员,党员']), 'a.csv')).toBe(
      '表头中有2列都表示「类别」（「类别」和「身份」），请只保留一列，或改用下载的模板',
    );
  });

  it('an old .xls, or an encrypted workbook', async () => {
    const ole = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0, 0, 0]);
    const message = await fileErrorOf(ole, '签到表.xls');
    expect(message).toMatch(/^不支持旧版 Excel（\.xls）文件/);
    expect(message).toContain('另存为');
    expect(await fileErrorOf(ole, '签到表.xlsx')).toBe(message);
  });

  it('a damaged .xlsx', async () => {
    expect(await fileErrorOf(Buffer.from('PK\u0003\u0004 not really a zip'), 'a.xlsx')).toMatch(/^无法读取该 Excel 文件/);
    expect(await fileErrorOf(Buffer.from('姓名,类别\n张三,党员\n'), 'a.xlsx')).toMatch(/^无法读取该 Excel 文件/);
  });

  it('an unknown binary file', async () => {
    expect(await fileErrorOf(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x00, 0x0d]), 'photo')).toBe(
      '无法识别文件格式，只能导入 Excel 工作簿（.xlsx）和 CSV 文件。请使用下载的模板填写后再导入',
    );
  });

  it('an unclosed quote in CSV', async () => {
    expect(await fileErrorOf(csvUtf8(['姓名,类别', '"张三,党员', '李四,党员']), 'a.csv')).toMatch(/^文件第2行的英文双引号（"）不配对/);
  });
});

// ---------------------------------------------------------------------------------------------
// Team

describe('parseTeamFile', () => {
  it('reads 是/否/√/blank in the 是否书记 column', async () => {
    const result = await parseTeamFile(
      csvUtf8(['姓名,职务,是否书记', '王五,党支部书记、村委会主任,是', '赵六,党支部副书记,否', '钱七,村委会副主任,', '孙八,妇联主席,×']),
      '班子.csv',
    );
    expect(result).toEqual({
      rows: [
        { name: '王五', position: '党支部书记、村委会主任', isSecretary: true },
        { name: '赵六', position: '党支部副书记', isSecretary: false },
        { name: '钱七', position: '村委会副主任', isSecretary: false },
        { name: '孙八', position: '妇联主席', isSecretary: false },
      ],
      errors: [],
    });
    const tick = await parseTeamFile(csvUtf8(['姓名,职务,是否书记', '王五,主任,√', '赵六,副主任,']), 'a.csv');
    expect(tick.rows.map((r) => r.isSecretary)).toEqual([true, false]);
  });

  it('with the column, the marks decide, not the 职务', async () => {
    const result = await parseTeamFile(csvUtf8(['姓名,职务,是否书记', '王五,党支部书记,', '赵六,村委会主任,是']), 'a.csv');
    expect(result.rows.map((r) => r.isSecretary)).toEqual([false, true]);
  });

  it('reads the team from GB18030 CSV', async () => {
    const result = await parseTeamFile(gb18030(['姓名,职务,是否书记', '王五,书记,是', '张三,副书记,否']), 'a.csv');
    expect(result).toEqual({
      rows: [
        { name: '王五', position: '书记', isSecretary: true },
        { name: '张三', position: '副书记', isSecretary: false },
      ],
      errors: [],
    });
  });

  it('refuses a second secretary, naming both rows', async () => {
    const result = await parseTeamFile(csvUtf8(['姓名,职务,是否书记', '王五,书记,是', '赵六,主任,否', '钱七,副书记,是']), 'a.csv');
    expect(result.errors).toEqual([{ row: 4, message: '第4行：与第2行都标为书记，一个班子只能有一名党组织书记' }]);
    expect(result.rows.map((r) => r.name)).toEqual(['王五', '赵六']);
  });

  it('refuses a 是否书记 value it cannot read', async () => {
    const result = await parseTeamFile(csvUtf8(['姓名,职务,是否书记', '王五,书记,也许']), 'a.csv');
    expect(result.errors).toEqual([{ row: 2, message: '第2行：是否书记填写的「也许」无法识别，请填写「是」或「否」，也可以留空' }]);
  });

  it('without the column, the 职务 containing 书记 (not 副书记, not 第一书记) marks the secretary', async () => {
    const result = await parseTeamFile(
      csvUtf8(['姓名,职务', '王五,党总支书记、村委会主任', '赵六,党总支副书记', '钱七,驻村第一书记', '孙八,村委会委员']),
      'a.csv',
    );
    expect(result).toEqual({
      rows: [
        { name: '王五', position: '党总支书记、村委会主任', isSecretary: true },
        { name: '赵六', position: '党总支副书记', isSecretary: false },
        { name: '钱七', position: '驻村第一书记', isSecretary: false },
        { name: '孙八', position: '村委会委员', isSecretary: false },
      ],
      errors: [],
    });
  });

  it('a 是否书记 column left entirely blank is treated like a missing one', async () => {
    const result = await parseTeamFile(csvUtf8(['姓名,职务,是否书记', '王五,党支部书记,', '赵六,主任,']), 'a.csv');
    expect(result.rows.map((r) => r.isSecretary)).toEqual([true, false]);
  });

  it('without the column, two 书记 positions are an error that says how to fix it', async () => {
    const result = await parseTeamFile(csvUtf8(['姓名,职务', '王五,党支部书记', '赵六,主任', '钱七,书记']), 'a.csv');
    expect(result.errors).toEqual([
      {
        row: 4,
        message:
          '第4行：职务「书记」与第2行职务「党支部书记」都被认作党组织书记，一个班子只能有一名书记；请在表中加一列「是否书记」，只在书记那一行填「是」',
      },
    ]);
  });

  it('no secretary at all is allowed (a station may have none)', async () => {
    const result = await parseTeamFile(csvUtf8(['姓名,职务', '王五,站长', '赵六,副站长']), 'a.csv');
    expect(result.errors).toEqual([]);
    expect(result.rows.every((r) => !r.isSecretary)).toBe(true);
    expect(result.rows).toHaveLength(2);
  });

  it('reports empty and duplicate entries per row', async () => {
    const result = await parseTeamFile(
      csvUtf8(['姓名,职务,是否书记', '王五,书记,是', ',主任,', '赵六,,', '王 五,村委会主任,', '']),
      'a.csv',
    );
    expect(result.errors).toEqual([
      { row: 3, message: '第3行：姓名为空' },
      { row: 4, message: '第4行：职务为空' },
      { row: 5, message: '第5行：与第2行姓名重复（王五）；同一人兼任多个职务请写在同一行，如「党支部书记、村委会主任」' },
    ]);
    expect(result.rows).toEqual([{ name: '王五', position: '书记', isSecretary: true }]);
  });

  it('refuses a file without 职务, and more than 40 members', async () => {
    expect((await parseTeamFile(csvUtf8(['姓名,类别', '张三,党员']), 'a.csv')).errors).toEqual([
      { row: 0, message: '缺少「职务」列（表头也可以写作「现任职务」）。请使用下载的模板：第一行是表头（姓名、职务、是否书记），从第二行起每行填写一名班子成员' },
    ]);
    const many = ['姓名,职务', ...Array.from({ length: 41 }, (_, i) => `成员${i + 1},委员`)];
    const result = await parseTeamFile(csvUtf8(many), 'a.csv');
    expect(result.rows).toEqual([]);
    expect(result.errors).toEqual([
      { row: 0, message: '文件中有41名班子成员，超过了40人的上限。请检查是否选错了文件（例如误选了签到名单）；请使用下载的模板填写' },
    ]);
  });

  it('reads a team workbook with a boolean 是否书记 cell', async () => {
    const data = await xlsx([
      ['姓名', '职务', '是否书记'],
      ['王五', '书记', true],
      ['赵六', '主任', false],
    ]);
    expect((await parseTeamFile(data, 'team.xlsx')).rows).toEqual([
      { name: '王五', position: '书记', isSecretary: true },
      { name: '赵六', position: '主任', isSecretary: false },
    ]);
  });
});

describe('secretary helpers', () => {
  it.each([
    ['是', true], ['√', true], ['Ｙ', true], ['TRUE', true], [' 是 ', true],
    ['否', false], ['', false], ['×', false], ['FALSE', false],
    ['也许', null], ['书记', null],
  ] as const)('parseYesNo(%j) is %j', (raw, expected) => {
    expect(parseYesNo(raw)).toBe(expected);
  });

  it.each([
    ['党支部书记', true], ['书记、主任', true], ['党委副书记', false], ['第一书记', false], ['书记助理', false], ['主任', false],
  ] as const)('looksLikeSecretary(%j) is %j', (position, expected) => {
    expect(looksLikeSecretary(position)).toBe(expected);
  });
});

// ---------------------------------------------------------------------------------------------
// Templates

describe('templates', () => {
  it('the roster CSV template is UTF-8 with BOM and round-trips', async () => {
    const csv = rosterTemplateCsv();
    expect([...csv.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(csv.subarray(3).toString('utf8').split('\r\n')[0]).toBe('姓名,类别,备注');
    expect(await parseRosterFile(csv, '签到表模板.csv')).toEqual({
      rows: [
        { name: '张三', category: '两委成员', note: '' },
        { name: '李四', category: '党员', note: '第一村民小组' },
      ],
      errors: [],
    });
  });

  it('the roster XLSX template has a bold header, set widths, and round-trips', async () => {
    const data = await rosterTemplateXlsx();
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(data as unknown as ArrayBuffer);
    const ws = wb.worksheets[0]!;
    expect(ws.getRow(1).values).toEqual([undefined, '姓名', '类别', '备注']);
    expect(ws.getCell('A1').font?.bold).toBe(true);
    expect(ws.getColumn(1).width).toBe(14);
    expect(ws.getColumn(3).width).toBe(30);
    expect(await parseRosterFile(data, '签到表模板.xlsx')).toEqual({
      rows: [
        { name: '张三', category: '两委成员', note: '' },
        { name: '李四', category: '党员', note: '第一村民小组' },
      ],
      errors: [],
    });
  });

  it('the team templates round-trip', async () => {
    const expected = {
      rows: [
        { name: '王五', position: '党支部书记、村委会主任', isSecretary: true },
        { name: '赵六', position: '党支部副书记', isSecretary: false },
      ],
      errors: [],
    };
    const csv = teamTemplateCsv();
    expect([...csv.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(await parseTeamFile(csv, '班子成员模板.csv')).toEqual(expected);

    const data = await teamTemplateXlsx();
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(data as unknown as ArrayBuffer);
    const ws = wb.worksheets[0]!;
    expect(ws.getRow(1).values).toEqual([undefined, '姓名', '职务', '是否书记']);
    expect(ws.getCell('C1').font?.bold).toBe(true);
    expect(ws.getColumn(2).width).toBe(30);
    expect(await parseTeamFile(data, '班子成员模板.xlsx')).toEqual(expected);
  });
});
