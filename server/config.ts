import { z } from 'zod';

const ConfigSchema = z.object({
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Base URL put into QR codes; when unset, the first LAN address is used. */
  PUBLIC_URL: z.url().optional(),
  /** Default ./data; the demo's own ./data-demo (see loadConfig), so demo data never mixes with real data. */
  DATA_DIR: z.string().optional(),
  /** scrypt cost exponent for admin passwords: N = 2^SCRYPT_LOG_N (r = 8, p = 2: password.ts). Tests lower it for speed. */
  SCRYPT_LOG_N: z.coerce.number().int().min(10).max(20).default(16),
  SESSION_HOURS: z.coerce.number().int().min(1).max(24 * 14).default(12),
  /** Default k of the live tally's k-anonymity rule for new meetings. */
  LIVE_K: z.coerce.number().int().min(3).max(50).default(5),
  /** How often an open live websocket checks that its session and meeting access still stand. */
  LIVE_RECHECK_SECONDS: z.coerce.number().min(0.1).max(300).default(15),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'silent']).default('info'),
  /**
   * postgres://user:password@host:port/database — keep the data in PostgreSQL instead of the SQLite file
   * under DATA_DIR (which still holds the two key files). Several server processes may share one database.
   */
  DATABASE_URL: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://').optional(),
  ),
  /**
   * Behind a reverse proxy: the proxies' addresses (comma-separated addresses or CIDRs, or `loopback` for a
   * proxy on the same machine). Requests from them are taken at their X-Forwarded-For / -Proto / -Host, so
   * the short-code brake sees each phone's own address (not the proxy's, which would brake every phone
   * together) and cookies are marked Secure over HTTPS. Unset: no proxy is trusted.
   */
  TRUST_PROXY: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' ? v.split(',').map((x) => x.trim()).filter(Boolean) : undefined),
    z.array(z.string().regex(/^(loopback|linklocal|uniquelocal|[0-9a-fA-F.:]+(\/\d{1,3})?)$/, 'an address, a CIDR, or loopback')).optional(),
  ),
  /** Connections each server process keeps to PostgreSQL. */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(100).default(10),
  /**
   * 1 (the default): the SQLite connection lives on a thread of its own, so the event loop never waits
   * for a commit's fsyncs; 0: on the main thread (for comparing the two in bench/burst.ts).
   */
  SQLITE_THREAD: z.enum(['0', '1']).default('1').transform((v) => v === '1'),
  /** Worker threads for the credentials' curve work (redemption, the token check); 0 runs it on the main thread. Default: cores − 1, at least 1. */
  VOPRF_WORKERS: z.coerce.number().int().min(0).max(64).optional(),
});

export type Config = Readonly<z.infer<typeof ConfigSchema> & { DATA_DIR: string }>;

export const DATA_DIR_DEFAULT = './data';
/** `npm run demo` keeps its invented year apart: following the quick start literally cannot mix it into ./data. */
export const DEMO_DATA_DIR_DEFAULT = './data-demo';

/** Parse configuration once; nothing else in the server reads process.env. */
export function loadConfig(env: Record<string, string | undefined> = process.env, opts: { demo?: boolean } = {}): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const DATA_DIR = parsed.data.DATA_DIR ?? (opts.demo ? DEMO_DATA_DIR_DEFAULT : DATA_DIR_DEFAULT);
  return Object.freeze({ ...parsed.data, DATA_DIR });
}
