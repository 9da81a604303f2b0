/**
 * What the phone downloads: at most 60 KB of JS and CSS gzipped, syntax an old WebView runs
 * (Chrome 64 / iOS 12 Safari), no zod or server code, and nothing fetched from another origin.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as acorn from 'acorn';
import { buildVoterPage } from './ui-build.ts';

const BUDGET = 60 * 1024;

/**
 * Functions newer than Chrome 64 / Safari 12 that the bundle may name, and why that is safe.
 * Anything else on the watch list below failing the test means: polyfill it, or avoid it.
 */
const ALLOWED_NEWER_APIS: Record<string, string> = {
  queueMicrotask: 'polyfilled in voter-ui/src/polyfills.ts',
  globalThis: 'polyfilled in voter-ui/src/polyfills.ts',
  replaceAll: 'polyfilled in voter-ui/src/polyfills.ts (string search, as Svelte uses it)',
  structuredClone: "only in Svelte's $state.snapshot of a Date; the page holds no Date",
  ResizeObserver: "only for Svelte's bind:clientWidth and friends, created on first use; the page uses none",
  AbortController: 'feature-tested in voter-ui/src/lib/api.ts; Svelte uses it only for getAbortSignal()',
};
const WATCH = [
  'queueMicrotask', 'globalThis', 'replaceAll', 'structuredClone', 'ResizeObserver', 'AbortController',
  'flatMap', 'fromEntries', 'matchAll', 'allSettled', 'Promise.any', 'hasOwn', 'findLast', 'toSorted', 'toReversed',
  'WeakRef', 'FinalizationRegistry', 'requestIdleCallback', 'toggleAttribute', 'replaceChildren', 'trimStart',
  'trimEnd', '.at(', '.flat(', 'randomUUID', 'crypto.subtle', 'AggregateError',
];

let dir: string;
let files: { name: string; text: string }[];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ceping-voter-build-'));
  await buildVoterPage(dir);
  // The files themselves; their precompressed copies (.br, .gz) are checked in tests/api/static-pages.test.ts.
  const assets = readdirSync(path.join(dir, 'assets')).filter((name) => !/\.(br|gz)$/.test(name));
  files = assets.map((name) => ({ name, text: readFileSync(path.join(dir, 'assets', name), 'utf8') }));
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const js = () => files.filter((f) => f.name.endsWith('.js'));

describe('the built voter page', () => {
  it('is at most 60 KB of JS and CSS, gzipped', () => {
    const sizes = files
      .filter((f) => /\.(js|css)$/.test(f.name))
      .map((f) => ({ name: f.name, gzip: gzipSync(f.text, { level: 9 }).length }));
    const total = sizes.reduce((a, s) => a + s.gzip, 0);
    console.info(`voter page: ${sizes.map((s) => `${s.name} ${(s.gzip / 1024).toFixed(1)} KB`).join(', ')}; total ${(total / 1024).toFixed(1)} KB gzipped`);
    expect(total).toBeLessThanOrEqual(BUDGET);
  });

  it('has only the page, its own assets under /v/, and no request to another origin', () => {
    const html = readFileSync(path.join(dir, 'index.html'), 'utf8');
    const refs = [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(ref === 'data:,' || ref.startsWith('/v/assets/'), ref).toBe(true);
    for (const f of files) {
      const urls = f.text.match(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s'"`)]*/gi) ?? [];
      // XML namespaces name the kind of an element, and Svelte's error messages name their help page:
      // text, never fetched.
      const fetched = urls.filter((u) => !/^https?:\/\/www\.w3\.org\//.test(u) && !/^https:\/\/svelte\.dev\/e\/\w+$/.test(u));
      expect(fetched, f.name).toEqual([]);
      expect(f.text).not.toMatch(/@import|url\(\s*['"]?(https?:)?\/\//);
    }
  });

  it('keeps the curve code in a chunk of its own, loaded only where BigInt exists', () => {
    const html = readFileSync(path.join(dir, 'index.html'), 'utf8');
    const entry = js().find((f) => html.includes(f.name))!;
    const curve = js().find((f) => f.name.startsWith('token-crypto-'));
    expect(curve, 'a token-crypto chunk').toBeDefined();
    expect(curve!.text).toMatch(/ristretto255|HashToGroup/);
    // The first chunk names BigInt only to test for it, and reaches the curve chunk only by import().
    expect(entry.text.match(/BigInt/g)).toEqual(['BigInt']);
    expect(entry.text).toMatch(/typeof BigInt\s*==/);
    expect(entry.text).toMatch(new RegExp(`import\\([\`"'][^\`"']*${curve!.name.replace('.', '\\.')}`));
    expect(html).not.toContain(curve!.name);
    expect(entry.text).not.toMatch(/ristretto255|HashToGroup/);
  });

  it('carries no zod and no server code', () => {
    for (const f of js()) {
      expect(f.text).not.toMatch(/ZodError|_zod|zod\//);
      expect(f.text).not.toMatch(/better-sqlite3|fastify|node:/);
    }
  });

  it('parses as ES2018 with no regex lookbehind (Chrome 64, iOS 12 Safari)', () => {
    for (const f of js()) {
      const regexes: string[] = [];
      // import() (Chrome 63, Safari 11.1) and import.meta (Chrome 64, Safari 11.1) are newer syntax than
      // ES2018 for the parser: only the loader of the curve chunk uses them (import.meta.resolve is feature-tested).
      const metas = f.text.match(/import\.meta\.\w+/g) ?? [];
      expect(metas.filter((x) => x !== 'import.meta.resolve' && x !== 'import.meta.url'), f.name).toEqual([]);
      const text = f.text.replace(/import\.meta\./g, 'importXmeta.').replace(/\bimport\(/g, 'importX(');
      acorn.parse(text, {
        ecmaVersion: 2018,
        sourceType: 'module',
        onToken: (t) => {
          if (t.type === acorn.tokTypes.regexp) regexes.push((t as unknown as { value: { pattern: string } }).value.pattern);
        },
      });
      expect(regexes.filter((r) => r.includes('(?<=') || r.includes('(?<!'))).toEqual([]);
    }
  });

  it('calls no function newer than its target without a polyfill or a reason', () => {
    const used = new Set<string>();
    for (const f of js()) for (const name of WATCH) if (f.text.includes(name)) used.add(name);
    const unexplained = [...used].filter((n) => !(n in ALLOWED_NEWER_APIS));
    expect(unexplained).toEqual([]);
    // The polyfills come first, before Svelte's own module code runs.
    const main = js().find((f) => f.text.includes('queueMicrotask'))!;
    expect(main.text.indexOf('typeof queueMicrotask')).toBeLessThan(main.text.indexOf('globalThis.document'));
  });
});
