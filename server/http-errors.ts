import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DomainError, ERRORS, errorBody, type ErrorCode } from './errors.ts';
import { isDatabaseUnavailable, isThreadLost } from './db/dialect.ts';
import { firstIllFormed, mayHoldSurrogate } from './shared/text.ts';

/**
 * Every refusal, Fastify's own included, is `{ error: { code, message } }` with Chinese words, and
 * none repeats a byte of the request: not the URL, not a header, not a key or value of the body.
 * Field paths of a validation error are shown only as far as they are names the API itself defines.
 */

/** Malformed URLs (`/api/meetings/%`) and over-long path parameters never reach a route. */
export const frameworkErrors: NonNullable<FastifyServerOptions['frameworkErrors']> = (err, _req, reply) => {
  const code: ErrorCode = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'BAD_ID' : 'BAD_URL';
  void (reply as unknown as { status(n: number): { send(b: unknown): unknown } }).status(400).send(errorBody(code));
};

/** Errors Node's HTTP parser raises before Fastify sees a request (a header too large, a broken request line). */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: import('node:stream').Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', '请求超时，请重试']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', '请求头太大，请清除浏览器中本站的数据后重试']
        : [400, 'Bad Request', ERRORS.BAD_REQUEST[1]];
  const body = JSON.stringify({ error: { code: status === 400 ? 'BAD_REQUEST' : status === 408 ? 'TIMEOUT' : 'HEADER_TOO_LARGE', message } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

/** SQLite's codes for a disk that refuses a write: full, read-only, an I/O error, a journal it cannot open. */
const STORAGE_FAILURE = /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN)/;

/** The marker a schema refinement puts on an empty PATCH (see nonEmptyPatch). */
const NOTHING_TO_CHANGE_MARK = 'NOTHING_TO_CHANGE';

/** A PATCH body that must change something: `{}`, or only keys the schema does not know, is NOTHING_TO_CHANGE. */
export function nonEmptyPatch<T extends z.ZodObject>(schema: T) {
  return schema.superRefine((value, ctx) => {
    if (Object.values(value as Record<string, unknown>).every((v) => v === undefined)) {
      ctx.addIssue({ code: 'custom', message: ERRORS.NOTHING_TO_CHANGE[1], params: { domainCode: NOTHING_TO_CHANGE_MARK } });
    }
  });
}

interface ValidationItem {
  instancePath?: string;
  params?: { params?: { domainCode?: string } };
}

/** Property names that appear anywhere in the request schemas of the routes (collected as routes are added). */
class FieldNames {
  readonly #names = new Set<string>();

  addSchema(schema: unknown): void {
    if (!(schema instanceof z.ZodType)) return;
    let json: unknown;
    try {
      json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
    } catch {
      return;
    }
    this.#walk(json, 0);
  }

  #walk(node: unknown, depth: number): void {
    if (depth > 64 || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const x of node) this.#walk(x, depth + 1);
      return;
    }
    const o = node as Record<string, unknown>;
    if (o.properties && typeof o.properties === 'object') {
      for (const k of Object.keys(o.properties)) this.#names.add(k);
    }
    for (const v of Object.values(o)) this.#walk(v, depth + 1);
  }

  /** '/members/3/name' stays as it is; a segment the API does not define becomes '…'. */
  describe(path: string): string {
    const parts = path.split('/').filter((p) => p !== '');
    if (parts.length === 0) return '/';
    const shown = parts.slice(0, 8).map((p) => (/^(0|[1-9][0-9]{0,5})$/.test(p) || this.#names.has(p) ? p : '…'));
    return `/${shown.join('/')}${parts.length > 8 ? '/…' : ''}`;
  }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** 'strip': the route drops lone surrogates from its text itself; elsewhere the body parser refuses them (VALIDATION). */
    illFormedText?: 'strip';
  }
}

/** The words of a VALIDATION refusal of text holding a lone surrogate (the field path follows). */
export const ILL_FORMED_TEXT = '提交的文字中含有残缺的字符（不成对的代理项，多由复制粘贴或输入法造成），请删去后重新输入';

/** The error handler, the 404 handler, and a JSON parser for which an empty body is no body. */
/**
 * Whether JSON text holds a U+0000 in a string (the only way it can: as the escape \u0000, since a raw
 * control character is not JSON). No text the API stores may hold one: PostgreSQL refuses it in a text
 * column (a 500 otherwise, even for a login), and in the SQLite file it would cut names short when printed.
 * An escaped backslash before `u0000` is the six characters `\u0000`, which are allowed.
 */
export function hasNulEscape(json: string): boolean {
  return /(?:^|[^\\])(?:\\\\)*\\u0000/i.test(json);
}

export function registerErrorHandling(app: FastifyInstance<any, any, any, any, any>, o: { postgres?: boolean } = {}): void {
  const fields = new FieldNames();
  app.addHook('onRoute', (route) => {
    const s = route.schema as Record<string, unknown> | undefined;
    if (!s) return;
    fields.addSchema(s.body);
    fields.addSchema(s.querystring);
    fields.addSchema(s.params);
  });

  // `Content-Type: application/json` with nothing after it is a request without a body, not an error:
  // a route whose body is all optional then sees `{}` (below), one with required fields a VALIDATION error.
  const json = app.getDefaultJsonParser('error', 'error');
  // The API speaks JSON only: any other body is UNSUPPORTED_MEDIA_TYPE, not a string handed to a schema.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if ((body as string).trim() === '') {
      done(null, undefined);
      return;
    }
    if (hasNulEscape(body as string)) {
      done(new DomainError('TEXT_NUL'), undefined);
      return;
    }
    // Ill-formed UTF-16 (a lone surrogate, only possible as an escape) is refused here, once for every
    // field: stored, it became U+FFFD in SQLite and an error in PostgreSQL. The phone's cast drops it instead
    // (validate-package.ts): a voter cannot be sent back to fix what a keyboard made.
    if (req.routeOptions.config?.illFormedText !== 'strip' && mayHoldSurrogate(body as string)) {
      json(req, body as string, (err: Error | null, value?: unknown) => {
        const at = err ? null : firstIllFormed(value);
        if (at === null) return done(err, value);
        const field = fields.describe(at);
        done(new DomainError('VALIDATION', `${ILL_FORMED_TEXT}（${field}）`, { fields: [field] }), undefined);
      });
      return;
    }
    json(req, body as string, done);
  });
  // A callback, not an async hook: every request runs it (see routes.ts).
  app.addHook('preValidation', (req, _reply, done) => {
    if (req.body === undefined && req.routeOptions.schema?.body) req.body = {};
    if (req.query && Object.values(req.query as Record<string, unknown>).some((v) => (Array.isArray(v) ? v : [v]).some((x) => typeof x === 'string' && x.includes('\0')))) {
      done(new DomainError('TEXT_NUL'));
      return;
    }
    done();
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof DomainError) {
      const wait = err.details?.retryAfterSeconds;
      if (typeof wait === 'number') reply.header('retry-after', String(wait));
      return reply.status(err.status).send(errorBody(err.code, err.message, err.details));
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const items = err.validation as ValidationItem[];
      if (items.some((v) => v.params?.params?.domainCode === NOTHING_TO_CHANGE_MARK)) return reply.status(400).send(errorBody('NOTHING_TO_CHANGE'));
      if (err.validationContext === 'params') return reply.status(400).send(errorBody('BAD_ID'));
      const paths = [...new Set(items.map((v) => fields.describe(v.instancePath ?? '')))].slice(0, 5);
      return reply.status(400).send(errorBody('VALIDATION', `${ERRORS.VALIDATION[1]}（${paths.join('，')}）`, { fields: paths }));
    }
    const e = err as { statusCode?: number; code?: string; name?: string; message?: string; stack?: string };
    switch (e.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE': {
        const limit = req.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit ?? 0;
        return reply.status(413).send(errorBody('BODY_TOO_LARGE', `提交的内容太大，超过了 ${Math.round(limit / 1024 / 1024)} MB 的上限`));
      }
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return reply.status(415).send(errorBody('UNSUPPORTED_MEDIA_TYPE'));
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return reply.status(400).send(errorBody('BAD_JSON'));
    }
    // Another program holds the database file (a sqlite3 shell, a copy tool): nothing was written; try again.
    if (String(e.code ?? '').startsWith('SQLITE_BUSY')) return reply.status(503).send(errorBody('DATABASE_BUSY'));
    // PostgreSQL is out of reach, restarting, or a lock wait ran out: nothing was written; try again.
    // Or SQLite's database thread stopped under the statement (it is started again for the next one).
    if ((o.postgres && isDatabaseUnavailable(err)) || isThreadLost(err)) {
      req.log.warn({ err: { code: e.code } }, 'database unavailable');
      return reply.status(503).send(errorBody('DATABASE_UNAVAILABLE'));
    }
    // The disk refused a write (full, read-only, an I/O error): the transaction was rolled back, nothing
    // was written or acknowledged; the operator needs to know, the user to try again later.
    if (STORAGE_FAILURE.test(String(e.code ?? ''))) {
      req.log.error({ err: { type: e.name, code: e.code } }, 'the disk refused a write');
      return reply.status(503).send(errorBody('STORAGE_FAILED'));
    }
    const status = e.statusCode;
    if (status === 400 && (e.name === 'SyntaxError' || e instanceof SyntaxError)) return reply.status(400).send(errorBody('BAD_JSON'));
    if (status === 429) return reply.status(429).send(errorBody('RATE_LIMITED'));
    if (status === 404) return reply.status(404).send(errorBody('NOT_FOUND'));
    if (status === 413) return reply.status(413).send(errorBody('BODY_TOO_LARGE'));
    if (status === 415) return reply.status(415).send(errorBody('UNSUPPORTED_MEDIA_TYPE'));
    if (status && status >= 400 && status < 500) return reply.status(400).send(errorBody('BAD_REQUEST'));
    req.log.error({ err: { type: e.name, message: e.message, stack: e.stack } }, 'unhandled error');
    return reply.status(500).send(errorBody('INTERNAL'));
  });
  app.setNotFoundHandler((_req, reply) => reply.status(404).send(errorBody('NOT_FOUND')));
}
