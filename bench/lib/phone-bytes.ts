/**
 * What a phone downloads, counted from what the server sends (response bodies, as encoded on the wire),
 * following the page's own references the way a browser does. Used by the bench (over HTTP) and by
 * tests/api/static-pages.test.ts (through the app), so the figure and its test count the same files.
 *
 * Two screens are counted (see bench/README.md, "The phone's bytes"):
 * - the first screen: the code entry, or the redemption of a scanned ticket and the waiting screen.
 *   index.html, what it names (the stylesheet, the entry script), every chunk the entry imports
 *   statically (a browser fetches those before the entry runs), and the token code (token-crypto-*.js,
 *   which the redemption imports where the browser has BigInt);
 * - the first ballot screen, where the voter starts rating: all of the above and the ballot steps
 *   (steps-*.js and its static imports), which the page fetches as soon as its first screen is up.
 *   This is the figure the target (≤ 45,000 bytes with the token code) is about.
 * Any other chunk the entry can import (the receipt check) is listed as not counted: no phone fetches it
 * before it votes.
 */
import { brotliDecompressSync, gunzipSync } from 'node:zlib';

/** The target for the first ballot screen, in bytes as sent (gzip: what a phone on the hall's plain-HTTP Wi-Fi gets). */
export const PHONE_BYTES_TARGET = 45_000;

export type Encoding = 'br' | 'gzip' | 'identity';
export const ACCEPT: Record<Encoding, string> = {
  gzip: 'gzip, deflate',
  br: 'gzip, deflate, br',
  identity: 'identity',
};

/** One GET as the server answers it: status, Content-Encoding and the body as sent. */
export type Fetch = (url: string, acceptEncoding: string) => Promise<{ status: number; encoding: string | undefined; body: Buffer }>;

export interface FileBytes {
  name: string;
  bytes: number;
}
export interface ScreenBytes {
  files: FileBytes[];
  total: number;
}
export interface PhoneBytes {
  encoding: Encoding;
  firstScreen: ScreenBytes;
  ballotScreen: ScreenBytes;
  /** Chunks the page can load later (the receipt check), not counted in either screen. */
  notCounted: FileBytes[];
}

const STATIC_IMPORT = /(?:\bfrom|\bimport)\s*["'`]\.\/([\w.-]+\.js)["'`]/g;
const DYNAMIC_IMPORT = /\bimport\(\s*["'`]\.\/([\w.-]+\.js)["'`]\s*\)/g;

/** The bytes of the phone page's first screen and first ballot screen under `base` (the page at `${base}/v/`). */
export async function phoneBytes(fetch: Fetch, encoding: Encoding, base = ''): Promise<PhoneBytes> {
  const seen = new Map<string, { bytes: number; text: string }>();
  const get = async (url: string) => {
    const res = await fetch(base + url, ACCEPT[encoding]);
    if (res.status !== 200) throw new Error(`${url} → ${res.status}`);
    const text = (res.encoding === 'br' ? brotliDecompressSync(res.body) : res.encoding === 'gzip' ? gunzipSync(res.body) : res.body).toString('utf8');
    if ((res.encoding ?? 'identity') !== encoding) throw new Error(`${url}: asked for ${encoding}, got ${res.encoding ?? 'identity'}`);
    return { bytes: res.body.length, text };
  };
  const asset = async (name: string) => {
    let f = seen.get(name);
    if (!f) {
      f = await get(`/v/assets/${name}`);
      seen.set(name, f);
    }
    return f;
  };
  /** `names` and every chunk they import statically, each once, in the order a browser meets them. */
  const closure = async (names: string[], into: string[]) => {
    for (const name of names) {
      if (into.includes(name)) continue;
      into.push(name);
      const f = await asset(name);
      if (name.endsWith('.js')) await closure([...f.text.matchAll(STATIC_IMPORT)].map((m) => m[1]!), into);
    }
    return into;
  };

  const index = await get('/v/');
  const named = [...index.text.matchAll(/(?:src|href)="\/v\/assets\/([^"]+)"/g)].map((m) => m[1]!);
  const first = await closure(named, []);
  const lazy = new Set<string>();
  for (const name of first) if (name.endsWith('.js')) for (const m of seen.get(name)!.text.matchAll(DYNAMIC_IMPORT)) lazy.add(m[1]!);
  const pick = (prefix: string) => {
    const found = [...lazy].filter((n) => n.startsWith(prefix));
    if (found.length !== 1) throw new Error(`the first screen's scripts name ${found.length} ${prefix}*.js chunks, expected one`);
    return found[0]!;
  };
  const token = pick('token-crypto-');
  const steps = pick('steps-');
  const firstNames = await closure([token], first.slice());
  const ballotNames = await closure([steps], firstNames.slice());
  const later: string[] = [];
  for (const name of lazy) if (!ballotNames.includes(name)) await closure([name], later);

  const screen = (names: string[]): ScreenBytes => {
    const files = [{ name: 'index.html', bytes: index.bytes }, ...names.map((name) => ({ name, bytes: seen.get(name)!.bytes }))];
    return { files, total: files.reduce((a, f) => a + f.bytes, 0) };
  };
  return {
    encoding,
    firstScreen: screen(firstNames),
    ballotScreen: screen(ballotNames),
    notCounted: later.filter((n) => !ballotNames.includes(n)).map((name) => ({ name, bytes: seen.get(name)!.bytes })),
  };
}

/** "index.html 712, index-….js 32843, …" */
export const listFiles = (files: FileBytes[]) => files.map((f) => `${f.name} ${f.bytes}`).join(', ');

/** GET over HTTP with undici, as a phone asks (no connection reuse matters here: only bodies are counted). */
export const httpFetch: Fetch = async (url, acceptEncoding) => {
  const { request } = await import('undici');
  const res = await request(url, { headers: { 'accept-encoding': acceptEncoding } });
  const body = Buffer.from(await res.body.arrayBuffer());
  const enc = res.headers['content-encoding'];
  return { status: res.statusCode, encoding: Array.isArray(enc) ? enc[0] : enc, body };
};

const LABELS: Record<Encoding, string> = {
  gzip: 'gzip (Chromium/WeChat over http://LAN)',
  br: 'br (over HTTPS, or from localhost)',
  identity: 'uncompressed',
};

/** Section 5 of the bench: both screens in the three encodings, with the files of each. */
export async function reportPhoneBytes(base: string, say: (s?: string) => void): Promise<Record<Encoding, PhoneBytes>> {
  const out = {} as Record<Encoding, PhoneBytes>;
  for (const encoding of ['gzip', 'br', 'identity'] as const) out[encoding] = await phoneBytes(httpFetch, encoding, base);
  say('  the first ballot screen (where the voter starts rating): index.html, stylesheet, entry, token code and ballot steps');
  for (const e of ['gzip', 'br', 'identity'] as const) say(`    ${LABELS[e].padEnd(40)} ${out[e].ballotScreen.total} bytes (${listFiles(out[e].ballotScreen.files.slice(1))})`);
  say('  the first screen (code entry / redemption / waiting): the same without the ballot steps');
  for (const e of ['gzip', 'br', 'identity'] as const) say(`    ${LABELS[e].padEnd(40)} ${out[e].firstScreen.total} bytes`);
  say(`  not counted (fetched only when opened): ${listFiles(out.gzip.notCounted) || 'nothing'} (gzip)`);
  say(`  target: first ballot screen ≤ ${PHONE_BYTES_TARGET} bytes; a phone on the township Wi-Fi (plain HTTP) gets gzip: browsers ask for br only over HTTPS or from localhost`);
  return out;
}
