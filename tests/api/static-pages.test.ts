/**
 * The pages travel small: each built file is sent as the brotli or gzip copy the build made beside it,
 * chosen by the browser's Accept-Encoding, and decompresses to exactly the file; hashed assets are kept
 * by the browser for a year, index.html is checked on every load, and every answer says it varies by encoding.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { ensurePagesBuilt, repoRoot } from '../browser/ui-build.ts';
import { precompress } from '../../scripts/precompress.mjs';
import { PHONE_BYTES_TARGET, phoneBytes, type Fetch } from '../../bench/lib/phone-bytes.ts';

const IMMUTABLE = 'public, max-age=31536000, immutable';

let t: TestApp;

beforeAll(async () => {
  await ensurePagesBuilt();
  t = await makeTestApp({ env: { LOG_LEVEL: 'silent' } });
}, 180_000);

afterAll(async () => {
  await t?.close();
});

async function get(url: string, acceptEncoding: string | null) {
  const res = await t.app.inject({ method: 'GET', url, headers: acceptEncoding === null ? {} : { 'accept-encoding': acceptEncoding } });
  return res;
}

function decode(encoding: string | undefined, body: Buffer): Buffer {
  if (encoding === 'br') return brotliDecompressSync(body);
  if (encoding === 'gzip') return gunzipSync(body);
  expect(encoding).toBeUndefined();
  return body;
}

/** The built files of one app that a browser can ask for: index.html and everything under assets/. */
function builtFiles(dir: string): string[] {
  return ['index.html', ...readdirSync(path.join(repoRoot, dir, 'assets')).filter((n) => !/\.(br|gz)$/.test(n)).map((n) => `assets/${n}`)];
}

describe.each([
  ['the phone page', 'dist/voter', '/v/'],
  ['the admin pages', 'dist/admin', '/admin/'],
])('%s', (_name, dir, prefix) => {
  it('sends every file as brotli to a browser that takes it, as gzip to one that takes only gzip, as is to the rest; each decodes to the file', async () => {
    const files = builtFiles(dir);
    expect(files.some((f) => f.endsWith('.js'))).toBe(true);
    expect(files.some((f) => f.endsWith('.css'))).toBe(true);
    for (const file of files) {
      const bytes = readFileSync(path.join(repoRoot, dir, file));
      const url = prefix + file;
      for (const [accept, expected] of [
        ['gzip, deflate, br', 'br'],
        ['gzip, deflate', 'gzip'],
        ['br;q=0, gzip', 'gzip'],
        [null, undefined],
        ['identity', undefined],
      ] as const) {
        const res = await get(url, accept);
        expect(res.statusCode, `${url} with ${accept}`).toBe(200);
        // The build skips a copy that would not be smaller (a tiny CSS file); then the file itself goes.
        const copy = expected && path.join(repoRoot, dir, `${file}.${expected === 'br' ? 'br' : 'gz'}`);
        if (bytes.length > 1024) expect(copy && existsSync(copy), `${file} has its ${expected} copy`).not.toBe(false);
        expect(res.headers['content-encoding'], `${url} with ${accept}`).toBe(copy && existsSync(copy) ? expected : undefined);
        expect(res.headers.vary, url).toMatch(/accept-encoding/i);
        expect(decode(res.headers['content-encoding'] as string | undefined, res.rawPayload).equals(bytes), `${url} with ${accept} decodes to the file`).toBe(true);
        if (expected === 'br' && bytes.length > 1024) expect(res.rawPayload.length, url).toBeLessThan(bytes.length * 0.6);
        expect(res.headers['content-type'], url).toMatch(file.endsWith('.js') ? /javascript/ : file.endsWith('.css') ? /text\/css/ : /text\/html/);
      }
    }
  });

  it('lets a browser keep hashed assets for a year, and makes it check index.html on every load', async () => {
    for (const file of builtFiles(dir)) {
      const res = await get(prefix + file, 'gzip, deflate, br');
      expect(res.headers['cache-control'], file).toBe(file === 'index.html' ? 'no-cache' : IMMUTABLE);
    }
    // The folder's address is the page itself (what a QR code opens): index.html, not kept.
    const page = await get(prefix, 'gzip, deflate, br');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-encoding']).toBe('br');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(brotliDecompressSync(page.rawPayload).equals(readFileSync(path.join(repoRoot, dir, 'index.html')))).toBe(true);
  });

  it('never sends a compressed copy by its own name', async () => {
    const js = builtFiles(dir).find((f) => f.endsWith('.js'))!;
    expect(existsSync(path.join(repoRoot, dir, `${js}.br`))).toBe(true);
    expect((await get(`${prefix}${js}.br`, 'br')).statusCode).toBe(404);
    expect((await get(`${prefix}${js}.gz`, null)).statusCode).toBe(404);
  });
});

describe('the addresses people type', () => {
  it('sends /, /admin and /v to the pages (a typed address often lacks the last slash)', async () => {
    for (const [from, to] of [['/', '/admin/'], ['/admin', '/admin/'], ['/v', '/v/']] as const) {
      const res = await t.app.inject({ method: 'GET', url: from });
      expect(`${from} ${res.statusCode} ${res.headers.location}`).toBe(`${from} 302 ${to}`);
    }
  });
});

describe("the phone's first ballot screen", () => {
  const fetch: Fetch = async (url, acceptEncoding) => {
    const res = await get(url, acceptEncoding);
    return { status: res.statusCode, encoding: res.headers['content-encoding'] as string | undefined, body: res.rawPayload };
  };

  it(`is at most ${PHONE_BYTES_TARGET} bytes as gzip sends it, token code included (counted as the bench counts it)`, async () => {
    const gzip = await phoneBytes(fetch, 'gzip');
    const names = gzip.ballotScreen.files.map((f) => f.name);
    console.info(`phone, gzip: first ballot screen ${gzip.ballotScreen.total} bytes (${names.join(', ')}); first screen ${gzip.firstScreen.total}`);
    // Everything the rating screen needs is in the count: the page, its stylesheet, the entry, the token code, the steps.
    for (const kind of [/^index\.html$/, /^index-[\w-]+\.js$/, /\.css$/, /^token-crypto-[\w-]+\.js$/, /^steps-[\w-]+\.js$/]) {
      expect(names.filter((n) => kind.test(n)), String(kind)).toHaveLength(1);
    }
    expect(gzip.ballotScreen.total).toBeLessThanOrEqual(PHONE_BYTES_TARGET);
    // The first screen leaves the steps out; only the receipt check waits until it is opened.
    expect(gzip.firstScreen.total).toBeLessThan(gzip.ballotScreen.total);
    expect(gzip.firstScreen.files.some((f) => f.name.startsWith('steps-'))).toBe(false);
    expect(gzip.notCounted.map((f) => f.name)).toEqual([expect.stringMatching(/^CheckReceipt-[\w-]+\.js$/)]);
    // The same files in every encoding, and brotli (over HTTPS) smaller still.
    const br = await phoneBytes(fetch, 'br');
    expect(br.ballotScreen.files.map((f) => f.name)).toEqual(names);
    expect(br.ballotScreen.total).toBeLessThan(gzip.ballotScreen.total);
  });
});

describe('precompress (the build step)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ceping-precompress-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a .br and a .gz beside each text file that decode to it, skips a copy that would not be smaller, and leaves other files alone', () => {
    const text = 'const ballot = "民主测评";\n'.repeat(200);
    writeFileSync(path.join(dir, 'app.js'), text);
    writeFileSync(path.join(dir, 'tiny.css'), 'a{}');
    writeFileSync(path.join(dir, 'logo.png'), Buffer.alloc(4096, 1));
    expect(precompress(dir)).toBe(2);
    expect(brotliDecompressSync(readFileSync(path.join(dir, 'app.js.br'))).toString()).toBe(text);
    expect(gunzipSync(readFileSync(path.join(dir, 'app.js.gz'))).toString()).toBe(text);
    expect(readFileSync(path.join(dir, 'app.js.br')).length).toBeLessThan(text.length / 10);
    expect(existsSync(path.join(dir, 'tiny.css.br'))).toBe(false);
    expect(existsSync(path.join(dir, 'tiny.css.gz'))).toBe(false);
    expect(existsSync(path.join(dir, 'logo.png.br'))).toBe(false);
  });
});
