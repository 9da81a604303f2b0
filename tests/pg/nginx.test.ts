/**
 * The README's nginx example ("Running on PostgreSQL", two processes behind nginx, HTTPS at the proxy),
 * run as written: the block between its markers in README.md, with only its ports and file paths changed,
 * in front of two real server processes on one PostgreSQL database. Through nginx: HTTPS with a Secure
 * session cookie, the plain-HTTP port's redirect, phones redeeming and casting, the live websocket's
 * upgrade (and its Origin check against the Host nginx forwards), no phone request in the proxy's access
 * log, and a process killed mid-meeting while phones keep casting through the other.
 *
 * nginx runs in the foreground from a temporary prefix (its own pid, logs and temp folders), as `nobody`
 * when the tests run as root. Without nginx (Debian: apt-get install nginx) or openssl the test says it
 * is SKIPPED; in CI (CI or CEPING_REQUIRE_TOOLS set, as .ci/run does) that is a failure instead.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { castOver, freePort, HttpAdmin, startServer, votingMeetingOver, type Fetch, type HttpMeeting, type ServerProcess } from '../helpers/server-process.ts';
import { fullPackage } from '../helpers/packages.ts';
import { freshDatabaseUrl, pgInfo } from '../helpers/pg.ts';
import type { LiveMessage } from '../helpers/live.ts';

const root = path.resolve(import.meta.dirname, '../..');
/** The name the README's block serves; the test resolves it to 127.0.0.1. */
const HOSTNAME = 'ceping.example.gov.cn';
const PEOPLE = 24;

function which(name: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}

const nginxBin = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : which('nginx');
const opensslBin = which('openssl');
const pg = await pgInfo();
const missing = [!nginxBin && 'nginx (Debian: apt-get install nginx)', !opensslBin && 'openssl (Debian: apt-get install openssl)'].filter((x): x is string => !!x);
const required = !!(process.env.CI || process.env.CEPING_REQUIRE_TOOLS);
if (missing.length > 0 && !required) {
  process.stderr.write(`\n[nginx] ${missing.join(', ')} not found: the test of the README's nginx example is SKIPPED.\n\n`);
}

/** The nginx block of README.md, between `<!-- nginx-example… -->` and `<!-- /nginx-example -->`. */
export function readmeNginxBlock(readme = readFileSync(path.join(root, 'README.md'), 'utf8')): string {
  const m = /<!-- nginx-example\b[^>]*-->\s*```nginx\n([\s\S]*?)```\s*<!-- \/nginx-example -->/.exec(readme);
  if (!m) throw new Error('README.md: no ```nginx block between <!-- nginx-example --> and <!-- /nginx-example -->');
  return m[1]!;
}

interface Ports {
  upstreams: [number, number];
  https: number;
  http: number;
}

/** The README's block with only its ports and file paths changed; each change must find exactly its text. */
export function adaptBlock(block: string, ports: Ports, certDir: string): string {
  const changes: [string, string][] = [
    ['server 127.0.0.1:8081 ', `server 127.0.0.1:${ports.upstreams[0]} `],
    ['server 127.0.0.1:8082 ', `server 127.0.0.1:${ports.upstreams[1]} `],
    ['listen 443 ssl;', `listen 127.0.0.1:${ports.https} ssl;`],
    ['listen 80;', `listen 127.0.0.1:${ports.http};`],
    ['/etc/ssl/ceping/fullchain.pem', path.join(certDir, 'fullchain.pem')],
    ['/etc/ssl/ceping/privkey.pem', path.join(certDir, 'privkey.pem')],
  ];
  let out = block;
  for (const [from, to] of changes) {
    const n = out.split(from).length - 1;
    if (n !== 1) throw new Error(`README's nginx block: expected "${from}" once, found it ${n} times (update tests/pg/nginx.test.ts with the README)`);
    out = out.replace(from, to);
  }
  return out;
}

/**
 * The main file around the README's block: what a distribution's nginx.conf provides (events, the http
 * context), with the pid, logs and temp folders in the test's prefix. The access log names the process
 * that answered ($upstream_addr), so the test can see round robin and the failover.
 */
function mainConfig(dir: string): string {
  const tmp = (n: string) => path.join(dir, 'tmp', n);
  return `daemon off;
worker_processes 1;
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'error.log')} warn;
events { worker_connections 256; }
http {
    log_format ceping_test '$request_method $uri $status $upstream_addr';
    access_log ${path.join(dir, 'access.log')} ceping_test;
    client_body_temp_path ${tmp('body')};
    proxy_temp_path ${tmp('proxy')};
    fastcgi_temp_path ${tmp('fastcgi')};
    uwsgi_temp_path ${tmp('uwsgi')};
    scgi_temp_path ${tmp('scgi')};
    include ${path.join(dir, 'ceping.conf')};
}
`;
}

/** Who nginx runs as: ourselves, or `nobody` when we are root (a CI container). */
function unprivileged(): { uid: number; gid: number } | null {
  if (userInfo().uid !== 0) return null;
  const id = (flag: string) => spawnSync('id', [flag, 'nobody'], { encoding: 'utf8' });
  const u = id('-u');
  const g = id('-g');
  if (u.status !== 0 || g.status !== 0) throw new Error('running as root, and there is no `nobody` user to run nginx as');
  return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
}

function chownTree(p: string, as: { uid: number; gid: number }): void {
  chownSync(p, as.uid, as.gid);
  if (statSync(p).isDirectory()) for (const e of readdirSync(p)) chownTree(path.join(p, e), as);
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

interface Nginx {
  proc: ChildProcess;
  accessLog(): string[];
  stop(): Promise<void>;
}

async function startNginx(dir: string, ports: Ports): Promise<Nginx> {
  for (const n of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(path.join(dir, 'tmp', n), { recursive: true });
  writeFileSync(path.join(dir, 'ceping.conf'), adaptBlock(readmeNginxBlock(), ports, dir));
  writeFileSync(path.join(dir, 'nginx.conf'), mainConfig(dir));
  const as = unprivileged();
  if (as) chownTree(dir, as);
  const errorLog = path.join(dir, 'error.log');
  // -e: the error log from the first line on (else nginx first opens its compiled-in /var/log/nginx/error.log).
  const proc = spawn(nginxBin!, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', errorLog], { ...(as ?? {}), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const log = () => `${out}\n${existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : ''}`;
  const started = Date.now();
  while (!(await listening(ports.https)) || !(await listening(ports.http))) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`nginx exited: ${log()}`);
    if (Date.now() - started > 20_000) throw new Error(`nginx did not listen: ${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    proc,
    accessLog: () => readFileSync(path.join(dir, 'access.log'), 'utf8').split('\n').filter(Boolean),
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** A self-signed certificate for HOSTNAME, trusted by the test's clients only. */
function makeCertificate(dir: string): Buffer {
  const r = spawnSync(opensslBin!, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', `/CN=${HOSTNAME}`, '-addext', `subjectAltName=DNS:${HOSTNAME}`,
    '-keyout', path.join(dir, 'privkey.pem'), '-out', path.join(dir, 'fullchain.pem'),
  ], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return readFileSync(path.join(dir, 'fullchain.pem'));
}

/** HOSTNAME is this machine (as DNS would say for the real name); every other name as usual. */
function lookup(hostname: string, options: { all?: boolean }, callback: (...args: any[]) => void): void {
  if (hostname !== HOSTNAME) return void dnsLookup(hostname, options, callback);
  if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }] satisfies LookupAddress[]);
  else callback(null, '127.0.0.1', 4);
}

interface Window {
  ws: WebSocket;
  messages: LiveMessage[];
}

describe('the README names the nginx example the test runs', () => {
  it('finds the block between its markers, and the changes the test makes each find their text once', () => {
    const block = readmeNginxBlock();
    for (const d of ['proxy_set_header Upgrade $http_upgrade;', 'proxy_set_header X-Forwarded-Proto $scheme;', 'location /api/voter/', 'access_log off;', 'upstream ceping']) expect(block).toContain(d);
    const adapted = adaptBlock(block, { upstreams: [10001, 10002], https: 10443, http: 10080 }, '/tmp/x');
    expect(adapted).toContain('server 127.0.0.1:10001 max_fails=1');
    expect(adapted).toContain('listen 127.0.0.1:10443 ssl;');
    expect(adapted).not.toMatch(/\/etc\/ssl|:808[12]|listen (443|80);/);
    // Everything else is the README's text, line for line.
    const kept = (s: string) => s.split('\n').filter((l) => !/808[12]|listen|\/etc\/ssl|\/tmp\/x|:1000[12]/.test(l));
    expect(kept(adapted)).toEqual(kept(block));
  });

  it.runIf(missing.length > 0 && required)('has nginx and openssl to run it (CI installs them: .ci/run)', () => {
    expect.fail(`${missing.join(', ')} missing: the README's nginx example cannot be tested`);
  });
});

describe.skipIf(!pg || missing.length > 0)("two processes behind the README's nginx", () => {
  let dir: string;
  let a: ServerProcess;
  let b: ServerProcess;
  let nginx: Nginx;
  let ports: Ports;
  let agent: Agent;
  let f: Fetch;
  let ca: Buffer;
  let base: string;
  let admin: HttpAdmin;
  let meeting: HttpMeeting;
  let cast = 0;
  const windows: Window[] = [];

  const upstreamOf = (line: string) => line.split(' ').slice(3).join(' ');
  const openWindow = async (origin = `https://${HOSTNAME}`): Promise<Window> => {
    const messages: LiveMessage[] = [];
    const ws = new WebSocket(`${base.replace('https', 'wss')}/api/meetings/${meeting.meetingId}/live/ws`, { ca, lookup: lookup as never, headers: { cookie: admin.cookie, origin } });
    ws.on('message', (d) => messages.push(JSON.parse(String(d)) as LiveMessage));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`websocket refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
    return { ws, messages };
  };
  const returned = (w: Window) => w.messages.filter((m): m is Extract<LiveMessage, { type: 'turnout' }> => m.type === 'turnout').at(-1)?.turnout.returned;
  async function until(what: string, pred: () => boolean, ms = 10_000): Promise<void> {
    const start = Date.now();
    while (!pred()) {
      if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ceping-nginx-'));
    const data = path.join(dir, 'data');
    const proxyDir = path.join(dir, 'nginx');
    mkdirSync(data);
    mkdirSync(proxyDir);
    // nginx (as `nobody` under root) reaches its own folder through this one, and nothing else in it.
    chmodSync(dir, 0o711);
    ca = makeCertificate(proxyDir);
    ports = { upstreams: [await freePort(), await freePort()], https: await freePort(), http: await freePort() };
    // The README's environment: the proxy's HTTPS address in the QR codes, nginx trusted on loopback.
    const env = { DATABASE_URL: await freshDatabaseUrl(), PUBLIC_URL: `https://${HOSTNAME}`, TRUST_PROXY: 'loopback', LOG_LEVEL: 'warn' };
    [a, b] = await Promise.all([startServer(data, ports.upstreams[0], env), startServer(data, ports.upstreams[1], env)]);
    nginx = await startNginx(proxyDir, ports);
    agent = new Agent({ connect: { ca, lookup: lookup as never } });
    f = ((url: string, init?: object) => undiciFetch(url, { ...init, dispatcher: agent })) as unknown as Fetch;
    base = `https://${HOSTNAME}:${ports.https}`;
    // Each process prints a setup code of its own: the first admin is made on one of them directly (README).
    await new HttpAdmin(a.base).setup(a.setupCode!);
    // A browser on the proxy's default HTTPS port sends its Origin without a port, and nginx forwards
    // Host as $host (no port): the test's client stands for it on a port of its own.
    admin = new HttpAdmin(base, { fetch: f, origin: `https://${HOSTNAME}` });
    await admin.login();
    meeting = await votingMeetingOver(admin, PEOPLE);
  }, 300_000);

  afterAll(async () => {
    for (const w of windows) w.ws.terminate();
    await nginx?.stop();
    await Promise.all([a?.stop(), b?.stop()]);
    await agent?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers over HTTPS from PostgreSQL, redirects plain HTTP, and marks the session cookie Secure', async () => {
    const health = (await (await f(`${base}/healthz`)).json()) as { database: string };
    expect(health.database).toBe('postgres');
    const plain = await undiciFetch(`http://${HOSTNAME}:${ports.http}/admin/?x=1`, { redirect: 'manual', dispatcher: agent });
    expect(plain.status).toBe(301);
    expect(plain.headers.get('location')).toBe(`https://${HOSTNAME}/admin/?x=1`);
    // X-Forwarded-Proto https, believed from loopback (TRUST_PROXY): the cookie is sent over HTTPS only.
    expect(admin.setCookie).toMatch(/ceping_session=[^;]+;.*\bSecure\b/i);
    expect(admin.setCookie).toMatch(/HttpOnly/i);
  });

  it('phones cast through nginx, which shares them between both processes and logs none of their requests', async () => {
    const replies = await Promise.all(meeting.tokens.slice(0, 10).map((tok, i) => castOver(base, tok, fullPackage(meeting.form, 1 + (i % 3)), f)));
    cast = 10;
    expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200));
    const live = await admin.call<{ turnout: { returned: number } }>('GET', `/api/meetings/${meeting.meetingId}/live`);
    expect(live.turnout.returned).toBe(10);
    const log = nginx.accessLog();
    // The admin's requests are logged, each answered by one of the two processes, and both took turns.
    const answered = new Set(log.map(upstreamOf).filter((u) => u !== '-'));
    expect(answered).toEqual(new Set([`127.0.0.1:${ports.upstreams[0]}`, `127.0.0.1:${ports.upstreams[1]}`]));
    expect(log.some((l) => l.startsWith('POST /api/auth/login 200'))).toBe(true);
    // The phones' redeems and casts went through (PEOPLE + 10 of them) and left no line.
    expect(log.filter((l) => l.includes('/api/voter/'))).toEqual([]);
  });

  it('upgrades the live websocket through nginx, refuses a foreign Origin, and carries each cast to the window', async () => {
    const w = await openWindow();
    windows.push(w);
    await until('the first turnout frame', () => returned(w) === cast);
    expect((await castOver(base, meeting.tokens[cast]!, fullPackage(meeting.form, 2), f)).status).toBe(200);
    cast++;
    await until('the cast reaching the window', () => returned(w) === cast);
    await expect(openWindow('https://evil.example')).rejects.toThrow(/websocket refused: 403/);
  });

  it('a process killed while a burst is in flight: re-sent casts are recorded once through the other, dashboards reconnect, one tally', async () => {
    // A burst in flight while A dies: nginx answers 502 for a cast A had taken; the phone re-sends the same package.
    const burst = meeting.tokens.slice(cast, cast + 6);
    const pkgs = burst.map((_, i) => fullPackage(meeting.form, 1, `第${cast + i}张`));
    const inFlight = Promise.all(burst.map((tok, i) => castOver(base, tok, pkgs[i]!, f)));
    await new Promise((r) => setTimeout(r, 5));
    await a.kill();
    const first = await inFlight;
    const resent = await Promise.all(first.map((r, i) => (r.status === 200 ? r : castOver(base, burst[i]!, pkgs[i]!, f))));
    for (const [i, r] of resent.entries()) expect(r.status, `cast ${i}: ${JSON.stringify(first[i]!.body)} then ${JSON.stringify(r.body)}`).toBe(200);
    cast += burst.length;
    // The rest, one after another, all through the proxy while A stays dead.
    for (const tok of meeting.tokens.slice(cast)) expect((await castOver(base, tok, fullPackage(meeting.form, 3), f)).status).toBe(200);
    cast = PEOPLE;
    const afterKill = nginx.accessLog().length;
    // A dashboard reconnecting lands on B and follows the meeting to its close.
    const w = await openWindow();
    windows.push(w);
    await until('the turnout on the reconnected window', () => returned(w) === PEOPLE);
    await admin.call('POST', `/api/meetings/${meeting.meetingId}/close-voting`);
    await until('the final step', () => w.messages.some((m) => m.type === 'snapshot' && m.snapshot.final));
    const results = await admin.call<{ turnout: { returned: number } }>('GET', `/api/meetings/${meeting.meetingId}/results`);
    expect(results.turnout.returned).toBe(PEOPLE);
    // Everything after the kill was answered by B (nginx may first have tried A and said so: "A, B").
    const later = nginx.accessLog().slice(afterKill);
    // (the close and the results; a websocket's line comes when it ends, and phones' requests have none)
    expect(later.filter((l) => l.startsWith('POST /api/meetings/') && l.includes('/close-voting 200'))).toHaveLength(1);
    for (const l of later) expect(upstreamOf(l).split(', ').at(-1), l).toBe(`127.0.0.1:${ports.upstreams[1]}`);
  }, 120_000);
});
