import { parentPort } from 'node:worker_threads';
import { parseRosterFile, parseTeamFile } from '../roster/roster.import.ts';
import { prepareArchiveImport } from '../archive/archive.import.ts';
import { DomainError } from '../errors.ts';
import { scanJson } from './json-scan.ts';
import { FileRefused } from './zip.ts';
import type { FileJob, FileJobReply } from './sandbox.ts';

/**
 * The file worker: answers one job at a time. The parent (sandbox.ts) sets its heap limit, times
 * each job, and ends the thread after a large file, a refusal by a limit, or a while idle, which gives
 * back all the memory the files cost.
 */
async function run(job: FileJob): Promise<unknown> {
  const data = Buffer.from(job.data.buffer, job.data.byteOffset, job.data.byteLength);
  switch (job.kind) {
    case 'roster':
      return parseRosterFile(data, job.filename);
    case 'team':
      return parseTeamFile(data, job.filename);
    case 'archive': {
      scanJson(data);
      let value: unknown;
      try {
        value = JSON.parse(data.toString('utf8'));
      } catch {
        throw new DomainError('ARCHIVE_INVALID', '文件不是有效的 JSON，不是 Ceping 测评档案文件');
      }
      return prepareArchiveImport(value);
    }
  }
}

parentPort!.on('message', ({ id, job }: { id: number; job: FileJob }) => {
  run(job).then(
    (result) => parentPort!.postMessage({ id, reply: { ok: true, result } satisfies FileJobReply }),
    (e: unknown) => {
      const reply: FileJobReply =
        e instanceof FileRefused
          ? { ok: false, refused: e.message }
          : e instanceof DomainError
            ? { ok: false, domain: { code: e.code, message: e.message } }
            : { ok: false, failed: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
      parentPort!.postMessage({ id, reply });
    },
  );
});
