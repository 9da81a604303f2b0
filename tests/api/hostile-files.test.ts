import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { loginAs, type AdminSession } from '../helpers/auth.ts';
import { call, makeMeeting } from '../helpers/meeting.ts';
import { BIG5, encodeWith, GBK, manyRowsXlsx, sharedStringBomb, utf16 } from '../helpers/files.ts';

/**
 * Files crafted to hurt the server, uploaded the way the admin pages upload them, by an inspector
 * assigned to one meeting (roster) or the township (team, archives). The server must refuse each
 * saying which limit it broke, keep answering meanwhile, and give the memory back.
 */

let t: TestApp;
let town: AdminSession;
let insp: AdminSession;
let meetingId: number;
let unitId: number;

beforeAll(async () => {
  t = await makeTestApp();
  town = await loginAs(t);
  const m = await makeMeeting(t, { roster: 0, signIn: 0, open: false, session: town });
  meetingId = m.meetingId;
  unitId = m.unitId;
  insp = await loginAs(t, { role: 'inspector' });
  await call(t, town, 'POST', `/api/meetings/${meetingId}/assignments`, { adminId: insp.adminId });
});
afterAll(async () => {
  await t.close();
});

interface ImportReply {
  rows: { name: string; category: string }[];
  errors: { row: number; message: string }[];
  committed: boolean;
}

async function importRoster(data: Buffer, filename: string, session = insp): Promise<ImportReply> {
  const res = await t.app.inject({
    method: 'POST',
    url: `/api/meetings/${meetingId}/roster/import`,
    headers: session.headers,
    payload: { filename, dataBase64: data.toString('base64'), commit: false },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as ImportReply;
}

/** Runs `work` while polling /healthz; returns the work's result and the slowest health answer. */
async function whileWatching<T>(work: () => Promise<T>): Promise<{ result: T; slowestMs: number }> {
  let done = false;
  let slowest = 0;
  const watch = (async () => {
    while (!done) {
      const t0 = performance.now();
      await t.app.inject({ method: 'GET', url: '/healthz' });
      slowest = Math.max(slowest, performance.now() - t0);
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const result = await work().finally(() => {
    done = true;
  });
  await watch;
  return { result, slowestMs: slowest };
}

const rssMb = () => process.memoryUsage().rss / 1024 / 1024;

describe('zip bombs', () => {
  it('a 300 KB .xlsx whose one shared string inflates to 300 MB is refused from its directory, before inflating', async () => {
    const bomb = await sharedStringBomb(300);
    expect(bomb.length).toBeLessThan(600 * 1024);
    const before = rssMb();
    const { result, slowestMs } = await whileWatching(() => importRoster(bomb, '签到表.xlsx'));
    expect(result.rows).toEqual([]);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]!.row).toBe(0);
    expect(result.errors[0]!.message).toMatch(/解压后有300(\.\d)?MB，超过了每部分20MB的上限/);
    expect(slowestMs).toBeLessThan(1000);
    expect(rssMb() - before).toBeLessThan(100);
  });

  it('the same bomb with a directory that lies about the size is caught while inflating, in the worker', async () => {
    const liar = await sharedStringBomb(300, 4096);
    const before = rssMb();
    const { result, slowestMs } = await whileWatching(() => importRoster(liar, '签到表.xlsx'));
    expect(result.errors).toEqual([{ row: 0, message: expect.stringMatching(/比文件自己声明的大小（0MB）还大，文件已损坏或被改动过/) }]);
    expect(slowestMs).toBeLessThan(1000);
    expect(rssMb() - before).toBeLessThan(100);
  });

  it('a team import gets the same protection', async () => {
    const bomb = await sharedStringBomb(300);
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/units/${unitId}/team/import`,
      headers: town.headers,
      payload: { filename: '班子成员.xlsx', dataBase64: bomb.toString('base64'), commit: true },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ rows: [], committed: false, errors: [{ row: 0, message: expect.stringContaining('超过了每部分20MB的上限') }] });
  });
});

describe('huge sheets', () => {
  it('a 223,101-row .xlsx (about 25 MB of sheet XML) is refused by its declared size', async () => {
    const big = await manyRowsXlsx(223_101);
    expect(big.length).toBeLessThan(4 * 1024 * 1024);
    const before = rssMb();
    const { result, slowestMs } = await whileWatching(() => importRoster(big, '签到表.xlsx'));
    expect(result.errors).toEqual([{ row: 0, message: expect.stringMatching(/解压后有\d+(\.\d)?MB，超过了每部分20MB的上限/) }]);
    expect(slowestMs).toBeLessThan(1000);
    expect(rssMb() - before).toBeLessThan(100);
  });

  it('the same sheet claiming a small size is read as a stream and stopped soon after the 5,000-row limit', async () => {
    const liar = await manyRowsXlsx(223_101, 19 * 1024 * 1024);
    const t0 = performance.now();
    const { result, slowestMs } = await whileWatching(() => importRoster(liar, '签到表.xlsx'));
    // Either the row limit or the lie is met first; both say what happened, neither reads the whole file.
    expect(result.rows).toEqual([]);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]!.message).toMatch(/远多于5000行人员，超过了一次最多导入5000人的上限|比文件自己声明的大小/);
    expect(performance.now() - t0).toBeLessThan(15_000);
    expect(slowestMs).toBeLessThan(1000);
  });

  it('60,000 rows within the size limits: refused at the row limit, read as a stream', async () => {
    const many = await manyRowsXlsx(60_000);
    const { result } = await whileWatching(() => importRoster(many, '签到表.xlsx'));
    expect(result.errors).toEqual([{ row: 0, message: '文件中有远多于5000行人员，超过了一次最多导入5000人的上限。请检查是否选错了文件；请使用下载的模板填写' }]);
  });

  it('5,000 people in an .xlsx are read, every one of them', async () => {
    const ok = await manyRowsXlsx(5000);
    const result = await importRoster(ok, '签到表.xlsx', town);
    expect(result.errors).toEqual([]);
    expect(result.rows).toHaveLength(5000);
    expect(result.rows[4999]).toEqual({ name: '人员5001', category: '党员', note: '' });
  });

  it('a CSV of 223,101 lines is refused at the row limit', async () => {
    const lines = ['姓名,类别', ...Array.from({ length: 223_101 }, (_, i) => `人员${i},党员`)].join('\r\n');
    const { result, slowestMs } = await whileWatching(() => importRoster(Buffer.from(lines, 'utf8'), '签到表.csv'));
    expect(result.errors).toEqual([{ row: 0, message: expect.stringContaining('远多于5000行人员') }]);
    expect(slowestMs).toBeLessThan(1000);
  });
});

describe('text encodings', () => {
  const roster = '姓名,类别\r\n张三,党员\r\n李四,党员\r\n';
  const expected = [
    { name: '张三', category: '党员', note: '' },
    { name: '李四', category: '党员', note: '' },
  ];

  it('the test tables are the real encodings (checked with Node’s decoders)', () => {
    expect(new TextDecoder('gbk').decode(encodeWith(GBK, roster))).toBe(roster);
    const trad = '姓名,類別\r\n張三,黨員\r\n李四,群眾代表\r\n';
    expect(new TextDecoder('big5').decode(encodeWith(BIG5, trad))).toBe(trad);
  });

  it('GBK (Excel on Chinese Windows) is read correctly', async () => {
    const gbk = encodeWith(GBK, roster);
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(gbk)).toThrow();
    expect((await importRoster(gbk, '签到表.csv')).rows).toEqual(expected);
  });

  it('UTF-16 little and big endian, with and without a BOM, is read correctly', async () => {
    for (const order of ['le', 'be'] as const) {
      for (const bom of [true, false]) {
        const tabbed = roster.replace(/,/g, '\t');
        const result = await importRoster(utf16(tabbed, order, bom), '签到表.txt');
        expect(result.rows, `utf-16${order} ${bom ? 'with' : 'without'} BOM`).toEqual(expected);
      }
    }
  });

  it('Big5 is refused, saying the encoding is the problem', async () => {
    const big5 = encodeWith(BIG5, '姓名,類別\r\n張三,黨員\r\n李四,群眾代表\r\n');
    const result = await importRoster(big5, '签到表.csv');
    expect(result.rows).toEqual([]);
    expect(result.errors).toEqual([{ row: 0, message: expect.stringMatching(/^文件看起来是繁体中文（Big5）编码.*另存为「CSV UTF-8」/) }]);
  });

  it('bytes no encoding reads are refused, saying the encoding is the problem', async () => {
    const junk = Buffer.concat([Buffer.from('姓名,类别\r\n', 'utf8'), Buffer.from([0xff, 0xff, 0x80, 0xfe, 0x20, 0xff, 0x0a])]);
    const result = await importRoster(junk, '签到表.csv');
    expect(result.errors).toEqual([{ row: 0, message: expect.stringMatching(/^无法识别文件的文字编码/) }]);
  });
});

describe('archive imports', () => {
  const post = (body: string | Buffer) =>
    t.app.inject({ method: 'POST', url: '/api/archives/import', headers: { ...town.headers, 'content-type': 'application/json' }, payload: body });

  it('a 12 MB JSON object with 1,000,000 keys is refused without blocking the server', async () => {
    const parts = ['{"format":"ceping.year-archive"'];
    for (let i = 0; i < 1_000_000; i++) parts.push(`,"k${i}":0`);
    parts.push('}');
    const body = parts.join('');
    expect(body.length).toBeGreaterThan(11_000_000);
    const before = rssMb();
    const { result, slowestMs } = await whileWatching(() => post(body));
    expect(result.statusCode).toBe(413);
    expect(result.json()).toEqual({ error: { code: 'ARCHIVE_LIMIT', message: '无法导入：文件中有一个对象的键超过了10000个的上限，不是可以导入的文件' } });
    expect(slowestMs).toBeLessThan(1000);
    expect(rssMb() - before).toBeLessThan(150);
  });

  it('the 考察 file import is judged the same way before JSON.parse', async () => {
    const parts = ['{"format":"ceping.inspection-year"'];
    for (let i = 0; i < 1_000_000; i++) parts.push(`,"k${i}":0`);
    parts.push('}');
    const { result, slowestMs } = await whileWatching(() =>
      t.app.inject({ method: 'POST', url: '/api/inspection/import', headers: { ...town.headers, 'content-type': 'application/json' }, payload: parts.join('') }),
    );
    expect(result.statusCode).toBe(413);
    expect(result.json().error).toEqual({ code: 'FILE_LIMIT', message: '无法导入：文件中有一个对象的键超过了10000个的上限，不是可以导入的文件' });
    expect(slowestMs).toBeLessThan(1000);
  });

  it('deep nesting is refused before parsing', async () => {
    const res = await post(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    expect(res.statusCode).toBe(413);
    expect(res.json().error.message).toContain('嵌套层数超过了48层的上限');
  });

  it('a file over the size limit is refused by its size, and broken JSON as not an archive', async () => {
    const big = await post(Buffer.alloc(33 * 1024 * 1024, 0x20));
    expect(big.statusCode).toBe(413);
    expect(big.json().error).toEqual({ code: 'BODY_TOO_LARGE', message: '提交的内容太大，超过了 32 MB 的上限' });
    const broken = await post('{"format": "ceping.year-archive", ');
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error.code).toBe('ARCHIVE_INVALID');
    const empty = await post('');
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.code).toBe('ARCHIVE_INVALID');
  });
});

describe('the queue', () => {
  it('reads one file at a time and refuses uploads beyond the few that may wait', async () => {
    const big = (await manyRowsXlsx(30_000)).toString('base64');
    const send = () =>
      t.app.inject({ method: 'POST', url: `/api/meetings/${meetingId}/roster/import`, headers: town.headers, payload: { filename: 'a.xlsx', dataBase64: big, commit: false } });
    const replies = await Promise.all(Array.from({ length: 6 }, send));
    const codes = replies.map((r) => r.statusCode).sort();
    expect(codes.filter((c) => c === 200).length).toBeGreaterThanOrEqual(4);
    for (const r of replies.filter((x) => x.statusCode !== 200)) {
      expect(r.statusCode).toBe(429);
      expect(r.json().error.code).toBe('IMPORT_BUSY');
    }
  });
});
