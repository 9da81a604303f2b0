import fc from 'fast-check';
import { fullPackage } from '../helpers/packages.ts';
import { newBlinding } from '../helpers/phone.ts';
import { toB64u } from '../../server/credentials/voprf.ts';
import { relogin, type World } from '../helpers/world.ts';
import { checkAnswer, SchemaChecker, type Operation } from '../helpers/openapi.ts';
import { arbitraryOf, mutate, type Hints, type JsonSchema } from './arbitraries.ts';

/**
 * A schema-driven fuzz of one API operation: requests generated from the operation's own schemas
 * (plus world ids and a few valid packages), mutated, sent as no session, township and inspector.
 * Every answer must be below 500, declared by the document in status and shape, never 2xx for a
 * request the document calls invalid, and never repeat a piece of the request in a refusal.
 */

export type Role = 'none' | 'township' | 'inspector';

export interface FuzzCase {
  role: Role;
  params: Record<string, string>;
  /** Path parameter values sent without encoding (a bare %, say). */
  rawParams: boolean;
  query: Record<string, string>;
  body: { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'raw'; payload: string; contentType: string };
}

export interface CaseResult {
  status: number;
  problems: string[];
}

/** The address the fuzz sends from: its wrong passwords brake this address, not the helpers' logins. */
export const FUZZ_ADDRESS = '10.66.66.66';

const BAD_PARAMS = ['0', '-1', '0x1', '+1', '%201', '1e2', '01', '1.5', 'abc', '9'.repeat(17), '%', '%zz', '..', '1%00', '<x>'];

function idsFor(w: World, path: string, name: string): string[] {
  const m = [w.sealed.meetingId, w.voting.meetingId, w.signin.meetingId, w.draftId];
  if (name === 'pendingId') return [w.voting.pendingId, '0'.repeat(32)];
  if (name === 'entryId') return [...w.signin.entryIds, ...w.voting.entryIds].map(String);
  if (name === 'adminId') return w.spareAdminIds.map(String);
  if (name === 'meetingId') return m.map(String);
  if (name === 'unitId') return [w.sealed.unitId, w.voting.unitId, w.signin.unitId].map(String);
  if (path.startsWith('/api/admins/')) return w.spareAdminIds.map(String);
  if (path.startsWith('/api/units/')) return [w.sealed.unitId, w.voting.unitId, w.signin.unitId].map(String);
  if (path.startsWith('/api/campaigns/')) return [w.sealed.campaignId, w.voting.campaignId].map(String);
  if (path.startsWith('/api/imported-archives/')) return [String(w.importedId)];
  return m.map(String);
}

/** Random ids never name the role accounts: a fuzzed PATCH must not disable the sessions it runs as. */
function randomId(w: World): fc.Arbitrary<string> {
  const taken = new Set([w.town.adminId, w.insp.adminId]);
  return fc.integer({ min: 1, max: 2_000_000 }).filter((n) => !taken.has(n)).map(String);
}

function hintsFor(w: World): Hints {
  const packages = [w.voting.form, w.sealed.form!].flatMap((f) => [1, 2, 3].map((g) => fullPackage(f, g)));
  return {
    byProperty: {
      package: fc.constantFrom(...packages),
      ticket: fc.constantFrom(...w.voting.tickets, ...w.signin.tickets, ...w.voting.shortCodes, ...w.sealed.tickets),
      token: fc.constantFrom(...[...w.voting.tokens, ...w.sealed.tokens].map((k) => ({ input: k.input, output: k.output }))),
      access: fc.constantFrom(...[...w.voting.tokens, ...w.sealed.tokens].map((k) => k.access)),
      meetingId: fc.constantFrom(w.voting.meetingId, w.sealed.meetingId, w.signin.meetingId, w.draftId),
      blinded: fc.constant(null).map(() => toB64u(newBlinding().blinded)),
      receipt: fc.constantFrom(...w.sealed.receipts),
      adminId: fc.constantFrom(...w.spareAdminIds),
      username: fc.constantFrom('admin', 'kaochazu', 'spare1'),
    },
  };
}

export function caseArbitrary(w: World, op: Operation): fc.Arbitrary<FuzzCase> {
  const hints = hintsFor(w);
  const pathParams = (op.parameters ?? []).filter((p) => p.in === 'path');
  const queryParams = (op.parameters ?? []).filter((p) => p.in === 'query');
  const params = fc.record(
    Object.fromEntries(
      pathParams.map((p) => [
        p.name,
        fc.oneof(
          { weight: 8, arbitrary: fc.constantFrom(...idsFor(w, op.path, p.name)) },
          { weight: 2, arbitrary: randomId(w) },
          { weight: 1, arbitrary: fc.constantFrom(...BAD_PARAMS) },
          { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) },
        ),
      ]),
    ),
  ) as fc.Arbitrary<Record<string, string>>;
  const query = fc.record(
    Object.fromEntries(queryParams.map((p) => [p.name, arbitraryOf(p.schema as JsonSchema, hints).map(String)])),
    { requiredKeys: queryParams.filter((p) => p.required).map((p) => p.name) },
  ) as fc.Arbitrary<Record<string, string>>;
  const schema = op.requestBody?.content['application/json']?.schema as JsonSchema | undefined;
  const valid = schema ? arbitraryOf(schema, hints) : fc.constant(undefined);
  const body: fc.Arbitrary<FuzzCase['body']> = fc.oneof(
    { weight: 5, arbitrary: valid.map((value) => (value === undefined ? { kind: 'none' as const } : { kind: 'json' as const, value })) },
    {
      weight: 5,
      arbitrary: fc
        .tuple(valid, fc.nat(), fc.nat(), fc.nat())
        .map(([v, kind, where, odd]) => ({ kind: 'json' as const, value: mutate(v ?? {}, kind, where, odd) })),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        { kind: 'raw' as const, payload: '{"a":', contentType: 'application/json' },
        { kind: 'raw' as const, payload: '', contentType: 'application/json' },
        { kind: 'raw' as const, payload: 'null', contentType: 'application/json' },
        { kind: 'raw' as const, payload: '[]', contentType: 'application/json' },
        { kind: 'raw' as const, payload: '"text"', contentType: 'application/json' },
        { kind: 'raw' as const, payload: 'a=1&b=2', contentType: 'application/x-www-form-urlencoded' },
        { kind: 'raw' as const, payload: '{"a":1}', contentType: 'text/plain' },
        { kind: 'raw' as const, payload: '{"__proto__":{"x":1}}', contentType: 'application/json' },
        { kind: 'raw' as const, payload: '{"a":1}', contentType: 'application/json; charset=gbk' },
      ),
    },
  );
  return fc.record({
    role: fc.constantFrom<Role>('none', 'township', 'inspector'),
    params,
    rawParams: fc.boolean(),
    query,
    body,
  });
}

function stringsIn(value: unknown, out: Set<string>, depth = 0): Set<string> {
  if (depth > 20) return out;
  if (typeof value === 'string') out.add(value);
  else if (Array.isArray(value)) for (const v of value) stringsIn(v, out, depth + 1);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.add(k);
      stringsIn(v, out, depth + 1);
    }
  }
  return out;
}

/** Every property name a schema defines (at any depth). */
function namesIn(schema: unknown, out = new Set<string>(), depth = 0): Set<string> {
  if (depth > 40 || schema === null || typeof schema !== 'object') return out;
  const o = schema as Record<string, unknown>;
  if (o.properties && typeof o.properties === 'object') for (const k of Object.keys(o.properties)) out.add(k);
  for (const v of Object.values(o)) namesIn(v, out, depth + 1);
  return out;
}

/** Whether the request is valid by the document (ajv), piece by piece. */
function validByDocument(op: Operation, c: FuzzCase, checker: SchemaChecker): boolean {
  for (const p of op.parameters ?? []) {
    const v = p.in === 'path' ? c.params[p.name] : c.query[p.name];
    if (v === undefined) {
      if (p.required) return false;
      continue;
    }
    if (p.in === 'path' && c.rawParams && /[%/?#\s]/.test(v)) return false;
    if (checker.validate(p.schema, v) !== null) return false;
  }
  // A route that reads no body ignores whatever is sent.
  if (!op.requestBody) return true;
  const content = op.requestBody.content['application/json'];
  // JSON with nothing in it is no body (the server reads it so).
  const empty =
    c.body.kind === 'none' ||
    (c.body.kind === 'json' && c.body.value === undefined) ||
    (c.body.kind === 'raw' && c.body.contentType.startsWith('application/json') && c.body.payload.trim() === '');
  if (empty) return op.requestBody.required === false;
  if (c.body.kind === 'raw' || c.body.kind === 'none') return false;
  if (!content) return true;
  return checker.validate(content.schema, c.body.value) === null;
}

export async function runCase(w: World, op: Operation, c: FuzzCase, checker: SchemaChecker): Promise<CaseResult> {
  const url =
    op.path.replace(/\{([^}]+)\}/g, (_, n: string) => (c.rawParams ? c.params[n]! : encodeURIComponent(c.params[n]!))) +
    (Object.keys(c.query).length ? `?${new URLSearchParams(c.query).toString()}` : '');
  const session = c.role === 'township' ? w.town.headers : c.role === 'inspector' ? w.insp.headers : {};
  const headers: Record<string, string> = { ...session };
  let payload: string | undefined;
  if (c.body.kind === 'json') {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(c.body.value) ?? '';
  } else if (c.body.kind === 'raw') {
    headers['content-type'] = c.body.contentType;
    payload = c.body.payload;
  }
  const res = await w.t.app.inject({ method: op.method as 'GET', url, headers, remoteAddress: FUZZ_ADDRESS, ...(payload !== undefined ? { payload } : {}) });
  const problems: string[] = [];
  const where = `${op.key} as ${c.role} ${url.slice(0, 120)}`;
  if (res.statusCode >= 500) problems.push(`${where}: ${res.statusCode} ${res.body.slice(0, 200)}`);
  problems.push(...checkAnswer(op, { statusCode: res.statusCode, headers: res.headers, body: res.body, rawPayload: res.rawPayload }, checker).map((p) => `${p} [${where}]`));
  const ok = res.statusCode >= 200 && res.statusCode < 300;
  if (ok && !validByDocument(op, c, checker)) {
    problems.push(`${where}: ${res.statusCode} for a request the document calls invalid: ${JSON.stringify(c.body).slice(0, 300)}`);
  }
  if (!ok && res.statusCode >= 400) {
    const sent = stringsIn(c.body.kind === 'json' ? c.body.value : c.body.kind === 'raw' ? c.body.payload : null, new Set(Object.values(c.params)));
    for (const v of Object.values(c.query)) sent.add(v);
    const names = namesIn(op.requestBody?.content['application/json']?.schema);
    for (const s of sent) {
      // The API's own field names may be named in a validation message; nothing else the request said may be.
      if (s.length >= 8 && /[^0-9]/.test(s) && !names.has(s) && res.body.includes(s)) problems.push(`${where}: the refusal repeats "${s.slice(0, 40)}" from the request`);
    }
  }
  // A fuzzed logout ends the session the fuzz runs as: sign in again (the account itself is never touched).
  if (op.key === 'POST /api/auth/logout' && res.statusCode === 204 && c.role !== 'none') await relogin(w, c.role);
  return { status: res.statusCode, problems };
}

export interface OperationReport {
  key: string;
  cases: number;
  statuses: Record<string, number>;
  problems: string[];
}

/** Run `runs` cases of one operation (seeded); every problem is collected, none stops the run. */
export async function fuzzOperation(w: World, op: Operation, runs: number, seed: number, checker: SchemaChecker): Promise<OperationReport> {
  const report: OperationReport = { key: op.key, cases: 0, statuses: {}, problems: [] };
  const cases = fc.sample(caseArbitrary(w, op), { numRuns: runs, seed });
  for (const c of cases) {
    const r = await runCase(w, op, c, checker);
    report.cases += 1;
    report.statuses[r.status] = (report.statuses[r.status] ?? 0) + 1;
    if (report.problems.length < 20) report.problems.push(...r.problems);
  }
  return report;
}
