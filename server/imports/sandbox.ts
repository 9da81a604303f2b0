import { Worker } from 'node:worker_threads';
import { DomainError, type ErrorCode } from '../errors.ts';
import type { ImportResult, RosterRow, TeamRow } from '../roster/roster.import.ts';
import { MAX_FILE_BYTES } from '../roster/roster.import.ts';
import type { PreparedImport } from '../archive/archive.import.ts';
import { FILE_LIMITS } from './limits.ts';
import { FileRefused, readZipDirectory } from './zip.ts';

/**
 * Uploaded files are read in a worker thread, never on the thread that answers the phones: each job
 * gets a fresh worker with its own heap limit and a wall clock, and the worker is ended afterwards,
 * so whatever a file costs is given back. One file at a time (the machine has few cores and the
 * phones come first); a few more may wait, further uploads are refused with IMPORT_BUSY.
 */

export type FileJob =
  | { kind: 'roster' | 'team'; data: Uint8Array; filename: string }
  | { kind: 'archive'; data: Uint8Array; filename?: undefined };

export type FileJobReply =
  | { ok: true; result: unknown }
  | { ok: false; refused: string }
  | { ok: false; domain: { code: ErrorCode; message: string } }
  | { ok: false; failed: string };

const BOOT = new URL('./worker-boot.mjs', import.meta.url);
const ENTRY = new URL('./worker.ts', import.meta.url).href;

export interface SandboxLogger {
  warn(obj: object, msg: string): void;
}

export class FileSandbox {
  readonly #log: SandboxLogger | undefined;
  readonly #running = new Set<Worker>();
  #busy = false;
  readonly #waiting: (() => void)[] = [];
  #closed = false;

  constructor(log?: SandboxLogger) {
    this.#log = log;
  }

  /** A 签到表, checked in the worker. A refused file is a row-0 error, like any other problem with the whole file. */
  async parseRoster(data: Buffer, filename: string): Promise<ImportResult<RosterRow>> {
    return this.#table('roster', data, filename) as Promise<ImportResult<RosterRow>>;
  }

  /** A 班子成员 list, checked in the worker. */
  async parseTeam(data: Buffer, filename: string): Promise<ImportResult<TeamRow>> {
    return this.#table('team', data, filename) as Promise<ImportResult<TeamRow>>;
  }

  /** An archive file (JSON bytes), scanned, parsed and verified in the worker. */
  async prepareArchive(data: Buffer): Promise<PreparedImport> {
    const reply = await this.#run({ kind: 'archive', data: new Uint8Array(data) }, FILE_LIMITS.worker.archive);
    if (reply.ok) return reply.result as PreparedImport;
    if ('domain' in reply) throw new DomainError(reply.domain.code, reply.domain.message);
    if ('refused' in reply) throw new DomainError('ARCHIVE_LIMIT', `无法导入：${reply.refused}`);
    throw new DomainError('ARCHIVE_INVALID');
  }

  /** Ends any worker still running (the server is closing). */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#running].map((w) => w.terminate()));
    for (const wake of this.#waiting.splice(0)) wake();
  }

  async #table(kind: 'roster' | 'team', data: Buffer, filename: string): Promise<ImportResult<unknown>> {
    const refuse = (message: string): ImportResult<unknown> => ({ rows: [], errors: [{ row: 0, message }] });
    // The cheap checks first, here: the size, and for a zip its central directory (declared sizes,
    // entry count) before a single byte is inflated or a worker started.
    if (data.length > MAX_FILE_BYTES) return refuse(`文件太大（超过${MAX_FILE_BYTES / 1024 / 1024}MB），请检查是否选错了文件；请使用下载的模板填写`);
    if (data.length >= 4 && data.readUInt32LE(0) === 0x04034b50) {
      try {
        readZipDirectory(data);
      } catch (e) {
        if (e instanceof FileRefused) return refuse(e.message);
        throw e;
      }
    }
    const reply = await this.#run({ kind, data: new Uint8Array(data), filename }, FILE_LIMITS.worker.table);
    if (reply.ok) return reply.result as ImportResult<unknown>;
    if ('refused' in reply) return refuse(reply.refused);
    if ('domain' in reply) throw new DomainError(reply.domain.code, reply.domain.message);
    return refuse('无法读取该文件，请在 Excel 或 WPS 中打开后另存为 Excel 工作簿（.xlsx）或 CSV 格式再导入；也可以改用下载的模板填写');
  }

  async #run(job: FileJob, limits: { heapMb: number; timeoutMs: number }): Promise<FileJobReply> {
    if (this.#closed) throw new DomainError('IMPORT_BUSY');
    if (this.#busy) {
      if (this.#waiting.length >= FILE_LIMITS.maxWaiting) throw new DomainError('IMPORT_BUSY');
      await new Promise<void>((wake) => this.#waiting.push(wake));
      if (this.#closed) throw new DomainError('IMPORT_BUSY');
    }
    this.#busy = true;
    try {
      return await this.#inWorker(job, limits);
    } finally {
      this.#busy = false;
      this.#waiting.shift()?.();
    }
  }

  #inWorker(job: FileJob, limits: { heapMb: number; timeoutMs: number }): Promise<FileJobReply> {
    return new Promise<FileJobReply>((resolve) => {
      const worker = new Worker(BOOT, {
        workerData: { entry: ENTRY },
        resourceLimits: { maxOldGenerationSizeMb: limits.heapMb, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
      });
      this.#running.add(worker);
      let settled = false;
      const finish = (reply: FileJobReply) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#running.delete(worker);
        void worker.terminate();
        resolve(reply);
      };
      const timer = setTimeout(
        () => finish({ ok: false, refused: `读取文件超过了${limits.timeoutMs / 1000}秒的时间上限，文件内容太多或格式异常。请检查是否选错了文件，或另存为 CSV 格式后再导入` }),
        limits.timeoutMs,
      );
      worker.once('message', (reply: FileJobReply) => finish(reply));
      worker.once('error', (err: Error & { code?: string }) => {
        if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') {
          finish({ ok: false, refused: `读取文件需要的内存超过了${limits.heapMb}MB的上限，文件内容太多或格式异常。请检查是否选错了文件，或另存为 CSV 格式后再导入` });
        } else {
          this.#log?.warn({ err: { type: err.name, message: err.message } }, 'file worker failed');
          finish({ ok: false, failed: err.message });
        }
      });
      worker.once('exit', () => finish({ ok: false, failed: 'worker exited' }));
      // A copy the worker owns: the request's buffer may be a slice of a shared pool.
      const data = job.data.slice();
      worker.postMessage({ ...job, data }, [data.buffer]);
    });
  }
}
