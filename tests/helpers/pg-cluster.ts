/**
 * A throwaway PostgreSQL cluster for the tests: initdb into a temp folder, pg_ctl start on a free port
 * with its unix socket in that folder (no TCP), fsync on, and removed afterwards. As root (CI containers)
 * the server runs as the `postgres` user, or `nobody`: PostgreSQL refuses to run as root.
 */
import { execFileSync, spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface PgCluster {
  /** Folder of the unix socket (the `host` of a connection). */
  socketDir: string;
  port: number;
  user: string;
  dir: string;
  bin: string;
}

/**
 * Where initdb and pg_ctl are: the folder CEPING_PG_BIN names (e.g. Homebrew's; a folder without them
 * means "none here"), else on PATH, else Debian's /usr/lib/postgresql/<version>/bin. Null when absent.
 */
export function findPostgresBin(): string | null {
  const given = process.env.CEPING_PG_BIN;
  if (given) return existsSync(path.join(given, 'initdb')) && existsSync(path.join(given, 'pg_ctl')) ? given : null;
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  const onPath = which.status === 0 ? which.stdout.trim() : '';
  if (onPath) return path.dirname(execFileSync('readlink', ['-f', onPath], { encoding: 'utf8' }).trim());
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).filter((v) => existsSync(path.join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(base, versions[0], 'bin') : null;
}

function runAs(): { uid: number; gid: number } | null {
  if (userInfo().uid !== 0) return null;
  for (const name of ['postgres', 'nobody']) {
    const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (r.status === 0 && g.status === 0) return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
  }
  throw new Error('running as root, and neither a postgres nor a nobody user exists to run PostgreSQL as');
}

function run(bin: string, args: string[], o: SpawnSyncOptions): void {
  const r = spawnSync(bin, args, { encoding: 'utf8', ...o });
  if (r.status !== 0) throw new Error(`${path.basename(bin)} failed (${r.status}): ${String(r.stdout)}\n${String(r.stderr)}`);
}

function serverOptions(dir: string, port: number): string {
  return `-p ${port} -k ${dir} -c listen_addresses='' -c fsync=on -c max_connections=200 -c shared_buffers=32MB`;
}

export async function startCluster(bin: string, port: number): Promise<PgCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ceping-pg-'));
  const as = runAs();
  if (as) chownSync(dir, as.uid, as.gid);
  const spawnAs = { ...(as ?? {}), cwd: dir, env: { ...process.env, LC_ALL: 'C' } };
  const data = path.join(dir, 'data');
  run(path.join(bin, 'initdb'), ['-D', data, '-U', 'ceping', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'], spawnAs);
  // fsync stays on: the tests see PostgreSQL's durable commits as a deployment does.
  try {
    run(path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', '-o', serverOptions(dir, port), 'start'], spawnAs);
  } catch (e) {
    const log = existsSync(path.join(dir, 'server.log')) ? readFileSync(path.join(dir, 'server.log'), 'utf8') : '';
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(e as Error).message}\n${log}`);
  }
  return { socketDir: dir, port, user: 'ceping', dir, bin };
}

export function stopCluster(c: PgCluster): void {
  const as = runAs();
  spawnSync(path.join(c.bin, 'pg_ctl'), ['-D', path.join(c.dir, 'data'), '-m', 'immediate', '-w', 'stop'], { ...(as ?? {}), cwd: c.dir, stdio: 'ignore' });
  rmSync(c.dir, { recursive: true, force: true });
}

export function databaseUrl(c: Pick<PgCluster, 'socketDir' | 'port' | 'user'>, database: string): string {
  return `postgres://${c.user}@localhost/${database}?host=${encodeURIComponent(c.socketDir)}&port=${c.port}`;
}

/** Run `statements` on the cluster's maintenance database. */
export async function adminQuery(c: Pick<PgCluster, 'socketDir' | 'port' | 'user'>, ...statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl(c, 'postgres') });
  await client.connect();
  try {
    for (const s of statements) await client.query(s);
  } finally {
    await client.end();
  }
}

async function runAsync(bin: string, args: string[], o: SpawnSyncOptions): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const p = spawn(bin, args, { ...(o as object), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(bin)} failed (${code}): ${out}`))));
  });
}

/**
 * Take the cluster away as a crash or a pulled cable does (`pg_ctl stop -m immediate`: every backend is
 * killed, no shutdown checkpoint), keeping its files; `restartCluster` starts it again on the same port.
 * Both without blocking the caller's event loop (its requests stay in flight meanwhile).
 */
export async function crashCluster(c: PgCluster): Promise<void> {
  const as = runAs();
  await runAsync(path.join(c.bin, 'pg_ctl'), ['-D', path.join(c.dir, 'data'), '-m', 'immediate', '-w', 'stop'], { ...(as ?? {}), cwd: c.dir });
}

export async function restartCluster(c: PgCluster): Promise<void> {
  const as = runAs();
  await runAsync(path.join(c.bin, 'pg_ctl'), ['-D', path.join(c.dir, 'data'), '-l', path.join(c.dir, 'server.log'), '-w', '-t', '60', '-o', serverOptions(c.dir, c.port), 'start'], {
    ...(as ?? {}),
    cwd: c.dir,
    env: { ...process.env, LC_ALL: 'C' },
  });
}
