/**
 * The server process as `npm start` runs it, seen from the network and from the file system: what it
 * answers a request Node itself would refuse, how long a connection may hold it without finishing a
 * request (server/http-server.ts), and who may read its data folder (server/shared/files.ts,
 * makePrivateDataDir). Found wanting by a black-box audit: a Host-less request got an empty 400, a
 * half-sent request kept its connection for minutes, 1,100 idle connections took every descriptor of a
 * `ulimit -n` of 1,024 (then a write on a connection already open failed: SQLite could not open its
 * journal), and ceping.db (the ballots and, during voting, the meeting's key) was readable by every
 * local account.
 */

const hasPrlimit = (() => {
  try {
    execFileSync('prlimit', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'undici';
import { connectionCap, HTTP_TIMEOUTS } from '../../server/http-server.ts';
import { TEST_PASSWORD } from '../helpers/auth.ts';
import { freePort, HttpAdmin, startServer, votingMeetingOver, type ServerProcess } from '../helpers/server-process.ts';

/** Send raw bytes and collect everything until the server closes the connection (or `giveUpMs`). */
function raw(port: number, request: string, giveUpMs = 5_000): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const c = net.connect(port, '127.0.0.1');
    let text = '';
    c.on('data', (d) => (text += d.toString('utf8')));
    c.on('close', () => resolve({ text, closedAfterMs: performance.now() - start }));
    c.on('error', reject);
    if (request) c.write(request);
    setTimeout(() => c.destroy(), giveUpMs);
  });
}

const bodyOf = (text: string) => text.split('\r\n\r\n').slice(1).join('\r\n\r\n');
const mode = (file: string) => (statSync(file).mode & 0o777).toString(8);

let dir: string;
let data: string;
let port: number;
let server: ServerProcess;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ceping-connections-'));
  data = path.join(dir, 'data');
  port = await freePort();
  server = await startServer(data, port);
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('requests Node would refuse on its own', () => {
  it('answers an HTTP/1.1 request without Host 400 BAD_REQUEST in the documented shape; HTTP/1.0 needs none', async () => {
    const missing = await raw(port, 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(missing.text.startsWith('HTTP/1.1 400')).toBe(true);
    expect(missing.text.toLowerCase()).toContain('content-type: application/json');
    expect(JSON.parse(bodyOf(missing.text))).toMatchObject({ error: { code: 'BAD_REQUEST', message: expect.stringMatching(/[\u4e00-\u9fff]/) } });
    const old = await raw(port, 'GET /healthz HTTP/1.0\r\n\r\n');
    expect(old.text).toMatch(/^HTTP\/1\.[01] 200/);
  });

  it('answers a header too large 431 HEADER_TOO_LARGE', async () => {
    const r = await raw(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(r.text.startsWith('HTTP/1.1 431')).toBe(true);
    expect(JSON.parse(bodyOf(r.text)).error.code).toBe('HEADER_TOO_LARGE');
  });
});

describe('a connection that does not finish its request', () => {
  it('is answered 408 TIMEOUT and closed within the header timeout: silent, half a header, or kept alive idle', async () => {
    // The bound: the header limit plus one check interval, plus slack for a busy machine.
    const bound = HTTP_TIMEOUTS.headersMs + HTTP_TIMEOUTS.checkEveryMs + 5_000;
    const [silent, halfHeader, idle] = await Promise.all([
      raw(port, '', bound + 10_000),
      raw(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', bound + 10_000),
      raw(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', bound + 10_000),
    ]);
    for (const r of [silent, halfHeader]) {
      expect(r.closedAfterMs).toBeLessThan(bound);
      expect(r.text.startsWith('HTTP/1.1 408')).toBe(true);
      expect(JSON.parse(bodyOf(r.text)).error.code).toBe('TIMEOUT');
    }
    // A kept-alive connection gets its answer, then is closed once idle for the keep-alive limit.
    expect(idle.text.startsWith('HTTP/1.1 200')).toBe(true);
    expect(idle.closedAfterMs).toBeGreaterThanOrEqual(HTTP_TIMEOUTS.keepAliveMs - 1_000);
    expect(idle.closedAfterMs).toBeLessThan(bound);
  }, 60_000);
});

describe('the data folder', () => {
  it('is readable by the server user only: the folder 700, the database and the key files 600, also after an older version left them open', async () => {
    const admin = new HttpAdmin(server.base);
    await admin.setup(server.setupCode!);
    await votingMeetingOver(admin, 3);
    expect(mode(data)).toBe('700');
    for (const f of ['ceping.db', 'secret.key', 'signing.key']) expect(`${f} ${mode(path.join(data, f))}`).toBe(`${f} 600`);
    // As an older version (or a umask of 022) left them: opened up again, then the server restarts.
    await server.stop();
    chmodSync(data, 0o755);
    chmodSync(path.join(data, 'ceping.db'), 0o644);
    server = await startServer(data, port);
    expect(mode(data)).toBe('700');
    expect(mode(path.join(data, 'ceping.db'))).toBe('600');
  });
});

describe('a flood of connections', () => {
  it('leaves descriptors for the database: the cap is the open-files limit less 256 (at least 64), none where unlimited', () => {
    expect(connectionCap(1024)).toBe(768);
    expect(connectionCap(65536)).toBe(65280);
    expect(connectionCap(100)).toBe(64);
    expect(connectionCap(null)).toBeNull();
  });

  it.runIf(hasPrlimit)('under ulimit -n 1024, 1,100 idle connections do not stop a write on a connection already open', async () => {
    const floodDir = mkdtempSync(path.join(tmpdir(), 'ceping-flood-'));
    const floodPort = await freePort();
    const s = await startServer(floodDir, floodPort, {}, { wrap: ['prlimit', '--nofile=1024'] });
    const kept = new Client(s.base, { pipelining: 1, keepAliveTimeout: 60_000 });
    const sockets: net.Socket[] = [];
    try {
      expect(s.output()).toContain('1024');
      const admin = new HttpAdmin(s.base);
      await admin.setup(s.setupCode!);
      const ping = await kept.request({ method: 'GET', path: '/healthz' });
      await ping.body.text();
      expect(ping.statusCode).toBe(200);
      for (let i = 0; i < 1_100; i++) {
        const c = net.connect(floodPort, '127.0.0.1');
        c.on('error', () => undefined);
        sockets.push(c);
      }
      await new Promise((r) => setTimeout(r, 1_500));
      // A login writes a session row: the database must still open its journal.
      const login = await kept.request({ method: 'POST', path: '/api/auth/login', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: TEST_PASSWORD }) });
      const body = await login.body.text();
      expect(login.statusCode, body).toBe(200);
    } finally {
      for (const c of sockets) c.destroy();
      await kept.close();
      await s.stop();
      rmSync(floodDir, { recursive: true, force: true });
    }
  }, 60_000);
});
