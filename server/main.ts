// First: V8's tiering is tuned before anything else of the server runs (tiering.ts).
import './tiering.ts';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './paths.ts';
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';
import { checkPostgresSettings, openStore } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';
import { checkKeysAgainstDatabase } from './db/key-check.ts';
import { makePrivateDataDir, writeFileOnce } from './shared/files.ts';
import { lanAddresses, LOW_OPEN_FILES, openFilesLimit, publicBaseUrl } from './net.ts';
import { CODE_ALPHABET } from './credentials/secrets.ts';
import { seedDemo } from './demo/demo.ts';
import { loadOrCreateSigningKey, publicKeyInfo } from './archive/signing.ts';
import { removePidFile, writePidFile } from './archive/backup.ts';

const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The keyed-hash secret lives beside the database, not in it: a copy of the .db file alone cannot test guessed codes. */
function loadOrCreatePepper(dataDir: string): Buffer {
  const file = path.join(dataDir, 'secret.key');
  if (!existsSync(file)) writeFileOnce(file, randomBytes(32).toString('base64'));
  chmodSync(file, 0o600);
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
}

function newSetupCode(): string {
  return [...randomBytes(10)].map((b) => CODE_ALPHABET[b % CODE_ALPHABET.length]).join('');
}

async function main(): Promise<void> {
  const demo = process.argv.includes('--demo');
  const config = loadConfig(process.env, { demo });
  makePrivateDataDir(config.DATA_DIR);
  const file = path.join(config.DATA_DIR, 'ceping.db');
  const store = openStore({ databaseUrl: config.DATABASE_URL, file, poolSize: config.DATABASE_POOL_SIZE, thread: config.SQLITE_THREAD });
  const db = store.db;
  if (store.dialect === 'postgres') {
    const problems = await checkPostgresSettings(db);
    if (problems.length > 0) {
      await db.destroy();
      throw new Error(`PostgreSQL 的设置不符合要求 / PostgreSQL settings refused:\n  ${problems.join('\n  ')}`);
    }
  }
  // Several processes on one PostgreSQL database may start at once: the migrator takes a lock in the database.
  await migrateToLatest(db);
  const pepper = loadOrCreatePepper(config.DATA_DIR);
  const signingKey = loadOrCreateSigningKey(config.DATA_DIR);
  if (store.dialect === 'postgres') {
    const wrongKeys = await checkKeysAgainstDatabase(db, pepper, signingKey);
    if (wrongKeys) {
      await db.destroy();
      throw new Error(wrongKeys);
    }
  }

  const hasAdmin = (await db.selectFrom('admins').select('id').limit(1).execute()).length > 0;
  const setupCode = hasAdmin ? null : newSetupCode();
  const app = await buildApp({ config, store, pepper, signingKey, setupCode, version });

  let demoLogin: string | null = null;
  if (demo) {
    let actorId: number | null = null;
    if (setupCode) {
      const admin = await app.services.auth.setupFirstAdmin(setupCode, { username: 'admin', displayName: '演示管理员', password: 'ceping-demo' });
      actorId = admin.admin.id;
      demoLogin = '演示账号 admin / 密码 ceping-demo（仅供演示）';
    }
    await seedDemo(app.services, actorId);
  }

  const close = async (signal: string) => {
    app.log.info({ signal }, 'shutting down');
    await app.close();
    await db.destroy();
    if (store.dialect === 'sqlite') removePidFile(config.DATA_DIR);
    process.exit(0);
  };
  process.once('SIGINT', () => void close('SIGINT'));
  process.once('SIGTERM', () => void close('SIGTERM'));

  try {
    await app.listen({ host: config.HOST, port: config.PORT });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      await app.close();
      await db.destroy();
      process.stderr.write(
        `端口 ${config.PORT} 已被占用：可能已有一个 Ceping 在运行（npm start 或 npm run demo）。\n` +
          '请先在运行它的终端窗口按 Ctrl+C 停止，再启动这一个；或用 PORT=8081 换一个端口。\n' +
          `Port ${config.PORT} is in use (another Ceping?): stop it with Ctrl+C in its terminal, or set PORT.\n`,
      );
      process.exit(1);
    }
    throw e;
  }
  // `ceping restore` looks for this file and refuses while the server runs (SQLite: the database is a file here).
  if (store.dialect === 'sqlite') writePidFile(config.DATA_DIR);
  const base = publicBaseUrl(config.PUBLIC_URL, config.PORT);
  const lines = [
    '',
    `Ceping ${version} 民主测评系统已启动`,
    `  管理页面 (admin):      http://127.0.0.1:${config.PORT}/admin/`,
    ...lanAddresses().map((a) => `  局域网地址 (LAN):     http://${a}:${config.PORT}/`),
    `  二维码中的地址 (QR):   ${base}/v/`,
    store.dialect === 'sqlite' ? `  数据文件 (data):       ${path.resolve(file)}` : `  数据库 (database):     ${store.label}（密钥文件在 keys in ${path.resolve(config.DATA_DIR)}）`,
    `  档案签名公钥指纹 (archive key): ${publicKeyInfo(signingKey).fingerprint}`,
  ];
  if (setupCode && !demoLogin) lines.push(`  首次设置码 (one-time setup code for the first admin): ${setupCode}`);
  if (demoLogin) lines.push(`  ${demoLogin}`);
  if (demo) lines.push(`  演示模式 (demo): 数据在 ${path.resolve(config.DATA_DIR)}，与正式数据分开；按 Ctrl+C 停止`);
  const files = openFilesLimit();
  if (files !== null && files < LOW_OPEN_FILES) {
    lines.push(`  注意 (note): 本进程最多同时打开 ${files} 个文件和连接（ulimit -n）；会场手机多时请调高，例如 systemd 的 LimitNOFILE=65536 / raise the open-files limit`);
  }
  lines.push('');
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((e) => {
  process.stderr.write(`Ceping failed to start: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
