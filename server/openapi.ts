import fastifySwagger from '@fastify/swagger';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ErrorBody } from './error.schemas.ts';
import { ADMIN_GUARD_ROLE } from './auth/auth.guard.ts';

/**
 * The API description at /api/openapi.json (OpenAPI 3.1, JSON Schema 2020-12), generated from the
 * routes' zod schemas. What a route can answer is added here from how it is built, so the document
 * says what the server really does: every error status a route can return, with the one error shape;
 * which request bodies may be left out; and the live websocket's messages (x-websocket).
 */

/** A response with no body (204, 101). */
export const NoBody = z.undefined().describe('No content');

/** A file download (CSV, XLSX, PDF, SQLite) sent as bytes: the media type is in the route's `produces`. */
export const FileBody = z
  .custom<Buffer | string | NodeJS.ReadableStream>(() => true)
  .meta({ type: 'string', format: 'binary', description: 'File download' });

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Routes that never touch the database (/healthz does on PostgreSQL: 503 when it is out of reach). */
const NO_DATABASE = new Set(['/api/archive/public-key']);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Error statuses the route returns beyond those its shape implies (see errorStatuses). */
    errors?: number[];
  }
}

function guardsOf(route: RouteOptions): unknown[] {
  return [route.preHandler, route.preValidation, route.onRequest].flat().filter((f) => f !== undefined);
}

/**
 * The error statuses a route can answer, from how it is built: 400 for anything it reads (path,
 * query, body); 401 behind a session, 403 where a role, a meeting assignment or the CSRF token is
 * checked; 404 for a path with an id; 409 for admin writes (state rules); 413 and 415 for bodies;
 * 429 behind a rate limit; 503 wherever the database is read or written (DATABASE_BUSY: another
 * program holding its lock; STORAGE_FAILED: the disk refused a write; DATABASE_UNAVAILABLE: PostgreSQL
 * out of reach, or SQLite's database thread stopped under the request); plus what the route's config.errors names.
 */
export function errorStatuses(route: RouteOptions): number[] {
  const methods = [route.method].flat().map((m) => String(m).toUpperCase());
  const schema = (route.schema ?? {}) as Record<string, unknown>;
  const takesBody = methods.some((m) => BODY_METHODS.has(m));
  const roles = guardsOf(route)
    .map((g) => (g as { [ADMIN_GUARD_ROLE]?: string })[ADMIN_GUARD_ROLE])
    .filter((r): r is string => r !== undefined);
  const meetingAccess = guardsOf(route).some((g) => (g as { name?: string }).name === 'requireMeetingAccess');
  const out = new Set<number>(route.config?.errors ?? []);
  if (takesBody || schema.params || schema.querystring || route.url.includes(':')) out.add(400);
  if (roles.length > 0) {
    out.add(401);
    if (takesBody || roles.includes('township') || meetingAccess) out.add(403);
    if (takesBody) out.add(409);
  }
  if (route.url.includes(':')) out.add(404);
  if (takesBody) {
    out.add(413);
    out.add(415);
  }
  if (route.config?.rateLimit) out.add(429);
  // Another program holding the database file's lock, a disk refusing a write, PostgreSQL out of reach: the request is refused and nothing is written.
  if (!NO_DATABASE.has(route.url)) out.add(503);
  return [...out].sort((a, b) => a - b);
}

interface RouteNote {
  bodyOptional: boolean;
  /** Behind @fastify/rate-limit (config.rateLimit): its answers carry the x-ratelimit-* headers. */
  rateLimited: boolean;
}

type HeaderDoc = { description: string; schema: { type: 'string' } };
const header = (description: string): HeaderDoc => ({ description, schema: { type: 'string' } });

/**
 * The headers a rate-limited route's answers carry, whatever their status, once the request has passed its
 * body check (the limit is counted after it): not with a refusal of the body itself (400 VALIDATION, 413, 415).
 */
const RATE_LIMIT_HEADERS: Record<string, HeaderDoc> = {
  'x-ratelimit-limit': header('Requests allowed per minute for this key (see the README: per token, per ticket, per meeting, or for all askers)'),
  'x-ratelimit-remaining': header('Requests left in the current minute'),
  'x-ratelimit-reset': header('Seconds until the minute ends'),
};

/** Sent with a 429 when the server knows how long to wait (the per-minute limits, the login brake); not with every 429. */
const RETRY_AFTER = header('Seconds to wait before trying again');

/** OpenAPI's spelling of a Fastify path: /api/meetings/:id → /api/meetings/{id}. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

export async function registerApiDescription(app: FastifyInstance<any, any, any, any, any>, version: string): Promise<void> {
  const notes = new Map<string, RouteNote>();

  app.addHook('onRoute', (route) => {
    const schema = (route.schema ??= {}) as Record<string, unknown>;
    if (schema.hide) return;
    const response = ((schema.response as Record<string, unknown> | undefined) ?? {}) as Record<string, unknown>;
    for (const status of errorStatuses(route)) {
      if (!(String(status) in response)) response[String(status)] = ErrorBody;
    }
    schema.response = response;
    const body = schema.body;
    // Fastify hands a route `{}` when no body came (http-errors.ts): such a body is optional.
    const bodyOptional = body instanceof z.ZodType && body.safeParse({}).success;
    const rateLimited = Boolean(route.config?.rateLimit);
    for (const m of [route.method].flat()) notes.set(`${String(m).toLowerCase()} ${openApiPath(route.url)}`, { bodyOptional, rateLimited });
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Ceping API',
        description:
          '民主测评 anonymous ballot server. Admin routes need the session cookie `ceping_session`; unsafe methods also the header `x-csrf-token`. ' +
          'Every refusal is `{ error: { code, message } }` with a Chinese message. Ids in paths are positive decimal integers. ' +
          'Text may not contain U+0000 (400 `TEXT_NUL`) or a lone surrogate (400 `VALIDATION` naming the field); ' +
          '`POST /api/voter/cast` instead drops lone surrogates, control characters and noncharacters from its ballot text. ' +
          'Names and labels (roster, team, template) are kept without invisible characters (zero-width, bidirectional controls); one left empty is refused.',
        version,
      },
    },
    transform: jsonSchemaTransform,
    transformObject: (doc) => {
      type Op = { requestBody?: { required?: boolean }; responses?: Record<string, { content?: Record<string, unknown>; headers?: Record<string, HeaderDoc> }> };
      const api = ('openapiObject' in doc ? doc.openapiObject : doc.swaggerObject) as { paths?: Record<string, Record<string, Op>> };
      for (const [path, ops] of Object.entries(api.paths ?? {})) {
        for (const [method, op] of Object.entries(ops)) {
          const note = notes.get(`${method} ${path}`);
          if (op.requestBody && note?.bodyOptional) op.requestBody.required = false;
          for (const [status, response] of Object.entries(op.responses ?? {})) {
            // The headers an answer may carry beyond content-type: the rate limits' and retry-after.
            const headers = {
              ...(note?.rateLimited ? RATE_LIMIT_HEADERS : {}),
              ...(Number(status) === 429 ? { 'retry-after': RETRY_AFTER } : {}),
            };
            if (Object.keys(headers).length > 0) response.headers = { ...response.headers, ...headers };
            // A download route's `produces` is its success's media type; its refusals are JSON like every other.
            const content = response.content;
            if (Number(status) >= 400 && content && !('application/json' in content)) {
              response.content = { 'application/json': Object.values(content)[0] };
            }
          }
        }
      }
      return api as never;
    },
  });
}
