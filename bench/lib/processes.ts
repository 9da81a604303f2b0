/**
 * The two processes the bench measures, side by side on the same machine: the Ceping server started
 * as `npm start` starts it (its own data folder, its default settings), and the Fastify hello-world
 * baseline (bench/hello-server.ts) from the same node_modules.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startServer, type ServerProcess } from '../../tests/helpers/server-process.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** `npm start` first builds: the pages when their sources changed (and precompresses them), then the server bundle. */
export function buildPages(): void {
  for (const script of ['scripts/build-ui.mjs', 'scripts/build-server.mjs']) {
    const r = spawnSync(process.execPath, [script], { cwd: repoRoot, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${script} failed`);
  }
}

/**
 * Ceping on `dataDir` as `npm start` runs it (node dist/server/main.mjs) with its defaults: info logging (one line per request), scrypt at N = 2^16, p = 2.
 * Only the address is the bench's own (127.0.0.1, a free port), and the log goes to `logFile` as with
 * `npm start > file`. With `cpuProfileDir` it runs under `node --cpu-prof` and writes its profile there
 * when it stops.
 */
export async function startCeping(dataDir: string, logFile: string, o: { cpuProfileDir?: string; bundle?: string } = {}): Promise<ServerProcess> {
  const nodeArgs = o.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfileDir}`] : [];
  return startServer(dataDir, await freePort(), { LOG_LEVEL: 'info', SCRYPT_LOG_N: '16' }, { logFile, nodeArgs, bundle: o.bundle });
}

/** Error lines (pino level ≥ 50) in a server's log. */
export function loggedErrors(logFile: string): string[] {
  return readFileSync(logFile, 'utf8').split('\n').filter((l) => /"level":(5|6)0/.test(l));
}

/**
 * Start a new peak for VmHWM (Linux: writing 5 to clear_refs), so a peak can be read for one stretch
 * of time. False where the kernel or the permissions do not allow it.
 */
export function resetPeakMemory(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export interface HelloProcess {
  proc: ChildProcess;
  base: string;
  port: number;
  stop(): Promise<void>;
}

export async function startHello(): Promise<HelloProcess> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['bench/hello-server.mjs', String(port)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`hello server did not start: ${out}`)), 60_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('hello listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once('exit', () => reject(new Error(`hello server exited: ${out}`)));
  });
  return {
    proc,
    port,
    base: `http://127.0.0.1:${port}`,
    async stop() {
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** CPU a process has used so far, all its threads, user and system, in ms (/proc/<pid>/stat, ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** Peak and current resident memory of a process, in MiB (VmHWM, VmRSS of /proc/<pid>/status). */
export function memory(pid: number): { peakMiB: number; nowMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { peakMiB: kib('VmHWM') / 1024, nowMiB: kib('VmRSS') / 1024 };
}
