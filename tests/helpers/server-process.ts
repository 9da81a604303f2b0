/**
 * A real server process, started as `npm start` starts it (node dist/server/main.mjs, the bundle
 * scripts/build-server.mjs makes; built once per test process from the current sources), on its own data folder
 * and port, and a client that talks to it over HTTP as the admin pages and the phones do. For the tests
 * that must kill a process (kill -9) and start it again on the same files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BallotPackage, Form } from '../../server/forms/form.schemas.ts';
import { castPayload, finishRedemption, newBlinding, type PhoneToken } from './phone.ts';
import { toB64u } from '../../server/credentials/encoding.ts';
import { TEST_PASSWORD } from './auth.ts';
import { buildServer, SERVER_BUNDLE, SERVER_NODE_FLAGS } from '../../scripts/build-server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface ServerProcess {
  proc: ChildProcess;
  base: string;
  /** The one-time setup code it printed (null once an admin exists). */
  setupCode: string | null;
  output: () => string;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: no shutdown at all, as a power cut or kill -9. */
  kill(): Promise<void>;
}

export interface StartOptions {
  /**
   * Send what the process prints to this file instead of a pipe to the caller, as `npm start > file`
   * would: a bench's own busy event loop then never holds up a server writing its log line per request.
   */
  logFile?: string;
  /** Flags for node itself, before the script and after SERVER_NODE_FLAGS, which they override (e.g. --cpu-prof, which NODE_OPTIONS refuses). */
  nodeArgs?: string[];
  /** Another bundle than npm start's (the bench's build without the token check). */
  bundle?: string;
  /** A command that runs node in its place, with node's command line after it (e.g. `prlimit --nofile=1024`, which execs it). */
  wrap?: string[];
}

let built: Promise<string> | undefined;
const BUILT = 'CEPING_TEST_SERVER_BUILT';

/** The server bundle as the current sources make it: built by the global setup, or once by this process. */
export function serverBundle(): Promise<string> {
  built ??= process.env[BUILT] === '1' ? Promise.resolve(SERVER_BUNDLE) : buildServer();
  return built;
}

/** For a global setup: build the bundle before any test file starts, and tell the test processes. */
export async function buildServerForTests(): Promise<void> {
  await buildServer();
  process.env[BUILT] = '1';
}

export async function startServer(dataDir: string, port: number, env: Record<string, string> = {}, opts: StartOptions = {}): Promise<ServerProcess> {
  const bundle = opts.bundle ?? (await serverBundle());
  const logFd = opts.logFile ? openSync(opts.logFile, 'a') : null;
  // One process (node itself, not npm), so a kill reaches the server itself and not a wrapper.
  const command = [...(opts.wrap ?? []), process.execPath, ...SERVER_NODE_FLAGS, ...(opts.nodeArgs ?? []), bundle];
  const proc = spawn(command[0]!, command.slice(1), {
    cwd: root,
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: `http://127.0.0.1:${port}`, SCRYPT_LOG_N: '12', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', logFd ?? 'pipe', logFd ?? 'pipe'],
  });
  if (logFd !== null) closeSync(logFd);
  let piped = '';
  proc.stdout?.on('data', (d: Buffer) => (piped += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (piped += d.toString()));
  const output = () => (opts.logFile ? readFileSync(opts.logFile, 'utf8') : piped);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const started = Date.now();
  while (!/民主测评系统已启动[\s\S]*(数据文件|数据库)/.test(output())) {
    if (proc.exitCode !== null) throw new Error(`server exited: ${output()}`);
    if (Date.now() - started > 60_000) throw new Error(`server did not start: ${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const setupCode = /首次设置码[^:]*:\s*([0-9A-Z]{10})/.exec(output())?.[1] ?? null;
  return {
    proc,
    base: `http://127.0.0.1:${port}`,
    setupCode,
    output,
    async stop() {
      proc.kill('SIGTERM');
      await exited;
    },
    async kill() {
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** How a client reaches the server: `fetch` itself, or one with its own TLS trust and name lookup (tests/pg/nginx.test.ts). */
export type Fetch = typeof fetch;

/** An admin of a server process, over HTTP with the session cookie and CSRF token. */
export class HttpAdmin {
  cookie = '';
  csrf = '';
  /** `origin`: what the admin page's browser sends (the base, unless a proxy on another port stands for the default one). */
  constructor(
    readonly base: string,
    readonly via: { fetch?: Fetch; origin?: string } = {},
  ) {}

  get fetch(): Fetch {
    return this.via.fetch ?? fetch;
  }

  get origin(): string {
    return this.via.origin ?? this.base;
  }

  /** The Set-Cookie of the last sign-in, as sent (its flags: HttpOnly, Secure…). */
  setCookie = '';

  async setup(code: string, username = 'admin'): Promise<void> {
    await this.#session('/api/auth/setup', { code, username, displayName: '镇党委办公室', password: TEST_PASSWORD });
  }

  async login(username = 'admin'): Promise<void> {
    await this.#session('/api/auth/login', { username, password: TEST_PASSWORD });
  }

  async #session(url: string, body: object): Promise<void> {
    const res = await this.fetch(this.base + url, { method: 'POST', headers: { 'content-type': 'application/json', origin: this.origin }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${url} → ${res.status} ${await res.text()}`);
    this.setCookie = res.headers.get('set-cookie') ?? '';
    this.cookie = /ceping_session=[^;]+/.exec(this.setCookie)![0];
    this.csrf = ((await res.json()) as { csrfToken: string }).csrfToken;
  }

  async request(method: string, url: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const res = await this.fetch(this.base + url, {
      method,
      headers: { cookie: this.cookie, 'x-csrf-token': this.csrf, origin: this.origin, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null };
  }

  async call<T>(method: string, url: string, body?: unknown): Promise<T> {
    const r = await this.request(method, url, body);
    if (r.status >= 300) throw new Error(`${method} ${url} → ${r.status} ${JSON.stringify(r.json)}`);
    return r.json as T;
  }
}

/** A phone against a server process: redeem a ticket, cast a package. */
export async function redeemOver(base: string, ticket: string, f: Fetch = fetch): Promise<PhoneToken> {
  const b = newBlinding();
  const res = await f(`${base}/api/voter/redeem`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ticket, blinded: toB64u(b.blinded) }) });
  if (!res.ok) throw new Error(`redeem → ${res.status} ${await res.text()}`);
  return finishRedemption(b, (await res.json()) as Record<string, unknown>);
}

export async function castOver(base: string, token: PhoneToken, pkg: BallotPackage, f: Fetch = fetch): Promise<{ status: number; body: unknown }> {
  const res = await f(`${base}/api/voter/cast`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(castPayload(token, pkg)) });
  // A proxy's own error page (502 when the process it chose died mid-request) is HTML: kept as text.
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: res.status, body: text };
  }
}

export interface HttpMeeting {
  meetingId: number;
  form: Form;
  tokens: PhoneToken[];
}

/**
 * A station meeting on a server process, made as the township makes one: a unit with a two-person team,
 * `roster` people signed in with QR tickets redeemed by their phones, voting open.
 */
export async function votingMeetingOver(admin: HttpAdmin, roster: number, year = 2020): Promise<HttpMeeting> {
  const campaign = await admin.call<{ id: number }>('POST', '/api/campaigns', { year, township: '插旗镇' });
  const unit = await admin.call<{ id: number }>('POST', `/api/campaigns/${campaign.id}/units`, { name: '农技站', kind: 'station', reserveCandidates: ['候选人1'] });
  await admin.call('PUT', `/api/units/${unit.id}/team`, { members: [{ name: '站长', position: '站长', isSecretary: true }, { name: '副站长', position: '副站长', isSecretary: false }] });
  const meeting = await admin.call<{ id: number }>('POST', `/api/units/${unit.id}/meetings`, {});
  for (let i = 0; i < roster; i++) await admin.call('POST', `/api/meetings/${meeting.id}/roster`, { name: `职工${i}`, category: '职工' });
  await admin.call('POST', `/api/meetings/${meeting.id}/start-signin`);
  const { entries } = await admin.call<{ entries: { id: number }[] }>('GET', `/api/meetings/${meeting.id}/roster`);
  const tokens: PhoneToken[] = [];
  for (const e of entries) {
    const r = await admin.call<{ ticket: { secret: string } }>('POST', `/api/meetings/${meeting.id}/roster/${e.id}/sign-in`, { handout: 'qr' });
    tokens.push(await redeemOver(admin.base, r.ticket.secret, admin.fetch));
  }
  await admin.call('POST', `/api/meetings/${meeting.id}/open-voting`, {});
  const { form } = await admin.call<{ form: Form }>('GET', `/api/meetings/${meeting.id}/form`);
  return { meetingId: meeting.id, form, tokens };
}

/**
 * Two server processes started at the same moment on one data folder and one database (`env` holds its
 * DATABASE_URL), an admin signed in on each, and a meeting of `people` in voting made through the first.
 */
export async function twoProcessesVoting(dir: string, env: Record<string, string>, people: number) {
  const [a, b] = await Promise.all([startServer(dir, await freePort(), env), startServer(dir, await freePort(), env)]);
  const adminA = new HttpAdmin(a.base);
  await adminA.setup(a.setupCode!);
  const adminB = new HttpAdmin(b.base);
  await adminB.login();
  const meeting = await votingMeetingOver(adminA, people);
  return { a, b, adminA, adminB, meeting };
}
