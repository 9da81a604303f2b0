import { Worker } from 'node:worker_threads';
import { DomainError, type ErrorCode } from '../errors.ts';
import { quickFileCheck, type ImportResult, type RosterRow, type TeamRow } from '../roster/roster.import.ts';
import type { PreparedImport } from '../archive/archive.import.ts';
import { serverFile } from '../paths.ts';
import { FILE_LIMITS } from './limits.ts';
import { FileRefused, readZipDirectory } from './zip.ts';

/**
 * Uploaded files are read in a worker thread, never on the thread that answers the phones: a heap
 * limit and a wall clock per file. A worker is ended (and whatever the file cost given back) after a
 * file over RECYCLE_AFTER_BYTES, after a refusal by a limit, or when idle; small files reuse it, since
 * starting one costs a few hundred milliseconds. One file at a time (the machine has few cores and
 * the phones come first); a few more may wait, further uploads are refused with IMPORT_BUSY.
 */

export type FileJob =
  | { kind: 'roster' | 'team'; data: Uint8Array; filename: string }
  | { kind: 'archive'; data: Uint8Array; filename?: undefined };

export type FileJobReply =
  | { ok: true; result: unknown }
  | { ok: false; refused: string }
  | { ok: false; domain: { code: ErrorCode; message: string } }
  | { ok: false; failed: string };

const BOOT = serverFile('imports', 'worker-boot.mjs');
const ENTRY = serverFile('imports', 'worker.ts').href;

export interface SandboxLogger {
  warn(obj: object, msg: string): void;
}

type Pool = 'table' | 'archive';

interface Limits {
  heapMb: number;
  timeoutMs: number;
}

/** A worker kept between small files. */
interface Warm {
  worker: Worker;
  jobs: number;
  idleTimer: NodeJS.Timeout | null;
}

/** After a file this large (or this many files), the worker is ended and its memory given back. */
const RECYCLE_AFTER_BYTES = 512 * 1024;
const RECYCLE_AFTER_JOBS = 200;
const IDLE_MS = 15_000;

export class FileSandbox {
  readonly #log: SandboxLogger | undefined;
  readonly #warm = new Map<Pool, Warm>();
  #busy = false;
  readonly #waiting: (() => void)[] = [];
  #closed = false;
  #nextId = 1;

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
    const reply = await this.#run('archive', { kind: 'archive', data: new Uint8Array(data) }, FILE_LIMITS.worker.archive);
    if (reply.ok) return reply.result as PreparedImport;
    if ('domain' in reply) throw new DomainError(reply.domain.code, reply.domain.message);
    if ('refused' in reply) throw new DomainError('ARCHIVE_LIMIT', `无法导入：${reply.refused}`);
    throw new DomainError('ARCHIVE_INVALID');
  }

  /** Ends the workers (the server is closing). */
  async close(): Promise<void> {
    this.#closed = true;
    const workers = [...this.#warm.values()];
    this.#warm.clear();
    await Promise.all(workers.map((w) => this.#end(w)));
    for (const wake of this.#waiting.splice(0)) wake();
  }

  async #table(kind: 'roster' | 'team', data: Buffer, filename: string): Promise<ImportResult<unknown>> {
    const refuse = (message: string): ImportResult<unknown> => ({ rows: [], errors: [{ row: 0, message }] });
    // The cheap checks first, here: size, format, and for a zip its central directory (declared sizes,
    // entry count), before a single byte is inflated or parsed.
    const quick = quickFileCheck(data, filename);
    if (quick !== null) return refuse(quick);
    if (data.length >= 4 && data.readUInt32LE(0) === 0x04034b50) {
      try {
        readZipDirectory(data);
      } catch (e) {
        if (e instanceof FileRefused) return refuse(e.message);
        throw e;
      }
    }
    const reply = await this.#run('table', { kind, data: new Uint8Array(data), filename }, FILE_LIMITS.worker.table);
    if (reply.ok) return reply.result as ImportResult<unknown>;
    if ('refused' in reply) return refuse(reply.refused);
    if ('domain' in reply) throw new DomainError(reply.domain.code, reply.domain.message);
    return refuse('无法读取该文件，请在 Excel 或 WPS 中打开后另存为 Excel 工作簿（.xlsx）或 CSV 格式再导入；也可以改用下载的模板填写');
  }

  async #run(pool: Pool, job: FileJob, limits: Limits): Promise<FileJobReply> {
    if (this.#closed) throw new DomainError('IMPORT_BUSY');
    if (this.#busy) {
      if (this.#waiting.length >= FILE_LIMITS.maxWaiting) throw new DomainError('IMPORT_BUSY');
      await new Promise<void>((wake) => this.#waiting.push(wake));
      if (this.#closed) throw new DomainError('IMPORT_BUSY');
    }
    this.#busy = true;
    try {
      return await this.#inWorker(pool, job, limits);
    } finally {
      this.#busy = false;
      this.#waiting.shift()?.();
    }
  }

  #spawn(limits: Limits): Warm {
    const worker = new Worker(BOOT, {
      workerData: { entry: ENTRY },
      resourceLimits: { maxOldGenerationSizeMb: limits.heapMb, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
    });
    worker.unref();
    const warm: Warm = { worker, jobs: 0, idleTimer: null };
    // An idle worker that dies is simply not reused; its errors are no one's request's.
    worker.on('error', () => undefined);
    worker.on('exit', () => {
      for (const [pool, w] of this.#warm) if (w === warm) this.#warm.delete(pool);
    });
    return warm;
  }

  async #end(w: Warm): Promise<void> {
    if (w.idleTimer) clearTimeout(w.idleTimer);
    await w.worker.terminate();
  }

  #inWorker(pool: Pool, job: FileJob, limits: Limits): Promise<FileJobReply> {
    let w = this.#warm.get(pool);
    this.#warm.delete(pool);
    if (w?.idleTimer) clearTimeout(w.idleTimer);
    w ??= this.#spawn(limits);
    const warm = w;
    const id = this.#nextId++;
    return new Promise<FileJobReply>((resolve) => {
      const { worker } = warm;
      let settled = false;
      const finish = (reply: FileJobReply, keep: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        warm.jobs += 1;
        if (keep && !this.#closed && warm.jobs < RECYCLE_AFTER_JOBS && job.data.byteLength <= RECYCLE_AFTER_BYTES) {
          // Kept for the next small file; ended after a while idle.
          warm.idleTimer = setTimeout(() => {
            if (this.#warm.get(pool) === warm) this.#warm.delete(pool);
            void this.#end(warm);
          }, IDLE_MS);
          warm.idleTimer.unref();
          this.#warm.set(pool, warm);
        } else {
          void this.#end(warm);
        }
        resolve(reply);
      };
      const onMessage = (m: { id: number; reply: FileJobReply }) => {
        // A refusal by a limit may have left the worker's heap large: it is not kept.
        if (m.id === id) finish(m.reply, m.reply.ok || !('refused' in m.reply));
      };
      const onError = (err: Error & { code?: string }) => {
        if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') {
          finish({ ok: false, refused: `读取文件需要的内存超过了${limits.heapMb}MB的上限，文件内容太多或格式异常。请检查是否选错了文件，或另存为 CSV 格式后再导入` }, false);
        } else {
          this.#log?.warn({ err: { type: err.name, message: err.message } }, 'file worker failed');
          finish({ ok: false, failed: err.message }, false);
        }
      };
      const onExit = () => finish({ ok: false, failed: 'worker exited' }, false);
      const timer = setTimeout(
        () =>
          finish(
            { ok: false, refused: `读取文件超过了${limits.timeoutMs / 1000}秒的时间上限，文件内容太多或格式异常。请检查是否选错了文件，或另存为 CSV 格式后再导入` },
            false,
          ),
        limits.timeoutMs,
      );
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
      // A copy the worker owns: the request's buffer may be a slice of a shared pool.
      const data = job.data.slice();
      worker.postMessage({ id, job: { ...job, data } }, [data.buffer]);
    });
  }
}
