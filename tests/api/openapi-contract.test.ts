import { mkdirSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorld, relogin, type World } from '../helpers/world.ts';
import { testBackend } from '../helpers/pg.ts';
import { EXAMPLES, NO_SUCCESS_HERE, walkOrder } from '../helpers/api-examples.ts';
import { checkAnswer, operations, SchemaChecker, send, urlOf, type ApiDocument, type Operation } from '../helpers/openapi.ts';
import { subscribeLive } from '../helpers/live.ts';

/**
 * The API description is true: every operation in /api/openapi.json is called, and every answer —
 * successes and refusals — has a declared status, a declared content type and a body that its
 * declared JSON Schema accepts (checked with ajv, not with the server's own zod schemas).
 */

let w: World;
let doc: ApiDocument;
let ops: Operation[];
const checker = new SchemaChecker();

beforeAll(async () => {
  w = await makeWorld();
  doc = (await w.t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as ApiDocument;
  ops = operations(doc);
}, 120_000);
afterAll(async () => {
  await w.t.close();
});

describe('the document', () => {
  it('is OpenAPI 3.1 and lists every route the server has, each with an example here or a reason it cannot succeed', () => {
    expect(doc.openapi).toBe('3.1.0');
    const documented = ops.map((o) => o.key).sort();
    const known = [...Object.keys(EXAMPLES), ...Object.keys(NO_SUCCESS_HERE)].sort();
    expect(documented).toEqual(known);
    // Only the pages, their redirects and the document itself are hidden (schema.hide); every API route is in it.
    expect(documented.length).toBeGreaterThan(65);
  });

  it('says a body is optional exactly where an empty body is accepted', () => {
    const optional = ops.filter((o) => o.requestBody && o.requestBody.required === false).map((o) => o.key).sort();
    expect(optional).toEqual([
      'POST /api/inspection/import',
      'POST /api/meetings/{id}/inspection/draw',
      'POST /api/meetings/{id}/open-voting',
      'POST /api/meetings/{id}/open-voting/check',
      'POST /api/meetings/{id}/paper-ballots/{pendingId}/confirm',
      'POST /api/meetings/{id}/roster/{entryId}/sign-in',
      'POST /api/units/{unitId}/meetings',
    ]);
  });

  it('lists the abstain key (不了解 / 弃权) among the grades a ballot may give', () => {
    const paper = ops.find((o) => o.key === 'POST /api/meetings/{id}/paper-ballots')!;
    const text = JSON.stringify(paper.requestBody);
    expect(text).toMatch(/"(const":"abstain"|enum":\["abstain"\])/);
    expect(checker.validate(paper.requestBody!.content['application/json']!.schema, { package: { A: { grades: { s1: 'abstain' } } } })).toBeNull();
    // Every part is optional in the schema (the rules of which are required live in the form).
    expect(checker.validate(paper.requestBody!.content['application/json']!.schema, { package: {} })).toBeNull();
  });

  it('describes the live websocket and each message it sends', () => {
    const ws = ops.find((o) => o.key === 'GET /api/meetings/{id}/live/ws')!;
    expect(Object.keys(ws['x-websocket']!.messages).sort()).toEqual(['snapshot', 'timers', 'turnout']);
    expect(Object.keys(ws['x-websocket']!.closeCodes).sort()).toEqual(['1001', '1009', '1011', '4001']);
    expect(ws.responses['101']).toBeDefined();
  });
});

describe('every operation, called', () => {
  it('answers each example with 2xx, in the declared shape', async () => {
    const problems: string[] = [];
    const succeeded = new Set<string>();
    const keys = Object.keys(EXAMPLES).sort((a, b) => walkOrder(a) - walkOrder(b));
    for (const key of keys) {
      const op = ops.find((o) => o.key === key);
      if (!op) {
        problems.push(`${key}: not in the document`);
        continue;
      }
      for (const ex of await EXAMPLES[key]!(w)) {
        const res = await send(w, op, ex);
        problems.push(...checkAnswer(op, res, checker));
        if (res.statusCode >= 200 && res.statusCode < 300) succeeded.add(key);
        else problems.push(`${key} as ${ex.role}: expected success, got ${res.statusCode} ${res.body.slice(0, 300)}`);
      }
    }
    expect(problems).toEqual([]);
    expect([...succeeded].sort()).toEqual(Object.keys(EXAMPLES).sort());
  }, 120_000);

  it('answers refusals in the declared shape too: no session, the other role, a missing id, a broken or wrong body', async () => {
    const problems: string[] = [];
    const seen = new Map<number, number>();
    for (const op of ops) {
      const params = Object.fromEntries((op.parameters ?? []).filter((p) => p.in === 'path').map((p) => [p.name, p.name === 'pendingId' ? '0'.repeat(32) : '999999']));
      const attempts: { role: 'none' | 'township' | 'inspector'; url: string; payload?: string; type?: string }[] = [
        { role: 'none', url: urlOf(op.path, params) },
        { role: 'inspector', url: urlOf(op.path, params) },
        { role: 'township', url: urlOf(op.path, params) },
      ];
      if (op.parameters?.some((p) => p.in === 'path')) {
        const bad = Object.fromEntries(Object.keys(params).map((k) => [k, '0x1']));
        attempts.push({ role: 'township', url: urlOf(op.path, bad) });
      }
      if (op.method !== 'GET') {
        attempts.push({ role: 'township', url: urlOf(op.path, params), payload: '{"broken": ', type: 'application/json' });
        attempts.push({ role: 'township', url: urlOf(op.path, params), payload: 'a=1', type: 'application/x-www-form-urlencoded' });
        attempts.push({ role: 'township', url: urlOf(op.path, params), payload: JSON.stringify({ unexpected: [1, { deep: null }] }), type: 'application/json' });
      }
      for (const a of attempts) {
        const headers = a.role === 'township' ? { ...w.town.headers } : a.role === 'inspector' ? { ...w.insp.headers } : {};
        const res = await w.t.app.inject({
          method: op.method as 'GET',
          url: a.url,
          headers: a.type ? { ...headers, 'content-type': a.type } : headers,
          ...(a.payload !== undefined ? { payload: a.payload } : {}),
        });
        seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1);
        // A logout in the walk ends the walk's own session: sign in again.
        if (op.key === 'POST /api/auth/logout' && res.statusCode === 204) await relogin(w, a.role === 'inspector' ? 'inspector' : 'township');
        if (res.statusCode >= 500) problems.push(`${op.key} ${a.url}: ${res.statusCode}`);
        problems.push(...checkAnswer(op, { statusCode: res.statusCode, headers: res.headers, body: res.body, rawPayload: res.rawPayload }, checker));
      }
    }
    expect(problems).toEqual([]);
    // The walk met the refusals it meant to: 400, 401, 403, 404, 415.
    for (const status of [400, 401, 403, 404, 415]) expect(seen.get(status) ?? 0, `status ${status}`).toBeGreaterThan(0);
  }, 120_000);

  it('the live websocket sends turnout and snapshot messages matching their schemas', async () => {
    const op = ops.find((o) => o.key === 'GET /api/meetings/{id}/live/ws')!;
    const messages = op['x-websocket']!.messages;
    // A meeting in voting sends its turnout; a sealed one its turnout and final snapshot.
    const live = await subscribeLive(w.t, w.voting.meetingId, w.insp);
    await live.waitFor((m) => m.length >= 1);
    const sealedLive = await subscribeLive(w.t, w.sealed.meetingId, w.insp);
    await sealedLive.waitFor((m) => m.some((x) => x.type === 'snapshot'));
    const all = [...live.messages, ...sealedLive.messages];
    live.close();
    sealedLive.close();
    expect(all.some((m) => m.type === 'turnout')).toBe(true);
    expect(all.some((m) => m.type === 'snapshot')).toBe(true);
    for (const m of all) {
      const schema = messages[m.type];
      expect(schema, m.type).toBeDefined();
      expect(checker.validate(schema!, m), JSON.stringify(m).slice(0, 200)).toBeNull();
    }
  });
});

// SQLite's own faults, made in the file (a refused write, a lock held by another program). PostgreSQL has
// neither; its unreachability answers DATABASE_UNAVAILABLE (server/http-errors.ts), which no test here makes.
describe.skipIf(testBackend === 'postgres')('503, as declared', () => {
  it('a disk that refuses writes: every operation that touches the database answers 503 STORAGE_FAILED in the declared shape, the others as usual', async () => {
    const problems: string[] = [];
    const usual: string[] = [];
    let refused = 0;
    const keys = Object.keys(EXAMPLES).sort((a, b) => walkOrder(a) - walkOrder(b));
    for (const key of keys) {
      const op = ops.find((o) => o.key === key)!;
      // The example's set-up (a fresh unit, a drawn list) is made while the disk still takes writes.
      const examples = await EXAMPLES[key]!(w);
      const journal = `${w.t.file}-journal`;
      rmSync(journal, { recursive: true, force: true });
      mkdirSync(journal);
      try {
        for (const ex of examples) {
          const res = await send(w, op, ex);
          if (res.statusCode === 503) refused++;
          else usual.push(`${key} ${res.statusCode}`);
          problems.push(...checkAnswer(op, res, checker));
          if (res.statusCode >= 500 && res.statusCode !== 503) problems.push(`${key}: ${res.statusCode} ${res.body.slice(0, 200)}`);
          if (res.statusCode === 503 && JSON.parse(res.body).error.code !== 'STORAGE_FAILED') problems.push(`${key}: 503 ${res.body.slice(0, 200)}`);
        }
      } finally {
        rmSync(journal, { recursive: true, force: true });
      }
    }
    expect(problems).toEqual([]);
    // Only what never opens the file answers as usual (a receipt that is not one is answered by its form).
    expect(usual.sort()).toEqual(['GET /api/archive/public-key 200', 'GET /healthz 200', 'POST /api/receipts/check 200']);
    expect(refused).toBeGreaterThan(80);
  }, 180_000);

  it('another program holding the file: a phone ballot and a desk write answer 503 DATABASE_BUSY in the declared shape', async () => {
    const reader = new Database(w.t.file, { readonly: true, fileMustExist: true });
    reader.prepare('begin').run();
    reader.prepare('select count(*) from meetings').get();
    const problems: string[] = [];
    try {
      for (const key of ['POST /api/voter/cast', 'POST /api/meetings/{id}/roster']) {
        const op = ops.find((o) => o.key === key)!;
        const [ex] = await EXAMPLES[key]!(w);
        const res = await send(w, op, ex!);
        expect(res.statusCode, `${key}: ${res.body}`).toBe(503);
        expect(JSON.parse(res.body).error.code).toBe('DATABASE_BUSY');
        problems.push(...checkAnswer(op, res, checker));
      }
    } finally {
      reader.prepare('commit').run();
      reader.close();
    }
    expect(problems).toEqual([]);
  }, 60_000);
});

describe('headers, as declared', () => {
  // Last: it spends the example token's per-minute limit, which the tests above cast with.
  it('declares the rate limit\'s headers where they are sent: on a phone\'s answers, and with the 429 past the limit', async () => {
    const op = ops.find((o) => o.key === 'POST /api/voter/cast')!;
    // The example's token again and again (answered "already recorded") until its per-minute limit: 30.
    const [ex] = await EXAMPLES['POST /api/voter/cast']!(w);
    // Until the first 429: at most 61, should the minute counted from the token's first cast end midway.
    const answers = [];
    while (answers.length < 61 && answers.at(-1)?.statusCode !== 429) answers.push(await send(w, op, ex!));
    const ok = answers.find((r) => r.statusCode === 200)!;
    const limited = answers.at(-1)!;
    expect(limited.statusCode).toBe(429);
    expect(ok.headers['x-ratelimit-limit']).toBe('30');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(answers.flatMap((r) => checkAnswer(op, r, checker))).toEqual([]);
    expect(Object.keys(op.responses['200']!.headers ?? {}).sort()).toEqual(['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']);
    expect(Object.keys(op.responses['429']!.headers ?? {}).sort()).toEqual(['retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']);
    // Not on a route without a rate limit, whose 429 (if any) may still say how long to wait.
    const login = ops.find((o) => o.key === 'POST /api/auth/login')!;
    expect(login.responses['200']?.headers).toBeUndefined();
    expect(Object.keys(login.responses['429']?.headers ?? {})).toEqual(['retry-after']);
  });
});
