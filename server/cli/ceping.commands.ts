import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { verifyArchiveText, type MeetingVerification, type Verification } from '../archive/archive.verify.ts';
import type { Check } from '../archive/archive.schemas.ts';
import { backupDataDir, BackupError, defaultBackupDir, PEPPER_FILE, restoreDataDir, runningServerPid, type DatabaseCounts } from '../archive/backup.ts';
import { SIGNING_KEY_FILE } from '../archive/signing.ts';
import { exportStore, importStore, TransferError, type TableDigest } from '../archive/transfer.ts';
import { checkPostgresSettings, openStore, type Store } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { makePrivateDataDir } from '../shared/files.ts';
import { canonicalPool, drawNames, normalizeSeed, poolDigest, seedProblem } from '../inspection/draw.ts';
import { parseDrawFile } from '../inspection/draw-file.ts';

/**
 * `ceping` commands. Exit codes: 0 all good; 1 a check failed or the operation was refused;
 * 2 the command line or a file could not be read; 3 verify found the file consistent but was not
 * told which key to expect (no --fingerprint), which is not a pass: anyone can re-sign a changed file.
 */

export interface CliIo {
  env: Record<string, string | undefined>;
  out: (text: string) => void;
  err: (text: string) => void;
  now: () => Date;
}

export const USAGE = `用法 / usage:
  ceping verify FILE --fingerprint "XXXX XXXX XXXX XXXX"
      校验会议档案或年度档案：签名、SHA-256、逐张重新计票、每个百分比、收回 = 选票数、收回 ≤ 发出 ≤ 实到。
      Verify a meeting or whole-year archive: signature, hash, a recount of every ballot, every percentage, turnout rules.
      --fingerprint     报告上印的公钥指纹；由其他密钥签名的档案判为不通过。不给指纹时结论为「未核对公钥指纹」，退出码 3。
                        The key fingerprint printed on the reports; a file signed by any other key fails.
                        Without it the result is "not verified" (exit code 3): anyone can re-sign a changed file.
      --no-fingerprint  明确不核对指纹（例如只想看票数）；结论会注明未核对。
                        Skip the fingerprint on purpose; the result says so.
  ceping backup [--data DIR] [--out DIR]
      在服务器运行时在线备份：生成一个目录，内含 ceping.db、secret.key、signing.key、backup.json。
      Online backup while the server runs: a folder with ceping.db, secret.key, signing.key, backup.json.
  ceping restore BACKUP [--data DIR] [--force]
      从备份目录（或单独的 .db 文件）恢复。服务器须先停止；覆盖已有数据须加 --force，原文件移到 before-restore-* 目录保留。
      Restore a backup folder (or a lone .db). Stop the server first; replacing data needs --force, old files are moved aside.
  ceping migrate [--data DIR]
      把数据库升级到当前版本（设置了 DATABASE_URL 时为 PostgreSQL 数据库，否则为 DIR/ceping.db）。
      Bring the database up to this version (PostgreSQL when DATABASE_URL is set, else DIR/ceping.db).
  ceping export --out DIR2 [--data DIR]
      在两次测评之间导出全部数据（所有年度、档案、考察材料）和两个密钥文件，用于在 SQLite 与 PostgreSQL 之间迁移。
      Export every row (all years, archives, 考察) and the two key files, between meetings, to move to or from PostgreSQL.
  ceping import DIR2 [--data DIR] [--force]
      把 export 导出的目录导入一个新的空数据库（DATABASE_URL 或 DIR/ceping.db），核对每张表，再放入密钥文件。
      Load an export into a new, empty database (DATABASE_URL or DIR/ceping.db), check every table, then put the keys in place.
  ceping draw FILE [--seed SEED] [--meeting MEETING] [--count N]
      离线重新计算个别谈话抽签：与服务器用同一算法，由抽签种子、会议标识和候选名单得出同样的名单。
      FILE 为谈话名单页下载的候选名单（文件头已写明种子、会议标识和人数），或按签到表每行录入一个姓名的文本文件。
      Recompute a talk draw offline: the same seed, meeting identity and candidates give the same names as
      the server. FILE is the candidates file from the talk list (its header holds seed, meeting and count),
      or any text file with one name a line; options override the header.

  DIR 默认为 DATA_DIR 环境变量或 ./data / defaults to $DATA_DIR or ./data
  DATABASE_URL=postgres://… 时，数据库为 PostgreSQL（密钥文件仍在 DIR） / with DATABASE_URL the database is PostgreSQL (keys stay in DIR)
`;

const KIND_LABEL: Record<string, string> = { village: '村', community: '社区', station: '部门站所' };

function mark(c: Check): string {
  if (c.ok) return '  ✓ 通过 PASS ';
  return c.warning ? '  ! 注意 NOTE ' : '  ✗ 失败 FAIL ';
}

function checkLines(checks: Check[]): string[] {
  return checks.map((c) => `${mark(c)} ${c.zh}\n${' '.repeat(15)}${c.en}`);
}

function meetingHeader(v: MeetingVerification): string[] {
  if (!v.summary) return ['  （无法读取会议信息 / meeting details unreadable）'];
  const s = v.summary;
  const t = s.turnout;
  return [
    `  ${s.township} ${s.year}年 ${s.unitName}（${KIND_LABEL[s.unitKind] ?? s.unitKind}） 封存 sealed ${s.sealedAt}`,
    `  应到 expected ${t.expected} · 实到 present ${t.present} · 发出 issued ${t.issued} · 收回 returned ${t.returned}（纸质 paper ${t.paper}） · 档案内选票 ballots in file ${s.ballots}`,
  ];
}

/** How the signing key was checked: against a given fingerprint, skipped on purpose, or not at all (not a pass). */
export type KeyCheck = 'fingerprint' | 'skipped' | 'unchecked';

export const UNCHECKED_KEY = '未核对公钥指纹';

export function formatVerification(file: string, v: Verification, key: KeyCheck = 'fingerprint'): string {
  const lines = ['Ceping 测评档案校验 / archive verification', `文件 file: ${file}`];
  const failed = (checks: Check[]) => checks.filter((c) => !c.ok && !c.warning).length;
  let failures: number;
  if (v.kind === 'meeting') {
    lines.push('类型 kind: 会议档案 / meeting archive', ...meetingHeader(v));
    if (v.fingerprint) lines.push(`  签名公钥指纹 key fingerprint: ${v.fingerprint}（请与报告上印的指纹核对 / compare with the one printed on the reports）`);
    lines.push(...checkLines(v.checks));
    failures = failed(v.checks);
  } else {
    lines.push('类型 kind: 年度档案 / whole-year archive');
    if (v.summary) lines.push(`  ${v.summary.township} ${v.summary.year}年「${v.summary.campaign}」 导出 exported ${v.summary.exportedAt} · ${v.summary.meetings} 个会议 meetings`);
    if (v.fingerprint) lines.push(`  签名公钥指纹 key fingerprint: ${v.fingerprint}（请与报告上印的指纹核对 / compare with the one printed on the reports）`);
    lines.push(...checkLines(v.checks));
    failures = failed(v.checks);
    for (const m of v.meetings) {
      lines.push('', ...meetingHeader(m));
      const bad = m.checks.filter((c) => !c.ok);
      if (bad.length === 0) lines.push(`  ✓ 通过 PASS  全部 ${m.checks.length} 项通过 / all ${m.checks.length} checks passed`);
      else lines.push(...checkLines(bad));
      failures += failed(m.checks);
    }
  }
  lines.push('');
  if (!v.ok) {
    lines.push(`结论 result: 校验失败，${failures} 项不通过 / VERIFICATION FAILED: ${failures} check(s) failed`);
  } else if (key === 'fingerprint') {
    lines.push('结论 result: 全部通过 / ALL CHECKS PASSED');
  } else if (key === 'skipped') {
    lines.push(`结论 result: 全部通过，按要求${UNCHECKED_KEY} / ALL CHECKS PASSED, key fingerprint not checked (--no-fingerprint)`);
  } else {
    lines.push(
      '文件内容自洽，但没有与报告上印的公钥指纹核对：任何人都能改动档案后用自己的密钥重新签名。',
      `请加上 --fingerprint "报告上印的指纹" 再运行${v.fingerprint ? `（本文件的签名公钥指纹是 ${v.fingerprint}）` : ''}；确实无法核对时加 --no-fingerprint。`,
      'The file is consistent, but its signing key was not compared with the fingerprint printed on the reports: pass --fingerprint (or --no-fingerprint to skip on purpose).',
      `结论 result: NOT VERIFIED / ${UNCHECKED_KEY}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function countsText(c: DatabaseCounts): string {
  return `年度 campaigns ${c.campaigns} · 会议 meetings ${c.meetings}（已封存 sealed ${c.sealed}） · 选票 ballots ${c.ballots} · 档案 archives ${c.archives} · 日志 audit entries ${c.auditEntries}`;
}

/** A file named on the command line, or null after saying why it could not be read. */
function readText(file: string, io: CliIo): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    io.err(`无法读取文件 / cannot read ${file}: ${(e as Error).message}\n`);
    return null;
  }
}

async function verify(args: string[], io: CliIo): Promise<number> {
  const { positionals, values } = parseArgs({
    args, allowPositionals: true, options: { fingerprint: { type: 'string' }, 'no-fingerprint': { type: 'boolean', default: false } },
  });
  const file = positionals[0];
  if (!file || positionals.length > 1 || (values.fingerprint !== undefined && values['no-fingerprint'])) {
    io.err(USAGE);
    return 2;
  }
  const text = readText(file, io);
  if (text === null) return 2;
  const v = verifyArchiveText(text, { expectedFingerprint: values.fingerprint });
  const key: KeyCheck = values.fingerprint !== undefined ? 'fingerprint' : values['no-fingerprint'] ? 'skipped' : 'unchecked';
  io.out(formatVerification(file, v, key));
  if (!v.ok) return 1;
  return key === 'unchecked' ? 3 : 0;
}

function dataDirOf(values: { data?: string | undefined }, io: CliIo): string {
  return path.resolve(values.data ?? loadConfig(io.env).DATA_DIR);
}

/** backup and restore copy the SQLite file; a PostgreSQL database is backed up by PostgreSQL's own tools. */
function refuseOnPostgres(io: CliIo, command: string): boolean {
  if (!loadConfig(io.env).DATABASE_URL) return false;
  io.err(
    `设置了 DATABASE_URL：PostgreSQL 数据库请用 pg_dump 备份、pg_restore 恢复（见 README「Running on PostgreSQL」），或用 ceping export / import。\n` +
      `DATABASE_URL is set: back up PostgreSQL with pg_dump and restore with pg_restore (README, "Running on PostgreSQL"), or use ceping export / import; ceping ${command} copies the SQLite file only.\n`,
  );
  return true;
}

async function backup(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { data: { type: 'string' }, out: { type: 'string' } } });
  if (positionals.length > 0) {
    io.err(USAGE);
    return 2;
  }
  if (refuseOnPostgres(io, 'backup')) return 1;
  const now = io.now();
  const r = await backupDataDir({ dataDir: dataDirOf(values, io), outDir: path.resolve(values.out ?? defaultBackupDir(now)), now });
  io.out([
    `备份完成 / backup written: ${r.dir}`,
    ...Object.entries(r.files).map(([f, sum]) => `  ${f}  sha256 ${sum}`),
    `  ${countsText(r.counts)}`,
    ...r.missingKeys.map((k) => `  注意 NOTE: 数据目录中没有 ${k}，备份中也没有 / ${k} is not in the data folder, so not in the backup`),
    '  此目录含选票数据和密钥，请妥善保管 / this folder holds the ballots and the keys: keep it safe',
    `  恢复 restore: npx ceping restore ${r.dir} --data DIR`,
    '',
  ].join('\n'));
  return 0;
}

async function restore(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { data: { type: 'string' }, force: { type: 'boolean', default: false } } });
  const from = positionals[0];
  if (!from || positionals.length > 1) {
    io.err(USAGE);
    return 2;
  }
  if (refuseOnPostgres(io, 'restore')) return 1;
  const r = restoreDataDir({ from: path.resolve(from), dataDir: dataDirOf(values, io), force: values.force, now: io.now() });
  io.out([
    `恢复完成 / restored into ${r.dataDir}: ${r.restored.join(', ')}`,
    ...(r.keptKeys.length ? [`  保留数据目录原有的 / kept the data folder's own: ${r.keptKeys.join(', ')}`] : []),
    ...(r.movedAsideTo ? [`  原有文件已移到 / previous files moved to: ${r.movedAsideTo}`] : []),
    `  ${countsText(r.counts)}`,
    '  现在可以启动服务器 / the server can be started now',
    '',
  ].join('\n'));
  return 0;
}

/** The store the configuration names (DATABASE_URL, else DIR/ceping.db), checked when it is PostgreSQL. */
async function openConfiguredStore(dataDir: string, io: CliIo): Promise<Store> {
  const config = loadConfig(io.env);
  makePrivateDataDir(dataDir);
  const store = openStore({ databaseUrl: config.DATABASE_URL, file: path.join(dataDir, 'ceping.db'), poolSize: 2 });
  if (store.dialect === 'postgres') {
    const problems = await checkPostgresSettings(store.db);
    if (problems.length > 0) {
      await store.db.destroy();
      throw new TransferError(`PostgreSQL 的设置不符合要求 / PostgreSQL settings refused:\n  ${problems.join('\n  ')}`);
    }
  }
  return store;
}

function storeLabel(store: Store, dataDir: string): string {
  return store.dialect === 'postgres' ? store.label : path.join(dataDir, 'ceping.db');
}

/** Open the configured store, bring it to the latest schema, run `fn` on it, and close it whatever happens. */
async function withMigratedStore<T>(dataDir: string, io: CliIo, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openConfiguredStore(dataDir, io);
  try {
    await migrateToLatest(store.db);
    return await fn(store);
  } finally {
    await store.db.destroy();
  }
}

async function migrate(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { data: { type: 'string' } } });
  if (positionals.length > 0) {
    io.err(USAGE);
    return 2;
  }
  const dataDir = dataDirOf(values, io);
  const label = await withMigratedStore(dataDir, io, async (store) => storeLabel(store, dataDir));
  io.out(`数据库已是当前版本 / migrated: ${label}\n`);
  return 0;
}

const KEY_FILES = [PEPPER_FILE, SIGNING_KEY_FILE] as const;

function tablesText(tables: Record<string, TableDigest>): string {
  const n = (t: string) => tables[t]?.rows ?? 0;
  return `年度 campaigns ${n('campaigns')} · 会议 meetings ${n('meetings')} · 选票 ballots ${n('ballots')} · 档案 archives ${n('archives')} · 日志 audit entries ${n('audit_log')} · 共 ${Object.keys(tables).length} 张表 tables`;
}

async function exportCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { data: { type: 'string' }, out: { type: 'string' } } });
  if (positionals.length > 0 || !values.out) {
    io.err(USAGE);
    return 2;
  }
  const dataDir = dataDirOf(values, io);
  const outDir = path.resolve(values.out);
  await withMigratedStore(dataDir, io, async (store) => {
    const r = await exportStore({ db: store.db, dataDir, outDir, now: io.now(), keyFiles: KEY_FILES });
    io.out([
      `导出完成 / exported from ${storeLabel(store, dataDir)} into ${r.dir}`,
      ...Object.entries(r.files).map(([f, sum]) => `  ${f}  sha256 ${sum}`),
      `  ${tablesText(r.tables)}`,
      ...r.missingKeys.map((k) => `  注意 NOTE: 数据目录中没有 ${k} / ${k} is not in the data folder, so not in the export`),
      '  此目录含选票数据和密钥，请妥善保管 / this folder holds the ballots and the keys: keep it safe',
      `  导入 import: npx ceping import ${r.dir}`,
      '',
    ].join('\n'));
  });
  return 0;
}

async function importCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { data: { type: 'string' }, force: { type: 'boolean', default: false } } });
  const from = positionals[0];
  if (!from || positionals.length > 1) {
    io.err(USAGE);
    return 2;
  }
  const dataDir = dataDirOf(values, io);
  const config = loadConfig(io.env);
  if (!config.DATABASE_URL) {
    const pid = runningServerPid(dataDir);
    if (pid !== null) throw new TransferError(`服务器正在运行（进程 ${pid}），请先停止 / a server is running on ${dataDir} (pid ${pid}); stop it first`);
  }
  await withMigratedStore(dataDir, io, async (store) => {
    const r = await importStore({ db: store.db, from: path.resolve(from), dataDir, force: values.force, now: io.now(), keyFiles: KEY_FILES });
    io.out([
      `导入完成 / imported into ${storeLabel(store, dataDir)}`,
      `  ${tablesText(r.tables)}（每张表与导出时一致 / every table matches the export）`,
      ...(r.keys.length ? [`  密钥文件 keys: ${r.keys.join(', ')} → ${dataDir}`] : []),
      ...(r.movedAsideTo ? [`  原有密钥文件已移到 / previous keys moved to: ${r.movedAsideTo}`] : []),
      '  现在可以启动服务器 / the server can be started now',
      '',
    ].join('\n'));
  });
  return 0;
}

async function draw(args: string[], io: CliIo): Promise<number> {
  const { positionals, values } = parseArgs({
    args, allowPositionals: true,
    options: { seed: { type: 'string' }, meeting: { type: 'string' }, count: { type: 'string' } },
  });
  const file = positionals[0];
  if (!file || positionals.length > 1) {
    io.err(USAGE);
    return 2;
  }
  const text = readText(file, io);
  if (text === null) return 2;
  const parsed = parseDrawFile(text);
  const seed = values.seed ?? parsed.seed;
  const identity = values.meeting ?? parsed.identity;
  const count = values.count !== undefined ? Number(values.count) : parsed.count;
  const missing = [seed === null ? '--seed' : null, identity === null ? '--meeting' : null, count === null ? '--count' : null].filter(Boolean);
  if (missing.length > 0) {
    io.err(`缺少参数 / missing: ${missing.join(' ')}（文件头中也没有 / not in the file's header either）\n\n${USAGE}`);
    return 2;
  }
  const problem = seedProblem(seed!);
  if (problem || !Number.isInteger(count) || count! < 0) {
    io.err(`${problem ?? '抽取人数须为非负整数 / count must be a whole number'}\n`);
    return 2;
  }
  const pool = canonicalPool(parsed.names);
  const digest = poolDigest(pool);
  const names = drawNames({ seed: seed!, identity: identity!, pool, count: count! });
  const digestOk = parsed.poolDigest === null || parsed.poolDigest === digest;
  io.out([
    'Ceping 个别谈话抽签复核 / talk draw re-check',
    `文件 file: ${file}`,
    `会议 meeting: ${identity}`,
    `种子 seed: ${normalizeSeed(seed!)}`,
    `候选人数 candidates: ${pool.length} · 名单校验码 pool check: ${digest}` +
      (parsed.poolDigest === null ? '' : digestOk ? '（与文件头一致 / matches the header）' : `（✗ 与文件头 ${parsed.poolDigest} 不一致 / differs from the header）`),
    `抽取人数 count: ${names.length}${names.length < count! ? `（候选人只有 ${pool.length} 人 / only ${pool.length} candidates）` : ''}`,
    ...names.map((n, i) => `${String(i + 1).padStart(4)}. ${n}`),
    '',
  ].join('\n'));
  return digestOk ? 0 : 1;
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'verify':
        return await verify(rest, io);
      case 'backup':
        return await backup(rest, io);
      case 'restore':
        return await restore(rest, io);
      case 'draw':
        return await draw(rest, io);
      case 'migrate':
        return await migrate(rest, io);
      case 'export':
        return await exportCommand(rest, io);
      case 'import':
        return await importCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        io.err(`未知命令 / unknown command: ${command}\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof BackupError || e instanceof TransferError) {
      io.err(`${e.message}\n`);
      return 1;
    }
    if (e instanceof TypeError && (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
}
