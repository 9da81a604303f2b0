import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { World } from './world.ts';
import type { Example, Role } from './api-examples.ts';

/**
 * Reading /api/openapi.json as a client would, and checking real answers against it with a JSON
 * Schema validator (ajv): nothing here imports the server's zod schemas, so a schema the document
 * states wrongly is caught, not repeated.
 */

export interface Operation {
  key: string;
  method: string;
  path: string;
  parameters?: { name: string; in: 'path' | 'query'; required?: boolean; schema: object }[];
  requestBody?: { required?: boolean; content: Record<string, { schema: object }> };
  responses: Record<string, { description?: string; content?: Record<string, { schema: object }>; headers?: Record<string, { schema: object }> }>;
  'x-websocket'?: { messages: Record<string, object>; closeCodes: Record<string, string> };
}

export interface ApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Omit<Operation, 'key' | 'method' | 'path'>>>;
}

export function operations(doc: ApiDocument): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ ...op, key: `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path })),
  );
}

export class SchemaChecker {
  readonly #ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  readonly #cache = new Map<object, ValidateFunction>();

  validate(schema: object, value: unknown): string | null {
    let v = this.#cache.get(schema);
    if (!v) {
      const { $schema: _s, ...rest } = schema as Record<string, unknown>;
      v = this.#ajv.compile(rest);
      this.#cache.set(schema, v);
    }
    return v(value) ? null : this.#ajv.errorsText(v.errors, { separator: '; ' }).slice(0, 400);
  }
}

export interface Answer {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
  rawPayload: Buffer;
}

/** Headers a client acts on (how long to wait, how many requests are left): an answer may carry one only where the document declares it. */
export const DOCUMENTED_HEADERS = ['retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'];

/** What is wrong with an answer, judged by the document alone (empty when nothing). */
export function checkAnswer(op: Operation, res: Answer, checker: SchemaChecker): string[] {
  const problems: string[] = [];
  const declared = op.responses[String(res.statusCode)] ?? op.responses.default;
  if (!declared) return [`${op.key}: status ${res.statusCode} is not declared (declared: ${Object.keys(op.responses).join(', ')}) ${res.body.slice(0, 200)}`];
  for (const name of DOCUMENTED_HEADERS) {
    if (res.headers[name] !== undefined && !declared.headers?.[name]) problems.push(`${op.key}: ${res.statusCode} sent the header ${name}, which is not declared`);
  }
  const type = String(res.headers['content-type'] ?? '');
  if (!declared.content) {
    if (res.rawPayload.length > 0) problems.push(`${op.key}: ${res.statusCode} declares no body but sent ${res.rawPayload.length} bytes`);
    return problems;
  }
  const media = Object.keys(declared.content);
  const match = media.find((m) => type.startsWith(m));
  if (!match) return [`${op.key}: ${res.statusCode} sent content-type "${type}", declared ${media.join(', ')}`];
  if (match === 'application/json') {
    let value: unknown;
    try {
      value = JSON.parse(res.body);
    } catch {
      return [`${op.key}: ${res.statusCode} body is not JSON`];
    }
    const err = checker.validate(declared.content[match]!.schema, value);
    if (err) problems.push(`${op.key}: ${res.statusCode} body does not match its schema: ${err}`);
  } else if (res.rawPayload.length === 0) {
    problems.push(`${op.key}: ${res.statusCode} ${match} download is empty`);
  }
  return problems;
}

export function headersFor(w: World, role: Role): Record<string, string> {
  if (role === 'township') return { ...w.town.headers };
  if (role === 'inspector') return { ...w.insp.headers };
  return {};
}

export function urlOf(path: string, params: Record<string, string | number> = {}, query: Record<string, string> = {}): string {
  const filled = path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    if (!(name in params)) throw new Error(`no value for {${name}} in ${path}`);
    return encodeURIComponent(String(params[name]));
  });
  const q = new URLSearchParams(query).toString();
  return q ? `${filled}?${q}` : filled;
}

export async function send(w: World, op: Operation, ex: Example): Promise<Answer> {
  const headers = ex.headers ?? headersFor(w, ex.role);
  const url = urlOf(op.path, ex.params, ex.query);
  const res = await w.t.app.inject({
    method: op.method as 'GET',
    url,
    headers: ex.raw ? { ...headers, 'content-type': ex.raw.contentType } : headers,
    ...(ex.raw ? { payload: ex.raw.payload } : ex.body !== undefined ? { payload: ex.body as object } : {}),
  });
  return { statusCode: res.statusCode, headers: res.headers, body: res.body, rawPayload: res.rawPayload };
}
