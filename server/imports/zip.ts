import { createInflateRaw, inflateRawSync } from 'node:zlib';
import { FILE_LIMITS } from './limits.ts';

/**
 * Just enough of the zip format to judge an .xlsx before inflating anything: the central directory
 * (names, methods, declared sizes) is read from the end of the file, and every limit is checked on
 * the declared sizes first. Inflating then stops at the declared size, so a file whose directory
 * lies is caught as it inflates, never after.
 */

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

/** A refusal with the words the user reads (which limit, and what to do). */
export class FileRefused extends Error {
  override name = 'FileRefused';
}

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

const MB = 1024 * 1024;
const mb = (n: number) => `${Math.round((n / MB) * 10) / 10}MB`;

export const MSG_DAMAGED =
  '无法读取该 Excel 文件，文件可能已损坏，或不是 .xlsx 格式。请在 Excel 或 WPS 中打开后「另存为」Excel 工作簿（.xlsx）或 CSV 格式再导入；也可以改用下载的模板填写';

function damaged(): FileRefused {
  return new FileRefused(MSG_DAMAGED);
}

function u64(buf: Buffer, at: number): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw damaged();
  return Number(v);
}

/** The central directory, with every declared-size limit checked. Reads no compressed byte. */
export function readZipDirectory(data: Buffer, limits: { maxEntries: number; maxEntryBytes: number; maxTotalBytes: number } = FILE_LIMITS.zip): ZipEntry[] {
  // The end-of-central-directory record is in the last 22 + 65535 bytes (a comment may follow it).
  let eocd = -1;
  for (let i = data.length - 22; i >= Math.max(0, data.length - 22 - 0xffff); i--) {
    if (data.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw damaged();
  let count = data.readUInt16LE(eocd + 10);
  let size = data.readUInt32LE(eocd + 12);
  let offset = data.readUInt32LE(eocd + 16);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || data.readUInt32LE(loc) !== EOCD64_LOCATOR) throw damaged();
    const at = u64(data, loc + 8);
    if (at + 56 > data.length || data.readUInt32LE(at) !== EOCD64) throw damaged();
    count = u64(data, at + 32);
    size = u64(data, at + 40);
    offset = u64(data, at + 48);
  }
  if (count > limits.maxEntries) {
    throw new FileRefused(`文件中有${count}个内部文件，超过了${limits.maxEntries}个的上限，不像是签到表或班子成员表。请另存为新的 Excel 工作簿（.xlsx）或 CSV 后再导入`);
  }
  if (offset + size > data.length) throw damaged();

  const entries: ZipEntry[] = [];
  let total = 0;
  let p = offset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > data.length || data.readUInt32LE(p) !== CENTRAL) throw damaged();
    const flags = data.readUInt16LE(p + 8);
    const method = data.readUInt16LE(p + 10);
    let compressedSize = data.readUInt32LE(p + 20);
    let uncompressedSize = data.readUInt32LE(p + 24);
    const nameLength = data.readUInt16LE(p + 28);
    const extraLength = data.readUInt16LE(p + 30);
    const commentLength = data.readUInt16LE(p + 32);
    let localHeaderOffset = data.readUInt32LE(p + 42);
    const end = p + 46 + nameLength + extraLength + commentLength;
    if (end > data.length) throw damaged();
    const name = data.toString('utf8', p + 46, p + 46 + nameLength);
    // ZIP64: the real sizes and offset are in extra field 0x0001, in this order, for each field set to all ones.
    let x = p + 46 + nameLength;
    const extraEnd = x + extraLength;
    while (x + 4 <= extraEnd) {
      const id = data.readUInt16LE(x);
      const len = data.readUInt16LE(x + 2);
      if (id === 0x0001) {
        let q = x + 4;
        const take = () => {
          if (q + 8 > x + 4 + len) throw damaged();
          const v = u64(data, q);
          q += 8;
          return v;
        };
        if (uncompressedSize === 0xffffffff) uncompressedSize = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
      }
      x += 4 + len;
    }
    if (flags & 0x1) {
      throw new FileRefused('不支持设置了密码的 Excel 文件。请在 Excel 或 WPS 中取消密码后「另存为」Excel 工作簿（.xlsx）或 CSV 格式再导入');
    }
    if (method !== 0 && method !== 8) throw damaged();
    if (uncompressedSize > limits.maxEntryBytes) {
      throw new FileRefused(
        `文件中有一部分内容解压后有${mb(uncompressedSize)}，超过了每部分${mb(limits.maxEntryBytes)}的上限（签到表和班子成员表远小于此）。请检查是否选错了文件，或另存为 CSV 格式后再导入`,
      );
    }
    total += uncompressedSize;
    if (total > limits.maxTotalBytes) {
      throw new FileRefused(`文件解压后超过${mb(limits.maxTotalBytes)}的上限（签到表和班子成员表远小于此）。请检查是否选错了文件，或另存为 CSV 格式后再导入`);
    }
    entries.push({ name, method, flags, compressedSize, uncompressedSize, localHeaderOffset });
    p = end;
  }
  return entries;
}

/** Where an entry's compressed bytes are. */
function compressedBytes(data: Buffer, e: ZipEntry): Buffer {
  const p = e.localHeaderOffset;
  if (p + 30 > data.length || data.readUInt32LE(p) !== LOCAL) throw damaged();
  const start = p + 30 + data.readUInt16LE(p + 26) + data.readUInt16LE(p + 28);
  if (start + e.compressedSize > data.length) throw damaged();
  return data.subarray(start, start + e.compressedSize);
}

function tooBig(e: ZipEntry): FileRefused {
  return new FileRefused(`文件中有一部分内容解压后比文件自己声明的大小（${mb(e.uncompressedSize)}）还大，文件已损坏或被改动过，不能导入`);
}

/** One entry, whole. Inflating stops at the declared size: a lie in the directory is caught here. */
export function inflateEntry(data: Buffer, e: ZipEntry): Buffer {
  const raw = compressedBytes(data, e);
  if (e.method === 0) {
    if (raw.length !== e.uncompressedSize) throw damaged();
    return raw;
  }
  try {
    const out = inflateRawSync(raw, { maxOutputLength: Math.max(1, e.uncompressedSize) });
    if (out.length !== e.uncompressedSize) throw damaged();
    return out;
  } catch (err) {
    if (err instanceof FileRefused) throw err;
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooBig(e);
    throw damaged();
  }
}

/**
 * One entry as a stream of chunks, for reading a worksheet row by row. The consumer may stop early
 * (return from the loop): the inflater is destroyed and nothing more is inflated.
 */
export async function* inflateEntryChunks(data: Buffer, e: ZipEntry): AsyncGenerator<Buffer> {
  const raw = compressedBytes(data, e);
  if (e.method === 0) {
    for (let i = 0; i < raw.length; i += 64 * 1024) yield raw.subarray(i, i + 64 * 1024);
    return;
  }
  const inflater = createInflateRaw({ chunkSize: 64 * 1024 });
  let produced = 0;
  // Feeds the compressed bytes in, waiting for the consumer; stops as soon as the inflater is destroyed.
  const waitDrainOrClose = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        inflater.off('drain', done);
        inflater.off('close', done);
        resolve();
      };
      inflater.on('drain', done);
      inflater.on('close', done);
    });
  const pump = (async () => {
    for (let i = 0; i < raw.length && !inflater.destroyed; i += 64 * 1024) {
      if (!inflater.write(raw.subarray(i, i + 64 * 1024))) await waitDrainOrClose();
    }
    if (!inflater.destroyed) inflater.end();
  })().catch(() => inflater.destroy());
  try {
    for await (const chunk of inflater as AsyncIterable<Buffer>) {
      produced += chunk.length;
      if (produced > e.uncompressedSize) throw tooBig(e);
      yield chunk;
    }
  } catch (err) {
    if (err instanceof FileRefused) throw err;
    throw damaged();
  } finally {
    inflater.destroy();
    await pump;
  }
}
